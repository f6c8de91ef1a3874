# SPDX-License-Identifier: MIT
"""cairn eval robustness: FGSM on logistic regression against the closed form, PGD at least as
strong as FGSM, noise at level 0 equal to clean accuracy, bad input refused."""
import csv
import json
import math
import pathlib
import struct
import sys
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from harness import CairnTest, SOURCE_DIR, main  # noqa: E402

DATA = SOURCE_DIR / 'data'


def read_model(path):
    """The JSON metadata and the payload of a cairn model file."""
    b = pathlib.Path(path).read_bytes()
    n = struct.unpack('<Q', b[12:20])[0]
    meta = json.loads(b[20:20 + n])
    m = struct.unpack('<Q', b[20 + n:28 + n])[0]
    return meta, b[28 + n:28 + n + m]


class RobustnessTest(CairnTest):
    def train(self, name, learner, extra=''):
        cfg = self.write(name + '.yaml', 'data: {path: %s, label: target}\nlearner: {name: %s%s}\n'
                         % (DATA / 'breast_cancer.csv', learner, extra))
        return self.cairn_json('train', '--json', '--config', cfg)['run_id']

    def test_fgsm_closed_form_and_pgd(self):
        run = self.train('lr', 'logistic')
        eps = [0, 0.05, 0.1, 0.2, 0.5]
        out = self.cairn_json('eval', 'robustness', 'runs:/%s/model' % run, '--data',
                              DATA / 'breast_cancer.csv', '--json', '--out', self.tmp / 'rob')
        curves = {c['perturbation']: c['points'] for c in out['curves']}
        self.assertEqual(set(curves), {'noise', 'dropout', 'fgsm', 'pgd'})
        self.assertEqual(curves['noise'][0]['metric'], out['clean'])
        self.assertEqual(curves['dropout'][0]['metric'], out['clean'])
        # the closed form: x' = x + eps * sign((p - y) w) in standardised units
        show = self.cairn_json('runs', 'show', run, '--json')
        art = pathlib.Path(show['artifact_uri'])
        meta, payload = read_model(art / 'model' / 'model.cairn')
        d, ko = struct.unpack('<QQ', payload[:16])
        self.assertEqual(ko, 1)
        w = struct.unpack('<%dd' % d, payload[16:16 + 8 * d])
        b = struct.unpack('<d', payload[16 + 8 * d:24 + 8 * d])[0]
        classes = meta['classes']
        val = [int(x) for x in (art / 'split' / 'val.idx').read_text().split()]
        with open(DATA / 'breast_cancer.csv') as f:
            rows = list(csv.DictReader(f))
        feats = meta['features']
        for k, e in enumerate(eps):
            hits = 0
            for r in val:
                x = [(float(rows[r][f['name']]) - f['mean']) / f['scale'] for f in feats]
                y = classes.index(rows[r]['target'])
                z = b + sum(wi * xi for wi, xi in zip(w, x))
                p = 1 / (1 + math.exp(-z))
                s = [(p - y) * wi for wi in w]
                xa = [xi + e * ((si > 0) - (si < 0)) for xi, si in zip(x, s)]
                za = b + sum(wi * xi for wi, xi in zip(w, xa))
                hits += (1 if za > 0 else 0) == y
            self.assertAlmostEqual(curves['fgsm'][k]['metric'], hits / len(val), places=12,
                                   msg='eps %g' % e)
            self.assertLessEqual(curves['pgd'][k]['metric'], curves['fgsm'][k]['metric'] + 1e-12)
        self.assertLess(curves['fgsm'][-1]['metric'], out['clean'])
        self.assertIn('<svg', (self.tmp / 'rob' / 'robustness.svg').read_text())
        self.assertTrue((art / 'robustness' / 'robustness.json').exists())

    def test_mlp_pgd_and_bad_input(self):
        run = self.train('mlp', 'mlp', ', params: {hidden: "16"}')
        out = self.cairn_json('eval', 'robustness', 'runs:/%s/model' % run, '--data',
                              DATA / 'breast_cancer.csv', '--json', '--perturb', 'fgsm,pgd',
                              '--eps', '0,0.2,0.5')
        curves = {c['perturbation']: c['points'] for c in out['curves']}
        for f, p in zip(curves['fgsm'], curves['pgd']):
            self.assertLessEqual(p['metric'], f['metric'] + 0.02)
        model = 'runs:/%s/model' % run
        self.cairn_error('eval', 'robustness', model, '--data', DATA / 'breast_cancer.csv',
                         '--perturb', 'blur', expect=2, mentions=('--perturb',))
        self.cairn_error('eval', 'robustness', model, '--data', DATA / 'breast_cancer.csv',
                         '--eps', '-0.1', expect=2, mentions=('--eps',))
        xgb = self.train('xgb', 'xgboost')
        self.cairn_error('eval', 'robustness', 'runs:/%s/model' % xgb, '--data',
                         DATA / 'breast_cancer.csv', '--perturb', 'fgsm',
                         mentions=("'xgboost'", 'logistic, mlp'))
        # noise and dropout apply to xgboost
        out = self.cairn_json('eval', 'robustness', 'runs:/%s/model' % xgb, '--data',
                              DATA / 'breast_cancer.csv', '--json', '--repeats', '2')
        self.assertEqual([c['perturbation'] for c in out['curves']], ['noise', 'dropout'])
        # training rows are refused
        show = self.cairn_json('runs', 'show', run, '--json')
        train = (pathlib.Path(show['artifact_uri']) / 'split' / 'train.idx').read_text()
        self.cairn_error('eval', 'robustness', 'runs:/%s/model' % run, '--data',
                         DATA / 'breast_cancer.csv', '--rows',
                         self.write('train.idx', '\n'.join(train.split()[:3])),
                         mentions=('trained on',))
        # the sealed test rows are eval final's, once
        self.cairn_error('eval', 'robustness', 'runs:/%s/model' % run, '--data',
                         DATA / 'breast_cancer.csv', '--rows',
                         pathlib.Path(show['artifact_uri']) / 'split' / 'test.idx',
                         mentions=('sealed test rows', 'cairn eval final'))


if __name__ == '__main__':
    main()
