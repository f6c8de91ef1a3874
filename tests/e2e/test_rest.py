# SPDX-License-Identifier: MIT
"""`cairn server` end to end over HTTP: every route of src/server/tracking/routes_tracking.c and
routes_registry.c under /api/2.0/ and /ajax-api/2.0/, with MLflow's wire conventions (the spec:
docs/rest.md): NaN and infinities as strings, int64 as numbers, empty fields omitted, unknown
fields ignored, the error JSON and its status table, search, paging, sampled history, the
mlflow-artifacts proxy, the registry and cairn's own registry routes."""
import json
import math
import pathlib
import re
import sys
import time
import uuid

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402
import restlib  # noqa: E402

ROUTE_FILES = ('src/server/tracking/routes_tracking.c', 'src/server/tracking/routes_registry.c')
METHODS = {'TRK_GET': 'GET', 'TRK_POST': 'POST', 'TRK_PATCH': 'PATCH', 'TRK_DELETE': 'DELETE',
           'TRK_PUT': 'PUT'}


def route_table():
    """[(path, {methods})] read from the route tables in the C sources."""
    routes = []
    for rel in ROUTE_FILES:
        text = (harness.SOURCE_DIR / rel).read_text()
        for path, bits in re.findall(r'\{"((?:mlflow|cairn)/[a-z0-9/_-]+)",\s*'
                                     r'((?:TRK_[A-Z]+\s*\|?\s*)+),', text):
            routes.append((path, {METHODS[b.strip()] for b in bits.split('|')}))
    return routes


def now_ms():
    return int(time.time() * 1000)


def uid(prefix):
    return prefix + uuid.uuid4().hex[:10]


class Conventions(restlib.RestCase):
    """The wire rules of every route, and the route table itself."""

    def test_every_route_under_both_prefixes(self):
        routes = route_table()
        self.assertGreaterEqual(len(routes), 45, routes)
        for prefix in ('/api/2.0/', '/ajax-api/2.0/'):
            for path, methods in routes:
                for m in sorted(methods):
                    body = None if m == 'GET' else {}
                    r = self.c.request(m, prefix + path, body=body)
                    self.assertTrue(r.header('content-type').startswith('application/json'),
                                    (m, prefix + path))
                    doc = r.json
                    self.assertIsInstance(doc, dict)
                    # An empty request is a 400 (a missing parameter) or a 200 (a search, a
                    # listing), never "no such endpoint" and never a server error.
                    self.assertIn(r.status, (200, 400), (m, prefix + path, doc))
                    if r.status != 200:
                        self.assert_error_shape(doc, 'INVALID_PARAMETER_VALUE')
                wrong = next(x for x in ('PATCH', 'DELETE', 'POST', 'GET') if x not in methods)
                r = self.c.request(wrong, prefix + path, body=None if wrong == 'GET' else {})
                self.assertEqual(r.status, 405, (wrong, prefix + path, r.body))
                self.assert_error_shape(r.json)

    def test_health_version_and_unknown_paths(self):
        r = self.c.request('GET', '/health')
        self.assertEqual((r.status, r.body), (200, b'OK'))
        r = self.c.request('GET', '/version')
        self.assertEqual(r.status, 200)
        version = harness.subprocess.run([harness.CAIRN_BIN, '--version'], capture_output=True,
                                         text=True).stdout
        self.assertTrue(r.body.decode().strip())
        self.assertIn(r.body.decode().strip(), version)
        for path in ('/api/2.0/mlflow/nope', '/ajax-api/2.0/mlflow/runs/nope', '/api/2.0/',
                     '/api/2.0/mlflow/runs/create/extra', '/api/9.9/mlflow/runs/get'):
            self.fail_with(404, 'ENDPOINT_NOT_FOUND', 'GET', '', prefix=path)
        # A wrong method: 405 as JSON (MLflow answers Flask's HTML page).
        self.fail_with(405, None, 'GET', 'mlflow/runs/create')
        self.fail_with(405, None, 'POST', 'mlflow/runs/get')
        self.fail_with(405, None, 'POST', 'mlflow/registered-models/delete')

    def test_keep_alive(self):
        c = restlib.Client(self.server.port)
        try:
            for _ in range(20):
                r = c.request('GET', '/api/2.0/mlflow/experiments/get',
                              query={'experiment_id': '0'})
                self.assertEqual(r.status, 200)
                r = c.request('GET', '/api/2.0/mlflow/experiments/get',
                              query={'experiment_id': 'nope'})
                self.assertEqual(r.status, 404)
                r = c.request('POST', '/api/2.0/mlflow/experiments/search', body={'x': 1})
                self.assertEqual(r.status, 200)
            self.assertEqual(c.connects, 1)
        finally:
            c.close()

    def test_error_status_table(self):
        exp = self.new_experiment(name=uid('dup-'))
        name = self.get('mlflow/experiments/get', experiment_id=exp)['experiment']['name']
        self.fail_with(400, 'RESOURCE_ALREADY_EXISTS', 'POST', 'mlflow/experiments/create',
                       {'name': name})
        self.fail_with(404, 'RESOURCE_DOES_NOT_EXIST', 'GET', 'mlflow/runs/get',
                       query={'run_id': 'f' * 32})
        self.fail_with(404, 'RESOURCE_DOES_NOT_EXIST', 'GET', 'mlflow/experiments/get',
                       query={'experiment_id': 'abc'})
        self.fail_with(404, 'RESOURCE_DOES_NOT_EXIST', 'GET', 'mlflow/experiments/get-by-name',
                       query={'experiment_name': uid('none-')})
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'POST', 'mlflow/experiments/create', {},
                       mentions=["'name'"])
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'POST', 'mlflow/experiments/create',
                       {'name': 5}, mentions=["'name'"])
        run = self.new_run(exp)['info']['run_id']
        # A wrong type in a validated field: key: 5.
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'POST', 'mlflow/runs/log-metric',
                       {'run_id': run, 'key': 5, 'value': 1, 'timestamp': 1},
                       mentions=["'key'"])
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'POST', 'mlflow/runs/log-parameter',
                       {'run_id': run, 'key': 'p', 'value': {'x': 1}})
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'POST', 'mlflow/runs/log-metric',
                       {'run_id': run, 'key': 'm', 'value': [1], 'timestamp': 1})
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'POST', 'mlflow/runs/log-metric',
                       {'run_id': run, 'key': 'm', 'value': 'one', 'timestamp': 1})
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'POST', 'mlflow/runs/log-metric',
                       {'run_id': run, 'key': 'm', 'value': 1}, mentions=['timestamp'])
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'POST', 'mlflow/runs/log-metric',
                       {'run_id': run, 'key': 'm', 'value': 1, 'timestamp': '12x'})
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'POST', 'mlflow/runs/log-metric',
                       {'run_id': run, 'key': 'm', 'value': 1, 'timestamp': -5})
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'POST', 'mlflow/runs/log-metric',
                       {'run_id': run, 'key': '../evil', 'value': 1, 'timestamp': 1})
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'POST', 'mlflow/runs/search',
                       {'experiment_ids': [exp], 'max_results': 0})
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'POST', 'mlflow/runs/search',
                       {'experiment_ids': [exp], 'max_results': 50001})
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'POST', 'mlflow/runs/search',
                       {'experiment_ids': exp, 'run_view_type': 'SOME'})
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'POST', 'mlflow/runs/search',
                       {'experiment_ids': [exp], 'page_token': '@@not-a-token@@'})
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'POST', 'mlflow/runs/search',
                       {'experiment_ids': [exp], 'filter': 'params.p > 1'})
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'POST', 'mlflow/runs/search',
                       {'experiment_ids': [exp], 'experiment_ids_extra': 1, 'filter': 5})
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'POST', 'mlflow/runs/search',
                       {'experiment_ids': [exp, 7]})

    def test_int64_and_unknown_fields(self):
        exp = self.new_experiment()
        run = self.post('mlflow/runs/create', {'experiment_id': exp,
                                               'start_time': '1795663891048',
                                               'bogus': 1, 'nested': {'a': [1, 2]}})['run']
        self.assertEqual(run['info']['start_time'], 1795663891048)
        rid = run['info']['run_id']
        self.assertEqual(run['info']['run_uuid'], rid)
        self.assertEqual(len(rid), 32)
        self.assertEqual(run['info']['status'], 'RUNNING')
        self.assertNotIn('end_time', run['info'])
        self.post('mlflow/runs/log-metric', {'run_id': rid, 'key': 'm', 'value': '1.5',
                                             'timestamp': '1795663891049', 'step': '-3',
                                             'unknown': [None]})
        self.post('mlflow/runs/log-metric', {'run_id': rid, 'key': 'm', 'value': 2,
                                             'timestamp': 1795663891050.0, 'step': 4})
        h = self.get('mlflow/metrics/get-history', run_id=rid, metric_key='m')['metrics']
        self.assertEqual(h, [{'key': 'm', 'value': 1.5, 'timestamp': 1795663891049, 'step': -3},
                             {'key': 'm', 'value': 2, 'timestamp': 1795663891050, 'step': 4}])
        for p in h:
            self.assertIsInstance(p['timestamp'], int)
            self.assertIsInstance(p['step'], int)
        info = self.post('mlflow/runs/update', {'run_uuid': rid, 'status': 'FINISHED',
                                                'end_time': '1795663899000'})['run_info']
        self.assertEqual((info['status'], info['end_time']), ('FINISHED', 1795663899000))
        # GET parameters come as query strings: run_uuid alone works too.
        got = self.get('mlflow/runs/get', run_uuid=rid)['run']
        self.assertEqual(got['info']['end_time'], 1795663899000)
        # An unknown status name is refused (MLflow 2.12 ignored it silently).
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'POST', 'mlflow/runs/update',
                       {'run_id': rid, 'status': 'DONE'}, mentions=['DONE'])

    def test_nan_and_infinities_are_strings(self):
        exp = self.new_experiment()
        rid = self.new_run(exp)['info']['run_id']
        ts = now_ms()
        for step, value in enumerate(('NaN', 'Infinity', '-Infinity', 0.25)):
            self.post('mlflow/runs/log-metric', {'run_id': rid, 'run_uuid': rid, 'key': 'x',
                                                 'value': value, 'timestamp': ts,
                                                 'step': step})
        self.post('mlflow/runs/log-batch', {'run_id': rid, 'metrics': [
            {'key': 'nan', 'value': 'NaN', 'timestamp': ts},
            {'key': 'inf', 'value': 'Infinity', 'timestamp': ts, 'step': 0}]})
        r = self.c.request('GET', '/api/2.0/mlflow/metrics/get-history',
                           query={'run_id': rid, 'metric_key': 'x'})
        self.assertEqual(r.status, 200)
        text = r.body.decode()
        self.assertNotRegex(text, r'\bNaN\b(?!")')  # never a bare NaN token
        self.assertIn('"NaN"', text)
        values = [p['value'] for p in r.json['metrics']]
        self.assertEqual(values, ['NaN', 'Infinity', '-Infinity', 0.25])
        data = self.get('mlflow/runs/get', run_id=rid)['run']['data']
        latest = {m['key']: m['value'] for m in data['metrics']}
        self.assertEqual(latest, {'x': 0.25, 'nan': 'NaN', 'inf': 'Infinity'})
        # Searching compares real numbers only: a NaN metric matches no comparison.
        found = self.post('mlflow/runs/search', {'experiment_ids': [exp],
                                                 'filter': 'metrics.nan >= 0'})
        self.assertEqual(found, {})
        found = self.post('mlflow/runs/search', {'experiment_ids': [exp],
                                                 'filter': 'metrics.inf > 1e300'})
        self.assertEqual([x['info']['run_id'] for x in found['runs']], [rid])

    def test_empty_fields_omitted(self):
        exp = self.new_experiment()
        e = self.get('mlflow/experiments/get', experiment_id=exp)['experiment']
        self.assertNotIn('tags', e)
        self.assertEqual(set(e), {'experiment_id', 'name', 'artifact_location',
                                  'lifecycle_stage', 'last_update_time', 'creation_time'})
        self.assertEqual(e['artifact_location'], 'mlflow-artifacts:/%s' % exp)
        self.assertIsInstance(e['creation_time'], int)
        run = self.new_run(exp, run_name='plain')
        self.assertNotIn('end_time', run['info'])
        self.assertNotIn('metrics', run['data'])
        self.assertNotIn('params', run['data'])
        self.assertEqual(run['inputs'], {})
        self.assertEqual(run['info']['run_name'], 'plain')
        self.assertEqual(run['info']['artifact_uri'],
                         'mlflow-artifacts:/%s/%s/artifacts' % (exp, run['info']['run_id']))
        self.assertEqual(self.post('mlflow/runs/search', {'experiment_ids': [exp],
                                                          'filter': "params.none = 'x'"}), {})
        self.assertEqual(self.post('mlflow/runs/search', {}), {})
        self.assertEqual(self.post('mlflow/experiments/search',
                                   {'filter': "name = '%s'" % uid('no-')}), {})
        self.assertEqual(self.post('mlflow/runs/set-tag', {'run_id': run['info']['run_id'],
                                                           'key': 't', 'value': 'v'}), {})


class Tracking(restlib.RestCase):
    PREFIX = '/ajax-api/2.0/'  # the UI's prefix; Conventions and Registry use /api/2.0/

    def test_experiment_lifecycle(self):
        name = uid('exp-')
        exp = self.post('mlflow/experiments/create',
                        {'name': name, 'tags': [{'key': 'team', 'value': 'vision'}]})
        exp = exp['experiment_id']
        self.assertIsInstance(exp, str)
        e = self.get('mlflow/experiments/get-by-name', experiment_name=name)['experiment']
        self.assertEqual(e['experiment_id'], exp)
        self.assertEqual(e['tags'], [{'key': 'team', 'value': 'vision'}])
        self.assertEqual(e['lifecycle_stage'], 'active')
        self.post('mlflow/experiments/set-experiment-tag',
                  {'experiment_id': exp, 'key': 'note', 'value': 'a b'})
        self.post('mlflow/experiments/set-experiment-tag',
                  {'experiment_id': exp, 'key': 'note', 'value': 'c'})
        tags = self.get('mlflow/experiments/get', experiment_id=exp)['experiment']['tags']
        self.assertEqual(sorted((t['key'], t['value']) for t in tags),
                         [('note', 'c'), ('team', 'vision')])
        self.post('mlflow/experiments/delete-experiment-tag', {'experiment_id': exp,
                                                               'key': 'note'})
        self.post('mlflow/experiments/delete-experiment-tag', {'experiment_id': exp,
                                                               'key': 'team'})
        self.assertNotIn('tags', self.get('mlflow/experiments/get',
                                          experiment_id=exp)['experiment'])
        new = uid('renamed-')
        self.post('mlflow/experiments/update', {'experiment_id': exp, 'new_name': new})
        self.assertEqual(self.get('mlflow/experiments/get-by-name',
                                  experiment_name=new)['experiment']['experiment_id'], exp)
        self.fail_with(404, 'RESOURCE_DOES_NOT_EXIST', 'GET', 'mlflow/experiments/get-by-name',
                       query={'experiment_name': name})
        # Deleting cascades to its runs; restoring brings them back.
        runs = [self.new_run(exp)['info']['run_id'] for _ in range(3)]
        before = self.get('mlflow/experiments/get', experiment_id=exp)['experiment']
        time.sleep(0.01)
        self.post('mlflow/experiments/delete', {'experiment_id': exp})
        e = self.get('mlflow/experiments/get', experiment_id=exp)['experiment']
        self.assertEqual(e['lifecycle_stage'], 'deleted')
        self.assertGreater(e['last_update_time'], before['last_update_time'])
        for rid in runs:
            info = self.get('mlflow/runs/get', run_id=rid)['run']['info']
            self.assertEqual(info['lifecycle_stage'], 'deleted')
        self.assertEqual(self.post('mlflow/runs/search', {'experiment_ids': [exp]}), {})
        deleted = self.post('mlflow/runs/search', {'experiment_ids': [exp],
                                                   'run_view_type': 'DELETED_ONLY'})
        self.assertEqual(sorted(r['info']['run_id'] for r in deleted['runs']), sorted(runs))
        # A deleted experiment's name is still taken; no run may start in it.
        self.fail_with(400, 'RESOURCE_ALREADY_EXISTS', 'POST', 'mlflow/experiments/create',
                       {'name': new})
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'POST', 'mlflow/runs/create',
                       {'experiment_id': exp})
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'POST', 'mlflow/runs/log-parameter',
                       {'run_id': runs[0], 'key': 'p', 'value': '1'})
        listed = self.post('mlflow/experiments/search', {'view_type': 'DELETED_ONLY'})
        self.assertIn(exp, [x['experiment_id'] for x in listed['experiments']])
        self.post('mlflow/experiments/restore', {'experiment_id': exp})
        self.assertEqual(self.get('mlflow/experiments/get', experiment_id=exp)
                         ['experiment']['lifecycle_stage'], 'active')
        self.assertEqual(len(self.post('mlflow/runs/search',
                                       {'experiment_ids': [exp]})['runs']), 3)
        self.fail_with(404, 'RESOURCE_DOES_NOT_EXIST', 'POST', 'mlflow/experiments/delete',
                       {'experiment_id': '987654'})
        self.fail_with(404, 'RESOURCE_DOES_NOT_EXIST', 'POST', 'mlflow/runs/create',
                       {'experiment_id': '987654'})

    def test_experiment_search_and_paging(self):
        tag = uid('t')
        names = [uid('srch-%d-' % i) for i in range(5)]
        ids = [self.new_experiment(n, tags=[{'key': 'suite', 'value': tag}]) for n in names]
        flt = "tags.suite = '%s'" % tag
        seen, token, pages = [], None, 0
        while True:
            body = {'filter': flt, 'max_results': 2, 'order_by': ['name DESC']}
            if token:
                body['page_token'] = token
            page = self.post('mlflow/experiments/search', body)
            pages += 1
            seen += [e['experiment_id'] for e in page.get('experiments', [])]
            token = page.get('next_page_token')
            if not token:
                break
            self.assertLess(pages, 10)
        by_name = sorted(zip(names, ids), reverse=True)
        self.assertEqual(seen, [i for _, i in by_name])
        # GET takes the same as query keys; order_by repeats.
        got = self.get('mlflow/experiments/search', filter=flt, max_results='10',
                       order_by=['name ASC', 'experiment_id'])
        self.assertEqual([e['experiment_id'] for e in got['experiments']],
                         [i for _, i in sorted(zip(names, ids))])
        got = self.get('mlflow/experiments/list', view_type='ALL')
        self.assertTrue(set(ids) <= {e['experiment_id'] for e in got['experiments']})
        got = self.post('mlflow/experiments/search',
                        {'filter': "name LIKE '%s%%' AND (name = '%s' OR name = '%s')"
                                   % (names[0][:5], names[1], names[3])})
        self.assertEqual(sorted(e['experiment_id'] for e in got['experiments']),
                         sorted([ids[1], ids[3]]))

    def test_run_lifecycle_params_tags(self):
        exp = self.new_experiment()
        run = self.new_run(exp, run_name='r1', user_id='alice',
                           tags=[{'key': 'mlflow.runName', 'value': 'r1'},
                                 {'key': 'mlflow.source.name', 'value': 'train.py'}])
        rid = run['info']['run_id']
        self.assertEqual(run['info']['user_id'], 'alice')
        tags = {t['key']: t['value'] for t in run['data']['tags']}
        self.assertEqual(tags['mlflow.runName'], 'r1')
        self.assertEqual(tags['mlflow.source.name'], 'train.py')
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'POST', 'mlflow/runs/create',
                       {'experiment_id': exp, 'run_name': 'a',
                        'tags': [{'key': 'mlflow.runName', 'value': 'b'}]})
        # Params are write-once.
        self.post('mlflow/runs/log-parameter', {'run_id': rid, 'key': 'lr', 'value': '0.1'})
        self.post('mlflow/runs/log-parameter', {'run_id': rid, 'key': 'lr', 'value': '0.1'})
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'POST', 'mlflow/runs/log-parameter',
                       {'run_id': rid, 'key': 'lr', 'value': '0.2'}, mentions=['lr'])
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'POST', 'mlflow/runs/log-batch',
                       {'run_id': rid, 'params': [{'key': 'lr', 'value': '0.3'}]})
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'POST', 'mlflow/runs/log-batch',
                       {'run_id': rid, 'params': [{'key': 'k', 'value': '1'},
                                                  {'key': 'k', 'value': '2'}]})
        # Tags overwrite; within a batch the last wins.
        self.post('mlflow/runs/set-tag', {'run_id': rid, 'key': 'stage', 'value': 'a'})
        self.post('mlflow/runs/log-batch', {'run_id': rid, 'tags': [
            {'key': 'stage', 'value': 'b'}, {'key': 'stage', 'value': 'c'}],
            'params': [{'key': 'depth', 'value': '3'}],
            'metrics': [{'key': 'acc', 'value': 0.5, 'timestamp': 10, 'step': 1},
                        {'key': 'acc', 'value': 0.7, 'timestamp': 11, 'step': 2}]})
        data = self.get('mlflow/runs/get', run_id=rid)['run']['data']
        self.assertEqual({t['key']: t['value'] for t in data['tags']}['stage'], 'c')
        self.assertEqual(sorted((p['key'], p['value']) for p in data['params']),
                         [('depth', '3'), ('lr', '0.1')])
        self.assertEqual(data['metrics'], [{'key': 'acc', 'value': 0.7, 'timestamp': 11,
                                            'step': 2}])
        self.post('mlflow/runs/delete-tag', {'run_id': rid, 'key': 'stage'})
        data = self.get('mlflow/runs/get', run_id=rid)['run']['data']
        self.assertNotIn('stage', {t['key'] for t in data['tags']})
        self.fail_with(404, 'RESOURCE_DOES_NOT_EXIST', 'POST', 'mlflow/runs/delete-tag',
                       {'run_id': rid, 'key': 'stage'})
        # An exact duplicate metric is stored once; a different value at the same point is not.
        for _ in range(3):
            self.post('mlflow/runs/log-metric', {'run_id': rid, 'key': 'd', 'value': 1.0,
                                                 'timestamp': 5, 'step': 0})
        self.post('mlflow/runs/log-metric', {'run_id': rid, 'key': 'd', 'value': 2.0,
                                             'timestamp': 5, 'step': 0})
        h = self.get('mlflow/metrics/get-history', run_id=rid, metric_key='d')['metrics']
        self.assertEqual(sorted(p['value'] for p in h), [1.0, 2.0])
        # Logging to a FINISHED run is fine; to a deleted one it is 400.
        self.post('mlflow/runs/update', {'run_id': rid, 'status': 'FINISHED',
                                         'end_time': now_ms()})
        self.post('mlflow/runs/log-metric', {'run_id': rid, 'key': 'late', 'value': 1,
                                             'timestamp': now_ms()})
        self.post('mlflow/runs/delete', {'run_id': rid})
        self.assertEqual(self.get('mlflow/runs/get', run_id=rid)['run']['info']
                         ['lifecycle_stage'], 'deleted')
        for route, body in (('mlflow/runs/log-metric', {'key': 'm', 'value': 1,
                                                        'timestamp': 1}),
                            ('mlflow/runs/log-parameter', {'key': 'new', 'value': '1'}),
                            ('mlflow/runs/set-tag', {'key': 't', 'value': '1'}),
                            ('mlflow/runs/log-batch', {'tags': [{'key': 't',
                                                                 'value': '1'}]})):
            body['run_id'] = rid
            self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'POST', route, body,
                           mentions=['deleted'])
        self.post('mlflow/runs/restore', {'run_id': rid})
        self.post('mlflow/runs/set-tag', {'run_id': rid, 'key': 't', 'value': '1'})
        # log-batch limits.
        too_many = [{'key': 'm', 'value': i, 'timestamp': 1, 'step': i} for i in range(1001)]
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'POST', 'mlflow/runs/log-batch',
                       {'run_id': rid, 'metrics': too_many}, mentions=['1000'])
        self.fail_with(404, 'RESOURCE_DOES_NOT_EXIST', 'POST', 'mlflow/runs/log-batch',
                       {'run_id': 'e' * 32, 'tags': [{'key': 't', 'value': '1'}]})
        self.fail_with(404, 'RESOURCE_DOES_NOT_EXIST', 'POST', 'mlflow/runs/delete',
                       {'run_id': 'e' * 32})

    def test_run_search(self):
        exp = self.new_experiment()
        spec = [  # name, metric acc (None: absent), param opt, tag team
            ('a', 0.9, 'adam', 'vision'),
            ('b', 0.5, 'sgd', 'nlp'),
            ('c', None, 'adam', 'nlp'),
            ('d', 0.7, 'sgd', 'vision'),
            ('e', 0.1, 'rmsprop', None),
            ('f', None, None, None),
        ]
        ids = {}
        for i, (name, acc, opt, team) in enumerate(spec):
            rid = self.new_run(exp, run_name=name, start_time=1000 + i)['info']['run_id']
            ids[name] = rid
            batch = {'run_id': rid, 'metrics': [], 'params': [], 'tags': []}
            if acc is not None:
                batch['metrics'].append({'key': 'acc', 'value': acc, 'timestamp': 1})
            if opt:
                batch['params'].append({'key': 'opt', 'value': opt})
            if team:
                batch['tags'].append({'key': 'team', 'value': team})
            self.post('mlflow/runs/log-batch', batch)

        def names(doc):
            back = {v: k for k, v in ids.items()}
            return [back[r['info']['run_id']] for r in doc.get('runs', [])]

        q = {'experiment_ids': [exp], 'order_by': ['attributes.run_name']}
        q['filter'] = ("metrics.acc > 0.6 OR (params.opt = 'adam' AND tags.team = 'nlp') "
                       "OR params.opt = 'rmsprop'")
        self.assertEqual(names(self.post('mlflow/runs/search', q)), ['a', 'c', 'd', 'e'])
        q['filter'] = "(params.opt = 'sgd' OR params.opt = 'adam') AND (tags.team ILIKE 'VIS%')"
        self.assertEqual(names(self.post('mlflow/runs/search', q)), ['a', 'd'])
        q['filter'] = "run_name IN ('b', 'f') OR metrics.acc <= 0.1"
        self.assertEqual(names(self.post('mlflow/runs/search', q)), ['b', 'e', 'f'])
        # order_by a metric: runs without it last, in both directions.
        del q['filter']
        q['order_by'] = ['metrics.acc DESC']
        self.assertEqual(names(self.post('mlflow/runs/search', q)),
                         ['a', 'd', 'b', 'e', 'f', 'c'])  # ties: start_time DESC
        q['order_by'] = ['metrics.acc ASC']
        self.assertEqual(names(self.post('mlflow/runs/search', q)),
                         ['e', 'b', 'd', 'a', 'f', 'c'])
        q['order_by'] = ['params.opt', 'run_name DESC']
        self.assertEqual(names(self.post('mlflow/runs/search', q)),
                         ['c', 'a', 'e', 'd', 'b', 'f'])
        # Paging: every run once, through all pages.
        for size in (1, 2, 4, 6, 7):
            seen, token, pages = [], None, 0
            while True:
                body = {'experiment_ids': [exp], 'max_results': size,
                        'order_by': ['start_time ASC']}
                if token:
                    body['page_token'] = token
                page = self.post('mlflow/runs/search', body)
                pages += 1
                self.assertLessEqual(len(page.get('runs', [])), size)
                seen += names(page)
                token = page.get('next_page_token')
                if not token:
                    break
                self.assertLess(pages, 10)
            self.assertEqual(seen, ['a', 'b', 'c', 'd', 'e', 'f'], size)
        # GET: experiment_ids and order_by as repeated keys.
        other = self.new_experiment()
        lone = self.new_run(other, run_name='lone')['info']['run_id']
        got = self.get('mlflow/runs/search', experiment_ids=[exp, other],
                       filter="run_name = 'lone' OR run_name = 'a'",
                       order_by=['run_name DESC'])
        self.assertEqual([r['info']['run_id'] for r in got['runs']], [lone, ids['a']])

    def test_get_history_paging(self):
        exp = self.new_experiment()
        rid = self.new_run(exp)['info']['run_id']
        pts = [{'key': 'loss', 'value': 1.0 / (i + 1), 'timestamp': 1000 + i, 'step': i}
               for i in range(25)]
        self.post('mlflow/runs/log-batch', {'run_id': rid, 'metrics': pts})
        got, token, sizes = [], None, []
        while True:
            q = {'run_id': rid, 'metric_key': 'loss', 'max_results': '10'}
            if token:
                q['page_token'] = token
            page = self.get('mlflow/metrics/get-history', **q)
            sizes.append(len(page.get('metrics', [])))
            got += page.get('metrics', [])
            token = page.get('next_page_token')
            if not token:
                break
            self.assertLess(len(sizes), 10)
        self.assertEqual(sizes[:3], [10, 10, 5])
        self.assertEqual(got, pts)
        self.assertEqual(self.get('mlflow/metrics/get-history', run_id=rid,
                                  metric_key='none'), {})
        self.fail_with(404, 'RESOURCE_DOES_NOT_EXIST', 'GET', 'mlflow/metrics/get-history',
                       query={'run_id': 'c' * 32, 'metric_key': 'loss'})
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'GET', 'mlflow/metrics/get-history',
                       query={'run_id': rid})
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'GET', 'mlflow/metrics/get-history',
                       query={'run_id': rid, 'metric_key': 'loss', 'page_token': '%%%'})

    def test_get_history_bulk_interval(self):
        exp = self.new_experiment()
        a = self.new_run(exp)['info']['run_id']
        b = self.new_run(exp)['info']['run_id']
        self.post('mlflow/runs/log-batch', {'run_id': a, 'metrics': [
            {'key': 'm', 'value': i, 'timestamp': 1, 'step': i} for i in range(1000)]})
        self.post('mlflow/runs/log-batch', {'run_id': b, 'metrics': [
            {'key': 'm', 'value': -i, 'timestamp': 1, 'step': i} for i in range(3, 400, 7)]})
        # Few steps: every point of both runs, each with its run_id.
        small = self.get('mlflow/metrics/get-history-bulk-interval',
                         run_ids=[a, b], metric_key='m', start_step='10',
                         end_step='30')
        pts = small['metrics']
        self.assertEqual(sorted((p['run_id'], p['step']) for p in pts),
                         sorted([(a, s) for s in range(10, 31)] +
                                [(b, s) for s in range(3, 400, 7) if 10 <= s <= 30]))
        self.assertEqual(set(pts[0]), {'key', 'value', 'timestamp', 'step', 'run_id'})
        # Many steps: max_results evenly spaced ones, plus each run's first and last.
        r = self.c.request('GET', '/api/2.0/mlflow/metrics/get-history-bulk-interval',
                           query='run_ids=%s&run_ids=%s&metric_key=m&max_results=20' % (a, b))
        self.assertEqual(r.status, 200, r.body)
        pts = r.json['metrics']
        steps = sorted({p['step'] for p in pts})
        self.assertTrue({0, 999, 3, 395} <= set(steps), steps)
        self.assertGreaterEqual(len(steps), 20)
        self.assertLessEqual(len(steps), 24)
        gaps = [y - x for x, y in zip(steps, steps[1:])]
        self.assertLessEqual(max(gaps), 1000 // 19 + 2, steps)
        for s in steps:  # every point at a kept step, of every run that has it
            want = {a} | ({b} if s in range(3, 400, 7) else set())
            self.assertEqual({p['run_id'] for p in pts if p['step'] == s}, want, s)
        # Errors: more than 100 runs, start without end, no runs, max_results out of range.
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'GET',
                       'mlflow/metrics/get-history-bulk-interval',
                       query={'run_ids': [a] * 101, 'metric_key': 'm'}, mentions=['100'])
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'GET',
                       'mlflow/metrics/get-history-bulk-interval',
                       query={'run_ids': a, 'metric_key': 'm', 'start_step': '1'})
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'GET',
                       'mlflow/metrics/get-history-bulk-interval',
                       query={'run_ids': a, 'metric_key': 'm', 'end_step': '1'})
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'GET',
                       'mlflow/metrics/get-history-bulk-interval', query={'metric_key': 'm'})
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'GET',
                       'mlflow/metrics/get-history-bulk-interval',
                       query={'run_ids': a, 'metric_key': 'm', 'max_results': '2501'})
        self.fail_with(404, 'RESOURCE_DOES_NOT_EXIST', 'GET',
                       'mlflow/metrics/get-history-bulk-interval',
                       query={'run_ids': [a, 'd' * 32], 'metric_key': 'm'})
        # The UI's older bulk route: run_id repeated.
        bulk = self.get('mlflow/metrics/get-history-bulk', run_id=[a, b], metric_key='m')
        self.assertEqual(len(bulk['metrics']), 1000 + len(range(3, 400, 7)))

    def test_log_inputs_and_log_model(self):
        exp = self.new_experiment()
        rid = self.new_run(exp)['info']['run_id']
        digest = 'a' * 64  # a sha256 hex: longer than MLflow's 36-character column
        ds = {'name': 'train', 'digest': digest, 'source_type': 'local',
              'source': '{"uri": "/data/train.csv"}', 'schema': '{"cols": []}',
              'profile': '{"rows": 10}'}
        self.post('mlflow/runs/log-inputs', {'run_id': rid, 'datasets': [
            {'tags': [{'key': 'mlflow.data.context', 'value': 'training'}], 'dataset': ds}]})
        inputs = self.get('mlflow/runs/get', run_id=rid)['run']['inputs']
        self.assertEqual(inputs['dataset_inputs'], [
            {'tags': [{'key': 'mlflow.data.context', 'value': 'training'}], 'dataset': ds}])
        found = self.post('mlflow/runs/search', {'experiment_ids': [exp],
                                                 'filter': "dataset.digest = '%s'" % digest})
        self.assertEqual(len(found['runs']), 1)
        self.post('mlflow/runs/log-inputs', {'run_id': rid})
        self.fail_with(404, 'RESOURCE_DOES_NOT_EXIST', 'POST', 'mlflow/runs/log-inputs',
                       {'run_id': 'b' * 32})
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'POST', 'mlflow/runs/log-inputs',
                       {'run_id': rid, 'datasets': [{'dataset': {'name': 'x'}}]})
        # log-model appends to mlflow.log-model.history.
        m1 = {'artifact_path': 'model', 'flavors': {'python_function': {}}, 'run_id': rid}
        m2 = {'artifact_path': 'model2', 'flavors': {}, 'run_id': rid}
        self.post('mlflow/runs/log-model', {'run_id': rid, 'model_json': json.dumps(m1)})
        self.post('mlflow/runs/log-model', {'run_id': rid, 'model_json': json.dumps(m2)})
        tags = {t['key']: t['value'] for t in
                self.get('mlflow/runs/get', run_id=rid)['run']['data']['tags']}
        self.assertEqual(json.loads(tags['mlflow.log-model.history']), [m1, m2])
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'POST', 'mlflow/runs/log-model',
                       {'run_id': rid, 'model_json': '{not json'})
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'POST', 'mlflow/runs/log-model',
                       {'run_id': rid})

    def test_artifacts_proxy_and_list(self):
        exp = self.new_experiment()
        rid = self.new_run(exp)['info']['run_id']
        base = '%s/%s/artifacts' % (exp, rid)
        self.put_artifact(base + '/dir/a.txt', b'hello\n')
        self.put_artifact(base + '/dir/sub/deep.json', b'{"x": 1}', content_type=None)
        blob = bytes(range(256)) * 1000
        self.put_artifact(base + '/b.bin', blob, content_type='application/octet-stream')
        self.put_artifact(base + '/b.bin', blob)  # a second PUT replaces it
        # Run listing: paths relative to the run's artifact root.
        got = self.get('mlflow/artifacts/list', run_id=rid)
        self.assertEqual(got['root_uri'], 'mlflow-artifacts:/' + base)
        self.assertEqual(got['files'], [{'path': 'b.bin', 'is_dir': False,
                                         'file_size': len(blob)},
                                        {'path': 'dir', 'is_dir': True}])
        got = self.get('mlflow/artifacts/list', run_id=rid, path='dir')
        self.assertEqual(got['files'], [{'path': 'dir/a.txt', 'is_dir': False, 'file_size': 6},
                                        {'path': 'dir/sub', 'is_dir': True}])
        self.assertEqual(self.get('mlflow/artifacts/list', run_id=rid, path='none'),
                         {'root_uri': 'mlflow-artifacts:/' + base})
        empty = self.new_run(exp)['info']['run_id']
        self.assertEqual(set(self.get('mlflow/artifacts/list', run_id=empty)), {'root_uri'})
        self.fail_with(404, 'RESOURCE_DOES_NOT_EXIST', 'GET', 'mlflow/artifacts/list',
                       query={'run_id': 'a' * 32})
        # The proxy: bytes back with a download disposition and nosniff.
        r = self.c.request('GET', '/api/2.0/mlflow-artifacts/artifacts/' + base + '/b.bin')
        self.assertEqual((r.status, r.body), (200, blob))
        self.assertIn('attachment', r.header('content-disposition'))
        self.assertIn('b.bin', r.header('content-disposition'))
        self.assertEqual(r.header('x-content-type-options'), 'nosniff')
        r = self.c.request('GET', '/ajax-api/2.0/mlflow-artifacts/artifacts/' + base +
                           '/dir/a.txt')
        self.assertEqual((r.status, r.body), (200, b'hello\n'))
        # Listing by path: base names only; a missing folder is {}.
        got = self.get('mlflow-artifacts/artifacts', path=base + '/dir')
        self.assertEqual(got['files'], [{'path': 'a.txt', 'is_dir': False, 'file_size': 6},
                                        {'path': 'sub', 'is_dir': True}])
        self.assertEqual(self.get('mlflow-artifacts/artifacts', path=base + '/nope'), {})
        r = self.c.request('GET', '/api/2.0/mlflow-artifacts/artifacts/',
                           query={'path': base + '/dir'})  # a trailing slash: the same
        self.assertEqual(r.json, got)
        self.assertEqual(self.get('mlflow-artifacts/artifacts', path='no/such/dir'), {})
        top = self.get('mlflow-artifacts/artifacts')
        self.assertIn({'path': exp, 'is_dir': True}, top['files'])
        # Missing files: 404 (MLflow 2.12 answered 500, which its client retries for minutes).
        for rel in (base + '/missing.txt', 'nope/x', base + '/dir/a.txt/below'):
            self.fail_with(404, 'RESOURCE_DOES_NOT_EXIST', 'GET',
                           'mlflow-artifacts/artifacts/' + rel)
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'GET',
                       'mlflow-artifacts/artifacts/' + base + '/dir')
        # DELETE a file, then a folder with its contents.
        self.assertEqual(self.call('DELETE', 'mlflow-artifacts/artifacts/' + base +
                                   '/dir/a.txt'), {})
        self.fail_with(404, 'RESOURCE_DOES_NOT_EXIST', 'GET',
                       'mlflow-artifacts/artifacts/' + base + '/dir/a.txt')
        self.fail_with(404, 'RESOURCE_DOES_NOT_EXIST', 'DELETE',
                       'mlflow-artifacts/artifacts/' + base + '/dir/a.txt', body=None)
        self.call('DELETE', 'mlflow-artifacts/artifacts/' + base + '/dir')
        self.assertEqual(self.get('mlflow-artifacts/artifacts', path=base + '/dir'), {})
        self.assertFalse((self.art / base / 'dir').exists())
        self.assertEqual(self.get('mlflow/artifacts/list', run_id=rid)['files'],
                         [{'path': 'b.bin', 'is_dir': False, 'file_size': len(blob)}])
        # Multipart upload is not offered: the client falls back to PUT on 501.
        for verb in ('create', 'complete', 'abort'):
            msg = self.fail_with(501, 'NOT_IMPLEMENTED', 'POST',
                                 'mlflow-artifacts/mpu/%s/%s/big.bin' % (verb, base),
                                 {'path': 'big.bin', 'num_parts': 3})
            self.assertTrue(msg.startswith('Multipart upload is not supported'), msg)


class Registry(restlib.RestCase):
    def setUp(self):
        super().setUp()
        if not hasattr(type(self), 'exp'):
            type(self).exp = self.new_experiment()
        self.run_id = self.new_run(self.exp)['info']['run_id']

    def model(self, **kw):
        name = uid('model-')
        body = {'name': name}
        body.update(kw)
        self.post('mlflow/registered-models/create', body)
        return name

    def version(self, name, **kw):
        body = {'name': name, 'source': 'runs:/%s/model' % self.run_id, 'run_id': self.run_id}
        body.update(kw)
        return self.post('mlflow/model-versions/create', body)['model_version']

    def test_search_models_and_versions(self):
        prefix = uid('srch')
        names = ['%s-%d' % (prefix, i) for i in range(5)]
        for n in reversed(names):
            self.post('mlflow/registered-models/create', {'name': n})
        self.version(names[0])
        self.version(names[0])
        self.version(names[1])
        like = {'filter': "name LIKE '%s-%%'" % prefix, 'order_by': 'name ASC'}
        # Every model of the prefix, in order; an empty page token reads as none.
        got = self.get('mlflow/registered-models/search', page_token='', **like)
        self.assertEqual([m['name'] for m in got['registered_models']], names)
        self.assertNotIn('next_page_token', got)
        # Paged two at a time through the token, by GET and by POST.
        seen, token = [], None
        while True:
            q = dict(like, max_results='2')
            if token:
                q['page_token'] = token
            page = self.get('mlflow/registered-models/search', **q)
            seen += [m['name'] for m in page['registered_models']]
            token = page.get('next_page_token')
            if not token:
                break
        self.assertEqual(seen, names)
        body = {'filter': like['filter'], 'order_by': ['name DESC'], 'max_results': 3}
        self.assertEqual([m['name'] for m in
                          self.post('mlflow/registered-models/search', body)['registered_models']],
                         names[::-1][:3])
        # max_results out of range: 400 naming the bound.
        for bad in ('0', '1001', '-1'):
            self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'GET', 'mlflow/registered-models/search',
                           query={'max_results': bad}, mentions=('at most 1000', bad))
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'GET', 'mlflow/model-versions/search',
                       query={'max_results': '200001'}, mentions=('at most 200000', '200001'))
        # Versions of one model; an empty filter is every version (those three among them).
        vs = self.get('mlflow/model-versions/search', filter="name = '%s'" % names[0],
                      order_by='version_number ASC')['model_versions']
        self.assertEqual([(v['name'], v['version']) for v in vs], [(names[0], '1'), (names[0], '2')])
        every = self.post('mlflow/model-versions/search', {'filter': '', 'max_results': 200000})
        mine = {(v['name'], v['version']) for v in every['model_versions']
                if v['name'].startswith(prefix)}
        self.assertEqual(mine, {(names[0], '1'), (names[0], '2'), (names[1], '1')})

    def test_registered_model_crud(self):
        name = uid('model-')
        m = self.post('mlflow/registered-models/create',
                      {'name': name, 'description': 'first',
                       'tags': [{'key': 'team', 'value': 'risk'}]})['registered_model']
        self.assertEqual(m['name'], name)
        self.assertEqual(m['description'], 'first')
        self.assertEqual(m['tags'], [{'key': 'team', 'value': 'risk'}])
        self.assertIsInstance(m['creation_timestamp'], int)
        self.assertNotIn('latest_versions', m)
        self.assertNotIn('aliases', m)
        self.fail_with(400, 'RESOURCE_ALREADY_EXISTS', 'POST', 'mlflow/registered-models/create',
                       {'name': name})
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'POST', 'mlflow/registered-models/create',
                       {'name': ''})
        self.assertEqual(self.get('mlflow/registered-models/get', name=name)
                         ['registered_model']['name'], name)
        self.fail_with(404, 'RESOURCE_DOES_NOT_EXIST', 'GET', 'mlflow/registered-models/get',
                       query={'name': uid('none-')})
        m = self.call('PATCH', 'mlflow/registered-models/update',
                      {'name': name, 'description': 'second'})['registered_model']
        self.assertEqual(m['description'], 'second')
        self.post('mlflow/registered-models/set-tag', {'name': name, 'key': 'k', 'value': 'v'})
        self.call('DELETE', 'mlflow/registered-models/delete-tag', {'name': name, 'key': 'team'})
        m = self.get('mlflow/registered-models/get', name=name)['registered_model']
        self.assertEqual(m['tags'], [{'key': 'k', 'value': 'v'}])
        # Rename: versions and aliases follow.
        self.version(name)
        self.version(name)
        self.post('mlflow/registered-models/alias', {'name': name, 'alias': 'champion',
                                                     'version': '2'})
        new = uid('renamed-')
        m = self.post('mlflow/registered-models/rename',
                      {'name': name, 'new_name': new})['registered_model']
        self.assertEqual(m['name'], new)
        self.assertEqual(m['aliases'], [{'alias': 'champion', 'version': '2'}])
        self.fail_with(404, 'RESOURCE_DOES_NOT_EXIST', 'GET', 'mlflow/registered-models/get',
                       query={'name': name})
        v = self.get('mlflow/registered-models/alias', name=new, alias='champion')
        self.assertEqual((v['model_version']['name'], v['model_version']['version']),
                         (new, '2'))
        self.assertEqual(self.get('mlflow/model-versions/get', name=new, version='1')
                         ['model_version']['name'], new)
        # Delete takes a JSON body on DELETE and cascades to versions, tags and aliases.
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'DELETE', 'mlflow/registered-models/delete',
                       query={'name': new})
        self.assertEqual(self.call('DELETE', 'mlflow/registered-models/delete', {'name': new}),
                         {})
        self.fail_with(404, 'RESOURCE_DOES_NOT_EXIST', 'GET', 'mlflow/registered-models/get',
                       query={'name': new})
        self.fail_with(404, 'RESOURCE_DOES_NOT_EXIST', 'GET', 'mlflow/model-versions/get',
                       query={'name': new, 'version': '1'})
        self.fail_with(404, 'RESOURCE_DOES_NOT_EXIST', 'DELETE', 'mlflow/registered-models/delete',
                       {'name': new})
        self.post('mlflow/registered-models/create', {'name': new})
        self.assertEqual(self.version(new)['version'], '1')
        self.assertNotIn('aliases', self.get('mlflow/registered-models/get',
                                             name=new)['registered_model'])

    def test_versions(self):
        name = self.model()
        v1 = self.version(name, description='d1', tags=[{'key': 'a', 'value': '1'}])
        self.assertEqual((v1['version'], v1['status'], v1['current_stage']),
                         ('1', 'READY', 'None'))
        self.assertEqual(v1['source'], 'runs:/%s/model' % self.run_id)
        self.assertEqual(v1['run_id'], self.run_id)
        self.assertEqual((v1['description'], v1['run_link']), ('d1', ''))
        self.assertEqual(v1['tags'], [{'key': 'a', 'value': '1'}])
        self.assertEqual(self.version(name)['version'], '2')
        self.assertEqual(self.version(name)['version'], '3')
        got = self.get('mlflow/model-versions/get', name=name, version='1')['model_version']
        self.assertEqual(got, v1)
        # version may be a JSON number in bodies.
        v = self.call('PATCH', 'mlflow/model-versions/update',
                      {'name': name, 'version': 1, 'description': 'new'})['model_version']
        self.assertEqual(v['description'], 'new')
        self.post('mlflow/model-versions/set-tag', {'name': name, 'version': '2', 'key': 'k',
                                                    'value': 'v'})
        self.assertEqual(self.get('mlflow/model-versions/get', name=name, version='2')
                         ['model_version']['tags'], [{'key': 'k', 'value': 'v'}])
        self.call('DELETE', 'mlflow/model-versions/delete-tag',
                  {'name': name, 'version': '2', 'key': 'k'})
        self.assertNotIn('tags', self.get('mlflow/model-versions/get', name=name,
                                          version='2')['model_version'])
        uri = self.get('mlflow/model-versions/get-download-uri', name=name, version='1')
        self.assertEqual(uri, {'artifact_uri': 'mlflow-artifacts:/%s/%s/artifacts/model'
                                               % (self.exp, self.run_id)})
        other = self.version(name, source='s3://bucket/models/m', run_id='')
        self.assertNotIn('run_id', other)
        self.assertEqual(self.get('mlflow/model-versions/get-download-uri', name=name,
                                  version=other['version'])['artifact_uri'],
                         's3://bucket/models/m')
        # Deleted numbers are never given again.
        self.assertEqual(self.call('DELETE', 'mlflow/model-versions/delete',
                                   {'name': name, 'version': other['version']}), {})
        self.fail_with(404, 'RESOURCE_DOES_NOT_EXIST', 'GET', 'mlflow/model-versions/get',
                       query={'name': name, 'version': other['version']})
        self.assertEqual(int(self.version(name)['version']), int(other['version']) + 1)
        # Bad versions, unknown models.
        for bad in ('abc', '1.5', '0', '-1', ''):
            self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'GET', 'mlflow/model-versions/get',
                           query={'name': name, 'version': bad})
        self.fail_with(404, 'RESOURCE_DOES_NOT_EXIST', 'GET', 'mlflow/model-versions/get',
                       query={'name': name, 'version': '99'})
        self.fail_with(404, 'RESOURCE_DOES_NOT_EXIST', 'POST', 'mlflow/model-versions/create',
                       {'name': uid('none-'), 'source': 's3://b/k'})
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'POST', 'mlflow/model-versions/create',
                       {'name': name})
        self.fail_with(404, 'RESOURCE_DOES_NOT_EXIST', 'POST', 'mlflow/model-versions/create',
                       {'name': name, 'source': 'runs:/%s/model' % ('9' * 32)})

    def test_stages_and_latest_versions(self):
        name = self.model()
        for _ in range(4):
            self.version(name)
        mv = self.post('mlflow/model-versions/transition-stage',
                       {'name': name, 'version': '1', 'stage': 'Staging',
                        'archive_existing_versions': False})['model_version']
        self.assertEqual(mv['current_stage'], 'Staging')
        self.post('mlflow/model-versions/transition-stage',
                  {'name': name, 'version': '2', 'stage': 'Production',
                   'archive_existing_versions': 'false'})
        self.post('mlflow/model-versions/transition-stage',
                  {'name': name, 'version': '3', 'stage': 'production',
                   'archive_existing_versions': False})
        stages = [self.get('mlflow/model-versions/get', name=name, version=str(v))
                  ['model_version']['current_stage'] for v in (1, 2, 3, 4)]
        self.assertEqual(stages, ['Staging', 'Production', 'Production', 'None'])
        self.post('mlflow/model-versions/transition-stage',
                  {'name': name, 'version': '4', 'stage': 'Production',
                   'archive_existing_versions': True})
        stages = [self.get('mlflow/model-versions/get', name=name, version=str(v))
                  ['model_version']['current_stage'] for v in (1, 2, 3, 4)]
        self.assertEqual(stages, ['Staging', 'Archived', 'Archived', 'Production'])
        latest = self.post('mlflow/registered-models/get-latest-versions',
                           {'name': name, 'stages': ['Production']})['model_versions']
        self.assertEqual([v['version'] for v in latest], ['4'])
        latest = self.get('mlflow/registered-models/get-latest-versions', name=name,
                          stages=['Staging', 'Archived'])['model_versions']
        self.assertEqual(sorted((v['current_stage'], v['version']) for v in latest),
                         [('Archived', '3'), ('Staging', '1')])
        every = self.post('mlflow/registered-models/get-latest-versions', {'name': name})
        self.assertEqual(sorted(v['version'] for v in every['model_versions']), ['1', '3', '4'])
        m = self.get('mlflow/registered-models/get', name=name)['registered_model']
        self.assertEqual(sorted((v['current_stage'], v['version']) for v in
                                m['latest_versions']),
                         [('Archived', '3'), ('Production', '4'), ('Staging', '1')])
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'POST',
                       'mlflow/model-versions/transition-stage',
                       {'name': name, 'version': '1', 'stage': 'Canary',
                        'archive_existing_versions': False})
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'POST',
                       'mlflow/model-versions/transition-stage',
                       {'name': name, 'version': '1', 'stage': 'Staging',
                        'archive_existing_versions': 'maybe'})
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'POST',
                       'mlflow/registered-models/get-latest-versions',
                       {'name': name, 'stages': ['Canary']})
        empty = self.model()
        self.assertEqual(self.post('mlflow/registered-models/get-latest-versions',
                                   {'name': empty}), {})

    def test_aliases(self):
        name = self.model()
        for _ in range(3):
            self.version(name)
        self.assertEqual(self.post('mlflow/registered-models/alias',
                                   {'name': name, 'alias': 'champion', 'version': '1'}), {})
        v = self.get('mlflow/registered-models/alias', name=name,
                     alias='champion')['model_version']
        self.assertEqual((v['version'], v['aliases']), ('1', ['champion']))
        self.post('mlflow/registered-models/alias', {'name': name, 'alias': 'champion',
                                                     'version': 2})
        self.post('mlflow/registered-models/alias', {'name': name, 'alias': 'shadow',
                                                     'version': '2'})
        v = self.get('mlflow/model-versions/get', name=name, version='2')['model_version']
        self.assertEqual(sorted(v['aliases']), ['champion', 'shadow'])
        self.assertNotIn('aliases', self.get('mlflow/model-versions/get', name=name,
                                             version='1')['model_version'])
        m = self.get('mlflow/registered-models/get', name=name)['registered_model']
        self.assertEqual(sorted((a['alias'], a['version']) for a in m['aliases']),
                         [('champion', '2'), ('shadow', '2')])
        self.assertEqual(self.call('DELETE', 'mlflow/registered-models/alias',
                                   {'name': name, 'alias': 'shadow'}), {})
        # A missing alias is 404 here (MLflow 2.12: 400 INVALID_PARAMETER_VALUE).
        self.fail_with(404, 'RESOURCE_DOES_NOT_EXIST', 'GET', 'mlflow/registered-models/alias',
                       query={'name': name, 'alias': 'shadow'})
        for bad in ('latest', 'LATEST', 'v1', 'V12', 'a b', 'x/y', 'a' * 256, ''):
            self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'POST', 'mlflow/registered-models/alias',
                           {'name': name, 'alias': bad, 'version': '1'})
        self.fail_with(404, 'RESOURCE_DOES_NOT_EXIST', 'POST', 'mlflow/registered-models/alias',
                       {'name': name, 'alias': 'ghost', 'version': '9'})
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'POST', 'mlflow/registered-models/alias',
                       {'name': name, 'alias': 'ghost', 'version': 'two'})
        # Deleting a version drops its aliases.
        self.call('DELETE', 'mlflow/model-versions/delete', {'name': name, 'version': '2'})
        self.fail_with(404, 'RESOURCE_DOES_NOT_EXIST', 'GET', 'mlflow/registered-models/alias',
                       query={'name': name, 'alias': 'champion'})
        self.assertNotIn('aliases', self.get('mlflow/registered-models/get',
                                             name=name)['registered_model'])

    def test_cairn_history_rollback_semver(self):
        name = self.model()
        for _ in range(3):
            self.version(name)
        t0 = now_ms()
        self.post('mlflow/registered-models/alias', {'name': name, 'alias': 'prod',
                                                     'version': '1', 'reason': 'first'})
        self.post('mlflow/registered-models/alias', {'name': name, 'alias': 'prod',
                                                     'version': '3', 'reason': 'better auc'})
        self.post('mlflow/registered-models/alias', {'name': name, 'alias': 'prod',
                                                     'version': '3'})  # no move: no event
        self.post('mlflow/model-versions/transition-stage',
                  {'name': name, 'version': '2', 'stage': 'Staging',
                   'archive_existing_versions': False, 'reason': 'qa'})
        back = self.post('cairn/registry/rollback', {'name': name, 'alias': 'prod',
                                                     'reason': 'regression'})
        self.assertEqual(back, {'version': '1'})
        self.assertEqual(self.get('mlflow/registered-models/alias', name=name, alias='prod')
                         ['model_version']['version'], '1')
        self.call('DELETE', 'mlflow/registered-models/alias', {'name': name, 'alias': 'prod'})
        events = self.get('cairn/registry/history', name=name)['events']
        self.assertEqual([e['kind'] for e in events],
                         ['alias_delete', 'rollback', 'stage', 'alias_set', 'alias_set'])
        self.assertEqual([e['seq'] for e in events],
                         sorted((e['seq'] for e in events), reverse=True))
        for e in events:
            self.assertEqual(e['name'], name)
            self.assertIsInstance(e['user'], str)
            self.assertTrue(e['user'])
            self.assertIsInstance(e['timestamp'], int)
            self.assertGreaterEqual(e['timestamp'], t0 - 5000)
        delete, rollback, stage, moved, first = events
        self.assertEqual((first['alias'], first.get('from_version'), first['to_version'],
                          first['reason']), ('prod', None, 1, 'first'))
        self.assertEqual((moved['from_version'], moved['to_version'], moved['reason']),
                         (1, 3, 'better auc'))
        self.assertEqual((stage['version'], stage['from_stage'], stage['to_stage'],
                          stage['reason']), (2, 'None', 'Staging', 'qa'))
        self.assertEqual((rollback['from_version'], rollback['to_version'],
                          rollback['reason']), (3, 1, 'regression'))
        self.assertEqual((delete['from_version'], delete.get('to_version')), (1, None))
        self.assertNotIn('reason', delete)
        only = self.get('cairn/registry/history', name=name, alias='prod')['events']
        self.assertEqual(len(only), 4)
        page = self.get('cairn/registry/history', name=name, max_results='2')
        self.assertEqual(len(page['events']), 2)
        rest = self.get('cairn/registry/history', name=name,
                        page_token=page['next_page_token'])
        self.assertEqual(page['events'] + rest['events'], events)
        self.fail_with(404, 'RESOURCE_DOES_NOT_EXIST', 'GET', 'cairn/registry/history',
                       query={'name': uid('none-')})
        self.fail_with(404, 'RESOURCE_DOES_NOT_EXIST', 'POST', 'cairn/registry/rollback',
                       {'name': name, 'alias': 'never'})
        # Semantic-version labels.
        v = self.post('cairn/model-versions/set-semver',
                      {'name': name, 'version': '1', 'semver': '1.2.3'})['model_version']
        self.assertEqual(v['semver'], '1.2.3')
        self.assertEqual(self.version(name, semver='2.0.0-rc.1')['semver'], '2.0.0-rc.1')
        self.fail_with(400, 'RESOURCE_ALREADY_EXISTS', 'POST', 'cairn/model-versions/set-semver',
                       {'name': name, 'version': '2', 'semver': '1.2.3'})
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'POST', 'cairn/model-versions/set-semver',
                       {'name': name, 'version': '2', 'semver': 'v1.2'})
        v = self.post('cairn/model-versions/set-semver',
                      {'name': name, 'version': '1'})['model_version']
        self.assertNotIn('semver', v)


if __name__ == '__main__':
    harness.main()
