// SPDX-License-Identifier: MIT
// lib.mjs - what every browser driver in tests/browser shares: the spec file, headless chromium
// (playwright-core from web/'s lockfile), a page that records console errors, CSP violations,
// page errors and dialogs into `seen`, polls without eval, and navigates by hash until the new
// page is drawn.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

// The driver's SPEC.json (its first argument), and a chromium launched for it.
export async function start() {
  const spec = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const require = createRequire(path.join(spec.web_dir, 'package.json'));
  const { chromium } = require('playwright-core');
  const browser = await chromium.launch({ executablePath: spec.chromium || '/usr/bin/chromium' });
  return { spec, browser };
}

// A page in a context of its own. opts: colorScheme; trap (a script that ran from server data
// would set window.__pwned: the setter keeps what it was given); quiet (the HTTP statuses whose
// console errors are expected, a regular expression; 400 and 404 by default).
export async function newPage(browser, seen, opts = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: opts.colorScheme });
  if (opts.trap) {
    await context.addInitScript(() => {
      Object.defineProperty(window, '__pwned', { configurable: true, set(v) { window.__pwnedSeen = String(v); }, get() { return window.__pwnedSeen; } });
    });
  }
  const page = await context.newPage();
  const quiet = opts.quiet || /status of 40[04]/;
  page.on('console', (m) => {
    if (m.type() === 'error' && !quiet.test(m.text())) seen.console_errors.push(m.text());
    if (/Content Security Policy/i.test(m.text())) seen.csp_violations.push(m.text());
  });
  page.on('pageerror', (e) => seen.page_errors.push(String(e)));
  if (seen.dialogs) page.on('dialog', async (d) => { seen.dialogs.push(d.message()); await d.dismiss(); });
  // page.waitForFunction evaluates its predicate with eval, which the UI's CSP forbids (as it
  // should); poll with page.evaluate (a CDP evaluation, outside the page's CSP) instead.
  page.until = async (fn, arg, ms = 30000) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = await page.evaluate(fn, arg);
      if (v) return v;
      if (Date.now() > deadline) throw new Error('timed out waiting for ' + String(fn).slice(0, 200));
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  // A hash change keeps the document, and the old page's content with it until the new one is
  // drawn: wait for main.js to name the new hash as drawn (body[data-rendered]).
  page.nav = async (url) => {
    await page.goto(url);
    await page.until(() => document.body.dataset.rendered === location.hash);
  };
  return page;
}
