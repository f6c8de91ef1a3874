// SPDX-License-Identifier: MIT
// chart.js - a metric of one or many runs overlaid (uPlot): step or wall-time x axis, log y,
// smoothing with TensorBoard's debiased EMA, hover values in the legend. Long series come
// downsampled by the server (each bucket keeps its extremes), so 1,000,000 points draw fast.
import uPlot from 'uplot';
// (its CSS is imported by main.js: this module is loaded lazily)
import { h, clear, fmtValue, fitWidth } from './dom.js';
import { seriesPoints, chartMaxPoints, takeRun } from './api.js';
import { crumbs, navigate, isCurrent } from './main.js';

const MAX_RUNS = 20;
const COLORS = ['#2f6fdf', '#e4572e', '#17a398', '#b04fc2', '#f2a541', '#6c8ea4', '#d1495b', '#66a61e', '#8d6a9f', '#1b998b'];

// TensorBoard's smoothing: an exponential moving average, debiased like Adam's first moment
// so that the start is not pulled toward zero. Non-finite values pass through unsmoothed.
export function debiasedEma(ys, weight) {
  if (!(weight > 0)) return ys;
  const out = new Array(ys.length);
  let last = 0, n = 0;
  for (let i = 0; i < ys.length; i++) {
    const v = ys[i];
    if (v == null || !Number.isFinite(v)) { out[i] = v; continue; }
    last = last * weight + (1 - weight) * v;
    n++;
    out[i] = last / (1 - Math.pow(weight, n));
  }
  return out;
}

function num(v) {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  const n = Number(v); // "NaN", "Infinity" and "-Infinity" arrive as strings
  return Number.isFinite(n) ? n : null;
}

export async function chartPage(app, { query, seq }) {
  const runIds = (query.get('runs') || '').split(',').filter(Boolean).slice(0, MAX_RUNS);
  const xMode = query.get('x') === 'time' ? 'time' : 'step';
  const logY = query.get('log') === '1';
  const smooth = Math.max(0, Math.min(0.99, Number(query.get('smooth') || 0)));
  crumbs({ text: 'Experiments', href: '#/' }, { text: 'chart' });
  if (!runIds.length) {
    clear(app).append(h('p', { class: 'muted' }, 'Pick runs in a runs table and press Chart.'));
    return;
  }
  // With the metric in the URL, its points are asked for beside the runs, not after them (the
  // router has asked for both already: prefetchChart).
  const maxPoints = chartMaxPoints(app);
  const points = (id, k) => seriesPoints(id, k, maxPoints, xMode);
  if (query.get('key')) runIds.forEach((id) => points(id, query.get('key')).catch(() => {}));
  const runs = await Promise.all(runIds.map((id) => takeRun(id).then((d) => d.run)));
  if (!isCurrent(seq)) return;
  const keys = [...new Set(runs.flatMap((r) => ((r.data && r.data.metrics) || []).map((m) => m.key)))].sort();
  const key = query.get('key') || keys[0] || '';
  const state = () => ({ runs: runIds.join(','), key, x: xMode === 'time' ? 'time' : '', log: logY ? '1' : '', smooth: smooth ? String(smooth) : '' });
  const go = (over) => navigate('/chart', Object.assign(state(), over), true);

  const keySel = h('select', { id: 'metric-key', 'aria-label': 'metric', onchange: () => go({ key: keySel.value }) },
    ...keys.map((k) => h('option', { value: k, selected: k === key }, k)));
  const xSel = h('select', { id: 'x-axis', 'aria-label': 'x axis', onchange: () => go({ x: xSel.value === 'time' ? 'time' : '' }) },
    h('option', { value: 'step', selected: xMode === 'step' }, 'step'), h('option', { value: 'time', selected: xMode === 'time' }, 'wall time'));
  const logBox = h('input', { type: 'checkbox', id: 'log-y', checked: logY, onchange: () => go({ log: logBox.checked ? '1' : '' }) });
  const smoothOut = h('output', { for: 'smoothing' }, smooth.toFixed(2));
  const smoothIn = h('input', { type: 'range', id: 'smoothing', min: 0, max: 0.99, step: 0.01, value: String(smooth), 'aria-label': 'smoothing',
    oninput: () => { smoothOut.textContent = Number(smoothIn.value).toFixed(2); }, onchange: () => go({ smooth: Number(smoothIn.value) ? smoothIn.value : '' }) });
  const plotBox = h('div', { id: 'chart', class: 'chart' });
  const note = h('p', { class: 'muted small', id: 'chart-note' });
  clear(app).append(h('h1', null, key || 'Chart'),
    h('div', { class: 'toolbar' }, h('label', null, 'Metric ', keySel), h('label', null, 'x ', xSel), h('label', null, logBox, ' log y'),
      h('label', null, 'Smoothing ', smoothIn, ' ', smoothOut)),
    plotBox, note);
  if (!key) { plotBox.append(h('p', { class: 'muted' }, 'These runs have no metrics.')); return; }

  const width = Math.max(400, plotBox.clientWidth || width0);
  const series = await Promise.all(runs.map((r) => points(r.info.run_id, key)));
  if (!isCurrent(seq)) return;

  const tables = series.map((s) => {
    const pts = s.points.slice().sort((a, b) => (xMode === 'time' ? a.timestamp - b.timestamp : a.step - b.step));
    const xs = [], ys = [];
    let lastX = -Infinity;
    for (const p of pts) {
      let x = xMode === 'time' ? p.timestamp / 1000 : p.step;
      if (x <= lastX) x = lastX + (xMode === 'time' ? 1e-6 : 1e-9); // uPlot wants x strictly rising
      lastX = x;
      let y = num(p.value);
      if (logY && y != null && y <= 0) y = null;
      xs.push(x);
      ys.push(y);
    }
    return [xs, debiasedEma(ys, smooth)];
  });
  const data = tables.length === 1 ? tables[0] : uPlot.join(tables);
  const names = runs.map((r) => r.info.run_name || r.info.run_id.slice(0, 8));
  const opts = {
    width,
    height: 420,
    scales: { x: { time: xMode === 'time' }, y: logY ? { distr: 3 } : {} },
    axes: [{ stroke: 'currentColor', grid: { stroke: 'rgba(128,128,128,0.2)' } }, { stroke: 'currentColor', grid: { stroke: 'rgba(128,128,128,0.2)' }, size: 70 }],
    series: [{ label: xMode }, ...names.map((n, i) => ({ label: n, stroke: COLORS[i % COLORS.length], width: 1.5, spanGaps: true, value: (u, v) => (v == null ? '—' : fmtValue(v)) }))],
    legend: { live: true },
    cursor: { drag: { x: true, y: false } },
    hooks: { draw: [() => { window.__cairnChartDrawn = performance.now(); plotBox.dataset.drawn = '1'; }] },
  };
  clear(plotBox);
  fitWidth(new uPlot(opts, data, plotBox), plotBox, 400);
  plotBox.dataset.series = String(names.length);
  const parts = series.map((s, i) => `${names[i]}: ${s.total} points${s.downsampled ? `, ${s.points.length} drawn (downsampled by the server, extremes kept)` : ''}`);
  note.textContent = parts.join('; ');
}
