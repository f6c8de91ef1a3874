#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The README's quickstart, end to end, on the test build: every step runs, and the store it
# leaves behind holds the runs it claims, with metrics, params and artifacts.
import json
import os
import re
import subprocess
import tempfile
import time
import unittest

SRC = os.environ.get("CAIRN_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("CAIRN_BUILD_DIR", os.path.join(SRC, "build", "ci"))
CAIRN = os.environ.get("CAIRN_BIN", os.path.join(BUILD, "cairn"))


class Quickstart(unittest.TestCase):
    def test_quickstart_runs_and_tracks(self):
        with tempfile.TemporaryDirectory() as tmp:
            env = dict(os.environ, CAIRN_QUICKSTART_DIR=tmp)
            started = time.monotonic()
            p = subprocess.run([os.path.join(SRC, "scripts", "quickstart-run.sh"), BUILD],
                               cwd=SRC, env=env, capture_output=True, text=True, timeout=600)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            # How long it took is printed, not asserted (a busy machine under ASan took 66 s);
            # the subprocess timeout above catches a hang.
            print("quickstart: %.1f s" % (time.monotonic() - started))
            self.assertIn("The runs table", p.stdout)
            # cairn init + cairn pipeline run: refused at the card gate, then resumed to a
            # served model; a third run caches every stage
            self.assertIn("stopped at stage 'promote'", p.stdout)
            self.assertIn("(input 'model-card.md' changed)", p.stdout)
            self.assertIn("a prediction from the served model: {'predictions': [", p.stdout)
            self.assertIn("0 of 8 stages ran, 8 cached", p.stdout)
            self.assertIn("web UI", p.stdout)
            store = "sqlite://" + os.path.join(tmp, "cairn.db")
            out = subprocess.run([CAIRN, "--store", store, "runs", "list", "--experiment",
                                  "quickstart", "--json"], capture_output=True, text=True)
            self.assertEqual(out.returncode, 0, out.stderr)
            runs = json.loads(out.stdout)
            if isinstance(runs, dict):
                runs = runs.get("runs", [])
            names = {r["run_name"] for r in runs}
            self.assertIn("c-linear-gd", names)
            self.assertIn("py-softmax-lr0.5", names)
            for r in runs:
                self.assertEqual(r["status"], "FINISHED")
                self.assertTrue(r["metrics"], r)
            py = next(r for r in runs if r["run_name"] == "py-softmax-lr0.5")
            self.assertGreater(py["metrics"]["val_acc"], 0.8)
            self.assertEqual(py["params"]["lr"], "0.5")
            # cairn train: three learners with validation metrics and their 95% intervals
            trained = {r["run_name"]: r for r in runs if r["run_name"].startswith("bc-")}
            self.assertEqual(set(trained), {"bc-logistic", "bc-mlp", "bc-xgboost"})
            for r in trained.values():
                m = r["metrics"]
                self.assertGreater(m["val_accuracy"], 0.85, r["run_name"])
                self.assertLessEqual(m["val_accuracy_ci_low"], m["val_accuracy"])
                self.assertGreaterEqual(m["val_accuracy_ci_high"], m["val_accuracy"])
            self.assertEqual(len(re.findall(r"accuracy +[0-9.]+ +95% CI \[", p.stdout)), 4)
            # the comparison gives a test and a p-value
            self.assertRegex(p.stdout, r"mcnemar-(exact|chi2): statistic [0-9.e+-]+, p = ")
            # the overlap guardrail refuses the training rows
            self.assertIn("refusing to evaluate: 341 of 569 rows were used to train", p.stderr)
            # eval final ran once on the best run, whose pictures are shown
            best = re.search(r"best: (\S+) \(run (\w+)\)", p.stdout)
            self.assertTrue(best, p.stdout)
            show = subprocess.run([CAIRN, "--store", store, "runs", "show", best.group(2),
                                   "--json"], capture_output=True, text=True)
            run = json.loads(show.stdout)
            self.assertEqual(run["tags"]["cairn.test.looks"], "1")
            self.assertIn("test_accuracy", run["metrics"])
            plots = re.search(r"pictures of the best run \(\w+\): (\S+)", p.stdout)
            self.assertTrue(plots, p.stdout)
            self.assertTrue(os.path.isfile(os.path.join(plots.group(1), "confusion_matrix.svg")))
            self.assertTrue(os.path.isfile(os.path.join(plots.group(1), "roc.svg")))
            # the best run's model is registered, @production points at it, the move is recorded
            model = subprocess.run([CAIRN, "--store", store, "model", "show", "breast-cancer",
                                    "--alias", "production", "--json"],
                                   capture_output=True, text=True)
            self.assertEqual(model.returncode, 0, model.stderr)
            self.assertIn(best.group(2), model.stdout)
            history = subprocess.run([CAIRN, "--store", store, "model", "history",
                                      "breast-cancer", "--json"], capture_output=True, text=True)
            self.assertEqual(history.returncode, 0, history.stderr)
            self.assertIn("production", history.stdout)
            self.assertIn("best validation accuracy", history.stdout)
            self.assertIn(": ok (schema ", p.stdout)


if __name__ == "__main__":
    unittest.main()
