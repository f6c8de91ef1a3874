# SPDX-License-Identifier: MIT
"""Typed learner params: `cairn train --help-learner NAME` prints a learner's table, and a
misspelled or out-of-range learner param (in the config or from -p) is refused before a run
exists: exit 1, a message naming the param, nothing in the store."""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402

DATA = harness.SOURCE_DIR / 'data'


class LearnerParams(harness.CairnTest):
    def config(self, params):
        cfg = self.tmp / 'c.yaml'
        cfg.write_text('name: p\nexperiment: e2e\nseed: 1\n'
                       'data: {path: %s, label: target, categorical: [target]}\n'
                       'learner:\n  name: mlp\n  params: {%s}\n' % (DATA / 'iris.csv', params))
        return cfg

    def runs(self):
        return self.cairn_json('runs', 'list', '--all', '--json')['runs']

    def test_help_learner_prints_the_table(self):
        out = self.cairn('train', '--help-learner', 'mlp').stdout
        lines = out.splitlines()
        self.assertEqual(lines[0].split()[:6], ['param', 'type', 'range', 'default', 'log', 'help'])
        hidden = next(l for l in lines if l.startswith('hidden '))
        self.assertEqual(hidden.split()[1:5], ['int-list', '[1,', '1e+06]', '100'])
        lr = next(l for l in lines if l.startswith('learning_rate '))
        self.assertIn('float', lr)
        self.assertIn('0.001', lr)
        self.assertIn('yes', lr)
        self.assertIn('relu|tanh', out)
        self.cairn_error('train', '--help-learner', 'catboost',
                         mentions=("learner 'catboost' is unknown", 'xgboost'))
        for name in ('linear', 'ridge', 'logistic', 'xgboost'):
            self.assertIn('standardize' if name != 'xgboost' else 'num_round',
                          self.cairn('train', '--help-learner', name).stdout)

    def test_misspelled_param_creates_no_run(self):
        err = self.cairn_error('train', '--config', self.config('hiden: 8'),
                               mentions=("learner 'mlp': unknown param 'hiden'",
                                         "(did you mean 'hidden'?)", 'known: hidden,'))
        self.assertNotIn('FAILED', err)
        self.cairn_error('train', '--config', self.config('hidden: 8'), '-p', 'alpah=0.1',
                         mentions=("unknown param 'alpah' (did you mean 'alpha'?)",))
        self.cairn_error('train', '--config', self.config('dropout: 1.5'),
                         mentions=("param 'dropout': expected a number in [0, 0.99], got '1.5'",))
        self.cairn_error('train', '--config', self.config('activation: sigmoid'),
                         mentions=("param 'activation': expected one of relu, tanh",))
        self.assertEqual(self.runs(), [])


if __name__ == '__main__':
    import unittest
    unittest.main()
