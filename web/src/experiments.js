// SPDX-License-Identifier: MIT
// experiments.js - the experiments list: search by name, run counts and last activity.
import { h, clear, fmtTime } from './dom.js';
import { get, post, ApiError } from './api.js';
import { crumbs, navigate, link, isCurrent } from './main.js';

async function summary() {
  try {
    const d = await get('cairn/experiments/summary');
    const m = new Map();
    for (const e of d.experiments || []) m.set(String(e.experiment_id), e);
    return m;
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null; // the route is not there
    throw e;
  }
}

// The summary's count of active runs ("active_runs"; "runs" in the first draft of the route).
export const activeRuns = (s) => (s.active_runs !== undefined ? s.active_runs : s.runs);

export async function experimentsPage(app, { query, seq }) {
  crumbs({ text: 'Experiments' });
  const q = query.get('q') || '';
  const params = { max_results: 1000, view_type: query.get('view') === 'deleted' ? 'DELETED_ONLY' : 'ACTIVE_ONLY' };
  if (q) params.filter = `name LIKE '%${q.replace(/'/g, "\\'")}%'`;
  const experiments = [];
  let token;
  do {
    const d = await get('mlflow/experiments/search', Object.assign({ page_token: token }, params));
    experiments.push(...(d.experiments || []));
    token = d.next_page_token;
  } while (token && experiments.length < 10000);
  const sums = await summary();
  if (!isCurrent(seq)) return;

  const search = h('input', { type: 'search', id: 'exp-search', placeholder: 'search experiments by name', value: q, 'aria-label': 'search experiments' });
  const form = h('form', { class: 'toolbar', onsubmit: (ev) => { ev.preventDefault(); navigate('/', { q: search.value }); } }, search, h('button', { type: 'submit' }, 'Search'),
    h('a', { href: link('/studies'), id: 'studies-link' }, 'Studies'));
  const tbody = h('tbody');
  const table = h('table', { class: 'grid', id: 'experiments', dataset: { q } }, // the search it shows
    h('thead', null, h('tr', null, h('th', null, 'Name'), h('th', null, 'ID'), h('th', { class: 'num' }, 'Runs'), h('th', null, 'Last activity'), h('th', null, 'Created'))),
    tbody);
  for (const e of experiments) {
    const s = sums && sums.get(String(e.experiment_id));
    const runsCell = h('td', { class: 'num', dataset: { exp: e.experiment_id } }, s ? String(activeRuns(s)) : '…');
    const lastCell = h('td', null, s ? fmtTime(s.last_activity) : '');
    const row = h('tr', { tabindex: 0, class: 'rowlink', onclick: () => navigate('/exp/' + encodeURIComponent(e.experiment_id)),
      onkeydown: (ev) => { if (ev.key === 'Enter') navigate('/exp/' + encodeURIComponent(e.experiment_id)); } },
      h('td', null, h('a', { href: link('/exp/' + encodeURIComponent(e.experiment_id)) }, e.name)),
      h('td', { class: 'mono' }, e.experiment_id), runsCell, lastCell, h('td', null, fmtTime(e.creation_time)));
    tbody.append(row);
    if (!sums) fallbackCount(e.experiment_id, runsCell, lastCell);
  }
  const nav = h('p', { class: 'pagenav' }, h('a', { href: '#/models', id: 'nav-models' }, 'Registered models'));
  clear(app).append(h('h1', null, 'Experiments'), nav, form,
    experiments.length ? table : h('p', { class: 'muted' }, q ? 'No experiment matches.' : 'No experiments yet.'));
}

// Without the summary route: one runs/search page gives the latest run and a capped count.
async function fallbackCount(id, runsCell, lastCell) {
  try {
    const d = await post('mlflow/runs/search', { experiment_ids: [id], max_results: 1000, order_by: ['attributes.start_time DESC'] });
    const runs = d.runs || [];
    runsCell.textContent = runs.length + (d.next_page_token ? '+' : '');
    if (runs.length) lastCell.textContent = fmtTime(runs[0].info.end_time || runs[0].info.start_time);
  } catch {
    runsCell.textContent = '?';
  }
}
