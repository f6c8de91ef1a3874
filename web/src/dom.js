// SPDX-License-Identifier: MIT
// dom.js - builds DOM nodes from data. Server data only ever reaches the page as text nodes,
// attribute values or URLs this module sets; nothing here (or anywhere in web/) uses innerHTML.

// h('a', {href: '#/', class: 'x', onclick: f}, 'text', child, [more]) -> Element
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'class') el.className = v;
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k === 'value' || k === 'checked' || k === 'textContent') el[k] = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function fmtTime(ms) {
  if (!ms) return '';
  const d = new Date(Number(ms));
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function fmtDuration(ms) {
  if (ms == null || ms < 0) return '';
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

export function fmtValue(v) {
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return String(v);
    const a = Math.abs(v);
    return a !== 0 && (a < 1e-4 || a >= 1e6) ? v.toExponential(4) : String(+v.toPrecision(6));
  }
  return v == null ? '' : String(v);
}

export function fmtBytes(n) {
  if (n == null) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1048576) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1048576).toFixed(1)} MiB`;
}

// Keeps a uPlot chart as wide as its box when the window or the layout changes (at least
// minWidth); stops when the box leaves the page.
export function fitWidth(plot, box, minWidth) {
  if (typeof ResizeObserver === 'undefined') return;
  let last = 0;
  const ro = new ResizeObserver(() => {
    if (!box.isConnected || !plot.root || !plot.root.isConnected) { ro.disconnect(); return; }
    const w = Math.max(minWidth, Math.floor(box.clientWidth));
    if (w && w !== last && Math.abs(w - plot.width) > 1) plot.setSize({ width: w, height: plot.height });
    last = w;
  });
  ro.observe(box);
}
