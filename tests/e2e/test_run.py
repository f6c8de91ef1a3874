# SPDX-License-Identifier: MIT
# test_run.py - `cairn run` end to end: the real binary on a temporary SQLite store, with shell
# and Python commands reporting metrics through the line protocol and the metrics file; exit
# codes, signals, config errors, malformed metric lines and usage errors.
import hashlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

CAIRN = os.environ.get("CAIRN_BIN", "cairn")
SOURCE = os.environ.get("CAIRN_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
PYTHON = "/usr/bin/python3"
RUN_LINE = re.compile(r"^cairn: run ([0-9a-f]+) in experiment '([^']*)'", re.M)


class RunTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="cairn-e2e-run-")
        self.dir = self.tmp.name
        self.db = os.path.join(self.dir, "c.db")
        self.store = "sqlite:///" + self.db.lstrip("/")

    def tearDown(self):
        self.tmp.cleanup()

    def cairn(self, *args, check=None, raw=False):
        p = subprocess.run([CAIRN, "--store", self.store, *args], cwd=self.dir,
                           capture_output=True, timeout=60)
        if raw:
            self.raw_stdout = p.stdout
        # Decoded by hand: text=True would turn the command's \r into \n.
        p.stdout = p.stdout.decode()
        p.stderr = p.stderr.decode()
        if check is not None:
            self.assertEqual(p.returncode, check, p.stderr)
        return p

    def write(self, name, text, mode=0o644):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def run_id(self, stderr):
        m = RUN_LINE.search(stderr)
        self.assertIsNotNone(m, stderr)
        return m.group(1)

    def run_row(self, run_id):
        """The run as `cairn runs show --json` reports it, plus its metric history and
        experiment name, which `runs show` does not print: those come from the SQLite file."""
        p = self.cairn("runs", "show", run_id, "--json", check=0)
        shown = json.loads(p.stdout)
        with sqlite3.connect(self.db) as c:
            metrics = [tuple(r) for r in c.execute(
                "SELECT key, step, value, is_nan FROM metrics WHERE run_uuid = ? "
                "ORDER BY key, step", (run_id,))]
            exp = c.execute("SELECT name FROM experiments WHERE experiment_id = ?",
                            (shown["experiment_id"],)).fetchone()[0]
        return {"status": shown["status"], "name": shown["run_name"], "experiment": exp,
                "tags": shown["tags"], "params": shown["params"], "metrics": metrics,
                "artifacts": {a["path"]: a["sha256"] for a in shown["artifacts"]}}

    def count_runs(self):
        if not os.path.exists(self.db):
            return 0
        with sqlite3.connect(self.db) as c:
            return c.execute("SELECT count(*) FROM runs").fetchone()[0]

    def test_shell_script_reports_metrics(self):
        script = self.write("train.sh", """#!/bin/sh
echo "starting $CAIRN_PARAM_LR"
i=1
while [ $i -le 3 ]; do
  echo "cairn: step=$i loss=0.$((10 - i)) val/acc=0.8$i"
  i=$((i + 1))
done
printf 'progress 50%%\\rcairn: loss=0.1\\r'
echo "cairn.final: val_loss=0.43"
echo "cairn.param: depth=4"
echo "cairn.tag: stage=done"
echo model > model.bin
echo "cairn.artifact: path=model.bin"
echo "to stderr" >&2
# Last, after a pause: lines without step= count from the last step seen on any channel.
sleep 0.3
echo '{"step": 10, "from_file": 2.5}' >> "$CAIRN_METRICS_FILE"
""", 0o755)
        p = self.cairn("run", "-e", "e2e", "-n", "sh-run", "-p", "lr=0.01", "--seed", "5",
                       "--", script, check=0, raw=True)
        self.assertIn("starting 0.01\n", p.stdout)
        self.assertIn(b"progress 50%\rcairn: loss=0.1\r", self.raw_stdout)
        self.assertIn("to stderr\n", p.stderr)
        run_id = self.run_id(p.stderr)
        self.assertRegex(p.stderr, r"FINISHED \(exit 0\); metrics: .*val_loss=0.43")
        r = self.run_row(run_id)
        self.assertEqual(r["status"], "FINISHED")
        self.assertEqual(r["experiment"], "e2e")
        self.assertEqual(r["name"], "sh-run")
        self.assertEqual(r["params"], {"lr": "0.01", "depth": "4"})
        loss = [(s, v) for k, s, v, _ in r["metrics"] if k == "loss"]
        self.assertEqual(loss, [(1, 0.9), (2, 0.8), (3, 0.7), (4, 0.1)])
        self.assertIn(("from_file", 10, 2.5, 0), r["metrics"])
        # cairn.final values land at the greatest step of the run, whichever channel reported it.
        self.assertIn(("val_loss", 10, 0.43, 0), r["metrics"])
        self.assertEqual(r["tags"]["stage"], "done")
        self.assertEqual(r["tags"]["cairn.seed"], "5")
        self.assertEqual(r["tags"]["mlflow.source.type"], "LOCAL")
        self.assertIn("cairn.host", r["tags"])
        self.assertIn("logs/output.log", r["artifacts"])
        self.assertIn("model.bin", r["artifacts"])

    def test_python_script(self):
        script = self.write("train.py", """
import json, os, sys
params = json.load(open(os.environ["CAIRN_PARAMS_FILE"]))
assert params == {"lr": 0.5, "opt": "adam"}, params
assert sys.argv[1:] == ["--lr=0.5", "--opt=adam"], sys.argv
with open(os.environ["CAIRN_METRICS_FILE"], "a") as f:
    for step in range(3):
        f.write(json.dumps({"step": step, "loss": 1.0 / (step + 1)}) + "\\n")
print("cairn: {\\"step\\": 3, \\"loss\\": \\"nan\\"}", flush=True)
print("cairn.final: acc=inf", file=sys.stderr)
""")
        p = self.cairn("run", "--no-git", "-p", "lr=0.5", "-p", "opt=adam", "--args", "--",
                       PYTHON, script, check=0)
        r = self.run_row(self.run_id(p.stderr))
        self.assertEqual(r["status"], "FINISHED")
        self.assertEqual(r["tags"]["mlflow.source.name"], script)
        loss = [(s, v, nan) for k, s, v, nan in r["metrics"] if k == "loss"]
        self.assertEqual(loss[:3], [(0, 1.0, 0), (1, 0.5, 0), (2, 1.0 / 3, 0)])
        self.assertEqual(loss[3][0], 3)
        self.assertEqual(loss[3][2], 1)  # NaN kept as NaN
        acc = [(s, v) for k, s, v, _ in r["metrics"] if k == "acc"]
        self.assertEqual(acc, [(3, float("inf"))])

    def test_exit_3_is_failed(self):
        p = self.cairn("run", "--no-git", "--", "sh", "-c", "echo out; exit 3", check=3)
        self.assertEqual(p.stdout, "out\n")
        r = self.run_row(self.run_id(p.stderr))
        self.assertEqual(r["status"], "FAILED")
        self.assertEqual(r["tags"]["cairn.exit_code"], "3")

    def test_sigterm_is_forwarded_and_run_is_killed(self):
        marker = os.path.join(self.dir, "got-term")
        script = self.write("wait.sh", f"""#!/bin/sh
trap 'echo term > {marker}; exit 143' TERM
echo ready
while :; do sleep 0.05; done
""", 0o755)
        proc = subprocess.Popen([CAIRN, "--store", self.store, "run", "--no-git", "--", script],
                                cwd=self.dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        self.assertEqual(proc.stdout.readline(), "ready\n")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 143, err)
        self.assertTrue(os.path.exists(marker), "the child never got SIGTERM")
        r = self.run_row(self.run_id(err))
        self.assertEqual(r["status"], "KILLED")
        self.assertIn("cairn.stop_reason", r["tags"])

    def test_kill_grace_sends_sigkill(self):
        script = self.write("stubborn.sh", "#!/bin/sh\ntrap '' TERM INT\necho ready\n"
                            "while :; do sleep 0.05; done\n", 0o755)
        proc = subprocess.Popen([CAIRN, "--store", self.store, "run", "--no-git",
                                 "--kill-grace", "0.3", "--", script], cwd=self.dir,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.assertEqual(proc.stdout.readline(), "ready\n")
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        self.assertLess(time.monotonic() - t0, 10)
        self.assertEqual(proc.returncode, 128 + signal.SIGKILL, err)
        self.assertEqual(self.run_row(self.run_id(err))["status"], "KILLED")

    def test_missing_config_file(self):
        p = self.cairn("run", "--config", "nope.yaml", "--", "true", check=1)
        self.assertEqual(p.stderr.strip(),
                         "cairn: error: config 'nope.yaml': No such file or directory")
        self.assertEqual(self.count_runs(), 0)

    def test_config_with_wrong_type(self):
        self.write("x.yaml", "name: a\ncommand: [echo, hi]\nseed: abc\n")
        p = self.cairn("run", "--config", "x.yaml", check=1)
        self.assertIn("config 'x.yaml' line 3 column 7: 'seed' must be a non-negative integer, "
                      "got 'abc'", p.stderr)
        self.write("y.yaml", "nmae: a\n")
        p = self.cairn("run", "--config", "y.yaml", check=1)
        self.assertIn("unknown key 'nmae'; allowed: name, experiment", p.stderr)
        self.assertEqual(self.count_runs(), 0)

    def test_config_runs_its_command(self):
        self.write("data.csv", "x,y\n1,2\n")
        self.write("exp2.yaml", "experiment: from-yaml\n"
                   "command: [sh, -c, 'echo cairn: step=0 lr=${lr}']\n"
                   "params: {lr: 0.125}\ninputs: [data.csv]\ntags: {team: t}\n")
        p = self.cairn("run", "--config", "exp2.yaml", "-p", "lr=0.25", check=0)
        r = self.run_row(self.run_id(p.stderr))
        self.assertEqual(r["experiment"], "from-yaml")
        self.assertEqual(r["params"], {"lr": "0.25"})
        self.assertIn(("lr", 0, 0.25, 0), r["metrics"])
        self.assertEqual(r["tags"]["team"], "t")
        digest = hashlib.sha256(b"x,y\n1,2\n").hexdigest()
        self.assertEqual(r["tags"]["cairn.input.data.csv.sha256"], digest)
        self.assertEqual(r["tags"]["cairn.input.data.csv.size_bytes"], "8")
        self.assertIn("config/exp2.yaml", r["artifacts"])

    def test_non_numeric_metric_value(self):
        p = self.cairn("run", "--no-git", "--", "sh", "-c",
                       "echo 'cairn: loss=abc'; echo 'cairn: loss=abc'; echo 'cairn: loss=1'",
                       check=0)
        self.assertEqual(p.stderr.count("metric 'loss': value 'abc' is not a number"), 1)
        r = self.run_row(self.run_id(p.stderr))
        self.assertEqual(r["status"], "FINISHED")
        self.assertEqual(r["tags"]["cairn.metric_errors"], "2")
        self.assertEqual([m for m in r["metrics"] if m[0] == "loss"], [("loss", 0, 1.0, 0)])

    def test_command_not_found(self):
        # refused before a run exists: no junk FAILED run; 127 as a shell says
        p = self.cairn("run", "--no-git", "--", "cairn-no-such-program", check=127)
        self.assertIn("cairn: error: command 'cairn-no-such-program' not found in PATH; no run "
                      "was made", p.stderr)
        self.assertNotIn("started", p.stderr)
        noexec = self.write("noexec.sh", "#!/bin/sh\necho hi\n", 0o644)
        p = self.cairn("run", "--no-git", "--", noexec, check=127)
        self.assertIn("Permission denied", p.stderr)
        self.assertNotIn("started", p.stderr)

    def test_git_context(self):
        if subprocess.run(["git", "--version"], capture_output=True).returncode != 0:
            self.skipTest("no git")
        env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@x",
                   GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@x")
        repo = os.path.join(self.dir, "repo")
        os.mkdir(repo)
        for cmd in (["init", "-q", "-b", "main"], ["remote", "add", "origin", "https://x/r.git"]):
            subprocess.run(["git", *cmd], cwd=repo, check=True, env=env)
        with open(os.path.join(repo, "a.txt"), "w") as f:
            f.write("one\n")
        subprocess.run(["git", "add", "a.txt"], cwd=repo, check=True, env=env)
        subprocess.run(["git", "commit", "-qm", "c"], cwd=repo, check=True, env=env)
        with open(os.path.join(repo, "a.txt"), "w") as f:
            f.write("two\n")
        with open(os.path.join(repo, "new.txt"), "w") as f:
            f.write("new\n")
        p = subprocess.run([CAIRN, "--store", self.store, "run", "--", "true"], cwd=repo,
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        r = self.run_row(self.run_id(p.stderr))
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True,
                              text=True).stdout.strip()
        self.assertEqual(r["tags"]["mlflow.source.git.commit"], head)
        self.assertEqual(r["tags"]["mlflow.source.git.branch"], "main")
        self.assertEqual(r["tags"]["mlflow.source.git.repoURL"], "https://x/r.git")
        self.assertEqual(r["tags"]["cairn.git.dirty"], "true")
        self.assertIn("context/git.diff", r["artifacts"])
        self.assertIn("context/untracked.txt", r["artifacts"])

    def test_usage_errors_exit_2(self):
        p = self.cairn("run", "--no-such-flag", "--", "true", check=2)
        self.assertIn("cairn: error:", p.stderr)
        self.cairn("run", check=2)
        self.cairn("run", "-p", "novalue", "--", "true", check=2)
        self.cairn("run", "--seed", "x", "--", "true", check=2)
        self.assertEqual(self.count_runs(), 0)

    def test_help_synopsis_matches_doc(self):
        p = self.cairn("run", "--help", check=0)
        synopsis = p.stdout.splitlines()[0]
        self.assertTrue(synopsis.startswith("usage: "), synopsis)
        with open(os.path.join(SOURCE, "docs", "cli", "cairn-run.md")) as f:
            doc = f.read()
        m = re.search(r"## Synopsis\s+```\n(.*?)\n```", doc, re.S)
        self.assertIsNotNone(m)
        self.assertEqual(synopsis[len("usage: "):], m.group(1))


if __name__ == "__main__":
    unittest.main(verbosity=2)
