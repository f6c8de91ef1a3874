# SPDX-License-Identifier: MIT
"""`cairn server` stops cleanly on SIGTERM whichever of its threads the kernel hands it to.

The server blocks SIGTERM and SIGINT in its own threads and waits for them in one; a library
may start threads before main (OpenBLAS's pool does) that do not block them, and a stop signal
given to one of those used to kill the process by the default action (exit -15, seen once in
CI). The test sends SIGTERM straight to such a thread (tgkill) and expects the clean stop."""
import ctypes
import os
import pathlib
import signal
import sys
import tempfile
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402,F401  (sets CAIRN_BIN)
import restlib  # noqa: E402

SYS_TGKILL = 234  # x86_64


def threads_taking(pid, sig):
    """Threads of pid, other than the main one, that do not block sig."""
    out = []
    for tid in sorted(int(t) for t in os.listdir('/proc/%d/task' % pid)):
        if tid == pid:
            continue
        try:
            status = pathlib.Path('/proc/%d/task/%d/status' % (pid, tid)).read_text()
        except OSError:
            continue
        blocked = int(next(l for l in status.splitlines() if l.startswith('SigBlk:')).split()[1],
                      16)
        if not blocked & (1 << (sig - 1)):
            out.append(tid)
    return out


@unittest.skipUnless(os.uname().machine == 'x86_64', 'tgkill number is for x86_64')
class ServerSignals(unittest.TestCase):
    def test_sigterm_to_a_library_thread_stops_cleanly(self):
        with tempfile.TemporaryDirectory() as tmp:
            server = restlib.Server('sqlite://%s/s.db' % tmp, pathlib.Path(tmp) / 'art', tmp)
            try:
                tids = threads_taking(server.proc.pid, signal.SIGTERM)
                if not tids:
                    self.skipTest('no thread of the server leaves SIGTERM unblocked here')
                libc = ctypes.CDLL(None, use_errno=True)
                self.assertEqual(libc.syscall(SYS_TGKILL, server.proc.pid, tids[0],
                                              signal.SIGTERM), 0)
                self.assertEqual(server.proc.wait(timeout=20), 0, server.stderr())
                self.assertIn('SIGTERM: finishing', server.stderr())
            finally:
                server.stop()


if __name__ == '__main__':
    unittest.main()
