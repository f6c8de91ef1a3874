// SPDX-License-Identifier: MIT
// monitoring.js - drift of a served model version over time (#/monitoring/NAME/VERSION), from
// the monitoring run `cairn serve` writes (GET cairn/monitoring/drift): a summary table
// (feature, latest score, threshold, drifted?) and one small uPlot chart per feature with
// the score, the threshold as a line, and the checks that found drift marked.
import uPlot from 'uplot';
import { h, clear, fmtTime, fmtValue } from './dom.js';
import { get, ApiError } from './api.js';
import { crumbs, link, navigate, isCurrent } from './main.js';
import { modelHref, versionHref } from './registry.js';

const LOG_FLOOR = 1e-300;

function num(v) {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  const n = Number(v); // "NaN", "Infinity" arrive as strings
  return v == null || !Number.isFinite(n) ? null : n;
}

export async function monitoringPage(app, { params, query, seq }) {
  const [name, version] = params;
  crumbs({ text: 'Experiments', href: '#/' }, { text: 'Models', href: '#/models' }, { text: name, href: modelHref(name) },
    { text: 'v' + version, href: versionHref(name, version) }, { text: 'monitoring' });
  let doc;
  try {
    doc = await get('cairn/monitoring/drift', { model: name, version });
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 404) throw e;
    if (!isCurrent(seq)) return;
    clear(app).append(h('h1', null, `${name} v${version}: drift`),
      h('p', { class: 'muted', id: 'drift-missing' }, e.message),
      h('p', { class: 'muted' }, `Serve it with monitoring on (cairn serve models:/${name}/${version}), and the checks appear here.`));
    return;
  }
  if (!isCurrent(seq)) return;
  const features = (doc.features || []).slice().sort((a, b) => a.name.localeCompare(b.name));

  const sbody = h('tbody');
  for (const f of features) {
    const last = f.points.length ? f.points[f.points.length - 1] : null;
    const drifted = last ? last.drifted : null;
    sbody.append(h('tr', { dataset: { feature: f.name }, class: drifted ? 'drifted' : '' },
      h('td', { class: 'feature' }, h('a', { href: '#chart-' + encodeURIComponent(f.name), onclick: (ev) => { ev.preventDefault(); const el = document.getElementById('chart-' + f.name); if (el) el.scrollIntoView(); } }, f.name)),
      h('td', { class: 'num score' }, last ? fmtValue(num(last.score)) : ''),
      h('td', { class: 'num threshold' }, f.threshold == null ? '—' : fmtValue(num(f.threshold))),
      h('td', { class: 'drifted-cell' }, drifted == null ? '?' : drifted ? h('span', { class: 'badge warn' }, 'drifted') : 'no'),
      h('td', { class: 'num' }, String(f.points.filter((p) => p.drifted).length) + ' / ' + f.points.length),
      h('td', null, last ? fmtTime(last.timestamp) : '')));
  }
  const summary = h('table', { class: 'grid', id: 'drift-summary' },
    h('thead', null, h('tr', null, ...['Feature', 'Latest score', 'Threshold', 'Drifted?', 'Drifted checks', 'Last check'].map((t) => h('th', null, t)))),
    sbody);
  // p-values run down to 1e-100 once a feature drifts: a log y axis keeps the threshold in
  // sight. Automatic when every score is positive and they span three decades; ?log=0|1 forces.
  const all = features.flatMap((f) => f.points.map((p) => num(p.score))).filter((v) => v != null);
  const auto = all.length > 0 && all.every((v) => v > 0) && Math.max(...all) / Math.min(...all) > 1000;
  const logY = query.get('log') === '1' || (query.get('log') !== '0' && auto);
  const logBox = h('input', { type: 'checkbox', id: 'drift-log', checked: logY,
    onchange: () => navigate('/monitoring/' + encodeURIComponent(name) + '/' + encodeURIComponent(version), { log: logBox.checked ? '1' : '0' }, true) });
  const charts = h('div', { class: 'drift-charts', id: 'drift-charts', dataset: { log: logY ? '1' : '0' } });
  clear(app).append(
    h('h1', null, `${name} v${version}: drift`),
    h('p', { class: 'muted small' }, 'From the monitoring run ', h('a', { href: link('/run/' + encodeURIComponent(doc.run_id)), id: 'monitoring-run' }, doc.run_id),
      ` (metric keys ${doc.key_prefix}score.<feature>). The score is what each feature's drift test compares with its threshold.`),
    features.length ? summary : h('p', { class: 'muted' }, 'The monitoring run has no drift checks yet.'),
    features.length ? h('div', { class: 'toolbar' }, h('label', null, logBox, ' log y')) : '',
    charts);
  const width = Math.max(320, Math.min(560, ((app.clientWidth || 1000) - 48) / 2));
  // The charts of the features that drifted at the last check come first.
  const lastDrifted = (f) => (f.points.length && f.points[f.points.length - 1].drifted ? 0 : 1);
  for (const f of features.slice().sort((a, b) => lastDrifted(a) - lastDrifted(b) || a.name.localeCompare(b.name)))
    charts.append(featureChart(f, width, logY));
}

// One feature: score over time, the threshold as a dashed line, drifted checks as red dots.
function featureChart(f, width, logY) {
  const box = h('figure', { class: 'drift-chart', id: 'chart-' + f.name, dataset: { feature: f.name } });
  box.append(h('figcaption', null, f.name, f.threshold == null ? '' : h('span', { class: 'muted small' }, ` threshold ${fmtValue(num(f.threshold))}`)));
  const xs = [], score = [], thr = [], flagged = [];
  let lastX = -Infinity;
  for (const p of f.points) {
    let x = p.timestamp / 1000;
    if (x <= lastX) x = lastX + 1e-3; // uPlot wants x strictly rising
    lastX = x;
    let y = num(p.score);
    // Log y: the chart draws log10 of the values on a linear scale (uPlot's own log scale
    // hung on these two-point, many-decade series); a p-value of 0 is floored.
    if (logY && y != null) y = y >= 0 ? Math.log10(Math.max(y, LOG_FLOOR)) : null;
    xs.push(x);
    score.push(y);
    thr.push(logY && num(f.threshold) > 0 ? Math.log10(num(f.threshold)) : num(f.threshold));
    flagged.push(p.drifted ? y : null);
  }
  const series = [{ label: 'time' },
    { label: 'score', stroke: '#2f6fdf', width: 1.5, spanGaps: true, value: (u, v) => (v == null ? '—' : fmtValue(logY ? 10 ** v : v)) }];
  const data = [xs, score];
  if (f.threshold != null) {
    series.push({ label: 'threshold', stroke: '#e4572e', width: 1, dash: [6, 4], points: { show: false }, value: (u, v) => (v == null ? '—' : fmtValue(logY ? 10 ** v : v)) });
    data.push(thr);
  }
  series.push({ label: 'drifted', stroke: '#d1495b', fill: '#d1495b', width: 0, paths: () => null,
    points: { show: true, size: 9, stroke: '#d1495b', fill: '#d1495b' }, value: (u, v) => (v == null ? '' : 'yes') });
  data.push(flagged);
  const plot = h('div', { class: 'drift-plot' });
  box.append(plot);
  box.dataset.series = series.slice(1).map((s) => s.label).join(',');
  box.dataset.points = String(xs.length);
  box.dataset.drifted = String(flagged.filter((v) => v != null).length);
  if (f.threshold != null) box.dataset.threshold = String(num(f.threshold));
  const opts = {
    width,
    height: 200,
    scales: { x: { time: true } },
    axes: [{ stroke: 'currentColor', grid: { stroke: 'rgba(128,128,128,0.2)' } },
      Object.assign({ stroke: 'currentColor', grid: { stroke: 'rgba(128,128,128,0.2)' }, size: 60 },
        logY ? { incrs: [1, 2, 5, 10, 20, 50, 100], values: (u, splits) => splits.map((v) => '1e' + v) } : {})],
    series,
    legend: { live: true },
    hooks: { draw: [() => { box.dataset.drawn = '1'; }] },
  };
  new uPlot(opts, data, plot);
  return box;
}
