# SPDX-License-Identifier: MIT
"""What a new user meets in the first hour (issue 12, items 1-4), end to end:
1. one task rule for `cairn train` and `cairn eval metrics` (integer labels with few distinct
   values are classes), a `task:` key that settles it, the guess printed with the way to
   change it, and a metric of the other task refused with the reason;
2. every command that takes a run takes a unique prefix, and an ambiguous one names the runs;
3. `runs list|search` show the params that vary, the sorted-by metric and a script's metrics;
   `--columns`; `cairn train --name`;
4. no junk runs: a misspelled learner param or a command that does not exist is refused before
   a run exists; a failed run says why (tag cairn.failure_reason, the log, `runs show`);
6. (part) "did you mean" for commands, verbs, options and metric names; a hint for '==';
8. (part) report.md updated once the test split is opened; a store made without asking is
   named."""
import pathlib
import random
import sqlite3
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402

DATA = harness.SOURCE_DIR / 'data'


class FirstHour(harness.CairnTest):
    def config(self, name, dataset='wine', learner='xgboost', params='{num_round: 5}',
               extra=''):
        path = self.tmp / ('%s.yaml' % name)
        path.write_text('name: %s\nexperiment: fh\nseed: 3\n'
                        'data: {path: %s, label: target}\n'
                        'learner: {name: %s, params: %s}\n'
                        'bootstrap: 20\n%s'
                        % (name, DATA / ('%s.csv' % dataset), learner, params, extra))
        return path

    def runs(self):
        return self.cairn_json('runs', 'list', '--json')['runs']

    # ---- 1. task inference ----

    def test_integer_labels_with_few_values_are_classes(self):
        out = self.cairn_json('train', '--json', '-c', self.config('wine'))
        self.assertEqual(out['task'], 'classification')
        self.assertIn("label 'target' has 3 distinct integer values (0, 1, 2) in 178 rows",
                      out['task_reason'])
        self.assertIn('accuracy', out['val_metrics'])
        # the human output says which task, why, and how to change it
        p = self.cairn('train', '-c', self.config('wine2'))
        self.assertIn("task classification: inferred: label 'target' has 3 distinct integer "
                      "values", p.stdout)
        self.assertIn("set 'task: regression' in the config to change it", p.stdout)
        # many distinct integers are a regression target
        out = self.cairn_json('train', '--json', '-c', self.config('diab', 'diabetes'))
        self.assertEqual(out['task'], 'regression')
        self.assertIn('more than 20 distinct integer values', out['task_reason'])

    def test_task_key_settles_it_and_a_wrong_metric_says_why(self):
        out = self.cairn_json('train', '--json', '-c',
                              self.config('wine-reg', extra='task: regression\n'))
        self.assertEqual(out['task'], 'regression')
        self.assertIn("set by the config's 'task: regression'", out['task_reason'])
        self.assertIn('rmse', out['val_metrics'])
        cfg = self.config('wine-acc', extra='task: regression\nmetrics: [accuracy]\n')
        self.cairn_error('train', '-c', cfg,
                         mentions=["'accuracy' is not a regression metric",
                                   "the task is regression (set by the config's 'task: "
                                   "regression')"])
        # inferred regression: the message says why and names the fix
        csv = self.tmp / 'floats.csv'
        rows = ['x,target'] + ['%d,%s' % (i, 1.5 + i % 7 * 0.25) for i in range(60)]
        csv.write_text('\n'.join(rows) + '\n')
        cfg = self.tmp / 'floats.yaml'
        cfg.write_text('data: {path: %s, label: target}\nlearner: {name: xgboost}\n'
                       'metrics: [accuracy]\n' % csv)
        self.cairn_error('train', '-c', cfg,
                         mentions=["'accuracy' is not a regression metric",
                                   "label 'target' has non-integer values such as",
                                   "set 'task: classification' in the config"])
        cfg.write_text('data: {path: %s, label: target}\nlearner: {name: logistic}\n'
                       'task: regression\n' % csv)
        self.cairn_error('train', '-c', cfg, mentions=["learner 'logistic' does classification"])
        self.assertEqual(self.runs(), [r for r in self.runs() if r['run_name'] != 'wine-acc'])

    def test_eval_metrics_uses_the_same_rule(self):
        rng = random.Random(4)
        counts = self.tmp / 'counts.csv'  # integer targets with many values: regression
        lines = ['y_true,y_pred']
        for _ in range(200):
            y = rng.randint(0, 60)
            lines.append('%d,%d' % (y, y + rng.randint(-2, 2)))
        counts.write_text('\n'.join(lines) + '\n')
        p = self.cairn('eval', 'metrics', '-i', counts, '--bootstrap', '0', store=False)
        self.assertIn('task: regression', p.stdout)
        self.assertIn("more than 20 distinct integer values; --task classification to change it",
                      p.stdout)
        classes = self.tmp / 'classes.csv'  # wine-like 0/1/2: classification
        lines = ['y_true,y_pred'] + ['%d,%d' % (i % 3, (i + (i % 5 == 0)) % 3)
                                     for i in range(120)]
        classes.write_text('\n'.join(lines) + '\n')
        p = self.cairn('eval', 'metrics', '-i', classes, '--bootstrap', '0', store=False)
        self.assertIn('task: classification', p.stdout)
        self.assertIn("column 'y_true' has 3 distinct integer values (0, 1, 2)", p.stdout)
        err = self.cairn_error('eval', 'metrics', '-i', counts, '--metrics', 'accuracy',
                               store=False)
        self.assertIn("'accuracy' is not a regression metric", err)
        self.assertIn('the task is regression (inferred:', err)
        # --help and the docs state the same rule
        help_text = self.cairn('eval', 'metrics', '--help', store=False).stdout
        self.assertIn("same rule as 'cairn train'", help_text)
        self.assertNotIn('labels are not all integers, else regression', help_text)
        doc = (harness.SOURCE_DIR / 'docs' / 'cli' / 'cairn-eval.md').read_text()
        self.assertIn('same rule as\n`cairn train`', doc)

    # ---- 2. run ids ----

    def test_every_run_command_takes_a_prefix(self):
        a = self.cairn_json('train', '--json', '-c', self.config('a', 'iris', 'logistic', '{}'))
        b = self.cairn_json('train', '--json', '-c',
                            self.config('b', 'iris', 'logistic', '{C: 0.05}'))
        pa, pb = a['run_id'][:8], b['run_id'][:8]
        out = self.cairn_json('eval', 'compare', pa, pb, '--json')
        self.assertEqual((out['run_a'], out['run_b']), (a['run_id'], b['run_id']))
        final = self.cairn_json('eval', 'final', pa, '--json', '--bootstrap', '10')
        self.assertIn('accuracy', final['metrics'])
        self.assertEqual(self.cairn_json('runs', 'show', pb, '--json')['run_id'], b['run_id'])
        self.cairn_error('eval', 'final', 'ffffffffff', mentions=["run 'ffffffffff' not found"])

    def test_an_ambiguous_prefix_names_the_runs(self):
        if not self.store.startswith('sqlite:'):
            self.skipTest('renames run ids in the SQLite file')
        ids = self.seed('run amb\nfinish FINISHED\nrun amb\nfinish FINISHED\n')
        db = sqlite3.connect(str(self.tmp / 'cairn.db'))
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        new = ['abcdef01' + ids[0][8:], 'abcdef02' + ids[1][8:]]
        for old, fresh in zip(ids, new):
            for t in tables:
                cols = [c[1] for c in db.execute('PRAGMA table_info(%s)' % t)]
                if 'run_uuid' in cols:
                    db.execute('UPDATE %s SET run_uuid = ? WHERE run_uuid = ?' % t, (fresh, old))
        db.commit()
        db.close()
        for args in (['runs', 'show', 'abcdef'], ['eval', 'compare', 'abcdef', new[1]],
                     ['eval', 'final', 'abcdef0'], ['runs', 'delete', 'abcdef']):
            with self.subTest(args=args):
                err = self.cairn_error(*args, mentions=['is ambiguous', new[0], new[1]])
                self.assertIn('give more characters', err)
        self.assertEqual(self.cairn_json('runs', 'show', 'abcdef02', '--json')['run_id'], new[1])

    # ---- 3. runs tables ----

    def test_runs_tables_show_what_differs(self):
        spec = ''
        for i, lr in enumerate(['0.1', '0.01', '0.001']):
            spec += ('run tab name=t%d start=%d\nparam lr %s\nparam optimizer adam\n'
                     % (i, 1800000000000 + i, lr))
            spec += ''.join('metric m%d %d\n' % (k, k) for k in range(5))
            if i == 1:
                spec += 'metric zloss 0.5\n'
            spec += 'finish FINISHED\n'
        spec += 'run tab name=script start=1800000000009\nmetric myloss 0.25\nfinish FINISHED\n'
        self.seed(spec)
        table = self.cairn('runs', 'list', '--experiment', 'tab').stdout
        header = table.splitlines()[0].split()
        self.assertIn('lr', header)            # differs between the runs
        self.assertNotIn('optimizer', header)  # the same on every run
        self.assertIn('myloss', header)        # the script's only metric
        self.assertIn('0.25', table)
        out = self.cairn('runs', 'search', '--experiment', 'tab',
                         '--order-by', 'metrics.zloss DESC').stdout
        self.assertIn('zloss', out.splitlines()[0].split())  # the metric sorted by
        out = self.cairn('runs', 'list', '--experiment', 'tab', '--columns',
                         'name,params.lr,metrics.m1,optimizer').stdout.splitlines()
        self.assertEqual(out[0].split(), ['RUN', 'ID', 'NAME', 'lr', 'm1', 'optimizer'])
        self.assertEqual(out[1].split()[1:], ['script', '-', '-', '-'])
        self.assertEqual(out[2].split()[1:], ['t2', '0.001', '1', 'adam'])

    def test_train_name(self):
        cfg = self.config('base', 'iris', 'logistic', '{}')
        out = self.cairn_json('train', '--json', '-c', cfg, '-p', 'C=0.1', '--name', 'c-small')
        run = self.cairn_json('runs', 'show', out['run_id'], '--json')
        self.assertEqual(run['run_name'], 'c-small')

    # ---- 4. junk runs ----

    def test_what_can_be_checked_is_refused_before_a_run(self):
        self.cairn_error('train', '-c', self.config('typo'), '-p', 'max_dept=3',
                         mentions=["unknown param 'max_dept' (did you mean 'max_depth'?)"])
        p = self.cairn('run', '--no-git', '--', 'pyhton3', '-c', 'print(1)', expect=127)
        self.assertIn("cairn: error: command 'pyhton3' not found in PATH; no run was made",
                      p.stderr)
        self.assertEqual(self.runs(), [])

    def test_a_failed_run_says_why(self):
        p = self.cairn('run', '--no-git', '--', 'sh', '-c',
                       'echo "ValueError: learning rate must be > 0" >&2; exit 3', expect=3)
        run = self.runs()[0]
        self.assertEqual(run['status'], 'FAILED')
        why = run['tags']['cairn.failure_reason']
        self.assertIn('the command exited with code 3', why)
        self.assertIn('ValueError: learning rate must be > 0', why)
        shown = self.cairn('runs', 'show', run['run_id'][:8]).stdout
        self.assertIn('failure_reason:   the command exited with code 3', shown)
        log = pathlib.Path(run['artifact_uri'].replace('file://', '')) / 'logs' / 'output.log'
        self.assertIn('cairn: failure reason: the command exited with code 3', log.read_text())
        self.assertIn('FAILED', p.stderr)


    # ---- 6. did you mean ----

    def test_did_you_mean(self):
        err = self.cairn_error('trian', expect=2, store=False)
        self.assertIn("unknown command 'trian' (did you mean 'cairn train'?)", err)
        err = self.cairn_error('runs', 'lsit', expect=2)
        self.assertIn("unknown verb 'lsit' for 'cairn runs' (did you mean 'cairn runs list'?)",
                      err)
        err = self.cairn_error('runs', 'list', '--expriment', 'x', expect=2)
        self.assertIn("unknown option '--expriment' (did you mean '--experiment'?)", err)
        err = self.cairn_error('train', '--nmae', 'x', expect=2)
        self.assertIn("(did you mean '--name'?)", err)
        preds = self.tmp / 'p.csv'
        preds.write_text('y_true,y_pred\n0,0\n1,1\n1,0\n0,0\n')
        self.cairn_error('eval', 'metrics', '-i', preds, '--metrics', 'acuracy', store=False,
                         mentions=["'acuracy' is not a classification metric (did you mean "
                                   "'accuracy'?)"])
        self.cairn_error('eval', 'metrics', '-i', preds, '--metrics', 'rmse', store=False,
                         mentions=["'rmse' is not a classification metric (it is a regression "
                                   "metric)"])
        self.cairn_error('runs', 'search', '--filter', 'metrics.acc == 0.9',
                         mentions=["'==' is not a comparator; equality is a single '='",
                                   'metrics.acc = ...'])

    def test_report_tells_of_the_test_split_once_opened(self):
        """report.md says the test split is sealed, then, after `eval final`, when it was opened
        and the test scores; a second look replaces the section and says what it costs."""
        run = self.cairn_json('train', '--config', self.config('rep', learner='logistic',
                                                                params='{}'),
                              '--json')['run_id']
        report = pathlib.Path(self.cairn_json('runs', 'show', run, '--json')['artifact_uri'],
                              'report.md')
        self.assertIn('The test split is sealed', report.read_text())
        self.assertNotIn('## Test metrics', report.read_text())
        self.cairn('eval', 'final', run)
        text = report.read_text()
        self.assertNotIn('The test split is sealed', text)
        self.assertIn('The test split was opened by `cairn eval final` (look 1', text)
        self.assertIn('## Test metrics', text)
        acc = self.cairn_json('runs', 'show', run, '--json')['metrics']['test_accuracy']
        self.assertIn('| accuracy | %.4f |' % acc, text)
        self.cairn('eval', 'final', run)
        text = report.read_text()
        self.assertEqual(text.count('## Test metrics'), 1)
        self.assertIn('look 2', text)
        self.assertIn('had been looked at before', text)
        self.assertLess(text.index('## Plots'), text.index('## Test metrics'))

    def test_a_store_made_without_asking_is_named(self):
        """No --store and no $CAIRN_STORE: the first command says which store it created."""
        first = self.cairn('runs', 'list', store=False)
        self.assertIn('created sqlite://%s/cairn.db' % self.tmp, first.stderr)
        self.assertTrue((self.tmp / 'cairn.db').is_file())
        again = self.cairn('runs', 'list', store=False)
        self.assertNotIn('created', again.stderr)
        named = self.cairn('runs', 'list')  # --store given: nothing to say
        self.assertNotIn('created', named.stderr)

    def test_trial_tables_print_floats_short(self):
        """`cairn tune` and `cairn study trials` tables print a float param to 6 significant
        digits (not 0.20760586673396197); the study keeps every digit (--json)."""
        space = self.tmp / 'space.yaml'
        space.write_text('objective: {name: loss, goal: minimize}\n'
                         'parameters:\n  lr: {type: float, low: 0.001, high: 1.0, log: true}\n')
        script = self.tmp / 'obj.py'
        script.write_text('import sys\nlr = float(sys.argv[sys.argv.index("--lr") + 1])\n'
                          'print("cairn.final: loss=%r" % ((lr - 0.1) ** 2))\n')
        proc = self.cairn('tune', '--space', space, '--study', 'short', '--trials', 4, '--seed',
                          5, '--', sys.executable, script)
        listed = self.cairn('study', 'trials', 'short')
        full = [t['params']['lr'] for t in
                self.cairn_json('study', 'trials', 'short', '--json')['trials']]
        self.assertTrue(any(len(repr(v)) > 12 for v in full), full)
        for v in full:
            short = '%.6g' % v
            self.assertIn(' %s' % short, listed.stdout)
            self.assertIn(' %s' % short, proc.stdout)
            if short != repr(v):
                self.assertNotIn(repr(v), listed.stdout.split('best:')[0])


if __name__ == '__main__':
    harness.main()
