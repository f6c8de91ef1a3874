# SPDX-License-Identifier: MIT
"""`cairn pipeline` with real processes: a pipeline on data/breast_cancer.csv runs to a
registered, served model; a second run skips every stage; a changed config re-runs only the
stages downstream of it; a pipeline killed with SIGKILL mid-stage resumes at that stage;
--dry-run says what would run and why; status and stop; bad files (a cycle, a missing input,
an unknown kind, a wrong type) each give a clear message naming the place."""
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402

DATA = harness.SOURCE_DIR / 'data'

CONFIG = """name: bc
seed: 1
data: {path: data.csv, label: target}
split: {method: stratified, test: 0.2, val: 0.2}
learner: {name: logistic}
metrics: [accuracy]
bootstrap: 50
"""

PIPELINE = """name: bc_pipe
stages:
  validate: {kind: validate, data: data.csv}
  split:    {kind: split, data: data.csv, config: experiment-config.yaml, after: [validate]}
  train:    {kind: train, config: experiment-config.yaml, after: [split]}
  evaluate: {kind: evaluate, after: [train]}
  register: {kind: register, model: bc, after: [evaluate]}
  alias:    {kind: command, run: [cairn, model, alias, bc, production, "${register.version}"],
             after: [register]}
  serve:    {kind: deploy, model: bc, alias: production, after: [alias]}
"""


class Pipeline(harness.CairnTest):
    def setUp(self):
        super().setUp()
        self.proj = self.tmp / 'proj'
        self.proj.mkdir()
        shutil.copy(DATA / 'breast_cancer.csv', self.proj / 'data.csv')
        (self.proj / 'experiment-config.yaml').write_text(CONFIG)
        self.addCleanup(self.stop_all)

    def stop_all(self):
        for p in self.proj.glob('*.yaml'):
            if 'deploy' in p.read_text():
                self.cairn('pipeline', 'stop', p, expect=None)

    def write(self, name, text):
        path = self.proj / name
        path.write_text(text)
        return path

    def run_json(self, path, *extra, expect=0):
        proc = self.cairn('pipeline', 'run', path, '--json', *extra, expect=expect)
        return json.loads(proc.stdout), proc

    def states(self, report):
        return {s['name']: s['state'] for s in report['stages']}

    def test_runs_to_a_served_model_then_everything_is_cached(self):
        path = self.write('pipeline.yaml', PIPELINE)
        first, _ = self.run_json(path)
        self.assertEqual(first['status'], 'FINISHED')
        self.assertEqual([s['name'] for s in first['stages']],
                         ['validate', 'split', 'train', 'evaluate', 'register', 'alias',
                          'serve'])
        self.assertEqual(set(self.states(first).values()), {'ran'})
        outputs = {s['name']: s['outputs'] for s in first['stages']}
        self.assertEqual(outputs['register']['version'], '1')
        model = self.cairn_json('model', 'show', 'bc', '--alias', 'production', '--json')
        self.assertEqual(model['run_id'], outputs['train']['run_id'])
        url = first['serve_url']
        self.assertTrue(url.startswith('http://127.0.0.1:'), url)
        with urllib.request.urlopen(url + '/ping', timeout=10) as r:
            self.assertEqual(r.status, 200)
        # Each stage is a child run of the pipeline's run, with its cache key recorded.
        run = self.cairn_json('runs', 'show', first['stages'][2]['run_id'], '--json')
        tags = run.get('tags') or run['data']['tags']
        if isinstance(tags, list):
            tags = {t['key']: t['value'] for t in tags}
        self.assertEqual(tags['mlflow.parentRunId'], first['run_id'])
        self.assertEqual(tags['cairn.pipeline.stage'], 'train')
        self.assertEqual(len(tags['cairn.pipeline.cache_key']), 64)
        self.assertIn('experiment-config.yaml', tags['cairn.pipeline.inputs'])

        second, _ = self.run_json(path)
        self.assertEqual(set(self.states(second).values()), {'cached'})
        self.assertEqual({s['name']: s['outputs'].get('run_id') for s in second['stages']},
                         {s['name']: s['outputs'].get('run_id') for s in first['stages']})
        self.assertEqual(second['serve_url'], url)  # the running server is kept
        # The human form: progress per stage on stderr and a summary on stdout.
        proc = self.cairn('pipeline', 'run', path)
        self.assertIn('[3/7] train', proc.stderr)
        self.assertIn('cached', proc.stderr)
        self.assertIn('0 of 7 stages ran, 7 cached', proc.stdout)
        self.assertIn('model: bc version 1', proc.stdout)
        status = self.cairn_json('pipeline', 'status', path, '--json')
        self.assertEqual(set(self.states(status).values()), {'cached'})
        self.assertTrue(all(s['cache_hit'] for s in status['stages']))
        table = self.cairn('pipeline', 'status', path).stdout
        self.assertIn('STAGE', table)
        self.assertIn('cached', table)

        out = self.cairn('pipeline', 'stop', path).stdout
        self.assertIn('stopped', out)
        self.assertIn('no server', self.cairn('pipeline', 'stop', path).stdout)
        # With its server gone the deploy stage runs again; nothing else does.
        third, _ = self.run_json(path)
        self.assertEqual(self.states(third)['serve'], 'ran')
        self.assertEqual([n for n, s in self.states(third).items() if s == 'ran'], ['serve'])

    def test_changed_config_reruns_only_downstream(self):
        text = PIPELINE.replace('  serve:', '# serve:')
        path = self.write('pipeline.yaml', text)
        self.run_json(path)
        dry = self.cairn('pipeline', 'run', path, '--dry-run').stdout
        self.assertEqual(dry.count('skip'), 6, dry)
        cfg = self.proj / 'experiment-config.yaml'
        os.utime(cfg)  # touching alone changes no digest
        dry = self.cairn('pipeline', 'run', path, '--dry-run').stdout
        self.assertNotIn('would run', dry)
        cfg.write_text(CONFIG.replace('bootstrap: 50', 'bootstrap: 60'))
        dry = self.cairn('pipeline', 'run', path, '--dry-run').stdout
        lines = {}
        for line in dry.splitlines():
            m = re.match(r'(skip|would run)\s+(\S+)\s+(.*)$', line)
            self.assertTrue(m, line)
            lines[m.group(2)] = line
        self.assertTrue(lines['validate'].startswith('skip'), dry)
        self.assertIn("input 'experiment-config.yaml' changed", lines['split'])
        self.assertIn("upstream 'split' will run", lines['train'])
        again, _ = self.run_json(path)
        st = self.states(again)
        self.assertEqual(st['validate'], 'cached')
        for name in ('split', 'train', 'evaluate', 'register', 'alias'):
            self.assertEqual(st[name], 'ran', name)
        self.assertEqual(again['stages'][4]['outputs']['version'], '2')
        # The data changing reaches train through its config's data path.
        more = self.run_json(path)[0]
        self.assertEqual(set(self.states(more).values()), {'cached'})
        row = (self.proj / 'data.csv').read_text().splitlines()[5]
        with open(self.proj / 'data.csv', 'a') as f:
            f.write(row + '\n')
        dry = self.cairn('pipeline', 'run', path, '--dry-run').stdout
        self.assertIn("input 'data.csv' changed", dry)
        # --from forces a stage and those after it.
        forced, _ = self.run_json(path, '--dry-run', '--from', 'register')
        self.assertEqual(self.states(forced)['register'], 'would run')
        self.assertIn('--from register', forced['stages'][4]['reason'])

    def test_killed_pipeline_resumes_at_the_stage_that_did_not_finish(self):
        text = """name: resume
stages:
  validate: {kind: validate, data: data.csv}
  train:    {kind: train, config: experiment-config.yaml, after: [validate]}
  slow:     {kind: command, run: [sh, -c, "touch started; [ -f go ] || sleep 60; echo ok > slow.txt"],
             outputs: [slow.txt], after: [train]}
  last:     {kind: command, run: [sh, -c, "cat slow.txt > last.txt"], inputs: [slow.txt],
             outputs: [last.txt]}
"""
        path = self.write('pipeline.yaml', text)
        cmd = [harness.CAIRN_BIN, '--store', self.store, 'pipeline', 'run', str(path)]
        proc = subprocess.Popen(cmd, cwd=self.tmp, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True)
        try:
            deadline = time.time() + 60
            while not (self.proj / 'started').exists():
                self.assertLess(time.time(), deadline, 'the slow stage never started')
                self.assertIsNone(proc.poll(), proc.stderr.read() if proc.poll() else '')
                time.sleep(0.05)
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
        (self.proj / 'go').write_text('')
        dry = self.cairn('pipeline', 'run', path, '--dry-run').stdout
        self.assertRegex(dry, r'skip\s+validate')
        self.assertRegex(dry, r'skip\s+train')
        self.assertRegex(dry, r'would run\s+slow\s+no earlier successful run')
        report, _ = self.run_json(path)
        self.assertEqual(self.states(report),
                         {'validate': 'cached', 'train': 'cached', 'slow': 'ran', 'last': 'ran'})
        self.assertEqual((self.proj / 'last.txt').read_text(), 'ok\n')
        # `last` reads what `slow` writes, so it comes after it without an `after:`.
        self.assertEqual([s['name'] for s in report['stages']][-2:], ['slow', 'last'])
        # A removed output is noticed: that stage runs again.
        (self.proj / 'last.txt').unlink()
        dry = self.cairn('pipeline', 'run', path, '--dry-run').stdout
        self.assertIn("its output 'last.txt' is missing or changed", dry)

    def test_monitor_stage_reports_drift_of_a_feed(self):
        rows = (self.proj / 'data.csv').read_text().splitlines()
        header = rows[0].split(',')
        shifted = [rows[0]]
        for line in rows[1:]:
            cells = line.split(',')
            shifted.append(','.join(c if h == 'target' else repr(float(c) * 3 + 1)
                                    for h, c in zip(header, cells)))
        (self.proj / 'new.csv').write_text('\n'.join(shifted) + '\n')
        path = self.write('pipeline.yaml', """name: monitored
stages:
  train:   {kind: train, config: experiment-config.yaml}
  same:    {kind: monitor, data: data.csv, after: [train]}
  shifted: {kind: monitor, data: new.csv, after: [train]}
""")
        report, _ = self.run_json(path)
        out = {s['name']: s['outputs'] for s in report['stages']}
        self.assertEqual(self.states(report), {'train': 'ran', 'same': 'ran', 'shifted': 'ran'})
        self.assertEqual(out['same']['drift'], 'false')
        self.assertEqual(out['shifted']['drift'], 'true')
        self.assertEqual(out['shifted']['run_id'], out['train']['run_id'])
        # a new feed re-runs its monitor only
        (self.proj / 'new.csv').write_text((self.proj / 'data.csv').read_text())
        report, _ = self.run_json(path)
        self.assertEqual(self.states(report),
                         {'train': 'cached', 'same': 'cached', 'shifted': 'ran'})
        self.assertEqual(report['stages'][2]['outputs']['drift'], 'false')

    def test_failed_stage_stops_the_pipeline_and_says_why(self):
        path = self.write('p.yaml', """name: failing
stages:
  ok:   {kind: command, run: [sh, -c, "echo fine"]}
  bad:  {kind: command, run: [sh, -c, "echo broken input >&2; exit 3"], after: [ok]}
  next: {kind: command, run: ["true"], after: [bad]}
""")
        proc = self.cairn('pipeline', 'run', path, expect=1)
        self.assertIn("stopped at stage 'bad'", proc.stderr)
        self.assertIn('exit 3', proc.stderr)
        self.assertIn('broken input', proc.stderr)
        status = self.cairn_json('pipeline', 'status', path, '--json')
        self.assertEqual(status['status'], 'FAILED')
        self.assertEqual(self.states(status), {'ok': 'ran', 'bad': 'failed', 'next': 'pending'})
        # A stage asking for a verb this cairn lacks fails with that said.
        path = self.write('q.yaml', """name: nopromote
stages:
  promote: {kind: promote, model: bc, to: production, after: [reg]}
  reg: {kind: command, run: ["true"]}
""")
        proc = self.cairn('pipeline', 'run', path, expect=1)
        self.assertIn("stage 'promote' (kind promote) needs a model version", proc.stderr)

    def test_bad_files_name_the_place(self):
        cases = {
            'cycle.yaml': ("""name: x
stages:
  a: {kind: command, run: ["true"], after: [c]}
  b: {kind: command, run: ["true"], after: [a]}
  c: {kind: command, run: ["true"], after: [b]}
""", ["cycle.yaml' line 3", "'a' -> 'b' -> 'c' -> 'a' form a cycle"]),
            'missing.yaml': ("""name: x
stages:
  t: {kind: train, config: no-such-config.yaml}
""", ["missing.yaml' line 3", "stage 't'", "input 'no-such-config.yaml' does not exist"]),
            'kind.yaml': ("""name: x
stages:
  t: {kind: trian, config: c.yaml}
""", ["kind.yaml' line 3 column 13", "unknown kind 'trian'", "did you mean 'train'",
      "known kinds: validate, split, train, tune, evaluate, register, promote, deploy, "
      "monitor, command"]),
            'type.yaml': ("""name: x
stages:
  t: {kind: command, run: ["true"], after: {a: 1}}
""", ["type.yaml' line 3 column 44", "'after' must be a list, got a mapping"]),
            'type2.yaml': ("""name: x
stages:
  - a
""", ["type2.yaml' line 3 column 3", "'stages' must be a mapping"]),
            'after.yaml': ("""name: x
stages:
  a: {kind: command, run: ["true"], after: [bb]}
  b: {kind: command, run: ["true"]}
""", ["after.yaml' line 3", "after: no stage 'bb' (did you mean 'b'?)"]),
            'key.yaml': ("""name: x
stages:
  a: {kind: command, run: ["true"], colour: red}
""", ["key.yaml' line 3", "unknown key 'stages.a.colour'"]),
        }
        for name, (text, needles) in cases.items():
            path = self.write(name, text)
            verbs = [['run'], ['run', '--dry-run']] + ([['status']] if 'missing' not in name else [])
            for verb in verbs:
                proc = self.cairn('pipeline', *verb, path, expect=1)
                for n in needles:
                    self.assertIn(n, proc.stderr, '%s %s' % (name, verb))
        proc = self.cairn('pipeline', 'run', self.proj / 'absent.yaml', expect=1)
        self.assertIn("absent.yaml': No such file or directory", proc.stderr)
        self.cairn('pipeline', 'run', '--frm', 'x', expect=2)
        path = self.write('fine.yaml', 'name: fine\nstages:\n  a: {kind: command, run: ["true"]}\n')
        proc = self.cairn('pipeline', 'run', path, '--from', 'zz', expect=1)
        self.assertIn("no stage 'zz'", proc.stderr)
        proc = self.cairn('pipeline', 'status', path, expect=1)
        self.assertIn('has not run yet', proc.stderr)


if __name__ == '__main__':
    import unittest
    unittest.main()
