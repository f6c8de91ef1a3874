// SPDX-License-Identifier: MIT
// compare.js - runs side by side: params, latest metrics and tags, rows whose values differ
// highlighted (and listed first with "differences only").
import { h, clear, fmtValue } from './dom.js';
import { get } from './api.js';
import { crumbs, link, navigate, isCurrent } from './main.js';

export async function comparePage(app, { query, seq }) {
  const ids = (query.get('runs') || '').split(',').filter(Boolean).slice(0, 50);
  const onlyDiff = query.get('diff') === '1';
  crumbs({ text: 'Experiments', href: '#/' }, { text: 'compare' });
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
  const diffBox = h('input', { type: 'checkbox', id: 'diff-only', checked: onlyDiff, onchange: () => navigate('/compare', { runs: ids.join(','), diff: diffBox.checked ? '1' : '' }, true) });
  clear(app).append(
    h('h1', null, `Compare ${runs.length} runs`),
    h('div', { class: 'toolbar' }, h('label', null, diffBox, ' differences only')),
    h('div', { class: 'hscroll' }, h('table', { class: 'grid compare', id: 'compare' },
      h('thead', null, h('tr', null, h('th', null, ''), ...runs.map((r) => h('th', null, h('a', { href: link('/run/' + encodeURIComponent(r.info.run_id)) }, r.info.run_name || r.info.run_id))))),
      h('tbody', null,
        section('Params', 'param', (r) => (r.data && r.data.params) || []),
        section('Metrics', 'metric', (r) => (r.data && r.data.metrics) || []),
        section('Tags', 'tag', (r) => ((r.data && r.data.tags) || []).filter((t) => !t.key.startsWith('mlflow.')))))));
}
