# SPDX-License-Identifier: MIT
"""`cairn model promote NAME VERSION --to ALIAS`: a good candidate passes every gate and the
alias event records each verdict; each gate refuses its bad case with a message naming the gate
and the fix (incomplete card, no look and a second look at the sealed test split, a training row
in the evaluation rows, too low a metric, too slow, too big, no inference profile, significantly
worse than the current holder, with McNemar's p checked against scipy); --force --reason
promotes and records the override; `cairn model rollback` walks back through the promotions.
The drift-reference gate's bad case needs a model file without a reference, which no cairn
command writes: tests/unit/test_gates.c covers it."""
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
learner: {name: logistic%s}
metrics: [accuracy]
bootstrap: 50
"""

CARD = """# bc

## Intended use

A teaching example: ranking biopsies for review, never a diagnosis.

## Assumptions

Inputs are the 30 FNA measurements of the Wisconsin data, same instruments.

## Limitations

569 rows from one hospital; not checked on other populations.

## Ethical considerations

Errors delay care; a clinician reviews every case.
"""


def mcnemar_reference(n01, n10):
    """(test, p) as scipy computes McNemar: binomtest below 25 discordant rows, else the
    chi-square with continuity correction."""
    from scipy.stats import binomtest, chi2
    if n01 + n10 < 25:
        return 'mcnemar-exact', binomtest(min(n01, n10), n01 + n10, 0.5).pvalue
    stat = (abs(n01 - n10) - 1) ** 2 / (n01 + n10)
    return 'mcnemar-chi2', chi2.sf(stat, 1)


class PromoteGates(harness.CairnTest):
    def setUp(self):
        super().setUp()
        shutil.copytree(harness.SOURCE_DIR / 'data', self.tmp / 'data')
        (self.tmp / 'model-card.md').write_text(CARD)

    def train(self, extra='', config=None, look=1):
        (self.tmp / 'p.yaml').write_text(config or CONFIG % extra)
        run = self.cairn_json('train', '--config', 'p.yaml', '--json')['run_id']
        for _ in range(look):
            self.cairn('eval', 'final', run)
        return run

    def register(self, run, card=True):
        v = self.cairn_json('model', 'register', '-n', 'bc', '--run', run, '--json')['version']
        if card:
            self.cairn('model', 'card', 'bc@%d' % v, '--template', 'model-card.md', '-o',
                       'card.md')
        return v

    def promote(self, version, *args, expect=0):
        return self.cairn('model', 'promote', 'bc', version, '--to', 'production', *args,
                          expect=expect)

    def promote_json(self, version, *args, expect=0):
        import json
        proc = self.promote(version, '--json', *args, expect=expect)
        return json.loads(proc.stdout), proc

    def gate(self, result, name):
        return next(g for g in result['gates'] if g['gate'] == name)

    def history(self):
        return self.cairn_json('model', 'history', 'bc', '--json')['events']

    def test_good_candidate_passes_and_the_event_records_every_gate(self):
        v = self.register(self.train())
        out = self.promote(v).stdout
        for line in ('PASS model_card', 'PASS test_look', 'PASS overlap',
                     'PASS drift_reference', 'SKIP thresholds', 'SKIP champion'):
            self.assertIn(line, out)
        self.assertIn('bc@production -> version 1', out)
        ev = self.history()[0]
        self.assertEqual((ev['kind'], ev['alias'], ev['to_version']),
                         ('alias_set', 'production', 1))
        for part in ('model_card PASS', 'test_look PASS', 'overlap PASS',
                     'drift_reference PASS', 'thresholds SKIP', 'champion SKIP'):
            self.assertIn(part, ev['reason'])
        self.assertIn('0 of the 228 validation and test rows equal a training row', ev['reason'])

    def test_incomplete_card_is_refused(self):
        v = self.register(self.train(), card=False)
        r, proc = self.promote_json(v, expect=1)
        self.assertFalse(r['promoted'])
        g = self.gate(r, 'model_card')
        self.assertEqual(g['verdict'], 'FAIL')
        self.assertIn('no stored model card', g['evidence'])
        self.assertIn('cairn model card bc@1 --template model-card.md', g['fix'])
        self.assertIn('refusing to promote bc version 1 to @production: 1 gate failed '
                      '(model_card)', proc.stderr)
        # a card with a TODO left is stored but incomplete
        (self.tmp / 'half.md').write_text(CARD.replace('Errors delay care; a clinician reviews '
                                                       'every case.', 'TODO'))
        self.cairn('model', 'card', 'bc@1', '--template', 'half.md', '-o', 'c.md')
        out = self.promote(v, expect=1).stdout
        self.assertIn('FAIL model_card', out)
        self.assertIn('not yet written: Ethical considerations', out)
        self.assertEqual(self.history(), [])

    def test_no_look_and_second_look_are_refused(self):
        run = self.train(look=0)
        v = self.register(run)
        g = self.gate(self.promote_json(v, expect=1)[0], 'test_look')
        self.assertEqual(g['verdict'], 'FAIL')
        self.assertIn('never looked at', g['evidence'])
        self.assertIn('cairn eval final %s' % run, g['fix'])
        self.cairn('eval', 'final', run)
        self.cairn('eval', 'final', run)
        r, proc = self.promote_json(v, expect=1)
        g = self.gate(r, 'test_look')
        self.assertEqual(g['verdict'], 'FAIL')
        self.assertIn('looked at 2 times', g['evidence'])
        self.assertIn('fresh split', g['fix'])
        self.assertIn('(test_look)', proc.stderr)

    def test_training_row_in_the_evaluation_rows_is_refused(self):
        # row 569 repeats row 0; split index files put row 0 in train and 569 in val
        rows = (self.tmp / 'data' / 'breast_cancer.csv').read_text().splitlines()
        (self.tmp / 'dup.csv').write_text('\n'.join(rows + [rows[1]]) + '\n')
        idx = {'train': [], 'val': [], 'test': []}
        for i in range(570):
            idx['val' if i % 5 == 1 or i == 569 else 'test' if i % 5 == 2 else 'train'].append(i)
        for part, items in idx.items():
            (self.tmp / ('%s.idx' % part)).write_text(''.join('%d\n' % i for i in items))
        config = CONFIG.replace('data/breast_cancer.csv', 'dup.csv').replace(
            'split: {method: stratified, test: 0.2, val: 0.2}',
            'split: {train: train.idx, val: val.idx, test: test.idx}') % ''
        v = self.register(self.train(config=config))
        r, _ = self.promote_json(v, expect=1)
        g = self.gate(r, 'overlap')
        self.assertEqual(g['verdict'], 'FAIL')
        self.assertIn('1 of the %d validation and test rows equal a training row'
                      % (len(idx['val']) + len(idx['test'])), g['evidence'])
        self.assertIn('cairn.split.kept_duplicates=1', g['evidence'])
        self.assertIn('remove the duplicated rows', g['fix'])
        for other in ('model_card', 'test_look', 'drift_reference'):
            self.assertEqual(self.gate(r, other)['verdict'], 'PASS', other)

    def test_thresholds_floor_latency_and_size(self):
        v = self.register(self.train())
        cfg = self.tmp / 'experiment-config.yaml'
        cfg.write_text(CONFIG % '' + 'promotion:\n  min_metric: {accuracy: 0.999}\n'
                       '  max_p99_ms: 0.000001\n  max_size_bytes: 100\n')
        g = self.gate(self.promote_json(v, expect=1)[0], 'thresholds')
        self.assertEqual(g['verdict'], 'FAIL')
        self.assertIn('no inference profile on the version', g['evidence'])
        self.assertIn('cairn model profile models:/bc/1 --data CSV', g['fix'])
        self.assertRegex(g['evidence'], r'test_accuracy 0\.9\d* < floor 0\.999')
        self.cairn('model', 'profile', 'models:/bc/1', '--data', 'data/breast_cancer.csv',
                   '--seconds', '0.05', '--json')
        g = self.gate(self.promote_json(v, expect=1)[0], 'thresholds')
        self.assertIn('> ceiling 1e-06 ms', g['evidence'])   # too slow
        self.assertIn('> ceiling 100 bytes', g['evidence'])  # too big
        self.assertIn('cairn model compress', g['fix'])
        # met thresholds pass, named by their run metric; --config wins over the default file
        (self.tmp / 'ok.yaml').write_text('promotion:\n  min_metric: {val_accuracy: 0.5}\n'
                                          '  max_p99_ms: 10000\n  max_size_bytes: 100000000\n')
        r, _ = self.promote_json(v, '--config', 'ok.yaml')
        g = self.gate(r, 'thresholds')
        self.assertEqual(g['verdict'], 'PASS')
        self.assertRegex(g['evidence'], r'val_accuracy 0\.9\d* >= 0\.5; p99 latency')
        self.assertTrue(r['promoted'])

    def test_bad_promotion_config(self):
        v = self.register(self.train())
        (self.tmp / 'bad.yaml').write_text('promotion:\n  min_metric: {accuracy: high}\n')
        err = self.promote(v, '--config', 'bad.yaml', expect=1).stderr
        self.assertIn("line 2", err)
        self.assertIn('promotion.min_metric.accuracy must be a finite number', err)
        (self.tmp / 'bad.yaml').write_text('promotion:\n  max_p99: 3\n')
        err = self.promote(v, '--config', 'bad.yaml', expect=1).stderr
        self.assertIn("unknown key 'promotion.max_p99'", err)
        err = self.promote(v, '--config', 'nosuch.yaml', expect=1).stderr
        self.assertIn('nosuch.yaml', err)
        # train accepts the promotion: section of its own config
        (self.tmp / 'p2.yaml').write_text(CONFIG % '' + 'promotion: {max_p99_ms: 5}\n')
        self.cairn('train', '--config', 'p2.yaml', '--json')

    def test_worse_than_the_champion_is_refused_with_the_ci(self):
        good = self.train()
        self.promote(self.register(good))
        weak = self.train(', params: {C: 0.00001}')  # same data, split and seed; near-majority
        v = self.register(weak)
        r, proc = self.promote_json(v, expect=1)
        g = self.gate(r, 'champion')
        self.assertEqual(g['verdict'], 'FAIL')
        self.assertIn('significantly worse than v1', g['fix'])
        self.assertIn('95% CI [', g['evidence'])
        c = r['comparison']
        self.assertEqual(c['metric'], 'accuracy')
        self.assertEqual(c['n'], 114)
        self.assertLess(c['diff_high'], 0)
        # McNemar from the two runs' test predictions, as scipy computes it
        def preds(run):
            d = self.cairn_json('runs', 'show', run, '--json')['artifact_uri']
            with open(pathlib.Path(d) / 'predictions' / 'test.csv') as f:
                return {row['row']: row['y_true'] == row['y_pred'] for row in csv.DictReader(f)}
        a, b = preds(weak), preds(good)
        n01 = sum(1 for k in a if a[k] and not b[k])
        n10 = sum(1 for k in a if not a[k] and b[k])
        test, p = mcnemar_reference(n01, n10)
        self.assertEqual(c['test'], test)
        self.assertAlmostEqual(c['pvalue'], p, delta=1e-9 + 1e-9 * p)
        self.assertAlmostEqual(c['diff'], (n01 - n10) / 114, places=12)
        out = self.promote(v, expect=1).stdout
        self.assertRegex(out, r'FAIL champion +candidate v2 vs holder v1 on 114 shared test rows: '
                              r'accuracy .* 95% CI \[-0\.\d+, -0\.\d+\]; mcnemar-chi2 p=')
        # the alias stays where it was
        self.assertEqual(self.cairn_json('model', 'show', 'bc', '--alias', 'production',
                                         '--json')['version'], 1)

    def test_force_records_the_override_and_reason(self):
        v = self.register(self.train(look=0), card=False)
        err = self.promote(v, '--force', expect=2).stderr
        self.assertIn('--force needs --reason', err)
        out = self.promote(v, '--force', '--reason', 'demo for the review board').stdout
        self.assertIn('FORCED past 2 failed gates', out)
        ev = self.history()[0]
        self.assertEqual(ev['to_version'], 1)
        self.assertIn('FORCED past model_card, test_look: demo for the review board', ev['reason'])
        self.assertIn('model_card FAIL', ev['reason'])

    def test_rollback_moves_back_through_the_promotions(self):
        run = self.train()
        v1 = self.register(run)
        v2 = self.register(run)   # the same run: not worse than itself
        v3 = self.register(run)
        self.promote(v1)
        out = self.promote(v2).stdout
        self.assertIn('PASS champion', out)
        self.assertIn('(was version 1)', out)
        self.promote(v3)
        self.assertIn('rolled back to version 2',
                      self.cairn('model', 'rollback', 'bc', 'production').stdout)
        self.assertEqual(self.cairn_json('model', 'show', 'bc', '--alias', 'production',
                                         '--json')['version'], 2)
        # back through the history: the next rollback undoes the promotion before (to v1),
        # and then there is nothing older
        self.cairn('model', 'rollback', 'bc', 'production')
        self.assertEqual(self.cairn_json('model', 'show', 'bc', '--alias', 'production',
                                         '--json')['version'], 1)
        self.assertIn('nothing older',
                      self.cairn('model', 'rollback', 'bc', 'production', expect=1).stderr)
        events = self.history()
        self.assertEqual([(e['kind'], e['from_version'], e['to_version']) for e in events],
                         [('rollback', 2, 1), ('rollback', 3, 2), ('alias_set', 2, 3),
                          ('alias_set', 1, 2), ('alias_set', None, 1)])
        self.assertTrue(all('promotion gates:' in e['reason'] for e in events[2:]))

    def test_bad_arguments(self):
        self.assertIn('missing --to ALIAS',
                      self.cairn('model', 'promote', 'bc', '1', expect=2).stderr)
        self.assertIn("version 'x'",
                      self.cairn('model', 'promote', 'bc', 'x', '--to', 'p', expect=2).stderr)
        err = self.cairn('model', 'promote', 'nosuch', '1', '--to', 'production',
                         expect=1).stderr
        self.assertIn('nosuch', err)
        v = self.register(self.train())
        err = self.promote(v, '--to', 'latest', expect=1).stderr
        self.assertIn('latest', err)


if __name__ == '__main__':
    harness.main()
