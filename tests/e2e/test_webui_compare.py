# SPDX-License-Identifier: MIT
"""The web UI's compare view, scatter, permissions shown as disabled, keyboard and color
schemes, in headless chromium (tests/browser/compare_test.mjs drives it; issue 13 points 5
and 9). A store filled with cairn_seed_store (six runs with a numeric and a categorical param
and two metrics) and two `cairn run` scripts that log predictions of the same 80 rows, so
`cairn eval compare` has a test. Checks: the parallel coordinates draw one line per run and
one axis per chosen column, the axis chooser and the URL agree; the scatter draws one point
per run at the run's own values (compare view and the runs table's scatter of the whole
experiment), a click opens the run; the significance test shows the p-value `cairn eval
compare --json` computes; behind --auth a READ-only user sees delete disabled with the reason
and no request fails; Tab, arrows, Space and Enter reach a run; text keeps a readable contrast
in the light and the dark scheme. Screenshots of both schemes go to
<build>/test-artifacts/webui-compare/. Stdlib only; ctest label `browser`."""
import json
import os
import pathlib
import shutil
import subprocess
import sys
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
import restlib  # noqa: E402

CHROMIUM = '/usr/bin/chromium'
WEB_DIR = harness.SOURCE_DIR / 'web'
DRIVER = harness.SOURCE_DIR / 'tests' / 'browser' / 'compare_test.mjs'

# Predictions of 80 fixed rows, each right with probability q (as in test_compare.py).
SCRIPT = r'''
import os, random, sys
seed, q = int(sys.argv[1]), float(sys.argv[2])
random.seed(0)
truth = [random.choice(['cat', 'dog', 'eel']) for _ in range(80)]
random.seed(seed)
other = {'cat': 'dog', 'dog': 'eel', 'eel': 'cat'}
pred = [t if random.random() < q else other[t] for t in truth]
acc = sum(t == p for t, p in zip(truth, pred)) / len(truth)
print('cairn.final: val_accuracy=%r' % acc)
os.makedirs('predictions', exist_ok=True)
with open('predictions/val.csv', 'w') as f:
    f.write('row,y_true,y_pred\n')
    for i in range(80):
        f.write('%d,%s,%s\n' % (i, truth[i], pred[i]))
print('cairn.artifact: path=predictions/val.csv')
'''

LRS = ['0.1', '0.03', '0.01', '0.003', '0.001', '0.1']
OPTS = ['adam', 'sgd', 'adam', 'rmsprop', 'sgd', 'adam']


def cli(store, *args, input=None, cwd=None):
    env = dict(os.environ)
    env.pop('CAIRN_STORE', None)
    proc = subprocess.run([harness.CAIRN_BIN, '--store', store, *map(str, args)], input=input,
                          capture_output=True, text=True, timeout=120, cwd=cwd, env=env)
    assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
    return proc


@unittest.skipUnless(os.path.exists(CHROMIUM),
                     '/usr/bin/chromium is absent: install it with scripts/install-deps.sh '
                     '(apt-get install chromium) to run the browser tests')
class CompareView(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = pathlib.Path(restlib.tempfile.mkdtemp(prefix='cairn-webui-cmp-'))
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.store = 'sqlite:///' + str(cls.tmp / 's.db').lstrip('/')
        cls.art = cls.tmp / 's-artifacts'
        cls.out = harness.BUILD_DIR / 'test-artifacts' / 'webui-compare'
        shutil.rmtree(cls.out, True)
        cls.out.mkdir(parents=True)
        # Six seeded runs: acc and loss as functions of the run's index.
        lines = ['exp cmp-test']
        cls.expected = {}
        for i in range(6):
            acc, loss = round(0.7 + 0.04 * i, 4), round(0.9 - 0.1 * i, 4)
            lines += ['run cmp-test name=seed-%d start=%d' % (i, 1700000000000 + i * 1000),
                      'param lr %s' % LRS[i], 'param opt %s' % OPTS[i],
                      'metric acc %r 0' % acc, 'metric loss %r 0' % loss, 'finish FINISHED']
        proc = subprocess.run([os.environ.get('CAIRN_SEED_STORE', 'cairn_seed_store'), cls.store],
                              input='\n'.join(lines) + '\n', capture_output=True, text=True,
                              check=True, timeout=120)
        cls.seeded = proc.stdout.split()
        assert len(cls.seeded) == 6, proc.stdout
        for i, rid in enumerate(cls.seeded):
            cls.expected[rid] = {'lr': LRS[i], 'opt': OPTS[i], 'acc': round(0.7 + 0.04 * i, 4),
                                 'name': 'seed-%d' % i}
        # Two script runs on the same 80 rows: McNemar's test on the shared rows.
        script = cls.tmp / 'script.py'
        script.write_text(SCRIPT)
        cls.pair = []
        for seed, q in ((1, 0.9), (2, 0.6)):
            p = cli(cls.store, 'run', '--no-git', '--experiment', 'cmp-test', '--name',
                    'pred-%d' % seed, '--', sys.executable, str(script), seed, q, cwd=cls.tmp)
            line = next(l for l in p.stderr.splitlines() if ' FINISHED ' in l)
            cls.pair.append(line.split()[2])
        cls.eval = json.loads(cli(cls.store, 'eval', 'compare', *cls.pair, '--json').stdout)
        assert cls.eval['has_test'], cls.eval
        cli(cls.store, 'auth', 'user', 'add', 'reader', '--password-stdin',
            input='reader-secret\n')
        cls.server = restlib.Server(cls.store, cls.art, cls.tmp)
        cls.addClassCleanup(cls.server.stop)
        cls.auth_server = restlib.Server(cls.store, cls.art, cls.tmp, '--auth',
                                         '--default-permission', 'NO_PERMISSIONS')
        cls.addClassCleanup(cls.auth_server.stop)
        with urllib.request.urlopen(cls.server.base + '/api/2.0/mlflow/experiments/get-by-name'
                                    '?experiment_name=cmp-test', timeout=30) as r:
            cls.exp_id = json.loads(r.read())['experiment']['experiment_id']
        cli(cls.store, 'auth', 'grant', 'experiment', cls.exp_id, 'reader', 'READ')

    def test_compare_scatter_permissions_keyboard_schemes(self):
        spec = {'base': self.server.base, 'auth_base': self.auth_server.base,
                'out': str(self.out), 'web_dir': str(WEB_DIR), 'chromium': CHROMIUM,
                'exp_id': self.exp_id, 'runs': self.seeded, 'pair': self.pair,
                'axes': ['p:lr', 'p:opt', 'm:acc', 'm:loss'], 'color': 'm:acc',
                'x': 'p:lr', 'y': 'm:acc', 'auth_user': 'reader',
                'auth_password': 'reader-secret'}
        spec_path = self.tmp / 'spec.json'
        spec_path.write_text(json.dumps(spec))
        proc = subprocess.run(['node', str(DRIVER), str(spec_path)], capture_output=True,
                              text=True, timeout=240)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        seen = json.loads(proc.stdout.strip().splitlines()[-1])
        (self.out / 'seen.json').write_text(json.dumps(seen, indent=1))
        self.assertNotIn('failure', seen, seen.get('failure'))
        self.assertEqual(seen['page_errors'], [])
        self.assertEqual(seen['csp_violations'], [])
        self.assertEqual(seen['console_errors'], [])

        # Parallel coordinates: a line per run, an axis per chosen column, in the URL's order.
        pc = seen['parcoords']
        self.assertEqual(sorted(pc['lines']), sorted(self.seeded))
        self.assertEqual(pc['axes'], spec['axes'])
        self.assertEqual(len(set(pc['strokes'])), 6)  # colored by acc: six values, six colors
        self.assertIn(self.expected[pc['hovered_id']]['name'], pc['hover_text'])
        # Unchecking an axis removes it from the plot and the URL.
        self.assertEqual(pc['axes_after_uncheck'], ['p:lr', 'm:acc', 'm:loss'])
        self.assertIn('pc=p:lr,m:acc,m:loss', pc['hash_after_uncheck'])
        # The categorical axis orders its values: adam, rmsprop, sgd.
        self.assertEqual(pc['opt_ticks'], ['adam', 'rmsprop', 'sgd'])

        # Scatter in compare: one point per run at its own lr and acc; higher acc drawn higher.
        pts = seen['scatter']
        self.assertEqual(sorted(p['id'] for p in pts), sorted(self.seeded))
        for p in pts:
            e = self.expected[p['id']]
            self.assertEqual(p['x'], e['lr'])
            self.assertAlmostEqual(float(p['y']), e['acc'], places=9)
        by_acc = sorted(pts, key=lambda p: float(p['y']))
        self.assertEqual([p['cy'] for p in by_acc], sorted((p['cy'] for p in pts), reverse=True))
        by_lr = sorted(pts, key=lambda p: float(p['x']))
        self.assertEqual([p['cx'] for p in by_lr], sorted(p['cx'] for p in pts))
        self.assertIn('sx=m:loss', seen['scatter_hash_after_select'])
        self.assertEqual(seen['scatter_x_after_select'],
                         sorted(str(round(0.9 - 0.1 * i, 4)) for i in range(6)))

        # The significance test: cairn eval compare's p-value, and its verdict.
        t = seen['test']
        self.assertAlmostEqual(float(t['p_value']), self.eval['pvalue'], places=12)
        self.assertEqual(t['significant'], 'true' if self.eval['significant'] else 'false')
        self.assertIn(self.eval['test'], t['table'])
        self.assertIn('80', t['table'])
        self.assertEqual(seen['no_test_shown'], True)  # two seeded runs share nothing

        # The runs table's scatter: every run of the experiment (6 seeded + 2 scripts has no
        # lr: only the 6 with lr are drawn, the 2 others are counted as missing); a click opens.
        st = seen['table_scatter']
        self.assertEqual(st['count'], '8 runs')
        self.assertEqual(sorted(st['ids']), sorted(self.seeded))
        self.assertIn('2 runs without both values', st['missing'])
        self.assertEqual(st['opened_title'], self.expected[st['clicked']]['name'])

        # Keyboard: Tab reaches the table (every stop had a visible focus ring), arrows move,
        # Space selects, Enter opens the active run.
        k = seen['keyboard']
        self.assertTrue(k['reached_table'], k['stops'])
        self.assertEqual(k['no_ring'], [])
        self.assertEqual(k['selected_text'], '1 selected')
        self.assertEqual(k['opened'], k['expected'])

        # Without --auth everything is MANAGE: delete enabled once a run is selected.
        self.assertEqual(seen['plain_delete'], {'disabled': False, 'title': None})
        # A READ-only user: delete disabled with the reason; no request failed after sign-in.
        a = seen['readonly']
        self.assertTrue(a['delete_disabled'])
        self.assertIn('needs MANAGE', a['delete_title'])
        self.assertTrue(a['restore_disabled'])
        self.assertIn('read-only here', a['note'])  # said in the page too, not only a title
        self.assertEqual(a['failed_requests'], [])
        self.assertEqual(a['selected_text'], '1 selected')

        # Contrast: every checked text reaches 4.5:1 (WCAG AA) in both schemes.
        for scheme in ('light', 'dark'):
            low = [c for c in seen['contrast'][scheme] if c['ratio'] < 4.5]
            self.assertEqual(low, [], scheme)
            self.assertGreater(len(seen['contrast'][scheme]), 8)
        self.assertNotEqual(seen['contrast_bg']['light'], seen['contrast_bg']['dark'])
        for scheme in ('light', 'dark'):
            for name in ('compare', 'pair', 'scatter', 'runs'):
                shot = self.out / ('%s-%s.png' % (name, scheme))
                self.assertGreater(shot.stat().st_size, 1000, shot)
        self.assertGreater((self.out / 'runs-readonly.png').stat().st_size, 1000)


if __name__ == '__main__':
    harness.main()
