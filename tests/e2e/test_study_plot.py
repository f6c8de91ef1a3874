# SPDX-License-Identifier: MIT
"""`cairn study plot` and the history picture `cairn tune` leaves: a Python objective
f(x, y) = (x - 1)^2 + a small y-independent wobble tuned with intermediate values and one
failing trial; the SVGs parse as XML and hold one point per complete trial (one line per
reporting trial), the JSON agrees with `cairn study trials`, and x comes out more important
than y."""
import json
import pathlib
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402

SVG = '{http://www.w3.org/2000/svg}'

SPACE = """objective: {name: loss, goal: minimize}
parameters:
  x: {type: float, low: -5, high: 5}
  y: {type: float, low: 0.001, high: 1, log: true}
  opt: {type: categorical, values: [adam, "sgd & <co>"]}
"""

OBJECTIVE = r"""
import argparse, sys
p = argparse.ArgumentParser()
p.add_argument('--x', type=float)
p.add_argument('--y', type=float)
p.add_argument('--opt')
a = p.parse_args()
if 3.0 < a.x < 3.5:
    sys.exit(3)  # a failing trial: not a point
loss = (a.x - 1) ** 2 + 0.01 * ((a.x * 7919) % 1)
for step in range(4):
    print('cairn: step=%d loss=%r' % (step, loss + 2.0 / (step + 1)), flush=True)
print('cairn.final: loss=%r' % loss)
"""


def groups(root, cls):
    return [g for g in root.iter(SVG + 'g') if g.get('class') == cls]


def count(root, cls, tag):
    return sum(len(list(g.iter(SVG + tag))) for g in groups(root, cls))


class StudyPlot(harness.CairnTest):
    def test_plots_are_well_formed_and_hold_every_trial(self):
        (self.tmp / 'space.yaml').write_text(SPACE)
        (self.tmp / 'obj.py').write_text(OBJECTIVE)
        proc = self.cairn('tune', '--space', 'space.yaml', '--study', 'p', '--trials', 30,
                          '--seed', 5, '--sampler', 'random', '--', sys.executable, 'obj.py')
        history = self.tmp / 'studies' / 'p' / 'history.svg'
        self.assertIn('studies/p/history.svg', proc.stderr)
        self.assertTrue(history.is_file())
        trials = self.cairn_json('study', 'trials', 'p', '--json')['trials']
        self.assertEqual(len(trials), 30)
        done = [t for t in trials if t['state'] == 'COMPLETE']
        self.assertGreaterEqual(len(done), 10)
        reporting = [t for t in trials if t['n_steps'] > 0]

        out = self.cairn('study', 'plot', 'p', '--out', 'pics').stdout.split()
        self.assertEqual(sorted(pathlib.Path(p).name for p in out),
                         ['contour.svg', 'history.svg', 'importance.svg', 'intermediate.svg',
                          'slice.svg'])
        pics = {pathlib.Path(p).name: ET.parse(self.tmp / p).getroot() for p in out}
        for root in pics.values():
            self.assertEqual(root.tag, SVG + 'svg')
        self.assertEqual(count(ET.parse(history).getroot(), 'trials', 'circle'), len(done))
        self.assertEqual(count(pics['history.svg'], 'trials', 'circle'), len(done))
        self.assertEqual(count(pics['intermediate.svg'], 'curves', 'polyline'), len(reporting))
        self.assertEqual(count(pics['importance.svg'], 'bars', 'rect'), 3)
        # slice: one panel per parameter, each with every complete trial
        panels = groups(pics['slice.svg'], 'trials')
        self.assertEqual([g.get('data-param') for g in panels], ['x', 'y', 'opt'])
        for g in panels:
            self.assertEqual(len(list(g.iter(SVG + 'circle'))), len(done))
        # the category with markup in its name is escaped, and shown
        self.assertIn('sgd & <co>', ET.tostring(pics['slice.svg'], encoding='unicode')
                      .replace('&amp;', '&').replace('&lt;', '<').replace('&gt;', '>'))

        # contour: the one pair of numeric parameters, a 24 x 24 surface, isolines, the trials
        panels = groups(pics['contour.svg'], 'trials')
        self.assertEqual([(g.get('data-x'), g.get('data-y')) for g in panels], [('x', 'y')])
        self.assertEqual(len(list(panels[0].iter(SVG + 'circle'))), len(done))
        self.assertEqual(count(pics['contour.svg'], 'surface', 'rect'), 24 * 24)
        self.assertGreater(count(pics['contour.svg'], 'curves', 'line'), 0)

        data = self.cairn_json('study', 'plot', 'p', '--json')
        # the interpolated grid is a weighted mean of the trials: inside their range, and equal
        # to x's shape (loss grows away from x = 1 whatever y is)
        (c,) = data['contour']
        self.assertEqual((c['x'], c['y'], len(c['z']), len(c['z'][0])), ('x', 'y', 25, 25))
        self.assertEqual((c['x_values'][0], c['x_values'][-1]), (-5, 5))
        self.assertAlmostEqual(c['y_values'][-1], 1)
        lo, hi = min(t['value'] for t in done), max(t['value'] for t in done)
        for row in c['z']:
            for v in row:
                self.assertTrue(lo - 1e-9 <= v <= hi + 1e-9, (v, lo, hi))
        col_mean = [sum(row[q] for row in c['z']) / 25 for q in range(25)]
        self.assertLess(min(col_mean[10:16]), min(col_mean[0], col_mean[-1]))

        self.assertEqual(data['direction'], 'minimize')
        self.assertEqual([h['number'] for h in data['history']], list(range(30)))
        by_number = {t['number']: t for t in trials}
        best = None
        for h in data['history']:
            t = by_number[h['number']]
            self.assertEqual(h['state'], t['state'])
            if t['state'] == 'COMPLETE':
                self.assertAlmostEqual(h['value'], t['value'], places=12)
                best = t['value'] if best is None else min(best, t['value'])
            else:
                self.assertIsNone(h['value'])
            self.assertEqual(h['best'], best)
        imp = data['importance']['params']
        self.assertGreater(imp['x'], 0.5)
        self.assertGreater(imp['x'], 3 * max(imp['y'], imp['opt']))
        self.assertEqual(len(data['intermediate']), len(reporting))
        self.assertEqual(len(data['slice']['x']), len(done))

        # default folder, and the errors
        self.cairn('study', 'plot', 'p')
        self.assertTrue((self.tmp / 'studies' / 'p' / 'slice.svg').is_file())
        self.cairn_error('study', 'plot', 'nope', mentions=('nope',))
        self.cairn_error('study', 'plot', expect=2)

    def test_tune_defaults_to_auto_with_its_budget(self):
        (self.tmp / 'space.yaml').write_text(SPACE)
        (self.tmp / 'obj.py').write_text(OBJECTIVE)
        proc = self.cairn('tune', '--space', 'space.yaml', '--study', 'a', '--trials', 4,
                          '--seed', 1, '--', sys.executable, 'obj.py')
        self.assertIn("study 'a' created (sampler auto:trials=4,", proc.stderr)
        self.assertEqual(self.cairn_json('study', 'show', 'a', '--json')['sampler'], 'auto')
        proc = self.cairn('tune', '--space', 'space.yaml', '--study', 'a', '--trials', 6,
                          '--', sys.executable, 'obj.py')
        self.assertIn("study 'a' resumed (sampler auto:trials=6,", proc.stderr)
        self.assertEqual(len(self.cairn_json('study', 'trials', 'a', '--json')['trials']), 6)
        # a sampler given stays as given
        proc = self.cairn('tune', '--space', 'space.yaml', '--study', 'b', '--trials', 1,
                          '--sampler', 'tpe', '--', sys.executable, 'obj.py')
        self.assertIn("(sampler tpe,", proc.stderr)


if __name__ == '__main__':
    harness.main()
