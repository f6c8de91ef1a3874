// SPDX-License-Identifier: MIT
// api.js - the REST calls. Credentials (a Basic header from the login form, or a Bearer
// token) live in sessionStorage; a 401 raises AuthError, which the router turns into the
// login form. credentials:'omit' keeps the browser's own password dialog away.
import { buildRequest, requestKey } from './early.js';

const KEY = 'cairn.authorization'; // also read by early.js

export class AuthError extends Error {}
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function authHeader() {
  return sessionStorage.getItem(KEY);
}
export function setAuth(value) {
  if (value) sessionStorage.setItem(KEY, value);
  else sessionStorage.removeItem(KEY);
}
export function basicAuth(user, password) {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return 'Basic ' + btoa(bin);
}

export async function raw(path, opts = {}) {
  const headers = Object.assign({}, opts.headers);
  const a = authHeader();
  if (a) headers.Authorization = a;
  const resp = await fetch(path, Object.assign({}, opts, { headers, credentials: 'omit' }));
  if (resp.status === 401) throw new AuthError('sign in to see this');
  return resp;
}

// A response boot.js asked for before the UI ran (the same request), taken once.
function takeEarly(method, route, params) {
  const early = globalThis.__cairnEarly;
  if (!early) return null;
  const k = requestKey(method, route, params);
  const p = early[k];
  delete early[k];
  return p || null;
}
// After the first page has rendered, requests are the page's own again.
export function endEarly() {
  globalThis.__cairnEarly = null;
}

async function call(method, route, params) {
  const early = takeEarly(method, route, params);
  let resp;
  if (early) {
    resp = await early;
    if (resp.status === 401) throw new AuthError('sign in to see this');
  } else {
    const { url, opts } = buildRequest(method, route, params, null);
    resp = await raw(url, opts);
  }
  const text = await resp.text();
  let doc = null;
  try {
    doc = text ? JSON.parse(text) : {};
  } catch {
    doc = null;
  }
  if (!resp.ok) {
    throw new ApiError(resp.status, doc && doc.error_code, (doc && doc.message) || `${resp.status} ${resp.statusText}`);
  }
  if (doc === null) throw new ApiError(resp.status, 'BAD_RESPONSE', 'the server answered something that is not JSON');
  return doc;
}

export const get = (route, params) => call('GET', route, params);
export const post = (route, params) => call('POST', route, params);

// A metric's points, downsampled by the server when the cairn route exists (keeping each
// bucket's extremes), else the whole history.
let noDownsample = false;
export async function metricPoints(runId, key, maxPoints, x) {
  if (!noDownsample) {
    try {
      const d = await get('cairn/metrics/downsample', { run_id: runId, metric_key: key, max_points: maxPoints, x });
      return { points: d.points || [], total: d.total, downsampled: !!d.downsampled };
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 404 || e.code !== 'ENDPOINT_NOT_FOUND') throw e;
      noDownsample = true;
    }
  }
  const points = [];
  let token;
  do {
    const d = await get('mlflow/metrics/get-history', { run_id: runId, metric_key: key, max_results: 100000, page_token: token });
    for (const m of d.metrics || []) points.push(m);
    token = d.next_page_token;
  } while (token);
  return { points, total: points.length, downsampled: false };
}

// The chart's series, kept for the session ("run|key|x|max" -> a promise), so that going back
// to a chart draws at once; a failed request is forgotten.
const seriesCache = new Map();
export function seriesPoints(runId, key, maxPoints, x) {
  const ck = `${runId}|${key}|${x}|${maxPoints}`;
  if (!seriesCache.has(ck)) {
    const p = metricPoints(runId, key, maxPoints, x);
    seriesCache.set(ck, p);
    p.catch(() => seriesCache.delete(ck));
  }
  return seriesCache.get(ck);
}

// How many points the chart asks for: two per pixel of its width, at most 10,000.
export function chartMaxPoints(app) {
  const width0 = Math.max(400, (app.clientWidth || 900) - 32);
  return Math.min(10000, Math.round(width0 * 2));
}

// The chart page's requests, started by the router before the chart's code has loaded (a
// lazy chunk), so the two arrive together: the runs (taken once by the page) and, with the
// metric in the URL, its points.
const runPrefetch = new Map();
export function prefetchChart(app, query) {
  const runIds = (query.get('runs') || '').split(',').filter(Boolean).slice(0, 20);
  const x = query.get('x') === 'time' ? 'time' : 'step';
  const key = query.get('key');
  for (const id of runIds) {
    const p = get('mlflow/runs/get', { run_id: id });
    p.catch(() => {});
    runPrefetch.set(id, p);
    if (key) seriesPoints(id, key, chartMaxPoints(app), x).catch(() => {});
  }
}
export function takeRun(id) {
  const p = runPrefetch.get(id);
  runPrefetch.delete(id);
  return p || get('mlflow/runs/get', { run_id: id });
}

export function artifactUrl(rootUri, path) {
  // Runs under the server's root answer through the mlflow-artifacts proxy.
  if (!rootUri || !rootUri.startsWith('mlflow-artifacts:/')) return null;
  const base = rootUri.slice('mlflow-artifacts:/'.length).replace(/^\/+/, '');
  const enc = (s) => s.split('/').map(encodeURIComponent).join('/');
  return '/ajax-api/2.0/mlflow-artifacts/artifacts/' + enc(base) + '/' + enc(path);
}
