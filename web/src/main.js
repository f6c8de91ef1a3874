// SPDX-License-Identifier: MIT
// main.js - the UI's entry: hash routing (every view's state is in the URL, so a link
// reproduces it), the page frame, and the login form shown when the API answers 401.
import './style.css';
import 'uplot/dist/uPlot.min.css'; // here, not in chart.js: a lazy chunk's CSS would not load
import { h, clear } from './dom.js';
import { AuthError, ApiError, setAuth, basicAuth, authHeader, prefetchChart, endEarly } from './api.js';
import { parseHash, startEarly } from './early.js';
import { experimentsPage } from './experiments.js';
import { runsPage } from './runs.js';
// Every page but the two a visit starts on loads when first shown (esbuild splits them into
// chunks): uPlot, markdown-it and the plots stay out of the entry, so the first page's
// requests start sooner.
const lazy = (load, name) => (app, ctx) => load().then((m) => m[name](app, ctx));
const run = () => import('./run.js');
const chart = () => import('./chart.js');
const compare = () => import('./compare.js');
const scatter = () => import('./scatter.js');
const studies = () => import('./studies.js');
const registry = () => import('./registry.js');
const monitoring = () => import('./monitoring.js');

const routes = [
  [/^\/$/, experimentsPage],
  [/^\/exp\/([^/]+)$/, runsPage],
  [/^\/run\/([^/]+)$/, lazy(run, 'runPage')],
  [/^\/chart$/, (app, ctx) => { prefetchChart(app, ctx.query); return lazy(chart, 'chartPage')(app, ctx); }],
  [/^\/compare$/, lazy(compare, 'comparePage')],
  [/^\/exp\/([^/]+)\/scatter$/, lazy(scatter, 'scatterPage')], // ui-compare
  [/^\/studies$/, lazy(studies, 'studiesPage')],
  [/^\/study\/([^/]+)$/, lazy(studies, 'studyPage')],
  [/^\/models$/, lazy(registry, 'modelsPage')],
  [/^\/model\/([^/]+)$/, lazy(registry, 'modelPage')],
  [/^\/model\/([^/]+)\/([^/]+)$/, lazy(registry, 'versionPage')],
  [/^\/monitoring\/([^/]+)\/([^/]+)$/, lazy(monitoring, 'monitoringPage')],
];

// "#/exp/1?filter=x" -> {path: '/exp/1', query: URLSearchParams}
export function currentRoute() {
  return parseHash(location.hash);
}

export function link(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return '#' + path + (s ? '?' + s : '');
}

export function navigate(path, params, replace) {
  const target = link(path, params);
  if (replace) {
    history.replaceState(null, '', target);
    render();
  } else {
    location.hash = target;
  }
}

export function crumbs(...items) {
  const nav = clear(document.getElementById('crumbs'));
  items.forEach((it, i) => {
    if (i) nav.append(' / ');
    nav.append(it.href ? h('a', { href: it.href }, it.text) : h('span', null, it.text));
  });
}

let renderSeq = 0;
export function isCurrent(seq) {
  return seq === renderSeq;
}

// document.body.dataset.rendered names the hash whose page is on screen (its page function
// returned or its error is shown): a page's old content is not mistaken for the new one's.
export async function render() {
  const seq = ++renderSeq;
  const hash = location.hash;
  try {
    await renderRoute(seq);
  } finally {
    if (isCurrent(seq)) document.body.dataset.rendered = hash;
  }
}

async function renderRoute(seq) {
  const app = document.getElementById('app');
  const { path, query } = currentRoute();
  const who = clear(document.getElementById('who'));
  if (authHeader())
    who.append(h('button', { type: 'button', class: 'link', onclick: () => { setAuth(null); render(); } }, 'sign out'));
  for (const [re, page] of routes) {
    const m = re.exec(path);
    if (!m) continue;
    try {
      await page(app, { params: m.slice(1).map(decodeURIComponent), query, seq });
    } catch (e) {
      if (!isCurrent(seq)) return;
      if (e instanceof AuthError) loginForm(app);
      else showError(app, e);
    }
    return;
  }
  crumbs({ text: 'not found' });
  clear(app).append(h('p', { class: 'error' }, 'No page here. '), h('a', { href: '#/' }, 'Experiments'));
}

export function showError(app, e) {
  clear(app).append(
    h('div', { class: 'error', role: 'alert' }, e instanceof ApiError ? `${e.code || e.status}: ${e.message}` : String(e && e.message ? e.message : e)),
  );
}

function loginForm(app) {
  crumbs({ text: 'sign in' });
  const user = h('input', { id: 'login-user', autocomplete: 'username', placeholder: 'user' });
  const pass = h('input', { id: 'login-password', type: 'password', autocomplete: 'current-password', placeholder: 'password' });
  const token = h('input', { id: 'login-token', type: 'password', autocomplete: 'off', placeholder: 'or a token (cairn auth token create USER)' });
  const form = h(
    'form',
    {
      class: 'login',
      onsubmit: (ev) => {
        ev.preventDefault();
        if (token.value) setAuth('Bearer ' + token.value.trim());
        else setAuth(basicAuth(user.value, pass.value));
        render();
      },
    },
    h('h1', null, 'Sign in'),
    h('p', { class: 'muted' }, 'This server asks for credentials. They are kept for this tab only.'),
    h('label', null, 'User ', user),
    h('label', null, 'Password ', pass),
    h('label', null, 'Token ', token),
    h('button', { type: 'submit' }, 'Sign in'),
  );
  if (authHeader()) form.append(h('p', { class: 'error', role: 'alert' }, 'Those credentials were refused.'));
  clear(app).append(form);
  user.focus();
}

window.addEventListener('hashchange', render);
startEarly(); // unless boot.js ran first
render().finally(endEarly); // the early requests serve the first page only
