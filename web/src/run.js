// SPDX-License-Identifier: MIT
// run.js - one run: params, latest metrics, tags, dataset inputs with digests, its context
// (git, host, command), artifacts with a size-capped preview and the run's pictures inline.
// Artifact content is shown as text (textContent) or, for PNG and SVG, as <img> from a blob:
// URL: an <img> never runs an SVG's script, and nothing from an artifact becomes markup.
import { h, clear, fmtTime, fmtDuration, fmtValue, fmtBytes } from './dom.js';
import { get, raw, artifactUrl } from './api.js';
import { crumbs, link, isCurrent } from './main.js';

const PREVIEW_BYTES = 64 * 1024;
const TEXT_EXT = /\.(txt|log|csv|tsv|json|jsonl|ya?ml|md|py|sh|c|h|toml|ini|cfg|mlmodel|MLmodel)$/i;
const IMAGE_TYPES = { png: 'image/png', svg: 'image/svg+xml' };
const CONTEXT_TAGS = /^(cairn\.(git|host|command|user|python|os|pid|cwd|argv)|mlflow\.(source|user|parentRunId|note)|mlflow\.git)/;

function kvTable(id, rows, empty) {
  if (!rows.length) return h('p', { class: 'muted', id }, empty);
  return h('table', { class: 'kv', id }, h('tbody', null, rows.map(([k, v]) => h('tr', null, h('th', null, k), h('td', null, v)))));
}

function ext(path) {
  const m = /\.([A-Za-z0-9]+)$/.exec(path);
  return m ? m[1].toLowerCase() : '';
}

async function readCapped(url) {
  const resp = await raw(url);
  if (!resp.ok) throw new Error(`${resp.status} ${resp.statusText}`);
  const reader = resp.body.getReader();
  const chunks = [];
  let n = 0, truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    n += value.length;
    if (n >= PREVIEW_BYTES) { truncated = true; reader.cancel(); break; }
  }
  const all = new Uint8Array(Math.min(n, PREVIEW_BYTES));
  let off = 0;
  for (const c of chunks) { const take = Math.min(c.length, all.length - off); all.set(c.subarray(0, take), off); off += take; if (off >= all.length) break; }
  return { bytes: all, truncated };
}

// An artifact as an <img> from a blob: URL (so it works behind --auth too), typed by its
// extension, never by what the server or the file claims.
async function imageEl(url, path) {
  const resp = await raw(url);
  if (!resp.ok) throw new Error(`${resp.status} ${resp.statusText}`);
  const blob = new Blob([await resp.arrayBuffer()], { type: IMAGE_TYPES[ext(path)] });
  const img = h('img', { alt: path, class: 'artifact-img', src: URL.createObjectURL(blob) });
  return img;
}

async function download(url, path) {
  const resp = await raw(url);
  const blob = await resp.blob();
  const a = h('a', { href: URL.createObjectURL(new Blob([blob], { type: 'application/octet-stream' })), download: path.split('/').pop() });
  document.body.append(a);
  a.click();
  a.remove();
}

export async function runPage(app, { params: [runId], seq }) {
  const { run } = await get('mlflow/runs/get', { run_id: runId });
  if (!isCurrent(seq)) return;
  const info = run.info, data = run.data || {};
  const exp = await get('mlflow/experiments/get', { experiment_id: info.experiment_id }).then((d) => d.experiment).catch(() => null);
  if (!isCurrent(seq)) return;
  const name = info.run_name || info.run_id;
  crumbs({ text: 'Experiments', href: '#/' }, { text: exp ? exp.name : info.experiment_id, href: link('/exp/' + encodeURIComponent(info.experiment_id)) }, { text: name });

  const tags = data.tags || [];
  const ctxTags = tags.filter((t) => CONTEXT_TAGS.test(t.key));
  const otherTags = tags.filter((t) => !CONTEXT_TAGS.test(t.key) && t.key !== 'mlflow.runName');
  const metrics = (data.metrics || []).slice().sort((a, b) => a.key.localeCompare(b.key));
  const params = (data.params || []).slice().sort((a, b) => a.key.localeCompare(b.key));
  const inputs = (run.inputs && run.inputs.dataset_inputs) || [];

  const overview = kvTable('overview', [
    ['Run ID', h('code', null, info.run_id)],
    ['Status', info.status + (info.lifecycle_stage === 'deleted' ? ' (deleted)' : '')],
    ['Started', fmtTime(info.start_time)],
    ['Duration', info.end_time ? fmtDuration(info.end_time - info.start_time) : ''],
    ['User', info.user_id || ''],
  ], '');
  const metricRows = metrics.map((m) => [
    h('a', { href: link('/chart', { runs: info.run_id, key: m.key }) }, m.key),
    h('span', { class: 'num' }, fmtValue(m.value), h('span', { class: 'muted small' }, `  step ${m.step}`)),
  ]);
  const inputRows = inputs.map((inp) => {
    const d = inp.dataset || {};
    const ctx = (inp.tags || []).find((t) => t.key === 'mlflow.data.context');
    return [d.name + (ctx ? ` (${ctx.value})` : ''), h('span', null, h('code', null, d.digest || ''), ' ', h('span', { class: 'muted small' }, d.source || ''))];
  });

  const artifactsBox = h('div', { id: 'artifacts' }, h('p', { class: 'muted' }, 'Loading artifacts…'));
  const preview = h('div', { id: 'preview', class: 'preview', 'aria-live': 'polite' });
  const pictures = h('div', { id: 'pictures', class: 'pictures' });

  clear(app).append(
    h('h1', null, name),
    h('div', { class: 'cols2' },
      h('section', null, h('h2', null, 'Run'), overview, h('h2', null, 'Metrics'), kvTable('metrics', metricRows, 'No metrics.'),
        h('h2', null, 'Params'), kvTable('params', params.map((p) => [p.key, p.value]), 'No params.')),
      h('section', null, h('h2', null, 'Context'), kvTable('context', ctxTags.map((t) => [t.key, t.value]), 'No context tags.'),
        h('h2', null, 'Datasets'), kvTable('inputs', inputRows, 'No dataset inputs.'),
        h('h2', null, 'Tags'), kvTable('tags', otherTags.map((t) => [t.key, t.value]), 'No tags.'))),
    h('h2', null, 'Pictures'), pictures,
    h('h2', null, 'Artifacts'), h('div', { class: 'cols2' }, artifactsBox, preview),
  );

  // Artifacts: the root, folders opened on demand; pictures from the root and one level down.
  const listing = async (path) => get('mlflow/artifacts/list', { run_id: info.run_id, path: path || undefined });
  let root;
  try {
    root = await listing('');
  } catch (e) {
    clear(artifactsBox).append(h('p', { class: 'error' }, 'artifacts: ' + e.message));
    return;
  }
  if (!isCurrent(seq)) return;
  const rootUri = root.root_uri;

  async function showPreview(f) {
    const url = artifactUrl(rootUri, f.path);
    clear(preview).append(h('h3', null, f.path, ' ', h('span', { class: 'muted small' }, fmtBytes(f.file_size))));
    if (!url) { preview.append(h('p', { class: 'muted' }, 'This run\'s artifacts are outside the server\'s artifact root; no preview.')); return; }
    preview.append(h('button', { type: 'button', class: 'download', onclick: () => download(url, f.path) }, 'Download'));
    const e = ext(f.path);
    try {
      if (IMAGE_TYPES[e]) {
        preview.append(await imageEl(url, f.path));
      } else if (TEXT_EXT.test(f.path) || (f.file_size != null && f.file_size < PREVIEW_BYTES)) {
        const { bytes, truncated } = await readCapped(url);
        let text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
        if (e === 'csv' || e === 'tsv') text = text.split('\n').slice(0, 30).join('\n');
        else if (e === 'json' && !truncated) { try { text = JSON.stringify(JSON.parse(text), null, 2); } catch { /* shown as it is */ } }
        preview.append(h('pre', { class: 'text-preview', id: 'preview-text' }, text));
        if (truncated) preview.append(h('p', { class: 'muted small' }, `first ${fmtBytes(PREVIEW_BYTES)} shown`));
      } else {
        preview.append(h('p', { class: 'muted' }, 'No preview for this kind of file.'));
      }
    } catch (err) {
      preview.append(h('p', { class: 'error' }, 'preview: ' + err.message));
    }
  }

  function fileList(files) {
    const ul = h('ul', { class: 'tree' });
    for (const f of files || []) {
      const label = f.path.split('/').pop();
      if (f.is_dir) {
        const li = h('li', null);
        const btn = h('button', { type: 'button', class: 'link', 'aria-expanded': 'false', onclick: async () => {
          if (btn.getAttribute('aria-expanded') === 'true') { btn.setAttribute('aria-expanded', 'false'); li.lastChild.remove(); return; }
          btn.setAttribute('aria-expanded', 'true');
          const sub = await listing(f.path);
          li.append(fileList(sub.files));
        } }, '▸ ' + label + '/');
        li.append(btn);
        ul.append(li);
      } else {
        ul.append(h('li', null, h('button', { type: 'button', class: 'link artifact', dataset: { path: f.path }, onclick: () => showPreview(f) }, label), ' ', h('span', { class: 'muted small' }, fmtBytes(f.file_size))));
      }
    }
    return ul;
  }
  clear(artifactsBox).append(root.files && root.files.length ? fileList(root.files) : h('p', { class: 'muted' }, 'No artifacts.'));

  const pics = (root.files || []).filter((f) => !f.is_dir && IMAGE_TYPES[ext(f.path)]);
  for (const d of (root.files || []).filter((f) => f.is_dir).slice(0, 5)) {
    try {
      const sub = await listing(d.path);
      pics.push(...(sub.files || []).filter((f) => !f.is_dir && IMAGE_TYPES[ext(f.path)]));
    } catch { /* a folder that went away */ }
  }
  if (!isCurrent(seq)) return;
  if (!pics.length) pictures.append(h('p', { class: 'muted' }, 'No pictures.'));
  for (const f of pics.slice(0, 24)) {
    const url = artifactUrl(rootUri, f.path);
    if (!url) continue;
    try {
      pictures.append(h('figure', null, await imageEl(url, f.path), h('figcaption', null, f.path)));
    } catch { /* shown in the list anyway */ }
  }
}
