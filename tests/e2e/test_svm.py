# SPDX-License-Identifier: MIT
"""SVM learners (svc, nusvc, svr, nusvr through libsvm) against scikit-learn 1.2's SVC, NuSVC,
SVR and NuSVR with the same params on the bundled datasets: the same predictions and support
vector counts, decision values within 1e-6 relative (both run libsvm's SMO; they agree to
rounding), Platt probabilities as close as sklearn's own across random_state (see
test_probabilities_close); raw inputs
(standardize=false) against a bare estimator, standardize=true against
Pipeline(StandardScaler(), estimator). `cairn train` with svc leaves a run whose validation
predictions are sklearn's and whose saved model scores the test rows as sklearn does; bad
params are refused before a run exists."""
import csv
import json
import pathlib
import subprocess
import sys

import numpy as np
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, SVR, NuSVC, NuSVR

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402

DATA = harness.SOURCE_DIR / 'data'
DRIVER = harness.BUILD_DIR / 'cairn_svm_driver'
ESTIMATORS = {'svc': SVC, 'nusvc': NuSVC, 'svr': SVR, 'nusvr': NuSVR}
FLOATS = ('C', 'nu', 'coef0', 'epsilon', 'tol')


def load(dataset):
    with open(DATA / ('%s.csv' % dataset)) as f:
        r = csv.reader(f)
        header = next(r)
        a = np.array([[float(v) for v in row] for row in r])
    li = header.index('target')
    return np.delete(a, li, axis=1), a[:, li]


def sk_kwargs(learner, params, balanced):
    kw = {}
    for k, v in params.items():
        if k in FLOATS:
            kw[k] = float(v)
        elif k == 'degree':
            kw[k] = int(v)
        elif k == 'gamma':
            kw[k] = v if v in ('scale', 'auto') else float(v)
        elif k in ('probability', 'shrinking'):
            kw[k] = v == 'true'
        else:
            kw[k] = v
    if balanced:
        kw['class_weight'] = 'balanced'
    if learner in ('svc', 'nusvc'):
        kw['decision_function_shape'] = 'ovo'
    if kw.get('probability'):
        kw['random_state'] = 0
    return kw


class Svm(harness.CairnTest):
    def driver(self, dataset, learner, params, standardize, balanced=False, seed=0):
        args = [str(DRIVER), str(DATA / ('%s.csv' % dataset)), 'target', learner]
        args += ['%s=%s' % kv for kv in params.items()]
        args += ['standardize=%s' % ('true' if standardize else 'false'), '--seed', str(seed)]
        if balanced:
            args.append('--balanced')
        proc = subprocess.run(args, capture_output=True, text=True, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return json.loads(proc.stdout)

    def sklearn(self, dataset, learner, params, standardize, balanced=False):
        x, y = load(dataset)
        est = ESTIMATORS[learner](**sk_kwargs(learner, params, balanced))
        model = make_pipeline(StandardScaler(), est) if standardize else est
        model.fit(x, y)
        return x, y, est, model

    def compare(self, dataset, learner, params, standardize, balanced=False):
        out = self.driver(dataset, learner, params, standardize, balanced)
        x, _, est, model = self.sklearn(dataset, learner, params, standardize, balanced)
        self.assertTrue(out['roundtrip'], 'the reloaded model predicts differently')
        # cairn's blocked prediction against libsvm's own per-row functions on the same model
        ref = np.array(out['reference'])
        mine = np.array(out['proba']) if 'proba' in out else np.array(out['predict'])[:, None]
        self.assertEqual(mine.shape, ref.shape)
        self.assertLess(np.max(np.abs(mine - ref)), 1e-9 * max(1.0, np.max(np.abs(ref))))
        dec = np.array(out['decision'])
        if learner in ('svr', 'nusvr'):
            want = model.predict(x)
            self.assertLess(np.max(np.abs(dec[:, 0] - want)) / np.max(np.abs(want)), 1e-6)
            self.assertLess(np.max(np.abs(np.array(out['predict']) - want)) /
                            np.max(np.abs(want)), 1e-6)
            return out, est, model, x
        want = model.decision_function(x)
        if want.ndim == 1:  # binary: sklearn flips libsvm's sign to favour classes_[1]
            want = -want[:, None]
        self.assertEqual(dec.shape, want.shape)
        self.assertLess(np.max(np.abs(dec - want)) / np.max(np.abs(want)), 1e-6)
        self.assertEqual(out['n_support'], [int(v) for v in est.n_support_])
        self.assertEqual(out['labels'], list(range(len(est.classes_))))
        if params.get('probability') != 'true':  # without Platt: the vote, as sklearn predicts
            pred = np.array(out['predict'])
            self.assertEqual(pred.tolist(),
                             np.searchsorted(est.classes_, model.predict(x)).tolist())
            proba = np.array(out['proba'])
            self.assertTrue(np.all(proba[np.arange(len(pred)), pred.astype(int)] == 1.0))
            self.assertTrue(np.all(proba.sum(axis=1) == 1.0))
        return out, est, model, x

    def test_classification_matches_sklearn(self):
        for dataset in ('iris', 'wine', 'breast_cancer'):
            for kernel in ('linear', 'rbf', 'poly', 'sigmoid'):
                for standardize in (True, False):
                    if kernel in ('poly', 'sigmoid') and not standardize:
                        continue  # raw wine/breast_cancer features: poly needs ages to converge
                    with self.subTest(dataset=dataset, kernel=kernel, standardize=standardize):
                        self.compare(dataset, 'svc', {'kernel': kernel}, standardize)

    def test_params_nu_and_class_weights(self):
        cases = [
            ('iris', 'svc', {'kernel': 'poly', 'degree': '2', 'coef0': '1', 'gamma': '0.5',
                             'C': '3'}, True, False),
            ('wine', 'svc', {'kernel': 'rbf', 'gamma': 'auto', 'C': '0.5'}, True, True),
            ('breast_cancer', 'svc', {'kernel': 'linear', 'C': '0.1', 'tol': '1e-5'}, True,
             True),
            ('iris', 'nusvc', {'kernel': 'rbf', 'nu': '0.3'}, True, False),
            ('wine', 'nusvc', {'kernel': 'linear', 'nu': '0.2'}, True, True),
            ('breast_cancer', 'svc', {'kernel': 'rbf', 'shrinking': 'false'}, True, False),
            # raw pixels, mostly zeros: libsvm gets the nonzero entries only
            ('digits', 'svc', {'kernel': 'rbf'}, False, False),
            ('digits', 'svc', {'kernel': 'poly', 'degree': '2', 'gamma': '0.001'}, False, False),
        ]
        for dataset, learner, params, standardize, balanced in cases:
            with self.subTest(dataset=dataset, learner=learner, params=params,
                              balanced=balanced):
                self.compare(dataset, learner, params, standardize, balanced)

    def test_regression_matches_sklearn(self):
        cases = [
            ('svr', {'kernel': 'rbf', 'C': '100'}, True),
            ('svr', {'kernel': 'linear', 'C': '10', 'epsilon': '5'}, False),
            ('svr', {'kernel': 'poly', 'degree': '2', 'C': '50', 'epsilon': '1'}, True),
            ('nusvr', {'kernel': 'rbf', 'C': '100', 'nu': '0.4'}, True),
        ]
        for learner, params, standardize in cases:
            with self.subTest(learner=learner, params=params):
                self.compare('diabetes', learner, params, standardize)

    def test_probabilities_close(self):
        # libsvm's Platt scaling fits its sigmoids on decision values from an internal 5-fold
        # cross-validation whose folds are drawn with rand(): cairn seeds it from the run seed,
        # sklearn's patched copy from random_state, so the folds (not the method) differ and
        # the probabilities match only as closely as sklearn's own agree across random_state.
        # Measured: cairn's largest gap to sklearn (random_state 0) is 0.019-0.073 on these
        # datasets, sklearn's own over 10 random states 0.036-0.090; the mean gaps are alike
        # (about 0.0015). A wrong class order or a missing sigmoid is off by far more.
        for dataset in ('iris', 'wine', 'breast_cancer'):
            with self.subTest(dataset=dataset):
                params = {'kernel': 'rbf', 'probability': 'true'}
                out, est, model, x = self.compare(dataset, 'svc', params, True)
                proba = np.array(out['proba'])
                sk = np.array([make_pipeline(StandardScaler(),
                                             SVC(probability=True, random_state=rs))
                               .fit(x, load(dataset)[1]).predict_proba(x) for rs in range(10)])
                self.assertEqual(proba.shape, sk[0].shape)
                self.assertTrue(np.allclose(proba.sum(axis=1), 1.0))
                spread = np.max(np.abs(sk - sk[0]))
                self.assertLess(np.max(np.abs(proba - sk[0])), 1.5 * spread + 0.01)
                mean = sk.mean(axis=0)
                self.assertLess(np.mean(np.abs(proba - mean)),
                                2 * np.mean(np.abs(sk - mean)) + 1e-3)
                # the class is the most probable one; where sklearn's probabilities are clear
                # about it, the same class
                pred = np.array(out['predict'])
                self.assertEqual(pred.tolist(), np.argmax(proba, axis=1).tolist())
                top = np.sort(sk[0], axis=1)
                clear = top[:, -1] - top[:, -2] > 0.2
                self.assertEqual(pred[clear].tolist(),
                                 np.argmax(sk[0], axis=1)[clear].tolist())
                # the seed settles the folds: the same seed gives the same bits
                again = self.driver(dataset, 'svc', params, True)
                self.assertEqual(again['proba'], out['proba'])

    def config(self, name, learner, params, dataset='breast_cancer', categorical=True):
        path = self.tmp / ('%s.yaml' % name)
        path.write_text('name: %s\nexperiment: e2e\nseed: 3\n'
                        'data: {path: %s, label: target%s}\n'
                        'split: {test: 0.2, val: 0.2}\n'
                        'learner:\n  name: %s\n  params: {%s}\n'
                        % (name, DATA / ('%s.csv' % dataset),
                           ', categorical: [target]' if categorical else '', learner,
                           ', '.join('%s: %s' % kv for kv in params.items())))
        return path

    def test_train_end_to_end(self):
        params = {'kernel': 'rbf', 'C': '2.0'}
        res = self.cairn_json('train', '--json', '--config', self.config('svc', 'svc', params))
        run = self.cairn_json('runs', 'show', res['run_id'], '--json')
        self.assertEqual(run['status'], 'FINISHED')
        self.assertEqual(run['params']['learner'], 'svc')
        self.assertEqual(run['params']['C'], '2.0')
        self.assertIn('val_accuracy', run['metrics'])
        root = pathlib.Path(run['artifact_uri'])
        self.assertTrue((root / 'model' / 'model.cairn').is_file())
        rows = {p: [int(v) for v in (root / 'split' / ('%s.idx' % p)).read_text().split()]
                for p in ('train', 'val', 'test')}
        x, y = load('breast_cancer')
        sk = make_pipeline(StandardScaler(), SVC(C=2.0, kernel='rbf'))
        sk.fit(x[rows['train']], y[rows['train']])
        # the validation predictions are sklearn's
        with open(root / 'predictions' / 'val.csv') as f:
            got = {int(r['row']): float(r['y_pred']) for r in csv.DictReader(f)}
        want = sk.predict(x[rows['val']])
        self.assertEqual([got[r] for r in rows['val']], want.tolist())
        # the saved model, loaded again, scores the test rows as sklearn does
        lines = (DATA / 'breast_cancer.csv').read_text().splitlines()
        held = self.tmp / 'held.csv'
        held.write_text('\n'.join([lines[0]] + [lines[r + 1] for r in rows['test']]) + '\n')
        out = self.cairn_json('eval', 'model', res['run_id'], '--data', held, '--json')
        self.assertEqual(out['rows'], len(rows['test']))
        acc = float(np.mean(sk.predict(x[rows['test']]) == y[rows['test']]))
        self.assertAlmostEqual(out['metrics']['accuracy']['value'], acc, places=12)
        # without probability=true the model has no probabilities: no probability metric,
        # column or curve is made up from one-hot votes, and predict --proba says why
        for m in ('val_log_loss', 'val_roc_auc', 'val_brier'):
            self.assertNotIn(m, run['metrics'])
        with open(root / 'predictions' / 'val.csv') as f:
            self.assertEqual(next(csv.reader(f)), ['row', 'y_true', 'y_pred'])
        self.assertFalse((root / 'plots' / 'roc.svg').exists())
        self.assertEqual(out['metrics'].get('log_loss', {'value': 'NaN'})['value'], 'NaN')
        model = root / 'model' / 'model.cairn'
        err = self.cairn_error('predict', model, '--data', held, '--proba')
        self.assertIn('gives no class probabilities', err)
        self.assertIn('probability=true', err)
        # with Platt probabilities they are all there
        params['probability'] = 'true'
        res = self.cairn_json('train', '--json', '--config', self.config('svcp', 'svc', params))
        run = self.cairn_json('runs', 'show', res['run_id'], '--json')
        self.assertIn('val_log_loss', run['metrics'])
        with open(pathlib.Path(run['artifact_uri']) / 'predictions' / 'val.csv') as f:
            self.assertEqual(len(next(csv.reader(f))), 5)

    def test_train_svr_end_to_end(self):
        res = self.cairn_json('train', '--json', '--config',
                              self.config('svr', 'svr', {'C': '50', 'epsilon': '2'},
                                          'diabetes', False))
        run = self.cairn_json('runs', 'show', res['run_id'], '--json')
        self.assertEqual(run['status'], 'FINISHED')
        self.assertIn('val_rmse', run['metrics'])

    def test_bad_params_refused_before_a_run(self):
        cases = [
            ({'kernel': 'foo'}, "param 'kernel': expected one of linear, poly, rbf, sigmoid, "
                                "got 'foo'"),
            ({'C': '-1'}, "param 'C': expected a number in (0, 1e+300], got '-1'"),
            ({'gamma': 'abc'}, "param 'gamma': expected scale, auto or a positive number, "
                               "got 'abc'"),
            ({'gamma': '-2'}, "param 'gamma': expected scale, auto or a positive number"),
            ({'nu': '0.5'}, "learner 'svc': unknown param 'nu'"),
        ]
        for params, message in cases:
            with self.subTest(params=params):
                self.cairn_error('train', '--config', self.config('bad', 'svc', params),
                                 mentions=(message,))
        self.cairn_error('train', '--config', self.config('bad', 'nusvc', {'C': '1'}),
                         mentions=("learner 'nusvc': unknown param 'C'",))
        self.assertEqual(self.cairn_json('runs', 'list', '--all', '--json')['runs'], [])
        # nu that libsvm finds infeasible for these classes: its reason, not a crash
        err = self.cairn_error('train', '--config',
                               self.config('nu', 'nusvc', {'nu': '0.95'}))
        self.assertIn('specified nu is infeasible', err)

    def test_corrupt_payload_refused(self):
        # A saved svc model whose payload is altered (the checksum recomputed, so the svm
        # loader itself must notice): each is refused with a message, never loaded.
        import hashlib
        import struct
        path = self.tmp / 'svc.cairn'
        proc = subprocess.run([str(DRIVER), str(DATA / 'iris.csv'), 'target', 'svc',
                               'probability=true', '--save', str(path)],
                              capture_output=True, text=True, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        good = path.read_bytes()[:-32]
        meta_len = struct.unpack('<Q', good[12:20])[0]
        start = 20 + meta_len + 8  # the payload: version, type, kernel, degree, gamma, ...

        def put(body, field, value):
            at = start + 8 * field
            return body[:at] + struct.pack('<Q', value) + body[at + 8:]

        def with_len(body):
            n = len(body) - start
            return body[:start - 8] + struct.pack('<Q', n) + body[start:]

        bad = {
            'label': put(good, 10, 7),            # class index 7 of 3
            'duplicate label': put(good, 11, 0),  # classes 0, 0, 2
            'support counts': put(good, 13, 1),   # nSV no longer sums to l
            'svm type': put(good, 1, 3),          # epsilon-SVR in an svc file
            'huge l': put(good, 8, 1 << 60),
            'truncated': with_len(good[:-8]),
        }
        for name, body in bad.items():
            with self.subTest(name=name):
                f = self.tmp / 'bad.cairn'
                f.write_bytes(body + hashlib.sha256(body).digest())
                self.cairn_error('eval', 'model', f, '--data', DATA / 'iris.csv',
                                 mentions=('svc payload',))

    def test_nusvc_says_it_ignores_class_weight(self):
        cfg = self.config('nuw', 'nusvc', {'nu': '0.3'}, 'wine')
        cfg.write_text(cfg.read_text() + '  class_weight: balanced\n')
        proc = self.cairn('train', '--config', cfg)
        self.assertIn("libsvm's nu-SVC has no class weights, so class_weight is ignored",
                      proc.stderr)
        proc = self.cairn('train', '--config', self.config('nup', 'nusvc', {'nu': '0.3',
                                                                           'probability': 'true'},
                                                          'wine'))
        self.assertNotIn('warning', proc.stderr)

    def test_regression_label_refused_by_svc(self):
        self.cairn_error('train', '--config',
                         self.config('reg', 'svc', {}, 'diabetes', False))


if __name__ == '__main__':
    import unittest
    unittest.main()
