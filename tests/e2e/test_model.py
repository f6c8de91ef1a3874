# SPDX-License-Identifier: MIT
"""`cairn model`: register from a run (seeded through the public API) or a source, aliases,
rollback and history, the --json shapes of docs/cli/cairn-model.md, bad input and exit codes."""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402

SPEC = """
run cls name=r1
artifact model/model.cairn weights-1
finish FINISHED
run cls name=r2
artifact model/model.cairn weights-2
finish FINISHED
"""

VERSION_FIELDS = {'name', 'version', 'source', 'run_id', 'description', 'user_id', 'status',
                  'current_stage', 'semver', 'creation_timestamp', 'last_updated_timestamp',
                  'tags', 'aliases'}


class Model(harness.CairnTest):
    def setUp(self):
        super().setUp()
        self.runs = self.seed(SPEC)

    def register(self, *args):
        return self.cairn_json('model', 'register', '--json', *args)

    def test_register_from_run_and_show(self):
        v = self.register('--name', 'churn', '--run', self.runs[0][:8], '--semver', '1.0.0',
                          '--description', 'baseline', '--tag', 'data=v3')
        self.assertEqual(set(v), VERSION_FIELDS)
        self.assertEqual(v['version'], 1)
        self.assertEqual(v['run_id'], self.runs[0])
        self.assertEqual(v['source'], 'runs:/%s/model/model.cairn' % self.runs[0])
        self.assertEqual(v['semver'], '1.0.0')
        self.assertEqual(v['status'], 'READY')
        self.assertEqual(v['current_stage'], 'None')
        self.assertEqual(v['tags'], {'data': 'v3'})
        out = self.cairn('model', 'register', '--name', 'churn', '--run', self.runs[1]).stdout
        self.assertIn('registered churn version 2', out)
        src = self.register('--name', 'churn', '/srv/models/m3')
        self.assertEqual((src['version'], src['run_id'], src['semver']), (3, '', None))
        model = self.cairn_json('model', 'show', 'churn', '--json')
        self.assertEqual(model['latest_version'], 3)
        self.assertEqual([x['version'] for x in model['versions']], [3, 2, 1])
        one = self.cairn_json('model', 'show', 'churn', '--version', '1', '--json')
        self.assertEqual(one, v)
        human = self.cairn('model', 'show', 'churn').stdout
        self.assertIn('VERSION', human)
        self.assertIn('1.0.0', human)
        listed = self.cairn_json('model', 'list', '--json')['registered_models']
        self.assertEqual([m['name'] for m in listed], ['churn'])
        self.assertNotIn('versions', listed[0])
        self.assertTrue(self.cairn('model', 'list').stdout.startswith('NAME'))

    def test_alias_rollback_history(self):
        self.register('--name', 'churn', '--run', self.runs[0])
        self.register('--name', 'churn', '--run', self.runs[1])
        self.assertIn('churn@production -> version 1',
                      self.cairn('model', 'alias', 'churn', 'production', '1',
                                 '--reason', 'first').stdout)
        self.cairn('model', 'alias', 'churn', 'production', '2', '--reason', 'better auc')
        self.cairn('model', 'alias', 'churn', 'staging', '2')
        by_alias = self.cairn_json('model', 'show', 'churn', '--alias', 'production', '--json')
        self.assertEqual(by_alias['version'], 2)
        self.assertEqual(by_alias['aliases'], ['production', 'staging'])
        out = self.cairn('model', 'rollback', 'churn', 'production', '--reason', 'regression')
        self.assertIn('rolled back to version 1', out.stdout)
        self.assertEqual(
            self.cairn_json('model', 'show', 'churn', '--alias', 'production', '--json')['version'],
            1)
        events = self.cairn_json('model', 'history', 'churn', '--alias', 'production',
                                 '--json')['events']
        self.assertEqual([e['kind'] for e in events], ['rollback', 'alias_set', 'alias_set'])
        self.assertEqual([(e['from_version'], e['to_version']) for e in events],
                         [(2, 1), (1, 2), (None, 1)])
        self.assertEqual([e['reason'] for e in events], ['regression', 'better auc', 'first'])
        self.assertEqual(events[0]['user'], 'tester')
        self.assertEqual([e['seq'] for e in events], sorted((e['seq'] for e in events),
                                                             reverse=True))
        all_events = self.cairn_json('model', 'history', 'churn', '--json')['events']
        self.assertEqual(len(all_events), 4)
        table = self.cairn('model', 'history', 'churn').stdout
        self.assertTrue(table.startswith('WHEN'))
        self.assertIn('regression', table)

    def cairn(self, *args, **kwargs):
        env = dict(kwargs.pop('env', None) or {})
        env.setdefault('USER', 'tester')
        return super().cairn(*args, env=env, **kwargs)

    def test_errors(self):
        self.register('--name', 'm', '/srv/a', '--semver', '1.0.0')
        self.cairn_error('model', 'register', '--name', 'm', '/srv/b', '--semver', '1.0.0',
                         mentions=['1.0.0'])
        self.cairn_error('model', 'register', '--name', 'm', '/srv/b', '--semver', 'v1',
                         mentions=['semver'])
        self.cairn_error('model', 'register', '--name', 'm', '/srv/../etc', mentions=['..'])
        self.cairn_error('model', 'register', '--name', 'm', '--run', 'ffffffffff',
                         mentions=['ffffffffff'])
        self.cairn_error('model', 'alias', 'm', 'Prod', '1', mentions=['Prod'])
        self.cairn_error('model', 'alias', 'm', 'production', '7', mentions=['version 7'])
        self.cairn_error('model', 'alias', 'nope', 'production', '1', mentions=['nope'])
        self.cairn_error('model', 'rollback', 'm', 'production', mentions=['production'])
        self.cairn_error('model', 'show', 'nope', mentions=['nope'])
        self.cairn_error('model', 'history', 'nope', mentions=['nope'])
        self.cairn('model', 'register', '/srv/a', expect=2)
        self.cairn('model', 'register', '--name', 'm', expect=2)
        self.cairn('model', 'register', '--name', 'm', '--run', 'abc', '/srv/a', expect=2)
        self.cairn('model', 'alias', 'm', 'production', 'one', expect=2)
        self.cairn('model', 'show', 'm', '--version', '1', '--alias', 'x', expect=2)
        self.cairn('model', 'frobnicate', expect=2)


if __name__ == '__main__':
    harness.main()
