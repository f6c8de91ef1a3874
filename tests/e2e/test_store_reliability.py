# SPDX-License-Identifier: MIT
"""Stores refuse before writing, read-only stores read, damage is named, and text is checked
the same way on every backend. The cross-backend cases run again on PostgreSQL (CMakeLists.txt
registers this file like test_exp_runs); the SQLite file cases skip there."""
import os
import pathlib
import subprocess
import sys
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402

ON_PG = bool(os.environ.get('CAIRN_TEST_PG'))


def raw(data):
    """An argument holding exactly these bytes (subprocess encodes with surrogateescape)."""
    return os.fsdecode(data)


class TextOnEveryBackend(harness.CairnTest):
    def runs(self):
        return self.cairn_json('runs', 'list', '--json')['runs']

    def test_exp_create_with_invalid_utf8_is_refused_and_the_store_still_works(self):
        self.cairn_error('exp', 'create', raw(b'bad\xffname'),
                         mentions=['experiment name: invalid UTF-8 at byte 3'])
        self.cairn('exp', 'create', 'fine')
        names = [e['name'] for e in self.cairn_json('exp', 'list', '--json')['experiments']]
        self.assertIn('fine', names)

    def test_run_with_bad_text_fails_before_creating_a_run(self):
        cases = [
            (['-p', raw(b'lr=0.1\xff')], "param 'lr' value: invalid UTF-8 at byte 3"),
            (['-n', raw(b'r\xc0\x80n')], 'run name: invalid UTF-8 at byte 1'),
            (['--experiment', raw(b'\xffe')], 'experiment name: invalid UTF-8 at byte 0'),
            (['--', 'echo', raw(b'a\xedb')], 'command argument 2: invalid UTF-8 at byte 1'),
        ]
        for args, message in cases:
            with self.subTest(message=message):
                if '--' not in args:
                    args = args + ['--', 'true']
                self.cairn_error('run', *args, mentions=[message])
        self.assertEqual(self.runs(), [])
        exps = [e['name'] for e in self.cairn_json('exp', 'list', '--json')['experiments']]
        self.assertNotIn(raw(b'\xffe'), exps)

    def test_a_300_character_input_path_gives_tag_keys_that_fit(self):
        folder = self.tmp
        while len(str(folder)) < 290:
            folder = folder / ('d' * 30)
        folder.mkdir(parents=True)
        data = folder / 'train.csv'
        data.write_text('a,b\n1,2\n')
        self.assertGreaterEqual(len(str(data)), 300)
        self.cairn('run', '--input', str(data), '--no-git', '--', 'true')
        run_id = self.runs()[0]['run_id']
        tags = self.cairn_json('runs', 'show', run_id, '--json')['tags']
        keys = [k for k in tags if k.startswith('cairn.input.')]
        self.assertEqual(len(keys), 2, keys)
        for key in keys:
            self.assertLessEqual(len(key), 250)
            self.assertIn('/train.csv.', key)


@unittest.skipIf(ON_PG, 'SQLite files')
class SqliteFiles(harness.CairnTest):
    def test_foreign_database_is_refused_byte_for_byte_unchanged(self):
        import sqlite3
        path = self.tmp / 'other.db'
        con = sqlite3.connect(str(path))
        con.execute('CREATE TABLE notes (body TEXT)')
        con.execute("INSERT INTO notes VALUES ('mine')")
        con.commit()
        con.close()
        before = path.read_bytes()
        self.cairn_error('runs', 'list', store=False, env={'CAIRN_STORE': str(path)},
                         mentions=['is not a cairn store', "'notes'"])
        self.cairn_error('exp', 'create', 'x', store=False, env={'CAIRN_STORE': str(path)})
        self.assertEqual(path.read_bytes(), before)
        self.assertFalse((self.tmp / 'other.db-wal').exists())

    def test_mode_ro_reads_and_refuses_writes_without_an_odd_file(self):
        self.cairn('run', '--no-git', '--', 'true')
        ro = self.store + '?mode=ro'
        listed = self.cairn_json('--store', ro, 'runs', 'list', '--json', store=False)['runs']
        self.assertEqual(len(listed), 1)
        self.cairn_error('--store', ro, 'exp', 'create', 'x', store=False,
                         mentions=['is read-only'])
        self.assertFalse((self.tmp / 'cairn.db?mode=ro').exists())
        self.cairn_error('--store', self.store + '?journal=off', 'runs', 'list', store=False,
                         mentions=["unknown option 'journal'"])

    def test_store_check_passes_then_names_bit_flips(self):
        self.cairn('run', '--no-git', '--', 'sh', '-c',
                   'i=0; while [ $i -lt 6000 ]; do echo "cairn: step=$i a_long_metric_name=$i";'
                   ' i=$((i+1)); done')
        out = self.cairn('store', 'check').stdout
        self.assertIn(': ok (schema ', out)
        path = self.tmp / 'cairn.db'
        data = bytearray(path.read_bytes())
        pages = len(data) // 4096
        self.assertGreater(pages, 80)
        # 40 bit flips in the cell content of 40 pages near the end of the file, where the
        # metric rows are: a b-tree page keeps its cells at its end, so a flip there always hits
        # stored data whatever the page's fill (a flip mid-page may land in free space).
        for page in range(pages - 60, pages - 20):
            data[page * 4096 + 4000] ^= 0x10
        path.write_bytes(bytes(data))
        proc = self.cairn('store', 'check', '--json', expect=1)
        import json
        report = json.loads(proc.stdout)
        self.assertFalse(report['ok'])
        self.assertTrue(any(p.startswith('integrity: ') for p in report['problems']))
        self.assertIn('problem', self.cairn('store', 'check', expect=1).stdout)

    def test_read_only_mount_lists_and_shows_but_refuses_writes(self):
        if os.geteuid() != 0:
            self.skipTest('needs root for a read-only bind mount')
        folder = self.tmp / 'ro'
        folder.mkdir()
        store = 'sqlite:///' + str(folder / 'cairn.db').lstrip('/')
        self.cairn('--store', store, 'run', '--no-git', '--', 'true', store=False)
        run_id = self.cairn_json('--store', store, 'runs', 'list', '--json',
                                 store=False)['runs'][0]['run_id']
        if subprocess.run(['mount', '--bind', str(folder), str(folder)],
                          capture_output=True).returncode != 0:
            self.skipTest('mount --bind is not allowed here')
        self.addCleanup(subprocess.run, ['umount', str(folder)], capture_output=True)
        if subprocess.run(['mount', '-o', 'remount,bind,ro', str(folder)],
                          capture_output=True).returncode != 0:
            self.skipTest('a read-only remount is not allowed here')
        listed = self.cairn_json('--store', store, 'runs', 'list', '--json', store=False)['runs']
        self.assertEqual([r['run_id'] for r in listed], [run_id])
        self.cairn('--store', store, 'runs', 'show', run_id, store=False)
        self.cairn_error('--store', store, 'exp', 'create', 'x', store=False,
                         mentions=['is read-only'])


if __name__ == '__main__':
    harness.main()
