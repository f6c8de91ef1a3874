// SPDX-License-Identifier: MIT
// early.js - the requests a page opens with, shared by boot.js (which starts them the moment it
// arrives, before the UI's code has loaded and run) and by the pages that consume them through
// api.js, so both build the very same requests. Nothing here touches the DOM.

// "#/exp/1?filter=x" -> {path: '/exp/1', query: URLSearchParams}
export function parseHash(hash) {
  const s = String(hash || '').replace(/^#/, '') || '/';
  const q = s.indexOf('?');
  return { path: q < 0 ? s : s.slice(0, q), query: new URLSearchParams(q < 0 ? '' : s.slice(q + 1)) };
}

export const FIRST_PAGE = 50; // the runs table's first page: small (a screenful and more), so the first rows come fast

// The runs table's first search, from the page's URL state.
export function runsFirstSearch(expId, query) {
  const viewType = { active: 'ACTIVE_ONLY', deleted: 'DELETED_ONLY', all: 'ALL' }[query.get('view') || 'active'] || 'ACTIVE_ONLY';
  return { experiment_ids: [expId], filter: query.get('filter') || '', order_by: [query.get('order') || 'attributes.start_time DESC'],
    run_view_type: viewType, max_results: FIRST_PAGE };
}

// [method, route, params] of the requests the page at path opens with.
export function openingRequests(path, query) {
  const m = /^\/exp\/([^/]+)$/.exec(path);
  if (!m) return [];
  const expId = decodeURIComponent(m[1]);
  return [['GET', 'mlflow/experiments/get', { experiment_id: expId }], ['POST', 'mlflow/runs/search', runsFirstSearch(expId, query)]];
}

export function requestKey(method, route, params) {
  return `${method} ${route} ${JSON.stringify(params || {})}`;
}

// The URL and fetch options of a REST call (auth: the Authorization header's value, or null).
export function buildRequest(method, route, params, auth) {
  let url = '/ajax-api/2.0/' + route;
  const opts = { method, headers: {}, credentials: 'omit' };
  if (method === 'GET') {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params || {})) {
      if (v === undefined || v === null) continue;
      if (Array.isArray(v)) v.forEach((x) => q.append(k, x));
      else q.append(k, v);
    }
    const s = q.toString();
    if (s) url += '?' + s;
  } else {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(params || {});
  }
  if (auth) opts.headers.Authorization = auth;
  return { url, opts };
}

// Starts the opening requests of the page in the URL, once per document: boot.js calls it the
// moment it arrives and main.js before its first render, whichever runs first; api.js hands the
// responses to the page that asks for the same requests during the first render.
export function startEarly() {
  if (globalThis.__cairnEarly !== undefined) return;
  const early = {};
  globalThis.__cairnEarly = early;
  const auth = sessionStorage.getItem('cairn.authorization');
  const { path, query } = parseHash(location.hash);
  for (const [method, route, params] of openingRequests(path, query)) {
    const { url, opts } = buildRequest(method, route, params, auth);
    const p = fetch(url, opts);
    p.catch(() => {}); // the page's own request reports failures
    early[requestKey(method, route, params)] = p;
  }
}
