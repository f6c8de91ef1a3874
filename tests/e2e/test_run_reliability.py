# SPDX-License-Identifier: MIT
# test_run_reliability.py - `cairn run` when things go wrong: cairn killed with SIGKILL (points
# flushed on a timer, output.log kept in the run's folder, nothing left in $TMPDIR, the command
# and its children killed too), FIFOs named as files, and a full disk that comes back.
import os
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
import unittest

CAIRN = os.environ.get("CAIRN_BIN", "cairn")
GENEROUS_S = 60  # every wait is a deadline, never an expectation of speed


def wait_for(pred, timeout=GENEROUS_S, every=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(every)
    return pred()


def pid_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def read(path, mode="r"):
    try:
        with open(path, mode) as f:
            return f.read()
    except FileNotFoundError:
        return None


class Base(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="cairn-e2e-rel-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.tmpdir = os.path.join(self.dir, "tmp")
        os.mkdir(self.tmpdir)
        self.db = os.path.join(self.dir, "c.db")
        self.store = "sqlite:///" + self.db.lstrip("/")
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait(GENEROUS_S)

    def env(self):
        env = dict(os.environ)
        env.pop("CAIRN_STORE", None)
        env["TMPDIR"] = self.tmpdir
        return env

    def write(self, name, text, mode=0o755):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def start(self, *args, store=None):
        out = open(os.path.join(self.dir, "cairn.out"), "wb")
        err = open(os.path.join(self.dir, "cairn.err"), "wb")
        p = subprocess.Popen([CAIRN, "--store", store or self.store, "run", "--no-git", *args],
                             cwd=self.dir, stdout=out, stderr=err, env=self.env())
        out.close()
        err.close()
        self.procs.append(p)
        return p

    def stderr(self):
        with open(os.path.join(self.dir, "cairn.err"), errors="replace") as f:
            return f.read()

    def marker(self, name):
        return os.path.exists(os.path.join(self.dir, name))

    def one_run(self, db=None):
        with sqlite3.connect(db or self.db) as c:
            rows = c.execute("SELECT run_uuid, artifact_uri FROM runs").fetchall()
        self.assertEqual(len(rows), 1)
        return rows[0]

    def points(self, run_id, db=None):
        with sqlite3.connect(db or self.db) as c:
            return c.execute("SELECT key, step, value FROM metrics WHERE run_uuid = ? "
                             "ORDER BY key, step", (run_id,)).fetchall()



class ReliabilityTest(Base):
    def test_points_printed_before_a_kill_are_stored(self):
        # The script prints 5 points and then only sleeps: before, they waited for a 6th point
        # to be flushed, and SIGKILL lost them all.
        script = self.write("quiet.sh", """#!/bin/sh
for i in 1 2 3 4 5; do echo "cairn: step=$i loss=0.$i"; done
touch printed
exec sleep 300
""")
        p = self.start("--", script)
        self.assertTrue(wait_for(lambda: self.marker("printed")), self.stderr())
        time.sleep(2.5)  # longer than the 1 s flush interval
        p.kill()
        p.wait(GENEROUS_S)
        run_id, _ = self.one_run()
        got = self.points(run_id)
        self.assertEqual([s for _, s, _ in got], [1, 2, 3, 4, 5], self.stderr())

    def test_kill_keeps_partial_log_and_leaves_no_tmpdir(self):
        script = self.write("log.sh", """#!/bin/sh
echo "first line"
echo "cairn: step=1 loss=1"
touch printed
exec sleep 300
""")
        p = self.start("--", script)
        self.assertTrue(wait_for(lambda: self.marker("printed")), self.stderr())
        run_id, artifact_uri = self.one_run()
        log = os.path.join(artifact_uri.replace("file://", ""), "logs", "output.log")
        self.assertTrue(wait_for(lambda: b"first line" in (read(log, "rb") or b"")),
                        self.stderr())
        p.kill()
        p.wait(GENEROUS_S)
        with open(log, "rb") as f:
            self.assertTrue(f.read().startswith(b"first line\ncairn: step=1 loss=1\n"))
        self.assertEqual([n for n in os.listdir(self.tmpdir) if n.startswith("cairn-run-")], [])

    def test_finished_run_records_the_log_in_place(self):
        p = self.start("--", "sh", "-c", "echo hello; echo 'cairn: a=1'")
        self.assertEqual(p.wait(GENEROUS_S), 0, self.stderr())
        run_id, artifact_uri = self.one_run()
        with sqlite3.connect(self.db) as c:
            rows = c.execute("SELECT path, size_bytes FROM artifacts WHERE run_uuid = ?",
                             (run_id,)).fetchall()
        self.assertIn(("logs/output.log", len(b"hello\ncairn: a=1\n")), rows)
        self.assertEqual(os.listdir(self.tmpdir), [])
        run_dir = os.path.dirname(artifact_uri.replace("file://", ""))
        self.assertEqual(sorted(os.listdir(run_dir)), ["artifacts"])

    def command_dies_with_cairn(self, shell_text):
        p = self.start("--", "sh", "-c", shell_text)
        pidfile = os.path.join(self.dir, "sleep.pid")
        self.assertTrue(wait_for(lambda: (read(pidfile) or "").endswith("\n")), self.stderr())
        pid = int(read(pidfile))
        self.assertTrue(pid_alive(pid))
        try:
            p.kill()
            p.wait(GENEROUS_S)
            self.assertTrue(wait_for(lambda: not pid_alive(pid)),
                            "the command outlived cairn run")
        finally:
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)

    def test_command_dies_with_cairn(self):
        # sh execs sleep: the command itself.
        self.command_dies_with_cairn("echo $$ > sleep.pid; exec sleep 300")

    def test_grandchildren_die_with_cairn(self):
        # sh forks sleep and waits: a grandchild of cairn.
        self.command_dies_with_cairn("sleep 300 & echo $! > sleep.pid; wait")

    def run_bounded(self, *args):
        return subprocess.run([CAIRN, "--store", self.store, *args], cwd=self.dir,
                              capture_output=True, text=True, env=self.env(),
                              timeout=GENEROUS_S)

    def test_fifo_csv_is_refused_not_read(self):
        os.mkfifo(os.path.join(self.dir, "f.csv"))
        p = self.run_bounded("data", "validate", "f.csv")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("'f.csv' is not a regular file", p.stderr)

    def test_fifo_config_is_refused_not_read(self):
        os.mkfifo(os.path.join(self.dir, "f.yaml"))
        p = self.run_bounded("run", "--no-git", "--config", "f.yaml", "--", "true")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("'f.yaml' is not a regular file", p.stderr)

    def test_fifo_input_is_refused_not_read(self):
        os.mkfifo(os.path.join(self.dir, "in.csv"))
        p = self.run_bounded("run", "--no-git", "--input", "in.csv", "--", "true")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("not a regular file", p.stderr)


class FullDiskTest(Base):
    """The store on a 2 MiB tmpfs that fills up while the command prints, then empties."""

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.skipTest("mounting a tmpfs needs root")
        self.mnt = os.path.join(self.dir, "small")
        os.mkdir(self.mnt)
        m = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", self.mnt],
                           capture_output=True, text=True)
        if m.returncode != 0:
            self.skipTest("cannot mount a tmpfs: " + m.stderr.strip())
        self.addCleanup(self.unmount)
        self.small_db = os.path.join(self.mnt, "c.db")

    def unmount(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait(GENEROUS_S)
        subprocess.run(["umount", "-l", self.mnt], capture_output=True)

    def fill(self):
        path = os.path.join(self.mnt, "filler")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError:
            pass
        finally:
            os.close(fd)
        return path

    def test_full_disk_then_space_returns(self):
        n = 3000
        script = self.write("busy.sh", f"""#!/bin/sh
echo ready; touch ready
while [ ! -e filled ]; do sleep 0.05; done
i=1
while [ $i -le {n} ]; do echo "cairn: step=$i loss=$i"; i=$((i+1)); done
touch printed
while [ ! -e space ]; do sleep 0.05; done
echo "cairn.param: late=1"
echo done
""")
        p = self.start("--", script, store="sqlite:///" + self.small_db.lstrip("/"))
        try:
            self.assertTrue(wait_for(lambda: self.marker("ready")), self.stderr())
            filler = self.fill()
            open(os.path.join(self.dir, "filled"), "w").close()
            # The command must not block on its pipe while the store cannot be written.
            self.assertTrue(wait_for(lambda: self.marker("printed")), self.stderr())
            time.sleep(1.5)  # a few failed flushes (not an expectation of timing)
            os.unlink(filler)
            open(os.path.join(self.dir, "space"), "w").close()
            self.assertEqual(p.wait(GENEROUS_S * 2), 0, self.stderr())
        finally:
            for f in ("filler",):
                try:
                    os.unlink(os.path.join(self.mnt, f))
                except FileNotFoundError:
                    pass
        run_id, artifact_uri = self.one_run(self.small_db)
        got = self.points(run_id, self.small_db)
        self.assertEqual(len(got), n, self.stderr())
        with sqlite3.connect(self.small_db) as c:
            tags = dict(c.execute("SELECT key, value FROM tags WHERE run_uuid = ?", (run_id,)))
            params = dict(c.execute("SELECT key, value FROM params WHERE run_uuid = ?",
                                    (run_id,)))
            status = c.execute("SELECT status FROM runs WHERE run_uuid = ?",
                               (run_id,)).fetchone()[0]
            arts = dict(c.execute("SELECT path, size_bytes FROM artifacts WHERE run_uuid = ?",
                                  (run_id,)))
        self.assertIn("cannot write", self.stderr())  # the disk really was full
        self.assertEqual(status, "FINISHED")
        self.assertNotIn("cairn.metric_errors", tags, self.stderr())
        self.assertEqual(params.get("late"), "1")
        log = os.path.join(artifact_uri.replace("file://", ""), "logs", "output.log")
        with open(log, "rb") as f:
            text = f.read()
        self.assertEqual(text.count(b"cairn: step="), n)
        self.assertTrue(text.endswith(b"done\n"))
        self.assertEqual(arts.get("logs/output.log"), len(text))


if __name__ == "__main__":
    unittest.main(verbosity=2)
