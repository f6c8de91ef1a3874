# SPDX-License-Identifier: MIT
"""`cairn exp` and `cairn runs`: every verb, the --json shapes of docs/cli/cairn-exp.md and
docs/cli/cairn-runs.md, bad input and exit codes. Runs are seeded through the public API by
cairn_seed_store ($CAIRN_SEED_STORE)."""
import csv
import hashlib
import io
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402

SPEC = """
exp cls team=vision
exp reg
run cls name=r1 start=1700000000000 user=ana
param lr 0.1
param opt adam
metric loss 0.9 0 1700000001000
metric loss 0.5 1 1700000002000
metric acc 0.7 1 1700000002000
tag stage dev
input train.csv abc123 training
artifact model/w.bin hello
artifact notes.txt "two words"
finish FINISHED 1700000060000
run cls name=r2 start=1700000100000
param lr 0.01
param opt adam
metric loss 0.3 0 1700000101000
metric acc nan 0 1700000101000
metric big inf 0 1700000101000
finish FAILED 1700000110000
run reg name=r3 start=1700000200000
param alpha 1
metric rmse 2.5 0 1700000201000
"""

RUN_FIELDS = {'run_id', 'experiment_id', 'run_name', 'user_id', 'status', 'start_time',
              'end_time', 'lifecycle_stage', 'artifact_uri', 'params', 'metrics', 'tags',
              'inputs'}
EXP_FIELDS = {'experiment_id', 'name', 'artifact_location', 'lifecycle_stage', 'creation_time',
              'last_update_time', 'tags'}


class Exp(harness.CairnTest):
    def test_create_prints_id_and_show_by_id_or_name(self):
        eid = self.cairn('exp', 'create', 'e1', '-t', 'team=vision', '--tag', 'k=v=w').stdout
        eid = eid.strip()
        self.assertRegex(eid, r'^[0-9]+$')
        by_name = self.cairn_json('exp', 'show', 'e1', '--json')
        by_id = self.cairn_json('exp', 'show', eid, '--json')
        self.assertEqual(by_name, by_id)
        self.assertEqual(set(by_name), EXP_FIELDS)
        self.assertEqual(by_name['experiment_id'], eid)
        self.assertEqual(by_name['name'], 'e1')
        self.assertEqual(by_name['lifecycle_stage'], 'active')
        self.assertEqual(by_name['tags'], {'team': 'vision', 'k': 'v=w'})
        self.assertIsInstance(by_name['creation_time'], int)
        self.assertGreater(by_name['creation_time'], 1600000000000)
        human = self.cairn('exp', 'show', 'e1').stdout
        self.assertIn('name:               e1', human)
        self.assertIn('team', human)
        self.assertIn('vision', human)

    def test_create_with_artifact_location(self):
        loc = str(self.tmp / 'elsewhere')
        self.cairn('exp', 'create', 'e2', '--artifact-location', loc)
        self.assertEqual(self.cairn_json('exp', 'show', 'e2', '--json')['artifact_location'], loc)

    def test_create_duplicate_name_fails_naming_it(self):
        self.cairn('exp', 'create', 'dup')
        self.cairn_error('exp', 'create', 'dup', mentions=['dup'])

    def test_list_table_and_json(self):
        self.cairn('exp', 'create', 'alpha')
        self.cairn('exp', 'create', 'beta')
        table = self.cairn('exp', 'list').stdout.splitlines()
        self.assertTrue(table[0].startswith('ID'))
        self.assertIn('NAME', table[0])
        names = [line.split()[1] for line in table[1:]]
        self.assertIn('alpha', names)
        self.assertIn('beta', names)
        got = self.cairn_json('exp', 'list', '--json')
        self.assertEqual(set(got), {'experiments'})
        by_name = {e['name']: e for e in got['experiments']}
        self.assertIn('alpha', by_name)
        self.assertEqual(set(by_name['alpha']), EXP_FIELDS)

    def test_rename(self):
        eid = self.cairn('exp', 'create', 'old').stdout.strip()
        out = self.cairn('exp', 'rename', 'old', 'new').stdout
        self.assertIn("'new'", out)
        self.assertEqual(self.cairn_json('exp', 'show', eid, '--json')['name'], 'new')
        self.cairn_error('exp', 'show', 'old', mentions=["'old'"])
        self.cairn('exp', 'rename', eid, 'newer')
        self.assertEqual(self.cairn_json('exp', 'show', 'newer', '--json')['experiment_id'], eid)

    def test_tag(self):
        self.cairn('exp', 'create', 't1')
        self.cairn('exp', 'tag', 't1', 'a=1', 'b=two words')
        self.cairn('exp', 'tag', 't1', 'a=3')
        self.assertEqual(self.cairn_json('exp', 'show', 't1', '--json')['tags'],
                         {'a': '3', 'b': 'two words'})
        self.cairn_error('exp', 'tag', 't1', 'novalue', expect=2, mentions=["'novalue'"])
        self.cairn_error('exp', 'tag', 't1', '=v', expect=2)
        self.cairn_error('exp', 'tag', 't1', expect=2)

    def test_tag_invalid_key_is_refused_naming_it(self):
        self.cairn('exp', 'create', 't2')
        self.cairn_error('exp', 'tag', 't2', 'bad\x01key=v', mentions=['key'])

    def test_delete_hides_experiment_and_its_runs_restore_brings_them_back(self):
        ids = self.seed(SPEC)
        self.cairn('exp', 'delete', 'cls')
        names = [e['name'] for e in self.cairn_json('exp', 'list', '--json')['experiments']]
        self.assertNotIn('cls', names)
        self.assertIn('reg', names)
        deleted = self.cairn_json('exp', 'list', '--deleted', '--json')['experiments']
        self.assertEqual([e['name'] for e in deleted], ['cls'])
        self.assertEqual(deleted[0]['lifecycle_stage'], 'deleted')
        every = [e['name'] for e in self.cairn_json('exp', 'list', '--all', '--json')['experiments']]
        self.assertIn('cls', every)
        self.assertIn('reg', every)
        self.assertEqual(self.cairn_json('exp', 'show', 'cls', '--json')['lifecycle_stage'],
                         'deleted')
        # its runs leave `runs list` and come back with --all, marked deleted
        active = [r['run_id'] for r in self.cairn_json('runs', 'list', '--json')['runs']]
        self.assertEqual(active, [ids[2]])
        everything = self.cairn_json('runs', 'list', '--all', '--json')['runs']
        self.assertEqual({r['run_id']: r['lifecycle_stage'] for r in everything},
                         {ids[0]: 'deleted', ids[1]: 'deleted', ids[2]: 'active'})
        self.assertIn('DELETED', self.cairn('runs', 'list', '--all').stdout)
        self.cairn('exp', 'restore', 'cls')
        active = [r['run_id'] for r in self.cairn_json('runs', 'list', '--json')['runs']]
        self.assertEqual(active, [ids[2], ids[1], ids[0]])
        self.assertIn('cls', [e['name'] for e in
                              self.cairn_json('exp', 'list', '--json')['experiments']])

    def test_search(self):
        self.cairn('exp', 'create', 'cls-a', '-t', 'team=vision')
        self.cairn('exp', 'create', 'cls-b', '-t', 'team=nlp')
        self.cairn('exp', 'create', 'other')
        got = self.cairn_json('exp', 'search', '--filter', "name LIKE 'cls-%'",
                              '--order-by', 'name DESC', '--json')
        self.assertEqual([e['name'] for e in got['experiments']], ['cls-b', 'cls-a'])
        got = self.cairn_json('exp', 'search', '--filter', "tags.team = 'vision'", '--json')
        self.assertEqual([e['name'] for e in got['experiments']], ['cls-a'])
        got = self.cairn_json('exp', 'search', '--order-by', 'name ASC', '--max', '2', '--json')
        self.assertEqual(len(got['experiments']), 2)
        table = self.cairn('exp', 'search', '--filter', "name = 'other'").stdout
        self.assertIn('other', table)
        self.assertNotIn('cls-a', table)

    def test_search_malformed_filter_quotes_token(self):
        self.cairn_error('exp', 'search', '--filter', "name ~~ 'x'", mentions=['~~'])

    def test_unknown_experiment_and_usage_errors(self):
        self.cairn_error('exp', 'show', 'nosuch', mentions=["'nosuch'"])
        self.cairn_error('exp', 'show', '4242', mentions=["'4242'"])
        self.cairn_error('exp', 'delete', 'nosuch', mentions=["'nosuch'"])
        self.cairn_error('exp', 'restore', 'nosuch', mentions=["'nosuch'"])
        self.cairn_error('exp', 'rename', 'nosuch', 'x', mentions=["'nosuch'"])
        self.cairn_error('exp', 'list', '--bogus', expect=2, mentions=['--bogus'])
        self.cairn_error('exp', 'show', expect=2)
        self.cairn_error('exp', 'rename', 'a', expect=2)
        self.cairn_error('exp', 'list', '--all', '--deleted', expect=2)
        self.cairn_error('exp', 'search', '--max', 'ten', expect=2, mentions=["'ten'"])
        self.cairn_error('exp', 'search', '--max', '0', expect=2)
        self.cairn_error('exp', 'rename', 'a', 'b', '--json', expect=2, mentions=['--json'])
        self.cairn_error('exp', 'frobnicate', expect=2, mentions=["'frobnicate'"])
        self.cairn('exp', expect=2)
        self.assertIn('usage: cairn exp create', self.cairn('exp', '--help').stdout)
        self.assertIn('usage: cairn exp list', self.cairn('exp', 'list', '--help').stdout)


class Runs(harness.CairnTest):
    def setUp(self):
        super().setUp()
        self.ids = self.seed(SPEC)
        self.assertEqual(len(self.ids), 3)
        self.r1, self.r2, self.r3 = self.ids

    def test_list_newest_first_json(self):
        got = self.cairn_json('runs', 'list', '--json')
        self.assertEqual(set(got), {'runs'})
        runs = got['runs']
        self.assertEqual([r['run_id'] for r in runs], [self.r3, self.r2, self.r1])
        for r in runs:
            self.assertEqual(set(r), RUN_FIELDS)
        r1 = runs[2]
        self.assertEqual(r1['run_name'], 'r1')
        self.assertEqual(r1['user_id'], 'ana')
        self.assertEqual(r1['status'], 'FINISHED')
        self.assertEqual(r1['start_time'], 1700000000000)
        self.assertEqual(r1['end_time'], 1700000060000)
        self.assertEqual(r1['lifecycle_stage'], 'active')
        self.assertEqual(r1['params'], {'lr': '0.1', 'opt': 'adam'})
        self.assertEqual(r1['metrics'], {'loss': 0.5, 'acc': 0.7})
        self.assertEqual(r1['tags'].get('stage'), 'dev')
        self.assertEqual(runs[1]['metrics']['acc'], 'NaN')
        self.assertEqual(runs[1]['metrics']['big'], 'Infinity')
        self.assertEqual(runs[0]['status'], 'RUNNING')
        self.assertIsNone(runs[0]['end_time'])

    def test_list_table(self):
        lines = self.cairn('runs', 'list').stdout.splitlines()
        header = lines[0].split()
        self.assertEqual(header[:2], ['RUN', 'ID'])
        for col in ('NAME', 'EXPERIMENT', 'STATUS', 'START', 'DURATION', 'loss', 'acc', 'lr',
                    'opt'):
            self.assertIn(col, header)
        self.assertEqual(len(lines), 4)
        self.assertTrue(lines[1].startswith(self.r3[:8] + ' '))
        self.assertNotIn(self.r3, lines[1])
        self.assertIn('reg', lines[1])
        self.assertIn('RUNNING', lines[1])
        self.assertIn('FAILED', lines[2])
        self.assertIn('1.0m', lines[3].replace('1m00s', '1.0m'))  # 60 s duration
        self.assertIn('0.5', lines[3])
        self.assertIn('NaN', lines[2])

    def test_list_picks_the_most_shared_keys_and_varying_params(self):
        spec = ''.join('run many name=m%d start=%d\nmetric common %d\nmetric only%d 1\n'
                       'param p%d x\nparam shared y\n' % (i, 1800000000000 + i, i, i, i, )
                       for i in range(6))
        self.seed(spec)
        header = self.cairn('runs', 'list', '--experiment', 'many').stdout.splitlines()[0]
        cols = header.split()
        self.assertIn('common', cols)
        self.assertNotIn('shared', cols)  # the same value on every run: not worth a column
        metric_cols = [c for c in cols if c.startswith('only') or c == 'common']
        param_cols = [c for c in cols if c.startswith('p')]
        self.assertEqual(len(metric_cols), 4)
        self.assertEqual(len(param_cols), 3)

    def test_list_clips_long_values_json_keeps_them(self):
        long_value = 'v' * 30 + '\u00e9' * 30
        self.seed('run wide name=%s start=1900000000000\nparam p %s\n' % ('n' * 40, long_value))
        line = self.cairn('runs', 'list', '--experiment', 'wide', '--columns',
                          'name,params.p').stdout.splitlines()[1]
        self.assertIn('v' * 23 + '\u2026', line)
        self.assertIn('n' * 23 + '\u2026', line)
        self.assertNotIn(long_value, line)
        got = self.cairn_json('runs', 'list', '--experiment', 'wide', '--json')['runs'][0]
        self.assertEqual(got['params']['p'], long_value)
        self.assertEqual(got['run_name'], 'n' * 40)

    def test_list_filters_by_experiment_and_max(self):
        got = self.cairn_json('runs', 'list', '--experiment', 'cls', '--json')['runs']
        self.assertEqual([r['run_id'] for r in got], [self.r2, self.r1])
        cls_id = got[0]['experiment_id']
        got = self.cairn_json('runs', 'list', '--experiment', cls_id, '--experiment', 'reg',
                              '--json')['runs']
        self.assertEqual(len(got), 3)
        got = self.cairn_json('runs', 'list', '--max', '1', '--json')['runs']
        self.assertEqual([r['run_id'] for r in got], [self.r3])
        self.cairn_error('runs', 'list', '--experiment', 'nosuch', mentions=["'nosuch'"])

    def test_show_json_by_prefix(self):
        got = self.cairn_json('runs', 'show', self.r1[:8], '--json')
        self.assertEqual(set(got), RUN_FIELDS | {'artifacts'})
        self.assertEqual(got['run_id'], self.r1)
        self.assertEqual(got['inputs'], [{
            'name': 'train.csv', 'digest': 'abc123', 'source_type': 'local',
            'source': '/data/train.csv', 'schema': None, 'profile': None,
            'context': 'training'}])
        self.assertEqual(got['artifacts'], [
            {'path': 'model/w.bin', 'file_size': 5,
             'sha256': hashlib.sha256(b'hello').hexdigest()},
            {'path': 'notes.txt', 'file_size': 9,
             'sha256': hashlib.sha256(b'two words').hexdigest()}])
        self.assertEqual(self.cairn_json('runs', 'show', self.r1[:6], '--json')['run_id'],
                         self.r1)

    def test_show_human(self):
        out = self.cairn('runs', 'show', self.r1).stdout
        self.assertIn('run_id:           ' + self.r1, out)
        self.assertIn('experiment:       cls', out)
        for section in ('params:', 'metrics:', 'tags:', 'inputs:', 'artifacts:'):
            self.assertIn('\n' + section + '\n', out)
        self.assertIn(hashlib.sha256(b'hello').hexdigest(), out)
        self.assertIn('model/w.bin', out)
        self.assertIn('train.csv', out)

    def test_unknown_run_and_short_prefix(self):
        self.cairn_error('runs', 'show', 'ffffffffffff', mentions=["'ffffffffffff'"])
        self.cairn_error('runs', 'show', self.r1[:3], mentions=["'%s'" % self.r1[:3], '6'])
        self.cairn_error('runs', 'show', "abc'%_def", mentions=["abc'%_def"])
        self.cairn_error('runs', 'delete', 'nosuchrun', mentions=["'nosuchrun'"])
        self.cairn_error('runs', 'history', 'nosuchrun', 'loss', mentions=["'nosuchrun'"])

    def test_search_filter_order_and_pages(self):
        got = self.cairn_json('runs', 'search', '--filter', 'metrics.loss < 0.4', '--json')
        self.assertEqual([r['run_id'] for r in got['runs']], [self.r2])
        self.assertIsNone(got['next_page_token'])
        got = self.cairn_json('runs', 'search', '--experiment', 'cls', '--order-by',
                              'metrics.loss ASC', '--json')
        self.assertEqual([r['run_id'] for r in got['runs']], [self.r2, self.r1])
        got = self.cairn_json('runs', 'search', '--filter', "params.opt = 'adam' OR "
                              "params.alpha = '1'", '--json')
        self.assertEqual(len(got['runs']), 3)
        first = self.cairn('runs', 'search', '--max', '2', '--json')
        page = harness.json.loads(first.stdout)
        self.assertEqual([r['run_id'] for r in page['runs']], [self.r3, self.r2])
        token = page['next_page_token']
        self.assertTrue(token)
        self.assertIn('next page token: ' + token, first.stderr)
        rest = self.cairn_json('runs', 'search', '--max', '2', '--page-token', token, '--json')
        self.assertEqual([r['run_id'] for r in rest['runs']], [self.r1])
        table = self.cairn('runs', 'search', '--filter', "params.lr = '0.01'").stdout
        self.assertIn(self.r2[:8], table)
        self.assertNotIn(self.r1[:8], table)

    def test_search_malformed_filter_quotes_token(self):
        self.cairn_error('runs', 'search', '--filter', 'metrics.loss <> 0.4 AND', mentions=[])
        err = self.cairn_error('runs', 'search', '--filter', "params.lr === '1'")
        self.assertIn('=', err)
        self.cairn_error('runs', 'search', '--filter', 'metrics.loss ~~ 1', mentions=['~~'])

    def test_compare(self):
        out = self.cairn('runs', 'compare', self.r1, self.r2[:10]).stdout.splitlines()
        self.assertIn(self.r1[:8], out[0])
        self.assertIn(self.r2[:8], out[0])
        rows = {line.split()[1] if line.startswith('*') else line.split()[0]: line
                for line in out[1:]}
        self.assertTrue(rows['params.lr'].startswith('*'))
        self.assertFalse(rows['params.opt'].startswith('*'))
        self.assertIn('0.1', rows['params.lr'])
        self.assertIn('0.01', rows['params.lr'])
        self.assertIn('metrics.loss', rows)
        self.assertIn('-', rows['metrics.big'])  # r1 has no 'big'
        got = self.cairn_json('runs', 'compare', self.r1, self.r2, self.r3, '--json')
        self.assertEqual([r['run_id'] for r in got['runs']], [self.r1, self.r2, self.r3])
        self.assertEqual(got['differing_params'], ['alpha', 'lr', 'opt'])
        got = self.cairn_json('runs', 'compare', self.r1, self.r2, '--json')
        self.assertEqual(got['differing_params'], ['lr'])
        self.cairn_error('runs', 'compare', self.r1, expect=2)

    def test_delete_and_restore(self):
        out = self.cairn('runs', 'delete', self.r1[:8], self.r2).stdout
        self.assertIn('deleted run ' + self.r1, out)
        self.assertIn('deleted run ' + self.r2, out)
        active = [r['run_id'] for r in self.cairn_json('runs', 'list', '--json')['runs']]
        self.assertEqual(active, [self.r3])
        gone = [r['run_id'] for r in self.cairn_json('runs', 'list', '--deleted', '--json')['runs']]
        self.assertEqual(gone, [self.r2, self.r1])
        self.assertEqual(self.cairn_json('runs', 'show', self.r1, '--json')['lifecycle_stage'],
                         'deleted')
        self.cairn('runs', 'restore', self.r1[:7])
        active = [r['run_id'] for r in self.cairn_json('runs', 'list', '--json')['runs']]
        self.assertEqual(active, [self.r3, self.r1])

    def test_export_json_has_full_histories(self):
        got = self.cairn_json('runs', 'export', self.r1, self.r2)
        self.assertEqual([r['run_id'] for r in got['runs']], [self.r1, self.r2])
        r1 = got['runs'][0]
        self.assertEqual(set(r1), RUN_FIELDS | {'artifacts', 'metric_history'})
        self.assertEqual(r1['metric_history']['loss'], [
            {'value': 0.9, 'timestamp': 1700000001000, 'step': 0},
            {'value': 0.5, 'timestamp': 1700000002000, 'step': 1}])
        self.assertEqual(got['runs'][1]['metric_history']['acc'][0]['value'], 'NaN')
        self.assertEqual(len(r1['artifacts']), 2)
        out = self.tmp / 'runs.json'
        self.cairn('runs', 'export', self.r1[:8], '--format', 'json', '-o', out)
        self.assertEqual(harness.json.loads(out.read_text())['runs'][0]['run_id'], self.r1)

    def test_export_csv(self):
        out = self.tmp / 'runs.csv'
        self.assertEqual(self.cairn('runs', 'export', self.r1, self.r2, '--format', 'csv',
                                    '--output', out).stdout, '')
        with open(out, newline='') as f:
            raw = f.read()
        self.assertIn('\r\n', raw)
        rows = list(csv.DictReader(io.StringIO(raw, newline='')))
        self.assertEqual([r['run_id'] for r in rows], [self.r1, self.r2])
        self.assertEqual(rows[0]['params.lr'], '0.1')
        self.assertEqual(rows[1]['params.lr'], '0.01')
        self.assertEqual(float(rows[0]['metrics.loss']), 0.5)
        self.assertEqual(rows[0]['metrics.big'], '')
        self.assertEqual(rows[1]['metrics.big'], 'Infinity')
        self.assertEqual(rows[0]['tags.stage'], 'dev')
        self.assertEqual(rows[0]['status'], 'FINISHED')
        self.assertEqual(rows[0]['end_time'], '1700000060000')
        text = self.cairn('runs', 'export', self.r3, '--format', 'csv').stdout
        header = next(csv.reader(io.StringIO(text)))
        self.assertEqual(header[:3], ['run_id', 'experiment_id', 'run_name'])
        self.assertIn('metrics.rmse', header)

    def test_export_errors(self):
        self.cairn_error('runs', 'export', self.r1, '--format', 'xml', expect=2, mentions=['xml'])
        self.cairn_error('runs', 'export', expect=2)
        self.cairn_error('runs', 'export', self.r1, '-o', self.tmp / 'no' / 'dir' / 'x.json',
                         mentions=['x.json'])

    def test_history(self):
        lines = self.cairn('runs', 'history', self.r1[:8], 'loss').stdout.splitlines()
        self.assertEqual(lines[0].split(), ['STEP', 'VALUE', 'TIME'])
        self.assertEqual([l.split()[:2] for l in lines[1:]], [['0', '0.9'], ['1', '0.5']])
        got = self.cairn_json('runs', 'history', self.r1, 'loss', '--json')
        self.assertEqual(got, {'run_id': self.r1, 'key': 'loss', 'metrics': [
            {'value': 0.9, 'timestamp': 1700000001000, 'step': 0},
            {'value': 0.5, 'timestamp': 1700000002000, 'step': 1}]})
        self.cairn_error('runs', 'history', self.r1, 'nosuchkey', mentions=["'nosuchkey'", 'loss'])

    def test_usage_errors(self):
        self.cairn_error('runs', 'list', '--bogus', expect=2, mentions=['--bogus'])
        self.cairn_error('runs', 'list', '--filter', 'x', expect=2, mentions=['--filter'])
        self.cairn_error('runs', 'list', '--max', 'abc', expect=2, mentions=["'abc'"])
        self.cairn_error('runs', 'list', '--experiment', expect=2, mentions=['--experiment'])
        self.cairn_error('runs', 'show', expect=2)
        self.cairn_error('runs', 'show', self.r1, self.r2, expect=2)
        self.cairn_error('runs', 'history', self.r1, expect=2)
        self.cairn_error('runs', 'delete', '-x', self.r1, expect=2)
        self.cairn_error('runs', 'nope', expect=2, mentions=["'nope'"])
        self.assertIn('usage: cairn runs list', self.cairn('runs', '--help').stdout)
        show_help = self.cairn('runs', 'show', '--help').stdout
        self.assertTrue(show_help.startswith('usage: cairn runs show RUN_ID [--json]\n\n'),
                        show_help)
        self.assertIn('\nexamples:\n  cairn runs show ', show_help)


if __name__ == '__main__':
    harness.main()
