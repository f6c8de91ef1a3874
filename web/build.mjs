// SPDX-License-Identifier: MIT
// build.mjs - bundles the UI (src/main.js and its CSS, uPlot included) with esbuild into
// OUTDIR: index.html plus static/app-<hash>.js and its chunks. The hashed names let `cairn
// server` cache /static/ for good; tools/embed_web.c then compiles OUTDIR into the binary.
// The stylesheet and boot.js are inlined into index.html (no round trip before the opening
// requests start and the page can be styled); OUTDIR/csp.txt holds their SHA-256 hashes, line
// 1 the script's and line 2 the style's, which the server adds to its Content-Security-Policy.
//   node build.mjs OUTDIR
import * as esbuild from 'esbuild';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const outdir = path.resolve(process.argv[2] || path.join(here, 'dist'));
fs.rmSync(outdir, { recursive: true, force: true });
fs.mkdirSync(path.join(outdir, 'static'), { recursive: true });

// boot.js is built alone, with early.js inside it, as a classic script inlined into
// index.html: it runs while the HTML is parsed, before any file of the bundle has arrived
// (the app's bundle has its own copy of early.js).
const bootResult = await esbuild.build({
  entryPoints: [path.join(here, 'src', 'boot.js')],
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020'],
  write: false,
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
});
if (bootResult.outputFiles.length !== 1 || Object.values(bootResult.metafile.outputs).some((m) => m.cssBundle))
  throw new Error('src/boot.js must stay one file without CSS');
const boot = bootResult.outputFiles[0].text.trim();
const result = await esbuild.build({
  entryPoints: { app: path.join(here, 'src', 'main.js') },
  bundle: true,
  minify: true,
  format: 'esm',
  splitting: true,
  target: ['es2020'],
  entryNames: '[name]-[hash]',
  chunkNames: '[name]-[hash]',
  outdir: path.join(outdir, 'static'),
  metafile: true,
  legalComments: 'eof',
  logLevel: 'warning',
});
let js = '', css = '', preload = [];
const outputs = Object.assign({}, result.metafile.outputs);
const staticImports = (meta) => meta.imports.filter((i) => i.kind === 'import-statement').map((i) => path.basename(i.path));
for (const [out, meta] of Object.entries(outputs)) {
  if (!out.endsWith('.js') || !meta.entryPoint) continue;
  if (meta.entryPoint.endsWith('src/main.js')) {
    js = path.basename(out);
    css = meta.cssBundle ? path.basename(meta.cssBundle) : '';
    preload.push(...staticImports(meta));
  }
}
preload = [...new Set(preload)];
if (!js || !css || !boot) throw new Error('esbuild made no entry JS, no CSS for src/main.js or no src/boot.js');
// A lazy chunk gets a CSS file of everything it imports, i.e. main.js's again; nothing loads
// it, so it must hold nothing app.css lacks (import CSS from main.js, not from a lazy page).
const appCss = fs.readFileSync(path.join(outdir, 'static', css), 'utf8');
for (const out of Object.keys(outputs)) {
  if (!out.endsWith('.css') || path.basename(out) === css) continue;
  if (fs.readFileSync(out, 'utf8') !== appCss)
    throw new Error(`${out} holds CSS that app.css lacks: import that CSS from src/main.js`);
  fs.rmSync(out);
  delete outputs[out];
}
// The stylesheet is inlined too: nothing else loads it, so its file leaves the bundle.
const appCssText = appCss.trim();
fs.rmSync(path.join(outdir, 'static', css));
delete outputs[Object.keys(outputs).find((o) => path.basename(o) === css)];
for (const [what, text, end] of [['src/boot.js', boot, '</script'], ['the stylesheet', appCssText, '</style']])
  if (text.toLowerCase().includes(end) || text.includes('<!--'))
    throw new Error(`${what} holds "${end}" or "<!--" and cannot be inlined into index.html`);
const sha256 = (text) => `'sha256-${crypto.createHash('sha256').update(text, 'utf8').digest('base64')}'`;
fs.writeFileSync(path.join(outdir, 'csp.txt'), `${sha256(boot)}\n${sha256(appCssText)}\n`);
const links = preload.map((f) => `<link rel="modulepreload" href="/static/${f}">`).join('\n');
const html = fs.readFileSync(path.join(here, 'src', 'index.html'), 'utf8')
  .replace('%CSS%', () => appCssText)
  .replace('%JS%', '/static/' + js)
  .replace('%BOOT%', () => boot)
  .replace('</head>', (links ? links + '\n' : '') + '</head>');
fs.writeFileSync(path.join(outdir, 'index.html'), html);
let total = 0, first = 0;
for (const out of Object.keys(outputs)) total += fs.statSync(out).size;
for (const f of ['index.html', 'static/' + js, ...preload.map((f) => 'static/' + f)])
  first += fs.statSync(path.join(outdir, f)).size;
console.log(`web UI bundle: ${total} bytes in ${Object.keys(outputs).length} files; ${first} bytes for the first page (index.html with boot.js and the stylesheet inlined, ${js}${preload.length ? ', ' + preload.join(', ') : ''})`);
