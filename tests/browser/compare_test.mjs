// SPDX-License-Identifier: MIT
// compare_test.mjs - drives headless chromium (playwright-core from web/'s lockfile) through
// the compare view, the runs table's scatter, keyboard navigation, a READ-only user behind
// --auth, and both color schemes; prints what it saw as one JSON object. The checks are in
// tests/e2e/test_webui_compare.py, which fills the store and starts the servers.
//   node compare_test.mjs SPEC.json   SPEC: {base, auth_base, out, web_dir, chromium, exp_id,
//                                     runs, pair, axes, color, x, y, auth_user, auth_password}
import path from 'node:path';
import { start, newPage as openPage } from './lib.mjs';

const { spec, browser } = await start();
const seen = { console_errors: [], csp_violations: [], page_errors: [], contrast: {}, contrast_bg: {} };

// (401: the READ-only user's refused requests are expected.)
async function newPage(colorScheme) {
  const page = await openPage(browser, seen, { colorScheme, quiet: /status of 40[014]/ });
  page.shot = (name) => page.screenshot({ path: path.join(spec.out, name + '.png'), fullPage: true });
  return page;
}

// WCAG contrast of the text of each selector's elements against their effective background.
function contrastOf(selectors) {
  const rgb = (s) => { const m = /rgba?\(([^)]+)\)/.exec(s); if (!m) return null; const p = m[1].split(',').map(Number); return { c: p.slice(0, 3), a: p.length > 3 ? p[3] : 1 }; };
  const lum = (c) => { const f = c.map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }); return 0.2126 * f[0] + 0.7152 * f[1] + 0.0722 * f[2]; };
  const bgOf = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const b = rgb(getComputedStyle(e).backgroundColor);
      if (b && b.a > 0.5) return b.c;
    }
    return rgb(getComputedStyle(document.documentElement).backgroundColor)?.c || [255, 255, 255];
  };
  const out = [];
  for (const sel of selectors) {
    for (const el of [...document.querySelectorAll(sel)].slice(0, 3)) {
      const st = getComputedStyle(el);
      const fg = rgb(el instanceof SVGElement ? st.fill : st.color);
      if (!fg) continue;
      const bg = bgOf(el instanceof SVGElement ? el.ownerSVGElement : el);
      // What shows: the color blended with the background by its alpha and every opacity.
      let alpha = fg.a;
      for (let e = el; e; e = e.parentElement) alpha *= Number(getComputedStyle(e).opacity);
      fg.c = fg.c.map((v, i) => v * alpha + bg[i] * (1 - alpha));
      const l1 = lum(fg.c), l2 = lum(bg);
      const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
      out.push({ sel, fg: fg.c.map(Math.round).join(','), bg: bg.join(','), ratio: Math.round(ratio * 100) / 100 });
    }
  }
  return out;
}
const TEXT = ['body', 'h1', 'h2', '.muted', 'a', 'button:not(:disabled)', 'button:disabled', 'select', '.grid th', '.grid td', '.compare tr.diff td',
  '.plot text.pc-name', '.plot text.tick', '.verdict', '#crumbs', '.vrow .cell', '.vrow.active .cell', '.vrow.selected .cell', '.vhead .cell',
  '.vrow .name a', '.vrow.active .name a', '.vrow.selected .name a', '.vhead .sort', 'summary', 'input', 'label', '#sel-count', '#run-count'];

try {
  const runs = spec.runs.join(',');
  const cmpHash = `#/compare?runs=${runs}&pc=${spec.axes.join(',')}&color=${spec.color}&sx=${spec.x}&sy=${spec.y}`;
  for (const scheme of ['light', 'dark']) {
    const page = await newPage(scheme);
    const contrast = [];
    // ---- compare: parallel coordinates and scatter ----
    await page.nav(spec.base + '/' + cmpHash);
    await page.waitForSelector('#parcoords .pc-line');
    await page.waitForSelector('#scatter .sc-pt');
    if (scheme === 'light') {
      const pc = {};
      pc.lines = await page.$$eval('#parcoords path.pc-line', (ps) => ps.map((p) => p.dataset.runId));
      pc.strokes = await page.$$eval('#parcoords path.pc-line', (ps) => ps.map((p) => p.getAttribute('stroke')));
      pc.axes = await page.$$eval('#parcoords g.pc-axis', (gs) => gs.map((g) => g.dataset.col));
      pc.opt_ticks = await page.$$eval('#parcoords g.pc-axis[data-col="p:opt"] text.tick', (ts) => ts.map((t) => t.textContent));
      const first = await page.$('#parcoords path.pc-line');
      pc.hovered_id = await first.evaluate((p) => p.dataset.runId);
      // Hover a quarter of the way from the acc axis to the loss axis, where no lines cross.
      await page.$eval('#parcoords', (e) => e.scrollIntoView());
      const at = await first.evaluate((p) => {
        const v = p.getAttribute('d').split(/[ML]/).filter(Boolean).map((xy) => xy.split(',').map(Number));
        const r = p.ownerSVGElement.getBoundingClientRect();
        return { x: r.left + v[2][0] + 0.25 * (v[3][0] - v[2][0]), y: r.top + v[2][1] + 0.25 * (v[3][1] - v[2][1]) };
      });
      await page.mouse.move(at.x, at.y);
      pc.hover_text = await page.textContent('#pc-hover');
      await page.click('#pc-axes summary');
      await page.uncheck('#pc-axes input[data-col="p:opt"]');
      pc.axes_after_uncheck = await page.$$eval('#parcoords g.pc-axis', (gs) => gs.map((g) => g.dataset.col));
      pc.hash_after_uncheck = await page.evaluate(() => decodeURIComponent(location.hash));
      await page.click('#pc-axes summary');
      seen.parcoords = pc;
      seen.scatter = await page.$$eval('#scatter circle.sc-pt', (cs) => cs.map((c) => ({ id: c.dataset.runId, x: c.dataset.x, y: c.dataset.y, cx: Number(c.getAttribute('cx')), cy: Number(c.getAttribute('cy')) })));
      await page.selectOption('#sc-x', 'm:loss');
      seen.scatter_hash_after_select = await page.evaluate(() => decodeURIComponent(location.hash));
      seen.scatter_x_after_select = (await page.$$eval('#scatter circle.sc-pt', (cs) => cs.map((c) => c.dataset.x))).sort();
      await page.selectOption('#sc-x', spec.x);
    }
    contrast.push(...await page.evaluate(contrastOf, TEXT));
    seen.contrast_bg[scheme] = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await page.shot('compare-' + scheme);

    // ---- two runs: the significance test; two seeded runs: no test, and why ----
    await page.nav(spec.base + `/#/compare?runs=${spec.pair.join(',')}`);
    await page.waitForSelector('#sigtest-verdict, #no-test, #sigtest .error');
    if (scheme === 'light') {
      seen.test = await page.evaluate(() => {
        const v = document.getElementById('sigtest-verdict');
        const t = document.getElementById('sigtest-table');
        return v ? { p_value: v.dataset.pValue, significant: v.dataset.significant, verdict: v.textContent, table: t.textContent }
          : { error: document.getElementById('sigtest').textContent };
      });
    }
    contrast.push(...await page.evaluate(contrastOf, ['.verdict', '#sigtest-table th', '#sigtest-table td']));
    await page.shot('pair-' + scheme);
    if (scheme === 'light') {
      await page.nav(spec.base + `/#/compare?runs=${spec.runs[0]},${spec.runs[1]}`);
      await page.waitForSelector('#no-test, #sigtest-verdict');
      seen.no_test_shown = !!(await page.$('#no-test')) && (await page.textContent('#no-test')).length > 10;
    }

    // ---- the runs table and its scatter ----
    await page.nav(spec.base + `/#/exp/${spec.exp_id}`);
    await page.until(() => document.body.dataset.firstRows !== undefined);
    // A selected row and an active row, so their colors are measured too.
    await page.click('#runs .vrow[data-i="0"] input[type=checkbox]');
    await page.until(() => document.getElementById('sel-count').textContent === '1 selected');
    // Without --auth: MANAGE, so delete is enabled once a run is selected.
    if (scheme === 'light') seen.plain_delete = await page.$eval('#delete', (b) => ({ disabled: b.disabled, title: b.getAttribute('title') }));
    await page.click('#runs .vrow[data-i="1"] .cell:nth-child(3)');
    await page.keyboard.press('ArrowDown');
    contrast.push(...await page.evaluate(contrastOf, TEXT));
    await page.shot('runs-' + scheme);
    await page.click('#scatter-link');
    await page.waitForSelector('#scatter');
    await page.selectOption('#sc-x', spec.x);
    await page.selectOption('#sc-y', spec.y);
    await page.waitForSelector('#scatter .sc-pt');
    if (scheme === 'light') {
      const st = {};
      st.count = await page.textContent('#sc-count');
      st.ids = await page.$$eval('#scatter circle.sc-pt', (cs) => cs.map((c) => c.dataset.runId));
      st.missing = await page.textContent('#sc-missing').catch(() => '');
      st.hash = await page.evaluate(() => decodeURIComponent(location.hash));
      st.clicked = st.ids[0];
      await page.click(`#scatter circle.sc-pt[data-run-id="${st.clicked}"]`, { force: true });
      await page.until(() => location.hash.startsWith('#/run/') && document.querySelector('h1') && !document.querySelector('#scatter'));
      st.opened_title = (await page.textContent('h1')).trim();
      seen.table_scatter = st;
    } else {
      contrast.push(...await page.evaluate(contrastOf, ['.plot text.pc-name', '.plot text.tick', '#sc-count']));
    }
    await page.nav(spec.base + `/#/exp/${spec.exp_id}/scatter?x=${spec.x}&y=${spec.y}`);
    await page.waitForSelector('#scatter .sc-pt');
    await page.shot('scatter-' + scheme);
    seen.contrast[scheme] = contrast;

    // ---- keyboard (light): Tab to the table, arrows, Space, Enter ----
    if (scheme === 'light') {
      const k = { stops: [], no_ring: [] };
      await page.nav(spec.base + `/#/exp/${spec.exp_id}`);
      await page.until(() => document.body.dataset.firstRows !== undefined);
      await page.evaluate(() => document.activeElement && document.activeElement.blur());
      for (let i = 0; i < 40; i++) {
        await page.keyboard.press('Tab');
        const f = await page.evaluate(() => {
          const e = document.activeElement;
          if (!e || e === document.body) return null;
          const st = getComputedStyle(e);
          return { id: e.id || e.tagName.toLowerCase() + (e.textContent ? ':' + e.textContent.slice(0, 20) : ''), ring: st.outlineStyle !== 'none' && parseFloat(st.outlineWidth) > 0 };
        });
        if (!f) continue;
        k.stops.push(f.id);
        if (!f.ring) k.no_ring.push(f.id);
        if (f.id === 'runs') { k.reached_table = true; break; }
      }
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press(' ');
      k.selected_text = await page.textContent('#sel-count');
      k.expected = await page.$eval('#runs .vrow.active .name', (e) => e.textContent);
      await page.keyboard.press('Enter');
      await page.until(() => location.hash.startsWith('#/run/') && document.querySelector('h1') && !document.getElementById('runs'));
      k.opened = (await page.textContent('h1')).trim();
      seen.keyboard = k;
    }
    await page.context().close();
  }

  // ---- behind --auth, a READ-only user: delete and restore disabled, saying why ----
  {
    const page = await newPage('light');
    const failed = [];
    let signedIn = false;
    page.on('response', (r) => { if (signedIn && r.status() >= 400) failed.push(`${r.status()} ${r.url()}`); });
    await page.nav(spec.auth_base + `/#/exp/${spec.exp_id}`);
    await page.waitForSelector('form.login');
    await page.fill('#login-user', spec.auth_user);
    await page.fill('#login-password', spec.auth_password);
    signedIn = true;
    await page.click('form.login button[type=submit]');
    await page.until(() => document.body.dataset.firstRows !== undefined);
    await page.click('#runs .vrow[data-i="0"] input[type=checkbox]');
    await page.until(() => document.getElementById('sel-count').textContent === '1 selected');
    await page.until(() => document.getElementById('delete').hasAttribute('title'));
    const a = await page.evaluate(() => {
      const d = document.getElementById('delete'), r = document.getElementById('restore');
      return { delete_disabled: d.disabled, delete_title: d.title, restore_disabled: r.disabled, selected_text: document.getElementById('sel-count').textContent, note: document.getElementById('perm-note').textContent };
    });
    // The compare and scatter pages read only: nothing fails for READ either.
    await page.nav(spec.auth_base + `/#/compare?runs=${spec.pair.join(',')}`);
    await page.waitForSelector('#sigtest-verdict, #no-test, #sigtest .error');
    await page.nav(spec.auth_base + `/#/exp/${spec.exp_id}`);
    await page.until(() => document.body.dataset.firstRows !== undefined);
    await page.click('#runs .vrow[data-i="0"] input[type=checkbox]');
    await page.hover('#delete', { force: true });
    await page.shot('runs-readonly');
    a.failed_requests = failed;
    seen.readonly = a;
    await page.context().close();
  }
} catch (e) {
  seen.failure = String(e && e.stack ? e.stack : e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(seen));
