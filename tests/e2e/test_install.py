#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# `cmake --install` gives a C user headers, libraries and a pkg-config file that are enough to
# build and run a training loop: cc train.c $(pkg-config --cflags --libs cairn).
import os
import shutil
import subprocess
import tempfile
import unittest

SRC = os.environ["CAIRN_SOURCE_DIR"]
BUILD = os.environ["CAIRN_BUILD_DIR"]


class Install(unittest.TestCase):
    def test_pkg_config_build_and_run(self):
        cc = shutil.which("cc") or shutil.which("gcc")
        self.assertIsNotNone(cc, "a C compiler is needed (build-essential)")
        with tempfile.TemporaryDirectory() as tmp:
            prefix = os.path.join(tmp, "prefix")
            subprocess.run(["cmake", "--install", BUILD, "--prefix", prefix], check=True,
                           capture_output=True)
            for header in ("cairn.h", "tracking.h", "runner.h", "data.h", "eval.h"):
                self.assertTrue(os.path.exists(os.path.join(prefix, "include", "cairn", header)))
            env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(prefix, "lib", "pkgconfig"))
            flags = subprocess.run(["pkg-config", "--cflags", "--libs", "cairn"], env=env,
                                   check=True, capture_output=True, text=True).stdout.split()
            exe = os.path.join(tmp, "train_linear")
            cflags = []
            if "asan" in os.path.basename(os.path.normpath(BUILD)):
                cflags = ["-fsanitize=address,undefined"]
            p = subprocess.run([cc, *cflags, os.path.join(SRC, "examples", "train_linear.c"), *flags,
                                "-lm", "-o", exe], capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p.stderr)
            env.update(LD_LIBRARY_PATH=os.path.join(prefix, "lib"),
                       CAIRN_STORE="sqlite://" + os.path.join(tmp, "c.db"))
            p = subprocess.run([exe, os.path.join(SRC, "data", "diabetes.csv"), "0.05", "20"],
                               env=env, capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("val_mse", p.stdout)


if __name__ == "__main__":
    unittest.main()
