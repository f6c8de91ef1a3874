// SPDX-License-Identifier: MIT
// registry_test.mjs - drives headless chromium (playwright-core from web/'s lockfile) through
// the registry and monitoring pages of a running `cairn server` and prints what it saw as one
// JSON object; the checks are in tests/e2e/test_webui_registry.py, which fills the store with
// real cairn commands and starts the server. Every view is shot in light and dark.
//   node registry_test.mjs SPEC.json      SPEC: {base, out, web_dir, chromium, model, run_id}
import path from 'node:path';
import { start, newPage } from './lib.mjs';

const { spec, browser } = await start();
const seen = { console_errors: [], csp_violations: [], page_errors: [], dialogs: [] };
try {
  const page = await newPage(browser, seen, { trap: true });
  const waitFor = page.until;
  const shots = async (name) => {
    for (const scheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.screenshot({ path: path.join(spec.out, `${name}-${scheme}.png`), fullPage: true });
    }
    await page.emulateMedia({ colorScheme: 'light' });
  };
  const go = (hash) => page.nav(spec.base + '/' + hash);
  const cells = (sel) => page.$$eval(sel, (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));
  const enc = encodeURIComponent;

  // ---- experiments -> models ----
  await go('#/');
  await page.waitForSelector('#nav-models');
  seen.nav_models = await page.getAttribute('#nav-models', 'href');
  await page.click('#nav-models');
  await page.waitForSelector('#models tbody tr');
  seen.models = await cells('#models tbody tr');
  await shots('models');
  await page.fill('#model-search', 'no-such-model');
  await page.press('#model-search', 'Enter');
  await page.waitForSelector('#models-empty');
  seen.models_searched_none = await page.textContent('#models-empty');

  // ---- a model: versions and the promotion history ----
  await go(`#/model/${enc(spec.model)}`);
  await page.waitForSelector('#versions tbody tr');
  seen.versions = (await cells('#versions tbody tr')).map((r) => r.slice(0, 5));
  seen.history = (await cells('#history tbody tr')).map((r) => r.slice(1));
  seen.history_rollback_rows = await page.$$eval('#history tr.event-rollback', (r) => r.length);
  await shots('model');
  await page.selectOption('#history-alias', 'production');
  seen.history_production = (await cells('#history tbody tr')).map((r) => r.slice(1));

  // ---- a version: lineage, datasets, the card ----
  await page.click('#versions tbody tr[data-version="2"] a');
  await page.waitForSelector('#lineage');
  await page.waitForSelector('#card, #card-missing');
  seen.lineage_run_id = await page.$eval('#lineage', (t) => {
    const row = [...t.querySelectorAll('tr')].find((r) => r.cells[0].textContent === 'Run ID');
    return row ? row.cells[1].textContent : null;
  });
  seen.datasets = await cells('#datasets tbody tr');
  seen.version_description = await page.$eval('#version-facts', (t) => {
    const row = [...t.tBodies[0].rows].find((r) => r.cells[0].textContent === 'Description');
    return row ? row.cells[1].textContent : null;
  });
  seen.version_tags = await cells('#version-tags tbody tr');
  seen.card_missing = await page.$eval('#card-missing', (e) => e.textContent).catch(() => null);
  seen.card_headings = await page.$eval('#card', (c) => {
    const out = {};
    for (const t of ['h1', 'h2', 'h3']) out[t] = [...c.querySelectorAll(t)].map((e) => e.textContent);
    return out;
  });
  // Elements a sanitiser must never let through, and every element with an on* attribute.
  // (The card's own pictures are <img class="md-pic"> from blob: URLs, checked below.)
  await waitFor(() => document.querySelector('#card img.md-pic') && document.querySelector('#card img.md-pic').complete);
  seen.card_pictures = await page.$$eval('#card img', (is) => is.map((i) => [i.getAttribute('title'), i.getAttribute('alt'),
    i.getAttribute('src').startsWith('blob:') && i.className === 'md-pic', i.naturalWidth]));
  seen.card_changed_before = await page.$eval('#card-changed', (e) => e.textContent).catch(() => null);
  seen.card_elements = await page.$eval('#card', (c) => [...c.querySelectorAll('*')]
    .filter((e) => !(e.tagName === 'IMG' && e.className === 'md-pic' && e.getAttribute('src').startsWith('blob:')))
    .filter((e) => /^(script|img|iframe|object|embed|div|b|svg|style|link|form|input)$/i.test(e.tagName) ||
      [...e.attributes].some((a) => /^on/i.test(a.name) || a.name === 'style'))
    .map((e) => e.outerHTML));
  seen.card_text = await page.textContent('#card');
  seen.card_links = await page.$$eval('#card a', (as) => as.map((a) => [a.getAttribute('href'), a.textContent, a.getAttribute('rel')]));
  seen.card_strong = await page.$$eval('#card strong', (s) => s.map((e) => e.textContent));
  await shots('version');
  // The card's file changed after `cairn model card` wrote it: the version page says so.
  {
    const r = await fetch(spec.card_url, { method: 'PUT', body: '# changed by hand\n' });
    if (!r.ok) throw new Error('PUT card: ' + r.status);
    await page.reload();
    await page.waitForSelector('#card');
    seen.card_changed_after = await page.$eval('#card-changed', (e) => e.textContent).catch(() => null);
  }

  // ---- monitoring of v2 (linked from the version page), and of v1 (never served) ----
  await page.click('#monitoring-link');
  await page.waitForSelector('#drift-summary tbody tr');
  await waitFor(() => {
    const c = document.querySelectorAll('.drift-chart');
    return c.length > 0 && [...c].every((e) => e.dataset.drawn === '1');
  });
  seen.monitoring_run = await page.textContent('#monitoring-run');
  seen.drift_summary = await cells('#drift-summary tbody tr');
  seen.drift_charts = await page.$$eval('.drift-chart', (cs) => cs.map((c) => ({
    feature: c.dataset.feature, series: c.dataset.series, threshold: c.dataset.threshold,
    points: c.dataset.points, drifted: c.dataset.drifted, drawn: c.dataset.drawn === '1',
  })));
  await shots('monitoring');
  seen.drift_log = await page.getAttribute('#drift-charts', 'data-log');
  await page.click('#drift-log');
  // The page drawn again: its charts' container says another scale than before (not the old
  // page still on screen while the hash has changed).
  await waitFor((before) => location.hash.includes('log=') && document.querySelector('#drift-charts[data-log]') &&
    document.querySelector('#drift-charts').dataset.log !== before &&
    [...document.querySelectorAll('.drift-chart')].every((e) => e.dataset.drawn === '1'), seen.drift_log);
  seen.drift_log_after = await page.getAttribute('#drift-charts', 'data-log');
  await go(`#/monitoring/${enc(spec.model)}/1`);
  await page.waitForSelector('#drift-missing');
  seen.drift_missing = await page.textContent('#drift-missing');

  // ---- bad addresses: the server's message, shown ----
  for (const [k, hash] of [['unknown_model', '#/model/no-such-model'], ['bad_version', `#/model/${enc(spec.model)}/two`],
    ['unknown_version', `#/model/${enc(spec.model)}/99`]]) {
    await go(hash);
    await page.waitForSelector('#app .error');
    seen[k] = await page.textContent('#app .error');
  }

  seen.pwned = await page.evaluate(() => window.__pwnedSeen || null);
} catch (e) {
  // What was seen up to the failure (page errors included) helps more than the timeout alone.
  process.stderr.write(JSON.stringify(seen) + '\n');
  throw e;
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(seen));
