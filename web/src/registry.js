// SPDX-License-Identifier: MIT
// registry.js - the model registry: registered models (#/models), a model's versions and the
// promotion history of its aliases (#/model/NAME), one version's lineage and model card
// (#/model/NAME/VERSION). The card's Markdown is parsed by markdown-it (raw HTML off, links
// checked) and its tokens are turned into DOM nodes here, one by one: no HTML string is ever
// parsed, so a card cannot carry markup the parser did not make.
import MarkdownIt from 'markdown-it';
import { h, clear, fmtTime } from './dom.js';
import { get, raw, ApiError, artifactUrl } from './api.js';
import { crumbs, navigate, link, isCurrent } from './main.js';

const enc = encodeURIComponent;
export const modelHref = (name) => link('/model/' + enc(name));
export const versionHref = (name, v) => link('/model/' + enc(name) + '/' + enc(String(v)));
export const monitoringHref = (name, v) => link('/monitoring/' + enc(name) + '/' + enc(String(v)));

// ---- #/models ----

export async function modelsPage(app, { query, seq }) {
  crumbs({ text: 'Experiments', href: '#/' }, { text: 'Models' });
  const q = query.get('q') || '';
  const params = { max_results: 1000, order_by: 'name ASC' };
  if (q) params.filter = `name LIKE '%${q.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}%'`;
  const models = [];
  let token;
  do {
    const d = await get('mlflow/registered-models/search', Object.assign({ page_token: token }, params));
    models.push(...(d.registered_models || []));
    token = d.next_page_token;
  } while (token && models.length < 10000);
  if (!isCurrent(seq)) return;

  const search = h('input', { type: 'search', id: 'model-search', placeholder: 'search models by name', value: q, 'aria-label': 'search models' });
  const form = h('form', { class: 'toolbar', onsubmit: (ev) => { ev.preventDefault(); navigate('/models', { q: search.value }); } },
    search, h('button', { type: 'submit' }, 'Search'));
  const tbody = h('tbody');
  for (const m of models) {
    const latest = (m.latest_versions || []).slice().sort((a, b) => Number(b.version) - Number(a.version));
    const aliases = (m.aliases || []).slice().sort((a, b) => a.alias.localeCompare(b.alias)).map((a) => `${a.alias} → v${a.version}`).join(', ');
    tbody.append(h('tr', { class: 'rowlink', tabindex: 0, onclick: (ev) => { if (ev.target.tagName !== 'A') navigate('/model/' + enc(m.name)); },
      onkeydown: (ev) => { if (ev.key === 'Enter') navigate('/model/' + enc(m.name)); } },
    h('td', { class: 'name' }, h('a', { href: modelHref(m.name) }, m.name)),
    h('td', { class: 'latest' }, latest.map((v, i) => [i ? ', ' : '', h('a', { href: versionHref(m.name, v.version) }, 'v' + v.version),
      v.current_stage && v.current_stage !== 'None' ? ` (${v.current_stage})` : ''])),
    h('td', { class: 'aliases' }, aliases),
    h('td', { class: 'desc' }, m.description || ''),
    h('td', null, fmtTime(m.last_updated_timestamp))));
  }
  const table = h('table', { class: 'grid', id: 'models' },
    h('thead', null, h('tr', null, h('th', null, 'Name'), h('th', null, 'Latest versions'), h('th', null, 'Aliases'), h('th', null, 'Description'), h('th', null, 'Last update'))),
    tbody);
  clear(app).append(h('h1', null, 'Registered models'), form,
    models.length ? table : h('p', { class: 'muted', id: 'models-empty' }, q ? 'No model matches.' : 'No registered models yet: cairn model register --name NAME --run RUN'));
}

// ---- #/model/NAME ----

async function allVersions(name) {
  const out = [];
  let token;
  do {
    const d = await get('mlflow/model-versions/search', { filter: `name='${name.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`, max_results: 10000, page_token: token });
    out.push(...(d.model_versions || []));
    token = d.next_page_token;
  } while (token && out.length < 200000);
  return out.sort((a, b) => Number(b.version) - Number(a.version));
}

async function allEvents(name) {
  const out = [];
  let token;
  do {
    const d = await get('cairn/registry/history', { name, max_results: 1000, page_token: token });
    out.push(...(d.events || []));
    token = d.next_page_token;
  } while (token && out.length < 100000);
  return out;
}

const vtext = (v) => (v === undefined || v === null ? '—' : 'v' + v);

// What an event moved: "v1 → v2" for an alias, "None → Production" for a stage.
export function eventMove(e) {
  if (e.kind === 'stage') return `v${e.version}: ${e.from_stage} → ${e.to_stage}`;
  return `${vtext(e.from_version)} → ${vtext(e.to_version)}`;
}

export async function modelPage(app, { params, seq }) {
  const [name] = params;
  crumbs({ text: 'Experiments', href: '#/' }, { text: 'Models', href: '#/models' }, { text: name });
  const [model, versions, events] = await Promise.all([
    get('mlflow/registered-models/get', { name }).then((d) => d.registered_model),
    allVersions(name),
    allEvents(name),
  ]);
  if (!isCurrent(seq)) return;

  const vbody = h('tbody');
  for (const v of versions) {
    vbody.append(h('tr', { dataset: { version: v.version } },
      h('td', { class: 'num' }, h('a', { href: versionHref(name, v.version) }, 'v' + v.version)),
      h('td', { class: 'semver mono' }, v.semver || ''),
      h('td', { class: 'aliases' }, (v.aliases || []).map((a, i) => [i ? ' ' : '', h('span', { class: 'badge' }, a)])),
      h('td', { class: 'stage' }, v.current_stage || ''),
      h('td', { class: 'mono' }, v.run_id ? h('a', { href: link('/run/' + enc(v.run_id)) }, v.run_id.slice(0, 8)) : ''),
      h('td', null, fmtTime(v.creation_timestamp)),
      h('td', { class: 'mono source' }, v.source || ''),
      h('td', null, h('a', { href: monitoringHref(name, v.version), class: 'monitor-link' }, 'drift'))));
  }
  const versionsTable = h('table', { class: 'grid', id: 'versions' },
    h('thead', null, h('tr', null, ...['Version', 'Semver', 'Aliases', 'Stage', 'Run', 'Created', 'Source', 'Monitoring'].map((t) => h('th', null, t)))),
    vbody);

  // Promotion history: every alias and stage move, newest first; one alias with the chooser.
  const aliasNames = [...new Set(events.map((e) => e.alias).filter(Boolean))].sort();
  const hbody = h('tbody');
  const fill = (alias) => {
    clear(hbody);
    for (const e of events) {
      if (alias && e.alias !== alias) continue;
      hbody.append(h('tr', { class: 'event-' + e.kind, dataset: { seq: e.seq } },
        h('td', null, fmtTime(e.timestamp)),
        h('td', { class: 'kind' }, e.kind === 'rollback' ? h('span', { class: 'badge warn' }, 'rollback') : e.kind),
        h('td', { class: 'alias' }, e.alias || 'stage'),
        h('td', { class: 'move mono' }, eventMove(e)),
        h('td', { class: 'user' }, e.user || ''),
        h('td', { class: 'reason' }, e.reason || '')));
    }
  };
  const chooser = h('select', { id: 'history-alias', 'aria-label': 'alias', onchange: () => fill(chooser.value) },
    h('option', { value: '' }, 'every alias and stage'), ...aliasNames.map((a) => h('option', { value: a }, a)));
  fill('');
  const historyTable = h('table', { class: 'grid', id: 'history' },
    h('thead', null, h('tr', null, ...['When', 'Event', 'Alias', 'From → to', 'User', 'Reason'].map((t) => h('th', null, t)))),
    hbody);

  const aliases = (model.aliases || []).map((a, i) => [i ? ', ' : '', h('span', { class: 'badge' }, a.alias), ' → ', h('a', { href: versionHref(name, a.version) }, 'v' + a.version)]);
  // Element.append would print null and stringify arrays: h() skips and flattens them.
  clear(app).append(h('div', null,
    h('h1', null, name),
    model.description ? h('p', { class: 'desc' }, model.description) : null,
    h('table', { class: 'kv' }, h('tbody', null,
      h('tr', null, h('th', null, 'Aliases'), h('td', { id: 'model-aliases' }, aliases.length ? aliases : '—')),
      h('tr', null, h('th', null, 'Created'), h('td', null, fmtTime(model.creation_timestamp))),
      h('tr', null, h('th', null, 'Last update'), h('td', null, fmtTime(model.last_updated_timestamp))))),
    h('h2', null, `Versions (${versions.length})`),
    versions.length ? versionsTable : h('p', { class: 'muted' }, 'No versions.'),
    h('h2', null, 'Promotion history'),
    events.length ? [h('div', { class: 'toolbar' }, h('label', null, 'Show ', chooser)), historyTable]
      : h('p', { class: 'muted', id: 'history-empty' }, 'No alias or stage has moved yet: cairn model alias NAME ALIAS VERSION'),
  ));
}

// ---- #/model/NAME/VERSION ----

export async function versionPage(app, { params, seq }) {
  const [name, version] = params;
  crumbs({ text: 'Experiments', href: '#/' }, { text: 'Models', href: '#/models' }, { text: name, href: modelHref(name) }, { text: 'v' + version });
  const [lineage, full, card] = await Promise.all([
    get('cairn/model-versions/lineage', { name, version }),
    get('mlflow/model-versions/get', { name, version }).then((d) => d.model_version || {}),
    get('cairn/model-versions/card', { name, version }).catch((e) => {
      if (e instanceof ApiError && e.status === 404) return { missing: e.message };
      throw e;
    }),
  ]);
  if (!isCurrent(seq)) return;
  const mv = lineage.model_version || {};
  const run = lineage.run;
  const row = (k, v) => h('tr', null, h('th', null, k), h('td', null, v));
  const facts = h('table', { class: 'kv', id: 'version-facts' }, h('tbody', null,
    row('Semver', mv.semver || '—'),
    row('Stage', mv.stage || ''),
    row('Aliases', (mv.aliases || []).length ? (mv.aliases || []).map((a, i) => [i ? ' ' : '', h('span', { class: 'badge' }, a)]) : '—'),
    row('Source', h('span', { class: 'mono' }, mv.source || '')),
    row('Description', full.description || '—'),
    row('Registered by', mv.user_id || ''),
    row('Created', fmtTime(mv.creation_timestamp)),
    row('Monitoring', h('a', { href: monitoringHref(name, version), id: 'monitoring-link' }, 'drift over time'))));

  // Tags, except the card's bookkeeping (cairn.model_card*, shown as the card below).
  const tags = (full.tags || []).filter((t) => !t.key.startsWith('cairn.model_card'));
  if (tags.length) facts.tBodies[0].append(row('Tags', h('table', { class: 'kv', id: 'version-tags' }, h('tbody', null,
    tags.map((t) => h('tr', null, h('th', null, t.key), h('td', { class: 'mono' }, t.value)))))));
  let lineageBox;
  if (run) {
    lineageBox = h('table', { class: 'kv', id: 'lineage' }, h('tbody', null,
      row('Run', h('a', { href: link('/run/' + enc(run.run_id)) }, run.run_name || run.run_id)),
      row('Run ID', h('span', { class: 'mono' }, run.run_id)),
      row('Experiment', h('a', { href: link('/exp/' + enc(run.experiment_id)) }, run.experiment_id)),
      row('Status', run.status + (run.lifecycle_stage === 'deleted' ? ' (deleted)' : '')),
      row('Started', fmtTime(run.start_time))));
  } else {
    lineageBox = h('p', { class: 'muted', id: 'lineage' }, lineage.run_hidden ? 'The run is in an experiment you may not read.' : 'This version was not registered from a run.');
  }
  const ds = lineage.datasets || [];
  const dsTable = h('table', { class: 'grid', id: 'datasets' },
    h('thead', null, h('tr', null, ...['Dataset', 'Digest', 'Context', 'Source'].map((t) => h('th', null, t)))),
    h('tbody', null, ds.map((d) => h('tr', null, h('td', null, d.name), h('td', { class: 'mono digest' }, d.digest),
      h('td', null, d.context || ''), h('td', { class: 'mono' }, d.source || '')))));

  let cardBox;
  if (card.missing) {
    cardBox = h('p', { class: 'muted', id: 'card-missing' }, card.missing);
  } else {
    cardBox = h('article', { class: 'md', id: 'card' }, renderMarkdown(card.markdown));
    if (card.truncated) cardBox.append(h('p', { class: 'muted' }, '(the card is longer than 1 MiB; the rest is not shown)'));
    if (card.sha256_ok === false)
      cardBox.prepend(h('p', { class: 'error', id: 'card-changed', role: 'alert' },
        'This card\u2019s file no longer matches the SHA-256 recorded when it was written: it was changed since. Write it again with cairn model card.'));
    if (card.run_id && card.path) cardPictures(cardBox, card, seq);
  }
  clear(app).append(
    h('h1', null, `${name} v${version}`),
    h('div', { class: 'cols2' }, h('section', null, h('h2', null, 'Version'), facts), h('section', null, h('h2', null, 'Lineage'), lineageBox)),
    h('h2', null, 'Datasets'),
    ds.length ? dsTable : h('p', { class: 'muted' }, run ? 'The run logged no dataset inputs.' : 'No run, no datasets.'),
    h('h2', null, 'Model card', card.from ? h('span', { class: 'muted small' }, ` (from the ${card.from === 'tag' ? 'version tag' : 'run\u2019s artifact'})`) : null),
    cardBox,
  );
}

// The card's pictures given by a path relative to the card (e.g. ![ROC](roc.svg) beside
// model_card.md) are the run's own artifacts: read through the artifact proxy (with the
// page's credentials) and shown from a blob: URL typed by their extension. Any other picture
// (a URL, an absolute path, one reaching outside with ..) stays as its alt text.
const CARD_IMAGE_TYPES = { png: 'image/png', svg: 'image/svg+xml', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp' };
export function cardImagePath(cardPath, src) {
  const s = String(src || '');
  if (!s || /^[a-z][a-z0-9+.-]*:/i.test(s) || s.startsWith('/') || s.startsWith('\\') || /[?#\\]/.test(s)) return null;
  const m = /\.([A-Za-z0-9]+)$/.exec(s);
  if (!m || !CARD_IMAGE_TYPES[m[1].toLowerCase()]) return null;
  const parts = String(cardPath || '').split('/').slice(0, -1);
  for (const seg of s.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') return null;
    parts.push(seg);
  }
  return parts.join('/');
}
async function cardPictures(box, card, seq) {
  const spans = [...box.querySelectorAll('.md-img[data-src]')];
  const wanted = spans.map((el) => [el, cardImagePath(card.path, el.dataset.src)]).filter(([, p]) => p);
  if (!wanted.length) return;
  let rootUri;
  try {
    rootUri = (await get('mlflow/artifacts/list', { run_id: card.run_id })).root_uri;
  } catch {
    return; // no artifacts to read: the alt texts stay
  }
  for (const [el, path] of wanted) {
    const url = artifactUrl(rootUri, path);
    if (!url) continue;
    try {
      const resp = await raw(url);
      if (!resp.ok || !isCurrent(seq)) continue;
      const type = CARD_IMAGE_TYPES[/\.([A-Za-z0-9]+)$/.exec(path)[1].toLowerCase()];
      const blob = new Blob([await resp.arrayBuffer()], { type });
      el.replaceWith(h('img', { class: 'md-pic', alt: el.dataset.alt || path, title: path, src: URL.createObjectURL(blob) }));
    } catch {
      // unreadable: the alt text stays
    }
  }
}

// ---- Markdown, sanitised ----

// Only http:, https: and mailto: URLs, and relative or #fragment ones, become links; any other
// scheme (javascript:, data:, vbscript:, file:, ...) leaves the Markdown as the text it was.
export function safeUrl(url) {
  const s = String(url || '').replace(/[\u0000-\u0020\u007f-\u009f]/g, '');
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(s);
  if (scheme && !/^(https?|mailto)$/i.test(scheme[1])) return null;
  return s;
}

let md;
function parser() {
  if (!md) {
    md = new MarkdownIt({ html: false, linkify: false, typographer: false });
    md.validateLink = (url) => safeUrl(url) !== null;
  }
  return md;
}

const BLOCK_TAGS = new Set(['p', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'ul', 'ol', 'li', 'blockquote', 'em', 'strong', 's', 'a',
  'table', 'thead', 'tbody', 'tr', 'th', 'td']);

// A paragraph that is only an HTML comment (cairn model card starts with one) is left out;
// raw HTML being off, it would otherwise show as text.
function dropComments(tokens) {
  const out = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i], inl = tokens[i + 1], close = tokens[i + 2];
    const c = inl && inl.type === 'inline' ? inl.content.trim() : '';
    if (t.type === 'paragraph_open' && close && close.type === 'paragraph_close' &&
        c.startsWith('<!--') && c.indexOf('-->') === c.length - 3) {
      i += 2;
      continue;
    }
    out.push(t);
  }
  return out;
}

// Markdown -> a DocumentFragment built from markdown-it's tokens with h() and text nodes.
export function renderMarkdown(text) {
  const root = document.createDocumentFragment();
  const tokens = parser().parse(String(text || ''), {});
  const stack = [root];
  const top = () => stack[stack.length - 1];
  const walk = (list) => {
    for (const t of list) {
      if (t.nesting === 1) {
        const tag = BLOCK_TAGS.has(t.tag) ? t.tag : 'span';
        const attrs = {};
        if (tag === 'a') {
          const href = safeUrl(t.attrGet('href'));
          if (href) Object.assign(attrs, { href, rel: 'noopener noreferrer nofollow', target: '_blank' });
          if (t.attrGet('title')) attrs.title = t.attrGet('title');
        }
        if (tag === 'ol' && t.attrGet('start')) attrs.start = String(parseInt(t.attrGet('start'), 10) || 1);
        const style = t.attrGet('style'); // table alignment: a class, never a style attribute
        if (style) { const m = /text-align:(left|right|center)/.exec(style); if (m) attrs.class = 'al-' + m[1]; }
        const el = h(tag, attrs);
        top().appendChild(el);
        stack.push(el);
      } else if (t.nesting === -1) {
        if (stack.length > 1) stack.pop();
      } else if (t.type === 'inline') {
        walk(t.children || []);
      } else if (t.type === 'text' || t.type === 'html_inline' || t.type === 'html_block') {
        top().appendChild(document.createTextNode(t.content));
      } else if (t.type === 'softbreak') {
        top().appendChild(document.createTextNode('\n'));
      } else if (t.type === 'hardbreak') {
        top().appendChild(h('br'));
      } else if (t.type === 'code_inline') {
        top().appendChild(h('code', null, t.content));
      } else if (t.type === 'fence' || t.type === 'code_block') {
        top().appendChild(h('pre', null, h('code', null, t.content)));
      } else if (t.type === 'hr') {
        top().appendChild(h('hr'));
      } else if (t.type === 'image') {
        // Nothing a card names is fetched here: the alt text stands in, and the version page
        // puts the run's own pictures in its place (cardPictures).
        top().appendChild(h('span', { class: 'md-img', title: safeUrl(t.attrGet('src')) || '',
          dataset: { src: t.attrGet('src') || '', alt: t.content || '' } }, '[image: ' + (t.content || '') + ']'));
      } else if (t.content) {
        top().appendChild(document.createTextNode(t.content));
      }
    }
  };
  walk(dropComments(tokens));
  return root;
}
