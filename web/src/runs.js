// SPDX-License-Identifier: MIT
// runs.js - an experiment's runs: server-side paging and sort through runs/search, a filter
// in the search grammar (the parser's message shown, its offending token marked), a column
// chooser, pinned name column, virtual scrolling (only the visible rows exist in the DOM;
// pages are fetched with page_token as the view nears them), selection, compare, delete and
// restore. The filter, sort, columns and view are in the URL.
import { h, clear, fmtTime, fmtDuration, fmtValue } from './dom.js';
import { get, post, ApiError } from './api.js';
import { crumbs, navigate, link, isCurrent, currentRoute } from './main.js';
import { activeRuns } from './experiments.js';
import { experimentPermission, allows } from './perms.js'; // ui-compare
import { appendStudiesLink } from './studies-link.js';
import { runsFirstSearch, FIRST_PAGE } from './early.js';

const ROW = 30; // px, one row
const PAGE = 1000;
const OVERSCAN = 10;
// Column widths in em, fixed: one template for the header and every row (a CSS variable on the
// table), so that laying out a row never measures its text; a last flexible track fills the
// rest of a wide window.
// Each cell's class w-<kind> gives its width (style.css: --w-<kind>); a row is as wide as the sum.
const widthClass = (c) => (c === 'a:start' ? 'start' : c.startsWith('a:') ? 'attr' : 'value');

const ATTRS = {
  name: { label: 'Name', order: 'attributes.run_name' },
  status: { label: 'Status', order: 'attributes.status' },
  start: { label: 'Started', order: 'attributes.start_time' },
  duration: { label: 'Duration', order: null },
  user: { label: 'User', order: 'attributes.user_id' },
};

function quoteKey(k) {
  return /^[A-Za-z_][A-Za-z0-9_.]*$/.test(k) ? k : '`' + k.replace(/`/g, '') + '`';
}

// A column id: "a:status", "m:loss", "p:lr", "t:team".
function colLabel(c) {
  const kind = c.slice(0, 1), key = c.slice(2);
  if (kind === 'a') return ATTRS[key] ? ATTRS[key].label : key;
  return key;
}
function colOrder(c) {
  const kind = c.slice(0, 1), key = c.slice(2);
  if (kind === 'a') return ATTRS[key] && ATTRS[key].order;
  return { m: 'metrics', p: 'params', t: 'tags' }[kind] + '.' + quoteKey(key);
}
function cellValue(run, c) {
  const kind = c.slice(0, 1), key = c.slice(2);
  if (kind === 'm') return run.m.has(key) ? fmtValue(run.m.get(key)) : '';
  if (kind === 'p') return run.p.get(key) ?? '';
  if (kind === 't') return run.t.get(key) ?? '';
  const i = run.info;
  if (key === 'status') return i.status + (i.lifecycle_stage === 'deleted' ? ' (deleted)' : '');
  if (key === 'start') return fmtTime(i.start_time);
  if (key === 'duration') return i.end_time ? fmtDuration(i.end_time - i.start_time) : '';
  if (key === 'user') return i.user_id || '';
  return '';
}

function flatten(r) {
  const d = r.data || {};
  return {
    info: r.info,
    id: r.info.run_id,
    name: r.info.run_name || r.info.run_id,
    m: new Map((d.metrics || []).map((x) => [x.key, x.value])),
    p: new Map((d.params || []).map((x) => [x.key, x.value])),
    t: new Map((d.tags || []).map((x) => [x.key, x.value])),
  };
}

// "invalid filter at character 13: ..." -> the filter with the token at 13 (1-based) marked.
export function markFilterError(filter, message) {
  const m = /at character (\d+)/.exec(message || '');
  if (!m) return null;
  const at = Math.max(0, Math.min(filter.length, Number(m[1]) - 1));
  let end = at;
  if (filter[at] === "'" || filter[at] === '"' || filter[at] === '`') {
    const close = filter.indexOf(filter[at], at + 1);
    end = close < 0 ? filter.length : close + 1;
  } else {
    while (end < filter.length && !/\s/.test(filter[end])) end++;
  }
  if (end === at) end = Math.min(filter.length, at + 1);
  return h('code', { class: 'filter-echo' }, filter.slice(0, at), h('mark', { id: 'filter-bad-token' }, filter.slice(at, end) || '␣'), filter.slice(end));
}

export async function runsPage(app, { params: [expId], query, seq }) {
  // The experiment and the first page are asked for at once (the first rows wait for both).
  const expP = get('mlflow/experiments/get', { experiment_id: expId });
  // (boot.js may have asked for both already: early.js builds the same requests.)
  let firstPage = post('mlflow/runs/search', runsFirstSearch(expId, query));
  firstPage.catch(() => {}); // handled where it is awaited
  // ui-compare: what this user may do here; delete and restore need MANAGE (docs/auth.md).
  const permP = experimentPermission(expId);
  permP.catch(() => {});
  const exp = (await expP).experiment;
  if (!isCurrent(seq)) return;
  const view = query.get('view') || 'active';
  const filter = query.get('filter') || '';
  const order = query.get('order') || 'attributes.start_time DESC';
  let cols = query.get('cols') ? query.get('cols').split(',').filter(Boolean) : null;
  const viewType = { active: 'ACTIVE_ONLY', deleted: 'DELETED_ONLY', all: 'ALL' }[view] || 'ACTIVE_ONLY';

  const state = { rows: [], token: null, done: false, loading: false, total: null, selected: new Set(), active: 0, rendered: new Map() };
  const keys = { m: new Set(), p: new Set(), t: new Set() };

  const urlState = () => ({ filter, order: order === 'attributes.start_time DESC' ? '' : order, cols: cols ? cols.join(',') : '', view: view === 'active' ? '' : view });
  const path = '/exp/' + encodeURIComponent(expId);

  // ---- toolbar ----
  const filterInput = h('input', { type: 'search', id: 'filter', class: 'filter', value: filter, spellcheck: 'false', 'aria-label': 'filter runs',
    placeholder: "filter, e.g. metrics.loss < 0.3 and params.lr = '0.1' or tags.team = 'x'" });
  const viewSelect = h('select', { id: 'view', 'aria-label': 'which runs', onchange: () => navigate(path, Object.assign(urlState(), { view: viewSelect.value === 'active' ? '' : viewSelect.value })) },
    ...['active', 'deleted', 'all'].map((v) => h('option', { value: v, selected: v === view }, v)));
  const errorBox = h('div', { id: 'filter-error', class: 'error', role: 'alert', hidden: true });
  const countEl = h('span', { id: 'run-count', class: 'muted' }, '');
  const selEl = h('span', { id: 'sel-count', class: 'muted' }, '');
  const btn = (id, text, fn) => h('button', { type: 'button', id, disabled: true, onclick: fn }, text);
  const compareBtn = btn('compare', 'Compare', () => navigate('/compare', { runs: [...state.selected].join(',') }));
  const chartBtn = btn('chart', 'Chart', () => {
    const first = [...keys.m][0] || '';
    navigate('/chart', { runs: [...state.selected].join(','), key: first });
  });
  const deleteBtn = btn('delete', 'Delete', () => lifecycle('delete'));
  const restoreBtn = btn('restore', 'Restore', () => lifecycle('restore'));
  let perm = null; // ui-compare: null until known, then 'READ', 'EDIT', 'MANAGE'
  const permNote = h('span', { id: 'perm-note', class: 'muted small' }, '');
  const scatterLink = h('a', { id: 'scatter-link', class: 'button', href: link(path + '/scatter', { filter, view: view === 'active' ? '' : view }) }, 'Scatter');
  // The chooser's checkboxes are built when it is opened (and rebuilt while open as pages
  // bring new keys), not on the way to the first rows.
  const chooser = h('details', { class: 'chooser', id: 'columns', ontoggle: () => { if (chooser.open) renderChooser(); } }, h('summary', null, 'Columns'));
  const toolbar = h('div', { class: 'toolbar' },
    h('form', { class: 'filterform', onsubmit: (ev) => { ev.preventDefault(); navigate(path, Object.assign(urlState(), { filter: filterInput.value.trim() })); } },
      filterInput, h('button', { type: 'submit' }, 'Filter')),
    viewSelect, chooser);
  const actions = h('div', { class: 'toolbar' }, countEl, selEl, compareBtn, chartBtn, deleteBtn, restoreBtn, scatterLink, permNote);

  // ---- grid ----
  const head = h('div', { class: 'vhead', role: 'row' });
  const body = h('div', { class: 'vbody', role: 'rowgroup' });
  const scroller = h('div', { class: 'vscroll runs-table', id: 'runs', role: 'grid', tabindex: 0, 'aria-label': 'runs', 'aria-rowcount': -1 }, head, body);

  const title = h('h1', null, exp.name, ' ', h('span', { class: 'muted small' }, `experiment ${exp.experiment_id}`));
  // The page goes in once the first page has answered too (both were asked at once, so it is
  // in about when the experiment is), built meanwhile: the toolbar, the header and the first
  // rows then go into the page in one task and reach the screen in one frame. Put in apart, the
  // toolbar's frame came first and the rows' frame waited behind it; and the browser's form scan
  // (Chromium's autofill agent, run 100 ms after form controls are added, forcing a style and
  // layout of the whole page) fell between the rows and their frame.
  await firstPage.catch(() => null);
  if (!isCurrent(seq)) return;
  crumbs({ text: 'Experiments', href: '#/' }, { text: exp.name });
  clear(app).append(title, toolbar, errorBox, actions, scroller);

  // Sets the rows' width (style.css: .runs-table), the sum of the columns' widths.
  function applyTemplate() {
    const count = { sel: 1, name: 1, start: 0, attr: 0, value: 0 };
    for (const c of allCols()) count[widthClass(c)]++;
    const sum = Object.entries(count).filter(([, n]) => n).map(([k, n]) => `${n} * var(--w-${k})`).join(' + ');
    scroller.style.setProperty('--cols-width', `calc(${sum})`);
  }
  function allCols() {
    return ['a:status', 'a:start', 'a:duration', ...(cols || [])];
  }

  function renderHead() {
    clear(head);
    applyTemplate();
    const [okey, odir] = splitOrder(order);
    head.append(h('div', { class: 'cell pin0 w-sel', role: 'columnheader' }, ''));
    const headerCell = (c, label, pinClass) => {
      const ord = colOrder(c);
      const sorted = ord && ord === okey;
      const attrs = { class: 'cell w-' + (pinClass ? 'name ' + pinClass : widthClass(c)) + (ord ? ' sortable' : ''), role: 'columnheader', dataset: { col: c },
        'aria-sort': sorted ? (odir === 'ASC' ? 'ascending' : 'descending') : undefined, title: ord || label };
      if (!ord) return h('div', attrs, label);
      return h('div', attrs, h('button', { type: 'button', class: 'sort', onclick: () => {
        const dir = sorted && odir === 'DESC' ? 'ASC' : 'DESC';
        navigate(path, Object.assign(urlState(), { order: `${ord} ${dir}` }));
      } }, label, sorted ? (odir === 'ASC' ? ' ▲' : ' ▼') : ''));
    };
    head.append(headerCell('a:name', 'Name', 'pin1'));
    for (const c of allCols()) head.append(headerCell(c, (c[0] === 'm' ? '◆ ' : c[0] === 'p' ? '⚙ ' : c[0] === 't' ? '# ' : '') + colLabel(c)));
  }

  function renderChooser() {
    if (!chooser.open) return;
    while (chooser.childNodes.length > 1) chooser.removeChild(chooser.lastChild);
    const chosen = new Set(cols || []);
    const group = (kind, title) => {
      const ks = [...keys[kind]].sort();
      if (!ks.length) return null;
      return h('fieldset', null, h('legend', null, title), ...ks.map((k) => {
        const id = kind + ':' + k;
        return h('label', { class: 'check' }, h('input', { type: 'checkbox', checked: chosen.has(id), dataset: { col: id }, onchange: (ev) => {
          const next = new Set(cols || []);
          if (ev.target.checked) next.add(id); else next.delete(id);
          cols = [...next];
          history.replaceState(null, '', link(path, urlState()));
          renderHead();
          rerenderRows();
        } }), ' ', k);
      }));
    };
    chooser.append(h('div', { class: 'chooser-body' }, group('m', 'Metrics'), group('p', 'Params'), group('t', 'Tags')));
  }

  function updateCounts() {
    const n = state.rows.length;
    countEl.textContent = state.done ? `${n} run${n === 1 ? '' : 's'}`
      : state.total != null ? `${state.total} runs (${n} loaded)` : `${n}+ runs loaded`;
    const s = state.selected.size;
    selEl.textContent = s ? `${s} selected` : '';
    compareBtn.disabled = s < 2;
    chartBtn.disabled = s < 1 || !keys.m.size;
    // ui-compare: without MANAGE the buttons stay disabled and say why (no failing click).
    const manage = perm !== null && allows(perm, 'MANAGE');
    const why = perm !== null && !manage ? `needs MANAGE on this experiment (you have ${perm})` : null;
    deleteBtn.disabled = s < 1 || view === 'deleted' || !manage;
    restoreBtn.disabled = s < 1 || view === 'active' || !manage;
    for (const b of [deleteBtn, restoreBtn]) {
      if (why) b.title = why; else b.removeAttribute('title');
    }
    permNote.textContent = why ? `read-only here: deleting and restoring ${why}` : '';
    scroller.setAttribute('aria-rowcount', state.done ? String(n) : '-1');
  }

  function rowEl(i) {
    const run = state.rows[i];
    const el = h('div', { class: 'vrow' + (i === state.active ? ' active' : '') + (run && state.selected.has(run.id) ? ' selected' : ''), role: 'row', 'aria-rowindex': i + 1, dataset: { i } });
    el.style.top = i * ROW + 'px';
    if (!run) {
      el.append(h('div', { class: 'cell pin0 w-sel' }), h('div', { class: 'cell pin1 w-name muted' }, 'loading…'));
      return el;
    }
    const box = h('input', { type: 'checkbox', tabindex: -1, checked: state.selected.has(run.id), 'aria-label': 'select ' + run.name, onchange: () => toggle(i) });
    el.append(h('div', { class: 'cell pin0 w-sel', role: 'gridcell' }, box),
      // The first row's name is reported when painted (Element Timing, on the block that holds
      // the text; bench/bench_webui.mjs and afterFirstRowsPainted).
      h('div', { class: 'cell pin1 w-name name', role: 'gridcell', title: run.name, elementtiming: firstRender && i === 0 ? 'cairn-first-row' : undefined },
        h('a', { href: link('/run/' + encodeURIComponent(run.id)), tabindex: -1 }, run.name)));
    for (const c of allCols()) {
      const v = cellValue(run, c);
      el.append(h('div', { class: 'cell w-' + widthClass(c) + (c[0] === 'm' ? ' num' : ''), role: 'gridcell', title: v, dataset: { col: c } }, v));
    }
    return el;
  }

  // The first rows are placed without reading the layout (reading it would force a layout of
  // the page before they are in): the table is at the top, as tall as style.css's .vscroll
  // makes it, and only the rows it shows are built; the others follow after the first paint.
  let firstRender = true;
  function visibleRange() {
    if (firstRender) {
      const fontPx = 14; // style.css: body
      const height = Math.max(300, window.innerHeight - 13 * fontPx);
      return [0, Math.ceil(height / ROW)];
    }
    const top = Math.max(0, scroller.scrollTop - head.offsetHeight);
    const height = scroller.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / ROW) - OVERSCAN);
    const last = Math.floor((top + height) / ROW) + OVERSCAN;
    return [first, last];
  }

  function rowCountForHeight() {
    if (state.done) return state.rows.length;
    if (state.total != null) return Math.max(state.total, state.rows.length);
    return state.rows.length + (state.done ? 0 : Math.min(PAGE, 200));
  }

  let scheduled = false;
  function schedule() {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(() => { scheduled = false; renderRows(); });
  }

  function renderRows() {
    body.style.height = rowCountForHeight() * ROW + 'px';
    const [first, lastWanted] = visibleRange();
    const last = Math.min(lastWanted, rowCountForHeight() - 1);
    for (const [i, el] of state.rendered) {
      if (i < first || i > last || (el.dataset.placeholder && state.rows[i])) {
        el.remove();
        state.rendered.delete(i);
      }
    }
    for (let i = first; i <= last; i++) {
      if (state.rendered.has(i)) continue;
      const el = rowEl(i);
      if (!state.rows[i]) el.dataset.placeholder = '1';
      body.append(el);
      state.rendered.set(i, el);
    }
    if (!state.done && !state.loading && lastWanted >= state.rows.length - OVERSCAN) fetchPage();
  }

  function rerenderRows() {
    for (const el of state.rendered.values()) el.remove();
    state.rendered.clear();
    renderRows();
  }

  async function fetchPage() {
    state.loading = true;
    const first = state.rows.length === 0;
    try {
      let d;
      if (first && firstPage) {
        d = await firstPage;
        firstPage = null;
      } else {
        d = await post('mlflow/runs/search', { experiment_ids: [expId], filter, order_by: [order], run_view_type: viewType,
          max_results: first ? FIRST_PAGE : PAGE, page_token: state.token || undefined });
      }
      if (!isCurrent(seq)) return;
      const runs = (d.runs || []).map(flatten);
      for (const r of runs) {
        for (const k of r.m.keys()) keys.m.add(k);
        for (const k of r.p.keys()) keys.p.add(k);
        for (const k of r.t.keys()) if (!k.startsWith('mlflow.')) keys.t.add(k);
      }
      state.rows.push(...runs);
      state.token = d.next_page_token || null;
      state.done = !state.token;
      if (first) {
        if (!cols) {
          cols = [...[...keys.m].slice(0, 6).map((k) => 'm:' + k), ...[...keys.p].slice(0, 6).map((k) => 'p:' + k)];
          renderHead();
        }
        renderChooser();
      } else if (runs.length) {
        renderChooser();
      }
      state.loading = false;
      updateCounts();
      rerenderRows();
      if (first) {
        window.__cairnFirstRows = performance.now();
        document.body.dataset.firstRows = String(state.rows.length);
        // The overscan rows, the studies link and the count wait until the first rows are on
        // the screen: on a busy machine their work (a frame of rows, the server's count over
        // every run) would otherwise share the CPU with the rows' paint.
        firstRender = false;
        afterFirstRowsPainted(() => {
          if (!isCurrent(seq)) return;
          schedule();
          appendStudiesLink(title, expId, seq);
        });
        if (!runs.length) body.append(h('p', { class: 'muted empty' }, filter ? 'No run matches this filter.' : 'No runs here yet.'));
      }
    } catch (e) {
      state.loading = false;
      if (!isCurrent(seq)) return;
      if (e instanceof ApiError && e.status === 400) {
        state.done = true;
        clear(errorBox).append(h('div', null, e.message));
        const echo = markFilterError(filter, e.message);
        if (echo) errorBox.append(echo);
        errorBox.hidden = false;
        filterInput.setAttribute('aria-invalid', 'true');
        updateCounts();
        countEl.textContent = '';
        body.style.height = '0px';
        firstRender = false;
        window.__cairnFirstRows = performance.now();
      } else {
        throw e;
      }
    }
  }

  function toggle(i) {
    const run = state.rows[i];
    if (!run) return;
    if (state.selected.has(run.id)) state.selected.delete(run.id); else state.selected.add(run.id);
    const el = state.rendered.get(i);
    if (el) {
      el.classList.toggle('selected', state.selected.has(run.id));
      const box = el.querySelector('input[type=checkbox]');
      if (box) box.checked = state.selected.has(run.id);
    }
    updateCounts();
  }

  function setActive(i) {
    const n = state.rows.length;
    if (!n) return;
    i = Math.max(0, Math.min(n - 1, i));
    const old = state.rendered.get(state.active);
    if (old) old.classList.remove('active');
    state.active = i;
    const top = i * ROW, viewTop = scroller.scrollTop, viewH = scroller.clientHeight - head.offsetHeight;
    if (top < viewTop) scroller.scrollTop = top;
    else if (top + ROW > viewTop + viewH) scroller.scrollTop = top + ROW - viewH;
    renderRows();
    const el = state.rendered.get(i);
    if (el) el.classList.add('active');
    scroller.setAttribute('aria-activedescendant', '');
  }

  async function lifecycle(what) {
    const ids = [...state.selected];
    for (const id of ids) await post('mlflow/runs/' + what, { run_id: id });
    navigate(path, urlState(), true);
  }

  scroller.addEventListener('scroll', schedule, { passive: true });
  scroller.addEventListener('keydown', (ev) => {
    const page = Math.max(1, Math.floor(scroller.clientHeight / ROW) - 1);
    const moves = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page };
    if (ev.key in moves) { setActive(state.active + moves[ev.key]); ev.preventDefault(); }
    else if (ev.key === 'Home') { setActive(0); ev.preventDefault(); }
    else if (ev.key === 'End') { setActive(state.rows.length - 1); ev.preventDefault(); }
    else if (ev.key === 'Enter' && state.rows[state.active]) navigate('/run/' + encodeURIComponent(state.rows[state.active].id));
    else if (ev.key === ' ') { toggle(state.active); ev.preventDefault(); }
  });
  window.addEventListener('resize', schedule);

  renderHead();
  updateCounts();
  permP.then((p) => p, () => 'MANAGE').then((p) => { if (isCurrent(seq)) { perm = p; updateCounts(); } });
  await fetchPage();
  // A total for the scrollbar when the count is known (no filter, the active runs); asked
  // once the first rows are painted, which it would otherwise compete with.
  if (!filter && view === 'active' && !state.done && isCurrent(seq)) afterFirstRowsPainted(() => {
    if (!isCurrent(seq)) return;
    get('cairn/experiments/summary').then((d) => {
      const e = (d.experiments || []).find((x) => String(x.experiment_id) === String(expId));
      if (e && isCurrent(seq) && currentRoute().path === path) { state.total = activeRuns(e); updateCounts(); schedule(); }
    }).catch(() => {});
  });
}

// Calls fn once, when the first row's name has been painted (its Element Timing entry,
// elementtiming="cairn-first-row" in rowEl), or after a second: a browser without Element
// Timing, a hidden tab, a table with no row.
function afterFirstRowsPainted(fn) {
  const types = (typeof PerformanceObserver !== 'undefined' && PerformanceObserver.supportedEntryTypes) || [];
  if (!types.includes('element')) {
    setTimeout(fn, 0);
    return;
  }
  let done = false, po = null;
  const go = () => {
    if (done) return;
    done = true;
    if (po) po.disconnect();
    fn();
  };
  po = new PerformanceObserver((list) => { if (list.getEntries().some((e) => e.identifier === 'cairn-first-row')) go(); });
  po.observe({ type: 'element', buffered: true });
  setTimeout(go, 1000);
}

function splitOrder(o) {
  const m = /^(.*?)\s+(ASC|DESC)$/i.exec(o.trim());
  return m ? [m[1], m[2].toUpperCase()] : [o.trim(), 'ASC'];
}
