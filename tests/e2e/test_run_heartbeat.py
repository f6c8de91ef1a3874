# SPDX-License-Identifier: MIT
"""Lost runs through the CLI: `cairn run` killed with SIGKILL leaves a run that `runs list`
and `runs show` report KILLED (reason lost) and that is then stored so (a filter on the
stored status finds it); `runs set-status` ends it by hand and refuses RUNNING; a live run
that keeps beating is never reaped. Runs on SQLite and PostgreSQL. Waits are deadlines."""
import os
import pathlib
import signal
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402

GENEROUS_S = 60
BEAT = {'CAIRN_HEARTBEAT_S': '1'}


def wait_for(pred, timeout=GENEROUS_S, every=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(every)
    return pred()


class RunHeartbeat(harness.CairnTest):
    def setUp(self):
        super().setUp()
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait(GENEROUS_S)
        super().tearDown()

    def start_run(self, script_text):
        script = self.tmp / 'job.sh'
        script.write_text(script_text)
        script.chmod(0o755)
        err = open(self.tmp / 'cairn.err', 'wb')
        p = subprocess.Popen([harness.CAIRN_BIN, '--store', self.store, 'run', '--no-git', '--',
                              str(script)], cwd=self.tmp, stdout=subprocess.DEVNULL, stderr=err,
                             env=self._env(BEAT))
        err.close()
        self.procs.append(p)
        return p

    def runs(self):
        return self.cairn_json('runs', 'list', '--json', env=BEAT)['runs']

    def one_run(self):
        runs = self.runs()
        return runs[0] if len(runs) == 1 else None

    def test_killed_run_is_reported_lost_stored_killed_and_set_by_hand(self):
        p = self.start_run('#!/bin/sh\necho "cairn: step=1 loss=0.5"\ntouch started\n'
                           'exec sleep 300\n')
        self.assertTrue(wait_for(lambda: (self.tmp / 'started').exists() and self.one_run()))
        self.assertEqual(self.one_run()['status'], 'RUNNING')
        p.send_signal(signal.SIGKILL)
        p.wait(GENEROUS_S)

        self.assertTrue(wait_for(lambda: self.one_run()['status'] == 'KILLED'), self.runs())
        run = self.one_run()
        self.assertEqual(run['tags'].get('cairn.status_reason'), 'lost')
        self.assertIsNotNone(run['end_time'])
        self.assertGreaterEqual(run['end_time'], run['start_time'])
        shown = self.cairn('runs', 'show', run['run_id'], env=BEAT).stdout
        self.assertIn('KILLED (lost)', shown)
        # `runs list` opened the store for writing, so the stored status is KILLED now.
        found = self.cairn_json('runs', 'search', '--filter', "attributes.status = 'KILLED'",
                                '--json')['runs']
        self.assertEqual([r['run_id'] for r in found], [run['run_id']])

        out = self.cairn('runs', 'set-status', run['run_id'][:8], 'FAILED').stdout
        self.assertIn('set run %s to FAILED' % run['run_id'], out)
        again = self.cairn_json('runs', 'show', run['run_id'], '--json')
        self.assertEqual(again['status'], 'FAILED')
        self.assertEqual(again['end_time'], run['end_time'])  # the last heartbeat
        self.assertNotIn('cairn.status_reason', again['tags'])

        proc = self.cairn('runs', 'set-status', run['run_id'], 'RUNNING', expect=2)
        self.assertIn('KILLED, FAILED or FINISHED', proc.stderr)
        self.cairn('runs', 'set-status', run['run_id'], expect=2)
        self.cairn_error('runs', 'set-status', 'ffffffffffff', 'FINISHED', mentions=['ffffffffffff'])
        self.assertEqual(self.cairn_json('runs', 'show', run['run_id'], '--json')['status'],
                         'FAILED')

    def test_set_status_ends_a_run_that_was_never_finished(self):
        ids = self.seed('run e1 name=left-open\n')
        self.assertEqual(self.cairn_json('runs', 'show', ids[0], '--json')['status'], 'RUNNING')
        before = int(time.time() * 1000)
        self.cairn('runs', 'set-status', ids[0], 'FINISHED')
        run = self.cairn_json('runs', 'show', ids[0], '--json')
        self.assertEqual(run['status'], 'FINISHED')
        self.assertGreaterEqual(run['end_time'], before - 1000)

    def test_a_live_run_that_beats_is_never_reaped(self):
        p = self.start_run('#!/bin/sh\ntouch started\nwhile [ ! -e stop ]; do sleep 0.1; done\n'
                           'echo "cairn: step=1 loss=0.5"\n')
        self.assertTrue(wait_for(lambda: (self.tmp / 'started').exists() and self.one_run()))
        started = time.monotonic()
        while time.monotonic() - started < 4.5:  # more than three 1 s intervals
            self.assertEqual(self.one_run()['status'], 'RUNNING')
            time.sleep(0.5)
        (self.tmp / 'stop').touch()
        self.assertEqual(p.wait(GENEROUS_S), 0, (self.tmp / 'cairn.err').read_text())
        run = self.one_run()
        self.assertEqual(run['status'], 'FINISHED')
        self.assertNotIn('cairn.status_reason', run['tags'])


if __name__ == '__main__':
    harness.main()
