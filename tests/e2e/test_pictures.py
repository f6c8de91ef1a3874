# SPDX-License-Identifier: MIT
"""The pictures read right (issue 12, item 7): titles name the split and the run, class names
appear, the early-stopping epoch is marked where training kept the model, 10-class ROC and PR
curves have micro and macro averages with scikit-learn's values and a legend that covers no
curve, quantile calibration bins hold equal counts, and a logistic run has a learning curve.
The SVGs are parsed with xml.etree; scikit-learn (/usr/bin/python3) only gives reference
numbers."""
import json
import pathlib
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402

DATA = harness.SOURCE_DIR / 'data'
NS = '{http://www.w3.org/2000/svg}'


def svg_title(root):
    return root.find(NS + 'title').text or ''


def texts(root):
    return [''.join(t.itertext()) for t in root.iter(NS + 'text')]


def polyline_points(el):
    pts = []
    for pair in el.get('points').split():
        x, y = pair.split(',')
        pts.append((float(x), float(y)))
    return pts


def sklearn_reference(script, payload):
    """Runs a scikit-learn snippet on JSON input; skips when sklearn is not installed."""
    proc = subprocess.run(['/usr/bin/python3', '-c', script], input=json.dumps(payload),
                          capture_output=True, text=True, timeout=120)
    if proc.returncode != 0 and 'No module named' in proc.stderr:
        raise harness.unittest.SkipTest('scikit-learn is not installed: ' + proc.stderr[-200:])
    if proc.returncode != 0:
        raise AssertionError(proc.stderr)
    return json.loads(proc.stdout)


SKLEARN_AVERAGES = r'''
import json, sys
import numpy as np
from sklearn.metrics import roc_auc_score, average_precision_score
from sklearn.preprocessing import label_binarize
d = json.load(sys.stdin)
y = np.array(d['y']); p = np.array(d['p'])
k = p.shape[1]
yb = label_binarize(y, classes=list(range(k)))
print(json.dumps({
  'roc_macro': roc_auc_score(y, p, average='macro', multi_class='ovr'),
  'roc_micro': roc_auc_score(yb, p, average='micro'),
  'ap_macro': average_precision_score(yb, p, average='macro'),
  'ap_micro': average_precision_score(yb, p, average='micro')}))
'''

SKLEARN_CALIBRATION = r'''
import json, sys
import numpy as np
from sklearn.calibration import calibration_curve
d = json.load(sys.stdin)
y = np.array(d['y']); p = np.array(d['p'])
k = p.shape[1]

def ece(yb, pb):
    prob_true, prob_pred = calibration_curve(yb, pb, n_bins=10)
    bins = np.linspace(0.0, 1.0 + 1e-8, 11)
    counts = np.bincount(np.searchsorted(bins[1:-1], pb), minlength=10)
    counts = counts[counts > 0]
    return float(np.sum(counts * np.abs(prob_true - prob_pred)) / np.sum(counts))

yb = np.stack([(y == j).astype(int) for j in range(k)], axis=1)
print(json.dumps({'micro': ece(yb.ravel(), p.ravel()),
                  'classes': [ece(yb[:, j], p[:, j]) for j in range(k)]}))
'''


class Pictures(harness.CairnTest):
    def write_config(self, name, text):
        path = self.tmp / name
        path.write_text(text)
        return path

    def train(self, config):
        return self.cairn_json('train', '--json', '--config', config)

    def plots(self, run_id):
        run = self.cairn_json('runs', 'show', run_id, '--json')
        return pathlib.Path(run['artifact_uri']) / 'plots', run

    def test_titles_name_split_run_and_classes(self):
        cfg = self.write_config('bc.yaml', (
            'name: bc-names\nseed: 3\n'
            'data: {path: %s, label: target, categorical: [target]}\n'
            'split: {method: stratified, test: 0.2, val: 0.2}\n'
            'learner: {name: logistic}\nbootstrap: 0\n') % (DATA / 'breast_cancer.csv'))
        res = self.train(cfg)
        plots, _ = self.plots(res['run_id'])
        for name in ('roc', 'pr', 'calibration', 'confusion_matrix'):
            root = ET.parse(plots / (name + '.svg')).getroot()
            title = svg_title(root)
            self.assertIn('validation', title, name)
            self.assertIn(res['run_id'][:8], title, name)
            self.assertIn('bc-names', title, name)
            self.assertIn('logistic', title, name)
        # eval final: the test split's pictures say so
        self.cairn_json('eval', 'final', res['run_id'], '--json')
        root = ET.parse(plots / 'test_roc.svg').getroot()
        self.assertIn('test split', svg_title(root))
        self.assertIn(res['run_id'][:8], svg_title(root))

    def test_class_names_in_pictures(self):
        # iris with its species names as the label
        rows = (DATA / 'iris.csv').read_text().splitlines()
        names = ['setosa', 'versicolor', 'virginica']
        out = [rows[0]] + [','.join(r.split(',')[:-1] + [names[int(r.split(',')[-1])]])
                           for r in rows[1:]]
        data = self.tmp / 'iris_named.csv'
        data.write_text('\n'.join(out) + '\n')
        cfg = self.write_config('iris.yaml', (
            'seed: 1\ndata: {path: %s, label: target}\n'
            'split: {method: stratified, test: 0.2, val: 0.3}\n'
            'learner: {name: logistic}\nbootstrap: 0\n') % data)
        res = self.train(cfg)
        plots, _ = self.plots(res['run_id'])
        for name in ('roc', 'confusion_matrix'):
            all_text = ' '.join(texts(ET.parse(plots / (name + '.svg')).getroot()))
            for n in names:
                self.assertIn(n, all_text, name)

    def test_early_stopping_epoch_marked(self):
        cfg = self.write_config('xgb.yaml', (
            'seed: 42\ndata: {path: %s, label: target, categorical: [target]}\n'
            'split: {method: stratified, test: 0.2, val: 0.2}\n'
            'learner: {name: xgboost, params: {max_depth: 3, eta: 0.3, num_round: 200, '
            'early_stopping_rounds: 10}}\nbootstrap: 0\n') % (DATA / 'breast_cancer.csv'))
        res = self.train(cfg)
        hist = self.cairn_json('runs', 'history', res['run_id'], 'val_loss',
                               '--json')['metrics']
        vals = [h['value'] for h in sorted(hist, key=lambda h: h['step'])]
        best = min(range(len(vals)), key=lambda i: (vals[i], i)) + 1  # first minimum, 1-based
        self.assertLess(best, len(vals), 'early stopping ran past the best round')
        plots, run = self.plots(res['run_id'])
        self.assertEqual(run['tags'].get('cairn.best_epoch'), str(best))
        root = ET.parse(plots / 'learning_curves.svg').getroot()
        marks = [g for g in root.iter(NS + 'g') if g.get('class') == 'mark']
        self.assertTrue(marks, 'no best-epoch marker')
        self.assertEqual(float(marks[0].get('data-x')), best)
        self.assertIn('best round %d' % best, texts(root))
        self.assertIn(res['run_id'][:8], svg_title(root))
        # the marker's label sits where no curve runs (its white box would hide the curve)
        rect = marks[0].find(NS + 'rect')
        x0, y0 = float(rect.get('x')), float(rect.get('y'))
        x1, y1 = x0 + float(rect.get('width')), y0 + float(rect.get('height'))
        for pl in root.iter(NS + 'polyline'):
            pts = polyline_points(pl)
            for (ax, ay), (bx, by) in zip(pts, pts[1:] + pts[-1:]):
                for t in (0, 0.25, 0.5, 0.75):
                    qx, qy = ax + t * (bx - ax), ay + t * (by - ay)
                    self.assertFalse(x0 <= qx <= x1 and y0 <= qy <= y1,
                                     'the best-round label covers a curve at (%.1f, %.1f)'
                                     % (qx, qy))

    def test_ten_classes_averages_and_legend(self):
        cfg = self.write_config('digits.yaml', (
            'seed: 1\ndata: {path: %s, label: target, categorical: [target]}\n'
            'split: {method: stratified, test: 0.2, val: 0.25}\n'
            'learner: {name: logistic, params: {C: 0.05}}\nbootstrap: 0\n')
            % (DATA / 'digits.csv'))
        res = self.train(cfg)
        plots, run = self.plots(res['run_id'])
        root_dir = pathlib.Path(run['artifact_uri'])
        lines = (root_dir / 'predictions' / 'val.csv').read_text().splitlines()
        head = lines[0].split(',')
        classes = [h[2:] for h in head[3:]]
        y, p = [], []
        for line in lines[1:]:
            f = line.split(',')
            y.append(classes.index(f[1]))
            p.append([float(v) for v in f[3:]])
        ref = sklearn_reference(SKLEARN_AVERAGES, {'y': y, 'p': p})
        # calibration at 10 classes: the pooled curve and the 3 worst classes, by their ECE
        cal = sklearn_reference(SKLEARN_CALIBRATION, {'y': y, 'p': p})
        root = ET.parse(plots / 'calibration.svg').getroot()
        legend = next(g for g in root.iter(NS + 'g') if g.get('class') == 'legend')
        entries = [''.join(t.itertext()) for t in legend.iter(NS + 'text')]
        self.assertEqual(len(entries), 5, entries)  # the diagonal, micro, 3 classes
        self.assertIn('3 worst of 10 classes', svg_title(root))
        got = float(re.match(r'micro-average \(ECE = ([0-9.]+)\)$', entries[1]).group(1))
        self.assertAlmostEqual(got, cal['micro'], delta=0.0006)
        worst = sorted(cal['classes'], reverse=True)[:3]
        for e, want in zip(entries[2:], worst):
            m = re.match(r'(\S+) \(ECE = ([0-9.]+)\)$', e)
            self.assertAlmostEqual(float(m.group(2)), want, delta=0.0006, msg=e)
            self.assertAlmostEqual(cal['classes'][classes.index(m.group(1))], want, delta=1e-9)
        self.assertEqual(len([g for g in root.iter(NS + 'g') if g.get('class') == 'curve']), 4)
        for name, key, want in (('roc', 'AUC', ('roc_micro', 'roc_macro')),
                                ('pr', 'AP', ('ap_micro', 'ap_macro'))):
            root = ET.parse(plots / (name + '.svg')).getroot()
            legend = next(g for g in root.iter(NS + 'g') if g.get('class') == 'legend')
            entries = [''.join(t.itertext()) for t in legend.iter(NS + 'text')]
            for avg, ref_key in zip(('micro-average', 'macro-average'), want):
                entry = next((e for e in entries if e.startswith(avg)), None)
                self.assertIsNotNone(entry, '%s: no %s entry in %r' % (name, avg, entries))
                got = float(re.search(key + r' = ([0-9.]+)', entry).group(1))
                self.assertAlmostEqual(got, ref[ref_key], delta=0.0005, msg=name + ' ' + avg)
            for c in classes:
                self.assertTrue(any(e.startswith(c + ' (') for e in entries), c)
            rect = legend.find(NS + 'rect')
            x0, y0 = float(rect.get('x')), float(rect.get('y'))
            x1, y1 = x0 + float(rect.get('width')), y0 + float(rect.get('height'))
            curves = [g for g in root.iter(NS + 'g') if g.get('class') == 'curve']
            self.assertGreaterEqual(len(curves), 12, name)
            for g in curves:
                for pl in g.iter(NS + 'polyline'):
                    pts = polyline_points(pl)
                    for (ax, ay), (bx, by) in zip(pts, pts[1:] + pts[-1:]):
                        for t in (0, 0.25, 0.5, 0.75):
                            qx, qy = ax + t * (bx - ax), ay + t * (by - ay)
                            self.assertFalse(x0 <= qx <= x1 and y0 <= qy <= y1,
                                             '%s: the legend covers %s at (%.1f, %.1f)'
                                             % (name, g.get('data-name'), qx, qy))

    def test_quantile_calibration_bins(self):
        # a predictions CSV of 1000 rows with distinct probabilities
        import random
        rng = random.Random(7)
        lines = ['y_true,y_pred,p_0,p_1']
        for _ in range(1000):
            p1 = rng.random()
            y = 1 if rng.random() < p1 else 0
            lines.append('%d,%d,%r,%r' % (y, int(p1 >= 0.5), 1 - p1, p1))
        path = self.tmp / 'pred.csv'
        path.write_text('\n'.join(lines) + '\n')
        for mode in ('quantile', 'uniform'):
            out = self.tmp / mode
            self.cairn('eval', 'metrics', '--input', path, '--bootstrap', '0', '--plots', out,
                       '--calibration-bins', mode, store=False)
            root = ET.parse(out / 'calibration.svg').getroot()
            strip = next(g for g in root.iter(NS + 'g') if g.get('class') == 'bin-counts')
            counts = [int(l.get('data-count')) for l in strip.iter(NS + 'line')]
            self.assertEqual(sum(counts), 1000, mode)
            self.assertEqual(len(counts), 10, mode)
            if mode == 'quantile':
                self.assertLessEqual(max(counts) - min(counts), 1, counts)
                self.assertIn('quantile', svg_title(root))
        bad = self.cairn('eval', 'metrics', '--input', path, '--calibration-bins', 'nope',
                         expect=2, store=False)
        self.assertIn('uniform or quantile', bad.stderr)

    def test_logistic_run_has_learning_curve(self):
        cfg = self.write_config('lr.yaml', (
            'seed: 1\ndata: {path: %s, label: target, categorical: [target]}\n'
            'learner: {name: logistic, params: {solver: lbfgs}}\nbootstrap: 0\n')
            % (DATA / 'wine.csv'))
        res = self.train(cfg)
        plots, _ = self.plots(res['run_id'])
        root = ET.parse(plots / 'learning_curves.svg').getroot()
        self.assertIn('Solver iteration', texts(root))
        hist = self.cairn_json('runs', 'history', res['run_id'], 'train_loss',
                               '--json')['metrics']
        self.assertGreater(len(hist), 3)
        vals = [h['value'] for h in sorted(hist, key=lambda h: h['step'])]
        self.assertEqual([h['step'] for h in sorted(hist, key=lambda h: h['step'])],
                         list(range(1, len(vals) + 1)))
        for a, b in zip(vals, vals[1:]):  # a line search never goes uphill
            self.assertLessEqual(b, a + 1e-12)


    def test_class_names_for_coded_labels(self):
        # breast_cancer codes its classes 0/1; data.class_names names them everywhere
        cfg = self.write_config('bc.yaml', (
            'seed: 5\ndata: {path: %s, label: target, categorical: [target],\n'
            '       class_names: {0: malignant, 1: benign}}\n'
            'split: {method: stratified, test: 0.2, val: 0.2}\n'
            'learner: {name: logistic}\nbootstrap: 0\n') % (DATA / 'breast_cancer.csv'))
        res = self.train(cfg)
        plots, run = self.plots(res['run_id'])
        root_dir = pathlib.Path(run['artifact_uri'])

        def tick_texts(path):
            return texts(ET.parse(path).getroot())

        cm = tick_texts(plots / 'confusion_matrix.svg')
        self.assertIn('malignant', cm)
        self.assertIn('benign', cm)
        self.assertNotIn('0', cm)  # no tick reads as a bare code
        for name in ('roc', 'pr', 'calibration'):
            self.assertTrue(any('benign' in t for t in tick_texts(plots / (name + '.svg'))),
                            name)
        report = (root_dir / 'report.md').read_text()
        self.assertIn('`0` malignant, `1` benign', report)
        # the predictions CSV keeps the codes, as in the data
        head = (root_dir / 'predictions' / 'val.csv').read_text().splitlines()
        self.assertEqual(head[0], 'row,y_true,y_pred,p_0,p_1')
        self.assertIn(head[1].split(',')[1], ('0', '1'))
        # eval final finds the names in the model
        self.cairn_json('eval', 'final', res['run_id'], '--json')
        cm = tick_texts(plots / 'test_confusion_matrix.svg')
        self.assertIn('malignant', cm)
        self.assertIn('benign', cm)
        # the bundled example config names them too
        example = (harness.SOURCE_DIR / 'examples' / 'configs' /
                   'breast_cancer_logistic.yaml').read_text()
        self.assertIn('class_names: {0: malignant, 1: benign}', example)

    def test_class_names_refused_when_wrong(self):
        base = ('seed: 5\ndata: {path: %s, label: target, categorical: [target], '
                'class_names: %s}\nlearner: {name: logistic}\nbootstrap: 0\n')
        cases = (('{0: malignant, 2: benign}', "names class '2', but label 'target' has no "
                  "such value (its values: 0, 1)"),
                 ('{0: same, 1: same}', "classes '0' and '1' are both named 'same'"),
                 ('{0: "", 1: b}', "'data.class_names.0' must be a non-empty name"),
                 ('[malignant, benign]', "'data.class_names' must be a mapping"))
        for names, want in cases:
            cfg = self.write_config('bad.yaml', base % (DATA / 'breast_cancer.csv', names))
            bad = self.cairn('train', '--config', cfg, expect=1)
            self.assertIn(want, bad.stderr, names)
        self.assertEqual(self.cairn_json('runs', 'list', '--json')['runs'], [],
                         'a refused config made a run')

    def test_calibration_strategy_in_config(self):
        cfg = self.write_config('cal.yaml', (
            'seed: 2\ndata: {path: %s, label: target, categorical: [target]}\n'
            'split: {method: stratified, test: 0.2, val: 0.3}\n'
            'learner: {name: logistic}\nbootstrap: 0\n'
            'plots: {calibration: quantile, bins: 7}\n') % (DATA / 'breast_cancer.csv'))
        res = self.train(cfg)
        plots, _ = self.plots(res['run_id'])
        self.cairn_json('eval', 'final', res['run_id'], '--json')
        for name in ('calibration', 'test_calibration'):
            root = ET.parse(plots / (name + '.svg')).getroot()
            self.assertIn('quantile', svg_title(root), name)
            strip = next(g for g in root.iter(NS + 'g') if g.get('class') == 'bin-counts')
            counts = [int(l.get('data-count')) for l in strip.iter(NS + 'line')]
            self.assertEqual(len(counts), 7, name)
            self.assertLessEqual(max(counts) - min(counts), 1, (name, counts))
        bad = self.write_config('bad.yaml', (
            'data: {path: %s, label: target}\nlearner: {name: logistic}\n'
            'plots: {calibration: isotonic}\n') % (DATA / 'breast_cancer.csv'))
        out = self.cairn('train', '--config', bad, expect=1)
        self.assertIn("'plots.calibration' must be uniform", out.stderr)

    def test_docs_show_every_picture(self):
        # docs/pictures.md shows each PNG tools/render-pictures.sh makes, each small enough
        docs = harness.SOURCE_DIR / 'docs'
        text = (docs / 'pictures.md').read_text()
        shown = re.findall(r'!\[[^\]]*\]\((pictures/[^)]+\.png)\)', text)
        files = sorted('pictures/' + p.name for p in (docs / 'pictures').glob('*.png'))
        self.assertEqual(sorted(shown), files)
        for f in files:
            self.assertLess((docs / f).stat().st_size, 120000, f)
            self.assertEqual((docs / f).read_bytes()[:8], b'\x89PNG\r\n\x1a\n', f)
        self.assertLess(sum((docs / f).stat().st_size for f in files), 2 * 1024 * 1024)
        for kind in ('binary_', 'multiclass3_', 'multiclass10_', 'study_', 'learning_curves_'):
            self.assertTrue(any(kind in f for f in files), kind)

if __name__ == '__main__':
    harness.unittest.main()
