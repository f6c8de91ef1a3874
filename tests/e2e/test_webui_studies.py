# SPDX-License-Identifier: MIT
"""The studies pages of the web UI in headless chromium, driven by
tests/browser/studies_test.mjs against `cairn server` on a store this test fills with real
studies: `cairn tune` of a Python objective that reports intermediate values under a threshold
pruner (so some trials are PRUNED), a 10,000-trial study imported from an Optuna journal the
test writes (`cairn study import`), and a live study whose first trial waits on a gate file
while the page is open. Checks the studies list, the best value against `cairn study best`,
the trials table (row count, sort by value), the optimization history (one point per complete
trial), importance names, a slice plot per parameter, intermediate curves with the pruned ones
told apart, the 10,000-trial table rendering a window of rows and scrolling to the last one,
and the live study's new trials appearing without a reload. Screenshots go to
<build>/test-artifacts/webui-studies/ in light and dark schemes. ctest label `browser`."""
import datetime
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
import restlib  # noqa: E402

CHROMIUM = '/usr/bin/chromium'
WEB_DIR = harness.SOURCE_DIR / 'web'
DRIVER = harness.SOURCE_DIR / 'tests' / 'browser' / 'studies_test.mjs'
BIG = 10000
LIVE_TRIALS = 5

SPACE = """objective: {name: loss, goal: minimize}
parameters:
  x: {type: float, low: -5, high: 5}
  n: {type: int, low: 1, high: 8}
  opt: {type: categorical, values: [adam, sgd, "<b>rms</b>"]}
"""

# Reports three intermediate values; a threshold pruner (upper=12) stops the trials whose
# first value is above 12. It sleeps between reports so a pruned trial is stopped mid-way.
OBJECTIVE = r"""
import argparse, time
p = argparse.ArgumentParser()
p.add_argument('--x', type=float)
p.add_argument('--n', type=int)
p.add_argument('--opt')
a = p.parse_args()
loss = (a.x - 1) ** 2 + 0.01 * a.n + (0.5 if a.opt == 'sgd' else 0)
for step in range(3):
    print('cairn: step=%d loss=%r' % (step, loss + 1.0 / (step + 1)), flush=True)
    time.sleep(0.3 if loss > 11 else 0.01)
print('cairn.final: loss=%r' % loss)
"""

# The live study's objective: waits for the gate file, so its first trial stays RUNNING until
# the page is open.
GATED = r"""
import argparse, os, sys, time
p = argparse.ArgumentParser()
p.add_argument('--x', type=float)
p.add_argument('--n', type=int)
p.add_argument('--opt')
a = p.parse_args()
for _ in range(2400):
    if os.path.exists(sys.argv[0] + '.open'):
        break
    time.sleep(0.05)
print('cairn.final: loss=%r' % ((a.x - 1) ** 2 + 0.01 * a.n))
"""


def big_journal(path):
    """An Optuna journal of BIG complete trials over x (float), k (int) and c (categorical)."""
    fdist = json.dumps({'name': 'FloatDistribution',
                        'attributes': {'low': -3, 'high': 3, 'log': False, 'step': None}})
    idist = json.dumps({'name': 'IntDistribution',
                        'attributes': {'low': 1, 'high': 100, 'log': True, 'step': 1}})
    cdist = json.dumps({'name': 'CategoricalDistribution', 'attributes': {'choices': ['a', 'b']}})
    t0 = datetime.datetime(2026, 1, 1)
    with open(path, 'w') as f:
        f.write(json.dumps({'op_code': 0, 'worker_id': 'w', 'study_name': 'big',
                            'directions': [1]}) + '\n')
        for i in range(BIG):
            x = ((i * 7919) % 6001) / 1000.0 - 3
            k = 1 + (i * 31) % 100
            c = i % 2
            value = x * x + 0.001 * k + 0.2 * c
            start = t0 + datetime.timedelta(seconds=i)
            f.write(json.dumps({
                'op_code': 4, 'worker_id': 'w', 'study_id': 0, 'state': 1, 'value': value,
                'values': [value], 'datetime_start': start.isoformat(),
                'datetime_complete': (start + datetime.timedelta(milliseconds=500)).isoformat(),
                'distributions': {'x': fdist, 'k': idist, 'c': cdist},
                'params': {'x': x, 'k': k, 'c': c},
                'user_attrs': {}, 'system_attrs': {}, 'intermediate_values': {}}) + '\n')


@unittest.skipUnless(os.path.exists(CHROMIUM),
                     '/usr/bin/chromium is absent: install it with scripts/install-deps.sh '
                     '(apt-get install chromium) to run the browser tests')
class StudiesPages(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = pathlib.Path(restlib.tempfile.mkdtemp(prefix='cairn-webui-studies-'))
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.store = 'sqlite:///' + str(cls.tmp / 's.db').lstrip('/')
        cls.out = harness.BUILD_DIR / 'test-artifacts' / 'webui-studies'
        shutil.rmtree(cls.out, True)
        cls.out.mkdir(parents=True)
        (cls.tmp / 'space.yaml').write_text(SPACE)
        (cls.tmp / 'obj.py').write_text(OBJECTIVE)
        (cls.tmp / 'gated.py').write_text(GATED)
        cls.cli('tune', '--space', 'space.yaml', '--study', 'ui', '--trials', 24, '--seed', 3,
                '--sampler', 'random', '--pruner', 'threshold:upper=12', '--kill-grace', 2,
                '--', sys.executable, 'obj.py')
        big_journal(cls.tmp / 'big.log')
        cls.cli('study', 'import', 'big.log', '--study', 'big')
        cls.server = restlib.Server(cls.store, cls.tmp / 'art', cls.tmp)
        cls.addClassCleanup(cls.server.stop)

    @classmethod
    def cli(cls, *args):
        proc = subprocess.run([harness.CAIRN_BIN, '--store', cls.store, *map(str, args)],
                              cwd=cls.tmp, capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            raise AssertionError('cairn %s: %s' % (' '.join(map(str, args)), proc.stderr))
        return proc.stdout

    @classmethod
    def cli_json(cls, *args):
        return json.loads(cls.cli(*args, '--json'))

    def test_pages(self):
        best = self.cli_json('study', 'best', 'ui')
        trials = self.cli_json('study', 'trials', 'ui')['trials']
        states = [t['state'] for t in trials]
        self.assertIn('PRUNED', states)  # the fixture exercises pruned curves
        self.assertIn('COMPLETE', states)
        with urllib.request.urlopen(self.server.base + '/api/2.0/mlflow/experiments/get-by-name?'
                                    'experiment_name=ui', timeout=30) as r:
            exp_id = json.loads(r.read())['experiment']['experiment_id']
        big_best = self.cli_json('study', 'best', 'big')

        # The live study: its first trial waits on the gate until the page is open.
        tune = subprocess.Popen(
            [harness.CAIRN_BIN, '--store', self.store, 'tune', '--space', 'space.yaml',
             '--study', 'live', '--trials', str(LIVE_TRIALS), '--seed', '1', '--sampler', 'random',
             '--', sys.executable, 'gated.py'],
            cwd=self.tmp, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: tune.poll() is None and (tune.kill(), tune.wait()))
        gate = self.tmp / 'gated.py.open'
        self.addCleanup(lambda: gate.touch())  # never leave the tune waiting
        for _ in range(1200):
            got = subprocess.run([harness.CAIRN_BIN, '--store', self.store, 'study', 'trials',
                                  'live', '--json'], capture_output=True, text=True, timeout=60)
            if got.returncode == 0 and any(t['state'] == 'RUNNING'
                                           for t in json.loads(got.stdout)['trials']):
                break
            self.assertIsNone(tune.poll(), 'the live tune ended early')
            time.sleep(0.1)
        else:
            self.fail('the live study never had a RUNNING trial')

        spec = {'base': self.server.base, 'out': str(self.out), 'web_dir': str(WEB_DIR),
                'chromium': CHROMIUM, 'study': 'ui', 'big': 'big', 'live': 'live',
                'live_trials': LIVE_TRIALS, 'big_trials': BIG, 'exp_id': exp_id}
        spec_path = self.tmp / 'spec.json'
        spec_path.write_text(json.dumps(spec))
        driver = subprocess.Popen(['node', str(DRIVER), str(spec_path)], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: driver.poll() is None and (driver.kill(), driver.wait()))
        lines = []
        for line in driver.stdout:
            lines.append(line)
            if line.strip() == 'live-page-open':
                break
        gate.touch()  # the page is polling (or the driver failed): let the trials run
        rest, err = driver.communicate(timeout=400)
        lines += rest.splitlines()
        self.assertEqual(driver.returncode, 0, err)
        self.assertEqual(tune.wait(timeout=120), 0, tune.stderr.read())
        seen = json.loads(lines[-1])
        self.assertNotIn('failure', seen, seen.get('failure'))
        self.assertEqual(seen['page_errors'], [])
        self.assertEqual(seen['csp_violations'], [])
        self.assertEqual(seen['console_errors'], [])

        # Live: the page saw the first trial RUNNING, then every trial complete, no reload.
        self.assertEqual(seen['live_before']['rows'], 1)
        self.assertEqual(seen['live_before']['states'], ['RUNNING'])
        self.assertTrue(seen['live_before']['live'])
        self.assertEqual(seen['live_before']['importance_names'], [])
        self.assertIn('complete trials', seen['live_before']['importance_reason'])
        self.assertEqual(seen['live_after']['rows'], LIVE_TRIALS)
        self.assertEqual(seen['live_after']['states'], ['COMPLETE'] * LIVE_TRIALS)
        self.assertTrue(seen['live_after']['same_page'])
        self.assertGreaterEqual(seen['live_after']['polls'], 1)
        self.assertEqual(seen['live_after']['history_points'], LIVE_TRIALS)
        live_best = self.cli_json('study', 'best', 'live')
        self.assertAlmostEqual(float(seen['live_after']['best']), live_best['value'])
        # Once the page is left, it stops polling.
        self.assertEqual(seen['polls_after_leaving'], 0)

        # The list: every study, with its best value.
        rows = {r['name']: r for r in seen['list']}
        self.assertEqual(sorted(rows), ['big', 'live', 'ui'])
        self.assertEqual(rows['ui']['trials'], str(len(trials)))
        self.assertAlmostEqual(float(rows['ui']['best']), best['value'], places=4)
        self.assertEqual(rows['big']['trials'], str(BIG))
        self.assertTrue(seen['experiments_has_studies_link'])
        self.assertEqual(seen['runs_studies_link'], '1 study')

        # One study: the best value is `cairn study best`'s, and so are its trial and params.
        s = seen['study']
        self.assertAlmostEqual(float(s['best_value_data']), best['value'], places=12)
        self.assertIn('#%d' % best['number'], s['best_trial'])
        self.assertEqual(s['count_text'], '%d trials' % len(trials))
        self.assertEqual(len(s['numbers']), s['rows'])
        self.assertEqual(s['numbers'][:5], ['0', '1', '2', '3', '4'])  # by number at first
        complete = [t for t in trials if t['state'] == 'COMPLETE']
        self.assertEqual(s['history_points'], len(complete))
        self.assertEqual(sorted(s['importance_names']), ['n', 'opt', 'x'])
        self.assertEqual(s['importance_names'][0], 'x')  # the objective is mostly x's
        self.assertEqual(s['slices'], {'x': len(complete), 'n': len(complete),
                                       'opt': len(complete)})
        reporting = [t for t in trials if t['n_steps'] > 0]
        self.assertEqual(s['intermediate_lines'], len(reporting))
        self.assertEqual(s['intermediate_pruned'],
                         sum(t['state'] == 'PRUNED' for t in reporting))
        # Sorted by value ascending (a click), then descending (a second click); missing last.
        up = [float(v) for v in s['sorted_up'] if v]
        down = [float(v) for v in s['sorted_down'] if v]
        self.assertEqual(up, sorted(up))
        self.assertEqual(down, sorted(down, reverse=True))
        self.assertAlmostEqual(up[0], best['value'], places=4)
        self.assertIn('order=value', s['sorted_hash'])
        self.assertIn('log=1', s['log_hash'])
        self.assertEqual(s['log_points'], s['history_points'])  # all values are positive
        # The category with markup in its name is text.
        self.assertIn('<b>rms</b>', s['categories_text'] + s['table_text'])
        self.assertIsNone(seen['pwned'])

        # A study that does not exist: the server's 404 and its message, not a blank page.
        self.assertIn('RESOURCE_DOES_NOT_EXIST', seen['missing_error'])
        self.assertIn('no such/study', seen['missing_error'])

        # 10,000 trials: a window of rows exists, not all; the end is reachable by scrolling.
        b = seen['big_study']
        sys.stderr.write('10,000 trials: the table %d ms after navigation\n' % b['ms_to_table'])
        self.assertEqual(b['count_text'], '%d trials' % BIG)
        self.assertGreater(b['rows_rendered'], 5)
        self.assertLess(b['rows_rendered'], 200)
        self.assertEqual(b['last_row_number'], str(BIG - 1))
        self.assertEqual((b['key_down'], b['key_end']), ('1', str(BIG - 1)))
        self.assertLess(int(b['key_page_up']), BIG - 3)  # a page up from the row above the end
        sys.stderr.write('keyboard: down %s, end %s, page up %s, Enter %s -> %s\n' % (
            b['key_down'], b['key_end'], b['key_page_up'], b['key_run_href'], b.get('key_enter_hash')))
        self.assertTrue(b['key_run_href'])  # imported trials are runs too
        self.assertEqual(b.get('key_enter_hash'), b['key_run_href'])
        self.assertAlmostEqual(float(b['best_value_data']), big_best['value'], places=12)
        self.assertEqual(b['history_points'], BIG)
        self.assertEqual(sorted(b['slices']), ['c', 'k', 'x'])

        for name in ('studies', 'study', 'study-trials', 'study-history', 'study-importance',
                     'study-intermediate', 'study-slices', 'study-dark', 'study-big',
                     'study-live'):
            self.assertTrue((self.out / (name + '.png')).stat().st_size > 1000, name)


if __name__ == '__main__':
    unittest.main()
