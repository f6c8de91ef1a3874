# SPDX-License-Identifier: MIT
"""Inputs a user can type cost near-linear time: wide tables and long declared-column lists.
Each case once took minutes (a linear column lookup per column, a quadratic duplicate check);
the timeout below is a hang guard far above today's seconds, not a speed assertion."""
import random

from harness import CairnTest, main

# The harness's timeout (120 s) is the guard: today ~1.5 s (more under ASan); before the fix
# the 100k-column case took over 120 s.


class WideTables(CairnTest):
    def write_wide(self, n_features, n_rows=10):
        rng = random.Random(1)
        path = self.tmp / 'wide.csv'
        with open(path, 'w') as f:
            f.write(','.join('f%d' % i for i in range(n_features)) + ',y\n')
            for r in range(n_rows):
                f.write(','.join('%.3f' % rng.random() for _ in range(n_features)))
                f.write(',%d\n' % (r % 2))
        return path

    def test_train_on_100k_columns(self):
        self.write_wide(99_999)
        (self.tmp / 'c.yaml').write_text(
            'name: wide\nexperiment: wide\nseed: 1\n'
            'data: {path: wide.csv, label: y, categorical: [y]}\n'
            'split: {method: random, test: 0.2, val: 0.2}\n'
            'learner: {name: logistic, params: {C: 1.0}}\nbootstrap: 10\n')
        out = self.cairn_json('train', '--config', 'c.yaml', '--json')
        self.assertIn('run_id', out)
        self.assertEqual(out['status'] if 'status' in out else 'FINISHED', 'FINISHED')

    def test_declared_columns_by_the_thousand(self):
        n = 50_000
        self.write_wide(n)
        declared = '[' + ', '.join('f%d' % i for i in range(n)) + ']'
        (self.tmp / 'c.yaml').write_text(
            'name: wide\nexperiment: wide\nseed: 1\n'
            'data: {path: wide.csv, label: y, numeric: %s, categorical: [y]}\n'
            'split: {method: random, test: 0.2, val: 0.2}\n'
            'learner: {name: logistic}\nbootstrap: 10\n' % declared)
        out = self.cairn_json('train', '--config', 'c.yaml', '--json')
        self.assertIn('run_id', out)


if __name__ == '__main__':
    main()
