# SPDX-License-Identifier: MIT
"""`cairn data validate FILE --expect expectations.yaml`: each column rule (type, min, max,
values, max_missing, unique) and dataset rule (min_rows, class balance, slices, sensitive
coverage) fails on the rows that break it, naming the rule, the rows and the fix (exit 1);
clean data passes (exit 0); a bad expectations file names its line and key (exit 2); --json."""
import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402

DATA = ('id,age,city,sex,y\n'
        '1,30,Oslo,F,0\n'
        '2,95,Rome,M,1\n'
        '3,,Paris,M,1\n'
        '3,-1,Oslo,M,0\n'
        '5,40.5,Rome,M,1\n'
        '6,50,Oslo,M,1\n')

RULES = ('min_rows: 10\n'
         'label: y\n'
         'class_balance: {min_share: 0.4}\n'
         'columns:\n'
         '  id: {type: integer, unique: true}\n'
         '  age: {type: integer, min: 0, max: 90, max_missing: 0.1}\n'
         '  city: {type: categorical, values: [Oslo, Rome]}\n'
         '  y: {type: categorical, values: ["0", "1"], max_missing: 0}\n'
         '  income: {type: numeric}\n'
         'slices:\n'
         '  - {column: city, min_rows: 2}\n'
         'sensitive: {column: sex, min_share_per_group: 0.25, groups: [F, M]}\n')


class Expect(harness.CairnTest):
    def validate(self, rules, data=DATA, *extra, expect=1):
        self.write('e.yaml', rules)
        self.write('d.csv', data)
        return self.cairn('data', 'validate', 'd.csv', '--expect', 'e.yaml', *extra,
                          expect=expect, store=False)

    def test_every_rule_names_rows_and_fix(self):
        out = self.validate(RULES).stdout
        want = [
            "rule 'min-rows' (line 1): the data has 6 rows, fewer than min_rows 10",
            "rule 'unique' (line 5): column 'id' should be unique, but 1 row repeats an earlier "
            "row's value; row 3",
            "rule 'type' (line 6): column 'age' should be integer, but 1 row holds fractions "
            "such as '40.5'; row 4",
            "rule 'min' (line 6): column 'age': 1 row below the minimum 0 (the smallest is -1); "
            "row 3",
            "rule 'max' (line 6): column 'age': 1 row above the maximum 90 (the largest is 95); "
            "row 1",
            "rule 'missing' (line 6): column 'age': 16.7% of the rows are missing (1 of 6), "
            "above the 10.0% allowed; row 2",
            "rule 'values' (line 7): column 'city': 1 row holds values not in the allowed list "
            "('Paris'); row 2",
            "rule 'column-missing' (line 9): expected column 'income' is not in the data",
            "rule 'class-balance' (line 3): label 'y': classes below the floor of 40.0% of the "
            "rows: '0' 2 rows (33.3%); rows 0, 3",
            "rule 'slice-rows' (line 11): slices of column 'city' with fewer than 2 rows: "
            "'Paris' 1 row (16.7%); row 2",
            "rule 'sensitive-coverage' (line 12): sensitive attribute 'sex': groups under 25.0% "
            "of the rows: 'F' 1 row (16.7%); row 0",
        ]
        for line in want:
            self.assertIn(line, out)
        self.assertEqual(out.count('  fix: '), len(want))
        self.assertIn("fix: correct or drop those rows, or widen 'columns.age.max' in 'e.yaml'",
                      out)
        self.assertIn('failed: 11 of', out)

    def test_json(self):
        doc = json.loads(self.validate(RULES, DATA, '--json').stdout)
        self.assertFalse(doc['ok'])
        self.assertEqual(doc['failed'], 11)
        by_rule = {f['rule']: f for f in doc['findings']}
        self.assertEqual(by_rule['max']['rows'], [1])
        self.assertEqual(by_rule['max']['column'], 'age')
        self.assertEqual(by_rule['max']['line'], 6)
        self.assertEqual(by_rule['min-rows']['column'], None)
        self.assertTrue(all(f['fix'] for f in doc['findings']))

    def test_clean_data_passes(self):
        clean = 'id,age,city,sex,y\n1,30,Oslo,F,0\n2,40,Rome,M,1\n3,50,Oslo,F,1\n4,60,Rome,M,0\n'
        rules = RULES.replace('min_rows: 10', 'min_rows: 4').replace(
            '  income: {type: numeric}\n', '')
        out = self.validate(rules, clean, expect=0).stdout
        self.assertIn('ok: all 19 rules hold', out)
        doc = json.loads(self.validate(rules, clean, '--json', expect=0).stdout)
        self.assertEqual(doc, {'ok': True, 'rules': 19, 'failed': 0, 'findings': []})

    def test_bad_expectations_file_names_line_and_key(self):
        cases = [
            ('columns:\n  age: {type: number}\n',
             "expectations 'e.yaml' line 2 column 15: 'columns.age.type' must be numeric, "
             "integer or categorical, got 'number'"),
            ('columns:\n  age: {max: lots}\n',
             "e.yaml' line 2 column 14: 'columns.age.max' must be a finite number, got 'lots'"),
            ('min_rows: 5\nmax_rowz: 3\n',
             "e.yaml' line 2 column 1: unknown key 'max_rowz'; allowed: min_rows, label"),
            ('columns:\n  age: {minimum: 0}\n', "unknown key 'columns.age.minimum'"),
            ('slices: {column: city}\n', "line 1 column 9: 'slices' must be a list"),
            ('sensitive: {column: sex, min_share_per_group: 1.5}\n',
             "'sensitive.min_share_per_group' must be a share in [0, 1], got '1.5'"),
            ('columns:\n  age: {unique: maybe}\n', "columns.age.unique"),
            ('columns: [\n', "e.yaml'"),
        ]
        for rules, message in cases:
            with self.subTest(rules=rules):
                err = self.validate(rules, expect=2).stderr
                self.assertIn('cairn: error:', err)
                self.assertIn(message, err)
        err = self.cairn('data', 'validate', 'd.csv', '--expect', 'none.yaml', expect=2,
                         store=False).stderr
        self.assertIn("expectations 'none.yaml'", err)
        self.cairn('data', 'validate', 'd.csv', '--expect', 'e.yaml', '--label', 'y', expect=2,
                   store=False)

    def test_many_rows_are_counted_and_the_first_listed(self):
        data = 'x\n' + ''.join('%d\n' % i for i in range(200))
        out = self.validate('columns:\n  x: {max: 149}\n', data).stdout
        self.assertIn('50 rows above the maximum 149 (the largest is 199); rows 150, 151, 152, '
                      '153, 154 and 45 more', out)


if __name__ == '__main__':
    harness.main()
