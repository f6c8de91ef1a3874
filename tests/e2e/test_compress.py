# SPDX-License-Identifier: MIT
"""cairn model compress: int8 (smaller weights, accuracy within a point, predictions mostly
identical), pruning (exactly the asked share of zero weights, counted from the file), distillation
of an xgboost teacher, McNemar against scipy, the compressed model serving through cairn eval
model, and bad input refused."""
import json
import pathlib
import struct
import subprocess
import sys
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from harness import CairnTest, SOURCE_DIR, main  # noqa: E402
from test_robustness import read_model  # noqa: E402

DATA = SOURCE_DIR / 'data'
MARK = 0xC0DE51C8000000AA


def mlp_weights(path):
    """The weight matrices (biases left out) of an mlp model file, decoded."""
    _, p = read_model(path)
    pos = 0

    def u64():
        nonlocal pos
        pos += 8
        return struct.unpack('<Q', p[pos - 8:pos])[0]

    def f64(n):
        nonlocal pos
        pos += 8 * n
        return list(struct.unpack('<%dd' % n, p[pos - 8 * n:pos]))

    first = u64()
    packed = first == MARK
    nl = u64() if packed else first
    sizes = [u64() for _ in range(nl + 1)]
    u64(), u64()
    flags = u64() if packed else 0
    weights = []
    for l in range(nl):
        nw = sizes[l] * sizes[l + 1]
        if not packed:
            weights += f64(nw)
            f64(sizes[l + 1])
            continue
        scale = f64(1)[0] if flags & 1 else 1.0
        bits = None
        if flags & 2:
            bits = p[pos:pos + (nw + 7) // 8]
            pos += (nw + 7) // 8
        for j in range(nw):
            if bits is not None and not (bits[j // 8] >> (j % 8)) & 1:
                weights.append(0.0)
            elif flags & 1:
                weights.append(struct.unpack('<b', p[pos:pos + 1])[0] * scale)
                pos += 1
            else:
                weights += f64(1)
        f64(sizes[l + 1])
    assert pos == len(p), 'payload not fully read'
    return weights, flags


class CompressTest(CairnTest):
    def train(self, name, data, learner, extra=''):
        cfg = self.write(name + '.yaml', 'data: {path: %s, label: target}\nlearner: {name: %s%s}\n'
                         % (DATA / data, learner, extra))
        return self.cairn_json('train', '--json', '--config', cfg)['run_id']

    def compress(self, run, data, *args):
        out = self.tmp / ('%s.cairn' % '-'.join(a.strip('-') for a in args[:2]))
        rep = self.cairn_json('model', 'compress', 'runs:/%s/model' % run, '--data', DATA / data,
                              '--out', out, '--json', *args)
        return rep, out

    def held_out(self, run, data):
        """A CSV of the run's validation and test rows (never trained on)."""
        show = self.cairn_json('runs', 'show', run, '--json')
        split = pathlib.Path(show['artifact_uri']) / 'split'
        rows = sorted(int(x) for n in ('val', 'test')
                      for x in (split / (n + '.idx')).read_text().split())
        lines = (DATA / data).read_text().splitlines()
        path = self.tmp / 'held.csv'
        path.write_text('\n'.join([lines[0]] + [lines[r + 1] for r in rows]) + '\n')
        return path

    def check_mcnemar(self, rep, counts=None):
        """The report's McNemar numbers against scipy's binomtest / chi2 on the same counts."""
        n01, n10 = counts or (rep['n01'], rep['n10'])
        if n01 + n10 == 0:
            self.assertEqual(rep['agreement'], 1.0)
            return
        code = ('import json, sys\n'
                'from scipy.stats import binomtest, chi2\n'
                'a, b = json.load(sys.stdin)\n'
                'stat = (abs(a - b) - 1) ** 2 / (a + b)\n'
                'print(json.dumps([binomtest(min(a, b), a + b, 0.5).pvalue, stat, '
                'chi2.sf(stat, 1)]))\n')
        out = subprocess.run(['/usr/bin/python3', '-c', code], input=json.dumps([n01, n10]),
                             capture_output=True, text=True, check=True).stdout
        exact_p, stat, chi_p = json.loads(out)
        if rep['test'] == 'mcnemar_exact':
            self.assertEqual(rep['statistic'], min(n01, n10))
            self.assertAlmostEqual(rep['p_value'], exact_p, places=10)
        else:
            self.assertAlmostEqual(rep['statistic'], stat, places=10)
            self.assertAlmostEqual(rep['p_value'], chi_p, places=10)

    def test_int8(self):
        for data, learner in (('breast_cancer.csv', 'logistic'), ('digits.csv', 'logistic'),
                              ('breast_cancer.csv', 'mlp')):
            with self.subTest(data=data, learner=learner):
                run = self.train(learner, data, learner)
                rep, out = self.compress(run, data, '--method', 'int8')
                print('%s %s int8: weights %d -> %d bytes (ratio %.3f), file %d -> %d'
                      % (data, learner, rep['payload_before'], rep['payload_after'],
                         rep['payload_after'] / rep['payload_before'], rep['size_before'],
                         rep['size_after']))
                self.assertLess(rep['payload_after'] * 4, rep['payload_before'] * 1.2)
                self.assertLess(rep['size_after'], rep['size_before'])
                self.assertLessEqual(abs(rep['metric_after'] - rep['metric_before']), 0.01)
                self.assertGreaterEqual(rep['agreement'], 0.97)
                self.check_mcnemar(rep)
                # scored on the validation rows: the sealed test rows are left to eval final
                split = pathlib.Path(self.cairn_json('runs', 'show', run, '--json')[
                    'artifact_uri']) / 'split'
                self.assertEqual(rep['eval_rows'], len((split / 'val.idx').read_text().split()))
                # the compressed model loads and scores held-out rows
                ev = self.cairn_json('eval', 'model', out, '--data', self.held_out(run, data),
                                     '--json', '--bootstrap', '0')
                acc = ev['metrics']['accuracy']
                acc = acc['value'] if isinstance(acc, dict) else acc
                self.assertGreater(acc, 0.85)

    def test_prune(self):
        run = self.train('mlp', 'breast_cancer.csv', 'mlp', ', params: {hidden: "32"}')
        rep, out = self.compress(run, 'breast_cancer.csv', '--method', 'prune',
                                 '--sparsity', '0.5')
        weights, flags = mlp_weights(out)
        self.assertEqual(flags, 2)
        zeros = sum(1 for w in weights if w == 0.0)
        self.assertEqual(zeros * 2, len(weights))
        self.assertEqual((rep['zero_weights'], rep['weights']), (zeros, len(weights)))
        self.assertLess(rep['size_after'], rep['size_before'])
        self.assertLess(rep['payload_after'], rep['payload_before'] * 0.6)
        self.check_mcnemar(rep)
        # pruned then quantized: int8 and sparse together
        rep2 = self.cairn_json('model', 'compress', out, '--method', 'int8', '--out',
                               self.tmp / 'both.cairn', '--json')
        weights2, flags2 = mlp_weights(self.tmp / 'both.cairn')
        self.assertEqual(flags2, 3)
        self.assertEqual(sum(1 for w in weights2 if w == 0.0) * 2, len(weights2))
        self.assertLess(rep2['payload_after'], rep['payload_after'])

    def test_distill_xgboost(self):
        run = self.train('xgb', 'breast_cancer.csv', 'xgboost')
        rep, out = self.compress(run, 'breast_cancer.csv', '--method', 'distill', '--hidden', '8')
        self.assertEqual(rep['method'], 'distill')
        self.assertGreater(rep['eval_rows'], 100)
        self.assertGreaterEqual(rep['metric_after'], rep['metric_before'] - 0.03)
        self.assertLess(rep['size_after'], rep['size_before'])
        self.check_mcnemar(rep)
        meta, _ = read_model(out)
        self.assertEqual(meta['learner'], 'mlp')
        self.assertEqual(meta['meta']['cairn.compressed.method'], 'distill')
        self.assertEqual(meta['meta']['cairn.compressed.from_run'], run)
        self.assertNotIn('cairn.run_id', meta['meta'])

    def test_regression_log_to_run(self):
        run = self.train('reg', 'diabetes.csv', 'mlp',
                         ', params: {hidden: "16", learning_rate: "0.01", epochs: "300"}')
        rep = self.cairn_json('model', 'compress', 'runs:/%s/model' % run, '--method', 'int8',
                              '--data', DATA / 'diabetes.csv', '--log-to', run[:8], '--json')
        self.assertEqual(rep['metric'], 'r2')
        self.assertEqual(rep['test'], 'wilcoxon_squared_errors')
        self.assertLessEqual(abs(rep['diff']), 0.02)
        self.assertLessEqual(rep['diff_ci_low'], rep['diff'])
        self.assertGreaterEqual(rep['diff_ci_high'], rep['diff'])
        self.assertTrue(0 <= rep['p_value'] <= 1)
        show = self.cairn_json('runs', 'show', run, '--json')
        self.assertTrue((pathlib.Path(show['artifact_uri']) / 'compressed' / 'int8.cairn').exists())
        self.assertIn('compress_int8_metric', json.dumps(show))

    def test_bad_input(self):
        xgb = self.train('xgb', 'iris.csv', 'xgboost')
        model = 'runs:/%s/model' % xgb
        self.cairn_error('model', 'compress', model, '--method', 'int8', '--out',
                         self.tmp / 'x.cairn', mentions=("'xgboost'", 'logistic and mlp'))
        self.cairn_error('model', 'compress', model, '--method', 'prune', '--sparsity', '1.5',
                         '--out', self.tmp / 'x.cairn', expect=2, mentions=('--sparsity',))
        self.cairn_error('model', 'compress', model, '--method', 'distill', '--out',
                         self.tmp / 'x.cairn', expect=2, mentions=('--data',))
        self.cairn_error('model', 'compress', model, '--method', 'zip', '--out',
                         self.tmp / 'x.cairn', expect=2, mentions=('int8, prune or distill',))
        self.assertFalse((self.tmp / 'x.cairn').exists())


if __name__ == '__main__':
    main()
