# SPDX-License-Identifier: MIT
"""`cairn tune` and `cairn study` with real processes: a Python objective tuned for 20 trials,
a pruned trial's process group stopped, a hung trial timed out, a killed tune resumed without
re-running its completed trials, and bad input (invalid space, unknown sampler, a missing
command, a trial with no value, a study resumed with another space)."""
import json
import os
import pathlib
import signal
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402

SPACE = """objective: {name: loss, goal: minimize}
parameters:
  x: {type: float, low: -5, high: 5}
  y: {type: int, low: 0, high: 6}
"""

OBJECTIVE = r"""
import argparse, os, sys, time
p = argparse.ArgumentParser()
p.add_argument('--x', type=float)
p.add_argument('--y', type=int)
a = p.parse_args()
loss = (a.x - 1) ** 2 + (a.y - 3) ** 2
assert os.environ['CAIRN_TRIAL'] and os.environ['CAIRN_STUDY']
for step in range(3):
    print('cairn: step=%d loss=%r' % (step, loss + 1.0 / (step + 1)), flush=True)
print('cairn.final: loss=%r' % loss)
"""

# Starts a grandchild that writes its pid, reports a bad value, then waits to be stopped.
PRUNED = r"""
import os, subprocess, sys, time
child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])
with open(os.environ['PIDFILE'] + '.' + os.environ['CAIRN_TRIAL'], 'w') as f:
    f.write(str(child.pid))
print('cairn: step=0 loss=100', flush=True)
time.sleep(120)
"""

HANG = "import time; time.sleep(120)\n"
GARBAGE = "print('cairn: loss=abc'); print('hello')\n"
SLOW = r"""
import argparse, time
p = argparse.ArgumentParser()
p.add_argument('--x', type=float)
p.add_argument('--y', type=int)
a = p.parse_args()
time.sleep(0.4)
print('cairn.final: loss=%r' % ((a.x - 1) ** 2 + a.y))
"""


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is gone for our purpose
        with open('/proc/%d/stat' % pid) as f:
            return f.read().split()[2] != 'Z'
    except OSError:
        return False


class Tune(harness.CairnTest):
    def test_tunes_a_script_and_finds_the_best(self):
        space = self.write('space.yaml', SPACE)
        script = self.write('obj.py', OBJECTIVE)
        proc = self.cairn('tune', '--space', space, '--study', 's', '--trials', 20, '-j', 2,
                          '--seed', 3, '--sampler', 'tpe:n_startup_trials=5', '--',
                          sys.executable, script)
        self.assertIn("study 's' created", proc.stderr)
        self.assertIn('best: trial', proc.stdout)
        trials = self.trials('s')
        self.assertEqual([t['number'] for t in trials], list(range(20)))
        self.assertTrue(all(t['state'] == 'COMPLETE' for t in trials))
        for t in trials:
            want = (t['params']['x'] - 1) ** 2 + (t['params']['y'] - 3) ** 2
            self.assertAlmostEqual(t['value'], want, places=9)
        best = self.cairn_json('study', 'best', 's', '--json')
        self.assertEqual(best['value'], min(t['value'] for t in trials))
        # The trials are runs: params, the objective metric, tags.
        run = self.cairn_json('runs', 'show', best['run_id'], '--json')
        text = json.dumps(run)
        self.assertIn('cairn.study', text)
        self.assertIn('FINISHED', text)
        listed = self.cairn_json('study', 'list', '--json')['studies']
        self.assertEqual([(s['name'], s['n_complete']) for s in listed], [('s', 20)])
        # Asking for 20 again runs nothing more.
        self.cairn('tune', '--space', space, '--study', 's', '--trials', 20, '--',
                   sys.executable, script)
        self.assertEqual(len(self.trials('s')), 20)

    def test_pruned_trial_process_group_is_stopped(self):
        space = self.write('space.yaml', SPACE)
        script = self.write('pruned.py', PRUNED)
        pidfile = str(self.tmp / 'pid')
        t0 = time.time()
        proc = self.cairn('tune', '--space', space, '--study', 'p', '--trials', 2,
                          '--pruner', 'threshold:upper=10', '--kill-grace', 2, '--',
                          sys.executable, script, env={'PIDFILE': pidfile})
        self.assertLess(time.time() - t0, 60)
        self.assertIn('PRUNED', proc.stderr)
        trials = self.trials('p')
        self.assertEqual([t['state'] for t in trials], ['PRUNED', 'PRUNED'])
        for n in (0, 1):
            pid = int(pathlib.Path('%s.%d' % (pidfile, n)).read_text())
            for _ in range(50):
                if not alive(pid):
                    break
                time.sleep(0.1)
            self.assertFalse(alive(pid), 'grandchild %d of trial %d still runs' % (pid, n))

    def test_hung_trial_times_out(self):
        space = self.write('space.yaml', SPACE)
        script = self.write('hang.py', HANG)
        t0 = time.time()
        proc = self.cairn('tune', '--space', space, '--study', 'h', '--trials', 1,
                          '--trial-timeout', 1, '--kill-grace', 1, '--',
                          sys.executable, script)
        self.assertLess(time.time() - t0, 30)
        self.assertIn('FAIL: timeout', proc.stderr)
        self.assertEqual([t['state'] for t in self.trials('h')], ['FAIL'])

    def test_killed_tune_resumes_without_rerunning(self):
        space = self.write('space.yaml', SPACE)
        script = self.write('slow.py', SLOW)
        env = dict(os.environ, CAIRN_HEARTBEAT_S='0.5')
        env.pop('CAIRN_STORE', None)
        cmd = [harness.CAIRN_BIN, '--store', self.store, 'tune', '--space', space, '--study',
               'r', '--trials', '8', '--', sys.executable, script]
        first = subprocess.Popen(cmd, cwd=self.tmp, env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        try:
            deadline = time.time() + 60
            done = []
            while time.time() < deadline:
                time.sleep(0.2)
                proc = self.cairn('study', 'trials', 'r', '--json', expect=None)
                if proc.returncode == 0:
                    done = [t for t in json.loads(proc.stdout)['trials']
                            if t['state'] == 'COMPLETE']
                    if len(done) >= 3:
                        break
            self.assertGreaterEqual(len(done), 3)
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait()
        before = {t['number']: (t['value'], t['run_id'])
                  for t in self.trials('r') if t['state'] == 'COMPLETE'}
        self.cairn('tune', '--space', space, '--study', 'r', '--trials', 8, '--',
                   sys.executable, script, env={'CAIRN_HEARTBEAT_S': '0.5'})
        after = self.trials('r')
        for n, (value, run) in before.items():
            self.assertEqual((after[n]['value'], after[n]['run_id']), (value, run))
        complete = [t for t in after if t['state'] == 'COMPLETE']
        self.assertEqual(len(complete), 8)
        # The trial the kill interrupted became STALE, and a copy of it ran.
        for t in after:
            self.assertIn(t['state'], ('COMPLETE', 'STALE'))
            if t['state'] == 'STALE':
                self.assertTrue(any(u['retry_of'] == t['number'] for u in after))

    def test_bad_input_gives_clear_messages(self):
        script = self.write('obj.py', OBJECTIVE)
        bad = self.write('bad.yaml', 'parameters:\n  lr: {type: float, low: 0, high: 1, '
                                     'log: true}\n')
        self.cairn_error('tune', '--space', bad, '--', sys.executable, script,
                         mentions=("parameter 'lr'", 'log scale'))
        space = self.write('space.yaml', SPACE)
        self.cairn_error('tune', '--space', space, '--sampler', 'nope', '--',
                         sys.executable, script, mentions=('unknown sampler',))
        self.cairn_error('tune', '--space', space, '--study', 'missing', '--',
                         'no-such-command-xyz', mentions=('no-such-command-xyz', 'not found'))
        self.assertEqual(self.cairn_json('study', 'list', '--json')['studies'][0]['n_running'],
                         0)
        garbage = self.write('garbage.py', GARBAGE)
        proc = self.cairn('tune', '--space', space, '--study', 'g', '--trials', 2, '--',
                          sys.executable, garbage)
        self.assertIn('metrics-unavailable', proc.stderr)
        self.assertIn('could not be read', proc.stderr)
        self.assertEqual([t['state'] for t in self.trials('g')], ['FAIL', 'FAIL'])
        # A study resumed with another space is refused; its trials stay.
        other = self.write('other.yaml', SPACE.replace('high: 6', 'high: 7'))
        self.cairn_error('tune', '--space', other, '--study', 'g', '--',
                         sys.executable, script, mentions=('different search space',))
        self.cairn_error('tune', '--space', space, '--study', 'g', '--direction', 'maximize',
                         '--', sys.executable, script, mentions=('direction minimize',))
        self.assertEqual(len(self.trials('g')), 2)
        self.cairn_error('study', 'best', 'g', mentions=('no COMPLETE trial',))
        self.cairn_error('study', 'show', 'nope', mentions=("study 'nope' not found",))
        self.cairn('study', 'delete', 'g')
        self.cairn_error('study', 'trials', 'g', mentions=("'g' not found",))


if __name__ == '__main__':
    harness.main()
