// SPDX-License-Identifier: MIT
// compare.js - runs side by side: params, latest metrics and tags, rows whose values differ
// highlighted (and listed first with "differences only"); parallel coordinates over chosen
// columns, a scatter of any param against any metric, and for two runs the significance test
// of `cairn eval compare` (GET cairn/runs/compare). Axes chosen are in the URL.
import { h, clear, fmtValue } from './dom.js';
import { get, ApiError } from './api.js';
import { crumbs, link, navigate, isCurrent, currentRoute } from './main.js';
import { parcoords } from './parcoords.js';
import { scatter, axisSelects, defaultAxes } from './scatter.js';
import { columnsOf, colName } from './svg.js';

export function flattenRun(r) {
  const d = r.data || {};
  return {
    id: r.info.run_id,
    name: r.info.run_name || r.info.run_id,
    p: new Map((d.params || []).map((x) => [x.key, x.value])),
    m: new Map((d.metrics || []).map((x) => [x.key, x.value])),
  };
}

export async function comparePage(app, { query, seq }) {
  const ids = (query.get('runs') || '').split(',').filter(Boolean).slice(0, 50);
  const onlyDiff = query.get('diff') === '1';
  crumbs({ text: 'Experiments', href: '#/' }, { text: 'compare' });
  const testP = ids.length === 2 ? get('cairn/runs/compare', { run_id: ids }) : null;
  if (testP) testP.catch(() => {}); // handled where it is awaited
  const runs = await Promise.all(ids.map((id) => get('mlflow/runs/get', { run_id: id }).then((d) => d.run)));
  if (!isCurrent(seq)) return;
  const section = (title, kind, pick) => {
    const keys = [...new Set(runs.flatMap((r) => pick(r).map((x) => x.key)))].sort();
    const rows = [];
    for (const k of keys) {
      const vals = runs.map((r) => { const e = pick(r).find((x) => x.key === k); return e ? fmtValue(e.value) : ''; });
      const differs = new Set(vals).size > 1;
      if (onlyDiff && !differs) continue;
      const label = kind === 'metric' ? h('a', { href: link('/chart', { runs: ids.join(','), key: k }) }, k) : k;
      rows.push(h('tr', { class: differs ? 'diff' : '', dataset: { key: k, kind } }, h('th', null, label), ...vals.map((v) => h('td', { class: kind === 'metric' ? 'num' : '' }, v))));
    }
    return [h('tr', { class: 'section' }, h('th', { colspan: runs.length + 1 }, title)), ...rows];
  };
  // URL state besides runs and diff: pc (parallel axes), color, sx, sy (scatter).
  const state = { diff: onlyDiff ? '1' : '', pc: query.get('pc') || '', color: query.get('color') || '', sx: query.get('sx') || '', sy: query.get('sy') || '' };
  const saveState = () => history.replaceState(null, '', link('/compare', Object.assign({ runs: ids.join(',') }, state)));
  const diffBox = h('input', { type: 'checkbox', id: 'diff-only', checked: onlyDiff, onchange: () => navigate('/compare', Object.assign({ runs: ids.join(',') }, state, { diff: diffBox.checked ? '1' : '' }), true) });
  const testBox = h('section', { id: 'sigtest', 'aria-labelledby': 'sigtest-h' });
  const pcBox = h('section', { id: 'pc-section' });
  const scBox = h('section', { id: 'sc-section' });
  clear(app).append(...[
    h('h1', null, `Compare ${runs.length} runs`),
    h('div', { class: 'toolbar' }, h('label', null, diffBox, ' differences only')),
    h('div', { class: 'hscroll' }, h('table', { class: 'grid compare', id: 'compare' },
      h('thead', null, h('tr', null, h('th', null, ''), ...runs.map((r) => h('th', null, h('a', { href: link('/run/' + encodeURIComponent(r.info.run_id)) }, r.info.run_name || r.info.run_id))))),
      h('tbody', null,
        section('Params', 'param', (r) => (r.data && r.data.params) || []),
        section('Metrics', 'metric', (r) => (r.data && r.data.metrics) || []),
        section('Tags', 'tag', (r) => ((r.data && r.data.tags) || []).filter((t) => !t.key.startsWith('mlflow.')))))),
    testP ? testBox : null, pcBox, scBox].filter(Boolean));

  const flat = runs.map(flattenRun);
  const cols = columnsOf(flat);
  const open = (id) => navigate('/run/' + encodeURIComponent(id));
  drawParcoords(pcBox, flat, cols, state, saveState, open);
  drawScatter(scBox, flat, cols, state, saveState, open);
  if (testP) await showTest(testBox, testP, runs, seq);
}

function drawParcoords(box, runs, cols, state, saveState, open) {
  const all = [...cols.params, ...cols.metrics];
  // Default axes: the params whose values differ, then the metrics; at most 8.
  const differs = (c) => new Set(runs.map((r) => (c[0] === 'p' ? r.p : r.m).get(c.slice(2)))).size > 1;
  let axes = state.pc ? state.pc.split(',').filter((c) => all.includes(c))
    : [...cols.params.filter(differs), ...cols.metrics].slice(0, 8);
  let color = cols.metrics.includes(state.color) ? state.color : cols.metrics[0] || '';
  const plot = h('div', { class: 'hscroll' });
  const redraw = () => { clear(plot).append(axes.length ? parcoords(runs, axes, color, open) : h('p', { class: 'muted' }, 'Choose columns to draw.')); };
  const colorSel = h('select', { id: 'pc-color', 'aria-label': 'color lines by' }, cols.metrics.map((c) => h('option', { value: c, selected: c === color }, c.slice(2))));
  colorSel.addEventListener('change', () => { color = colorSel.value; state.color = color; saveState(); redraw(); });
  const chooser = h('details', { class: 'chooser', id: 'pc-axes' }, h('summary', null, 'Axes'),
    h('div', { class: 'chooser-body' }, all.map((c) => h('label', { class: 'check' },
      h('input', { type: 'checkbox', checked: axes.includes(c), dataset: { col: c }, onchange: (ev) => {
        axes = ev.target.checked ? all.filter((k) => k === c || axes.includes(k)) : axes.filter((k) => k !== c);
        state.pc = axes.join(',');
        saveState();
        redraw();
      } }), ' ', colName(c)))));
  clear(box).append(h('h2', null, 'Parallel coordinates'),
    h('div', { class: 'toolbar' }, chooser, cols.metrics.length ? h('label', null, 'color by ', colorSel) : null),
    plot);
  redraw();
}

function drawScatter(box, runs, cols, state, saveState, open) {
  let [x, y] = defaultAxes(cols, state.sx, state.sy);
  const plot = h('div', { class: 'hscroll' });
  const redraw = () => { clear(plot).append(x && y ? scatter(runs, x, y, open) : h('p', { class: 'muted' }, 'These runs have no metric to plot.')); };
  clear(box).append(h('h2', null, 'Scatter'),
    h('div', { class: 'toolbar' }, axisSelects(cols, x, y, (nx, ny) => { x = nx; y = ny; state.sx = x; state.sy = y; saveState(); redraw(); })),
    plot);
  redraw();
}

async function showTest(box, testP, runs, seq) {
  const name = (i) => runs[i].info.run_name || runs[i].info.run_id;
  box.append(h('h2', { id: 'sigtest-h' }, 'Significance test'));
  let d;
  try {
    d = await testP;
  } catch (e) {
    if (!isCurrent(seq) || currentRoute().path !== '/compare') return;
    // An older server without the route: say so, the rest of the page stands.
    if (e instanceof ApiError && e.status === 404 && e.code === 'ENDPOINT_NOT_FOUND') {
      box.append(h('p', { class: 'muted' }, 'This server has no cairn/runs/compare route; run cairn eval compare instead.'));
      return;
    }
    box.append(h('div', { class: 'error', role: 'alert' }, e.message));
    return;
  }
  if (!isCurrent(seq)) return;
  const t = d.test;
  if (!t) {
    box.append(h('p', { id: 'no-test', class: 'muted' }, 'No test: ', d.no_test || 'these runs share no prediction rows or folds.'));
    return;
  }
  const row = (k, ...v) => h('tr', null, h('th', null, k), h('td', null, ...v));
  const p = (v) => (typeof v === 'number' ? (v < 1e-4 ? v.toExponential(2) : v.toFixed(4)) : String(v));
  box.append(
    h('p', { id: 'sigtest-verdict', class: t.significant ? 'verdict yes' : 'verdict no', dataset: { pValue: String(t.p_value), significant: String(!!t.significant) } },
      t.significant ? `${name(0)} and ${name(1)} differ on ${t.metric} (p = ${p(t.p_value)}).`
        : `No significant difference on ${t.metric} between ${name(0)} and ${name(1)} (p = ${p(t.p_value)}).`),
    h('table', { class: 'kv', id: 'sigtest-table' }, h('tbody', null,
      row('metric', t.metric, t.task ? ` (${t.task})` : ''),
      row('paired on', `${t.n} ${t.scope === 'cv' ? 'folds' : 'shared rows'}`, t.predictions ? ` (${t.predictions})` : ''),
      row('A − B', fmtValue(t.diff), ` [${fmtValue(t.diff_ci_low)}, ${fmtValue(t.diff_ci_high)}] 95% CI`),
      row('method', t.method, t.statistic != null ? ` (statistic ${fmtValue(t.statistic)})` : ''),
      row('p-value', h('span', { id: 'sigtest-p' }, p(t.p_value)), t.method2 ? ` (${t.method2}: ${p(t.p_value2)})` : ''),
      row('significant', t.significant ? 'yes' : 'no'))));
}
