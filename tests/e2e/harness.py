# SPDX-License-Identifier: MIT
"""Shared helper for the e2e tests: a temp dir with a SQLite store per test and a runner for
the cairn binary ($CAIRN_BIN). Stdlib only.

    class T(CairnTest):
        def test_x(self):
            out = self.cairn('exp', 'create', 'e1').stdout
            exps = self.cairn_json('exp', 'list', '--json')
"""
import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import unittest

CAIRN_BIN = os.environ.get('CAIRN_BIN', 'cairn')
SOURCE_DIR = pathlib.Path(os.environ.get('CAIRN_SOURCE_DIR',
                                         pathlib.Path(__file__).resolve().parents[2]))
BUILD_DIR = pathlib.Path(os.environ.get('CAIRN_BUILD_DIR', SOURCE_DIR / 'build' / 'dev'))
TIMEOUT_S = 120


class CairnTest(unittest.TestCase):
    """A test with its own temp dir (self.tmp) and store (self.store)."""

    maxDiff = None

    def setUp(self):
        super().setUp()
        self.tmp = pathlib.Path(tempfile.mkdtemp(prefix='cairn-e2e-'))
        self.addCleanup(shutil.rmtree, self.tmp, True)
        pg = os.environ.get('CAIRN_TEST_PG')
        if pg:
            self.store = self._pg_database(pg)
        else:
            self.store = 'sqlite:///' + str(self.tmp / 'cairn.db').lstrip('/')

    def _pg_database(self, uri):
        """A fresh database per test on the server scripts/with-pg.sh started; dropped after."""
        import urllib.parse
        import uuid
        parts = urllib.parse.urlsplit(uri)
        query = urllib.parse.parse_qs(parts.query)
        host = query.get('host', [''])[0]
        user = query.get('user', ['postgres'])[0]
        port = query.get('port', ['5432'])[0]
        name = 'e2e_' + uuid.uuid4().hex[:12]
        base = ['-h', host, '-p', port, '-U', user]
        subprocess.run(['createdb', *base, name], check=True, capture_output=True)
        self.addCleanup(subprocess.run, ['dropdb', *base, '--if-exists', name],
                        capture_output=True)
        # Not urlunsplit: it drops the empty authority of postgresql:///db (postgresql:/db).
        return '%s://%s/%s?%s' % (parts.scheme, parts.netloc, name, parts.query)

    def _env(self, env):
        full = dict(os.environ)
        full.pop('CAIRN_STORE', None)
        if env:
            full.update(env)
        return full

    def cairn(self, *args, expect=0, input=None, env=None, store=True):
        """Runs `cairn --store <self.store> ARGS`; checks the exit code unless expect is None
        and returns the CompletedProcess (stdout and stderr as text)."""
        cmd = [CAIRN_BIN] + (['--store', self.store] if store else []) + [str(a) for a in args]
        proc = subprocess.run(cmd, input=input, capture_output=True, text=True,
                              errors='replace', env=self._env(env), cwd=self.tmp,
                              timeout=TIMEOUT_S)
        if expect is not None and proc.returncode != expect:
            self.fail('%s exited %d, expected %d\n--- stdout\n%s--- stderr\n%s'
                      % (' '.join(cmd), proc.returncode, expect, proc.stdout, proc.stderr))
        return proc

    def cairn_json(self, *args, **kwargs):
        """Runs cairn like cairn() and parses its stdout as JSON."""
        proc = self.cairn(*args, **kwargs)
        try:
            return json.loads(proc.stdout)
        except ValueError as e:
            self.fail('stdout of cairn %s is not JSON (%s):\n%s' % (' '.join(args), e,
                                                                  proc.stdout))

    def cairn_error(self, *args, expect=1, mentions=(), **kwargs):
        """Runs cairn expecting failure; checks stderr starts with 'cairn: error:' and holds
        every string of `mentions`. Returns stderr."""
        proc = self.cairn(*args, expect=expect, **kwargs)
        self.assertIn('cairn: error:', proc.stderr)
        for text in mentions:
            self.assertIn(text, proc.stderr)
        return proc.stderr

    def write(self, name, text):
        """Writes text to self.tmp/name; returns its path as a string."""
        path = self.tmp / name
        path.write_text(text)
        return str(path)

    def trials(self, study):
        """The trials of a study, as `cairn study trials NAME --json` lists them."""
        return self.cairn_json('study', 'trials', study, '--json')['trials']

    def seed(self, spec):
        """Fills self.store from a spec for tests/e2e/seed_store.c; returns the run ids in
        the order the spec starts them."""
        tool = os.environ.get('CAIRN_SEED_STORE')
        if not tool:
            self.skipTest('CAIRN_SEED_STORE is not set (run through ctest)')
        proc = subprocess.run([tool, self.store], input=spec, capture_output=True, text=True,
                              env=self._env(None), cwd=self.tmp, timeout=TIMEOUT_S)
        if proc.returncode != 0:
            self.fail('cairn_seed_store failed:\n%s%s' % (proc.stdout, proc.stderr))
        return proc.stdout.split()


def usage_lines(text):
    """The 'usage: ' line and the '   or: ' lines after it, without those prefixes."""
    out = []
    for line in text.splitlines():
        if not out and line.startswith('usage: '):
            out.append(line[len('usage: '):].rstrip())
        elif out and line.startswith('   or: '):
            out.append(line[len('   or: '):].rstrip())
        elif out:
            break
    return out


def alive(pid):
    """Whether process pid runs (a zombie counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError:
        return False


def main():
    unittest.main(verbosity=2)
