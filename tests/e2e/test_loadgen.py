# SPDX-License-Identifier: MIT
"""cairn-loadgen against cairn-ceiling (bench/): every request counted once on both sides,
keep-alive, chunked replies, servers that close, several targets, weights, the placeholders
and the record file. Needs the bench tools (CAIRN_BENCH=ON)."""
import json
import re
import subprocess

from harness import BUILD_DIR, CairnTest, main

LOADGEN = BUILD_DIR / 'bench' / 'cairn-loadgen'
CEILING = BUILD_DIR / 'bench' / 'cairn-ceiling'
BODY = '{"pad":"' + 'x' * 90 + '"}'  # 100 bytes


class Ceiling:
    def __init__(self, test, *flags):
        self.proc = subprocess.Popen([str(CEILING), '--port', '0', *flags],
                                     stderr=subprocess.PIPE, text=True)
        test.addCleanup(self.stop)
        line = self.proc.stderr.readline()
        m = re.search(r'listening on http://127\.0\.0\.1:(\d+)', line)
        test.assertTrue(m, 'cairn-ceiling printed %r' % line)
        self.url = 'http://127.0.0.1:%s' % m.group(1)

    def stop(self):
        """Stops the ceiling; returns (requests served, body bytes received)."""
        if self.proc.poll() is None:
            self.proc.terminate()
        rest = self.proc.communicate(timeout=30)[1]
        self.proc.stderr.close()
        m = re.search(r'served (\d+) requests, (\d+) body bytes', rest or '')
        return (int(m.group(1)), int(m.group(2))) if m else None


class LoadgenTest(CairnTest):
    def setUp(self):
        super().setUp()
        if not LOADGEN.exists() or not CEILING.exists():
            self.skipTest('bench tools not built (CAIRN_BENCH=OFF)')

    def loadgen(self, *args, expect=0):
        proc = subprocess.run([str(LOADGEN), *[str(a) for a in args]], capture_output=True,
                              timeout=120)
        # Decoded by hand: text mode would turn the requests' CRLFs into LFs.
        proc.stdout = proc.stdout.decode()
        proc.stderr = proc.stderr.decode()
        self.assertEqual(proc.returncode, expect, proc.stderr)
        return proc

    def run_json(self, *args):
        return json.loads(self.loadgen('--json', *args).stdout)

    def test_counts_every_request_once_over_keep_alive(self):
        ceiling = Ceiling(self)
        rep = self.run_json('-t', ceiling.url, '-c', 8, '-T', 2, '-n', 3000,
                            '-r', 'POST /api/2.0/mlflow/runs/log-metric ' + BODY)
        self.assertEqual((rep['requests'], rep['ok'], rep['errors'], rep['non_2xx']),
                         (3000, 3000, 0, 0))
        self.assertEqual(rep['status'], {'200': 3000})
        self.assertEqual(rep['reconnects'], 0)
        self.assertGreater(rep['latency_ms']['p99'], 0)
        self.assertLessEqual(rep['latency_ms']['p50'], rep['latency_ms']['p99'])
        self.assertEqual(ceiling.stop(), (3000, 3000 * len(BODY)))

    def test_reads_chunked_replies(self):
        ceiling = Ceiling(self, '--chunked')
        rep = self.run_json('-t', ceiling.url, '-c', 4, '-n', 500, '-r', 'GET /x')
        self.assertEqual((rep['requests'], rep['ok'], rep['errors']), (500, 500, 0))
        self.assertEqual(rep['reconnects'], 0)
        self.assertEqual(ceiling.stop()[0], 500)

    def test_reconnects_when_the_server_closes(self):
        ceiling = Ceiling(self, '--close')
        rep = self.run_json('-t', ceiling.url, '-c', 4, '-n', 400, '-r', 'POST /x ' + BODY)
        self.assertEqual((rep['requests'], rep['ok'], rep['errors']), (400, 400, 0))
        self.assertEqual(rep['reconnects'], 400)
        self.assertEqual(ceiling.stop(), (400, 400 * len(BODY)))

    def test_spreads_connections_over_targets(self):
        a, b = Ceiling(self), Ceiling(self)
        rep = self.run_json('-t', a.url, '-t', b.url, '-c', 4, '-n', 2000, '-r', 'GET /x')
        self.assertEqual((rep['requests'], rep['errors']), (2000, 0))
        served_a, served_b = a.stop()[0], b.stop()[0]
        self.assertEqual(served_a + served_b, 2000)
        self.assertGreater(served_a, 0)
        self.assertGreater(served_b, 0)

    def test_weights_and_the_record(self):
        ceiling = Ceiling(self)
        record = self.tmp / 'record.txt'
        runs = self.tmp / 'runs.txt'
        runs.write_text('r1\nr2\n')
        rep = self.run_json('-t', ceiling.url, '-c', 4, '-n', 4000, '--runs', runs,
                            '--record', record,
                            '-r', 'name=heavy weight=3 POST /a {"run":"{{run}}"}',
                            '-r', 'name=light GET /b?run={{run}}')
        self.assertEqual([t['name'] for t in rep['templates']], ['heavy', 'light'])
        heavy, light = (t['requests'] for t in rep['templates'])
        self.assertEqual(heavy + light, 4000)
        self.assertTrue(0.65 < heavy / 4000 < 0.85, (heavy, light))
        lines = [line.split() for line in record.read_text().splitlines()]
        self.assertEqual(len(lines), 4000)
        self.assertEqual(sorted(int(seq) for _, _, seq, _ in lines), list(range(1, 4001)))
        self.assertEqual({status for status, _, _, _ in lines}, {'200'})
        self.assertEqual(sum(1 for _, t, _, _ in lines if t == '0'), heavy)
        self.assertEqual({run for _, _, _, run in lines}, {'r1', 'r2'})

    def test_placeholders(self):
        runs = self.tmp / 'runs.txt'
        runs.write_text('aaa\nbbb\nccc\n')
        out = self.loadgen('--print', 4, '--runs', runs, '-H', 'X-Extra: 1', '-r',
                           'POST /p?s={{seq}} {"run":"{{run}}","a":{{step}},"b":{{step}},'
                           '"ts":{{ts}},"r":{{rand}},"keep":"{{other}}"}').stdout
        bodies = [json.loads(b) for b in re.findall(r'\r\n\r\n(\{.*?\})\n', out)]
        self.assertEqual(len(bodies), 4)
        self.assertEqual([b['run'] for b in bodies], ['aaa', 'bbb', 'ccc', 'aaa'])
        self.assertEqual([(b['a'], b['b']) for b in bodies], [(2, 3), (4, 5), (6, 7), (8, 9)])
        self.assertEqual(re.findall(r'POST /p\?s=(\d+) HTTP/1\.1', out), ['1', '2', '3', '4'])
        self.assertTrue(all(0 <= b['r'] < 1 for b in bodies))
        self.assertTrue(all(b['ts'] > 1.6e12 for b in bodies))
        self.assertTrue(all(b['keep'] == '{{other}}' for b in bodies))
        self.assertIn('X-Extra: 1\r\n', out)
        for head, body in re.findall(r'(POST .*?)\r\n\r\n(\{.*?\})\n', out, re.S):
            self.assertTrue(head.endswith('\r\nContent-Length: %d' % len(body)), head)
            self.assertIn('Content-Type: application/json\r\n', head + '\r\n')

    def test_refuses_bad_usage(self):
        self.loadgen('-t', 'http://127.0.0.1:1', expect=2)
        proc = self.loadgen('-t', 'http://127.0.0.1:1', '-r', 'POST /x {"r":"{{run}}"}',
                            expect=1)
        self.assertIn('--runs', proc.stderr)
        proc = self.loadgen('-r', 'POST nopath', expect=1)
        self.assertIn("must start with '/'", proc.stderr)


if __name__ == '__main__':
    main()
