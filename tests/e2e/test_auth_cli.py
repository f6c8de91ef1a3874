# SPDX-License-Identifier: MIT
"""`cairn auth`: users, passwords from stdin or $CAIRN_PASSWORD, tokens, grants and revokes,
the rules' messages, and the JSON listings. On SQLite the stored hash and token digest are
checked independently with Python's hashlib (docs/auth.md gives their formats)."""
import base64
import hashlib
import pathlib
import re
import sqlite3
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402

TOKEN_RE = re.compile(r'^cairn_[A-Za-z0-9_-]{43}$')


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + '=' * (-len(text) % 4))


class AuthCli(harness.CairnTest):
    def add_user(self, name, password='correct horse', *extra):
        return self.cairn('auth', 'user', 'add', name, '--password-stdin', *extra,
                          input=password + '\n')

    def db(self):
        """The SQLite store, for the independent checks; None on PostgreSQL."""
        if not self.store.startswith('sqlite:'):
            return None
        path = '/' + self.store[len('sqlite:///'):]
        conn = sqlite3.connect(path)
        self.addCleanup(conn.close)
        return conn

    def test_users_add_list_admin_passwd_delete(self):
        out = self.add_user('ana').stdout
        self.assertEqual(out, 'added user ana\n')
        out = self.cairn('auth', 'user', 'add', 'root', '--admin',
                         env={'CAIRN_PASSWORD': 'an admin pass'}).stdout
        self.assertEqual(out, 'added user root (admin)\n')
        users = self.cairn_json('auth', 'user', 'list', '--json')['users']
        self.assertEqual([(u['username'], u['is_admin']) for u in users],
                         [('ana', False), ('root', True)])
        self.assertGreater(users[0]['creation_timestamp'], 0)
        table = self.cairn('auth', 'user', 'list').stdout.splitlines()
        self.assertEqual(table[0].split(), ['USER', 'ADMIN', 'CREATED', 'UPDATED'])
        self.assertEqual(table[1].split()[:2], ['ana', 'no'])

        self.cairn_error('auth', 'user', 'add', 'ana', '--password-stdin',
                         input='another pass\n', mentions=["user 'ana' already exists"])
        self.cairn('auth', 'user', 'admin', 'ana', 'yes')
        users = self.cairn_json('auth', 'user', 'list', '--json')['users']
        self.assertTrue(users[0]['is_admin'])
        self.cairn('auth', 'user', 'admin', 'ana', 'no')

        db = self.db()
        before = db and db.execute("SELECT password_hash FROM users WHERE username = 'ana'"
                                   ).fetchone()[0]
        out = self.cairn('auth', 'user', 'passwd', 'ana', env={'CAIRN_PASSWORD': 'new password'})
        self.assertEqual(out.stdout, 'changed the password of ana\n')
        if db:
            after = db.execute("SELECT password_hash FROM users WHERE username = 'ana'"
                               ).fetchone()[0]
            self.assertNotEqual(before, after)
            self.check_hash(after, 'new password')

        self.cairn('auth', 'user', 'delete', 'ana')
        self.cairn_error('auth', 'user', 'delete', 'ana', mentions=["no user named 'ana'"])
        users = self.cairn_json('auth', 'user', 'list', '--json')['users']
        self.assertEqual([u['username'] for u in users], ['root'])

    def check_hash(self, stored, password):
        """The stored text is pbkdf2-sha256$N$salt$key and hashlib derives the same key."""
        scheme, iterations, salt, key = stored.split('$')
        self.assertEqual(scheme, 'pbkdf2-sha256')
        self.assertGreaterEqual(int(iterations), 100000)
        salt, key = b64url_decode(salt), b64url_decode(key)
        self.assertEqual(len(salt), 16)
        self.assertEqual(hashlib.pbkdf2_hmac('sha256', password.encode(), salt,
                                             int(iterations), len(key)), key)
        self.assertNotEqual(hashlib.pbkdf2_hmac('sha256', b'wrong', salt, int(iterations),
                                                len(key)), key)

    def test_stored_hash_is_salted_pbkdf2(self):
        db = self.db()
        if not db:
            self.skipTest('reads the SQLite file')
        self.add_user('ana', 'same password')
        self.add_user('bob', 'same password')
        rows = dict(db.execute('SELECT username, password_hash FROM users'))
        self.check_hash(rows['ana'], 'same password')
        self.check_hash(rows['bob'], 'same password')
        self.assertNotEqual(rows['ana'], rows['bob'])  # a fresh salt each
        self.assertNotIn('same password', ''.join(rows.values()))

    def test_rules_and_usage(self):
        self.cairn_error('auth', 'user', 'add', 'ana', '--password-stdin', input='short\n',
                         mentions=['at least 8 characters'])
        self.cairn_error('auth', 'user', 'add', 'a:b', '--password-stdin',
                         input='long enough\n', mentions=["without spaces or ':'"])
        self.cairn_error('auth', 'user', 'add', 'ana',
                         mentions=['--password-stdin', 'CAIRN_PASSWORD'])
        self.cairn_error('auth', 'user', 'add', 'ana', '--password-stdin', input='',
                         mentions=['no password on standard input'])
        self.cairn_error('auth', 'user', 'add', expect=2)
        self.cairn_error('auth', 'user', 'passwd', 'ana', '--admin', expect=2)
        self.cairn_error('auth', 'user', 'admin', 'ana', 'maybe', expect=2,
                         mentions=['expected yes or no'])
        self.cairn_error('auth', 'user', 'frobnicate', expect=2,
                         mentions=["unknown verb 'frobnicate'"])
        self.cairn_error('auth', 'token', 'create', 'ana', '--ttl', '0', expect=2,
                         mentions=['--ttl'])
        self.cairn_error('auth', 'token', 'create', 'nobody', mentions=["no user named 'nobody'"])
        self.add_user('ana')
        self.cairn_error('auth', 'grant', 'model', 'm', 'ana', 'WRITE', expect=2,
                         mentions=['expected READ, EDIT, MANAGE or NO_PERMISSIONS'])
        self.cairn_error('auth', 'grant', 'model', 'missing', 'ana', 'READ',
                         mentions=["no registered model named 'missing'"])
        self.cairn_error('auth', 'grant', 'experiment', '4242', 'ana', 'READ',
                         mentions=['4242'])
        self.cairn_error('auth', 'grant', 'experiment', 'no-such-exp', 'ana', 'READ')

    def test_tokens_create_list_revoke(self):
        self.add_user('ana')
        proc = self.cairn('auth', 'token', 'create', 'ana', '--name', 'ci', '--ttl', '30')
        token = proc.stdout.strip()
        self.assertRegex(token, TOKEN_RE)
        self.assertIn('shown only once', proc.stderr)
        other = self.cairn('auth', 'token', 'create', 'ana').stdout.strip()
        self.assertRegex(other, TOKEN_RE)
        self.assertNotEqual(token, other)
        self.cairn_error('auth', 'token', 'create', 'ana', '--name', 'ci',
                         mentions=["already has a token named 'ci'"])

        tokens = self.cairn_json('auth', 'token', 'list', 'ana', '--json')['tokens']
        self.assertEqual(len(tokens), 2)
        ci = tokens[0]
        self.assertEqual((ci['username'], ci['name']), ('ana', 'ci'))
        days = (ci['expiration_timestamp'] - ci['creation_timestamp']) / 86400000
        self.assertAlmostEqual(days, 30, places=3)
        self.assertIsNone(ci['last_used_timestamp'])
        self.assertTrue(tokens[1]['name'].startswith('token-'))
        self.assertIsNone(tokens[1]['expiration_timestamp'])
        listing = self.cairn('auth', 'token', 'list').stdout
        self.assertNotIn(token, listing)
        self.assertIn('never', listing)

        db = self.db()
        if db:
            digests = {r[0] for r in db.execute('SELECT token_sha256 FROM tokens')}
            self.assertEqual(digests, {hashlib.sha256(t.encode()).hexdigest()
                                       for t in (token, other)})

        self.cairn('auth', 'token', 'revoke', 'ana', 'ci')
        self.cairn_error('auth', 'token', 'revoke', 'ana', 'ci',
                         mentions=["has no token named 'ci'"])
        tokens = self.cairn_json('auth', 'token', 'list', '--json')['tokens']
        self.assertEqual(len(tokens), 1)
        self.cairn('auth', 'user', 'delete', 'ana')
        self.assertEqual(self.cairn_json('auth', 'token', 'list', '--json')['tokens'], [])

    def test_grant_revoke_and_list(self):
        self.add_user('ana')
        self.add_user('bob')
        exp_id = self.cairn('exp', 'create', 'churn').stdout.split()[-1]
        self.assertTrue(exp_id.isdigit(), exp_id)
        self.cairn('model', 'register', '--name', 'clf', 'file:///tmp/model')
        out = self.cairn('auth', 'grant', 'experiment', 'churn', 'ana', 'edit').stdout
        self.assertEqual(out, 'experiment %s: ana EDIT\n' % exp_id)
        self.cairn('auth', 'grant', 'experiment', exp_id, 'bob', 'NO_PERMISSIONS')
        self.cairn('auth', 'grant', 'model', 'clf', 'ana', 'manage')
        grants = self.cairn_json('auth', 'grants', '--json')['permissions']
        self.assertEqual(grants, [
            {'kind': 'experiment', 'resource': exp_id, 'username': 'ana', 'permission': 'EDIT'},
            {'kind': 'experiment', 'resource': exp_id, 'username': 'bob',
             'permission': 'NO_PERMISSIONS'},
            {'kind': 'model', 'resource': 'clf', 'username': 'ana', 'permission': 'MANAGE'},
        ])
        # Granting again replaces.
        self.cairn('auth', 'grant', 'experiment', exp_id, 'ana', 'READ')
        mine = self.cairn_json('auth', 'grants', 'ana', '--json')['permissions']
        self.assertEqual([(g['kind'], g['permission']) for g in mine],
                         [('experiment', 'READ'), ('model', 'MANAGE')])
        table = self.cairn('auth', 'grants', 'bob').stdout.splitlines()
        self.assertEqual(table[0].split(), ['KIND', 'RESOURCE', 'USER', 'PERMISSION'])
        self.assertEqual(table[1].split(), ['experiment', exp_id, 'bob', 'NO_PERMISSIONS'])

        out = self.cairn('auth', 'revoke', 'model', 'clf', 'ana').stdout
        self.assertIn('falls back to the default permission', out)
        self.cairn_error('auth', 'revoke', 'model', 'clf', 'ana',
                         mentions=["user 'ana' has no permission of its own"])
        self.cairn('auth', 'user', 'delete', 'bob')
        grants = self.cairn_json('auth', 'grants', '--json')['permissions']
        self.assertEqual([(g['username'], g['permission']) for g in grants], [('ana', 'READ')])


if __name__ == '__main__':
    harness.main()
