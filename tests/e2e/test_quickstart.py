#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The README's quickstart, end to end, on the test build: every step runs, and the store it
# leaves behind holds the runs it claims, with metrics, params and artifacts.
import json
import os
import subprocess
import tempfile
import unittest

SRC = os.environ.get("CAIRN_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("CAIRN_BUILD_DIR", os.path.join(SRC, "build", "ci"))
CAIRN = os.environ.get("CAIRN_BIN", os.path.join(BUILD, "cairn"))


class Quickstart(unittest.TestCase):
    def test_quickstart_runs_and_tracks(self):
        with tempfile.TemporaryDirectory() as tmp:
            env = dict(os.environ, CAIRN_QUICKSTART_DIR=tmp)
            p = subprocess.run([os.path.join(SRC, "scripts", "quickstart-run.sh"), BUILD],
                               cwd=SRC, env=env, capture_output=True, text=True, timeout=600)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertIn("The runs table", p.stdout)
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


if __name__ == "__main__":
    unittest.main()
