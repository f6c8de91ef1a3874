# SPDX-License-Identifier: MIT
"""The tree, forest, knn and gnb learners against scikit-learn 1.2 on the bundled datasets.

Raw predictions come from tests/e2e/learn_driver.c (built as cairn_learn_fit: the public fit
and predict API, with a save/load round trip in between); scikit-learn runs in this process.
- gnb: predictions equal GaussianNB's, probabilities within 1e-9.
- knn: predictions and uniform-vote probabilities equal KNeighborsClassifier(algorithm='brute')
  (one thread: sklearn's tie-breaking among equal distances depends on its thread count), on raw
  inputs and on inputs standardised as cairn does; KNeighborsRegressor on diabetes within 1e-9.
- tree: depth-limited trees on iris and wine give sklearn's predictions and leaf probabilities.
- tree and forest: over 10 seeds (each its own 70/30 split, the same for both), cairn's mean
  accuracy (R^2 on diabetes) lies within sklearn's mean +- 2 sd over the same seeds, widened by
  one test row.
- `cairn train` with each learner leaves a finished run; bad params are refused by name."""
import csv
import os
import pathlib
import statistics
import subprocess
import sys

os.environ['OMP_NUM_THREADS'] = '1'  # before numpy/sklearn load their thread pools

import numpy as np  # noqa: E402
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor  # noqa: E402
from sklearn.naive_bayes import GaussianNB  # noqa: E402
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor  # noqa: E402
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402

DATA = harness.SOURCE_DIR / 'data'
DRIVER = harness.BUILD_DIR / 'cairn_learn_fit'
CLASSIFICATION = ('iris', 'wine', 'breast_cancer', 'digits')


def load(name):
    with open(DATA / ('%s.csv' % name)) as f:
        rows = list(csv.reader(f))
    a = np.array(rows[1:], dtype=float)
    return a[:, :-1], a[:, -1]


def split(n, seed, train=0.7):
    perm = np.random.RandomState(seed).permutation(n)
    cut = int(n * train)
    return np.sort(perm[:cut]), np.sort(perm[cut:])


def standardise(train, rows):
    """rows scaled as cairn scales them (model.c): the training rows' mean (a sequential sum)
    and population sd (1 when 0), then (v - mean) / sd."""
    out = np.empty_like(rows)
    n = train.shape[0]
    for j in range(train.shape[1]):
        s = 0.0
        for v in train[:, j]:
            s += float(v)
        mean = s / n
        sq = 0.0
        for v in train[:, j]:
            sq += (float(v) - mean) * (float(v) - mean)
        sd = (sq / n) ** 0.5
        sd = sd if sd > 0 else 1.0
        out[:, j] = [(float(v) - mean) / sd for v in rows[:, j]]
    return out


class LearnersMore(harness.CairnTest):
    def fit(self, dataset, learner, params, train, test, seed=0, roundtrip=True):
        """Runs the driver; returns (labels or values, probabilities or None)."""
        rows = self.tmp / 'rows'
        rows.write_text(' '.join(map(str, train)) + '\n' + ' '.join(map(str, test)) + '\n')
        model = str(self.tmp / 'm.cairn') if roundtrip else '-'
        cmd = [str(DRIVER), str(DATA / ('%s.csv' % dataset)), 'target', learner, str(rows),
               str(seed), model] + ['%s=%s' % kv for kv in params.items()]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            self.fail('%s failed: %s' % (' '.join(cmd), proc.stderr))
        lines = [line.split() for line in proc.stdout.splitlines()]
        self.assertEqual(len(lines), len(test))
        pred = np.array([float(line[0]) for line in lines])
        prob = np.array([[float(v) for v in line[1:]] for line in lines])
        return pred, (prob if prob.shape[1] else None)

    def test_gnb_equals_sklearn(self):
        for ds in CLASSIFICATION:
            with self.subTest(dataset=ds):
                x, y = load(ds)
                tr, te = split(len(y), 1)
                pred, prob = self.fit(ds, 'gnb', {}, tr, te)
                ref = GaussianNB().fit(x[tr], y[tr])
                np.testing.assert_array_equal(pred, ref.predict(x[te]))
                np.testing.assert_allclose(prob, ref.predict_proba(x[te]), rtol=0, atol=1e-9)

    def test_knn_classifier_equals_sklearn_brute(self):
        for ds in CLASSIFICATION:
            x, y = load(ds)
            tr, te = split(len(y), 2)
            for standardize in ('false', 'true'):
                scaled = standardize == 'true'
                xtr = standardise(x[tr], x[tr]) if scaled else x[tr]
                xte = standardise(x[tr], x[te]) if scaled else x[te]
                for p in (1, 2):
                    for weights in ('uniform', 'distance'):
                        with self.subTest(dataset=ds, standardize=standardize, p=p,
                                          weights=weights):
                            params = {'p': p, 'weights': weights, 'standardize': standardize}
                            pred, prob = self.fit(ds, 'knn', params, tr, te)
                            ref = KNeighborsClassifier(algorithm='brute', p=p, weights=weights)
                            ref.fit(xtr, y[tr])
                            np.testing.assert_array_equal(pred, ref.predict(xte))
                            tol = 0 if weights == 'uniform' else 1e-12
                            np.testing.assert_allclose(prob, ref.predict_proba(xte), rtol=0,
                                                       atol=tol)

    def test_knn_regressor_matches_sklearn_brute(self):
        x, y = load('diabetes')
        tr, te = split(len(y), 3)
        for p in (1, 2):
            for weights in ('uniform', 'distance'):
                with self.subTest(p=p, weights=weights):
                    params = {'p': p, 'weights': weights, 'standardize': 'false',
                              'task': 'regression', 'n_neighbors': 7}
                    pred, prob = self.fit('diabetes', 'knn', params, tr, te)
                    self.assertIsNone(prob)
                    ref = KNeighborsRegressor(n_neighbors=7, algorithm='brute', p=p,
                                              weights=weights).fit(x[tr], y[tr])
                    np.testing.assert_allclose(pred, ref.predict(x[te]), rtol=1e-12, atol=0)

    def test_depth_limited_tree_equals_sklearn(self):
        for ds, depth in (('iris', 2), ('iris', 3), ('wine', 2), ('wine', 3)):
            x, y = load(ds)
            for seed in range(3):
                with self.subTest(dataset=ds, depth=depth, seed=seed):
                    tr, te = split(len(y), seed)
                    pred, prob = self.fit(ds, 'tree', {'max_depth': depth}, tr, te, seed)
                    ref = DecisionTreeClassifier(max_depth=depth, random_state=seed)
                    ref.fit(x[tr], y[tr])
                    np.testing.assert_array_equal(pred, ref.predict(x[te]))
                    np.testing.assert_allclose(prob, ref.predict_proba(x[te]), rtol=0,
                                               atol=1e-15)
        # regression: the same leaves, so the same means
        x, y = load('diabetes')
        tr, te = split(len(y), 0)
        pred, _ = self.fit('diabetes', 'tree', {'max_depth': 3, 'task': 'regression'}, tr, te)
        ref = DecisionTreeRegressor(max_depth=3, random_state=0).fit(x[tr], y[tr])
        np.testing.assert_allclose(pred, ref.predict(x[te]), rtol=1e-12)

    def spread(self, ds, learner, ref_of_seed, params, seeds=range(10)):
        """cairn's mean score over seeds inside sklearn's mean +- (2 sd + one test row)."""
        x, y = load(ds)
        ours, theirs = [], []
        for seed in seeds:
            tr, te = split(len(y), 100 + seed)
            pred, _ = self.fit(ds, learner, params, tr, te, seed, roundtrip=False)
            ref = ref_of_seed(seed).fit(x[tr], y[tr])
            if ds == 'diabetes':
                ours.append(r2(y[te], pred))
                theirs.append(r2(y[te], ref.predict(x[te])))
            else:
                ours.append(float(np.mean(pred == y[te])))
                theirs.append(float(np.mean(ref.predict(x[te]) == y[te])))
        m, sd = statistics.mean(theirs), statistics.stdev(theirs)
        slack = 2 * sd + 1.0 / len(te)
        self.assertLessEqual(abs(statistics.mean(ours) - m), slack,
                             '%s %s: cairn %s vs sklearn %s' % (learner, ds, ours, theirs))

    def test_tree_within_sklearn_spread(self):
        for ds in CLASSIFICATION:
            with self.subTest(dataset=ds):
                self.spread(ds, 'tree', lambda s: DecisionTreeClassifier(random_state=s), {})
        self.spread('diabetes', 'tree',
                    lambda s: DecisionTreeRegressor(min_samples_leaf=5, random_state=s),
                    {'task': 'regression', 'min_samples_leaf': 5})

    def test_forest_within_sklearn_spread(self):
        for ds in CLASSIFICATION:
            with self.subTest(dataset=ds):
                self.spread(ds, 'forest',
                            lambda s: RandomForestClassifier(n_estimators=50, random_state=s),
                            {'n_estimators': 50, 'n_jobs': 2})
        self.spread('diabetes', 'forest',
                    lambda s: RandomForestRegressor(n_estimators=50, random_state=s),
                    {'task': 'regression', 'n_estimators': 50, 'n_jobs': 2})

    def test_forest_is_the_same_on_one_thread_or_two(self):
        x, y = load('wine')
        tr, te = split(len(y), 0)
        one = self.fit('wine', 'forest', {'n_estimators': 9, 'n_jobs': 1}, tr, te, 4)
        two = self.fit('wine', 'forest', {'n_estimators': 9, 'n_jobs': 2}, tr, te, 4)
        np.testing.assert_array_equal(one[1], two[1])
        other = self.fit('wine', 'forest', {'n_estimators': 9}, tr, te, 5)
        self.assertFalse(np.array_equal(one[1], other[1]))  # the seed matters

    def config(self, name, dataset, learner, params, categorical=True):
        lines = ['name: %s' % name, 'experiment: more', 'seed: 3',
                 'data: {path: %s, label: target%s}'
                 % (DATA / ('%s.csv' % dataset), ', categorical: [target]' if categorical else ''),
                 'split: {test: 0.2, val: 0.2}', 'learner:', '  name: %s' % learner]
        if params:
            lines.append('  params: {%s}' % ', '.join('%s: %s' % kv for kv in params.items()))
        path = self.tmp / ('%s.yaml' % name)
        path.write_text('\n'.join(lines) + '\n')
        return path

    def test_cairn_train_with_each_learner(self):
        cases = [('iris', True, 'tree', {'max_depth': 3}),
                 ('wine', True, 'forest', {'n_estimators': 30}),
                 ('breast_cancer', True, 'knn', {'n_neighbors': 7}),
                 ('digits', True, 'gnb', {}),
                 ('diabetes', False, 'tree', {'min_samples_leaf': 5}),
                 ('diabetes', False, 'forest', {'n_estimators': 20, 'max_features': '0.5'}),
                 ('diabetes', False, 'knn', {'weights': 'distance'})]
        for ds, categorical, learner, params in cases:
            with self.subTest(dataset=ds, learner=learner):
                cfg = self.config('%s-%s' % (ds, learner), ds, learner, params, categorical)
                res = self.cairn_json('train', '--json', '--config', cfg)
                run = self.cairn_json('runs', 'show', res['run_id'], '--json')
                self.assertEqual(run['status'], 'FINISHED')
                self.assertEqual(run['params']['learner'], learner)
                main = 'accuracy' if categorical else 'rmse'
                self.assertIn('val_%s' % main, run['metrics'])
                if categorical:
                    self.assertGreater(run['metrics']['val_accuracy'], 0.8)
                arts = {a['path'] for a in run['artifacts']}
                self.assertIn('model/model.cairn', arts)

    def test_bad_params_are_refused(self):
        cases = [('iris', 'tree', {'max_features': 'most'}, "param 'max_features'"),
                 ('iris', 'forest', {'max_features': '1.5'}, "param 'max_features'"),
                 ('iris', 'tree', {'criterion': 'squared_error'}, 'squared_error is for regression'),
                 ('iris', 'knn', {'n_neighbors': 100000}, 'exceeds the'),
                 ('iris', 'knn', {'p': 3}, "param 'p'"),
                 ('iris', 'forest', {'n_jobs': 8}, "param 'n_jobs'"),
                 ('iris', 'gnb', {'var_smoothing': -1}, "param 'var_smoothing'"),
                 ('iris', 'tree', {'max_dept': 3}, "did you mean 'max_depth'")]
        for ds, learner, params, text in cases:
            with self.subTest(learner=learner, params=params):
                cfg = self.config('bad', ds, learner, params)
                self.cairn_error('train', '--config', cfg, mentions=(text,))
        cfg = self.config('gnbreg', 'diabetes', 'gnb', {}, categorical=False)
        self.cairn_error('train', '--config', cfg, mentions=('gnb',))


def r2(y, p):
    return 1 - float(np.sum((y - p) ** 2)) / float(np.sum((y - np.mean(y)) ** 2))


if __name__ == '__main__':
    harness.main()
