// SPDX-License-Identifier: MIT
// parcoords.js - parallel coordinates of runs as SVG: one vertical axis per chosen column
// (numeric columns scaled min..max, categorical ones as ordered positions), one path per run
// colored by a chosen metric. Hovering or focusing a run's line highlights it and names it.
import { h, fmtValue } from './dom.js';
import { s, scaleOf, colValue, ramp, colName, tickText } from './svg.js';

const TOP = 44, BOTTOM = 28, SIDE = 60, H = 360, STEP = 150;

// runs: [{id, name, p: Map, m: Map}]; axes: column ids; color: a column id or ''.
export function parcoords(runs, axes, color, onOpen) {
  const W = SIDE * 2 + Math.max(1, axes.length - 1) * STEP;
  const plotH = H - TOP - BOTTOM;
  const scales = axes.map((c) => scaleOf(runs, c));
  const cscale = color ? scaleOf(runs, color) : null;
  const x = (i) => SIDE + i * STEP;
  const y = (t) => TOP + (1 - t) * plotH;
  const hover = h('div', { id: 'pc-hover', class: 'plot-hover muted', 'aria-live': 'polite' }, '\u00a0');
  const svg = s('svg', { id: 'parcoords', class: 'plot', width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img',
    'aria-label': `parallel coordinates of ${runs.length} runs over ${axes.length} columns` });

  const lines = s('g', { class: 'pc-lines' });
  svg.append(lines);
  for (const r of runs) {
    let d = '', pen = false;
    scales.forEach((sc, i) => {
      const t = sc.pos(colValue(r, sc.col));
      if (t == null) { pen = false; return; }
      d += `${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(t).toFixed(1)}`;
      pen = true;
    });
    const cv = cscale ? cscale.pos(colValue(r, color)) : 0.5;
    const label = r.name + (color ? ` (${color.slice(2)} ${fmtValue(colValue(r, color) ?? '–')})` : '');
    const show = () => { path.classList.add('hi'); lines.append(path); hover.textContent = label; };
    const hide = () => { path.classList.remove('hi'); };
    const path = s('path', { class: 'pc-line', d: d || 'M0,0', stroke: ramp(cv), tabindex: 0, dataset: { runId: r.id },
      onmouseenter: show, onmouseleave: hide, onfocus: show, onblur: hide, onclick: () => onOpen(r.id),
      onkeydown: (ev) => { if (ev.key === 'Enter') onOpen(r.id); } }, s('title', null, label));
    lines.append(path);
  }
  scales.forEach((sc, i) => {
    const g = s('g', { class: 'pc-axis', dataset: { col: sc.col } });
    g.append(s('line', { x1: x(i), x2: x(i), y1: TOP, y2: TOP + plotH }));
    const name = colName(sc.col);
    g.append(s('text', { x: x(i), y: 14, 'text-anchor': 'middle', class: 'pc-name' }, name.length > 22 ? name.slice(0, 21) + '…' : name, s('title', null, name)));
    const tick = (t, text) => g.append(s('text', { x: x(i) - 6, y: y(t) + 4, 'text-anchor': 'end', class: 'tick' }, text));
    if (sc.numeric) {
      for (const v of sc.ticks()) tick(sc.pos(v), tickText(v));
      if (sc.log) g.append(s('text', { x: x(i), y: 28, 'text-anchor': 'middle', class: 'tick' }, 'log'));
    } else {
      const every = Math.ceil(sc.cats.length / 12);
      sc.cats.forEach((c, k) => { if (k % every === 0) tick(sc.pos(c), c.length > 10 ? c.slice(0, 9) + '…' : c); });
    }
    svg.append(g);
  });
  return h('div', { class: 'plotbox' }, svg, hover);
}
