# SPDX-License-Identifier: MIT
"""The web UI's registry and monitoring pages in headless chromium, on a store filled by real
cairn commands: `cairn train` (breast_cancer, logistic), `cairn model register` twice, an alias
moved v1 -> v2 and rolled back, a model card with hostile Markdown (`cairn model card
--template`), and `cairn serve` of v2 with a short monitor interval fed a plain then a shifted
batch (its monitoring run). `cairn server` serves the UI; tests/browser/registry_test.mjs drives
the pages and prints what it saw. Checks: the models list, the versions table, the alias history
rows equal to `cairn model history --json`'s, the card's headings rendered as headings and every
hostile bit shown as text or dropped with nothing run (the window.__pwned trap), the drift
charts' series per feature and the thresholds the monitoring run logged. Screenshots of each
view, light and dark, go to <build>/test-artifacts/webui-registry/. ctest label `browser`."""
import json
import os
import random
import shutil
import subprocess
import sys
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
import restlib  # noqa: E402
from test_serve import Serve, read_csv  # noqa: E402

CHROMIUM = '/usr/bin/chromium'
WEB_DIR = harness.SOURCE_DIR / 'web'
DRIVER = harness.SOURCE_DIR / 'tests' / 'browser' / 'registry_test.mjs'
DATA = harness.SOURCE_DIR / 'data'
MODEL = 'bc-ui'
SHIFTED = (0, 1, 2)  # mean radius, mean texture, mean perimeter: the columns the drift moves

# The person's sections of the card, each with something a sanitiser must stop.
HOSTILE_CARD = """# Model card

## Intended use

Screening **triage** only. <script>window.__pwned=1</script>

## Assumptions

Inputs are scaled like the training data. <img src=x onerror="window.__pwned=2">

## Limitations

Read [x](javascript:alert(1)) and [the docs](https://example.org/docs).

<div onclick="window.__pwned=3"><b>raw html block</b></div>

## Ethical considerations

No personal data; ![pic](data:image/svg+xml,<svg onload=window.__pwned=4>) is not fetched.

![roc curve](roc.svg) is the run's own picture, beside the card; ![outside](../../x.png) and
![far](https://example.org/x.png) stay as their alt texts.
"""

# The picture beside the card (an SVG with a script that must not run from an <img>).
ROC_SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="120" height="80">'
           '<script>window.__pwned=5</script><rect width="120" height="80" fill="#2f6fdf"/></svg>')


@unittest.skipUnless(os.path.exists(CHROMIUM),
                     '/usr/bin/chromium is absent: install it with scripts/install-deps.sh '
                     '(apt-get install chromium) to run the browser tests')
class RegistryPages(harness.CairnTest):
    maxDiff = None

    def train(self):
        cfg = self.tmp / 'bc.yaml'
        cfg.write_text('name: bc\nexperiment: registry-ui\nseed: 3\n'
                       'data: {path: %s, label: target, categorical: [target]}\n'
                       'split: {test: 0.2, val: 0.2}\nlearner:\n  name: logistic\n'
                       'bootstrap: 20\n' % (DATA / 'breast_cancer.csv'))
        return self.cairn_json('train', '--json', '--config', cfg)['run_id']

    def drift_checks(self, srv):
        for line in srv.request('GET', '/metrics')[2].decode().splitlines():
            if line.startswith('cairn_serve_drift_checks_total'):
                return float(line.rsplit(' ', 1)[1])
        return 0.0

    def wait_checks(self, srv, n):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.drift_checks(srv) >= n:
                return
            time.sleep(0.2)
        self.fail('no drift check %d within 60 s:\n%s' % (n, srv.stderr()))

    def serve_and_drift(self):
        """`cairn serve` of v2: a plain batch, a check, a shifted batch, a check."""
        header, rows = read_csv(DATA / 'breast_cancer.csv')
        feats = header[:-1]
        data = [[float(v) for v in r[:-1]] for r in rows]
        random.Random(7).shuffle(data)
        srv = Serve(self, 'models:/%s/2' % MODEL, '--monitor-interval', '1', '--window', '200',
                    '--min-rows', '100')
        srv.invoke({'dataframe_split': {'columns': feats, 'data': data[:200]}})
        self.wait_checks(srv, 1)
        shifted = [[v * (1.5 if i in SHIFTED else 1.0) for i, v in enumerate(r)]
                   for r in data[200:400]]
        srv.invoke({'dataframe_split': {'columns': feats, 'data': shifted}})
        self.wait_checks(srv, 2)
        self.assertEqual(srv.stop(), 0)
        return srv.run_id

    def test_registry_and_monitoring_pages(self):
        run_id = self.train()
        self.cairn('model', 'register', '--name', MODEL, '--run', run_id, '--semver', '1.0.0')
        self.cairn('model', 'register', '--name', MODEL, '--run', run_id, '--semver', '1.1.0',
                   '--description', 'the <i>second</i> one', '--tag', 'data=v<2>')
        self.cairn('model', 'alias', MODEL, 'production', '1', '--reason', 'first release')
        self.cairn('model', 'alias', MODEL, 'production', '2', '--reason', 'auc +0.02')
        self.cairn('model', 'rollback', MODEL, 'production', '--reason', 'latency regression')
        self.cairn('model', 'alias', MODEL, 'staging', '2', '--reason', 'canary')
        template = self.tmp / 'card-template.md'
        template.write_text(HOSTILE_CARD)
        self.cairn('model', 'card', '%s@2' % MODEL, '--template', template,
                   '-o', self.tmp / 'card-out.md')
        monitoring_run = self.serve_and_drift()
        history = self.cairn_json('model', 'history', MODEL, '--json')['events']

        # The server's artifact root is the one the CLI's runs keep their files in (as in a
        # team's deployment), so the card's pictures are read through the artifact proxy.
        art = self.tmp / ('cairn-artifacts' if self.store.startswith('sqlite') else
                          'server-artifacts')
        server = restlib.Server(self.store, art, self.tmp)
        self.addCleanup(server.stop)
        card = json.loads(urllib.request.urlopen(
            server.base + '/api/2.0/cairn/model-versions/card?name=%s&version=2' % MODEL,
            timeout=30).read())
        self.assertEqual((card['from'], card['run_id'], card['sha256_ok']),
                         ('artifact', run_id, True))
        roc_path = card['path'].rsplit('/', 1)[0] + '/roc.svg' if '/' in card['path'] \
            else 'roc.svg'
        root_uri = json.loads(urllib.request.urlopen(
            server.base + '/api/2.0/mlflow/artifacts/list?run_id=' + run_id,
            timeout=30).read())['root_uri']
        self.assertTrue(root_uri.startswith('mlflow-artifacts:/'), root_uri)
        proxy = (server.base + '/api/2.0/mlflow-artifacts/artifacts/' +
                 root_uri[len('mlflow-artifacts:/'):].lstrip('/'))
        urllib.request.urlopen(urllib.request.Request(
            proxy + '/' + roc_path, method='PUT', data=ROC_SVG.encode()), timeout=30).read()
        # The model's own description (register's --description is the version's).
        req = urllib.request.Request(
            server.base + '/api/2.0/mlflow/registered-models/update', method='PATCH',
            data=json.dumps({'name': MODEL, 'description': 'breast cancer <b>screening</b>'})
            .encode(), headers={'Content-Type': 'application/json'})
        urllib.request.urlopen(req, timeout=30).read()
        drift = json.loads(urllib.request.urlopen(
            server.base + '/api/2.0/cairn/monitoring/drift?model=%s&version=2' % MODEL,
            timeout=30).read())
        self.assertEqual(drift['run_id'], monitoring_run)
        header = read_csv(DATA / 'breast_cancer.csv')[0]
        names = sorted(f['name'] for f in drift['features'])
        self.assertEqual(names, sorted(header[:-1] + ['prediction']), names)
        for f in drift['features']:  # what cairn serve logged, served back
            self.assertIsNotNone(f['threshold'], f['name'])
            self.assertEqual([p['step'] for p in f['points']], [1, 2])

        out = harness.BUILD_DIR / 'test-artifacts' / 'webui-registry'
        shutil.rmtree(out, True)
        out.mkdir(parents=True)
        # The driver changes the card's file (after reading the version page) through this.
        spec = {'base': server.base, 'out': str(out), 'web_dir': str(WEB_DIR),
                'chromium': CHROMIUM, 'model': MODEL, 'run_id': run_id,
                'card_url': proxy + '/' + card['path']}
        spec_path = self.tmp / 'spec.json'
        spec_path.write_text(json.dumps(spec))
        proc = subprocess.run(['node', str(DRIVER), str(spec_path)], capture_output=True,
                              text=True, timeout=300)
        self.assertEqual(proc.returncode, 0, proc.stderr[-4000:])
        seen = json.loads(proc.stdout)
        self.assertEqual(seen['page_errors'], [])
        self.assertEqual(seen['console_errors'], [])
        self.assertEqual(seen['csp_violations'], [])

        # The models list, and its search.
        self.assertEqual(seen['nav_models'], '#/models')
        self.assertEqual([r[0] for r in seen['models']], [MODEL])
        name, latest, aliases, desc, _ = seen['models'][0]
        self.assertIn('v2', latest)
        self.assertEqual(aliases, 'production → v1, staging → v2')
        self.assertEqual(desc, 'breast cancer <b>screening</b>')
        self.assertEqual(seen['models_searched_none'], 'No model matches.')

        # The versions table: newest first, semver, aliases, stage, run.
        self.assertEqual(seen['versions'], [
            ['v2', '1.1.0', 'staging', 'None', run_id[:8]],
            ['v1', '1.0.0', 'production', 'None', run_id[:8]]])

        # The alias history equals `cairn model history`'s, newest first, rollback marked.
        def move(e):
            v = lambda x: '—' if x is None else 'v%d' % x  # noqa: E731
            return '%s → %s' % (v(e.get('from_version')), v(e.get('to_version')))
        want = [[e['kind'], e['alias'], move(e), e['user'], e.get('reason') or '']
                for e in history]
        self.assertEqual(len(want), 4)
        self.assertEqual(seen['history'], want)
        self.assertEqual(want[1][:3], ['rollback', 'production', 'v2 → v1'])
        self.assertEqual(seen['history_rollback_rows'], 1)
        self.assertEqual(seen['history_production'],
                         [r for r in want if r[1] == 'production'])

        # The version page: lineage to the run and its datasets, the card rendered.
        self.assertEqual(seen['lineage_run_id'], run_id)
        self.assertEqual(seen['version_description'], 'the <i>second</i> one')
        self.assertEqual(seen['version_tags'], [['data', 'v<2>']])
        lineage = json.loads(urllib.request.urlopen(
            server.base + '/api/2.0/cairn/model-versions/lineage?name=%s&version=2' % MODEL,
            timeout=30).read())
        self.assertEqual(seen['datasets'], [[d['name'], d['digest'], d['context'], d['source']]
                                            for d in lineage['datasets']])
        self.assertEqual(sorted(d[2] for d in seen['datasets']),
                         ['test', 'training', 'validation'])
        self.assertIn('Intended use', seen['card_headings']['h2'])
        self.assertIn('Ethical considerations', seen['card_headings']['h2'])
        self.assertEqual(seen['card_elements'], [])  # no script, img, div, iframe, ...
        text = seen['card_text']
        self.assertIn('<script>window.__pwned=1</script>', text)
        self.assertIn('<img src=x onerror="window.__pwned=2">', text)
        self.assertIn('[x](javascript:alert(1))', text)
        self.assertIn('<div onclick="window.__pwned=3"><b>raw html block</b></div>', text)
        self.assertEqual(seen['card_links'], [['https://example.org/docs', 'the docs',
                                               'noopener noreferrer nofollow']])
        self.assertIn('triage', seen['card_strong'])
        self.assertNotIn('<!--', text)  # the card's leading comment is left out
        # The run's own picture beside the card is shown (from a blob: URL, drawn, its script
        # never run); the others stay as their alt texts.
        self.assertEqual(seen['card_pictures'], [[roc_path, 'roc curve', True, 120]])
        self.assertIn('[image: outside]', text)
        self.assertIn('[image: far]', text)
        # The card's file changed after it was written: the page says so.
        self.assertIsNone(seen['card_changed_before'])
        self.assertIn('no longer matches the SHA-256', seen['card_changed_after'])
        self.assertIsNone(seen['pwned'])
        self.assertEqual(seen['dialogs'], [])

        # Monitoring: a chart per feature with score, threshold and the drifted marks.
        self.assertEqual(seen['monitoring_run'], monitoring_run)
        self.assertEqual(len(seen['drift_charts']), len(names))
        by_feature = {f['name']: f for f in drift['features']}
        for c in seen['drift_charts']:
            f = by_feature[c['feature']]
            self.assertEqual(c['series'], 'score,threshold,drifted')
            self.assertEqual(float(c['threshold']), f['threshold'])
            self.assertEqual(int(c['points']), 2)
            self.assertEqual(int(c['drifted']), sum(1 for p in f['points'] if p['drifted']))
            self.assertTrue(c['drawn'])
        summary = {r[0]: r for r in seen['drift_summary']}
        self.assertEqual(sorted(summary), sorted(by_feature))
        for name, f in by_feature.items():
            last = f['points'][-1]
            self.assertEqual(summary[name][3], 'drifted' if last['drifted'] else 'no')
        drifted = sorted(n for n, r in summary.items() if r[3] == 'drifted')
        for name in ('mean radius', 'mean texture', 'mean perimeter'):
            self.assertIn(name, drifted)  # the shifted batch moved them
        self.assertLess(len(drifted), 10, drifted)  # and not the rest
        radius = summary['mean radius']
        self.assertAlmostEqual(float(radius[2]), by_feature['mean radius']['threshold'])
        # p-values spanning many decades: log y by default, the checkbox turns it off.
        self.assertEqual((seen['drift_log'], seen['drift_log_after']), ('1', '0'))
        self.assertIn('no monitoring run', seen['drift_missing'])  # v1 was never served

        # Bad addresses show the server's error.
        self.assertIn('RESOURCE_DOES_NOT_EXIST', seen['unknown_model'])
        self.assertIn('no-such-model', seen['unknown_model'])
        self.assertIn('INVALID_PARAMETER_VALUE', seen['bad_version'])
        self.assertIn('RESOURCE_DOES_NOT_EXIST', seen['unknown_version'])

        for view in ('models', 'model', 'version', 'monitoring'):
            for scheme in ('light', 'dark'):
                shot = out / ('%s-%s.png' % (view, scheme))
                self.assertGreater(shot.stat().st_size, 1000, shot)


if __name__ == '__main__':
    unittest.main()
