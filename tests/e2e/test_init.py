# SPDX-License-Identifier: MIT
"""`cairn init`: the scaffold of each bundled dataset runs as written (data validate --expect,
train --config, a two-trial tune over the space), a time column gives a time split, data that
breaks the derived expectations is refused by train unless overridden (and the override is
recorded), and bad input is refused with a clear message: a missing target (did you mean), a
target with one class, an empty file, a folder that cannot be written, existing files."""
import json
import os
import pathlib
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402

DATA = harness.SOURCE_DIR / 'data'
FILES = ['experiment-config.yaml', 'hyperparameter-space.json', 'expectations.yaml',
         'model-card.md', 'pipeline.yaml', 'README.md', 'data.csv']


class Init(harness.CairnTest):
    def run_in(self, cwd, *args, expect=0):
        """cairn --store STORE ARGS in folder cwd; checks the exit code."""
        cmd = [harness.CAIRN_BIN, '--store', self.store] + [str(a) for a in args]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd,
                              env=self._env(None), timeout=harness.TIMEOUT_S)
        if expect is not None and proc.returncode != expect:
            self.fail('%s (in %s) exited %d, expected %d\n--- stdout\n%s--- stderr\n%s'
                      % (' '.join(cmd), cwd, proc.returncode, expect, proc.stdout, proc.stderr))
        return proc

    def init(self, name, data, target='target', *extra):
        out = self.cairn('init', name, '--data', data, '--target', target, *extra).stdout
        return self.tmp / name, out

    def test_each_bundled_dataset_runs_as_written(self):
        tasks = {'iris': 'classification', 'wine': 'classification',
                 'breast_cancer': 'classification', 'digits': 'classification',
                 'diabetes': 'regression'}
        for name, task in tasks.items():
            with self.subTest(dataset=name):
                proj, out = self.init(name, DATA / ('%s.csv' % name))
                self.assertIn('task      %s' % task, out)
                for f in FILES:
                    self.assertTrue((proj / f).is_file(), f)
                self.assertEqual((proj / 'data.csv').read_bytes(),
                                 (DATA / ('%s.csv' % name)).read_bytes())
                config = (proj / 'experiment-config.yaml').read_text()
                self.assertIn('expect: expectations.yaml', config)
                self.assertIn('method: %s' % ('stratified' if task == 'classification'
                                              else 'random'), config)
                # the README's three commands, run from the scaffold as written
                readme = (proj / 'README.md').read_text()
                for cmd in ('cairn data validate data.csv --expect expectations.yaml',
                            'cairn train --config experiment-config.yaml',
                            'cairn tune --space hyperparameter-space.json'):
                    self.assertIn(cmd, readme)
                v = self.run_in(proj, 'data', 'validate', 'data.csv', '--expect',
                                'expectations.yaml')
                self.assertIn('ok: all', v.stdout)
                r = json.loads(self.run_in(proj, 'train', '--config', 'experiment-config.yaml',
                                           '--json').stdout)
                self.assertEqual(r['task'], task)
                self.assertGreater(r['rows']['test'], 0)
                run = json.loads(self.run_in(proj, 'runs', 'show', r['run_id'], '--json').stdout)
                tags = run.get('tags') or run.get('data', {}).get('tags') or {}
                self.assertEqual(tags.get('cairn.expect.file'), 'expectations.yaml')
                self.assertNotIn('cairn.expect.override', tags)
                space = json.loads((proj / 'hyperparameter-space.json').read_text())
                self.assertEqual(space['objective']['goal'],
                                 'maximize' if task == 'classification' else 'minimize')
                t = self.run_in(proj, 'tune', '--space', 'hyperparameter-space.json',
                                '--study', 'init-' + name, '--trials', '2', '--',
                                harness.CAIRN_BIN, 'train', '--config',
                                'experiment-config.yaml')
                self.assertEqual(t.stdout.count('COMPLETE'), 2, t.stdout + t.stderr)
                pipeline = (proj / 'pipeline.yaml').read_text()
                for stage in ('validate: {kind: validate, data: data.csv, '
                              'expect: expectations.yaml}',
                              'train:    {kind: train, config: experiment-config.yaml, '
                              'after: [split]}',
                              'card:     {kind: card, model: "%s", template: model-card.md'
                              % name,
                              'promote:  {kind: promote, model: "%s", to: production' % name,
                              'serve:    {kind: deploy, model: "%s", alias: production'
                              % name):
                    self.assertIn(stage, pipeline)
                card = (proj / 'model-card.md').read_text()
                for section in ('## Intended use', '## Assumptions', '## Limitations',
                                '## Ethical considerations'):
                    self.assertIn(section, card)

    def test_each_scaffold_pipeline_runs_to_a_served_model(self):
        """The scaffold's pipeline on every bundled dataset: refused at promotion while the
        model card holds only guidance; once a person has written it, the card stage and what
        follows re-run, the model is served (its /ping answers) and monitored; a second run
        skips every stage."""
        import urllib.request
        fill = {'Intended use': 'Screening aid for a second reading.',
                'Assumptions': 'Rows measured as in the bundled data.',
                'Limitations': 'One small sample; not checked elsewhere.',
                'Ethical considerations': 'A false negative delays care.'}
        for name in ('iris', 'wine', 'breast_cancer', 'digits', 'diabetes'):
            with self.subTest(dataset=name):
                proj, _ = self.init('p_' + name, DATA / ('%s.csv' % name))
                r = self.run_in(proj, 'pipeline', 'run', expect=1)
                self.assertIn("stopped at stage 'promote'", r.stderr)
                self.assertIn('model_card', r.stderr)
                card = (proj / 'model-card.md').read_text()
                for head, text in fill.items():
                    card = card.replace('## %s\n\n' % head, '## %s\n\n%s\n\n' % (head, text))
                (proj / 'model-card.md').write_text(card)
                r = self.run_in(proj, 'pipeline', 'run')
                try:
                    self.assertIn("card         card      ... ", r.stderr)
                    self.assertIn("(input 'model-card.md' changed)", r.stderr)
                    self.assertIn('cached (unchanged since run', r.stderr)  # train etc.
                    self.assertIn('alias production', r.stdout)
                    self.assertIn('model card: .cairn-pipeline/card/model-card.md', r.stdout)
                    url = [ln.split()[2] for ln in r.stdout.splitlines()
                           if ln.startswith('served at: ')][0]
                    with urllib.request.urlopen(url + '/ping', timeout=30) as resp:
                        self.assertEqual(resp.status, 200)
                    with urllib.request.urlopen(url + '/metrics', timeout=30) as resp:
                        self.assertRegex(resp.read().decode(),
                                         r'cairn_serve_monitoring_enabled\{[^}]*\} 1')
                    again = self.run_in(proj, 'pipeline', 'run')
                    self.assertIn('0 of 8 stages ran, 8 cached',
                                  again.stdout)
                finally:
                    self.run_in(proj, 'pipeline', 'stop', expect=None)

    def test_time_column_gives_a_time_split(self):
        rows = ['date,x,color,y']
        for i in range(60):
            rows.append('2024-%02d-%02d,%d,%s,%.2f' % (1 + i // 28, 1 + i % 28, i,
                                                      'red' if i % 3 else 'blue', i * 0.5 + 0.25))
        src = self.write('sales.csv', '\n'.join(rows) + '\n')
        proj, out = self.init('sales', src, 'y')
        self.assertIn('split     time by date', out)
        self.assertIn('task      regression', out)
        config = (proj / 'experiment-config.yaml').read_text()
        self.assertIn('split: {method: time, time: "date"', config)
        self.assertIn('features: ["x", "color"]', config)
        self.run_in(proj, 'data', 'validate', 'data.csv', '--expect', 'expectations.yaml')
        r = json.loads(self.run_in(proj, 'train', '--config', 'experiment-config.yaml',
                                   '--json').stdout)
        self.assertEqual(r['learner'], 'ridge')

    def test_train_refuses_data_failing_expectations_unless_overridden(self):
        proj, _ = self.init('bc', DATA / 'breast_cancer.csv')
        data = proj / 'data.csv'
        lines = data.read_text().splitlines()
        header = lines[0].split(',')
        cells = lines[1].split(',')
        cells[header.index('mean radius')] = '1000'
        lines.append(','.join(cells))  # data row 569
        data.write_text('\n'.join(lines) + '\n')
        v = self.run_in(proj, 'data', 'validate', 'data.csv', '--expect', 'expectations.yaml',
                        expect=1)
        self.assertIn("rule 'max'", v.stdout)
        self.assertIn("column 'mean radius': 1 row above the maximum", v.stdout)
        self.assertIn('row 569', v.stdout)
        self.assertIn('fix: ', v.stdout)
        err = self.run_in(proj, 'train', '--config', 'experiment-config.yaml', expect=1).stderr
        self.assertIn("fails 1 of the", err)
        self.assertIn("rule 'max'", err)
        self.assertIn('row 569', err)
        self.assertIn('--override-expect', err)
        # refused before a run was made
        runs = json.loads(self.run_in(proj, 'runs', 'list', '--experiment', 'breast_cancer',
                                      '--json', expect=None).stdout or '[]')
        self.assertFalse(runs if isinstance(runs, list) else runs.get('runs'))
        r = json.loads(self.run_in(proj, 'train', '--config', 'experiment-config.yaml',
                                   '--override-expect', 'a known outlier, checked by hand',
                                   '--json').stdout)
        run = json.loads(self.run_in(proj, 'runs', 'show', r['run_id'], '--json').stdout)
        tags = run.get('tags') or run.get('data', {}).get('tags') or {}
        self.assertEqual(tags.get('cairn.expect.override'), 'a known outlier, checked by hand')
        self.assertEqual(tags.get('cairn.expect.failed'), 'max')
        findings = json.loads(
            (pathlib.Path(r['artifact_dir']) / 'expect' / 'findings.json').read_text())
        self.assertFalse(findings['ok'])
        self.assertEqual(findings['findings'][0]['rows'], [569])
        # --expect on the command line replaces the config's file
        self.write('loose.yaml', 'min_rows: 10\n')
        self.run_in(proj, 'train', '--config', 'experiment-config.yaml', '--expect',
                    str(self.tmp / 'loose.yaml'))
        self.run_in(proj, 'train', '--config', 'experiment-config.yaml',
                    '--override-expect', '', expect=2)

    def test_bad_input(self):
        iris = DATA / 'iris.csv'
        self.cairn_error('init', 'p', '--data', iris, '--target', 'targte',
                         mentions=["--target 'targte' is not a column", "did you mean 'target'"])
        self.cairn_error('init', 'p', '--data', iris, '--target', 'species_name',
                         mentions=['its columns are: sepal length (cm)'])
        one = self.write('one.csv', 'x,y\n1,a\n2,a\n3,a\n')
        self.cairn_error('init', 'p', '--data', one, '--target', 'y',
                         mentions=["--target 'y' has a single value", 'nothing to learn'])
        empty = self.write('empty.csv', '')
        self.cairn_error('init', 'p', '--data', empty, '--target', 'y',
                         mentions=['empty.csv', 'empty'])
        header = self.write('header.csv', 'x,y\n')
        self.cairn_error('init', 'p', '--data', header, '--target', 'y',
                         mentions=['no data rows'])
        self.assertFalse((self.tmp / 'p').exists())  # nothing written on refusal
        self.write('afile', 'x')
        self.cairn_error('init', 'afile/sub', '--data', iris, '--target', 'target',
                         mentions=["cannot create folder 'afile/sub'", 'Not a directory'])
        self.cairn_error('init', 'afile', mentions=["'afile' exists and is not a folder"])
        if os.geteuid() != 0:
            ro = self.tmp / 'ro'
            ro.mkdir()
            ro.chmod(0o500)
            self.addCleanup(ro.chmod, 0o700)
            self.cairn_error('init', ro, '--data', iris, '--target', 'target',
                             mentions=['Permission denied'])
        self.cairn('init', 'p', '--data', iris, '--target', expect=2)
        self.cairn('init', 'p', '--data', iris, expect=2)
        self.cairn('init', 'a', 'b', expect=2)
        # existing files are named and kept without --force
        self.cairn('init', 'q', '--data', iris, '--target', 'target')
        card = self.tmp / 'q' / 'model-card.md'
        card.write_text('mine\n')
        err = self.cairn_error('init', 'q', '--data', iris, '--target', 'target',
                               mentions=['q/experiment-config.yaml', 'q/model-card.md',
                                         '--force'])
        self.assertIn('already exist', err)
        self.assertEqual(card.read_text(), 'mine\n')
        self.cairn('init', 'q', '--data', DATA / 'wine.csv', '--target', 'target', '--force')
        self.assertIn('## Intended use', card.read_text())
        self.assertIn('"wine"', (self.tmp / 'q' / 'experiment-config.yaml').read_text())

    def test_without_data_writes_a_template(self):
        out = self.cairn('init', 'blank', '--name', 'churn model').stdout
        self.assertIn('cairn data validate data.csv --expect expectations.yaml', out)
        proj = self.tmp / 'blank'
        for f in FILES[:-1]:
            self.assertTrue((proj / f).is_file(), f)
        self.assertFalse((proj / 'data.csv').exists())
        self.assertIn('name: "churn-model"', (proj / 'experiment-config.yaml').read_text())
        self.assertIn('Put your data in `data.csv`', (proj / 'README.md').read_text())
        # the expectations file is valid as written: a missing data file is the only problem
        self.write('blank/data.csv', 'x,target\n1,0\n2,1\n')
        self.run_in(proj, 'data', 'validate', 'data.csv', '--expect', 'expectations.yaml')


if __name__ == '__main__':
    harness.main()
