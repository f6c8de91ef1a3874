// SPDX-License-Identifier: MIT
// scatter.js - one point per run: any param or metric (x) against any metric (y), as SVG.
// Numeric x is scaled min..max, a categorical param is placed at ordered positions. Hovering
// names the run, clicking opens it. The compare view and the runs table's "scatter" use it.
import { h, fmtValue } from './dom.js';
import { s, scaleOf, colValue, colName, columnsOf, tickText } from './svg.js';
import { get as apiGet, post } from './api.js';
import { crumbs, link, navigate, isCurrent } from './main.js';

const W = 680, H = 420, L = 70, R = 20, T = 16, B = 48;

export function scatter(runs, xCol, yCol, onOpen) {
  const pts = runs.filter((r) => colValue(r, xCol) !== undefined && Number.isFinite(Number(colValue(r, yCol))));
  const xs = scaleOf(pts, xCol), ys = scaleOf(pts, yCol);
  const pw = W - L - R, ph = H - T - B;
  const px = (v) => L + 6 + xs.pos(v) * (pw - 12), py = (v) => T + 6 + (1 - ys.pos(v)) * (ph - 12);
  const hover = h('div', { id: 'sc-hover', class: 'plot-hover muted', 'aria-live': 'polite' }, '\u00a0');
  const svg = s('svg', { id: 'scatter', class: 'plot', width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img',
    'aria-label': `${pts.length} runs: ${yCol.slice(2)} against ${xCol.slice(2)}` });
  const axes = s('g', { class: 'pc-axis' },
    s('line', { x1: L, x2: L, y1: T, y2: T + ph }), s('line', { x1: L, x2: L + pw, y1: T + ph, y2: T + ph }),
    s('text', { x: L + pw / 2, y: H - 8, 'text-anchor': 'middle', class: 'pc-name' }, colName(xCol) + (xs.log ? ' (log)' : '')),
    s('text', { x: 14, y: T + ph / 2, 'text-anchor': 'middle', class: 'pc-name', transform: `rotate(-90 14 ${T + ph / 2})` }, colName(yCol) + (ys.log ? ' (log)' : '')));
  const xtick = (v, text) => axes.append(s('text', { x: px(v), y: T + ph + 16, 'text-anchor': 'middle', class: 'tick' }, text));
  const ytick = (v, text) => axes.append(s('text', { x: L - 6, y: py(v) + 4, 'text-anchor': 'end', class: 'tick' }, text));
  if (pts.length) {
    if (xs.numeric) { for (const v of xs.ticks()) xtick(v, tickText(v)); }
    else { const every = Math.ceil(xs.cats.length / 10); xs.cats.forEach((c, k) => { if (k % every === 0) xtick(c, c.length > 12 ? c.slice(0, 11) + '…' : c); }); }
    for (const v of ys.ticks()) ytick(v, tickText(v));
  }
  svg.append(axes);
  const g = s('g', { class: 'sc-points' });
  const focusable = pts.length <= 200; // a Tab stop per point only when there are few
  for (const r of pts) {
    const xv = colValue(r, xCol), yv = colValue(r, yCol);
    const label = `${r.name}: ${xCol.slice(2)} ${fmtValue(xv)}, ${yCol.slice(2)} ${fmtValue(yv)}`;
    const show = () => { c.classList.add('hi'); hover.textContent = label; };
    const c = s('circle', { class: 'sc-pt', cx: px(xv).toFixed(1), cy: py(yv).toFixed(1), r: 4.5, tabindex: focusable ? 0 : undefined,
      dataset: { runId: r.id, x: String(xv), y: String(yv) },
      onmouseenter: show, onfocus: show, onmouseleave: () => c.classList.remove('hi'), onblur: () => c.classList.remove('hi'),
      onclick: () => onOpen(r.id), onkeydown: (ev) => { if (ev.key === 'Enter') onOpen(r.id); } }, s('title', null, label));
    g.append(c);
  }
  svg.append(g);
  const missing = runs.length - pts.length;
  return h('div', { class: 'plotbox' }, svg, hover,
    missing ? h('p', { class: 'muted small', id: 'sc-missing' }, `${missing} run${missing === 1 ? '' : 's'} without both values not drawn`) : null);
}

// The x and y selects (real form elements): x any param or metric, y any metric.
export function axisSelects(cols, x, y, onChange) {
  const opt = (c, sel) => h('option', { value: c, selected: c === sel }, c.slice(2));
  const xs = h('select', { id: 'sc-x', 'aria-label': 'scatter x' },
    cols.params.length ? h('optgroup', { label: 'params' }, cols.params.map((c) => opt(c, x))) : null,
    cols.metrics.length ? h('optgroup', { label: 'metrics' }, cols.metrics.map((c) => opt(c, x))) : null);
  const ys = h('select', { id: 'sc-y', 'aria-label': 'scatter y' }, cols.metrics.map((c) => opt(c, y)));
  const fire = () => onChange(xs.value, ys.value);
  xs.addEventListener('change', fire);
  ys.addEventListener('change', fire);
  return h('span', { class: 'axis-selects' }, h('label', null, 'x ', xs), ' ', h('label', null, 'y ', ys));
}

// A default pair: the first param (else another metric) against the first metric.
export function defaultAxes(cols, x, y) {
  const all = [...cols.params, ...cols.metrics];
  const yy = cols.metrics.includes(y) ? y : cols.metrics[0] || '';
  return [all.includes(x) ? x : cols.params[0] || cols.metrics.find((m) => m !== yy) || yy, yy];
}

// ---- #/exp/ID/scatter?filter=&view=&x=&y=: the runs table's filtered runs as a scatter ----

const MAX_RUNS = 5000;

export async function scatterPage(app, { params: [expId], query, seq }) {
  const filter = query.get('filter') || '';
  const view = query.get('view') || 'active';
  const viewType = { active: 'ACTIVE_ONLY', deleted: 'DELETED_ONLY', all: 'ALL' }[view] || 'ACTIVE_ONLY';
  const exp = (await apiGet('mlflow/experiments/get', { experiment_id: expId })).experiment;
  if (!isCurrent(seq)) return;
  const path = '/exp/' + encodeURIComponent(expId);
  crumbs({ text: 'Experiments', href: '#/' }, { text: exp.name, href: link(path, { filter, view: view === 'active' ? '' : view }) }, { text: 'scatter' });
  const runs = [];
  let token, more = false;
  do {
    const d = await post('mlflow/runs/search', { experiment_ids: [expId], filter, run_view_type: viewType,
      order_by: ['attributes.start_time DESC'], max_results: Math.min(1000, MAX_RUNS - runs.length), page_token: token });
    if (!isCurrent(seq)) return;
    for (const r of d.runs || []) {
      const dd = r.data || {};
      runs.push({ id: r.info.run_id, name: r.info.run_name || r.info.run_id,
        p: new Map((dd.params || []).map((x) => [x.key, x.value])), m: new Map((dd.metrics || []).map((x) => [x.key, x.value])) });
    }
    token = d.next_page_token;
    more = !!token && runs.length >= MAX_RUNS;
  } while (token && runs.length < MAX_RUNS);
  const cols = columnsOf(runs);
  let [x, y] = defaultAxes(cols, query.get('x') || '', query.get('y') || '');
  const plot = h('div', { class: 'hscroll' });
  const open = (id) => navigate('/run/' + encodeURIComponent(id));
  const redraw = () => plot.replaceChildren(x && y ? scatter(runs, x, y, open) : h('p', { class: 'muted' }, 'These runs have no metric to plot.'));
  const save = () => history.replaceState(null, '', link(path + '/scatter', { filter, view: view === 'active' ? '' : view, x, y }));
  app.replaceChildren(
    h('h1', null, exp.name, ' ', h('span', { class: 'muted small' }, 'scatter')),
    h('div', { class: 'toolbar' },
      h('span', { id: 'sc-count', class: 'muted' }, `${runs.length} run${runs.length === 1 ? '' : 's'}${more ? ` (the newest ${MAX_RUNS}; narrow the filter to see others)` : ''}`),
      filter ? h('code', { class: 'muted' }, filter) : null,
      axisSelects(cols, x, y, (nx, ny) => { x = nx; y = ny; save(); redraw(); }),
      h('a', { href: link(path, { filter, view: view === 'active' ? '' : view }) }, 'back to the table')),
    plot);
  redraw();
}
