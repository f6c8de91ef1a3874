# SPDX-License-Identifier: MIT
"""cairn's pruners decide as Optuna 3.1's (Debian's python3-optuna) on crafted histories.

Each scenario is replayed twice: through Optuna's pruners with the ask-and-tell API, and
through cairn's with the small driver tests/e2e/hpo_prune_driver.c (built as cairn_hpo_prune).
Both ask should_prune after every report, stop a trial at the first yes, and print one line of
0/1 decisions per trial; the lines must be identical.

Known, documented difference (docs/hpo.md): cairn's successive halving reads each trial's rung
values from its intermediate values, where Optuna writes them as system attributes while it
prunes. They agree when the resources are given and no report jumps over two promotion steps;
with min_resource=auto (or Hyperband's max_resource=auto) Optuna records nothing for the trials
that reported before the first trial completed, and cairn lets them compete, so the learnt
resources are not compared here (tests/unit/test_hpo_pruners.c covers them).
"""
import math
import os
import pathlib
import random
import subprocess
import unittest

import optuna
from optuna.trial import TrialState

BUILD_DIR = pathlib.Path(os.environ.get('CAIRN_BUILD_DIR', pathlib.Path(__file__).resolve()
                                        .parents[2] / 'build' / 'dev'))
DRIVER = BUILD_DIR / 'cairn_hpo_prune'

optuna.logging.set_verbosity(optuna.logging.ERROR)


def parse_spec(spec):
    """'name:k=v,k=v/rest' -> (name, {k: v}, rest)."""
    rest = None
    if '/' in spec:
        spec, rest = spec.split('/', 1)
    name, _, opts = spec.partition(':')
    kv = {}
    for item in filter(None, opts.split(',')):
        k, v = item.split('=')
        if v == 'auto':
            kv[k] = 'auto'
        elif k in ('percentile', 'lower', 'upper', 'min_delta'):
            kv[k] = float(v)
        else:
            kv[k] = int(v)
    return name, kv, rest


def optuna_pruner(spec):
    name, kv, rest = parse_spec(spec)
    p = optuna.pruners
    if name == 'median':
        return p.MedianPruner(**kv)
    if name == 'percentile':
        return p.PercentilePruner(**kv)
    if name == 'successive_halving':
        return p.SuccessiveHalvingPruner(**kv)
    if name == 'hyperband':
        return p.HyperbandPruner(**kv)
    if name == 'threshold':
        return p.ThresholdPruner(**kv)
    if name == 'patient':
        return p.PatientPruner(optuna_pruner(rest) if rest else None, **kv)
    raise ValueError(name)


def run_optuna(scn):
    study = optuna.create_study(study_name=scn['study'], direction=scn['direction'],
                                pruner=optuna_pruner(scn['pruner']),
                                sampler=optuna.samplers.RandomSampler(seed=0))
    lines = []
    for kind, points, final in scn['trials']:
        t = study.ask()
        out = ''
        pruned = False
        for step, v in points:
            t.report(v, step)
            pruned = t.should_prune()
            out += '1' if pruned else '0'
            if pruned:
                break
        lines.append(out)
        if kind == 'running':
            continue
        if pruned:
            study.tell(t, state=TrialState.PRUNED)
        else:
            study.tell(t, final if final is not None else (points[-1][1] if points else 0.0))
    return lines


def fmt(v):
    return 'nan' if isinstance(v, float) and math.isnan(v) else repr(float(v))


def run_cairn(scn):
    text = [f"pruner {scn['pruner']}", f"direction {scn['direction']}", f"study {scn['study']}"]
    for kind, points, final in scn['trials']:
        words = [kind] + [f'{s}:{fmt(v)}' for s, v in points]
        if final is not None:
            words += ['final', fmt(final)]
        text.append(' '.join(words))
    out = subprocess.run([str(DRIVER)], input='\n'.join(text) + '\n', capture_output=True,
                         text=True, timeout=60, check=True)
    return out.stdout.splitlines()


def curves(seed, n_trials, n_steps, direction='minimize', nan_rate=0.0, running_rate=0.0,
           first_silent=False, steps=None):
    """Learning curves: a decaying loss with noise (or a rising score for maximize)."""
    rng = random.Random(seed)
    trials = []
    for i in range(n_trials):
        a, b, c = rng.uniform(0.5, 3), rng.uniform(0.05, 0.5), rng.uniform(0, 1)
        pts = []
        for j, s in enumerate(steps or range(n_steps)):
            v = a * math.exp(-b * s) + c + rng.gauss(0, 0.05)
            if direction == 'maximize':
                v = -v
            if rng.random() < nan_rate:
                v = float('nan')
            pts.append((s, v))
        kind = 'running' if rng.random() < running_rate else 'trial'
        # The objective is never NaN: Optuna's tell() turns a NaN value into a FAIL.
        final = round(c + rng.uniform(0, 0.1), 6)
        if first_silent and i == 0:
            pts, final = [], 1.0
        trials.append((kind, pts, final))
    return trials


SPECS_MIN = [
    'median',
    'median:n_startup_trials=2,n_warmup_steps=3,interval_steps=2',
    'median:n_startup_trials=0,n_min_trials=4',
    'percentile:percentile=25,n_startup_trials=1,n_min_trials=3',
    'percentile:percentile=80,n_startup_trials=3,interval_steps=3,n_warmup_steps=1',
    'successive_halving:min_resource=1,reduction_factor=2',
    'successive_halving:min_resource=1',
    'successive_halving:min_resource=2,reduction_factor=3,min_early_stopping_rate=1',
    'successive_halving:min_resource=1,reduction_factor=2,bootstrap_count=3',
    'hyperband:min_resource=1,max_resource=20,reduction_factor=3',
    'hyperband:min_resource=2,max_resource=16,reduction_factor=2',
    'hyperband:min_resource=1,max_resource=20,reduction_factor=3,bootstrap_count=2',
    'threshold:lower=0.2,upper=2.5,n_warmup_steps=2',
    'threshold:upper=1.5,interval_steps=4',
    'patient:patience=2,min_delta=0.01',
    'patient:patience=1/median:n_startup_trials=1',
    'patient:patience=0,min_delta=0.05/percentile:percentile=40,n_startup_trials=2',
]

class PrunersMatchOptuna(unittest.TestCase):
    maxDiff = None

    def check(self, scn):
        want = run_optuna(scn)
        got = run_cairn(scn)
        self.assertEqual(got, want, f"{scn['pruner']} {scn['direction']}: first cairn, then Optuna")
        return want

    def test_each_pruner_on_learning_curves(self):
        n_pruned = 0
        for k, spec in enumerate(SPECS_MIN):
            for seed in range(3):
                for direction in ('minimize', 'maximize'):
                    with self.subTest(spec=spec, seed=seed, direction=direction):
                        scn = {'pruner': spec, 'direction': direction, 'study': f's{seed}',
                               'trials': curves(1000 * k + seed, 24, 20, direction)}
                        lines = self.check(scn)
                        n_pruned += sum(line.endswith('1') for line in lines)
        # The scenarios exercise pruning, not just its absence.
        self.assertGreater(n_pruned, 200)

    def test_nan_values_and_running_trials(self):
        for k, spec in enumerate(SPECS_MIN):
            for seed in range(2):
                with self.subTest(spec=spec, seed=seed):
                    scn = {'pruner': spec, 'direction': 'minimize', 'study': 'nan',
                           'trials': curves(77 + 13 * k + seed, 20, 12, nan_rate=0.08,
                                            running_rate=0.2)}
                    self.check(scn)

    def test_sparse_steps(self):
        # Steps 0, 2, 4, ...: percentile, threshold and patient read "the step" literally.
        for spec in SPECS_MIN[:5] + SPECS_MIN[12:]:
            with self.subTest(spec=spec):
                scn = {'pruner': spec, 'direction': 'minimize', 'study': 'sparse',
                       'trials': curves(5, 20, 0, steps=range(0, 30, 2))}
                self.check(scn)

    def test_hyperband_brackets_follow_crc32(self):
        # Many trials with the same curve: only the bracket assignment (crc32 of
        # "<study>_<number>") separates them.
        trials = [('trial', [(s, 1.0 - 0.01 * s + 0.001 * (i % 7)) for s in range(30)], None)
                  for i in range(40)]
        for study in ('alpha', 'beta', 'a-much-longer-study-name'):
            with self.subTest(study=study):
                self.check({'pruner': 'hyperband:min_resource=1,max_resource=30',
                            'direction': 'minimize', 'study': study, 'trials': trials})


if __name__ == '__main__':
    unittest.main()
