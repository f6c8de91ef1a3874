# SPDX-License-Identifier: MIT
"""The web UI in headless chromium: `cairn server` on a store this test fills, driven by
tests/browser/ui_test.mjs (playwright-core from web/'s lockfile, /usr/bin/chromium). Checks
what each page renders (row counts, sort order after a click, a filter's result, a bad filter's
error at its token, the compare view's differences, a chart's series), keyboard navigation,
delete and restore, the login form behind --auth, and that hostile run names, params, tags and
artifacts (x.html, x.svg full of script) are shown as text and never run. Screenshots of each
page go to <build>/test-artifacts/webui/. Stdlib only; ctest label `browser`."""
import base64
import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import sys
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
import restlib  # noqa: E402

CHROMIUM = '/usr/bin/chromium'
WEB_DIR = harness.SOURCE_DIR / 'web'
DRIVER = harness.SOURCE_DIR / 'tests' / 'browser' / 'ui_test.mjs'
HOSTILE_NAME = '<img src=x onerror=window.__pwned=1>'
HOSTILE_PARAM = '<script>window.__pwned=2</script>'
HOSTILE_TAG = '"><svg/onload=window.__pwned=3>'
X_HTML = ('<!doctype html><script>window.__pwned=4;parent.__pwned=4</script>'
          '<img src=x onerror="window.__pwned=5"><b>bold?</b>\n')
X_SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40" '
         'onload="window.__pwned=6"><script>window.__pwned=7</script>'
         '<rect width="40" height="40" fill="red"/></svg>\n')
CURVE_SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="120" height="60">'
             '<polyline points="0,50 40,30 80,20 120,15" fill="none" stroke="blue"/></svg>\n')


class Served(unittest.TestCase):
    """A store filled by seed(), served plain and with --auth."""
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = pathlib.Path(restlib.tempfile.mkdtemp(prefix='cairn-webui-'))
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.store = 'sqlite:///' + str(cls.tmp / 's.db').lstrip('/')
        cls.art = cls.tmp / 's-artifacts'  # where cairn_seed_store's runs keep their files
        cls.out = harness.BUILD_DIR / 'test-artifacts' / 'webui'
        shutil.rmtree(cls.out, True)
        cls.out.mkdir(parents=True)
        cls.seed()
        cls.server = restlib.Server(cls.store, cls.art, cls.tmp)
        cls.addClassCleanup(cls.server.stop)
        # The hostile name has blanks and quotes, which the seed's line format does not carry.
        body = json.dumps({'run_id': cls.hostile, 'run_name': HOSTILE_NAME}).encode()
        req = urllib.request.Request(cls.server.base + '/api/2.0/mlflow/runs/update', data=body,
                                     headers={'Content-Type': 'application/json'})
        urllib.request.urlopen(req, timeout=30).read()
        subprocess.run([harness.CAIRN_BIN, '--store', cls.store, 'auth', 'user', 'add', 'admin',
                        '--admin', '--password-stdin'], input='admin-secret\n', text=True,
                       check=True, capture_output=True, timeout=60)
        cls.auth_server = restlib.Server(cls.store, cls.art, cls.tmp, '--auth')
        cls.addClassCleanup(cls.auth_server.stop)

    @classmethod
    def seed(cls):
        lines = ['exp webui-test', 'exp other-exp']
        cls.names = []
        for i in range(30):
            name = 'run-%02d' % i
            cls.names.append(name)
            lines += ['run webui-test name=%s start=%d' % (name, 1700000000000 + i * 1000),
                      'param lr %s' % ('0.1', '0.01', '0.001')[i % 3],
                      'tag team %s' % ('a', 'b')[i % 2]]
            for step in range(5):
                value = 1.0 - step * 0.1 - i * 0.01
                lines.append('metric loss %r %d %d' % (round(value, 4), step,
                                                       1700000000000 + i * 1000 + step * 100))
            lines.append('finish FINISHED')
        lines += ['run webui-test name=hostile start=1700000100000',
                  'param evil "%s"' % HOSTILE_PARAM,
                  'tag evil "%s"' % HOSTILE_TAG.replace('"', "'"),
                  'tag cairn.host builder-7',
                  'tag cairn.command "cairn run train.yaml"',
                  'metric loss 0.95 0',
                  'input iris sha256:0123abcd train',
                  'artifact placeholder.txt x',
                  'finish FINISHED']
        proc = subprocess.run([os.environ.get('CAIRN_SEED_STORE', 'cairn_seed_store'), cls.store],
                              input='\n'.join(lines) + '\n', capture_output=True, text=True,
                              check=True, timeout=120)
        ids = proc.stdout.split()
        cls.ids = dict(zip(cls.names + ['hostile'], ids))
        cls.hostile = ids[-1]
        run_dirs = list(cls.art.glob('*/%s/artifacts' % cls.hostile))
        assert len(run_dirs) == 1, run_dirs
        d = run_dirs[0]
        (d / 'x.html').write_text(X_HTML)
        (d / 'x.svg').write_text(X_SVG)
        (d / 'data.csv').write_text('a,b\n' + ''.join('%d,%d\n' % (i, i * i) for i in range(100)))
        (d / 'plots').mkdir()
        (d / 'plots' / 'curve.svg').write_text(CURVE_SVG)

    def exp_id_of(self, name):
        with urllib.request.urlopen(self.server.base + '/api/2.0/mlflow/experiments/get-by-name?'
                                    'experiment_name=' + name, timeout=30) as r:
            return json.loads(r.read())['experiment']['experiment_id']


@unittest.skipUnless(os.path.exists(CHROMIUM),
                     '/usr/bin/chromium is absent: install it with scripts/install-deps.sh '
                     '(apt-get install chromium) to run the browser tests')
class Browser(Served):
    def test_pages(self):
        exp_id = self.exp_id_of('webui-test')
        spec = {'base': self.server.base, 'out': str(self.out), 'web_dir': str(WEB_DIR),
                'chromium': CHROMIUM, 'exp_id': exp_id, 'hostile_id': self.hostile,
                'chart_runs': [self.ids['run-00'], self.ids['run-10'], self.ids['run-20']],
                'auth_base': self.auth_server.base, 'auth_user': 'admin',
                'auth_password': 'admin-secret'}
        spec_path = self.tmp / 'spec.json'
        spec_path.write_text(json.dumps(spec))
        proc = subprocess.run(['node', str(DRIVER), str(spec_path)], capture_output=True,
                              text=True, timeout=150)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        seen = json.loads(proc.stdout.strip().splitlines()[-1])
        self.assertNotIn('failure', seen, seen.get('failure'))
        self.assertEqual(seen['page_errors'], [])
        self.assertEqual(seen['csp_violations'], [])
        self.assertEqual(seen['console_errors'], [])

        # Experiments: both listed, the test's with its 31 runs; the search keeps one.
        exps = {row[0]: row for row in seen['experiments']}
        self.assertIn('webui-test', exps)
        self.assertIn('other-exp', exps)
        self.assertIn(exps['webui-test'][2], ('31', '31+'))
        self.assertEqual(seen['experiments_searched'], 1)

        # Runs: newest first, all 31 loaded; virtual scrolling renders only what is visible.
        self.assertEqual(seen['runs_count_text'], '31 runs')
        self.assertGreater(seen['runs_rendered'], 10)
        self.assertLessEqual(seen['runs_rendered'], 31)
        self.assertEqual(seen['runs_first_names'][0], HOSTILE_NAME)
        self.assertEqual(seen['runs_first_names'][1], 'run-29')
        # Sort by loss: the first click sorts descending, the second ascending.
        self.assertIn('order=metrics.loss DESC', seen['sort_hash_1'].replace('+', ' '))
        down = [float(v) for v in seen['sorted_loss_1'] if v]
        up = [float(v) for v in seen['sorted_loss_2'] if v]
        self.assertGreater(len(down), 10)
        self.assertEqual(down, sorted(down, reverse=True))
        self.assertEqual(up, sorted(up))
        self.assertEqual(up[0], 0.31)  # run-29's last loss: 1 - 0.4 - 0.29
        # The filter with OR: (loss < 0.5 and lr = 0.1) or lr = 0.01.
        expect = sum(1 for i in range(30)
                     if (i % 3 == 0 and 1.0 - 0.4 - i * 0.01 < 0.5) or i % 3 == 1)
        self.assertEqual(seen['filter_count_text'], '%d runs' % expect)
        self.assertEqual(seen['filter_rendered'], expect)
        # A bad filter: the parser's message, its token marked.
        self.assertIn('invalid filter at character 13', seen['bad_filter_error'])
        self.assertEqual(seen['bad_filter_token'], '0.1')
        self.assertEqual(seen['bad_filter_invalid'], 'true')
        self.assertIn('cols=', seen['cols_hash'])
        self.assertIn('t:team', seen['cols_hash'])
        self.assertEqual(seen['keyboard_opened'], seen['keyboard_expected'])

        # Compare three runs: lr and loss differ, team differs too.
        self.assertEqual(seen['selected_text'], '3 selected')
        self.assertEqual(seen['compare_columns'], 3)
        self.assertIn('lr', seen['compare_diff_keys'])
        self.assertIn('loss', seen['compare_diff_keys'])

        # Charts: one series per run, in both axis modes; hover shows values.
        self.assertEqual(seen['chart_series'], 3)
        self.assertGreaterEqual(seen['chart_canvas'], 1)
        self.assertEqual(seen['chart_series_smoothed'], 3)
        self.assertEqual(len(seen['chart_hover_values']), 4)
        # Resized with the window: narrower, and within its box.
        self.assertLess(seen['chart_width_narrow'], seen['chart_width_wide'] - 200)
        self.assertLessEqual(seen['chart_width_narrow'], max(400, seen['chart_box_narrow']) + 2)

        # Delete then restore.
        d = seen['after_delete']
        self.assertEqual((d['before'], d['after']), ('31 runs', '30 runs'))
        self.assertEqual(seen['deleted_view'], [d['victim']])
        self.assertEqual(seen['after_restore_deleted_view'], '0 runs')

        # Hostile content is text; nothing ran; only the app's own script is on the page.
        self.assertEqual(seen['hostile_title'], HOSTILE_NAME)
        self.assertIn(['evil', HOSTILE_PARAM], seen['hostile_params'])
        self.assertIn(['evil', HOSTILE_TAG.replace('"', "'")], seen['hostile_tags'])
        self.assertIn('cairn.host', seen['context'])
        self.assertIn('cairn.command', seen['context'])
        self.assertTrue(any('sha256:0123abcd' in r for r in seen['inputs']), seen['inputs'])
        self.assertEqual(seen['preview_html'], X_HTML)
        self.assertEqual(seen['preview_svg_img']['src'], 'blob:')
        self.assertEqual(seen['preview_csv_lines'], 30)
        pics = {p['alt']: p for p in seen['pictures']}
        self.assertEqual(sorted(pics), ['plots/curve.svg', 'x.svg'])
        self.assertTrue(pics['plots/curve.svg']['ok'])
        self.assertIsNone(seen['pwned'])
        self.assertEqual(seen['dialogs'], [])
        self.assertEqual(len(seen['script_tags']), 2)
        self.assertIsNone(seen['script_tags'][0])  # boot.js, inlined (allowed by its hash)
        self.assertTrue(seen['script_tags'][1].startswith('/static/app-'))
        # Opened from its address, the runs page's first search and experiment were each asked
        # for once (by boot.js, taken by the page), and the page's answer is the sorted one.
        self.assertEqual(sorted(seen['opening_requests']),
                         ['mlflow/experiments/get', 'mlflow/runs/search'])
        self.assertTrue(seen['early_ended'])
        self.assertEqual(float(seen['opening_first_loss']), 0.31)  # run-29's, the lowest

        # Behind --auth: the login form, a refusal shown, then the experiments.
        self.assertTrue(seen['auth_login_shown'])
        self.assertIn('refused', seen['auth_refused_shown'])
        self.assertEqual(seen['auth_experiments'], 3)  # Default, webui-test, other-exp

        for name in ('experiments', 'runs', 'runs-filtered', 'runs-bad-filter', 'compare',
                     'chart', 'chart-time-log-smoothed', 'run-hostile', 'login'):
            self.assertTrue((self.out / (name + '.png')).stat().st_size > 1000, name)


class Serving(Served):
    """The UI's files and headers, without a browser."""

    def test_headers_and_routes(self):
        base = self.server.base
        with urllib.request.urlopen(base + '/', timeout=30) as r:
            html = r.read().decode()
            csp = r.headers['Content-Security-Policy']
            self.assertEqual(r.headers['X-Content-Type-Options'], 'nosniff')
            self.assertEqual(r.headers['Referrer-Policy'], 'no-referrer')
            self.assertEqual(r.headers['Cache-Control'], 'no-cache')
            etag = r.headers['ETag']
        self.assertIn("default-src 'self'", csp)
        self.assertIn("script-src 'self'", csp)
        self.assertIn("object-src 'none'", csp)
        self.assertIn("frame-ancestors 'none'", csp)
        self.assertNotIn('unsafe', csp)
        self.assertTrue(etag.startswith('"'))
        # A revalidation: 304 without a body.
        req = urllib.request.Request(base + '/', headers={'If-None-Match': etag})
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(req, timeout=30)
        self.assertEqual(cm.exception.code, 304)
        # A client route answers index.html; the static files are cached for good.
        with urllib.request.urlopen(base + '/exp/1/anything', timeout=30) as r:
            self.assertEqual(r.read().decode(), html)
        # boot.js and the stylesheet are inline, each allowed by its own hash in its directive
        # (never 'unsafe-inline'); the bundle's list of hashes is not served.
        directives = dict((d.strip().split(' ', 1) + [''])[:2] for d in csp.split(';'))
        for tag, directive in (('script', 'script-src'), ('style', 'style-src')):
            bodies = [p.split('</%s>' % tag)[0] for p in html.split('<%s>' % tag)[1:]]
            self.assertEqual(len(bodies), 1, html)
            digest = base64.b64encode(hashlib.sha256(bodies[0].encode()).digest()).decode()
            self.assertEqual(directives[directive].split(),
                             ["'self'", "'sha256-%s'" % digest], csp)
        self.assertNotIn('<link rel="stylesheet"', html)
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(base + '/static/csp.txt', timeout=30)
        self.assertEqual(cm.exception.code, 404)
        scripts = [p.split('>')[0] for p in html.split('<script type="module"')[1:]]
        self.assertEqual(len(scripts), 1, html)  # the entry
        entry = b''
        for tag in scripts:
            js = tag.split('src="')[1].split('"')[0]
            with urllib.request.urlopen(base + js, timeout=30) as r:
                self.assertTrue(r.headers['Content-Type'].startswith('text/javascript'))
                self.assertIn('immutable', r.headers['Cache-Control'])
                self.assertIn("default-src 'self'", r.headers['Content-Security-Policy'])
                entry += r.read()
        # The entries are split (web/build.mjs): the code they import is preloaded beside them.
        preloads = [p.split('"')[0] for p in html.split('rel="modulepreload" href="')[1:]]
        self.assertTrue(preloads, html)
        size = len(entry)
        for p in preloads:
            self.assertIn(p.split('/')[-1].encode(), entry)
            with urllib.request.urlopen(base + p, timeout=30) as r:
                self.assertIn('immutable', r.headers['Cache-Control'])
                size += len(r.read())
        self.assertGreater(size, 10000)
        for path in ('/static/nope.js', '/api/2.0/mlflow/nope', '/ajax-api/2.0/x'):
            with self.assertRaises(urllib.error.HTTPError) as cm:
                urllib.request.urlopen(base + path, timeout=30)
            self.assertEqual(cm.exception.code, 404, path)
            if 'api' in path:
                self.assertEqual(json.loads(cm.exception.read())['error_code'],
                                 'ENDPOINT_NOT_FOUND')
        # Behind --auth the page itself loads without credentials (the API asks for them).
        with urllib.request.urlopen(self.auth_server.base + '/', timeout=30) as r:
            self.assertEqual(r.read().decode(), html)


del Served  # a base, not a test

if __name__ == '__main__':
    unittest.main()
