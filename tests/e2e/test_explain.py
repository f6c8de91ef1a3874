# SPDX-License-Identifier: MIT
"""`cairn explain RUN` (issue 10, point 2): permutation importances equal scikit-learn's
definition replayed with cairn's own permutations on an sklearn LogisticRegression fitted on the
same rows (and agree in ranking with sklearn.inspection.permutation_importance's own draws);
TreeSHAP values equal python3-xgboost's Booster.predict(pred_contribs=True) on the booster
inside the model file; partial dependence equals sklearn.inspection.partial_dependence
(kind='average', method='brute'); a slice made worse on purpose is flagged and Holm's
adjustment is recomputed; bad input fails with a message naming the fix."""
import csv
import json
import math
import pathlib
import random
import sys
import xml.etree.ElementTree as ET

import numpy as np
from scipy import stats
from sklearn.inspection import partial_dependence, permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
import xgboost as xgb

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402

DATA = harness.SOURCE_DIR / 'data'


def read_idx(path):
    return [int(x) for x in pathlib.Path(path).read_text().split()]


def read_csv(path):
    with open(path, newline='') as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def holm(ps):
    order = sorted(range(len(ps)), key=lambda i: ps[i])
    out, run = [None] * len(ps), 0.0
    for rank, i in enumerate(order):
        run = max(run, min(1.0, (len(ps) - rank) * ps[i]))
        out[i] = run
    return out


class Explain(harness.CairnTest):
    def config(self, name, data, learner, params, extra=''):
        lines = ['name: %s' % name, 'experiment: explain', 'seed: 7',
                 'data: {path: %s, label: target, categorical: [target]}' % data,
                 'split: {method: stratified, test: 0.2, val: 0.25}',
                 'learner:', '  name: %s' % learner,
                 '  params: {%s}' % ', '.join('%s: %s' % kv for kv in params.items()),
                 'metrics: [accuracy, log_loss]', 'bootstrap: 0']
        return self.write(name + '.yaml', '\n'.join(lines) + '\n' + extra)

    def train(self, cfg):
        return self.cairn_json('train', '--config', cfg, '--json')

    def artifacts(self, res):
        return pathlib.Path(res['artifact_dir'])

    def matrix(self, path, rows, features):
        header, body = read_csv(path)
        cols = [header.index(f) for f in features]
        y = np.array([int(body[r][header.index('target')]) for r in rows])
        return np.array([[float(body[r][c]) for c in cols] for r in rows]), y

    # ---- permutation importance and partial dependence against sklearn ----

    def test_logistic_matches_sklearn(self):
        res = self.train(self.config('bc-lr', DATA / 'breast_cancer.csv', 'logistic',
                                     {'C': '0.5', 'tol': '1e-10', 'max_iter': '10000'}))
        out = self.cairn_json('explain', res['run_id'], '--repeats', '4', '--top', '3',
                              '--json')
        art = self.artifacts(res)
        self.assertEqual(out['metric'], 'accuracy')
        self.assertEqual(out['rows_from'], 'validation')
        val = read_idx(art / 'split' / 'val.idx')
        train = read_idx(art / 'split' / 'train.idx')
        self.assertEqual(out['rows'], val)
        header, _ = read_csv(DATA / 'breast_cancer.csv')
        features = [h for h in header if h != 'target']
        xt, yt = self.matrix(DATA / 'breast_cancer.csv', train, features)
        xv, yv = self.matrix(DATA / 'breast_cancer.csv', val, features)
        est = make_pipeline(StandardScaler(), LogisticRegression(C=0.5, tol=1e-10, solver='newton-cg',
                                                                 max_iter=10000))
        est.fit(xt, yt)
        # the fitted models agree, so every score below is comparable row by row
        with open(art / 'predictions' / 'val.csv', newline='') as f:
            pred = list(csv.DictReader(f))
        p1 = np.array([float(r['p_1']) for r in pred])
        self.assertLess(np.max(np.abs(p1 - est.predict_proba(xv)[:, 1])), 1e-6)
        base = np.mean(est.predict(xv) == yv)
        self.assertAlmostEqual(out['baseline'], base, places=12)

        imp = out['permutation_importance']
        self.assertEqual(imp['n_repeats'], 4)
        means = {}
        for item in imp['features']:
            f = features.index(item['feature'])
            drops = []
            for perm in item['permutations']:
                self.assertEqual(sorted(perm), list(range(len(val))))
                xp = xv.copy()
                xp[:, f] = xv[perm, f]  # sklearn: X[:, col] = X[shuffling_idx, col]
                drops.append(base - np.mean(est.predict(xp) == yv))
            np.testing.assert_allclose(item['scores'], drops, atol=1e-12)
            self.assertAlmostEqual(item['mean'], np.mean(drops), places=12)
            self.assertAlmostEqual(item['std'], np.std(drops), places=12)  # ddof 0, as sklearn
            half = stats.t.ppf(0.975, 3) * np.std(drops, ddof=1) / 2
            self.assertAlmostEqual(item['ci_low'], np.mean(drops) - half, places=9)
            self.assertAlmostEqual(item['ci_high'], np.mean(drops) + half, places=9)
            means[item['feature']] = item['mean']
        ranked = [i['feature'] for i in imp['features']]
        self.assertEqual(ranked, sorted(ranked, key=lambda k: -means[k]))
        # sklearn's own draws: the same importances in distribution (the top feature of a
        # long run is among cairn's leading ones, and the two rankings agree overall)
        own = self.cairn_json('explain', res['run_id'], '--repeats', '30', '--no-log',
                              '--json')['permutation_importance']['features']
        sk = permutation_importance(est, xv, yv, scoring='accuracy', n_repeats=30,
                                    random_state=0)
        sk_mean = dict(zip(features, sk.importances_mean))
        cairn_mean = {i['feature']: i['mean'] for i in own}
        top_sk = max(features, key=lambda k: sk_mean[k])
        self.assertIn(top_sk, [i['feature'] for i in own][:5])
        rho = stats.spearmanr([sk_mean[k] for k in features],
                              [cairn_mean[k] for k in features]).correlation
        self.assertGreater(rho, 0.5)

        # partial dependence of the top 3 features, sklearn's grid and averages
        pd = out['partial_dependence']
        self.assertEqual(pd['outputs'], ['1'])
        self.assertEqual([p['feature'] for p in pd['features']], ranked[:3])
        for p in pd['features']:
            f = features.index(p['feature'])
            ref = partial_dependence(est, xv, [f], grid_resolution=20, kind='average',
                                     method='brute')
            np.testing.assert_allclose(p['grid'], ref['values'][0], rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(p['average'], ref['average'], atol=1e-6)

        # slices: the top features' 5 quantile bins cover the rows; Holm recomputed
        sl = out['slices']['slices']
        for feat in ranked[:3]:
            self.assertEqual(sum(s['n'] for s in sl if s['feature'] == feat), len(val))
        tested = [s for s in sl if s['pvalue'] is not None]
        for s, adj in zip(tested, holm([s['pvalue'] for s in tested])):
            self.assertAlmostEqual(s['p_holm'], adj, places=12)
            n1, n2 = s['n'], len(val) - s['n']
            pool = (s['metric'] * n1 + s['rest'] * n2) / (n1 + n2)
            se = math.sqrt(pool * (1 - pool) * (1 / n1 + 1 / n2))
            p = 2 * stats.norm.sf(abs(s['metric'] - s['rest']) / se) if se > 0 else 1.0
            self.assertAlmostEqual(s['pvalue'], p, places=9)

        # the pictures and the JSON are on the run
        for name in ('explain.json', 'permutation_importance.svg', 'partial_dependence.svg',
                     'slices.svg'):
            path = art / 'explain' / name
            self.assertTrue(path.exists(), name)
            if name.endswith('.svg'):
                root = ET.parse(path).getroot()
                self.assertIn('validation split', ET.tostring(root, encoding='unicode'))
        # a human table by default
        text = self.cairn('explain', res['run_id'], '--repeats', '2', '--no-log').stdout
        self.assertIn('permutation importance', text)
        self.assertIn(ranked[0], text)

    # ---- TreeSHAP against python3-xgboost ----

    def booster(self, art):
        raw = (art / 'model' / 'model.cairn').read_bytes()
        start = raw.find(b'{"learner"')
        self.assertGreaterEqual(start, 0, 'no xgboost JSON in the model file')
        obj, end = json.JSONDecoder().raw_decode(raw[start:].decode('latin-1'))
        bst = xgb.Booster()
        bst.load_model(bytearray(raw[start:start + end]))
        return bst

    def test_treeshap_matches_xgboost(self):
        res = self.train(self.config('bc-xgb', DATA / 'breast_cancer.csv', 'xgboost',
                                     {'max_depth': '3', 'num_round': '25', 'eta': '0.2'}))
        out = self.cairn_json('explain', res['run_id'], '--repeats', '2', '--top', '2',
                              '--json')
        art = self.artifacts(res)
        val = read_idx(art / 'split' / 'val.idx')
        header, _ = read_csv(DATA / 'breast_cancer.csv')
        features = [h for h in header if h != 'target']
        xv, _ = self.matrix(DATA / 'breast_cancer.csv', val, features)
        ref = self.booster(art).predict(xgb.DMatrix(xv), pred_contribs=True)
        shap = out['shap']
        self.assertEqual(shap['n_groups'], 1)
        self.assertEqual(shap['features'], features)
        got = np.array([row[0] for row in shap['values']])
        self.assertEqual(got.shape, ref.shape)
        np.testing.assert_allclose(got, ref, atol=1e-5)
        mean_abs = np.mean(np.abs(ref[:, :-1]), axis=0)
        order = [m['feature'] for m in shap['mean_abs']]
        self.assertEqual(order[0], features[int(np.argmax(mean_abs))])
        for m in shap['mean_abs']:
            self.assertAlmostEqual(m['value'], mean_abs[features.index(m['feature'])], places=5)
        svg = art / 'explain' / 'shap_summary.svg'
        ET.parse(svg)
        self.assertIn('circle', svg.read_text())

    def test_multiclass_treeshap_and_pd(self):
        res = self.train(self.config('iris-xgb', DATA / 'iris.csv', 'xgboost',
                                     {'max_depth': '2', 'num_round': '10'}))
        out = self.cairn_json('explain', res['run_id'], '--repeats', '2', '--top', '1',
                              '--json', '--no-log')
        art = self.artifacts(res)
        val = read_idx(art / 'split' / 'val.idx')
        header, _ = read_csv(DATA / 'iris.csv')
        features = [h for h in header if h != 'target']
        xv, _ = self.matrix(DATA / 'iris.csv', val, features)
        ref = self.booster(art).predict(xgb.DMatrix(xv), pred_contribs=True)  # n x K x (d+1)
        self.assertEqual(out['shap']['n_groups'], 3)
        np.testing.assert_allclose(np.array(out['shap']['values']), ref, atol=1e-5)
        pd = out['partial_dependence']
        self.assertEqual(pd['outputs'], ['0', '1', '2'])
        avg = np.array(pd['features'][0]['average'])
        self.assertEqual(avg.shape[0], 3)
        np.testing.assert_allclose(avg.sum(axis=0), 1.0, atol=1e-6)

    # ---- slices flagged on crafted data; categorical features ----

    def crafted(self):
        rng = random.Random(3)
        lines = ['x1,x2,group,target']
        for i in range(900):
            g = 'abc'[i % 3]
            x1, x2 = rng.gauss(0, 1), rng.gauss(0, 1)
            y = int(x1 + 0.3 * x2 > 0)
            if g == 'c' and rng.random() < 0.45:  # group c: labels mostly noise
                y = 1 - y
            lines.append('%.6f,%.6f,%s,%d' % (x1, x2, g, y))
        return self.write('crafted.csv', '\n'.join(lines) + '\n')

    def test_worse_slice_is_flagged(self):
        data = self.crafted()
        for learner, params in (('logistic', {'C': '1.0'}),
                                ('xgboost', {'max_depth': '2', 'num_round': '20'})):
            with self.subTest(learner=learner):
                cfg = self.config('crafted-' + learner, data, learner, params)
                res = self.train(cfg)
                out = self.cairn_json('explain', res['run_id'], '--repeats', '3',
                                      '--slices', 'group,x1', '--json')
                sl = out['slices']['slices']
                self.assertEqual({s['feature'] for s in sl}, {'group', 'x1'})
                by = {s['slice']: s for s in sl if s['feature'] == 'group'}
                self.assertEqual(set(by), {'a', 'b', 'c'})
                self.assertTrue(by['c']['worse'], by['c'])
                self.assertFalse(by['a']['worse'])
                self.assertFalse(by['b']['worse'])
                self.assertLess(by['c']['ci_high'], by['a']['metric'])
                self.assertEqual(sum(s['n'] for s in by.values()), len(out['rows']))
                # partial dependence over the categorical feature's levels when it ranks
                for p in out['partial_dependence']['features']:
                    if p['feature'] == 'group':
                        self.assertEqual(sorted(p['grid']), ['a', 'b', 'c'])
                if learner == 'xgboost':
                    # one-hot groups summed back: bias + contributions = the margin
                    art = self.artifacts(res)
                    with open(art / 'predictions' / 'val.csv', newline='') as f:
                        p1 = [float(r['p_1']) for r in csv.DictReader(f)]
                    for row, p in zip(out['shap']['values'], p1):
                        margin = sum(row[0])
                        self.assertAlmostEqual(1 / (1 + math.exp(-margin)), p, places=5)
                    self.assertEqual(out['shap']['features'], ['x1', 'x2', 'group'])
                    svg = (self.artifacts(res) / 'explain' / 'slices.svg').read_text()
                    self.assertIn('#d62728', svg)  # the flagged slice in red

    def test_quiet_on_healthy_slices(self):
        res = self.train(self.config('iris-lr', DATA / 'iris.csv', 'logistic', {'C': '1.0'}))
        out = self.cairn_json('explain', res['run_id'], '--repeats', '2', '--json', '--no-log')
        self.assertFalse(any(s['worse'] for s in out['slices']['slices']))

    # ---- other rows and bad input ----

    def test_data_file_and_rows(self):
        res = self.train(self.config('bc-lr2', DATA / 'breast_cancer.csv', 'logistic', {}))
        art = self.artifacts(res)
        header, body = read_csv(DATA / 'breast_cancer.csv')
        val = read_idx(art / 'split' / 'val.idx')
        test = read_idx(art / 'split' / 'test.idx')
        # --rows: a subset of the validation rows is fine
        idx = self.write('some.idx', '\n'.join(map(str, val[:40])) + '\n')
        out = self.cairn_json('explain', res['run_id'], '--rows', idx, '--repeats', '2',
                              '--json', '--no-log')
        self.assertEqual(out['rows'], val[:40])
        # --data: another labelled file (the validation rows written out)
        path = self.tmp / 'held.csv'
        with open(path, 'w', newline='') as f:
            w = csv.writer(f)
            w.writerow(header)
            for r in val:
                w.writerow(body[r])
        out2 = self.cairn_json('explain', res['run_id'], '--data', path, '--repeats', '2',
                               '--json', '--no-log', '--seed', str(out['seed']))
        self.assertEqual(out2['rows'], list(range(len(val))))
        self.assertAlmostEqual(out2['baseline'], self.cairn_json(
            'explain', res['run_id'], '--repeats', '2', '--json', '--no-log')['baseline'])
        # the guardrail: rows of the sealed test split are refused
        bad = self.write('bad.idx', '\n'.join(map(str, sorted(val[:5] + test[:3]))) + '\n')
        self.cairn_error('explain', res['run_id'], '--rows', bad,
                         mentions=['sealed test split', '3 of its rows'])
        # training rows are refused too
        train = read_idx(art / 'split' / 'train.idx')
        tr = self.write('train.idx', '\n'.join(map(str, train[:10])) + '\n')
        self.cairn_error('explain', res['run_id'], '--rows', tr, mentions=['used to train'])
        # --data holding copies of test rows is refused as well
        leak = self.tmp / 'leak.csv'
        with open(leak, 'w', newline='') as f:
            w = csv.writer(f)
            w.writerow(header)
            for r in val[:20] + test[:2]:
                w.writerow(body[r])
        self.cairn_error('explain', res['run_id'], '--data', leak,
                         mentions=['2 of its rows', 'sealed test split'])
        # --data missing a feature
        miss = self.tmp / 'miss.csv'
        with open(miss, 'w', newline='') as f:
            w = csv.writer(f)
            w.writerow([h for h in header if h != 'mean radius'])
            for r in val:
                w.writerow([v for h, v in zip(header, body[r]) if h != 'mean radius'])
        self.cairn_error('explain', res['run_id'], '--data', miss,
                         mentions=["no column 'mean radius'", 'feature'])
        # --slices naming no feature
        self.cairn_error('explain', res['run_id'], '--slices', 'nope', '--no-log',
                         mentions=["'nope' is not a feature"])

    def test_bad_input(self):
        self.cairn_error('explain', 'ffffffffffffffffffffffffffffffff', mentions=['ffffff'])
        proc = self.cairn('run', '--', 'true')
        runs = self.cairn_json('runs', 'list', '--json')['runs']
        self.cairn_error('explain', runs[0]['run_id'],
                         mentions=['no model artifact', 'cairn train'])
        res = self.train(self.config('iris-lr3', DATA / 'iris.csv', 'logistic', {}))
        err = self.cairn('explain', res['run_id'], '--repeats', '0', expect=2).stderr
        self.assertIn('--repeats', err)
        self.assertIn('1 to 1000', err)
        self.cairn('explain', expect=2)
        del proc


if __name__ == '__main__':
    harness.main()
