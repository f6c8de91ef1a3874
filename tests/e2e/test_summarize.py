# SPDX-License-Identifier: MIT
"""`cairn server`'s background summarizer (docs/rest.md, "Downsampling"): a server started on a
store holding a long metric series (latest step at least 128,000) computes and keeps its
64-step block summaries a second after it starts, without any chart asking; a short series is
left alone; the chart then answers from them; the server stops cleanly. SQLite (the test reads
the store's tables to see what was kept)."""
import pathlib
import sqlite3
import sys
import time
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import restlib  # noqa: E402

LONG = 130000  # points at steps 0..LONG-1: 2,032 blocks


class Summarizer(restlib.RestCase):

    def kept(self, run, key):
        db = sqlite3.connect('file:%s?mode=ro' % (self.tmp / 's.db'), uri=True)
        try:
            row = db.execute('SELECT blocks FROM latest_metrics WHERE run_uuid = ? AND key = ?',
                             (run, key)).fetchone()
            n = db.execute('SELECT count(*), coalesce(sum(n), 0) FROM metric_blocks WHERE '
                           'run_uuid = ? AND key = ?', (run, key)).fetchone()
        finally:
            db.close()
        return row[0], n[0], n[1]

    def test_long_series_summarized_in_the_background(self):
        if not self.store.startswith('sqlite'):
            self.skipTest('reads the SQLite file')
        exp = self.new_experiment()
        run = self.new_run(exp)['info']['run_id']
        for s0 in range(0, LONG, 1000):
            self.post('mlflow/runs/log-batch', {'run_id': run, 'metrics': [
                {'key': 'long', 'value': (s % 977) / 977.0, 'timestamp': 1000 + s, 'step': s}
                for s in range(s0, s0 + 1000)]})
        self.post('mlflow/runs/log-batch', {'run_id': run, 'metrics': [
            {'key': 'short', 'value': 1.0, 'timestamp': 1, 'step': s} for s in range(100)]})

        # A second server on the same store: its first pass, a second after it starts, keeps
        # the long series' summaries (unless the first server's own first pass came after the
        # logging and did). No chart has asked for the series yet.
        second = self.start_server()
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and self.kept(run, 'long')[0] != 1:
                time.sleep(0.2)
            self.assertEqual(self.kept(run, 'long'), (1, -(-LONG // 64), LONG))
            self.assertEqual(self.kept(run, 'short'), (0, 0, 0))
            doc = self.get('cairn/metrics/downsample', run_id=run, metric_key='long',
                           max_points='400')
            self.assertEqual((doc['total'], doc['downsampled']), (LONG, True))
            self.assertLessEqual(len(doc['points']), 400)
        finally:
            t0 = time.monotonic()
            rc = second.stop()
            stopped_in = time.monotonic() - t0
        self.assertEqual(rc, 0, second.stderr())
        self.assertNotIn('warning', second.stderr())
        sys.stderr.write('second server stopped in %.2f s\n' % stopped_in)


if __name__ == '__main__':
    unittest.main()
