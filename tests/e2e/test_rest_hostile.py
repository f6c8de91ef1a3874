# SPDX-License-Identifier: MIT
"""`cairn server` against hostile clients: path tricks on the artifact proxy (.., escapes,
double escapes, absolute paths, backslashes, NUL, a planted symlink), model-version sources
outside the run, malformed and oversized bodies, bad UTF-8, wrong content types, huge query
strings, foreign Host and Origin headers, slow and many connections, uploads cut short and a
SIGTERM mid-upload. Each gets its 4xx, the server stays up, and no file outside the artifact
root is read, changed or created."""
import hashlib
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest
import uuid

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402
import restlib  # noqa: E402

SECRET = b'canary-' + uuid.uuid4().hex.encode() + b'\n'
ARTIFACTS = '/api/2.0/mlflow-artifacts/artifacts'


def raw_request(port, data, timeout=10):
    """Sends bytes as they are; returns (status, body bytes), status 0 if the server closed
    the connection without an answer."""
    with socket.create_connection(('127.0.0.1', port), timeout=timeout) as s:
        s.sendall(data)
        buf = b''
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            buf += chunk
            head, sep, body = buf.partition(b'\r\n\r\n')
            if sep:
                length = None
                for line in head.split(b'\r\n')[1:]:
                    k, _, v = line.partition(b':')
                    if k.strip().lower() == b'content-length':
                        length = int(v.strip())
                if length is not None and len(body) >= length:
                    break
    if not buf.startswith(b'HTTP/'):
        return 0, buf
    status = int(buf.split(b' ', 2)[1])
    return status, buf.partition(b'\r\n\r\n')[2]


def snapshot(root, skip):
    """{relative path: (size, sha256)} of every file under root, except under `skip` paths."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        d = pathlib.Path(dirpath)
        dirnames[:] = [n for n in dirnames if d / n not in skip]
        for n in filenames:
            p = d / n
            if p in skip or n.startswith('s.db') or n.startswith('server-'):
                continue
            if p.is_symlink():
                out[str(p.relative_to(root))] = ('link', os.readlink(p))
                continue
            data = p.read_bytes()
            out[str(p.relative_to(root))] = (len(data), hashlib.sha256(data).hexdigest())
    return out


class HostileCase(restlib.RestCase):
    """Plants a canary outside the artifact root and checks, after every test, that it is
    unchanged, that no new file appeared outside the root and that no answer leaked it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.outside = cls.tmp / 'outside'
        cls.outside.mkdir()
        (cls.outside / 'canary.txt').write_bytes(SECRET)

    def setUp(self):
        super().setUp()
        self.before = snapshot(self.tmp, {self.art})
        self.bodies = []

    def tearDown(self):
        self.assertEqual(snapshot(self.tmp, {self.art}), self.before)
        self.assertEqual((self.outside / 'canary.txt').read_bytes(), SECRET)
        for body in self.bodies:
            self.assertNotIn(SECRET.strip(), body)
            self.assertNotIn(b'root:x:0:0', body)
        super().tearDown()

    def send(self, method, path, **kw):
        r = self.c.request(method, path, **kw)
        self.bodies.append(r.body)
        return r

    def refused(self, method, path, statuses=(400,), code=None, **kw):
        r = self.send(method, path, **kw)
        self.assertIn(r.status, statuses, '%s %s -> %d %s' % (method, path, r.status,
                                                             r.body[:300]))
        self.assertTrue(r.header('content-type').startswith('application/json'), path)
        self.assert_error_shape(r.json, code)
        return r

    def answers(self):
        r = self.c.request('GET', '/api/2.0/mlflow/experiments/get',
                           query={'experiment_id': '0'})
        self.assertEqual(r.status, 200)


class ArtifactPaths(HostileCase):
    TRAVERSALS = [
        '../outside/canary.txt',
        '0/../../outside/canary.txt',
        '%2e%2e/outside/canary.txt',
        '%2E%2E%2Foutside%2Fcanary.txt',
        '..%2foutside%2fcanary.txt',
        '%252e%252e/outside/canary.txt',
        '%25252e%25252e%25252foutside/canary.txt',
        '/{tmp}/outside/canary.txt',  # absolute
        '%2f{tmp}/outside/canary.txt',
        '//etc/passwd',
        '%2fetc%2fpasswd',
        'a//b.txt',
        './a.txt',
        'a/./b.txt',
        '..%5coutside%5ccanary.txt',
        '..\\outside\\canary.txt',
        'a\\b.txt',
        'a%23b.txt',
        'a%23/../../outside/canary.txt',
        'a%3f/../../outside/canary.txt',
        'a%3fpath=..',
        'x%00.txt',
        'x%2500.txt',
        'x%0a.txt',
        '%ff%fe.txt',
    ]

    def paths(self):
        tmp = str(self.tmp).lstrip('/')
        return [p.replace('{tmp}', tmp) for p in self.TRAVERSALS]

    def test_get_put_delete_refuse_traversal(self):
        leaf = 'pwned-' + uuid.uuid4().hex[:8]
        for rel in self.paths():
            self.refused('GET', ARTIFACTS + '/' + rel, statuses=(400, 404))
            put = rel.replace('canary.txt', leaf).replace('passwd', leaf)
            self.refused('PUT', ARTIFACTS + '/' + put, raw=b'evil', statuses=(400, 404),
                         content_type='text/plain')
            self.refused('DELETE', ARTIFACTS + '/' + rel, statuses=(400, 404))
            self.refused('GET', ARTIFACTS, query='path=' + rel.replace('\\', '%5c'),
                         statuses=(400, 404))
        # The traversal in the query of the listing, unencoded, and a '?' after the route.
        self.refused('GET', ARTIFACTS + '/?path=../outside')
        self.refused('GET', ARTIFACTS + '?path=/etc')
        self.refused('GET', '/ajax-api/2.0/mlflow-artifacts/artifacts?path=..')
        # Nothing named `leaf` anywhere above the root.
        p = self.art
        for _ in range(6):
            self.assertFalse((p / leaf).exists(), p)
            p = p.parent
        self.answers()

    def test_raw_paths(self):
        port = self.server.port
        for target in (b'/api/2.0/mlflow-artifacts/artifacts/../outside/canary.txt',
                       b'/api/2.0/mlflow-artifacts/artifacts/a#/../../outside/canary.txt',
                       b'/api/2.0/mlflow-artifacts/artifacts/\xff\xfe.txt',
                       b'/api/2.0/mlflow/experiments/get-by-name\xc0\xaf',
                       b'/api/2.0/mlflow/experiments/get-by-name?experiment_name=\xff',
                       b'/api/2.0/mlflow/experiments/get-by-name?experiment_name=%ff%fe',
                       b'/api/2.0/mlflow/experiments/get-by-name?experiment_name=%c0%af',
                       b'/api/2.0/mlflow/experiments/get-by-name?experiment_name=a%00b',
                       b'/api/2.0/mlflow/experiments/get-by-name?experiment_name=%zz'):
            status, body = raw_request(port, b'GET ' + target + b' HTTP/1.1\r\nHost: '
                                       b'127.0.0.1\r\nConnection: close\r\n\r\n')
            self.bodies.append(body)
            self.assertTrue(400 <= status < 500, (target, status, body[:200]))
        self.answers()

    def test_symlink_inside_the_root(self):
        exp = self.new_experiment()
        base = '%s/planted' % exp
        self.put_artifact(base + '/ok.txt', b'fine')
        (self.art / base / 'dirlink').symlink_to(self.outside)
        (self.art / base / 'filelink').symlink_to(self.outside / 'canary.txt')
        (self.art / 'rootlink').symlink_to(self.outside)
        self.before = snapshot(self.tmp, {self.art})
        for rel in (base + '/dirlink/canary.txt', base + '/filelink', 'rootlink/canary.txt',
                    base + '/dirlink/'):
            self.refused('GET', ARTIFACTS + '/' + rel, statuses=(400, 404))
        for rel in (base + '/dirlink/canary.txt', 'rootlink/canary.txt', base + '/dirlink/x/y'):
            self.refused('DELETE', ARTIFACTS + '/' + rel, statuses=(400, 404))
        for rel in (base + '/dirlink/new.txt', base + '/dirlink/sub/new.txt',
                    'rootlink/new.txt'):
            self.refused('PUT', ARTIFACTS + '/' + rel, raw=b'evil', statuses=(400, 404))
        for rel in (base + '/dirlink', 'rootlink', base + '/dirlink/'):
            r = self.send('GET', ARTIFACTS, query={'path': rel})
            self.assertIn(r.status, (200, 400, 404), r.body)
            self.assertNotIn(b'canary', r.body)
        # A listing of the folder holding the links shows no link.
        got = self.get('mlflow-artifacts/artifacts', path=base)
        self.assertEqual(got['files'], [{'path': 'ok.txt', 'is_dir': False, 'file_size': 4}])
        # PUT onto a link's own name replaces the link, never writes through it.
        self.put_artifact(base + '/filelink', b'replaced')
        self.assertFalse((self.art / base / 'filelink').is_symlink())
        self.assertEqual((self.art / base / 'filelink').read_bytes(), b'replaced')
        # Deleting a link removes the link alone.
        self.call('DELETE', 'mlflow-artifacts/artifacts/' + base + '/dirlink')
        self.assertFalse((self.art / base / 'dirlink').is_symlink())
        # Deleting a folder holding a link leaves the link's target alone.
        (self.art / base / 'dirlink2').symlink_to(self.outside)
        self.call('DELETE', 'mlflow-artifacts/artifacts/' + base)
        self.assertFalse((self.art / base).exists())
        self.assertTrue((self.outside / 'canary.txt').exists())
        os.unlink(self.art / 'rootlink')
        self.answers()

    def test_delete_of_the_root_is_refused(self):
        self.put_artifact('keep/me.txt', b'x')
        for path in (ARTIFACTS, ARTIFACTS + '/', ARTIFACTS + '/.', ARTIFACTS + '/%2e',
                     ARTIFACTS + '/keep/..', ARTIFACTS + '/keep/%2e%2e', ARTIFACTS + '//'):
            self.refused('DELETE', path, statuses=(400, 404))
        self.assertEqual((self.art / 'keep' / 'me.txt').read_bytes(), b'x')
        self.answers()

    def test_model_version_sources(self):
        exp = self.new_experiment()
        run = self.new_run(exp)['info']['run_id']
        other = self.new_run(exp)['info']['run_id']
        run_dir = self.art / exp / run / 'artifacts'
        self.put_artifact('%s/%s/artifacts/model/MLmodel' % (exp, run), b'm')
        self.put_artifact('%s/%s/artifacts/model/MLmodel' % (exp, other), b'm')
        (run_dir / 'escape').symlink_to(self.outside)
        self.before = snapshot(self.tmp, {self.art})
        name = 'hostile-' + uuid.uuid4().hex[:8]
        self.post('mlflow/registered-models/create', {'name': name})
        refused = [
            ('file:///etc', None), ('/etc/passwd', None), ('file:/etc/passwd', None),
            ('file:///etc', run), ('/etc/passwd', run),
            ('file://' + str(self.outside), run),
            (str(self.outside / 'canary.txt'), run),
            (str(run_dir / '..' / '..' / '..' / '..' / 'outside'), run),
            ('file://' + str(self.art / exp / other / 'artifacts' / 'model'), run),
            ('file://' + str(run_dir / 'escape'), run),
            (str(run_dir / 'model'), None),
            ('runs:/x/../../..', None),
            ('runs:/%s/../../outside' % run, run),
            ('runs:/%s/%%2e%%2e/%%2e%%2e/outside' % run, run),
            ('mlflow-artifacts:/%2e%2e/', None),
            ('mlflow-artifacts:/%252e%252e/outside', None),
            ('mlflow-artifacts:/../outside', None),
            ('s3://bucket/a/../../b', None),
            ('models:/m/1/%00', None),
        ]
        for source, run_id in refused:
            body = {'name': name, 'source': source}
            if run_id:
                body['run_id'] = run_id
            self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'POST',
                           'mlflow/model-versions/create', body)
        # Inside the run's own artifacts is fine.
        ok = self.post('mlflow/model-versions/create',
                       {'name': name, 'source': 'file://' + str(run_dir / 'model'),
                        'run_id': run})['model_version']
        self.assertEqual(ok['version'], '1')
        self.assertEqual(self.get('mlflow/registered-models/get', name=name)
                         ['registered_model']['latest_versions'][0]['version'], '1')
        os.unlink(run_dir / 'escape')
        self.answers()

    def test_experiment_artifact_location_refused(self):
        for loc in (str(self.outside), 'file:///etc', 's3://bucket/x', 'runs:/abc/x',
                    'mlflow-artifacts:/../x'):
            self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'POST', 'mlflow/experiments/create',
                           {'name': 'loc-' + uuid.uuid4().hex[:8], 'artifact_location': loc})
        self.answers()


class Bodies(HostileCase):
    SERVER_ARGS = ('--allowed-hosts', 'cairn.internal')

    def post_raw(self, route, data, content_type='application/json', headers=None):
        return self.send('POST', '/api/2.0/' + route, raw=data, content_type=content_type,
                         headers=headers)

    def test_malformed_json(self):
        exp = self.new_experiment()
        run = self.new_run(exp)['info']['run_id']
        bad = [
            b'{"name": ',
            b'{"name": "x",}',
            b"{'name': 'x'}",
            b'{"run_id": "%s", "key": "m", "value": NaN, "timestamp": 1}' % run.encode(),
            b'{"run_id": "%s", "key": "m", "value": Infinity, "timestamp": 1}' % run.encode(),
            b'[{"name": "x"}]',
            b'"name"',
            b'42',
            b'null',
            b'[' * 100000 + b']' * 100000,
            b'{"a":' * 50000 + b'1' + b'}' * 50000,
            b'{"name": "\xff\xfe"}',
            b'{"name": "a\xc0\xafb"}',
            b'{"name": "\xed\xa0\x80"}',
            b'{"name": "a\\u0000b"}',
            b'\xef\xbb\xbf{"name": "bom"}',
            b'{"name": "x"} trailing',
        ]
        for data in bad:
            for route in ('mlflow/experiments/create', 'mlflow/runs/log-metric'):
                r = self.post_raw(route, data)
                self.assertEqual(r.status, 400, (data[:60], r.body[:200]))
                self.assert_error_shape(r.json, 'INVALID_PARAMETER_VALUE')
        h = self.get('mlflow/metrics/get-history', run_id=run, metric_key='m')
        self.assertEqual(h, {})  # the bare NaN stored nothing (MLflow stores a 0)
        self.answers()

    def test_content_types(self):
        body = json.dumps({'name': 'ct-' + uuid.uuid4().hex[:8]}).encode()
        for ct in ('text/plain', None, 'application/x-www-form-urlencoded',
                   'application/jsonx', 'multipart/form-data; boundary=x', 'json'):
            r = self.post_raw('mlflow/experiments/create', body, content_type=ct)
            self.assertEqual(r.status, 400, (ct, r.body))
            self.assert_error_shape(r.json, 'INVALID_PARAMETER_VALUE')
            self.assertIn('Content-Type', r.json['message'])
        r = self.post_raw('mlflow/experiments/create', body,
                          content_type='application/json; charset=utf-8')
        self.assertEqual(r.status, 200, r.body)
        r = self.post_raw('mlflow/experiments/create',
                          json.dumps({'name': 'ct2-' + uuid.uuid4().hex[:8]}).encode(),
                          content_type='Application/JSON')
        self.assertEqual(r.status, 200, r.body)
        self.answers()

    def test_huge_query_and_headers(self):
        q = 'experiment_id=' + 'a' * 100000
        r = self.send('GET', '/api/2.0/mlflow/experiments/get?' + q)
        self.assertTrue(400 <= r.status < 500, r.status)
        r = self.send('GET', '/api/2.0/mlflow/experiments/get?experiment_id=0',
                      headers={'X-Big': 'b' * 100000})
        self.assertTrue(400 <= r.status < 500, r.status)
        self.answers()

    def test_host_and_origin(self):
        port = self.server.port
        route = '/api/2.0/mlflow/experiments/get?experiment_id=0'
        for host in ('evil.example.com', 'evil.example.com:%d' % port, 'cairn.internal.evil',
                     'localhost.evil.com', 'xcairn.internal', '127.0.0.1.nip.io'):
            r = self.send('GET', route, headers={'Host': host})
            self.assertEqual(r.status, 403, host)
            self.assert_error_shape(r.json, 'PERMISSION_DENIED')
        for host in ('127.0.0.1:%d' % port, '127.0.0.1', 'localhost:%d' % port, 'LOCALHOST',
                     '[::1]:%d' % port, '10.1.2.3', 'cairn.internal', 'cairn.internal:%d' % port,
                     'Cairn.Internal'):
            r = self.send('GET', route, headers={'Host': host})
            self.assertEqual(r.status, 200, (host, r.body))
        # A refused Host is refused before the body is read, on uploads too.
        r = self.send('PUT', ARTIFACTS + '/host/x.txt', raw=b'x' * 1000,
                      headers={'Host': 'evil.example.com'})
        self.assertEqual(r.status, 403)
        self.assertFalse((self.art / 'host' / 'x.txt').exists())
        # Origins: other sites' pages are refused; the same origin is fine.
        for origin in ('http://evil.example.com', 'null', 'http://127.0.0.1:1',
                       'https://127.0.0.1:%d' % port + '.evil.com'):
            r = self.send('POST', '/api/2.0/mlflow/experiments/create',
                          body={'name': 'o-' + uuid.uuid4().hex[:8]},
                          headers={'Origin': origin})
            self.assertEqual(r.status, 403, origin)
            self.assert_error_shape(r.json, 'PERMISSION_DENIED')
        r = self.send('POST', '/api/2.0/mlflow/experiments/create',
                      body={'name': 'o-' + uuid.uuid4().hex[:8]},
                      headers={'Origin': 'http://127.0.0.1:%d' % port})
        self.assertEqual(r.status, 200, r.body)
        self.answers()

    def test_many_connections_from_one_client(self):
        socks = []
        try:
            for _ in range(150):
                # A generous timeout: under ASan with the rest of the suite running beside it,
                # 150 first answers on a 2-core machine took over 15 s once (a hang still fails).
                socks.append(socket.create_connection(('127.0.0.1', self.server.port),
                                                      timeout=90))
            req = (b'GET /api/2.0/mlflow/experiments/get?experiment_id=0 HTTP/1.1\r\n'
                   b'Host: 127.0.0.1\r\n\r\n')
            for s in socks:
                s.sendall(req)
            ok = 0
            for s in socks:
                data = b''
                while b'\r\n\r\n' not in data:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                ok += data.startswith(b'HTTP/1.1 200')
            self.assertEqual(ok, len(socks))
        finally:
            for s in socks:
                s.close()
        self.answers()


class ConnectionLimits(HostileCase):
    # The workers each accept on a socket of their own (SO_REUSEPORT), so the limits are counted
    # across them: 6 connections from one address spread over the 4 workers still meet a limit
    # of 4.
    SERVER_ARGS = ('--max-connections-per-ip', '4', '--workers', '4')

    def _get(self, s):
        s.sendall(b'GET /api/2.0/mlflow/experiments/get?experiment_id=0 HTTP/1.1\r\n'
                  b'Host: 127.0.0.1\r\n\r\n')
        data = b''
        try:
            while b'\r\n\r\n' not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except (ConnectionResetError, socket.timeout):
            pass
        return data

    def test_per_ip_limit_across_workers(self):
        self.c.close()  # the shared client's connection would count too
        socks = []
        try:
            for _ in range(4):
                s = socket.create_connection(('127.0.0.1', self.server.port), timeout=10)
                self.assertTrue(self._get(s).startswith(b'HTTP/1.1 200'))
                socks.append(s)
            # The fifth and sixth are closed unanswered, whichever worker takes them.
            for _ in range(2):
                s = socket.create_connection(('127.0.0.1', self.server.port), timeout=10)
                try:
                    self.assertEqual(self._get(s), b'')
                finally:
                    s.close()
            # One closed, one more may come.
            socks.pop().close()
            deadline = time.monotonic() + 10
            while True:
                s = socket.create_connection(('127.0.0.1', self.server.port), timeout=10)
                if self._get(s).startswith(b'HTTP/1.1 200'):
                    socks.append(s)
                    break
                s.close()  # the server may not have seen the close yet
                self.assertLess(time.monotonic(), deadline, 'a freed slot was never given back')
                time.sleep(0.1)
        finally:
            for s in socks:
                s.close()
        time.sleep(0.3)
        self.answers()

    def test_second_server_on_the_same_port_refused(self):
        # SO_REUSEPORT would let a second server share the port unless the server checks.
        r = subprocess.run([harness.CAIRN_BIN, 'server', '--store', self.store, '--artifacts',
                            str(self.art), '--port', str(self.server.port)],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn('cannot listen', r.stderr)
        self.answers()

    def test_more_connections_than_select_can_watch_refused(self):
        # The workers watch their sockets with select(2): descriptors below 1024 only.
        r = subprocess.run([harness.CAIRN_BIN, 'server', '--store', self.store, '--artifacts',
                            str(self.art), '--port', '0', '--max-connections', '5000'],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn('--max-connections takes 1 to 960', r.stderr)


class ManyQueryParameters(HostileCase):
    # A query of thousands of parameters once overflowed libmicrohttpd's per-connection memory
    # (it split the query for itself) and was never answered; the server now parses queries
    # only itself, with a limit of 1024 parameters.

    def test_server_not_held_up(self):
        many = '&'.join('k%d=v' % i for i in range(3000))
        s = socket.create_connection(('127.0.0.1', self.server.port), timeout=10)
        try:
            s.sendall(b'GET /api/2.0/mlflow/experiments/get?experiment_id=0&%s HTTP/1.1\r\n'
                      b'Host: 127.0.0.1\r\n\r\n' % many.encode())
            self.answers()  # others are answered meanwhile
            # and the request itself is answered (once it never was): a status line arrives
            # before the socket's timeout.
            head = s.recv(64)
            self.assertTrue(head.startswith(b'HTTP/1.1 '), head)
        finally:
            s.close()

    def test_many_query_parameters_answered(self):
        many = '&'.join('k%d=v' % i for i in range(3000))
        status, body = raw_request(self.server.port,
                                   b'GET /api/2.0/mlflow/experiments/get?%s HTTP/1.1\r\n'
                                   b'Host: 127.0.0.1\r\n\r\n' % many.encode(), timeout=3)
        self.assertTrue(400 <= status < 500, status)


class BodyLimit(HostileCase):
    SERVER_ARGS = ('--max-body', '2048')

    def test_oversized_body_413(self):
        name = 'big-' + uuid.uuid4().hex[:8]
        r = self.send('POST', '/api/2.0/mlflow/experiments/create',
                      body={'name': name, 'pad': 'x' * 4096})
        self.assertEqual(r.status, 413, r.body)
        self.assert_error_shape(r.json)
        self.fail_with(404, 'RESOURCE_DOES_NOT_EXIST', 'GET', 'mlflow/experiments/get-by-name',
                       query={'experiment_name': name})
        # Just under the limit is fine; the same connection goes on working.
        self.post('mlflow/experiments/create', {'name': name, 'pad': 'x' * 1800})
        r = self.send('POST', '/api/2.0/mlflow/runs/log-batch',
                      body={'run_id': 'x', 'metrics': [{'key': 'm', 'value': 1,
                                                        'timestamp': 1}] * 100})
        self.assertEqual(r.status, 413)
        # Artifacts are streamed, not buffered: the JSON limit does not apply to them.
        self.put_artifact('big/blob.bin', b'z' * 100000)
        self.assertEqual((self.art / 'big' / 'blob.bin').stat().st_size, 100000)
        self.answers()


class SlowClients(HostileCase):
    SERVER_ARGS = ('--timeout', '2')

    def test_slow_loris_does_not_starve_others(self):
        stop = threading.Event()
        socks = [socket.create_connection(('127.0.0.1', self.server.port), timeout=10)
                 for _ in range(10)]
        request = b'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ' + b'a' * 100

        def trickle():
            for i in range(len(request)):
                if stop.is_set():
                    return
                for s in socks:
                    try:
                        s.send(request[i:i + 1])
                    except OSError:
                        pass
                time.sleep(1)

        t = threading.Thread(target=trickle, daemon=True)
        t.start()
        try:
            worst = 0
            deadline = time.monotonic() + 5
            n = 0
            while time.monotonic() < deadline:
                started = time.monotonic()
                self.answers()
                worst = max(worst, time.monotonic() - started)
                n += 1
                time.sleep(0.1)
            self.assertLess(worst, 1.0)
            self.assertGreater(n, 20)
        finally:
            stop.set()
            t.join()
            for s in socks:
                s.close()

    def test_idle_connections_are_closed(self):
        s = socket.create_connection(('127.0.0.1', self.server.port), timeout=10)
        started = time.monotonic()
        try:
            s.sendall(b'GET /heal')  # half a request, then nothing
            self.assertEqual(s.recv(100), b'')
        except ConnectionResetError:
            pass
        finally:
            s.close()
        took = time.monotonic() - started
        self.assertGreater(took, 1.0)
        self.assertLess(took, 8.0)
        # A keep-alive client that sits idle is closed too, and reconnects.
        c = restlib.Client(self.server.port)
        try:
            self.assertEqual(c.request('GET', '/health').status, 200)
            sock = c.conn.sock
            time.sleep(3.5)
            self.assertEqual(sock.recv(10), b'')
        finally:
            c.close()
        self.answers()


class Uploads(HostileCase):
    # libmicrohttpd notices a client that half-closed (shut down its sending side) only at
    # the idle timeout: keep it short, so that its upload is dropped soon.
    SERVER_ARGS = ('--timeout', '3')

    def leftovers(self, under=None):
        return [p for p in (under or self.art).rglob('*')
                if p.name.startswith('.cairn-upload-')]

    def wait_started(self, folder):
        deadline = time.monotonic() + 5  # the temporary file shows the upload started
        while not (folder.is_dir() and self.leftovers(folder)) and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertTrue(self.leftovers(folder), folder)

    def wait_no_leftovers(self, timeout=10):
        deadline = time.monotonic() + timeout
        while self.leftovers() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.leftovers(), [])

    def start_upload(self, port, rel, total, sent):
        s = socket.create_connection(('127.0.0.1', port), timeout=30)
        s.sendall(b'PUT %s/%s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: '
                  b'application/octet-stream\r\nContent-Length: %d\r\n\r\n'
                  % (ARTIFACTS.encode(), rel.encode(), total))
        s.sendall(b'u' * sent)
        return s

    def test_disconnect_mid_upload_leaves_nothing(self):
        for i in range(3):
            rel = 'cut/file-%d.bin' % i
            s = self.start_upload(self.server.port, rel, 1 << 20, 100000 * (i + 1))
            self.wait_started(self.art / 'cut')
            s.close()
            self.wait_no_leftovers()
            self.assertFalse((self.art / rel).exists())
        self.fail_with(404, 'RESOURCE_DOES_NOT_EXIST', 'GET',
                       'mlflow-artifacts/artifacts/cut/file-0.bin')
        # A body shorter than its Content-Length then a close: same.
        s = self.start_upload(self.server.port, 'half/short.bin', 10, 5)
        self.wait_started(self.art / 'half')
        s.shutdown(socket.SHUT_WR)
        s.close()
        self.wait_no_leftovers()
        self.assertFalse((self.art / 'half' / 'short.bin').exists())
        self.answers()

    def test_sigterm_mid_upload(self):
        srv = self.start_server('--timeout', '30')
        try:
            s = self.start_upload(srv.port, 'term/partial.bin', 1 << 20, 200000)
            self.wait_started(self.art / 'term')
            started = time.monotonic()
            srv.proc.send_signal(signal.SIGTERM)
            rc = srv.proc.wait(timeout=30)
            s.close()
            self.assertEqual(rc, 0, srv.stderr())
            self.assertLess(time.monotonic() - started, 25)
            self.assertIn('SIGTERM', srv.stderr())
        finally:
            srv.stop()
        self.assertFalse((self.art / 'term' / 'partial.bin').exists())
        self.assertEqual(self.leftovers(), [])
        self.answers()

    def test_sigterm_lets_an_upload_under_way_finish(self):
        srv = self.start_server('--timeout', '30')
        try:
            s = self.start_upload(srv.port, 'done/whole.bin', 300000, 100000)
            self.wait_started(self.art / 'done')
            srv.proc.send_signal(signal.SIGTERM)
            time.sleep(0.3)
            s.sendall(b'u' * 200000)
            s.settimeout(15)
            reply = s.recv(4096)
            s.close()
            self.assertTrue(reply.startswith(b'HTTP/1.1 200'), reply)
            self.assertEqual(srv.proc.wait(timeout=30), 0, srv.stderr())
        finally:
            srv.stop()
        self.assertEqual((self.art / 'done' / 'whole.bin').stat().st_size, 300000)
        self.assertEqual(self.leftovers(), [])


if __name__ == '__main__':
    harness.main()
