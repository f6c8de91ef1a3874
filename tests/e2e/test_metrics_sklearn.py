# SPDX-License-Identifier: MIT
"""Every metric of cairn's scorer against sklearn.metrics 1.2 (/usr/bin/python3): predictions of
scikit-learn models on the bundled datasets (binary breast_cancer, multiclass wine and iris,
regression diabetes) written as prediction CSVs, scored by `cairn eval metrics --json`, equal
to sklearn's value within 1e-9 (relative). Edge cases: a class absent from y_true, constant
predictions, negative values for MSLE, probability columns p0/p1/prob_<class> and a column that
looks like probabilities but maps to no class (warned about)."""
import json
import pathlib
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402

TOL = 1e-9

# sklearn is run in a subprocess so the test itself stays standard-library only.
SKLEARN = r'''
import json, sys, warnings
import numpy as np
import sklearn.metrics as M
from sklearn.linear_model import LogisticRegression, Ridge
warnings.simplefilter('ignore')
src = sys.argv[1]

def load(name, label):
    import csv
    rows = list(csv.reader(open(src + '/data/' + name)))
    head = rows[0]
    j = head.index(label)
    X = np.array([[float(v) for i, v in enumerate(r) if i != j] for r in rows[1:]])
    y = np.array([float(r[j]) for r in rows[1:]])
    return X, y

def clf(name, label):
    X, y = load(name, label)
    y = y.astype(int)
    X = (X - X.mean(0)) / X.std(0)
    m = LogisticRegression(C=0.05, max_iter=2000).fit(X[::3], y[::3])
    P = m.predict_proba(X)
    return y, P.argmax(1), P

out = {}
pr = M.precision_recall_fscore_support
for name, label in [('breast_cancer.csv', 'target'), ('wine.csv', 'target'),
                    ('iris.csv', 'target')]:
    y, yp, P = clf(name, label)
    k = P.shape[1]
    labels = list(range(k))
    e = {}
    e['accuracy'] = M.accuracy_score(y, yp)
    e['balanced_accuracy'] = M.balanced_accuracy_score(y, yp)
    for avg in ('macro', 'micro', 'weighted'):
        e['precision_' + avg] = M.precision_score(y, yp, average=avg, zero_division=0)
        e['recall_' + avg] = M.recall_score(y, yp, average=avg, zero_division=0)
        e['f1_' + avg] = M.f1_score(y, yp, average=avg, zero_division=0)
        e['jaccard_' + avg] = M.jaccard_score(y, yp, average=avg, zero_division=0)
        e['f2_' + avg] = M.fbeta_score(y, yp, beta=2, average=avg, zero_division=0)
        e['f0.5_' + avg] = M.fbeta_score(y, yp, beta=0.5, average=avg, zero_division=0)
    e['mcc'] = e['matthews_corrcoef'] = M.matthews_corrcoef(y, yp)
    e['cohen_kappa'] = M.cohen_kappa_score(y, yp)
    e['kappa_linear'] = M.cohen_kappa_score(y, yp, weights='linear')
    e['kappa_quadratic'] = M.cohen_kappa_score(y, yp, weights='quadratic')
    e['hamming_loss'] = M.hamming_loss(y, yp)
    e['zero_one_loss'] = M.zero_one_loss(y, yp)
    e['log_loss'] = M.log_loss(y, P)
    if k == 2:
        e['precision'] = M.precision_score(y, yp)
        e['recall'] = M.recall_score(y, yp)
        e['f1'] = M.f1_score(y, yp)
        e['jaccard'] = M.jaccard_score(y, yp)
        lp, ln = M.class_likelihood_ratios(y, yp)
        e['positive_likelihood_ratio'] = lp
        e['negative_likelihood_ratio'] = ln
        e['roc_auc'] = M.roc_auc_score(y, P[:, 1])
        e['average_precision'] = M.average_precision_score(y, P[:, 1])
        e['brier'] = M.brier_score_loss(y, P[:, 1])
        e['top_1_accuracy'] = M.top_k_accuracy_score(y, P[:, 1], k=1)
    else:
        for mc in ('ovr', 'ovo'):
            for avg in ('macro', 'weighted'):
                key = 'roc_auc_%s%s' % (mc, '' if avg == 'macro' else '_weighted')
                e[key] = M.roc_auc_score(y, P, multi_class=mc, average=avg)
        e['roc_auc'] = e['roc_auc_ovr']
        Y = np.eye(k)[y]
        for avg in ('macro', 'weighted', 'micro'):
            e['average_precision_' + avg] = M.average_precision_score(Y, P, average=avg)
        per_ap = M.average_precision_score(Y, P, average=None)
        per_auc = M.roc_auc_score(Y, P, average=None)
        for c in range(k):
            e['average_precision_class_%d' % c] = per_ap[c]
            e['roc_auc_class_%d' % c] = per_auc[c]
        e['top_k_accuracy'] = M.top_k_accuracy_score(y, P, k=2, labels=labels)
        e['top_1_accuracy'] = M.top_k_accuracy_score(y, P, k=1, labels=labels)
        e['top_2_accuracy'] = e['top_k_accuracy']
    out[name] = {'y': y.tolist(), 'yp': yp.tolist(), 'P': P.tolist(), 'expected': e}

X, y = load('diabetes.csv', 'target')
m = Ridge(alpha=1.0).fit(X[::2], y[::2])
yhat = np.clip(m.predict(X), 1.0, None)
e = {'mae': M.mean_absolute_error(y, yhat), 'mse': M.mean_squared_error(y, yhat),
     'rmse': M.mean_squared_error(y, yhat, squared=False), 'r2': M.r2_score(y, yhat),
     'mape': M.mean_absolute_percentage_error(y, yhat),
     'explained_variance': M.explained_variance_score(y, yhat),
     'median_absolute_error': M.median_absolute_error(y, yhat),
     'max_error': M.max_error(y, yhat),
     'msle': M.mean_squared_log_error(y, yhat),
     'rmsle': M.mean_squared_log_error(y, yhat, squared=False),
     'poisson_deviance': M.mean_poisson_deviance(y, yhat),
     'gamma_deviance': M.mean_gamma_deviance(y, yhat),
     'tweedie_deviance_1.5': M.mean_tweedie_deviance(y, yhat, power=1.5),
     'tweedie_deviance_0': M.mean_tweedie_deviance(y, yhat, power=0),
     'tweedie_deviance_3': M.mean_tweedie_deviance(y, yhat, power=3),
     'tweedie_deviance_-1': M.mean_tweedie_deviance(y, yhat, power=-1),
     'd2_absolute_error': M.d2_absolute_error_score(y, yhat),
     'd2_tweedie_1.5': M.d2_tweedie_score(y, yhat, power=1.5),
     'd2_tweedie_2': M.d2_tweedie_score(y, yhat, power=2)}
out['diabetes'] = {'y': y.tolist(), 'yp': yhat.tolist(), 'expected': e}

# edge cases: class 2 of 3 absent from y_true; constant predictions
yt = np.array([0, 1, 0, 1, 1, 0, 0, 1])
ypa = np.array([0, 2, 0, 1, 2, 0, 1, 1])
ea = {}
for avg in ('macro', 'micro', 'weighted'):
    ea['precision_' + avg] = M.precision_score(yt, ypa, average=avg, zero_division=0)
    ea['recall_' + avg] = M.recall_score(yt, ypa, average=avg, zero_division=0)
    ea['jaccard_' + avg] = M.jaccard_score(yt, ypa, average=avg, zero_division=0)
    ea['f2_' + avg] = M.fbeta_score(yt, ypa, beta=2, average=avg, zero_division=0)
ea['kappa_quadratic'] = M.cohen_kappa_score(yt, ypa, weights='quadratic')
ea['kappa_linear'] = M.cohen_kappa_score(yt, ypa, weights='linear')
ea['balanced_accuracy'] = M.balanced_accuracy_score(yt, ypa)
ypc = np.zeros(8, dtype=int)
ec = {'precision_macro': M.precision_score(yt, ypc, average='macro', zero_division=0),
      'f1_weighted': M.f1_score(yt, ypc, average='weighted', zero_division=0),
      'kappa_quadratic': M.cohen_kappa_score(yt, ypc, weights='quadratic'),
      'mcc': M.matthews_corrcoef(yt, ypc), 'jaccard': M.jaccard_score(yt, ypc, zero_division=0)}
out['absent'] = {'y': yt.tolist(), 'yp': ypa.tolist(), 'expected': ea}
out['constant'] = {'y': yt.tolist(), 'yp': ypc.tolist(), 'expected': ec}
print(json.dumps(out))
'''


def reference():
    if not hasattr(reference, 'cache'):
        res = subprocess.run(['/usr/bin/python3', '-c', SKLEARN, str(harness.SOURCE_DIR)],
                             capture_output=True, text=True, check=True)
        reference.cache = json.loads(res.stdout)
    return reference.cache


class MetricsSklearn(harness.CairnTest):
    def write(self, name, y, yp, P=None, prefix='proba_', extra=None):
        path = self.tmp / (name + '.csv')
        k = len(P[0]) if P else 0
        head = ['y_true', 'y_pred'] + ['%s%d' % (prefix, c) for c in range(k)]
        if extra:
            head.append(extra)
        lines = [','.join(head)]
        for i in range(len(y)):
            row = [repr(y[i]), repr(yp[i])] + [repr(v) for v in (P[i] if P else [])]
            if extra:
                row.append('0.5')
            lines.append(','.join(row))
        path.write_text('\n'.join(lines) + '\n')
        return path

    def score(self, path, names, task=None):
        args = ['eval', 'metrics', '--input', path, '--json', '--metrics', ','.join(names)]
        if task:
            args += ['--task', task]
        return self.cairn_json(*args, store=False)['metrics']

    def assertMetrics(self, got, expected, what):
        for key, want in expected.items():
            self.assertIn(key, got, what)
            v = got[key]['value']
            self.assertIsNotNone(v, '%s %s: %r' % (what, key, got[key]))
            self.assertLessEqual(abs(v - want), TOL * max(1.0, abs(want)),
                                 '%s %s: cairn %r, sklearn %r' % (what, key, v, want))

    def test_classification_metrics_equal_sklearn(self):
        for name in ('breast_cancer.csv', 'wine.csv', 'iris.csv'):
            ref = reference()[name]
            path = self.write(name, ref['y'], ref['yp'], ref['P'])
            self.assertMetrics(self.score(path, list(ref['expected'])), ref['expected'], name)

    def test_full_list_holds_the_new_metrics(self):
        ref = reference()['wine.csv']
        path = self.write('wine_full', ref['y'], ref['yp'], ref['P'], prefix='p')
        out = self.cairn_json('eval', 'metrics', '--input', path, '--json', store=False)
        got = out['metrics']
        for key in ('precision_weighted', 'jaccard_macro', 'kappa_quadratic',
                    'roc_auc_ovr_weighted', 'roc_auc_ovo_weighted', 'average_precision_micro',
                    'top_k_accuracy', 'roc_auc_class_1', 'average_precision_class_2'):
            self.assertIn(key, got)
        self.assertMetrics(got, {k: ref['expected'][k] for k in (
            'average_precision_macro', 'roc_auc_class_0', 'kappa_linear')}, 'p<i> columns')

    def test_regression_metrics_equal_sklearn(self):
        ref = reference()['diabetes']
        path = self.write('diabetes', ref['y'], ref['yp'])
        self.assertMetrics(self.score(path, list(ref['expected']), 'regression'),
                           ref['expected'], 'diabetes')

    def test_absent_class_and_constant_predictions(self):
        for case in ('absent', 'constant'):
            ref = reference()[case]
            path = self.write(case, ref['y'], ref['yp'])
            self.assertMetrics(self.score(path, list(ref['expected']), 'classification'),
                               ref['expected'], case)

    def test_msle_refuses_negative_values(self):
        path = self.write('neg', [1.5, -2.0, 3.25], [1.0, 2.5, 3.0])
        out = self.score(path, ['msle', 'rmsle', 'poisson_deviance', 'mae'], 'regression')
        self.assertIsNone(out['msle']['value'])
        self.assertIn('row 2', out['msle']['error'])
        self.assertIn('>= 0', out['msle']['error'])
        self.assertIsNone(out['poisson_deviance']['value'])
        self.assertAlmostEqual(out['mae']['value'], (0.5 + 4.5 + 0.25) / 3, places=12)
        # the full list leaves out metrics whose domain the values are outside
        full = self.cairn_json('eval', 'metrics', '--input', path, '--json', '--task',
                               'regression', store=False)['metrics']
        self.assertNotIn('msle', full)
        self.assertIn('explained_variance', full)

    def test_absent_class_average_precision_refused(self):
        # class 2 has a probability column but no row: sklearn refuses macro AP as well
        P = [[0.7, 0.2, 0.1], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1], [0.1, 0.8, 0.1]]
        path = self.write('ap_absent', [0, 1, 0, 1], [0, 1, 0, 1], P)
        out = self.score(path, ['average_precision_macro', 'top_2_accuracy'])
        self.assertIsNone(out['average_precision_macro']['value'])
        self.assertIn('never occurs in y_true', out['average_precision_macro']['error'])
        self.assertEqual(out['top_2_accuracy']['value'], 1.0)

    def test_probability_column_names(self):
        ref = reference()['breast_cancer.csv']
        for prefix in ('p', 'prob_', 'p_', 'proba_'):
            path = self.write('bc_' + prefix, ref['y'], ref['yp'], ref['P'], prefix=prefix)
            self.assertMetrics(self.score(path, ['roc_auc', 'log_loss']),
                               {k: ref['expected'][k] for k in ('roc_auc', 'log_loss')}, prefix)
        path = self.write('bc_extra', ref['y'], ref['yp'], ref['P'], prefix='p',
                          extra='probability')
        res = self.cairn('eval', 'metrics', '--input', path, '--metrics', 'roc_auc', store=False)
        self.assertIn("column 'probability' looks like probabilities but is not used",
                      res.stderr)

    def test_unknown_metric_did_you_mean(self):
        ref = reference()['iris.csv']
        path = self.write('iris_typo', ref['y'], ref['yp'], ref['P'])
        for typo, near in (('kappa_quadratc', 'kappa_quadratic'),
                           ('average_precison_macro', 'average_precision_macro')):
            res = self.cairn('eval', 'metrics', '--input', path, '--metrics', typo, expect=1,
                             store=False)
            self.assertIn("did you mean '%s'" % near, res.stderr)
        res = self.cairn('eval', 'metrics', '--input', path, '--metrics', 'roc_auc_class_7',
                         '--json', store=False)
        self.assertIn('not one of the 3 classes', res.stdout)


if __name__ == '__main__':
    harness.main()
