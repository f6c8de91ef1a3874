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

const result = await esbuild.build({
  entryPoints: { app: path.join(here, 'src', 'main.js') },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2020'],
  entryNames: '[name]-[hash]',
  outdir: path.join(outdir, 'static'),
  metafile: true,
  legalComments: 'eof',
  logLevel: 'warning',
});
let js = '', css = '';
for (const out of Object.keys(result.metafile.outputs)) {
  const name = path.basename(out);
  if (name.endsWith('.js')) js = name;
  if (name.endsWith('.css')) css = name;
}
const html = fs.readFileSync(path.join(here, 'src', 'index.html'), 'utf8')
  .replace('%CSS%', '/static/' + css)
  .replace('%JS%', '/static/' + js);
fs.writeFileSync(path.join(outdir, 'index.html'), html);
let total = 0;
for (const f of ['index.html', 'static/' + js, 'static/' + css])
  total += fs.statSync(path.join(outdir, f)).size;
console.log(`web UI bundle: ${total} bytes (${js}, ${css})`);
