# SPDX-License-Identifier: MIT
"""Training diagnostics: an overfitting MLP on a tiny split is flagged with the epoch the gap
opened, a divergent learning rate is flagged as divergence (with exploding gradients), healthy
runs stay quiet, per-layer gradient norms are logged, and `cairn runs diagnose` reads any run
with train and validation series, including one made by `cairn run`."""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402

DATA = harness.SOURCE_DIR / 'data'


class Diagnose(harness.CairnTest):
    def train(self, name, dataset, params, split='{test: 0.2, val: 0.2}'):
        lines = ['name: %s' % name, 'experiment: diag', 'seed: 3',
                 'data: {path: %s, label: target, categorical: [target]}'
                 % (DATA / ('%s.csv' % dataset)),
                 'split: %s' % split, 'learner:', '  name: %s' % params.pop('learner', 'mlp')]
        if params:
            lines.append('  params: {%s}' % ', '.join('%s: %s' % kv for kv in params.items()))
        lines.append('bootstrap: 0')
        path = self.tmp / ('%s.yaml' % name)
        path.write_text('\n'.join(lines) + '\n')
        res = self.cairn_json('train', '--json', '--config', path)
        self.assertEqual(res['diagnosis'] == 'none',
                         self.tags(res['run_id'])['cairn.diagnosis'] == 'none')
        return res['run_id']

    def tags(self, run_id):
        return self.cairn_json('runs', 'show', run_id, '--json')['tags']

    def diagnose(self, run_id, *args):
        return self.cairn_json('runs', 'diagnose', run_id, '--json', *args)

    def test_overfitting_mlp_on_a_tiny_split(self):
        # ~54 training rows of digits, no regularisation, no early stopping, many epochs
        run = self.train('over', 'digits', {'hidden': "'64'", 'epochs': 150, 'alpha': 0,
                                            'early_stopping': 'false'},
                         split='{test: 0.2, val: 0.77}')
        tags = self.tags(run)
        self.assertEqual(tags['cairn.diagnosis'], 'overfitting')
        self.assertEqual(tags['cairn.diagnosis.overfitting'], 'true')
        ev = tags['cairn.diagnosis.overfitting.evidence']
        self.assertRegex(ev, r'^gap \d+\.\d% from epoch \d+ \(train 1\.000, val 0\.\d{3}')
        d = self.diagnose(run)
        f = [x for x in d['findings'] if x['kind'] == 'overfitting'][0]
        self.assertEqual(f['evidence'], ev)
        self.assertIn('diagnosis: overfitting: ' + ev,
                      self.cairn('train', '--config', self.tmp / 'over.yaml').stdout)
        # the epoch it opened: the gap stays above 0.05 from there on, not just before
        tr = [m['value'] for m in self.cairn_json('runs', 'history', run, 'train_score',
                                                  '--json')['metrics']]
        va = [m['value'] for m in self.cairn_json('runs', 'history', run, 'val_score',
                                                  '--json')['metrics']]
        e = f['epoch']
        self.assertTrue(all(t - v > 0.05 for t, v in zip(tr[e - 1:], va[e - 1:])))
        if e > 1:
            self.assertLessEqual(tr[e - 2] - va[e - 2], 0.05)
        # a wider gap threshold than the gap clears it
        gap = tr[-1] - va[-1]
        wide = self.diagnose(run, '--gap', '%.3f' % min(1.0, gap + 0.02))
        self.assertNotIn('overfitting', [x['kind'] for x in wide['findings'] if x['problem']])
        report = (pathlib.Path(self.cairn_json('runs', 'show', run, '--json')['artifact_uri'])
                  / 'report.md').read_text()
        self.assertIn('## Diagnostics', report)
        self.assertIn('**overfitting**', report)
        svg = (pathlib.Path(self.cairn_json('runs', 'show', run, '--json')['artifact_uri'])
               / 'plots' / 'learning_curves.svg').read_text()
        self.assertIn('overfitting from %d' % e, svg)
        self.assertIn('<g class="mark" data-x="%d">' % e, svg)
        human = self.cairn('runs', 'show', run).stdout
        self.assertIn('diagnosis:        overfitting', human)

    def test_gradient_norms_logged_per_layer(self):
        run = self.train('grads', 'iris', {'hidden': "'8,4'", 'epochs': 12})
        for layer in (1, 2, 3):
            hist = self.cairn_json('runs', 'history', run, 'grad_norm_layer_%d' % layer,
                                   '--json')['metrics']
            self.assertEqual(len(hist), 12)
            self.assertTrue(all(h['value'] > 0 for h in hist))
        m = self.cairn_json('runs', 'show', run, '--json')['metrics']
        self.assertNotIn('grad_norm_layer_4', m)
        self.assertEqual(self.diagnose(run)['series']['grad_norm_layers'], 3)

    def test_divergent_learning_rate(self):
        run = self.train('div', 'breast_cancer', {'hidden': "'32'", 'epochs': 40,
                                                  'solver': 'sgd', 'learning_rate': 5})
        tags = self.tags(run)
        self.assertEqual(tags['cairn.diagnosis.divergence'], 'true')
        self.assertIn('train_loss', tags['cairn.diagnosis.divergence.evidence'])
        self.assertEqual(tags['cairn.diagnosis.exploding_gradients'], 'true')
        kinds = [x['kind'] for x in self.diagnose(run)['findings'] if x['problem']]
        self.assertIn('divergence', kinds)
        # a learning rate so high the loss turns NaN: the run fails, and says why on the run
        cfg = self.tmp / 'nan.yaml'
        cfg.write_text('\n'.join([
            'name: nan', 'experiment: diag', 'seed: 3',
            'data: {path: %s, label: target, categorical: [target]}'
            % (DATA / 'breast_cancer.csv'),
            'split: {test: 0.2, val: 0.2}', 'learner:', '  name: mlp',
            "  params: {hidden: '32', epochs: 40, solver: sgd, learning_rate: 50, "
            'early_stopping: false}', 'bootstrap: 0']) + '\n')
        self.cairn_error('train', '--config', cfg, mentions=('diverged',))
        run = self.cairn_json('runs', 'list', '-e', 'diag', '--json')['runs'][0]['run_id']
        tags = self.tags(run)
        self.assertRegex(tags['cairn.diagnosis.divergence.evidence'],
                         r'^non-finite train_loss \(NaN\) at epoch \d+$')
        self.assertIn('divergence:', self.cairn('runs', 'show', run).stdout)
        self.assertIn('divergence', [x['kind'] for x in self.diagnose(run)['findings']])

    def test_healthy_runs_stay_quiet(self):
        for name, dataset, params in (
                ('logistic', 'breast_cancer', {'learner': 'logistic'}),
                ('mlp', 'breast_cancer', {'hidden': "'16'", 'epochs': 60}),
                ('mlp-iris', 'iris', {'hidden': "'16'", 'epochs': 200})):
            with self.subTest(name=name):
                run = self.train(name, dataset, params)
                tags = self.tags(run)
                self.assertEqual(tags['cairn.diagnosis'], 'none', tags)
                out = self.cairn('runs', 'diagnose', run).stdout
                self.assertIn('no problem found', out)
                self.assertIn('checked:', out)

    def test_cairn_run_script_is_diagnosed(self):
        # a script logging train_loss/val_loss and accuracy/val_accuracy through the line
        # protocol: the validation loss turns up from epoch 11 while the training loss falls
        lines = []
        for e in range(1, 31):
            tl = 1.0 / e
            vl = 1.0 / e if e <= 10 else 0.1 + 0.02 * (e - 10)
            lines.append('cairn: step=%d train_loss=%.4f val_loss=%.4f' % (e, tl, vl))
        script = self.write('train.py', 'for line in %r:\n    print(line)\n' % lines)
        self.cairn('run', '--experiment', 'scripts', '--', sys.executable, script)
        run = self.cairn_json('runs', 'list', '-e', 'scripts', '--json')['runs'][0]['run_id']
        d = self.diagnose(run)
        self.assertEqual(d['series']['train_loss'], 'train_loss')
        self.assertEqual(d['series']['val_loss'], 'val_loss')
        f = [x for x in d['findings'] if x['kind'] == 'overfitting'][0]
        self.assertEqual(f['epoch'], 11)  # first epoch above 0.1 * 1.05 and staying above
        best = [x for x in d['findings'] if x['kind'] == 'best_epoch'][0]
        self.assertEqual(best['epoch'], 10)
        # keras-style names: loss / val_loss, accuracy / val_accuracy
        lines = ['cairn: step=%d loss=%.4f val_loss=%.4f accuracy=%.3f val_accuracy=%.3f'
                 % (e, 1.0 / e, 1.0 / e + 0.01, 0.5 + e / 100, 0.5 + e / 110)
                 for e in range(1, 21)]
        script = self.write('keras.py', 'for line in %r:\n    print(line)\n' % lines)
        self.cairn('run', '--experiment', 'keras', '--', sys.executable, script)
        run = self.cairn_json('runs', 'list', '-e', 'keras', '--json')['runs'][0]['run_id']
        d = self.diagnose(run)
        self.assertEqual(d['series']['train_metric'], 'accuracy')
        self.assertEqual(d['series']['val_metric'], 'val_accuracy')
        self.assertEqual(d['problems'], 0, d)

    def script_run(self, name, lines):
        script = self.write('%s.py' % name, 'for line in %r:\n    print(line)\n' % lines)
        self.cairn('run', '--experiment', name, '--', sys.executable, script)
        return self.cairn_json('runs', 'list', '-e', name, '--json')['runs'][0]['run_id']

    def problems(self, run):
        return {x['kind']: x for x in self.diagnose(run)['findings'] if x['problem']}

    def test_gradient_and_loss_rules_on_logged_series(self):
        # vanishing: layer 1's norm under 1e-7 at the last epoch
        run = self.script_run('vanish', [
            'cairn: step=%d train_loss=%.4f val_loss=%.4f grad_norm_layer_1=%g '
            'grad_norm_layer_2=%g' % (e, 1.0 / e, 1.0 / e + 0.01, 1e-3 / 10 ** e, 0.5)
            for e in range(1, 11)])
        p = self.problems(run)
        self.assertEqual(set(p), {'vanishing_gradients'})
        self.assertEqual(p['vanishing_gradients']['epoch'], 10)
        self.assertIn('layer 1 gradient norm', p['vanishing_gradients']['evidence'])
        # vanishing by ratio: layer 1 at 1e-5 of layer 3's norm
        run = self.script_run('ratio', [
            'cairn: step=%d train_loss=%.4f grad_norm_layer_1=1e-5 grad_norm_layer_2=0.01 '
            'grad_norm_layer_3=1' % (e, 1.0 / e) for e in range(1, 8)])
        self.assertIn('of layer 3', self.problems(run)['vanishing_gradients']['evidence'])
        # exploding: a norm growing 10x from its first epoch
        run = self.script_run('explode', [
            'cairn: step=%d train_loss=%.4f grad_norm_layer_1=%g grad_norm_layer_2=0.1'
            % (e, 1.0 / e, 0.01 * 1.5 ** e) for e in range(1, 11)])
        self.assertIn('grew', self.problems(run)['exploding_gradients']['evidence'])
        # underfitting without a baseline: a training loss that barely falls
        run = self.script_run('flat', ['cairn: step=%d train_loss=%.5f val_loss=0.70'
                                       % (e, 0.693 - 0.0001 * e) for e in range(1, 21)])
        p = self.problems(run)
        self.assertEqual(set(p), {'underfitting'})
        self.assertIn('fell 0.27% over 20 epochs', p['underfitting']['evidence'])
        # underfitting against a baseline given on the command line
        run = self.script_run('base', ['cairn: step=%d train_acc=%.3f val_acc=%.3f'
                                       % (e, 0.60 + e / 1000, 0.60) for e in range(1, 11)])
        self.assertEqual(self.diagnose(run)['problems'], 0)
        d = self.diagnose(run, '--baseline', '0.6')
        self.assertEqual([x['kind'] for x in d['findings'] if x['problem']], ['underfitting'])
        # divergence: a loss rising in each of the last 5 epochs, far above its minimum
        run = self.script_run('rise', ['cairn: step=%d loss=%.3f' % (e, v) for e, v in enumerate(
            [1.0, 0.6, 0.4, 0.3, 0.25, 0.24, 0.26, 0.29, 0.33, 0.38, 0.45], 1)])
        p = self.problems(run)
        self.assertEqual(set(p), {'divergence'})
        self.assertEqual(p['divergence']['epoch'], 7)
        # a NaN loss is divergence at its epoch
        run = self.script_run('nan', ['cairn: step=1 train_loss=0.9 val_loss=1.0',
                                      'cairn: step=2 train_loss=0.5 val_loss=0.6',
                                      'cairn: step=3 train_loss=nan val_loss=0.7'])
        p = self.problems(run)
        self.assertEqual(p['divergence']['epoch'], 3)
        self.assertIn('non-finite train_loss', p['divergence']['evidence'])

    def test_run_without_series_is_refused(self):
        script = self.write('one.py', 'print("cairn: acc=0.9")\n')
        self.cairn('run', '--experiment', 'one', '--', sys.executable, script)
        run = self.cairn_json('runs', 'list', '-e', 'one', '--json')['runs'][0]['run_id']
        self.cairn_error('runs', 'diagnose', run, mentions=('no per-epoch', 'acc (1)'))
        self.cairn('runs', 'diagnose', run, '--gap', '7', expect=2)


if __name__ == '__main__':
    harness.main()
