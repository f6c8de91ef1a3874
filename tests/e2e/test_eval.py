# SPDX-License-Identifier: MIT
"""`cairn eval metrics` on prediction CSVs built from tests/data/eval/reference.json: the JSON
values equal scikit-learn's (stored in the fixture), classes may be names, probability columns
are proba_<c> or p_<c>, regression is inferred, bad input fails with a clear message, and the
--plots pictures are well-formed SVG."""
import json
import pathlib
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402

REF = json.loads((harness.SOURCE_DIR / 'tests' / 'data' / 'eval' / 'reference.json').read_text())


def case(name, kind='classification'):
    return next(c for c in REF[kind] if c['name'] == name)


class EvalMetrics(harness.CairnTest):
    def write_classification(self, name, labels=None, prefix='proba_', with_proba=True):
        c = case(name)
        k = c['n_classes']
        labels = labels or [str(i) for i in range(k)]
        path = self.tmp / (name + '.csv')
        cols = ['y_true', 'y_pred'] + ([prefix + l for l in labels] if with_proba else [])
        lines = [','.join(cols)]
        for i, (t, p) in enumerate(zip(c['y_true'], c['y_pred'])):
            row = [labels[t], labels[p]]
            if with_proba:
                row += [repr(v) for v in c['proba'][i * k:(i + 1) * k]]
            lines.append(','.join(row))
        path.write_text('\n'.join(lines) + '\n')
        return path, c['expected']

    def assertClose(self, got, want, what):
        self.assertIsNotNone(got, what)
        self.assertLessEqual(abs(got - want), 1e-10 * abs(want) + 1e-15,
                             '%s: got %r want %r' % (what, got, want))

    def test_binary_json_matches_sklearn(self):
        path, e = self.write_classification('binary_ties')
        out = self.cairn_json('eval', 'metrics', '--input', path, '--json', '--bootstrap', '300',
                              '--seed', '3', store=False)
        self.assertEqual(out['task'], 'classification')
        self.assertEqual(out['classes'], ['0', '1'])
        m = out['metrics']
        for key, ref in [('accuracy', 'accuracy'), ('balanced_accuracy', 'balanced_accuracy'),
                         ('f1_macro', 'f1_macro'), ('f1_weighted', 'f1_weighted'),
                         ('precision_macro', 'precision_macro'), ('mcc', 'mcc'),
                         ('cohen_kappa', 'kappa'), ('roc_auc', 'roc_auc'),
                         ('average_precision', 'average_precision'), ('log_loss', 'log_loss'),
                         ('brier', 'brier')]:
            self.assertClose(m[key]['value'], e[ref], key)
        for key in ('accuracy', 'roc_auc', 'log_loss', 'mcc'):
            self.assertLessEqual(m[key]['ci_low'], m[key]['value'], key)
            self.assertGreaterEqual(m[key]['ci_high'], m[key]['value'], key)
        self.assertEqual([sum(r) for r in out['confusion_matrix']], e['support'])
        again = self.cairn_json('eval', 'metrics', '--input', path, '--json', '--bootstrap',
                                '300', '--seed', '3', store=False)
        self.assertEqual(again, out)

    def test_named_classes_never_predicted(self):
        names = ['cat', 'dog', 'eel', 'fox']  # sorted, so indices keep their meaning
        path, e = self.write_classification('multiclass_never_predicted', names, prefix='p_')
        out = self.cairn_json('eval', 'metrics', '-i', path, '--json', '--bootstrap', '0',
                              store=False)
        self.assertEqual(out['classes'], names)
        m = out['metrics']
        self.assertClose(m['f1_macro']['value'], e['f1_macro'], 'f1_macro')
        self.assertClose(m['roc_auc']['value'], e['roc_auc_ovr_macro'], 'roc_auc')
        self.assertClose(m['roc_auc_ovo']['value'], e['roc_auc_ovo_macro'], 'roc_auc_ovo')
        self.assertClose(m['log_loss']['value'], e['log_loss'], 'log_loss')
        self.assertClose(m['brier']['value'], e['brier_multiclass'], 'brier')
        self.assertNotIn('ci_low', m['accuracy'])
        fox = out['per_class'][3]
        self.assertEqual((fox['class'], fox['precision'], fox['support']), ('fox', 0, e['support'][3]))
        flat = [v for row in out['confusion_matrix'] for v in row]
        self.assertEqual(flat, e['confusion'])

    def test_human_table_and_plots(self):
        path, e = self.write_classification('binary_exact_01')
        plots = self.tmp / 'plots'
        proc = self.cairn('eval', 'metrics', '--input', path, '--plots', plots, store=False)
        self.assertIn('95% CI', proc.stdout)
        self.assertIn('roc_auc', proc.stdout)
        self.assertIn('%.4f' % e['roc_auc'], proc.stdout)
        self.assertIn('confusion matrix', proc.stdout)
        for name in ('confusion_matrix', 'roc', 'pr', 'calibration'):
            root = ET.parse(plots / (name + '.svg')).getroot()
            self.assertTrue(root.tag.endswith('svg'), name)
        self.assertIn('AUC = %.3f' % e['roc_auc'], (plots / 'roc.svg').read_text())

    def test_labels_only_and_one_class_auc(self):
        path, e = self.write_classification('binary_one_class')
        out = self.cairn_json('eval', 'metrics', '--input', path, '--json', store=False)
        self.assertIsNone(out['metrics']['roc_auc']['value'])
        self.assertIn('only one class present', out['metrics']['roc_auc']['error'])
        self.assertClose(out['metrics']['accuracy']['value'], e['accuracy'], 'accuracy')
        path, e = self.write_classification('binary_ties', with_proba=False)
        out = self.cairn_json('eval', 'metrics', '--input', path, '--json', store=False)
        self.assertNotIn('roc_auc', out['metrics'])
        self.assertFalse(out['has_probabilities'])

    def test_regression_inferred(self):
        c = case('random', 'regression')
        path = self.tmp / 'reg.csv'
        path.write_text('id,y_true,y_pred\n' + ''.join(
            '%d,%r,%r\n' % (i, t, p) for i, (t, p) in enumerate(zip(c['y_true'], c['y_pred']))))
        out = self.cairn_json('eval', 'metrics', '--input', path, '--json', store=False)
        self.assertEqual(out['task'], 'regression')
        for key in ('mae', 'mse', 'rmse', 'r2', 'mape'):
            self.assertClose(out['metrics'][key]['value'], c['expected'][key], key)
        self.assertLess(out['metrics']['rmse']['ci_low'], out['metrics']['rmse']['ci_high'])
        proc = self.cairn('eval', 'metrics', '--input', path, store=False)
        self.assertIn('task: regression', proc.stdout)

    def test_bad_input(self):
        bad = self.tmp / 'bad.csv'
        bad.write_text('truth,pred\n1,0\n')
        self.cairn_error('eval', 'metrics', '--input', bad, mentions=['y_true and y_pred'],
                         store=False)
        self.cairn_error('eval', 'metrics', '--input', self.tmp / 'missing.csv',
                         mentions=['missing.csv'], store=False)
        bad.write_text('y_true,y_pred,proba_0\n0,1,0.3\n1,1,0.2\n')
        self.cairn_error('eval', 'metrics', '--input', bad, mentions=['probability columns'],
                         store=False)
        bad.write_text('y_true,y_pred\na,b\nc,\n')
        self.cairn_error('eval', 'metrics', '--input', bad, mentions=['row 2'], store=False)
        self.cairn_error('eval', 'metrics', '--input', bad, '--task', 'magic', expect=2,
                         mentions=['--task'], store=False)
        self.cairn_error('eval', 'metrics', expect=2, mentions=['--input'], store=False)
        self.cairn_error('eval', 'metrics', '--input', bad, '--bootstrap', '-1', expect=2,
                         store=False)
        self.cairn_error('eval', 'frobnicate', expect=2, store=False)

    def test_help(self):
        proc = self.cairn('eval', 'metrics', '--help', store=False)
        self.assertIn('proba_<class>', proc.stdout)
        proc = self.cairn('eval', '--help', store=False)
        self.assertTrue(proc.stdout.startswith('usage: cairn eval metrics'))


if __name__ == '__main__':
    harness.main()
