# SPDX-License-Identifier: MIT
"""Shared by the REST e2e tests (test_rest*.py): `cairn server` on a fresh store, a small
keep-alive JSON client, and a TestCase base that starts one server per test class. Stdlib only.

    class T(restlib.RestCase):
        SERVER_ARGS = ('--timeout', '5')
        def test_x(self):
            exp = self.post('mlflow/experiments/create', {'name': 'e'})['experiment_id']
            self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'POST', 'mlflow/runs/log-metric', {})

The store is SQLite in the class's temp dir, or a fresh PostgreSQL database when
CAIRN_TEST_PG is set (scripts/with-pg.sh sets it), as harness.CairnTest picks its store.
"""
import http.client
import json
import os
import pathlib
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import uuid

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402

START_TIMEOUT_S = 30


def pg_database(uri):
    """A fresh database on the server scripts/with-pg.sh started; returns (store URI, drop)."""
    parts = urllib.parse.urlsplit(uri)
    query = urllib.parse.parse_qs(parts.query)
    base = ['-h', query.get('host', [''])[0], '-p', query.get('port', ['5432'])[0],
            '-U', query.get('user', ['postgres'])[0]]
    name = 'rest_' + uuid.uuid4().hex[:12]
    subprocess.run(['createdb', *base, name], check=True, capture_output=True)

    def drop():
        subprocess.run(['dropdb', *base, '--if-exists', name], capture_output=True)
    # Not urlunsplit: it drops the empty authority of postgresql:///db and the URI would
    # become postgresql:/db, which is no PostgreSQL URI.
    return '%s://%s/%s?%s' % (parts.scheme, parts.netloc, name, parts.query), drop


class Server:
    """`cairn server --port 0` on STORE with artifacts in ART; stop() sends SIGTERM."""

    def __init__(self, store, art, workdir, *extra):
        self.art = pathlib.Path(art)
        self.stderr_path = pathlib.Path(workdir) / ('server-%s.err' % uuid.uuid4().hex[:6])
        env = dict(os.environ)
        env.pop('CAIRN_STORE', None)
        self._err = open(self.stderr_path, 'wb')
        self.proc = subprocess.Popen(
            [harness.CAIRN_BIN, 'server', '--store', store, '--artifacts', str(art), '--port',
             '0', *[str(a) for a in extra]],
            stdout=subprocess.PIPE, stderr=self._err, env=env, cwd=str(workdir))
        line = b''
        deadline = time.monotonic() + START_TIMEOUT_S
        while not line.endswith(b'\n') and time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.5)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    break
                line += chunk
        text = line.decode(errors='replace')
        marker = 'listening on http://127.0.0.1:'
        if marker not in text:
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError('cairn server did not start: %r\n%s' % (text, self.stderr()))
        self.port = int(text.split(marker)[1].split()[0])
        self.base = 'http://127.0.0.1:%d' % self.port

    def stderr(self):
        if not self._err.closed:
            self._err.flush()
        return self.stderr_path.read_text(errors='replace')

    def alive(self):
        return self.proc.poll() is None

    def stop(self, timeout=20):
        """SIGTERM, then wait; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self._err.close()
                raise
        self.proc.stdout.close()
        self._err.close()
        return self.proc.returncode


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name):
        return self.headers.get(name)

    @property
    def json(self):
        return json.loads(self.body.decode('utf-8'))


class Client:
    """JSON over one keep-alive connection (reopened if the server closed it)."""

    def __init__(self, port, timeout=30):
        self.port = port
        self.timeout = timeout
        self.conn = None
        self.connects = 0

    def _open(self):
        self.conn = http.client.HTTPConnection('127.0.0.1', self.port, timeout=self.timeout)
        self.connects += 1

    def close(self):
        if self.conn:
            self.conn.close()
            self.conn = None

    def request(self, method, path, body=None, raw=None, query=None, headers=None,
                content_type='application/json'):
        """body: a value sent as JSON; raw: bytes sent as they are. query: dict (lists become
        repeated keys) or a ready string."""
        if query:
            path += '?' + (query if isinstance(query, str)
                           else urllib.parse.urlencode(query, doseq=True))
        hdrs = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
        elif raw is not None:
            data = raw
        if data is not None and content_type is not None:
            hdrs.setdefault('Content-Type', content_type)
        for attempt in (0, 1):
            if self.conn is None:
                self._open()
            try:
                self.conn.request(method, path, body=data, headers=hdrs)
                resp = self.conn.getresponse()
                payload = resp.read()
                out = Response(resp.status, {k.lower(): v for k, v in resp.getheaders()},
                               payload)
                if resp.will_close:
                    self.close()
                return out
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt:
                    raise
            except Exception:
                self.close()  # a timeout leaves http.client mid-request: start afresh
                raise
        raise AssertionError('unreachable')


class RestCase(unittest.TestCase):
    """One `cairn server` per test class on a fresh store; self.c is a keep-alive client."""

    maxDiff = None
    SERVER_ARGS = ()
    PREFIX = '/api/2.0/'
    ALLOW_BAD_EXIT = False  # a known server bug makes its exit status unreliable

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = pathlib.Path(tempfile.mkdtemp(prefix='cairn-rest-'))
        cls._drop = None
        pg = os.environ.get('CAIRN_TEST_PG')
        if pg:
            cls.store, cls._drop = pg_database(pg)
        else:
            cls.store = 'sqlite:///' + str(cls.tmp / 's.db').lstrip('/')
        cls.art = cls.tmp / 'art'
        try:
            cls.server = cls.start_server(*cls.SERVER_ARGS)
        except Exception:
            cls._cleanup_dirs()
            raise
        cls.c = Client(cls.server.port)

    @classmethod
    def start_server(cls, *extra):
        return Server(cls.store, cls.art, cls.tmp, *extra)

    @classmethod
    def _cleanup_dirs(cls):
        if cls._drop:
            cls._drop()
        shutil.rmtree(cls.tmp, True)

    @classmethod
    def tearDownClass(cls):
        cls.c.close()
        rc = cls.server.stop()
        err = cls.server.stderr()
        cls._cleanup_dirs()
        super().tearDownClass()
        if rc != 0 and not cls.ALLOW_BAD_EXIT:
            raise AssertionError('cairn server exited %d on SIGTERM\n%s' % (rc, err))

    def setUp(self):
        super().setUp()
        self.assertTrue(self.server.alive(), 'the server died:\n' + self.server.stderr())

    def tearDown(self):
        self.assertTrue(self.server.alive(), 'the server died:\n' + self.server.stderr())
        super().tearDown()

    # ---- requests ----

    def call(self, method, route, body=None, query=None, status=200, prefix=None, **kw):
        """method on PREFIX+route; checks the status and that the answer is a JSON object
        (an error one {error_code, message} unless 200). Returns the parsed object."""
        path = (prefix or self.PREFIX) + route
        r = self.c.request(method, path, body=body, query=query, **kw)
        self.assertEqual(r.status, status, '%s %s -> %d %s' % (method, path, r.status,
                                                              r.body[:600]))
        self.assertTrue(r.header('content-type', ).startswith('application/json'),
                        r.header('content-type'))
        doc = r.json
        self.assertIsInstance(doc, dict)
        if status != 200:
            self.assert_error_shape(doc)
        return doc

    def assert_error_shape(self, doc, code=None):
        self.assertIn('error_code', doc)
        self.assertIsInstance(doc['error_code'], str)
        self.assertIsInstance(doc.get('message'), str)
        self.assertTrue(doc['message'])
        if code:
            self.assertEqual(doc['error_code'], code, doc['message'])

    def post(self, route, body=None, status=200, **kw):
        return self.call('POST', route, body={} if body is None else body, status=status, **kw)

    def get(self, route, status=200, **query):
        return self.call('GET', route, query=query or None, status=status)

    def fail_with(self, status, code, method, route, body=None, query=None, mentions=(),
                  **kw):
        """Expects an error answer; returns its message."""
        if body is None and method != 'GET':
            body = {}
        doc = self.call(method, route, body=body, query=query, status=status, **kw)
        self.assert_error_shape(doc, code)
        for text in mentions:
            self.assertIn(text, doc['message'])
        return doc['message']

    # ---- entities ----

    def new_experiment(self, name=None, tags=None):
        body = {'name': name or 'exp-' + uuid.uuid4().hex[:10]}
        if tags:
            body['tags'] = tags
        return self.post('mlflow/experiments/create', body)['experiment_id']

    def new_run(self, exp_id, **fields):
        body = {'experiment_id': exp_id, 'start_time': int(time.time() * 1000)}
        body.update(fields)
        return self.post('mlflow/runs/create', body)['run']

    def put_artifact(self, rel, data, status=200, content_type='text/plain'):
        r = self.c.request('PUT', '/api/2.0/mlflow-artifacts/artifacts/' + rel, raw=data,
                           content_type=content_type)
        self.assertEqual(r.status, status, r.body[:400])
        return r
