# SPDX-License-Identifier: MIT
"""`cairn model card NAME@VERSION`: the facts of a trained, registered, profiled and tested
version (split sizes and digests, validation and test metrics with their intervals, the
confusion matrix recounted from the run's predictions, preprocessing, drift reference, the
inference profile, lineage); the person's sections from placeholders (incomplete), a template
(complete) and the stored card (kept on the next write); --show and its tamper check; bad
input."""
import collections
import csv
import pathlib
import shutil
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402

CONFIG = """name: p
seed: 3
data: {path: data/breast_cancer.csv, label: target, categorical: [target]}
split: {method: stratified, test: 0.2, val: 0.2}
learner: {name: logistic}
metrics: [accuracy, f1]
bootstrap: 50
"""

TEMPLATE = """# Breast cancer screening aid

## Intended use

Ranking biopsies for a second review.

## Assumptions

<!-- a comment is not text -->
The 30 FNA measurements, taken as in the Wisconsin study.

## Limitations

One hospital; 569 rows.

### Notes

Sub-headings stay inside their section.

## Ethical considerations

A clinician reviews every case.
"""

HUMAN = ('Intended use', 'Assumptions', 'Limitations', 'Ethical considerations')


class ModelCard(harness.CairnTest):
    def setUp(self):
        super().setUp()
        shutil.copytree(harness.SOURCE_DIR / 'data', self.tmp / 'data')
        (self.tmp / 'p.yaml').write_text(CONFIG)
        self.run = self.cairn_json('train', '--config', 'p.yaml', '--json')['run_id']
        self.cairn('model', 'register', '-n', 'bc', '--run', self.run)

    def card(self, *args, expect=0):
        return self.cairn_json('model', 'card', 'bc@1', '--json', *args, expect=expect)

    def run_record(self):
        return self.cairn_json('runs', 'show', self.run, '--json')

    def test_placeholders_make_an_incomplete_card(self):
        c = self.card()
        self.assertFalse(c['complete'])
        self.assertEqual(c['missing'], ', '.join(HUMAN))
        self.assertIn('placeholders', c['human_source'])
        for title in HUMAN:
            self.assertIn('## %s\n\nTODO' % title, c['markdown'])
        self.assertEqual(c['stored_as'], 'runs:/%s/model_card/bc/v1.md' % self.run)
        proc = self.cairn('model', 'card', 'bc@1', '-o', 'card.md')
        self.assertIn('the card is incomplete: not yet written: Intended use', proc.stderr)
        self.assertIn('wrote card.md', proc.stdout)
        self.assertTrue((self.tmp / 'card.md').read_text().startswith('# Model card: bc '
                                                                       'version 1'))
        tags = self.cairn_json('model', 'show', 'bc', '--version', '1', '--json')['tags']
        self.assertEqual(tags['cairn.model_card'], 'model_card/bc/v1.md')
        self.assertEqual(tags['cairn.model_card.complete'], 'false')

    def test_facts_match_the_store(self):
        self.cairn('eval', 'final', self.run)
        self.cairn('model', 'profile', 'models:/bc/1', '--data', 'data/breast_cancer.csv',
                   '--seconds', '0.05', '--json')
        (self.tmp / 'model-card.md').write_text(TEMPLATE)
        c = self.card('--template', 'model-card.md')
        md = c['markdown']
        self.assertTrue(c['complete'], c['missing'])
        rec = self.run_record()
        m = rec['metrics']
        # split sizes and digests
        for part, rows in (('train', 341), ('val', 114), ('test', 114)):
            self.assertIn('| breast_cancer.csv:%s |' % part, md)
        self.assertIn('| 341 | `%s` |' % rec['tags']['cairn.data.sha256'], md)
        self.assertIn('Method `stratified`, seed 3.', md)
        # metrics with intervals, validation and the sealed test
        for prefix in ('val', 'test'):
            for name in ('accuracy', 'f1'):
                line = '| %s | %.4g | [%.4g, %.4g] |' % (
                    name, m['%s_%s' % (prefix, name)], m['%s_%s_ci_low' % (prefix, name)],
                    m['%s_%s_ci_high' % (prefix, name)])
                self.assertIn(line, md)
        self.assertIn('Looked at 1 time (`cairn eval final`).', md)
        # the confusion matrix and class balance, recounted from the predictions
        art = pathlib.Path(rec['artifact_uri'])
        for part, title in (('val', 'Validation'), ('test', 'Test')):
            with open(art / 'predictions' / ('%s.csv' % part)) as f:
                pairs = collections.Counter((r['y_true'], r['y_pred']) for r in csv.DictReader(f))
            self.assertIn('### %s rows (114)' % title, md)
            table = '\n'.join('| %s | %d | %d |' % (t, pairs[(t, '0')], pairs[(t, '1')])
                              for t in ('0', '1'))
            self.assertIn('| true \\ predicted | 0 | 1 |\n|---|---|---|\n' + table, md)
        # preprocessing and the drift reference from the model file
        show = self.cairn_json('model', 'show', 'models:/bc/1', '--json')
        f0 = show['features'][0]
        self.assertIn('| %s | numeric | standardised (mean %.4g, sd %.4g) |'
                      % (f0['name'], f0['mean'], f0['scale']), md)
        self.assertIn('Profile of %d rows over %d columns, the prediction included.'
                      % (show['drift_profile']['rows'], len(show['drift_profile']['columns'])),
                      md)
        # the inference profile and lineage
        tags = self.cairn_json('model', 'show', 'bc', '--version', '1', '--json')['tags']
        self.assertIn('| b1.p99_ms | %s |' % tags['cairn.profile.b1.p99_ms'], md)
        self.assertIn('| size_bytes | %s |' % tags['cairn.profile.size_bytes'], md)
        self.assertIn('- run: `%s` (p)' % self.run, md)
        self.assertIn('- model file SHA-256: `%s`' % next(
            a['sha256'] for a in rec['artifacts'] if a['path'] == 'model/model.cairn'), md)
        # the person's sections, sub-headings included
        self.assertIn('## Limitations\n\nOne hospital; 569 rows.\n\n### Notes\n\nSub-headings '
                      'stay inside their section.\n\n## Ethical', md)
        self.assertNotIn('TODO', md)

    def test_stored_card_keeps_the_human_sections_and_show_checks_it(self):
        (self.tmp / 'model-card.md').write_text(TEMPLATE)
        first = self.card('--template', 'model-card.md')
        self.assertTrue(first['complete'])
        # facts change (a look at the test split); the next card keeps the person's text
        self.cairn('eval', 'final', self.run)
        again = self.card()
        self.assertEqual(again['human_source'], "the version's stored card")
        self.assertTrue(again['complete'])
        self.assertIn('Ranking biopsies for a second review.', again['markdown'])
        self.assertIn('Looked at 1 time', again['markdown'])
        shown = self.cairn('model', 'card', 'bc@1', '--show').stdout
        self.assertEqual(shown, again['markdown'])
        self.assertEqual(self.cairn('model', 'card', 'models:/bc/1', '--show').stdout, shown)
        # --no-store leaves the stored card alone
        (self.tmp / 'other.md').write_text('## Intended use\n\nsomething else\n')
        c = self.card('--template', 'other.md', '--no-store')
        self.assertIsNone(c['stored_as'])
        self.assertFalse(c['complete'])
        self.assertEqual(self.cairn('model', 'card', 'bc@1', '--show').stdout, shown)
        # an edited artifact is refused
        path = pathlib.Path(self.run_record()['artifact_uri']) / 'model_card' / 'bc' / 'v1.md'
        path.write_text(shown.replace('second review', 'diagnosis'))
        err = self.cairn('model', 'card', 'bc@1', '--show', expect=1).stderr
        self.assertIn('changed since it was stored', err)
        self.assertIn('cairn model card bc@1', err)

    def test_bad_input(self):
        usage = self.cairn('model', 'card', 'bc', expect=2).stderr
        self.assertIn("'bc': expected NAME@VERSION", usage)
        self.cairn('model', 'card', 'bc@0', expect=2)
        self.cairn('model', 'card', expect=2)
        err = self.cairn('model', 'card', 'nosuch@1', expect=1).stderr
        self.assertIn('nosuch', err)
        err = self.cairn('model', 'card', 'bc@7', expect=1).stderr
        self.assertIn('7', err)
        err = self.cairn('model', 'card', 'bc@1', '--template', 'missing.md', expect=1).stderr
        self.assertIn("cannot read 'missing.md'", err)
        err = self.cairn('model', 'card', 'bc@1', '--show', expect=1).stderr
        self.assertIn('has no stored model card', err)
        self.cairn('model', 'card', 'bc@1', '--show', '--template', 'x.md', expect=2)
        # a version without a run cannot store its card, but can print it
        self.cairn('model', 'register', '-n', 'bc', 'runs:/%s/model/model.cairn' % self.run)
        self.cairn('model', 'register', '-n', 'file',
                   str(pathlib.Path(self.run_record()['artifact_uri']) / 'model' /
                       'model.cairn'))
        err = self.cairn('model', 'card', 'file@1', expect=1).stderr
        self.assertIn('has no run to keep its card with', err)
        md = self.cairn('model', 'card', 'file@1', '--no-store').stdout
        self.assertIn('- run: none', md)
        self.assertIn('Profile of 341 rows', md)


if __name__ == '__main__':
    harness.main()
