# SPDX-License-Identifier: MIT
"""Optuna interop: `cairn study export --format optuna-journal` and `cairn study import`,
checked against Debian's python3-optuna 3.1 (/usr/bin/python3, run as a child process; the
test itself is stdlib only).

(a) a tuned study (every parameter type, a conditional one, a constant, pruned and failed
    trials, intermediate values) exported and opened with optuna.load_study: the same trials,
    states, values, params, intermediate values, datetimes and run ids; Optuna then appends
    trials to the file and cairn imports the mixed file;
(b) a study Optuna itself wrote (every distribution, define-by-run conditions, pruned, failed,
    running and waiting trials, NaN intermediate values, several studies in one file) imported
    and compared with `cairn study trials --json`;
(c) cairn -> journal -> cairn gives the same study;
bad input: a truncated file, a garbage line, an unknown op code, two studies, a multi-
objective study, conflicting distributions, a study name cairn has: a message naming the
problem, exit 1, and nothing imported. Also JSON and CSV exports."""
import csv
import datetime
import io
import json
import math
import pathlib
import subprocess
import sys
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402

OPTUNA_PY = '/usr/bin/python3'


def have_optuna():
    try:
        return subprocess.run([OPTUNA_PY, '-c', 'import optuna'], capture_output=True,
                              timeout=60).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


HAVE_OPTUNA = have_optuna()

SPACE = """objective: {name: loss, goal: minimize}
parameters:
  x:     {type: float, low: -2, high: 2}
  lr:    {type: float, low: 1.0e-4, high: 1, log: true}
  drop:  {type: float, low: 0, high: 0.5, step: 0.1}
  n:     {type: int, low: 1, high: 8}
  width: {type: int, low: 4, high: 256, log: true}
  batch: {type: int, low: 16, high: 128, step: 16}
  opt:   {type: categorical, values: [adam, sgd, rms]}
  size:  {type: categorical, values: [16, 32, 64]}
  mom:   {type: float, low: 0.5, high: 0.99, when: {opt: sgd}}
  seed:  7
"""

# Trials with opt=rms fail; those with x > 1.2 report a huge value first and are pruned by
# threshold:upper; the others report four intermediate values and a final loss.
OBJECTIVE = r"""
import argparse, sys, time
p = argparse.ArgumentParser()
for name in ('x', 'lr', 'drop', 'mom'):
    p.add_argument('--' + name, type=float)
for name in ('n', 'width', 'batch', 'size', 'seed'):
    p.add_argument('--' + name, type=int)
p.add_argument('--opt')
a = p.parse_args()
if a.opt == 'rms':
    sys.exit(3)
loss = (a.x - 0.3) ** 2 + a.lr + a.drop + a.n / 10 + (a.mom or 0)
if a.x > 1.2:
    print('cairn: step=0 loss=1e9', flush=True)
    for _ in range(200):
        time.sleep(0.05)
    sys.exit(0)
for step in range(4):
    print('cairn: step=%d loss=%r' % (step, loss + 1.0 / (step + 1)), flush=True)
print('cairn.final: loss=%r' % loss)
"""

# Prints the trials Optuna loads from a journal as JSON.
LOAD = r"""
import json, math, sys, warnings
warnings.simplefilter('ignore')
import optuna
optuna.logging.set_verbosity(optuna.logging.ERROR)
storage = optuna.storages.JournalStorage(optuna.storages.JournalFileStorage(sys.argv[1]))
study = optuna.load_study(study_name=sys.argv[2], storage=storage)
def num(v):
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else v
out = {'direction': study.direction.name, 'user_attrs': study.user_attrs, 'trials': []}
for t in study.trials:
    out['trials'].append({
        'number': t.number, 'state': t.state.name, 'value': num(t.value),
        'params': t.params,
        'distributions': {k: type(d).__name__ for k, d in t.distributions.items()},
        'intermediate': {str(k): num(v) for k, v in t.intermediate_values.items()},
        'user_attrs': t.user_attrs,
        'start': t.datetime_start.timestamp() if t.datetime_start else None,
        'end': t.datetime_complete.timestamp() if t.datetime_complete else None})
if len(sys.argv) > 3:  # then go on with the study: Optuna appends to cairn's file
    def objective(trial):
        for name, d in study.trials[0].distributions.items():
            trial._suggest(name, d)
        trial.report(0.5, 0)
        return 1.0
    study.optimize(objective, n_trials=int(sys.argv[3]))
print(json.dumps(out))
"""

# Optuna writes a study of its own: every distribution, a define-by-run condition, pruned,
# failed, running and waiting trials, a NaN intermediate value; plus a second study.
WRITE = r"""
import math, sys, warnings
warnings.simplefilter('ignore')
import optuna
optuna.logging.set_verbosity(optuna.logging.ERROR)
storage = optuna.storages.JournalStorage(optuna.storages.JournalFileStorage(sys.argv[1]))
study = optuna.create_study(study_name='opt', storage=storage, direction='maximize',
                            sampler=optuna.samplers.RandomSampler(seed=3))
def objective(trial):
    x = trial.suggest_float('x', -1, 1)
    trial.suggest_float('lr', 1e-4, 1, log=True)
    trial.suggest_float('q', 0, 1, step=0.25)
    n = trial.suggest_int('n', 1, 8)
    trial.suggest_int('w', 1, 64, log=True)
    trial.suggest_int('s', 0, 10, step=2)
    c = trial.suggest_categorical('c', ['a', 'b', 3, 1.5, True, None])
    if c == 'a':
        trial.suggest_float('cond', 0, 1)
    trial.set_user_attr('note', [1, 2])
    for step in range(3):
        trial.report(float('nan') if step == 1 else x * step, step)
    if trial.number == 2:
        raise optuna.TrialPruned()
    if trial.number == 3:
        raise ValueError('a failing trial')
    return x + n
study.optimize(objective, n_trials=12, catch=(ValueError,))
study.enqueue_trial({'x': 0.5})
running = study.ask()  # takes the enqueued trial: RUNNING
running.suggest_float('x', -1, 1)
study.enqueue_trial({'x': 0.25})  # stays WAITING
other = optuna.create_study(study_name='other', storage=storage)
other.optimize(lambda t: t.suggest_float('y', 0, 1), n_trials=2)
"""


def cairn_value(v):
    """An Optuna param as cairn's trials JSON writes it (categoricals as their text)."""
    if isinstance(v, str):
        return v
    if isinstance(v, bool) or v is None:
        return json.dumps(v)
    return v


def close(a, b):
    if isinstance(a, str) or isinstance(b, str):
        return str(a) == str(b) or json.dumps(a) == str(b) or str(a) == json.dumps(b)
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-12)


@unittest.skipUnless(HAVE_OPTUNA, 'python3-optuna is not installed at /usr/bin/python3')
class StudyJournal(harness.CairnTest):
    def optuna(self, script, *args):
        proc = subprocess.run([OPTUNA_PY, '-c', script] + [str(a) for a in args],
                              capture_output=True, text=True, cwd=self.tmp,
                              timeout=harness.TIMEOUT_S)
        if proc.returncode != 0:
            self.fail('optuna failed:\n%s%s' % (proc.stdout, proc.stderr))
        return proc.stdout

    def tune(self, study='t'):
        (self.tmp / 'space.yaml').write_text(SPACE)
        (self.tmp / 'obj.py').write_text(OBJECTIVE)
        self.cairn('tune', '--space', 'space.yaml', '--study', study, '--trials', 14,
                   '--seed', 11, '--sampler', 'random', '--pruner', 'threshold:upper=1e6',
                   '--kill-grace', 1, '--quiet', '--', sys.executable, 'obj.py')
        return self.cairn_json('study', 'export', study)

    def studies(self):
        return sorted(s['name'] for s in self.cairn_json('study', 'list', '--json')['studies'])

    def n_runs(self):
        return len(self.cairn_json('runs', 'list', '--all', '--json')['runs'])

    def assert_same_as_optuna(self, exported, loaded, from_cairn=True):
        trials = exported['trials']
        self.assertEqual(len(loaded['trials']), len(trials))
        for mine, theirs in zip(trials, loaded['trials']):
            what = 'trial %d' % mine['number']
            self.assertEqual(theirs['number'], mine['number'], what)
            state = 'FAIL' if mine['state'] == 'STALE' else mine['state']
            self.assertEqual(theirs['state'], state, what)
            if mine['state'] == 'COMPLETE':
                self.assertTrue(close(theirs['value'], mine['value']), what)
            elif from_cairn:
                self.assertIsNone(theirs['value'], what)
            self.assertEqual(sorted(theirs['params']), sorted(mine['params']), what)
            for name, v in theirs['params'].items():
                self.assertTrue(close(v, mine['params'][name]),
                                '%s %s: %r vs %r' % (what, name, v, mine['params'][name]))
            steps = {str(p['step']): p['value'] for p in mine['intermediate_values']}
            self.assertEqual(sorted(theirs['intermediate']), sorted(steps), what)
            for k, v in steps.items():
                self.assertTrue(close(theirs['intermediate'][k], v), what)
            if from_cairn:
                self.assertEqual(theirs['user_attrs'].get('cairn.run_id'), mine['run_id'], what)
                self.assertAlmostEqual(theirs['start'], mine['start_time'] / 1000, places=3)
                if mine['end_time']:
                    self.assertAlmostEqual(theirs['end'], mine['end_time'] / 1000, places=3)

    def test_a_export_opens_in_optuna(self):
        exported = self.tune()
        states = [t['state'] for t in exported['trials']]
        for state in ('COMPLETE', 'PRUNED', 'FAIL'):
            self.assertIn(state, states)
        self.assertTrue(any('mom' in t['params'] for t in exported['trials']))
        self.assertTrue(any('mom' not in t['params'] and t['params']
                            for t in exported['trials']))
        proc = self.cairn('study', 'export', 't', '--format', 'optuna-journal', '-o', 'j.log')
        self.assertIn('j.log', proc.stderr)
        loaded = json.loads(self.optuna(LOAD, self.tmp / 'j.log', 't', 3))
        self.assertEqual(loaded['direction'], 'MINIMIZE')
        self.assert_same_as_optuna(exported, loaded)
        kinds = {}
        for t in loaded['trials']:
            kinds.update(t['distributions'])
        self.assertEqual(kinds, {'x': 'FloatDistribution', 'lr': 'FloatDistribution',
                                 'drop': 'FloatDistribution', 'n': 'IntDistribution',
                                 'width': 'IntDistribution', 'batch': 'IntDistribution',
                                 'opt': 'CategoricalDistribution',
                                 'size': 'CategoricalDistribution',
                                 'mom': 'FloatDistribution', 'seed': 'CategoricalDistribution'})
        # Optuna appended three trials to cairn's file: cairn imports the mixed journal.
        self.cairn('study', 'import', 'j.log', '--as', 'mixed')
        mixed = self.cairn_json('study', 'export', 'mixed')
        self.assertEqual(len(mixed['trials']), len(exported['trials']) + 3)
        self.assertEqual(mixed['study']['space'], exported['study']['space'])
        self.assertEqual([t['state'] for t in mixed['trials'][-3:]], ['COMPLETE'] * 3)

    def test_b_import_what_optuna_wrote(self):
        self.optuna(WRITE, self.tmp / 'o.log')
        self.cairn_error('study', 'import', 'o.log', mentions=["holds 2 studies", "'opt'",
                                                                "'other'", '--study'])
        self.assertEqual(self.studies(), [])
        proc = self.cairn('study', 'import', 'o.log', '--study', 'opt', '-e', 'optuna-exp')
        self.assertIn("imported study 'opt'", proc.stdout)
        loaded = json.loads(self.optuna(LOAD, self.tmp / 'o.log', 'opt'))
        exported = self.cairn_json('study', 'export', 'opt')
        self.assertEqual(exported['study']['direction'], 'maximize')
        self.assertEqual(exported['study']['objective'], 'value')
        self.assert_same_as_optuna(exported, loaded, from_cairn=False)
        trials = self.cairn_json('study', 'trials', 'opt', '--json')['trials']
        self.assertEqual([t['state'] for t in trials],
                         [t['state'] for t in loaded['trials']])
        self.assertEqual([t['state'] for t in trials[-2:]], ['RUNNING', 'WAITING'])
        self.assertEqual(trials[3]['state'], 'FAIL')
        self.assertEqual(trials[2]['state'], 'PRUNED')
        self.assertIsNone(trials[2]['value'])
        self.assertIsNone(exported['trials'][0]['intermediate_values'][1]['value'])  # NaN
        # The define-by-run parameter became conditional on the categorical.
        space = json.loads(exported['study']['space'])
        self.assertEqual(space['parameters']['cond']['when'], {'c': ['a']})
        self.assertEqual(space['parameters']['c']['values'], ['a', 'b', 3, 1.5, True, None])
        self.assertEqual(space['parameters']['w'], {'type': 'int', 'low': 1, 'high': 64,
                                                    'log': True})
        # Every finished trial is a run of the experiment, with the params as written.
        runs = self.cairn_json('runs', 'list', '--experiment', 'optuna-exp', '--json')['runs']
        self.assertEqual(len(runs), len(trials) - 1)  # the WAITING trial has none yet
        run = self.cairn_json('runs', 'show', trials[0]['run_id'], '--json')
        text = json.dumps(run)
        self.assertIn('cairn.study', text)
        # The imported study goes on in cairn: the next ask takes the WAITING trial.
        self.assertEqual(self.cairn_json('study', 'best', 'opt', '--json')['value'],
                         max(t['value'] for t in trials if t['state'] == 'COMPLETE'))

    def test_c_round_trip(self):
        first = self.tune('orig')
        self.cairn('study', 'export', 'orig', '-f', 'optuna-journal', '-o', 'rt.log')
        self.cairn('study', 'import', 'rt.log', '--as', 'copy')
        second = self.cairn_json('study', 'export', 'copy')
        for key in ('objective', 'direction', 'strategy', 'space', 'n_trials', 'n_complete',
                    'n_pruned', 'n_failed', 'best_value'):
            self.assertEqual(second['study'][key], first['study'][key], key)
        self.assertEqual(len(second['trials']), len(first['trials']))
        for a, b in zip(first['trials'], second['trials']):
            self.assertNotEqual(a['run_id'], b['run_id'])
            for key in ('number', 'state', 'value', 'params', 'start_time', 'end_time',
                        'n_steps', 'intermediate_values'):
                self.assertEqual(b[key], a[key], 'trial %d %s' % (a['number'], key))
        # and again: the copy exports to the same journal, but for names and run ids
        self.cairn('study', 'export', 'copy', '-f', 'optuna-journal', '-o', 'rt2.log')
        one = (self.tmp / 'rt.log').read_text().splitlines()
        two = (self.tmp / 'rt2.log').read_text().splitlines()
        self.assertEqual(len(one), len(two))
        for x, y in zip(one[4:], two[4:]):
            x, y = json.loads(x), json.loads(y)
            x['user_attrs'] = y['user_attrs'] = None
            self.assertEqual(x, y)

    def test_json_and_csv_exports(self):
        exported = self.tune()
        trials = self.cairn_json('study', 'trials', 't', '--json')['trials']
        self.assertEqual([{k: v for k, v in t.items() if k != 'intermediate_values'}
                          for t in exported['trials']], trials)
        self.assertEqual(exported['study']['space'], SPACE)
        text = self.cairn('study', 'export', 't', '--format', 'csv').stdout
        rows = list(csv.DictReader(io.StringIO(text)))
        self.assertEqual(len(rows), len(trials))
        for row, t in zip(rows, trials):
            self.assertEqual(int(row['number']), t['number'])
            self.assertEqual(row['state'], t['state'])
            if t['state'] == 'COMPLETE':
                self.assertEqual(float(row['loss']), t['value'])
            for name, v in t['params'].items():
                self.assertTrue(close(row[name] if isinstance(v, str) else float(row[name]), v),
                                name)
            self.assertEqual(row['mom'] != '', 'mom' in t['params'])
        self.cairn_error('study', 'export', 't', '--format', 'xml', expect=2,
                         mentions=['xml'])
        self.cairn_error('study', 'export', 'nope', mentions=["'nope'"])
        self.assertIn('optuna-journal', self.cairn('study', 'export', '--help').stdout)
        self.assertIn('--as', self.cairn('study', 'import', '--help').stdout)

    def assert_refused(self, text, *mentions, args=()):
        path = self.tmp / 'bad.log'
        path.write_text(text)
        before = (self.studies(), self.n_runs())
        self.cairn_error('study', 'import', path.name, *args, mentions=mentions)
        self.assertEqual((self.studies(), self.n_runs()), before)

    def test_bad_input(self):
        self.optuna(WRITE, self.tmp / 'o.log')
        lines = (self.tmp / 'o.log').read_text().splitlines(keepends=True)
        opt = ['--study', 'opt']
        good = ''.join(lines)
        self.assert_refused(good[:-40], 'line %d' % len(lines), 'truncated', args=opt)
        self.assert_refused(''.join(lines[:5] + ['{"op_code": 4, garbage\n'] + lines[5:]),
                            'line 6', 'not a JSON record', args=opt)
        self.assert_refused(''.join(lines[:7] + ['not json at all\n'] + lines[7:]),
                            'line 8', args=opt)
        self.assert_refused(good + '{"op_code": 10, "worker_id": "w", "study_id": 0}\n',
                            'line %d' % (len(lines) + 1), 'unknown op_code 10', args=opt)
        self.assert_refused(good.replace('"trial_id": 0,', '"trial_id": 99999,', 1),
                            'trial_id 99999 does not exist', args=opt)
        self.assert_refused(good, 'holds 2 studies')
        self.assert_refused(good, "no study 'nope'", args=['--study', 'nope'])
        self.assert_refused('', 'is empty')
        multi = ('{"op_code": 0, "worker_id": "w", "study_name": "m", "directions": [1, 2]}\n')
        self.assert_refused(multi, 'multi-objective')
        dist_a = json.dumps({'name': 'FloatDistribution',
                             'attributes': {'low': 0, 'high': 1, 'log': False, 'step': None}})
        dist_b = json.dumps({'name': 'IntDistribution',
                             'attributes': {'low': 0, 'high': 1, 'log': False, 'step': 1}})
        conflict = ''.join(json.dumps(r) + '\n' for r in [
            {'op_code': 0, 'worker_id': 'w', 'study_name': 'c', 'directions': [1]},
            {'op_code': 4, 'worker_id': 'w', 'study_id': 0, 'datetime_start': None},
            {'op_code': 5, 'worker_id': 'w', 'trial_id': 0, 'param_name': 'p',
             'param_value_internal': 0.5, 'distribution': dist_a},
            {'op_code': 4, 'worker_id': 'w', 'study_id': 0, 'datetime_start': None},
            {'op_code': 5, 'worker_id': 'w', 'trial_id': 1, 'param_name': 'p',
             'param_value_internal': 1, 'distribution': dist_b}])
        self.assert_refused(conflict, "parameter 'p'", 'conflicting distributions', 'line 5')
        self.assert_refused(conflict.replace(dist_b.replace('"', '\\"'), 'x'),
                            "parameter 'p'", 'not JSON')
        self.cairn_error('study', 'import', 'missing.log', mentions=["'missing.log'"])
        # A study name cairn has already: refused, the existing study untouched.
        self.cairn('study', 'import', 'o.log', '--study', 'opt')
        before = self.cairn_json('study', 'trials', 'opt', '--json')
        self.assert_refused(good, "study 'opt' exists already", '--as', args=opt)
        self.assertEqual(self.cairn_json('study', 'trials', 'opt', '--json'), before)


if __name__ == '__main__':
    harness.main()
