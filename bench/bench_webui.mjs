// SPDX-License-Identifier: MIT
// bench_webui.mjs - times the web UI in headless chromium against a running `cairn server`
// (bench/bench_webui.py seeds the store and starts it). Each figure is a fresh browser
// context (cold cache) loading the page from its URL; the UI marks the moments
// (window.__cairnFirstRows when the runs table's first rows are in the page, __cairnChartDrawn
// when uPlot has drawn) with performance.now(), i.e. milliseconds since the navigation started.
// The first rows' paint is reported too: the browser's Element Timing of the first row's name
// (elementtiming="cairn-first-row"), i.e. when that text was first painted on screen.
// spec.only: "rows" times the three first-rows loads alone (no chart, no scrolling).
//   node bench_webui.mjs SPEC.json   SPEC: {base, web_dir, exp_id, long_run, reps}
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const spec = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const require = createRequire(path.join(spec.web_dir, 'package.json'));
const { chromium } = require('playwright-core');
const reps = spec.reps || 5;

async function waitValue(page, expr, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await page.evaluate(expr);
    if (v !== undefined && v !== null) return v;
    if (Date.now() > deadline) throw new Error('timed out: ' + expr);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const median = (xs) => { const s = xs.slice().sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

const browser = await chromium.launch({ executablePath: spec.chromium || '/usr/bin/chromium' });
const results = {};

// A fresh context (cold cache) whose window is open and settled: about:blank, then a second.
async function openPage(newWindow) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  if (!newWindow) {
    await page.goto('about:blank');
    await page.waitForTimeout(1000);
  }
  return { context, page };
}

async function measure(name, hash, expr, extra, newWindow, base) {
  const times = [];
  const painted = [];
  const notes = [];
  for (let i = 0; i < reps; i++) {
    const { context, page } = await openPage(newWindow);
    await page.goto((base || spec.base) + '/' + hash);
    times.push(await waitValue(page, expr, 120000));
    if (name.startsWith('first_rows') || name.startsWith('floor')) painted.push(await page.evaluate(() => new Promise((resolve) => {
      const seen = (list) => list.getEntries().find((x) => x.identifier === 'cairn-first-row');
      const po = new PerformanceObserver((list) => { const x = seen(list); if (x) { po.disconnect(); resolve(x.renderTime || x.loadTime); } });
      po.observe({ type: 'element', buffered: true });
      setTimeout(() => { po.disconnect(); resolve(null); }, 10000);
    })));
    const parts = await page.evaluate(() => performance.getEntriesByType('resource').map((r) =>
      `${r.name.replace(/^.*\/(static|ajax-api\/2\.0)\//, '').replace(/\?.*$/, '')} ${Math.round(r.startTime)}-${Math.round(r.responseEnd)}`));
    notes.push((extra ? (await extra(page)) + '; ' : '') + 'requests (ms from navigation): ' + parts.join(', '));
    await context.close();
  }
  results[name] = { median_ms: Math.round(median(times)), all_ms: times.map(Math.round), notes: notes[notes.length - 1] };
  if (painted.length) {
    const ok = painted.filter((x) => x != null);
    results[name].painted_median_ms = ok.length ? Math.round(median(ok)) : null;
    results[name].painted_all_ms = painted.map((x) => (x == null ? null : Math.round(x)));
  }
}

const e = spec.exp_id;
await measure('first_rows', `#/exp/${e}`, 'window.__cairnFirstRows',
  (p) => p.evaluate(() => document.querySelector('#run-count').textContent));
await measure('first_rows_sorted_by_metric', `#/exp/${e}?order=${encodeURIComponent('metrics.loss DESC')}`, 'window.__cairnFirstRows');
await measure('first_rows_filtered', `#/exp/${e}?filter=${encodeURIComponent("metrics.loss < 0.5 and params.optimizer = 'adam' or tags.team = 'team-3'")}`, 'window.__cairnFirstRows');
await measure('first_rows_new_window', `#/exp/${e}`, 'window.__cairnFirstRows', null, true);
// Floors on this host, in an open and in a new window: a static page of one line of text, and
// the runs page as drawn (its first rows, before the rest of the screenful) saved as static HTML
// with its scripts left out (served by bench_webui.py's plain server: no script, no request).
if (spec.floor_base) {
  {
    const { context, page } = await openPage(false);
    await page.goto(spec.base + `/#/exp/${e}`);
    await waitValue(page, 'window.__cairnFirstRows', 60000);
    const html = await page.evaluate(() => {
      const doc = document.documentElement.cloneNode(true);
      doc.querySelectorAll('script').forEach((x) => x.remove());
      return '<!doctype html>' + doc.outerHTML.replace('</body>', '<script>window.__cairnFirstRows = performance.now();</script></body>');
    });
    fs.writeFileSync(path.join(spec.floor_dir, 'rows.html'), html);
    await context.close();
  }
  await measure('floor_one_line', 'floor.html', 'window.__cairnFirstRows', null, false, spec.floor_base);
  await measure('floor_one_line_new_window', 'floor.html', 'window.__cairnFirstRows', null, true, spec.floor_base);
  await measure('floor_static_rows', 'rows.html', 'window.__cairnFirstRows', null, false, spec.floor_base);
  await measure('floor_static_rows_new_window', 'rows.html', 'window.__cairnFirstRows', null, true, spec.floor_base);
}
if (spec.only !== 'rows') {
  await measure('chart_1M_points', `#/chart?runs=${spec.long_run}&key=loss`, 'window.__cairnChartDrawn',
    (p) => p.evaluate(() => document.querySelector('#chart-note').textContent));
  await measure('chart_1M_points_time', `#/chart?runs=${spec.long_run}&key=loss&x=time`, 'window.__cairnChartDrawn',
    (p) => p.evaluate(() => document.querySelector('#chart-note').textContent));

  // Scrolling: frames while the table scrolls through 5,000 rows (pages fetched on demand).
  {
    const { context, page } = await openPage(false);
    await page.goto(spec.base + `/#/exp/${e}`);
    await waitValue(page, 'window.__cairnFirstRows', 60000);
    const r = await page.evaluate(async () => {
      const s = document.querySelector('#runs');
      const frames = [];
      let last = performance.now();
      const t0 = last;
      while (s.scrollTop < 5000 * 30 && performance.now() - t0 < 30000) {
        s.scrollTop += 240;
        await new Promise((res) => requestAnimationFrame(() => res()));
        const now = performance.now();
        frames.push(now - last);
        last = now;
      }
      frames.sort((a, b) => a - b);
      return { frames: frames.length, median_frame_ms: frames[Math.floor(frames.length / 2)], p95_frame_ms: frames[Math.floor(frames.length * 0.95)],
        rows_in_dom: document.querySelectorAll('#runs .vrow').length, loaded: document.querySelector('#run-count').textContent, total_ms: performance.now() - t0 };
    });
    results.scroll_5000_rows = r;
    await context.close();
  }
}
await browser.close();
process.stdout.write(JSON.stringify(results) + '\n');
