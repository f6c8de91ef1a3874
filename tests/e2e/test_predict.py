# SPDX-License-Identifier: MIT
"""`cairn predict` scores unlabelled rows with a model file, runs:/ or models:/ reference and
agrees with the predictions cairn train logged; features are checked (missing, wrong type,
unseen category); `cairn model show MODEL` prints learner, params, preprocessing, features and
coefficients named by input, which agree with scikit-learn's LogisticRegression fitted on the
same standardised training rows."""
import csv
import io
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402

DATA = harness.SOURCE_DIR / 'data'


class Predict(harness.CairnTest):
    def train(self, name, data, learner, params=None, categorical=('target',)):
        lines = ['name: %s' % name, 'experiment: pred', 'seed: 7',
                 'data: {path: %s, label: target, categorical: [%s]}'
                 % (data, ', '.join(categorical)),
                 'split: {test: 0.2, val: 0.2}', 'learner:', '  name: %s' % learner]
        if params:
            lines.append('  params: {%s}' % ', '.join('%s: %s' % kv for kv in params.items()))
        lines.append('bootstrap: 0')
        path = self.tmp / ('%s.yaml' % name)
        path.write_text('\n'.join(lines) + '\n')
        return self.cairn_json('train', '--json', '--config', path)

    def rows(self, text):
        return list(csv.DictReader(io.StringIO(text)))

    def test_predict_equals_the_logged_validation_predictions(self):
        for learner, params in (('logistic', {}), ('xgboost', {'num_round': 10}),
                                ('mlp', {'hidden': "'8'", 'epochs': 20})):
            with self.subTest(learner=learner):
                res = self.train('iris-' + learner, DATA / 'iris.csv', learner, params)
                logged = self.rows((pathlib.Path(res['artifact_dir']) / 'predictions'
                                    / 'val.csv').read_text())
                out = self.cairn('predict', 'runs:/%s/model' % res['run_id'], '--data',
                                 DATA / 'iris.csv', '--proba').stdout
                got = {r['row']: r for r in self.rows(out)}
                self.assertEqual(len(got), 150)
                self.assertEqual(list(self.rows(out)[0].keys()),
                                 ['row', 'prediction', 'p_0', 'p_1', 'p_2'])
                for r in logged:
                    g = got[r['row']]
                    self.assertEqual(g['prediction'], r['y_pred'])
                    for k in ('p_0', 'p_1', 'p_2'):
                        self.assertAlmostEqual(float(g[k]), float(r[k]), places=12)

    def test_unlabelled_rows_ids_and_output_file(self):
        res = self.train('dia', DATA / 'diabetes.csv', 'linear', categorical=())
        src = list(csv.reader(open(DATA / 'diabetes.csv')))
        header = src[0]
        keep = [i for i, h in enumerate(header) if h != 'target']
        lines = ['id,' + ','.join(header[i] for i in keep)]
        for n, row in enumerate(src[1:11]):
            lines.append('p%d,' % n + ','.join(row[i] for i in keep))
        new = self.write('new.csv', '\n'.join(lines) + '\n')
        proc = self.cairn('predict', 'runs:/%s/model' % res['run_id'], '--data', new,
                          '--id-column', 'id', '-o', 'preds.csv', '--proba')
        self.assertEqual(proc.stdout, '')
        self.assertIn('wrote 10 predictions', proc.stderr)
        got = self.rows((self.tmp / 'preds.csv').read_text())
        self.assertEqual([r['id'] for r in got], ['p%d' % n for n in range(10)])
        self.assertEqual(list(got[0].keys()), ['id', 'prediction'])  # regression: no p_
        # the same rows with the label present predict the same values
        full = self.rows(self.cairn('predict', 'runs:/%s/model' % res['run_id'], '--data',
                                    DATA / 'diabetes.csv').stdout)
        for n in range(10):
            self.assertEqual(got[n]['prediction'], full[n]['prediction'])
        self.cairn_error('predict', 'runs:/%s/model' % res['run_id'], '--data', new,
                         '--id-column', 'nope', mentions=("id column 'nope'",))

    def test_features_are_checked(self):
        res = self.train('iris', DATA / 'iris.csv', 'logistic')
        model = 'runs:/%s/model' % res['run_id']
        src = (DATA / 'iris.csv').read_text().splitlines()
        dropped = self.write('dropped.csv', '\n'.join(
            ','.join(line.split(',')[1:]) for line in src) + '\n')
        self.cairn_error('predict', model, '--data', dropped,
                         mentions=("no column 'sepal length (cm)'", 'numeric feature'))
        text = self.write('text.csv', src[0] + '\n' + '\n'.join(
            'x' + line for line in src[1:4]) + '\n')
        self.cairn_error('predict', model, '--data', text,
                         mentions=("column 'sepal length (cm)'", "'x5.1' is not a number"))
        self.cairn('predict', model, expect=2)  # --data is required

    def test_unseen_category_is_named(self):
        lines = ['color,size,target']
        for i in range(120):
            color = ('red', 'green', 'blue')[i % 3]
            size = (i * 7) % 11 / 3.0
            target = 'yes' if (color == 'red') != (size > 1.5) else 'no'
            lines.append('%s,%.4f,%s' % (color, size, target))
        data = self.write('shapes.csv', '\n'.join(lines) + '\n')
        res = self.train('shapes', data, 'logistic', categorical=('target', 'color'))
        model = 'runs:/%s/model' % res['run_id']
        new = self.write('new.csv', 'color,size\nred,1.0\npurple,2.0\n')
        self.cairn_error('predict', model, '--data', new,
                         mentions=("column 'color' row 1", "'purple'", 'never seen',
                                   '--allow-unseen'))
        out = self.rows(self.cairn('predict', model, '--data', new, '--allow-unseen',
                                   '--proba').stdout)
        self.assertEqual(len(out), 2)
        self.assertIn(out[0]['prediction'], ('yes', 'no'))
        # model show names one-hot inputs color=<level>
        show = self.cairn_json('model', 'show', model, '--json')
        names = show['coefficients']['inputs']
        self.assertEqual(sorted(names), ['color=blue', 'color=green', 'color=red', 'size'])
        color = [f for f in show['features'] if f['name'] == 'color'][0]
        self.assertEqual(sorted(color['levels']), ['blue', 'green', 'red'])

    def test_models_alias_reference(self):
        res = self.train('iris', DATA / 'iris.csv', 'logistic')
        self.cairn('model', 'register', '--name', 'irises', '--run', res['run_id'])
        self.cairn('model', 'alias', 'irises', 'champion', '1')
        a = self.cairn('predict', 'models:/irises@champion', '--data', DATA / 'iris.csv').stdout
        b = self.cairn('predict', 'runs:/%s/model' % res['run_id'], '--data',
                       DATA / 'iris.csv').stdout
        self.assertEqual(a, b)
        path = pathlib.Path(res['artifact_dir']) / 'model' / 'model.cairn'
        c = self.cairn('predict', path, '--data', DATA / 'iris.csv', store=False).stdout
        self.assertEqual(a, c)
        self.cairn_error('predict', 'models:/irises@nope', '--data', DATA / 'iris.csv',
                         mentions=('nope',))


class ModelShow(harness.CairnTest):
    def test_each_learner(self):
        for learner, params, task in (('logistic', {}, 'classification'),
                                      ('mlp', {'hidden': "'4'", 'epochs': 5}, 'classification'),
                                      ('xgboost', {'num_round': 5}, 'classification'),
                                      ('linear', {}, 'regression'),
                                      ('ridge', {'alpha': 2.0}, 'regression')):
            with self.subTest(learner=learner):
                data = 'iris' if task == 'classification' else 'diabetes'
                cat = ', categorical: [target]' if task == 'classification' else ''
                cfg = self.write('%s.yaml' % learner, '\n'.join([
                    'name: show-%s' % learner, 'seed: 1',
                    'data: {path: %s, label: target%s}' % (DATA / ('%s.csv' % data), cat),
                    'split: {test: 0.2, val: 0.2}', 'learner:', '  name: %s' % learner,
                    '  params: {%s}' % ', '.join('%s: %s' % kv for kv in params.items()),
                    'bootstrap: 0']) + '\n')
                run = self.cairn_json('train', '--json', '-c', cfg)['run_id']
                show = self.cairn_json('model', 'show', 'runs:/%s/model' % run, '--json')
                self.assertEqual(show['learner'], learner)
                self.assertEqual(show['task'], task)
                self.assertEqual(show['run_id'], run)
                self.assertEqual(show['meta']['cairn.run_id'], run)
                for k, v in params.items():
                    self.assertEqual(show['params'][k], str(v).strip("'"))
                header = (DATA / ('%s.csv' % data)).read_text().splitlines()[0].split(',')
                self.assertEqual([f['name'] for f in show['features']], header[:-1])
                self.assertTrue(all(f['type'] == 'numeric' for f in show['features']))
                self.assertEqual(len(show['data_digest']), 64)
                self.assertIsNotNone(show['drift_profile'])
                self.assertGreater(show['drift_profile']['rows'], 50)
                if learner in ('logistic', 'linear', 'ridge'):
                    self.assertEqual(show['coefficients']['inputs'], header[:-1])
                else:
                    self.assertIsNone(show['coefficients'])
                human = self.cairn('model', 'show', 'runs:/%s/model' % run).stdout
                self.assertIn('learner:      %s' % learner, human)
                self.assertIn('drift reference profile:', human)
                self.assertEqual('coefficients (' in human,
                                 learner in ('logistic', 'linear', 'ridge'))

    def test_logistic_coefficients_match_sklearn(self):
        import numpy as np
        from sklearn.linear_model import LogisticRegression
        for data in ('iris', 'breast_cancer'):
            with self.subTest(data=data):
                cfg = self.write('%s.yaml' % data, '\n'.join([
                    'name: coef', 'seed: 3',
                    'data: {path: %s, label: target, categorical: [target]}'
                    % (DATA / ('%s.csv' % data)),
                    'split: {test: 0.2, val: 0.2}', 'learner: {name: logistic, params: {C: 0.5}}',
                    'bootstrap: 0']) + '\n')
                res = self.cairn_json('train', '--json', '-c', cfg)
                show = self.cairn_json('model', 'show', 'runs:/%s/model' % res['run_id'],
                                       '--json')
                idx = [int(x) for x in (pathlib.Path(res['artifact_dir']) / 'split'
                                        / 'train.idx').read_text().split()]
                rows = list(csv.reader(open(DATA / ('%s.csv' % data))))
                header, body = rows[0], rows[1:]
                x = np.array([[float(v) for v in body[i][:-1]] for i in idx])
                y = np.array([body[i][-1] for i in idx])
                mean = np.array([f['mean'] for f in show['features']])
                scale = np.array([f['scale'] for f in show['features']])
                np.testing.assert_allclose(mean, x.mean(axis=0), rtol=1e-9)
                np.testing.assert_allclose(scale, x.std(axis=0), rtol=1e-9)
                clf = LogisticRegression(C=0.5, tol=1e-10, max_iter=10000).fit(
                    (x - mean) / scale, y)
                co = show['coefficients']
                # the names follow sklearn's coef_ columns (feature_names_in_ order)
                self.assertEqual(co['inputs'], header[:-1])
                self.assertEqual([r['class'] for r in co['rows']],
                                 [str(c) for c in clf.classes_[-len(co['rows']):]])
                for r, row in enumerate(co['rows']):
                    got = np.array([row['coef'][n] for n in co['inputs']])
                    np.testing.assert_allclose(got, clf.coef_[r], rtol=1e-3, atol=1e-4)
                    self.assertAlmostEqual(row['intercept'], clf.intercept_[r], places=3)


class EvalRowsAndRawHash(harness.CairnTest):
    def test_eval_model_rows_index_file(self):
        cfg = self.write('iris.yaml', '\n'.join([
            'name: rows', 'seed: 2',
            'data: {path: %s, label: target, categorical: [target]}' % (DATA / 'iris.csv'),
            'split: {test: 0.2, val: 0.2}', 'learner: {name: logistic}', 'bootstrap: 0']) + '\n')
        res = self.cairn_json('train', '--json', '-c', cfg)
        split = pathlib.Path(res['artifact_dir']) / 'split'
        # the validation rows scored through --rows equal the run's own validation metric
        rep = self.cairn_json('eval', 'model', res['run_id'], '--data', DATA / 'iris.csv',
                              '--rows', split / 'val.idx', '--bootstrap', '0', '--json')
        self.assertEqual(rep['rows'], res['rows']['val'])
        self.assertAlmostEqual(rep['metrics']['accuracy']['value'],
                               res['val_metrics']['accuracy']['value'], places=12)
        # training rows named by an index file are refused as without --rows
        self.cairn_error('eval', 'model', res['run_id'], '--data', DATA / 'iris.csv',
                         '--rows', split / 'train.idx', mentions=('refusing to evaluate',))
        bad = self.write('bad.idx', '3\n999\n')
        self.cairn_error('eval', 'model', res['run_id'], '--data', DATA / 'iris.csv',
                         '--rows', bad, mentions=('bad.idx', 'line 2'))
        empty = self.write('empty.idx', '')
        self.cairn_error('eval', 'model', res['run_id'], '--data', DATA / 'iris.csv',
                         '--rows', empty, mentions=('lists no rows',))

    def test_data_hash_raw(self):
        import hashlib
        blob = self.tmp / 'blob.bin'
        blob.write_bytes(bytes(range(256)) * 1000 + b'\x00,"\n')
        files = [blob, DATA / 'iris.csv']
        out = self.cairn('data', 'hash', '--raw', *files, store=False).stdout
        want = ''.join('%s  %s\n' % (hashlib.sha256(f.read_bytes()).hexdigest(), f)
                       for f in files)
        self.assertEqual(out, want)
        js = self.cairn_json('data', 'hash', '--raw', '--json', blob, store=False)
        self.assertEqual(js, [{'path': str(blob), 'sha256': hashlib.sha256(
            blob.read_bytes()).hexdigest(), 'size_bytes': blob.stat().st_size}])
        self.cairn_error('data', 'hash', '--raw', self.tmp / 'missing', store=False,
                         mentions=('missing',))


if __name__ == '__main__':
    harness.main()
