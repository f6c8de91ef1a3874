// SPDX-License-Identifier: MIT
// studies.js - the studies of the store (#/studies) and one study (#/study/NAME): its best
// trial, the trials table (sortable, virtual rows, so 10,000 trials scroll like 10), the
// optimization history (uPlot: each complete trial's value and the best so far, log toggle),
// parameter importance (bars), intermediate values (one line per trial, pruned ones dashed)
// and a slice plot per parameter. While trials run, the page polls studies/trials from
// next_since_trial every 2 s and updates the table and the charts in place.
import uPlot from 'uplot';
import { h, clear, fmtTime, fmtDuration, fmtValue, fitWidth } from './dom.js';
import { get } from './api.js';
import { crumbs, link, isCurrent, currentRoute, navigate } from './main.js';

const ROW = 30; // px, one trials row (as the runs table)
const OVERSCAN = 10;
const POLL_MS = 2000;
const RECENT_MS = 60000; // a study whose last trial ended this recently may still be running
const QUIET_POLL_MS = 15000; // a quiet study is still asked now and then: a worker may resume it
const MAX_LINES = 2000; // intermediate-value curves drawn (the latest ones)

const studyHref = (name) => link('/study/' + encodeURIComponent(name));
const expHref = (id) => link('/exp/' + encodeURIComponent(id));

function cssVar(name, fallback) {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}
// Colors from the stylesheet, so both schemes stay readable.
function palette() {
  return {
    fg: cssVar('--fg', '#1d2330'),
    muted: cssVar('--muted', '#687083'),
    grid: 'rgba(128,128,128,0.2)',
    point: cssVar('--plot-point', '#2f6fdf'),
    best: cssVar('--plot-best', '#e4572e'),
    pruned: cssVar('--plot-pruned', '#b04fc2'),
    running: cssVar('--plot-running', '#f2a541'),
  };
}

// ---------------------------------------------------------------- #/studies

export async function studiesPage(app, { query, seq }) {
  const exp = query.get('exp') || '';
  crumbs({ text: 'Experiments', href: '#/' }, { text: 'Studies' });
  const [d, names] = await Promise.all([get('cairn/studies/list'), experimentNames()]);
  if (!isCurrent(seq)) return;
  const studies = (d.studies || []).filter((s) => !exp || String(s.experiment_id) === exp);
  const tbody = h('tbody');
  for (const s of studies) {
    const c = s.counts || {};
    tbody.append(h('tr', { dataset: { study: s.name } },
      h('td', null, h('a', { href: studyHref(s.name) }, s.name)),
      h('td', null, h('a', { href: expHref(s.experiment_id) }, names.get(String(s.experiment_id)) || String(s.experiment_id))),
      h('td', null, s.objective),
      h('td', null, s.direction === 'MAXIMIZE' ? 'maximize' : 'minimize'),
      h('td', { class: 'mono' }, s.sampler),
      h('td', { class: 'num' }, String(c.total ?? '')),
      h('td', { class: 'num' }, String(c.complete ?? '')),
      h('td', { class: 'num' }, String(c.pruned ?? '')),
      h('td', { class: 'num' }, String(c.fail ?? '')),
      h('td', { class: 'num' }, String((c.running || 0) + (c.waiting || 0))),
      h('td', { class: 'num best' }, s.best_value == null ? '' : fmtValue(s.best_value)),
      h('td', null, fmtTime(s.creation_time))));
  }
  const th = (t, cls) => h('th', cls ? { class: cls } : null, t);
  const table = h('table', { class: 'grid', id: 'studies' },
    h('thead', null, h('tr', null, th('Study'), th('Experiment'), th('Objective'), th('Direction'), th('Sampler'),
      th('Trials', 'num'), th('Complete', 'num'), th('Pruned', 'num'), th('Failed', 'num'), th('Running', 'num'),
      th('Best value', 'num'), th('Created'))),
    tbody);
  clear(app).append(h('h1', null, 'Studies', exp ? h('span', { class: 'muted small' }, ` of experiment ${exp} `) : null,
    exp ? h('a', { class: 'small', href: link('/studies') }, 'all studies') : null),
  studies.length ? table : h('p', { class: 'muted' }, exp ? 'No study uses this experiment.' : 'No studies yet: `cairn tune` makes one.'));
}

// Experiment id -> name (the first 1,000 active experiments; ids stand in for the rest).
async function experimentNames() {
  try {
    const d = await get('mlflow/experiments/search', { max_results: 1000 });
    return new Map((d.experiments || []).map((e) => [String(e.experiment_id), e.name]));
  } catch {
    return new Map();
  }
}

// ---------------------------------------------------------------- #/study/NAME

// Smaller points as they get many, so 10,000 trials stay a cloud, not a blot.
const pointSize = (n, big) => (n <= 300 ? big : n <= 3000 ? big * 0.6 : big * 0.4);

// A linear range with a margin, so the points at the ends are not cut in half.
const padded = (u, min, max) => {
  const pad = max > min ? (max - min) * 0.04 : 0.5;
  return [min - pad, max + pad];
};

function num(v) {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (v == null) return null;
  const n = Number(v); // "NaN", "Infinity" arrive as strings
  return Number.isFinite(n) ? n : null;
}

// The parameters of a study, in first-seen order, each numeric or categorical.
function paramKinds(trials) {
  const kinds = new Map();
  for (const t of trials) {
    for (const [k, v] of Object.entries(t.params || {})) {
      const isNum = typeof v === 'number';
      const cur = kinds.get(k);
      if (!cur) kinds.set(k, { numeric: isNum, cats: [] });
      else if (!isNum) cur.numeric = false;
    }
  }
  for (const [k, info] of kinds) {
    if (info.numeric) continue;
    const seen = new Set();
    for (const t of trials) if (t.params && k in t.params) seen.add(String(t.params[k]));
    info.cats = [...seen].sort();
  }
  return kinds;
}

function sortTrials(list, key, desc) {
  const val = (t) => {
    if (key === 'number') return t.number;
    if (key === 'value') return num(t.value);
    if (key === 'state') return t.state;
    if (key === 'duration') return t.end_time ? t.end_time - t.start_time : null;
    if (key.startsWith('p:')) {
      const v = t.params ? t.params[key.slice(2)] : undefined;
      return v === undefined ? null : v;
    }
    return null;
  };
  const dir = desc ? -1 : 1;
  return list.slice().sort((a, b) => {
    const x = val(a), y = val(b);
    if (x === y) return a.number - b.number;
    if (x == null) return 1; // missing values last either way
    if (y == null) return -1;
    if (typeof x === 'number' && typeof y === 'number') return (x - y) * dir;
    return String(x).localeCompare(String(y)) * dir;
  });
}

export async function studyPage(app, { params: [name], query, seq }) {
  const route = currentRoute().path;
  let logY = query.get('log') === '1';
  let order = query.get('order') || 'number'; // "value" ascending, "-value" descending
  crumbs({ text: 'Experiments', href: '#/' }, { text: 'Studies', href: '#/studies' }, { text: name });
  delete document.body.dataset.studyReady;

  const [sd, td, imp] = await Promise.all([
    get('cairn/studies/get', { name }),
    get('cairn/studies/trials', { name, since_trial: 0 }),
    get('cairn/studies/importance', { name }).catch((e) => ({ importance: [], reason: String(e.message || e) })),
  ]);
  let expName = null;
  get('mlflow/experiments/get', { experiment_id: sd.study.experiment_id }).then((e) => {
    expName = e.experiment.name;
    const a = document.getElementById('study-exp');
    if (a && isCurrent(seq)) a.textContent = expName;
  }).catch(() => {});
  if (!isCurrent(seq)) return;
  let study = sd.study;
  const byNumber = new Map();
  for (const t of td.trials || []) byNumber.set(t.number, t);
  let since = td.next_since_trial;
  let trials = [...byNumber.values()].sort((a, b) => a.number - b.number);
  let kinds = paramKinds(trials);
  const maximize = () => study.direction === 'MAXIMIZE';

  // ---- frame ----
  const header = h('div', { id: 'study-header' });
  const live = h('span', { id: 'study-live', class: 'muted small' });
  const count = h('span', { id: 'trial-count', class: 'muted' });
  const head = h('div', { class: 'vhead', role: 'row' });
  const body = h('div', { class: 'vbody', role: 'rowgroup' });
  const scroller = h('div', { class: 'vscroll trials', id: 'trials', role: 'grid', tabindex: 0, 'aria-label': 'trials' }, head, body);
  const logBox = h('input', { type: 'checkbox', id: 'history-log', checked: logY, onchange: () => setLog(logBox.checked) });
  const historyBox = h('div', { id: 'history', class: 'chart study-chart' });
  const historyNote = h('p', { class: 'muted small', id: 'history-note' });
  const importanceBox = h('div', { id: 'importance', class: 'importance' });
  const interBox = h('div', { id: 'intermediate', class: 'chart study-chart' });
  const interNote = h('p', { class: 'muted small', id: 'intermediate-note' });
  const interLegend = h('div', { class: 'legend-keys small', id: 'intermediate-legend' });
  const slicesBox = h('div', { id: 'slices', class: 'slices' });
  clear(app).append(
    h('h1', null, name, ' ', live), header,
    h('section', { id: 'sec-trials' }, h('h2', null, 'Trials ', count), scroller),
    h('section', { id: 'sec-history' }, h('h2', null, 'Optimization history'),
      h('div', { class: 'toolbar' }, h('label', null, logBox, ' log scale')), historyBox, historyNote),
    h('section', { id: 'sec-importance' }, h('h2', null, 'Parameter importance'), importanceBox),
    h('section', { id: 'sec-intermediate' }, h('h2', null, 'Intermediate values'), interBox, interLegend, interNote),
    h('section', { id: 'sec-slices' }, h('h2', null, 'Slices'), h('p', { class: 'muted small' }, 'Each complete trial: a parameter\'s value against the objective.'), slicesBox));

  // ---- header: best value, trial, params ----
  function renderHeader() {
    const c = study.counts || {};
    const best = study.best_trial;
    const kv = (k, v) => h('tr', null, h('th', null, k), h('td', null, v));
    const bestParams = best ? Object.entries(best.params || {}).map(([k, v]) => h('div', null, h('span', { class: 'mono' }, k), ' = ', fmtValue(v))) : null;
    clear(header).append(h('div', { class: 'cols2' },
      h('table', { class: 'kv' }, h('tbody', null,
        kv('Best value', h('strong', { id: 'best-value', dataset: { value: best ? String(best.value) : '' } }, best ? fmtValue(num(best.value)) : 'no complete trial yet')),
        kv('Best trial', best ? h('span', { id: 'best-trial' }, `#${best.number} `, best.run_id ? h('a', { href: link('/run/' + encodeURIComponent(best.run_id)) }, 'run') : null) : '—'),
        kv('Best params', h('div', { id: 'best-params' }, bestParams)))),
      h('table', { class: 'kv' }, h('tbody', null,
        kv('Objective', `${study.objective} (${maximize() ? 'maximize' : 'minimize'}${study.strategy ? ', ' + study.strategy : ''})`),
        kv('Experiment', h('a', { id: 'study-exp', href: expHref(study.experiment_id) }, expName || String(study.experiment_id))),
        kv('Sampler / pruner', h('span', { class: 'mono' }, `${study.sampler} / ${study.pruner}`)),
        kv('Trials', `${c.total} (${c.complete} complete, ${c.pruned} pruned, ${c.fail} failed, ${c.running} running, ${c.waiting} waiting)`)))));
  }

  // ---- trials table ----
  const rendered = new Map();
  let rows = [];
  let active = 0; // the keyboard's row
  const paramCols = () => [...kinds.keys()];
  const colIds = () => ['number', 'state', 'value', ...paramCols().map((k) => 'p:' + k), 'duration', 'run'];
  const template = () => colIds().map((c) => (c === 'number' ? '5em' : c === 'state' ? '7em' : c === 'run' ? '6em' : c === 'duration' ? '7em' : 'minmax(7em, 1fr)')).join(' ');
  const label = (c) => ({ number: '#', state: 'State', value: study.objective || 'Value', duration: 'Duration', run: 'Run' })[c] || c.slice(2);

  function setOrder(next) {
    order = next;
    const q = new URLSearchParams(currentRoute().query);
    if (order === 'number') q.delete('order'); else q.set('order', order);
    history.replaceState(null, '', link(route, Object.fromEntries(q)));
    resort();
    renderHead();
  }
  function renderHead() {
    clear(head);
    head.style.gridTemplateColumns = template();
    const key = order.replace(/^-/, ''), desc = order.startsWith('-');
    for (const c of colIds()) {
      const cls = 'cell' + (c === 'value' || c === 'number' || c === 'duration' ? ' num' : '');
      if (c === 'run') { head.append(h('div', { class: cls, role: 'columnheader' }, label(c))); continue; }
      const sorted = key === c;
      head.append(h('div', { class: cls, role: 'columnheader', dataset: { col: c }, 'aria-sort': sorted ? (desc ? 'descending' : 'ascending') : undefined },
        h('button', { type: 'button', class: 'sort', onclick: () => setOrder(sorted && !desc ? '-' + c : c) }, label(c), sorted ? (desc ? ' ▼' : ' ▲') : '')));
    }
  }
  function rowEl(i) {
    const t = rows[i];
    const el = h('div', { class: 'vrow state-' + t.state.toLowerCase() + (i === active ? ' active' : ''), role: 'row', 'aria-rowindex': i + 1, dataset: { i, number: t.number } });
    el.style.top = i * ROW + 'px';
    el.style.gridTemplateColumns = template();
    for (const c of colIds()) {
      let v;
      if (c === 'number') v = String(t.number);
      else if (c === 'state') v = t.state;
      else if (c === 'value') v = t.value == null ? '' : fmtValue(num(t.value));
      else if (c === 'duration') v = t.end_time ? fmtDuration(t.end_time - t.start_time) : t.start_time ? 'running' : '';
      else if (c === 'run') v = t.run_id ? h('a', { href: link('/run/' + encodeURIComponent(t.run_id)) }, 'run') : '';
      else v = t.params && c.slice(2) in t.params ? fmtValue(t.params[c.slice(2)]) : '';
      const cls = 'cell' + (c === 'value' || c === 'number' || c === 'duration' ? ' num' : '') + (c === 'state' ? ' state' : '');
      el.append(h('div', { class: cls, role: 'gridcell', dataset: { col: c }, title: typeof v === 'string' ? v : undefined }, v));
    }
    return el;
  }
  function renderRows() {
    body.style.height = rows.length * ROW + 'px';
    const top = Math.max(0, scroller.scrollTop - head.offsetHeight);
    const height = scroller.clientHeight || 400;
    const first = Math.max(0, Math.floor(top / ROW) - OVERSCAN);
    const last = Math.min(rows.length - 1, Math.floor((top + height) / ROW) + OVERSCAN);
    for (const [i, el] of rendered) if (i < first || i > last) { el.remove(); rendered.delete(i); }
    for (let i = first; i <= last; i++) {
      if (rendered.has(i)) continue;
      const el = rowEl(i);
      body.append(el);
      rendered.set(i, el);
    }
  }
  function rerenderRows() {
    for (const el of rendered.values()) el.remove();
    rendered.clear();
    renderRows();
  }
  function resort() {
    rows = sortTrials(trials, order.replace(/^-/, ''), order.startsWith('-'));
    const n = trials.length;
    count.textContent = `${n} trial${n === 1 ? '' : 's'}`;
    scroller.setAttribute('aria-rowcount', String(n));
    scroller.style.height = Math.max(4, Math.min(n, 14)) * ROW + 40 + 'px'; // short studies, short tables
    rerenderRows();
  }
  // Keyboard: as in the runs table, ↑ ↓, Page Up/Down, Home and End move the active row (kept
  // in view), Enter opens the active trial's run.
  function setActive(i) {
    if (!rows.length) return;
    i = Math.max(0, Math.min(rows.length - 1, i));
    const old = rendered.get(active);
    if (old) old.classList.remove('active');
    active = i;
    const top = i * ROW, viewTop = scroller.scrollTop, viewH = scroller.clientHeight - head.offsetHeight;
    if (top < viewTop) scroller.scrollTop = top;
    else if (top + ROW > viewTop + viewH) scroller.scrollTop = top + ROW - viewH;
    renderRows();
    const el = rendered.get(i);
    if (el) el.classList.add('active');
  }
  scroller.addEventListener('keydown', (ev) => {
    const page = Math.max(1, Math.floor((scroller.clientHeight - head.offsetHeight) / ROW) - 1);
    const moves = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page };
    if (ev.key in moves) { setActive(active + moves[ev.key]); ev.preventDefault(); }
    else if (ev.key === 'Home') { setActive(0); ev.preventDefault(); }
    else if (ev.key === 'End') { setActive(rows.length - 1); ev.preventDefault(); }
    else if (ev.key === 'Enter' && rows[active] && rows[active].run_id) navigate('/run/' + encodeURIComponent(rows[active].run_id));
  });
  let scheduled = false;
  scroller.addEventListener('scroll', () => {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(() => { scheduled = false; renderRows(); });
  }, { passive: true });

  // ---- optimization history ----
  let historyPlot = null;
  function historyData() {
    const xs = [], ys = [], best = [];
    let b = null;
    for (const t of trials) {
      if (t.state !== 'COMPLETE') continue;
      const v = num(t.value);
      if (v == null) continue;
      if (b == null || (maximize() ? v > b : v < b)) b = v;
      xs.push(t.number);
      ys.push(logY && v <= 0 ? null : v);
      best.push(logY && b <= 0 ? null : b);
    }
    return [xs, ys, best];
  }
  function drawHistory() {
    const data = historyData();
    historyBox.dataset.points = String(data[0].length);
    const nonPositive = logY && data[1].some((v) => v === null);
    historyNote.textContent = `${data[0].length} complete trial${data[0].length === 1 ? '' : 's'}` +
      (nonPositive ? '; values ≤ 0 are left out of the log scale' : '');
    if (historyPlot) { historyPlot.setData(data); return; }
    if (!data[0].length) { clear(historyBox).append(h('p', { class: 'muted' }, 'No complete trial yet.')); return; }
    const p = palette();
    const width = Math.max(400, historyBox.clientWidth || 900);
    clear(historyBox);
    historyPlot = new uPlot({
      width, height: 320,
      scales: { x: { time: false, range: padded }, y: logY ? { distr: 3 } : { range: padded } },
      axes: [{ stroke: p.fg, grid: { stroke: p.grid }, label: 'trial', incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000] }, { stroke: p.fg, grid: { stroke: p.grid }, size: 70 }],
      series: [{ label: 'trial' },
        { label: study.objective || 'value', stroke: p.point, width: 0, paths: () => null, points: { show: true, size: pointSize(data[0].length, 6), fill: p.point, stroke: p.point }, value: (u, v) => (v == null ? '—' : fmtValue(v)) },
        { label: 'best so far', stroke: p.best, width: 2, paths: uPlot.paths.stepped({ align: 1 }), points: { show: false }, spanGaps: true, value: (u, v) => (v == null ? '—' : fmtValue(v)) }],
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
      hooks: { draw: [() => { historyBox.dataset.drawn = '1'; }] },
    }, data, historyBox);
    fitWidth(historyPlot, historyBox, 400);
  }
  function setLog(on) {
    const q = new URLSearchParams(currentRoute().query);
    if (on) q.set('log', '1'); else q.delete('log');
    history.replaceState(null, '', link(route, Object.fromEntries(q)));
    // a scale's distribution is fixed when the plot is made: make it again
    if (historyPlot) { historyPlot.destroy(); historyPlot = null; }
    logY = on;
    drawHistory();
  }

  // ---- importance ----
  function drawImportance(d) {
    clear(importanceBox);
    const list = d.importance || [];
    importanceBox.dataset.names = list.map((x) => x.name).join(',');
    if (!list.length) {
      importanceBox.append(h('p', { class: 'muted', id: 'importance-reason' }, d.reason || 'No importance yet.'));
      return;
    }
    const max = Math.max(...list.map((x) => x.importance), 1e-12);
    for (const x of list) {
      const bar = h('div', { class: 'bar' });
      bar.style.width = Math.max(0.5, (100 * x.importance) / max) + '%';
      importanceBox.append(h('div', { class: 'imp-row', dataset: { name: x.name } },
        h('span', { class: 'imp-name mono', title: x.name }, x.name), h('div', { class: 'imp-track' }, bar),
        h('span', { class: 'imp-value num' }, fmtValue(Number(x.importance.toFixed(4))))));
    }
    if (d.method) importanceBox.append(h('p', { class: 'muted small' }, `${d.method}, over ${d.n_complete} complete trials.`));
  }

  // ---- intermediate values ----
  let interPlot = null;
  function interCurves() {
    const withSteps = trials.filter((t) => t.intermediate && t.intermediate.length);
    return withSteps.slice(-MAX_LINES);
  }
  function drawIntermediate() {
    const curves = interCurves();
    const total = trials.filter((t) => t.intermediate && t.intermediate.length).length;
    interBox.dataset.lines = String(curves.length);
    interBox.dataset.pruned = String(curves.filter((t) => t.state === 'PRUNED').length);
    interNote.textContent = total
      ? `${total} trial${total === 1 ? '' : 's'} reported values${total > curves.length ? `; the latest ${curves.length} are drawn` : ''}.`
      : '';
    clear(interLegend);
    if (total) {
      const key = (cls, text) => h('span', { class: 'key' }, h('span', { class: 'swatch ' + cls }), text);
      interLegend.append(key('complete', 'complete (line, dot at its last value)'), key('pruned', 'pruned (dashed, × where it was stopped)'), key('running', 'running'));
    }
    if (!total) { if (interPlot) { interPlot.destroy(); interPlot = null; } clear(interBox).append(h('p', { class: 'muted' }, 'No trial reported intermediate values.')); return; }
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (const t of curves) for (const p of t.intermediate) {
      const v = num(p.value);
      if (v == null) continue;
      x0 = Math.min(x0, p.step); x1 = Math.max(x1, p.step); y0 = Math.min(y0, v); y1 = Math.max(y1, v);
    }
    if (!(x1 > x0)) x1 = x0 + 1;
    if (!(y1 > y0)) { y0 -= 0.5; y1 += 0.5; }
    const frame = [[x0, x1], [y0, y1]];
    if (interPlot) { interPlot.setData(frame); return; }
    const p = palette();
    const width = Math.max(400, interBox.clientWidth || 900);
    clear(interBox);
    interPlot = new uPlot({
      width, height: 320,
      scales: { x: { time: false } },
      axes: [{ stroke: p.fg, grid: { stroke: p.grid }, label: 'step' }, { stroke: p.fg, grid: { stroke: p.grid }, size: 70 }],
      series: [{ label: 'step' }, { label: 'range', show: true, stroke: 'transparent', width: 0, points: { show: false } }],
      legend: { show: false },
      cursor: { drag: { x: true, y: true }, points: { show: false } },
      hooks: {
        draw: [(u) => {
          const ctx = u.ctx;
          ctx.save();
          ctx.beginPath();
          ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
          ctx.clip();
          ctx.lineWidth = 1.2 * devicePixelRatio;
          for (const t of interCurves()) {
            ctx.strokeStyle = t.state === 'PRUNED' ? p.pruned : t.state === 'RUNNING' ? p.running : p.point;
            ctx.globalAlpha = t.state === 'COMPLETE' ? 0.6 : 0.85;
            ctx.setLineDash(t.state === 'PRUNED' ? [4 * devicePixelRatio, 3 * devicePixelRatio] : []);
            ctx.beginPath();
            let started = false;
            for (const pt of t.intermediate) {
              const v = num(pt.value);
              if (v == null) continue;
              const x = u.valToPos(pt.step, 'x', true), y = u.valToPos(v, 'y', true);
              if (started) ctx.lineTo(x, y); else { ctx.moveTo(x, y); started = true; }
            }
            ctx.stroke();
            // the last value: a dot, or a cross where the pruner stopped the trial
            const lastPt = t.intermediate[t.intermediate.length - 1];
            const lv = num(lastPt.value);
            if (lv == null) continue;
            const x = u.valToPos(lastPt.step, 'x', true), y = u.valToPos(lv, 'y', true), r = 3.5 * devicePixelRatio;
            ctx.setLineDash([]);
            ctx.globalAlpha = 1;
            ctx.beginPath();
            if (t.state === 'PRUNED') {
              ctx.lineWidth = 2 * devicePixelRatio;
              ctx.moveTo(x - r, y - r); ctx.lineTo(x + r, y + r); ctx.moveTo(x - r, y + r); ctx.lineTo(x + r, y - r);
              ctx.stroke();
              ctx.lineWidth = 1.2 * devicePixelRatio;
            } else {
              ctx.fillStyle = ctx.strokeStyle;
              ctx.arc(x, y, r * 0.7, 0, 2 * Math.PI);
              ctx.fill();
            }
          }
          ctx.restore();
          interBox.dataset.drawn = '1';
        }],
      },
    }, frame, interBox);
    fitWidth(interPlot, interBox, 400);
  }

  // ---- slices ----
  const slicePlots = new Map(); // param -> {plot, el, cats}
  function sliceData(k, info) {
    const pts = [];
    for (const t of trials) {
      if (t.state !== 'COMPLETE' || !t.params || !(k in t.params)) continue;
      const v = num(t.value);
      if (v == null) continue;
      const x = info.numeric ? num(t.params[k]) : info.cats.indexOf(String(t.params[k]));
      if (x == null || (!info.numeric && x < 0)) continue;
      pts.push([x, v]);
    }
    pts.sort((a, b) => a[0] - b[0]);
    return [pts.map((q) => q[0]), pts.map((q) => q[1])];
  }
  function drawSlices() {
    const p = palette();
    for (const [k, info] of kinds) {
      const data = sliceData(k, info);
      let entry = slicePlots.get(k);
      if (entry && !info.numeric && entry.cats.join('\u0000') !== info.cats.join('\u0000')) { entry.plot.destroy(); entry.el.remove(); slicePlots.delete(k); entry = null; }
      if (entry) { entry.plot.setData(data); entry.el.dataset.points = String(data[0].length); continue; }
      const box = h('div', { class: 'slice-plot' });
      const fig = h('figure', { class: 'slice', dataset: { param: k, points: String(data[0].length) } }, h('figcaption', { class: 'mono' }, k), box);
      slicesBox.append(fig);
      const xs = data[0];
      const positive = info.numeric && xs.length > 1 && xs[0] > 0 && xs[xs.length - 1] / xs[0] >= 100;
      const cats = info.cats.slice();
      const plot = new uPlot({
        width: 300, height: 210,
        scales: { y: { range: padded }, x: info.numeric ? (positive ? { time: false, distr: 3 } : { time: false, range: padded }) : { time: false, range: () => [-0.5, cats.length - 0.5] } },
        axes: [
          info.numeric ? { stroke: p.fg, grid: { stroke: p.grid }, size: 30 }
            : { stroke: p.fg, grid: { stroke: p.grid }, size: 30, splits: () => cats.map((_, i) => i), values: (u, splits) => splits.map((s) => cats[s] ?? '') },
          { stroke: p.fg, grid: { stroke: p.grid }, size: 60 }],
        series: [{ label: k }, { label: study.objective || 'value', stroke: p.point, width: 0, paths: () => null, points: { show: true, size: pointSize(data[0].length, 5), fill: p.point, stroke: p.point } }],
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
      }, data, box);
      slicePlots.set(k, { plot, el: fig, cats });
    }
    if (!kinds.size) clear(slicesBox).append(h('p', { class: 'muted' }, 'No parameters yet.'));
  }

  function drawAll() {
    renderHeader();
    renderHead();
    resort();
    drawHistory();
    drawIntermediate();
    drawSlices();
  }

  drawAll();
  drawImportance(imp);
  document.body.dataset.studyReady = String(trials.length);

  // ---- live updates ----
  function mayBeRunning() {
    if (trials.some((t) => t.state === 'RUNNING' || t.state === 'WAITING')) return true;
    let lastEnd = 0;
    for (const t of trials) if (t.end_time > lastEnd) lastEnd = t.end_time;
    return Date.now() - lastEnd < RECENT_MS;
  }
  let polls = 0;
  async function poll() {
    if (!isCurrent(seq)) return; // the page was left: stop
    try {
      const d = await get('cairn/studies/trials', { name, since_trial: since });
      if (!isCurrent(seq)) return;
      polls++;
      let changed = false;
      for (const t of d.trials || []) {
        const old = byNumber.get(t.number);
        if (!old || old.state !== t.state || old.end_time !== t.end_time || (old.intermediate || []).length !== (t.intermediate || []).length) changed = true;
        byNumber.set(t.number, t);
      }
      since = d.next_since_trial;
      if (changed) {
        trials = [...byNumber.values()].sort((a, b) => a.number - b.number);
        const oldKeys = [...kinds.keys()].join('\u0000');
        kinds = paramKinds(trials);
        const [s2, i2] = await Promise.all([get('cairn/studies/get', { name }), get('cairn/studies/importance', { name }).catch(() => null)]);
        if (!isCurrent(seq)) return;
        study = s2.study;
        renderHeader();
        if (oldKeys !== [...kinds.keys()].join('\u0000')) renderHead();
        resort();
        drawHistory();
        drawIntermediate();
        drawSlices();
        if (i2) drawImportance(i2);
      }
      document.body.dataset.studyPolls = String(polls);
    } catch (e) {
      if (!isCurrent(seq)) return;
      live.textContent = `updates stopped: ${e.message || e}`;
      return;
    }
    schedulePoll();
  }
  function schedulePoll() {
    if (!isCurrent(seq)) return;
    if (!mayBeRunning()) {
      live.textContent = '';
      delete document.body.dataset.studyLive;
      setTimeout(poll, QUIET_POLL_MS);
      return;
    }
    live.textContent = '● live';
    document.body.dataset.studyLive = '1';
    setTimeout(poll, POLL_MS);
  }
  schedulePoll();
}
