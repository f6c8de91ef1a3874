// SPDX-License-Identifier: MIT
// studies_test.mjs - drives headless chromium (playwright-core from web/'s lockfile) through
// the studies pages of a running `cairn server` and prints what it saw as one JSON object on
// its last line; the checks are in tests/e2e/test_webui_studies.py, which fills the store,
// starts the server and, when this prints "live-page-open", lets the live study's trials run.
//   node studies_test.mjs SPEC.json   SPEC: {base, out, web_dir, chromium, study, big, live,
//                                             live_trials, big_trials, exp_id}
import path from 'node:path';
import { start, newPage as openPage } from './lib.mjs';

const { spec, browser } = await start();
const seen = { console_errors: [], csp_violations: [], page_errors: [] };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function newPage(colorScheme) {
  const page = await openPage(browser, seen, { colorScheme, trap: true });
  const until = page.until;
  page.until = (fn, arg, ms = 60000) => until(fn, arg, ms); // a live study takes its time
  page.shot = (name) => page.screenshot({ path: path.join(spec.out, name + '.png'), fullPage: false });
  page.shotOf = async (sel, name) => (await page.$(sel)).screenshot({ path: path.join(spec.out, name + '.png') });
  return page;
}

// What a study page shows, once it is drawn.
const studyState = (page) => page.evaluate(() => {
  const rows = [...document.querySelectorAll('#trials .vrow')].sort((a, b) => Number(a.dataset.i) - Number(b.dataset.i));
  const best = document.getElementById('best-value');
  return {
    rows: rows.length,
    states: rows.map((r) => r.querySelector('[data-col="state"]').textContent),
    numbers: rows.map((r) => r.dataset.number),
    count_text: document.getElementById('trial-count').textContent,
    best_value_data: best ? best.dataset.value : null,
    best_text: best ? best.textContent : null,
    best_trial: (document.getElementById('best-trial') || {}).textContent || '',
    history_points: Number(document.getElementById('history').dataset.points),
    importance_names: (document.getElementById('importance').dataset.names || '').split(',').filter(Boolean),
    slices: Object.fromEntries([...document.querySelectorAll('#slices figure')].map((f) => [f.dataset.param, Number(f.dataset.points)])),
    intermediate_lines: Number(document.getElementById('intermediate').dataset.lines),
    intermediate_pruned: Number(document.getElementById('intermediate').dataset.pruned),
    table_text: document.getElementById('trials').textContent,
    categories_text: document.getElementById('slices').textContent,
    importance_reason: (document.getElementById('importance-reason') || {}).textContent || '',
    live: document.body.dataset.studyLive === '1',
    polls: Number(document.body.dataset.studyPolls || 0),
  };
});
const valueColumn = (page) => page.$$eval('#trials .vrow', (rows) => rows
  .sort((a, b) => Number(a.dataset.i) - Number(b.dataset.i)).map((r) => r.querySelector('[data-col="value"]').textContent));

async function openStudy(page, name, ms) {
  await page.evaluate(() => { delete document.body.dataset.studyReady; }).catch(() => {});
  await page.nav(spec.base + '/#/study/' + encodeURIComponent(name));
  await page.until(() => document.body.dataset.studyReady !== undefined && document.querySelector('#trials .vrow'), null, ms);
}

try {
  const page = await newPage('light');

  // ---- live: the first trial RUNNING, then the rest arrive without a reload ----
  await openStudy(page, spec.live);
  seen.live_before = await studyState(page);
  await page.evaluate(() => { window.__samePage = 1; });
  process.stdout.write('live-page-open\n');
  await page.until((n) => {
    const rows = [...document.querySelectorAll('#trials .vrow [data-col="state"]')];
    return rows.length === n && rows.every((c) => c.textContent === 'COMPLETE');
  }, spec.live_trials, 240000);
  await page.until((n) => Number(document.getElementById('history').dataset.points) === n, spec.live_trials);
  seen.live_after = await studyState(page);
  seen.live_after.same_page = await page.evaluate(() => window.__samePage === 1);
  seen.live_after.best = await page.evaluate(() => document.getElementById('best-value').dataset.value);
  await page.shot('study-live');
  // Leaving the page stops its polling (it would go on for a minute after the last trial).
  await page.evaluate(() => { location.hash = '#/studies'; });
  await page.waitForSelector('#studies tbody tr');
  const pollsAtLeave = await page.evaluate(() => Number(document.body.dataset.studyPolls || 0));
  await sleep(5000);
  seen.polls_after_leaving = (await page.evaluate(() => Number(document.body.dataset.studyPolls || 0))) - pollsAtLeave;

  // ---- the list ----
  await page.nav(spec.base + '/#/studies');
  await page.waitForSelector('#studies tbody tr');
  seen.list = await page.$$eval('#studies tbody tr', (rows) => rows.map((r) => ({
    name: r.dataset.study, trials: r.cells[5].textContent, best: r.cells[10].textContent })));
  await page.shot('studies');
  await page.nav(spec.base + '/#/');
  await page.waitForSelector('#experiments tbody tr');
  seen.experiments_has_studies_link = !!(await page.$('#studies-link'));
  await page.nav(spec.base + '/#/exp/' + spec.exp_id);
  await page.waitForSelector('#exp-studies');
  seen.runs_studies_link = await page.textContent('#exp-studies');

  // ---- one study ----
  await openStudy(page, spec.study);
  await page.until(() => document.getElementById('history').dataset.drawn && document.getElementById('intermediate').dataset.drawn);
  const s = await studyState(page);
  await page.shot('study');
  await page.shotOf('#sec-trials', 'study-trials');
  await page.shotOf('#sec-history', 'study-history');
  await page.shotOf('#sec-importance', 'study-importance');
  await page.shotOf('#sec-intermediate', 'study-intermediate');
  await page.shotOf('#sec-slices', 'study-slices');
  await page.click('#trials .vhead [data-col="value"] button');
  await page.until(() => decodeURIComponent(location.hash).includes('order=value'));
  s.sorted_hash = await page.evaluate(() => decodeURIComponent(location.hash));
  s.sorted_up = await valueColumn(page);
  await page.click('#trials .vhead [data-col="value"] button');
  await page.until(() => decodeURIComponent(location.hash).includes('order=-value'));
  s.sorted_down = await valueColumn(page);
  await page.evaluate(() => { delete document.getElementById('history').dataset.drawn; });
  await page.click('#history-log');
  await page.until(() => location.hash.includes('log=1') && document.getElementById('history').dataset.drawn);
  s.log_hash = await page.evaluate(() => location.hash);
  s.log_points = await page.evaluate(() => Number(document.getElementById('history').dataset.points));
  seen.study = s;
  seen.pwned = await page.evaluate(() => window.__pwned ?? null);

  // ---- a study that does not exist: the server's message ----
  await page.nav(spec.base + '/#/study/' + encodeURIComponent('no such/study'));
  await page.waitForSelector('#app .error');
  seen.missing_error = await page.textContent('#app .error');

  // ---- dark scheme ----
  const dark = await newPage('dark');
  await openStudy(dark, spec.study);
  await dark.until(() => document.getElementById('history').dataset.drawn);
  await dark.shot('study-dark');
  await dark.shotOf('#sec-slices', 'study-dark-slices');

  // ---- 10,000 trials: a window of rows, scrolled to the end ----
  const t0 = Date.now();
  await openStudy(page, spec.big, 120000);
  const b = await studyState(page);
  b.ms_to_table = Date.now() - t0; // reported, not asserted (a loaded machine varies)
  await page.evaluate(() => { const t = document.getElementById('trials'); t.scrollTop = t.scrollHeight; });
  await page.until((n) => document.querySelector(`#trials .vrow[data-number="${n - 1}"]`), spec.big_trials);
  b.last_row_number = await page.evaluate(() => {
    const rows = [...document.querySelectorAll('#trials .vrow')];
    return String(Math.max(...rows.map((r) => Number(r.dataset.number))));
  });
  b.rows_after_scroll = await page.evaluate(() => document.querySelectorAll('#trials .vrow').length);
  // Keyboard: Home, ↓, End, ↑ move the active row (kept in view); Enter opens its run.
  const activeNumber = () => page.evaluate(() => {
    const a = document.querySelector('#trials .vrow.active');
    return a ? a.dataset.number : null;
  });
  await page.focus('#trials');
  await page.keyboard.press('Home');
  await page.keyboard.press('ArrowDown');
  b.key_down = await activeNumber();
  await page.keyboard.press('End');
  b.key_end = await activeNumber();
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('PageUp');
  b.key_page_up = await activeNumber();
  b.key_run_href = await page.evaluate(() => {
    const a = document.querySelector('#trials .vrow.active [data-col="run"] a');
    return a ? a.getAttribute('href') : null;
  });
  if (b.key_run_href) {
    await page.keyboard.press('Enter');
    await page.until(() => location.hash.startsWith('#/run/'));
    b.key_enter_hash = await page.evaluate(() => location.hash);
  }
  delete b.table_text;
  delete b.states;
  delete b.numbers;
  seen.big_study = Object.assign(b, { rows_rendered: b.rows });
  await page.shot('study-big');
} catch (e) {
  seen.failure = String(e && e.stack ? e.stack : e);
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(seen) + '\n');
