// SPDX-License-Identifier: MIT
// studies-link.js - the runs page's link to the studies of its experiment, apart from
// studies.js so the runs page does not load the study charts (and uPlot) to draw it.
import { h } from './dom.js';
import { get } from './api.js';
import { link, isCurrent } from './main.js';

// A link to the studies of experiment expId, appended to el when it has any (runs page).
export async function appendStudiesLink(el, expId, seq) {
  try {
    const d = await get('cairn/studies/list');
    if (!isCurrent(seq)) return;
    const n = (d.studies || []).filter((s) => String(s.experiment_id) === String(expId)).length;
    if (n) el.append(' ', h('a', { class: 'small', id: 'exp-studies', href: link('/studies', { exp: expId }) }, n === 1 ? '1 study' : `${n} studies`));
  } catch {
    // an older server without the route, or no permission: no link
  }
}
