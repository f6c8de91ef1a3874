# SPDX-License-Identifier: MIT
"""A bounded load test of `cairn server`: concurrent keep-alive clients (cairn-loadgen) mix
log-metric, log-batch and search for a few seconds, then every metric history is read back over
REST and compared with what the server accepted: no errors, no lost points, no duplicated ones.
On SQLite against one server; in the PostgreSQL variant (scripts/with-pg.sh) against two
replicas on one store, connections round-robin between them. The check is bench/bench_server.py
--load-test's, on a shorter clock. Counts, not timings, are asserted."""
import os
import subprocess
import sys

from harness import BUILD_DIR, CAIRN_BIN, SOURCE_DIR, CairnTest, main

sys.path.insert(0, str(SOURCE_DIR / 'bench'))
import bench_server  # noqa: E402

LOADGEN = BUILD_DIR / 'bench' / 'cairn-loadgen'
DURATION_S = float(os.environ.get('CAIRN_LOAD_SECONDS', '5'))


class ServerLoadTest(CairnTest):
    def setUp(self):
        super().setUp()
        if not LOADGEN.exists():
            self.skipTest('bench/cairn-loadgen not built (CAIRN_BENCH=OFF)')
        probe = subprocess.run([CAIRN_BIN, 'server', '--help'], capture_output=True, text=True,
                               timeout=60)
        # Every build has `cairn server`: a failing probe is a broken binary (a crash at load
        # time, say), never a reason to skip.
        self.assertEqual(probe.returncode, 0,
                         'cairn server --help failed:\n' + probe.stdout + probe.stderr)

    def test_mixed_load_loses_and_doubles_nothing(self):
        replicas = 2 if os.environ.get('CAIRN_TEST_PG') else 1
        result = bench_server.load_test(CAIRN_BIN, LOADGEN, self.store, replicas=replicas,
                                        duration_s=DURATION_S, connections=8, n_runs=6,
                                        workdir=self.tmp)
        rep = result['report']
        detail = '%s\n%s\n%s' % ({k: v for k, v in result.items() if k != 'report'},
                                 rep.get('stderr', ''), result.get('server_output', ''))
        self.assertEqual(rep['errors'], 0, detail)
        self.assertEqual(rep['non_2xx'], 0, detail)
        self.assertEqual(result['failed_requests'], 0, detail)
        names = {t['name']: t for t in rep['templates']}
        for name in ('log-metric', 'log-batch', 'search'):
            self.assertGreater(names[name]['ok'], 0, '%s never ran\n%s' % (name, detail))
        self.assertGreater(result['accepted'], 0, detail)
        self.assertEqual(result['lost'], 0, detail)
        self.assertEqual(result['extra'], 0, detail)
        self.assertEqual(result['duplicated'], 0, detail)
        self.assertEqual(result['stored'], result['accepted'], detail)
        self.assertEqual(result['server_exit_codes'], [0] * replicas, detail)


if __name__ == '__main__':
    main()
