// SPDX-License-Identifier: MIT
// svg.js - SVG elements built like dom.js's h(): attributes and text nodes only, never markup.
const NS = 'http://www.w3.org/2000/svg';

export function s(tag, attrs, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// A column of the compared runs: "p:lr" (a param), "m:loss" (a metric). run: {p: Map, m: Map}.
export function colValue(run, col) {
  const map = col[0] === 'p' ? run.p : run.m;
  return map.has(col.slice(2)) ? map.get(col.slice(2)) : undefined;
}

const num = (v) => (typeof v === 'number' ? v : v === '' || v == null ? NaN : Number(v));

// A scale for one column over the runs: numeric when every present value is a finite number
// (params are strings: "0.1" counts as 0.1), else categorical, the distinct values ordered
// (numbers first, by value, then text) at even positions. pos(v) is 0..1, or null if absent.
export function scaleOf(runs, col) {
  const vals = runs.map((r) => colValue(r, col)).filter((v) => v !== undefined);
  const numeric = vals.length > 0 && vals.every((v) => Number.isFinite(num(v)));
  if (numeric) {
    const ns = vals.map(num);
    const lo = Math.min(...ns), hi = Math.max(...ns);
    // Positive values over two decades or more (learning rates, regularization) go on a log
    // scale, else they bunch up at one end.
    const log = lo > 0 && hi / lo >= 100;
    const f = log ? Math.log10 : (x) => x;
    const flo = f(lo), fhi = f(hi);
    return { col, numeric: true, log, lo, hi, pos: (v) => (v === undefined ? null : hi === lo ? 0.5 : (f(num(v)) - flo) / (fhi - flo)),
      ticks: () => (hi === lo ? [lo] : [0, 0.25, 0.5, 0.75, 1].map((t) => (log ? 10 ** (flo + t * (fhi - flo)) : lo + t * (hi - lo)))) };
  }
  const cats = [...new Set(vals.map(String))].sort((a, b) => {
    const x = num(a), y = num(b);
    if (Number.isFinite(x) && Number.isFinite(y)) return x - y;
    if (Number.isFinite(x) !== Number.isFinite(y)) return Number.isFinite(x) ? -1 : 1;
    return a < b ? -1 : a > b ? 1 : 0;
  });
  const at = new Map(cats.map((c, i) => [c, cats.length === 1 ? 0.5 : i / (cats.length - 1)]));
  return { col, numeric: false, cats, pos: (v) => (v === undefined ? null : at.get(String(v))) };
}

// A color ramp readable on light and dark backgrounds: blue, violet, orange.
const STOPS = [[76, 120, 240], [154, 92, 214], [240, 102, 60]];
export function ramp(t) {
  if (t == null || !Number.isFinite(t)) return 'gray';
  t = Math.max(0, Math.min(1, t)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(t)), f = t - i;
  const c = STOPS[i].map((a, k) => Math.round(a + (STOPS[i + 1][k] - a) * f));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

// The columns of a set of runs: params then metrics, each sorted.
export function columnsOf(runs) {
  const p = new Set(), m = new Set();
  for (const r of runs) {
    for (const k of r.p.keys()) p.add(k);
    for (const k of r.m.keys()) m.add(k);
  }
  return { params: [...p].sort().map((k) => 'p:' + k), metrics: [...m].sort().map((k) => 'm:' + k) };
}

export const colName = (c) => (c[0] === 'p' ? '⚙ ' : '◆ ') + c.slice(2);

// A tick's text: a few significant digits.
export const tickText = (v) => String(+Number(v).toPrecision(3));
