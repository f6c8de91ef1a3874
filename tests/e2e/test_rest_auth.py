# SPDX-License-Identifier: MIT
"""`cairn server --auth`: 401 without or with wrong credentials (Basic and Bearer), 403 when a
user lacks the permission a route needs, creators get MANAGE, grants made with `cairn auth`
take effect, admins pass every check, and searches leave out what a user may not read.
Runs on SQLite and (pg/) on PostgreSQL."""
import base64
import pathlib
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402
import restlib  # noqa: E402


def basic(user, password):
    return {'Authorization': 'Basic ' + base64.b64encode(
        ('%s:%s' % (user, password)).encode()).decode()}


class Auth(restlib.RestCase):
    SERVER_ARGS = ('--auth', '--default-permission', 'NO_PERMISSIONS')

    @classmethod
    def cli(cls, *args, input=None):
        proc = subprocess.run([harness.CAIRN_BIN, '--store', cls.store, *args], input=input,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
        return proc.stdout

    @classmethod
    def start_server(cls, *extra):
        # Users exist before the server starts (and the store is created by the first call).
        cls.cli('auth', 'user', 'add', 'alice', '--password-stdin', input='alice-secret\n')
        cls.cli('auth', 'user', 'add', 'bob', '--password-stdin', input='bob-secret1\n')
        cls.cli('auth', 'user', 'add', 'admin', '--admin', '--password-stdin',
                input='admin-secret\n')
        cls.bob_token = cls.cli('auth', 'token', 'create', 'bob', '--name', 'ci').split()[-1]
        return super().start_server(*extra)

    def as_(self, who):
        return {'alice': basic('alice', 'alice-secret'),
                'admin': basic('admin', 'admin-secret'),
                'bob': {'Authorization': 'Bearer ' + self.bob_token}}[who]

    def req(self, who, method, route, body=None, query=None, status=200):
        r = self.c.request(method, '/api/2.0/' + route, body=body, query=query,
                           headers=self.as_(who) if who else None)
        self.assertEqual(r.status, status, '%s %s as %s -> %d %s' % (
            method, route, who, r.status, r.body[:300]))
        return r.json

    def test_credentials(self):
        r = self.c.request('GET', '/api/2.0/mlflow/experiments/get', query={'experiment_id': '0'})
        self.assertEqual(r.status, 401)
        self.assertEqual(r.json['error_code'], 'UNAUTHENTICATED')
        self.assertIn('Basic', r.header('www-authenticate'))
        for headers in (basic('alice', 'wrong-password'), basic('nobody', 'whatever12'),
                        {'Authorization': 'Bearer cairn_not-a-real-token'},
                        {'Authorization': 'Basic !!!not-base64'}, {'Authorization': 'Digest x'}):
            r = self.c.request('POST', '/api/2.0/mlflow/experiments/create',
                               body={'name': 'never'}, headers=headers)
            self.assertEqual(r.status, 401, headers)
        # /health needs nothing; nothing was created by the refused calls.
        self.assertEqual(self.c.request('GET', '/health').status, 200)
        self.req('admin', 'GET', 'mlflow/experiments/get-by-name',
                 query={'experiment_name': 'never'}, status=404)

    def test_permissions_follow_grants(self):
        exp = self.req('alice', 'POST', 'mlflow/experiments/create',
                       {'name': 'alice-exp'})['experiment_id']
        run = self.req('alice', 'POST', 'mlflow/runs/create',
                       {'experiment_id': exp})['run']['info']['run_id']
        self.req('alice', 'POST', 'mlflow/runs/log-metric',
                 {'run_id': run, 'key': 'm', 'value': 1, 'timestamp': 1})
        # bob has no permission on alice's experiment: 403 on reads and writes, nothing leaks.
        doc = self.req('bob', 'GET', 'mlflow/runs/get', query={'run_id': run}, status=403)
        self.assertEqual(doc['error_code'], 'PERMISSION_DENIED')
        self.assertNotIn('"m"', str(doc))
        self.req('bob', 'GET', 'mlflow/experiments/get', query={'experiment_id': exp},
                 status=403)
        self.req('bob', 'POST', 'mlflow/runs/log-metric',
                 {'run_id': run, 'key': 'm', 'value': 2, 'timestamp': 2}, status=403)
        self.req('bob', 'GET', 'mlflow/metrics/get-history-bulk-interval',
                 query={'run_ids': [run], 'metric_key': 'm'}, status=403)
        self.req('bob', 'GET', 'mlflow-artifacts/artifacts', query={'path': exp}, status=403)
        r = self.c.request('PUT', '/api/2.0/mlflow-artifacts/artifacts/%s/x.txt' % exp,
                           raw=b'x', headers=self.as_('bob'), content_type='text/plain')
        self.assertEqual(r.status, 403)
        self.assertFalse((self.art / exp / 'x.txt').exists())
        # Searches leave alice's experiment and runs out for bob.
        doc = self.req('bob', 'POST', 'mlflow/experiments/search', {'max_results': 100})
        self.assertNotIn(exp, [e['experiment_id'] for e in doc.get('experiments', [])])
        # Nothing readable (not even Default, with NO_PERMISSIONS): no empty list, as MLflow.
        self.assertNotIn('experiments', doc)
        doc = self.req('bob', 'POST', 'mlflow/runs/search', {'experiment_ids': [exp]})
        self.assertEqual(doc.get('runs', []), [])
        # READ granted: reads pass, writes still refused.
        self.cli('auth', 'grant', 'experiment', exp, 'bob', 'READ')
        self.req('bob', 'GET', 'mlflow/runs/get', query={'run_id': run})
        doc = self.req('bob', 'POST', 'mlflow/runs/search', {'experiment_ids': [exp]})
        self.assertEqual([r['info']['run_id'] for r in doc['runs']], [run])
        self.req('bob', 'POST', 'mlflow/runs/set-tag', {'run_id': run, 'key': 'k', 'value': 'v'},
                 status=403)
        # EDIT: writes pass; deleting still needs MANAGE.
        self.cli('auth', 'grant', 'experiment', exp, 'bob', 'EDIT')
        self.req('bob', 'POST', 'mlflow/runs/set-tag', {'run_id': run, 'key': 'k', 'value': 'v'})
        self.req('bob', 'POST', 'mlflow/runs/delete', {'run_id': run}, status=403)
        self.req('bob', 'POST', 'mlflow/experiments/delete', {'experiment_id': exp}, status=403)
        # The creator manages; the admin passes every check.
        self.req('alice', 'POST', 'mlflow/runs/delete', {'run_id': run})
        self.req('admin', 'POST', 'mlflow/runs/restore', {'run_id': run})

    def test_registry_permissions(self):
        self.req('alice', 'POST', 'mlflow/registered-models/create', {'name': 'secret-model'})
        self.req('bob', 'GET', 'mlflow/registered-models/get', query={'name': 'secret-model'},
                 status=403)
        doc = self.req('bob', 'GET', 'mlflow/registered-models/search',
                       query={'filter': "name LIKE 'secret%'"})
        self.assertEqual(doc.get('registered_models', []), [])
        self.req('bob', 'POST', 'mlflow/registered-models/set-tag',
                 {'name': 'secret-model', 'key': 'k', 'value': 'v'}, status=403)
        self.cli('auth', 'grant', 'model', 'secret-model', 'bob', 'READ')
        doc = self.req('bob', 'GET', 'mlflow/registered-models/search',
                       query={'filter': "name LIKE 'secret%'"})
        self.assertEqual([m['name'] for m in doc['registered_models']], ['secret-model'])
        # Deleting needs MANAGE: the creator has it.
        self.c.request('DELETE', '/api/2.0/mlflow/registered-models/delete',
                       body={'name': 'secret-model'}, headers=self.as_('bob'))
        self.req('bob', 'GET', 'mlflow/registered-models/get', query={'name': 'secret-model'})
        r = self.c.request('DELETE', '/api/2.0/mlflow/registered-models/delete',
                           body={'name': 'secret-model'}, headers=self.as_('alice'))
        self.assertEqual(r.status, 200, r.body)
        # A new model of the same name does not inherit bob's old grant.
        self.req('admin', 'POST', 'mlflow/registered-models/create', {'name': 'secret-model'})
        self.req('bob', 'GET', 'mlflow/registered-models/get', query={'name': 'secret-model'},
                 status=403)


if __name__ == '__main__':
    harness.main()
