# SPDX-License-Identifier: MIT
"""cairn's TPE proposes what Optuna 3.1's TPESampler (Debian's python3-optuna) proposes.

For a crafted history, both samplers are asked for the next trial once per seed (cairn through
tests/e2e/hpo_tpe_driver.c, built as cairn_hpo_tpe; Optuna through its ask-and-tell API, one
TPESampler(seed=k) per ask). The random streams differ, so the proposals are compared as
distributions: per parameter a two-sample Kolmogorov-Smirnov test for numbers and a chi-square
test for categories. Fixed seeds make every p-value fixed; the thresholds leave room of more
than an order of magnitude.

The control: with density=normalized (the textbook Parzen density, as Optuna >= 3.5 scores)
cairn's proposals are NOT Optuna 3.1's, which shows the comparison can tell (docs/hpo.md,
"The density TPE scores with").
"""
import math
import os
import pathlib
import subprocess
import tempfile
import unittest

import numpy as np
import optuna
import scipy.stats
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

BUILD_DIR = pathlib.Path(os.environ.get('CAIRN_BUILD_DIR', pathlib.Path(__file__).resolve()
                                        .parents[2] / 'build' / 'dev'))
DRIVER = BUILD_DIR / 'cairn_hpo_tpe'
N_SEEDS = 300

optuna.logging.set_verbosity(optuna.logging.ERROR)


def rosenbrock(x):
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(len(x) - 1))


class Case:
    """A space as cairn's YAML and Optuna's distributions, and a history of random points."""

    def __init__(self, yaml_params, dists, objective, n, seed):
        self.yaml = 'objective: {name: loss, goal: minimize}\nparameters:\n' + yaml_params
        self.dists = dists
        rng = np.random.default_rng(seed)
        self.points = []
        for _ in range(n):
            p = {}
            for name, d in dists.items():
                if isinstance(d, CategoricalDistribution):
                    p[name] = d.choices[rng.integers(len(d.choices))]
                elif isinstance(d, IntDistribution):
                    if d.log:
                        p[name] = int(np.clip(round(math.exp(rng.uniform(
                            math.log(d.low - 0.5), math.log(d.high + 0.5)))), d.low, d.high))
                    else:
                        p[name] = int(rng.integers(d.low, d.high + 1))
                elif d.log:
                    p[name] = math.exp(rng.uniform(math.log(d.low), math.log(d.high)))
                elif d.step:
                    k = rng.integers(0, round((d.high - d.low) / d.step) + 1)
                    p[name] = d.low + k * d.step
                else:
                    p[name] = rng.uniform(d.low, d.high)
            self.points.append(p)
        self.values = [objective(p) for p in self.points]

    def internal(self, name, v):
        d = self.dists[name]
        return d.choices.index(v) if isinstance(d, CategoricalDistribution) else v

    def optuna_proposals(self):
        study = optuna.create_study()
        study.add_trials([optuna.trial.create_trial(params=p, distributions=self.dists, value=v)
                          for p, v in zip(self.points, self.values)])
        out = []
        for k in range(N_SEEDS):
            study.sampler = optuna.samplers.TPESampler(seed=k)
            t = study.ask(self.dists)
            out.append([self.internal(n, t.params[n]) for n in self.dists])
        return np.array(out, dtype=float)

    def cairn_proposals(self, spec):
        with tempfile.TemporaryDirectory() as tmp:
            space = pathlib.Path(tmp) / 'space.yaml'
            space.write_text(self.yaml)
            history = ''.join('%r %s\n' % (v, ' '.join(repr(float(self.internal(n, p[n])))
                                                        for n in self.dists))
                              for p, v in zip(self.points, self.values))
            proc = subprocess.run([str(DRIVER), str(space), spec, str(N_SEEDS)], input=history,
                                  capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            raise AssertionError('cairn_hpo_tpe failed: ' + proc.stderr)
        return np.array([[float(x) for x in line.split()] for line in proc.stdout.splitlines()])

    def p_values(self, ours, theirs):
        """name -> p-value of 'the same distribution', per parameter."""
        out = {}
        for j, (name, d) in enumerate(self.dists.items()):
            if isinstance(d, CategoricalDistribution):
                k = len(d.choices)
                a = np.bincount(ours[:, j].astype(int), minlength=k)
                b = np.bincount(theirs[:, j].astype(int), minlength=k)
                keep = (a + b) > 0
                out[name] = scipy.stats.chi2_contingency(np.array([a[keep], b[keep]]))[1] \
                    if keep.sum() > 1 else 1.0
            else:
                out[name] = scipy.stats.ks_2samp(ours[:, j], theirs[:, j]).pvalue
        return out


def rosen_case():
    names = ['x%d' % i for i in range(5)]
    return Case(''.join('  %s: {type: float, low: -5, high: 10}\n' % n for n in names),
                {n: FloatDistribution(-5, 10) for n in names},
                lambda p: rosenbrock([p[n] for n in names]), 40, 1)


def mixed_case():
    def f(p):
        off = {'sgd': 0.3, 'adam': 0.0, 'rmsprop': 0.1}[p['opt']]
        return (off + 0.5 * (math.log10(p['lr']) + 3) ** 2 + 0.05 * (p['layers'] - 4) ** 2 +
                0.1 * (math.log2(p['units']) - 7) ** 2 + 4 * (p['dropout'] - 0.2) ** 2)
    return Case('  opt: {type: categorical, choices: [sgd, adam, rmsprop]}\n'
                '  lr: {type: float, low: 1.0e-5, high: 1.0, log: true}\n'
                '  layers: {type: int, low: 1, high: 10}\n'
                '  units: {type: int, low: 8, high: 1024, log: true}\n'
                '  dropout: {type: float, low: 0.0, high: 0.8, step: 0.05}\n',
                {'opt': CategoricalDistribution(['sgd', 'adam', 'rmsprop']),
                 'lr': FloatDistribution(1e-5, 1.0, log=True),
                 'layers': IntDistribution(1, 10),
                 'units': IntDistribution(8, 1024, log=True),
                 'dropout': FloatDistribution(0.0, 0.8, step=0.05)},
                f, 60, 2)


@unittest.skipUnless(DRIVER.exists(), 'cairn_hpo_tpe is not built')
class TpeAgainstOptuna(unittest.TestCase):
    def check_same(self, case):
        theirs = case.optuna_proposals()
        ours = case.cairn_proposals('tpe')
        for name, p in case.p_values(ours, theirs).items():
            self.assertGreater(p, 1e-3, '%s: cairn and Optuna 3.1 propose differently' % name)
        return ours, theirs

    def test_continuous_space_as_optuna(self):
        case = rosen_case()
        ours, theirs = self.check_same(case)
        # The control: the textbook density proposes elsewhere on this history.
        normalized = case.cairn_proposals('tpe:density=normalized')
        worst = min(case.p_values(normalized, theirs).values())
        self.assertLess(worst, 1e-6, 'density=normalized should differ from Optuna 3.1')

    def test_mixed_space_as_optuna(self):
        """A categorical, a log float, an int, a log int and a stepped float."""
        self.check_same(mixed_case())

    def test_bad_density_is_refused(self):
        with tempfile.TemporaryDirectory() as tmp:
            space = pathlib.Path(tmp) / 'space.yaml'
            space.write_text(rosen_case().yaml)
            proc = subprocess.run([str(DRIVER), str(space), 'tpe:density=exact', '1'],
                                  input='', capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("density must be optuna or normalized, got 'exact'", proc.stderr)


if __name__ == '__main__':
    unittest.main()
