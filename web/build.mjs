// SPDX-License-Identifier: MIT
// build.mjs - bundles the UI (src/main.js and its CSS, uPlot included) with esbuild into
// OUTDIR: index.html plus static/app-<hash>.js and static/app-<hash>.css. The hashed names let
// `cairn server` cache /static/ for good; tools/embed_web.c then compiles OUTDIR into the binary.
//   node build.mjs OUTDIR
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const outdir = path.resolve(process.argv[2] || path.join(here, 'dist'));
fs.rmSync(outdir, { recursive: true, force: true });
fs.mkdirSync(path.join(outdir, 'static'), { recursive: true });

// boot.js is built alone, with early.js inside it: one small file that runs the moment it
// arrives, with no import to wait for (the app's bundle has its own copy of early.js).
const bootResult = await esbuild.build({
  entryPoints: { boot: path.join(here, 'src', 'boot.js') },
  bundle: true,
  minify: true,
  format: 'esm',
  splitting: false,
  target: ['es2020'],
  entryNames: '[name]-[hash]',
  outdir: path.join(outdir, 'static'),
  metafile: true,
  legalComments: 'eof',
  logLevel: 'warning',
});
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
let js = '', css = '', boot = '', preload = [];
const outputs = Object.assign({}, result.metafile.outputs, bootResult.metafile.outputs);
const staticImports = (meta) => meta.imports.filter((i) => i.kind === 'import-statement').map((i) => path.basename(i.path));
for (const [out, meta] of Object.entries(outputs)) {
  if (!out.endsWith('.js') || !meta.entryPoint) continue;
  if (meta.entryPoint.endsWith('src/main.js')) {
    js = path.basename(out);
    css = meta.cssBundle ? path.basename(meta.cssBundle) : '';
    preload.push(...staticImports(meta));
  } else if (meta.entryPoint.endsWith('src/boot.js')) {
    boot = path.basename(out);
    if (meta.cssBundle || meta.imports.length) throw new Error('src/boot.js must stay one file without CSS');
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
const links = preload.map((f) => `<link rel="modulepreload" href="/static/${f}">`).join('\n');
const html = fs.readFileSync(path.join(here, 'src', 'index.html'), 'utf8')
  .replace('%CSS%', '/static/' + css)
  .replace('%JS%', '/static/' + js)
  .replace('%BOOT%', '/static/' + boot)
  .replace('</head>', (links ? links + '\n' : '') + '</head>');
fs.writeFileSync(path.join(outdir, 'index.html'), html);
let total = 0, first = 0;
for (const out of Object.keys(outputs)) total += fs.statSync(out).size;
for (const f of ['index.html', 'static/' + boot, 'static/' + js, 'static/' + css, ...preload.map((f) => 'static/' + f)])
  first += fs.statSync(path.join(outdir, f)).size;
console.log(`web UI bundle: ${total} bytes in ${Object.keys(outputs).length} files; ${first} bytes for the first page (${boot}, ${js}, ${css}${preload.length ? ', ' + preload.join(', ') : ''})`);
