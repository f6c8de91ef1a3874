# SPDX-License-Identifier: MIT
"""`cairn drift` through the CLI: a shifted copy of bundled data drifts (exit 1) and an
unshifted split does not (exit 0); the JSON, HTML (self-contained, escaped) and SVG outputs;
the KS statistic and p-value against SciPy computed at test time (when /usr/bin/python3 has
scipy); model files from `cairn train` carry a reference profile, old ones get one with
`cairn drift reference --write`; bad input exits 2 with a clear message."""
import csv
import glob
import hashlib
import json
import pathlib
import random
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402

DATA = harness.SOURCE_DIR / 'data'
SCIPY_PY = '/usr/bin/python3'


def has_scipy():
    try:
        return subprocess.run([SCIPY_PY, '-c', 'import scipy.stats'], capture_output=True,
                              timeout=60).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


class Drift(harness.CairnTest):
    def split(self, name='breast_cancer', scale=None, seed=0):
        with open(DATA / ('%s.csv' % name)) as f:
            rows = list(csv.reader(f))
        header, body = rows[0], rows[1:]
        random.Random(seed).shuffle(body)
        half = len(body) // 2
        ref, cur = body[:half], body[half:]
        if scale:
            cur = [[str(float(v) * scale) if i < len(header) - 1 else v
                    for i, v in enumerate(r)] for r in cur]
        paths = []
        for tag, rs in (('ref', ref), ('cur', cur)):
            p = self.tmp / ('%s-%s-%s-%d.csv' % (name, tag, scale or 1, seed))
            with open(p, 'w', newline='') as f:
                csv.writer(f).writerows([header] + rs)
            paths.append(p)
        return paths

    def test_unshifted_split_has_no_drift(self):
        ref, cur = self.split()
        out = self.cairn_json('drift', '--reference', ref, '--current', cur, '--json',
                              '--ignore', 'target', expect=0, store=False)
        self.assertFalse(out['dataset_drift'])
        self.assertEqual(out['n_features'], 30)
        self.assertLess(out['share'], 0.5)
        self.cairn('drift', '--reference', ref, '--current', cur, '--ignore', 'target',
                   expect=0, store=False)

    def test_shifted_copy_drifts_with_report_and_pictures(self):
        ref, cur = self.split(scale=1.3)
        html = self.tmp / 'report.html'
        svgs = self.tmp / 'svg'
        out = self.cairn_json('drift', '--reference', ref, '--current', cur, '--json',
                              '--html', html, '--svg-dir', svgs, expect=1, store=False)
        self.assertTrue(out['dataset_drift'])
        self.assertTrue(out['drift'])
        drifted = [f for f in out['features'] if f['drifted']]
        self.assertGreater(len(drifted), 15)
        for f in out['features']:
            self.assertIn(f['test'], ('ks', 'chi2', 'z'))  # 284 reference rows: p-value tests
            self.assertEqual(f['drifted'], f['p_value'] <= f['threshold'] if f['test'] == 'ks'
                             else f['p_value'] < f['threshold'])
        files = sorted(svgs.glob('*.svg'))
        self.assertEqual(len(files), len(drifted))
        for p in files:
            ET.parse(p)  # well-formed
        page = html.read_text()
        self.assertTrue(page.startswith('<!DOCTYPE html>'))
        self.assertEqual(page.count('<svg'), len(drifted))
        for bad in ('<script', '<link', 'src=', '@import'):
            self.assertNotIn(bad, page)
        # human output: a table row per feature
        text = self.cairn('drift', '--reference', ref, '--current', cur, expect=1,
                          store=False).stdout
        self.assertIn('dataset drift', text)
        self.assertIn('mean radius', text)

    def test_html_escapes_names_and_levels(self):
        ref = self.tmp / 'r.csv'
        cur = self.tmp / 'c.csv'
        ref.write_text('"<b>x</b>",k\n' + ''.join('%d,a\n' % (i % 7) for i in range(60)))
        cur.write_text('"<b>x</b>",k\n' + ''.join('%d,<script>\n' % (i % 3 + 5)
                                                  for i in range(60)))
        html = self.tmp / 'r.html'
        self.cairn('drift', '--reference', ref, '--current', cur, '--html', html, expect=1,
                   store=False)
        page = html.read_text()
        self.assertNotIn('<b>x', page)
        self.assertNotIn('<script>', page)
        self.assertIn('&lt;b&gt;x&lt;/b&gt;', page)
        self.assertIn('&lt;script&gt;', page)

    def test_ks_matches_scipy_at_test_time(self):
        if not has_scipy():
            self.skipTest('no scipy for /usr/bin/python3')
        rnd = random.Random(7)
        cols = ['a', 'b', 'c', 'd']
        ref_rows = [[round(rnd.gauss(0, 1), 3), rnd.randint(0, 40), round(rnd.random(), 2),
                     round(rnd.expovariate(1), 4)] for _ in range(1200)]
        cur_rows = [[round(rnd.gauss(0.1, 1), 3), rnd.randint(0, 42), round(rnd.random(), 2),
                     round(rnd.expovariate(1.2), 4)] for _ in range(15000)]
        ref, cur = self.tmp / 'kr.csv', self.tmp / 'kc.csv'
        for p, rows in ((ref, ref_rows), (cur, cur_rows[:900]), (self.tmp / 'big.csv', cur_rows)):
            with open(p, 'w', newline='') as f:
                csv.writer(f).writerows([cols] + rows)
        cases = [('auto', cur), ('exact', cur), ('asymp', cur), ('auto', self.tmp / 'big.csv')]
        for method, cur_path in cases:
            out = self.cairn_json('drift', '--reference', ref, '--current', cur_path, '--json',
                                  '--test', 'ks', '--ks-method', method, expect=None,
                                  store=False)
            script = ('import csv, json, sys\nfrom scipy import stats\n'
                      'r = list(csv.reader(open(sys.argv[1])))[1:]\n'
                      'c = list(csv.reader(open(sys.argv[2])))[1:]\n'
                      'out = []\n'
                      'for j in range(4):\n'
                      '    a = [float(x[j]) for x in r]; b = [float(x[j]) for x in c]\n'
                      '    k = stats.ks_2samp(a, b, method=sys.argv[3])\n'
                      '    out.append([float(k.statistic), float(k.pvalue),'
                      ' float(stats.wasserstein_distance(a, b))])\n'
                      'print(json.dumps(out))\n')
            want = json.loads(subprocess.run([SCIPY_PY, '-c', script, str(ref), str(cur_path),
                                              method], capture_output=True, text=True,
                                             check=True, timeout=300).stdout)
            for f, (d, p, w) in zip(out['features'], want):
                with self.subTest(method=method, feature=f['name']):
                    self.assertEqual(f['test'], 'ks')
                    self.assertAlmostEqual(f['statistic'], d, delta=1e-12)
                    self.assertLessEqual(abs(f['p_value'] - p), 1e-9 * p + 1e-15)
                    self.assertLessEqual(abs(f['stats']['wasserstein'] - w), 1e-9 * w + 1e-12)

    def train_model(self):
        cfg = self.tmp / 'train.yaml'
        cfg.write_text('name: m\nexperiment: drift\nseed: 1\n'
                       'data: {path: %s, label: target, categorical: [target]}\n'
                       'split: {test: 0.2, val: 0.2}\nlearner: {name: logistic}\n'
                       % (DATA / 'breast_cancer.csv'))
        self.cairn_json('train', '--json', '--config', cfg)
        models = glob.glob(str(self.tmp / '**' / 'model.cairn'), recursive=True)
        self.assertEqual(len(models), 1, models)
        return pathlib.Path(models[0])

    def test_model_file_carries_a_profile(self):
        model = self.train_model()
        ref, cur = self.split(seed=3)
        _, shifted = self.split(scale=1.4, seed=3)
        out = self.cairn_json('drift', '--reference', model, '--current', cur, '--json',
                              expect=None, store=False)
        self.assertFalse(out['dataset_drift'])
        self.assertFalse(out['prediction_drift'])  # a model file: its predictions too
        self.assertEqual(out['n_features'], 30)
        self.assertEqual(out['features'][-1]['name'], 'prediction')
        self.assertFalse(out['sketch'])  # 341 training rows: kept whole
        out = self.cairn_json('drift', '--reference', model, '--current', shifted, '--json',
                              expect=1, store=False)
        self.assertTrue(out['dataset_drift'])
        self.assertEqual(out['features'][-1]['role'], 'prediction')
        self.assertIsNotNone(out['prediction_drift'])

    def test_old_model_file_loads_and_gets_a_profile(self):
        model = self.train_model()
        raw = model.read_bytes()
        n = struct.unpack('<Q', raw[12:20])[0]
        meta = json.loads(raw[20:20 + n])
        self.assertIn('drift_profile', meta)
        del meta['drift_profile']  # what a model file from before profiles looks like
        text = json.dumps(meta).encode()
        body = raw[:12] + struct.pack('<Q', len(text)) + text + raw[20 + n:-32]
        old = self.tmp / 'old.cairn'
        old.write_bytes(body + hashlib.sha256(body).digest())
        err = self.cairn_error('drift', '--reference', old, '--current', DATA / 'breast_cancer.csv',
                               expect=2, store=False, mentions=('cairn drift reference',))
        self.assertIn('no drift reference profile', err)
        self.cairn('drift', 'reference', '--data', DATA / 'breast_cancer.csv', '--model', old,
                   '--write', '--categorical', 'target', store=False)
        out = self.cairn_json('drift', '--reference', old, '--model', old, '--current',
                              DATA / 'breast_cancer.csv', '--json', '--categorical', 'target',
                              expect=0, store=False)
        self.assertFalse(out['drift'])
        self.assertEqual(out['n_features'], 30)
        profile = self.tmp / 'ref.json'
        self.cairn('drift', 'reference', '--data', DATA / 'breast_cancer.csv', '-o', profile,
                   store=False)
        self.assertEqual(json.loads(profile.read_text())['kind'], 'cairn.drift.reference')

    def test_bad_input_exits_2(self):
        ref, cur = self.split()
        self.cairn_error('drift', '--reference', ref, '--current', self.tmp / 'nope.csv',
                         expect=2, store=False, mentions=('nope.csv',))
        self.cairn_error('drift', '--reference', self.tmp / 'gone.csv', '--current', cur,
                         expect=2, store=False, mentions=('gone.csv',))
        self.cairn_error('drift', '--reference', ref, '--current', DATA / 'iris.csv',
                         expect=2, store=False, mentions=("column 'mean radius'",))
        empty = self.tmp / 'empty.csv'
        empty.write_text('')
        self.cairn_error('drift', '--reference', ref, '--current', empty, expect=2,
                         store=False, mentions=('empty.csv',))
        header = self.tmp / 'header.csv'
        with open(ref) as f:
            header.write_text(f.readline())
        self.cairn_error('drift', '--reference', ref, '--current', header, expect=2,
                         store=False, mentions=('no data rows',))
        bad = self.tmp / 'bad.json'
        bad.write_text('{"kind": "something else"}')
        self.cairn_error('drift', '--reference', bad, '--current', cur, expect=2,
                         store=False, mentions=('drift reference',))
        self.cairn_error('drift', '--current', cur, expect=2, store=False,
                         mentions=('--reference',))
        self.cairn_error('drift', '--reference', ref, '--current', cur, '--test', 'magic',
                         expect=2, store=False, mentions=('magic',))


if __name__ == '__main__':
    harness.main()
