// SPDX-License-Identifier: MIT
// ui_test.mjs - drives headless chromium (playwright-core from web/'s lockfile) through the
// web UI of a running `cairn server` and prints what it saw as one JSON object; the checks
// are in tests/e2e/test_webui.py, which fills the store and starts the server.
//   node ui_test.mjs SPEC.json      SPEC: {base, out, exp_id, runs: {name: id}, hostile_id,
//                                          auth_base, auth_user, auth_password}
import path from 'node:path';
import { start, newPage } from './lib.mjs';

const { spec, browser } = await start();
const seen = { console_errors: [], csp_violations: [], page_errors: [], dialogs: [] };
try {
  const page = await newPage(browser, seen, { trap: true });
  page.waitForFunction = page.until; // used throughout below
  const shot = async (name) => page.screenshot({ path: path.join(spec.out, name + '.png'), fullPage: false });
  const go = async (hash) => {
    await page.evaluate(() => {
      delete document.body.dataset.firstRows;
      document.querySelectorAll('[data-drawn]').forEach((e) => e.removeAttribute('data-drawn'));
    }).catch(() => {});
    await page.nav(spec.base + '/' + hash);
  };
  // The rendered rows in table order (the DOM holds only the visible ones, in any order).
  const column = (sel) => page.$$eval('#runs .vrow:not([data-placeholder])', (rows, sel) => rows
    .sort((a, b) => Number(a.dataset.i) - Number(b.dataset.i)).map((r) => r.querySelector(sel).textContent), sel);
  const rowNames = () => column('.name');
  const waitRows = () => page.waitForFunction(() => document.body.dataset.firstRows !== undefined && !document.querySelector('#runs .vrow[data-placeholder]'));
  const resetRows = () => page.evaluate(() => { delete document.body.dataset.firstRows; });

  // ---- experiments ----
  await go('#/');
  await page.waitForSelector('#experiments tbody tr');
  await page.waitForFunction((id) => { const c = document.querySelector(`#experiments td[data-exp="${id}"]`); return c && c.textContent !== '…'; }, spec.exp_id);
  seen.experiments = await page.$$eval('#experiments tbody tr', (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));
  await shot('experiments');
  await page.fill('#exp-search', 'webui');
  await page.press('#exp-search', 'Enter');
  await page.waitForFunction(() => location.hash.includes('q=webui'));
  await page.waitForSelector('#experiments[data-q="webui"] tbody tr'); // the new table, not the old
  seen.experiments_searched = await page.$$eval('#experiments tbody tr', (rows) => rows.length);

  // ---- a runs page opened from its address: boot.js's early requests are the page's own ----
  await page.goto('about:blank');
  await page.goto(spec.base + `/#/exp/${spec.exp_id}?order=${encodeURIComponent('metrics.loss ASC')}`);
  await waitRows();
  seen.opening_requests = await page.evaluate(() => performance.getEntriesByType('resource')
    .map((r) => r.name.replace(/^.*\/ajax-api\/2\.0\//, '').replace(/\?.*$/, ''))
    .filter((n) => n === 'mlflow/runs/search' || n === 'mlflow/experiments/get'));
  seen.early_ended = await page.evaluate(() => globalThis.__cairnEarly === null);
  seen.opening_first_loss = (await column('.cell[data-col="m:loss"]'))[0];

  // ---- runs: first rows, sort by clicking a header, filter, bad filter ----
  await go(`#/exp/${spec.exp_id}`);
  await waitRows();
  seen.runs_count_text = await page.textContent('#run-count');
  seen.runs_rendered = (await rowNames()).length;
  seen.runs_first_names = await rowNames();
  await shot('runs');
  await resetRows();
  await page.click('#runs .vhead [data-col="m:loss"] button');
  await page.waitForFunction(() => location.hash.includes('order='));
  await waitRows();
  seen.sort_hash_1 = await page.evaluate(() => decodeURIComponent(location.hash));
  seen.sorted_loss_1 = await column('.cell[data-col="m:loss"]');
  await resetRows();
  await page.click('#runs .vhead [data-col="m:loss"] button');
  await page.waitForFunction(() => decodeURIComponent(location.hash).includes('ASC'));
  await waitRows();
  seen.sorted_loss_2 = await column('.cell[data-col="m:loss"]');
  seen.sort_link = await page.evaluate(() => location.hash);

  await resetRows();
  await page.fill('#filter', "metrics.loss < 0.5 and params.lr = '0.1' OR params.lr = '0.01'");
  await page.press('#filter', 'Enter');
  await page.waitForFunction(() => location.hash.includes('filter='));
  await waitRows();
  seen.filter_count_text = await page.textContent('#run-count');
  seen.filter_rendered = (await rowNames()).length;
  await shot('runs-filtered');

  await resetRows();
  await page.fill('#filter', 'params.lr = 0.1');
  await page.press('#filter', 'Enter');
  await page.waitForSelector('#filter-error:not([hidden])');
  seen.bad_filter_error = await page.textContent('#filter-error');
  seen.bad_filter_token = await page.textContent('#filter-bad-token');
  seen.bad_filter_invalid = await page.getAttribute('#filter', 'aria-invalid');
  await shot('runs-bad-filter');

  // ---- column chooser: a tag column added, and kept in the URL ----
  await go(`#/exp/${spec.exp_id}`);
  await waitRows();
  await page.click('#columns summary');
  await page.check('#columns input[data-col="t:team"]');
  await page.waitForSelector('#runs .vhead [data-col="t:team"]');
  seen.cols_hash = await page.evaluate(() => decodeURIComponent(location.hash));

  // ---- keyboard: arrows move, Enter opens the run ----
  await page.focus('#runs');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  const activeName = await page.textContent('#runs .vrow.active .name');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => location.hash.startsWith('#/run/'));
  await page.waitForSelector('#params');
  seen.keyboard_opened = await page.textContent('h1');
  seen.keyboard_expected = activeName;

  // ---- selection -> compare ----
  await go(`#/exp/${spec.exp_id}`);
  await waitRows();
  const boxes = await page.$$('#runs .vrow input[type=checkbox]');
  await boxes[0].check();
  await boxes[1].check();
  await boxes[2].check();
  seen.selected_text = await page.textContent('#sel-count');
  await page.click('#compare');
  await page.waitForSelector('#compare tbody tr');
  seen.compare_columns = await page.$$eval('#compare thead th', (ths) => ths.length - 1);
  seen.compare_diff_keys = await page.$$eval('#compare tr.diff', (rows) => rows.map((r) => r.dataset.key));
  await shot('compare');

  // ---- chart: three runs overlaid ----
  const three = spec.chart_runs.join(',');
  await go(`#/chart?runs=${three}&key=loss`);
  await page.waitForSelector('#chart[data-drawn]');
  seen.chart_series = await page.$$eval('#chart .u-legend .u-series', (s) => s.length - 1);
  seen.chart_canvas = await page.$$eval('#chart canvas', (c) => c.length);
  await shot('chart');
  await go(`#/chart?runs=${three}&key=loss&x=time&log=1&smooth=0.6`);
  await page.waitForSelector('#chart[data-drawn]');
  seen.chart_series_smoothed = await page.$$eval('#chart .u-legend .u-series', (s) => s.length - 1);
  const box = await page.$('#chart .u-over');
  const bb = await box.boundingBox();
  await page.mouse.move(bb.x + bb.width / 2, bb.y + bb.height / 2);
  seen.chart_hover_values = await page.$$eval('#chart .u-legend .u-series .u-value', (v) => v.map((e) => e.textContent));
  await shot('chart-time-log-smoothed');
  // The chart follows the window's width.
  const plotWidth = () => page.$eval('#chart .uplot', (u) => Math.round(u.getBoundingClientRect().width));
  seen.chart_width_wide = await plotWidth();
  await page.setViewportSize({ width: 900, height: 900 });
  await page.waitForFunction((w) => Math.round(document.querySelector('#chart .uplot').getBoundingClientRect().width) < w, seen.chart_width_wide);
  seen.chart_width_narrow = await plotWidth();
  seen.chart_box_narrow = await page.$eval('#chart', (b) => Math.round(b.clientWidth));
  await page.setViewportSize({ width: 1280, height: 900 });

  // ---- delete and restore ----
  await go(`#/exp/${spec.exp_id}`);
  await waitRows();
  const before = await page.textContent('#run-count');
  const victim = (await rowNames())[0];
  await resetRows();
  await (await page.$$('#runs .vrow input[type=checkbox]'))[0].check();
  await page.click('#delete');
  await page.waitForFunction((b) => document.body.dataset.firstRows !== undefined && document.querySelector('#run-count').textContent !== b, before);
  seen.after_delete = { before, after: await page.textContent('#run-count'), victim };
  await resetRows();
  await go(`#/exp/${spec.exp_id}?view=deleted`);
  await waitRows();
  seen.deleted_view = await rowNames();
  await resetRows();
  await (await page.$$('#runs .vrow input[type=checkbox]'))[0].check();
  await page.click('#restore');
  await page.waitForFunction(() => document.body.dataset.firstRows !== undefined);
  await page.waitForFunction(() => document.querySelector('#run-count').textContent === '0 runs');
  seen.after_restore_deleted_view = await page.textContent('#run-count');

  // ---- the run page of a hostile run ----
  await go(`#/run/${spec.hostile_id}`);
  await page.waitForSelector('#params');
  await page.waitForFunction(() => document.querySelector('#pictures img, #pictures p'));
  seen.hostile_title = await page.textContent('h1');
  seen.hostile_params = await page.$$eval('#params tr', (rows) => rows.map((r) => [r.cells[0] ? r.cells[0].textContent : r.children[0].textContent, r.children[1].textContent]));
  seen.hostile_tags = await page.$$eval('#tags tr', (rows) => rows.map((r) => [r.children[0].textContent, r.children[1].textContent]));
  seen.inputs = await page.$$eval('#inputs tr', (rows) => rows.map((r) => r.textContent));
  seen.context = await page.$$eval('#context tr', (rows) => rows.map((r) => r.children[0].textContent));
  seen.pictures = await page.$$eval('#pictures img', (imgs) => imgs.map((i) => ({ alt: i.alt, src: i.src.slice(0, 5), ok: i.complete && i.naturalWidth > 0 })));
  seen.artifacts = await page.$$eval('#artifacts button.artifact', (b) => b.map((e) => e.dataset.path));
  await page.click('#artifacts button.artifact[data-path="x.html"]');
  await page.waitForSelector('#preview-text');
  seen.preview_html = await page.textContent('#preview-text');
  await page.click('#artifacts button.artifact[data-path="x.svg"]');
  await page.waitForSelector('#preview img');
  await page.waitForTimeout(300);
  seen.preview_svg_img = await page.$eval('#preview img', (i) => ({ src: i.src.slice(0, 5), alt: i.alt }));
  await page.click('#artifacts button.artifact[data-path="data.csv"]');
  await page.waitForFunction(() => document.querySelector('#preview-text') && document.querySelector('#preview-text').textContent.startsWith('a,b'));
  seen.preview_csv_lines = (await page.textContent('#preview-text')).split('\n').length;
  await shot('run-hostile');
  await go(`#/exp/${spec.exp_id}?cols=p:evil,t:evil,m:loss`);
  await waitRows();
  await page.evaluate(() => { const s = document.querySelector('#runs'); s.scrollTop = s.scrollHeight; });
  await page.waitForTimeout(200);
  await shot('runs-hostile');
  seen.pwned = await page.evaluate(() => window.__pwnedSeen || null);
  seen.script_tags = await page.$$eval('script', (s) => s.map((e) => e.getAttribute('src')));

  // ---- behind --auth: the login form, then the pages ----
  if (spec.auth_base) {
    const ap = await page.context().newPage();
    await ap.goto(spec.auth_base + '/#/');
    await ap.waitForSelector('form.login');
    seen.auth_login_shown = true;
    await ap.screenshot({ path: path.join(spec.out, 'login.png') });
    await ap.fill('#login-user', spec.auth_user);
    await ap.fill('#login-password', 'wrong-password');
    await ap.click('form.login button[type=submit]');
    await ap.waitForSelector('form.login .error');
    seen.auth_refused_shown = await ap.textContent('form.login .error');
    await ap.fill('#login-user', spec.auth_user);
    await ap.fill('#login-password', spec.auth_password);
    await ap.click('form.login button[type=submit]');
    await ap.waitForSelector('#experiments tbody tr');
    seen.auth_experiments = await ap.$$eval('#experiments tbody tr', (rows) => rows.length);
    await ap.close();
  }
} catch (e) {
  seen.failure = String(e && e.stack ? e.stack : e);
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(seen) + '\n');
