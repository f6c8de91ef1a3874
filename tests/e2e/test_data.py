# SPDX-License-Identifier: MIT
# test_data.py - `cairn data validate|split|profile|hash` end to end on the bundled iris and on
# broken files: ragged rows, a non-number in a numeric column, an unknown label column.
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

# Local helper until tests/e2e/harness.py lands on main.
CAIRN = os.environ.get("CAIRN_BIN", "cairn")
SOURCE = os.environ.get("CAIRN_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
IRIS = os.path.join(SOURCE, "data", "iris.csv")


def cairn(*args, cwd=None):
    p = subprocess.run([CAIRN, *args], capture_output=True, text=True, cwd=cwd, timeout=120)
    return p.returncode, p.stdout, p.stderr


class DataTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cairn-e2e-data-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w", newline="") as f:
            f.write(text)
        return path

    def ok(self, *args):
        rc, out, err = cairn(*args)
        self.assertEqual(rc, 0, "cairn %s: %s" % (" ".join(args), err))
        return out

    def fails(self, *args, code=1):
        rc, out, err = cairn(*args)
        self.assertEqual(rc, code, "cairn %s exited %d: %s%s" % (" ".join(args), rc, out, err))
        self.assertTrue(err.startswith("cairn: error: "), err)
        return err


class Validate(DataTest):
    def test_iris_json(self):
        doc = json.loads(self.ok("data", "validate", IRIS, "--label", "target", "--json"))
        self.assertTrue(doc["ok"])
        self.assertEqual((doc["n_rows"], doc["n_cols"]), (150, 5))
        self.assertEqual([c["type"] for c in doc["columns"]], ["numeric"] * 5)
        self.assertEqual(doc["columns"][0]["min"], 4.3)
        self.assertEqual(doc["columns"][0]["max"], 7.9)
        self.assertEqual([c["count"] for c in doc["label"]["classes"]], [50, 50, 50])
        self.assertEqual(doc["label"]["imbalance_ratio"], 1)
        self.assertEqual(doc["duplicate_rows"], 1)  # iris has one repeated flower
        self.assertIn("duplicate-rows", [i["code"] for i in doc["issues"]])

    def test_iris_human(self):
        out = self.ok("data", "validate", IRIS, "--label", "target")
        self.assertIn("label    target: 3 classes", out)
        self.assertIn("ok: 0 errors, 1 warnings", out)

    def test_ragged_rows(self):
        path = self.write("ragged.csv", "a,b,c,d,e\n1,2,3,4,5\n1,2,3,4\n")
        err = self.fails("data", "validate", path)
        self.assertIn("%s line 3: expected 5 fields, got 4" % path, err)

    def test_non_number_in_numeric_column(self):
        path = self.write("bad.csv", "id,age\n1,30\n2,31\n3,abc\n")
        # Inferred, the column is categorical; declared numeric, 'abc' is an error.
        doc = json.loads(self.ok("data", "validate", path, "--json"))
        self.assertEqual(doc["columns"][1]["type"], "categorical")
        err = self.fails("data", "validate", path, "--numeric", "age")
        self.assertIn("%s line 4 column 'age': 'abc' is not a number" % path, err)
        err = self.fails("data", "profile", path, "--numeric", "weight")
        self.assertIn("declared column 'weight' is not in the header", err)

    def test_unknown_label(self):
        err = self.fails("data", "validate", IRIS, "--label", "species")
        self.assertIn("label column 'species' not found; columns are: sepal length (cm)", err)
        self.assertIn("iris.csv", err)

    def test_unterminated_quote(self):
        path = self.write("q.csv", 'a,b\n1,"open\n2,3\n')
        err = self.fails("data", "profile", path)
        self.assertIn("line 2 column 'b': unterminated quoted field", err)

    def test_missing_file(self):
        err = self.fails("data", "hash", os.path.join(self.tmp, "nope.csv"))
        self.assertIn("cannot open", err)

    def test_splits_overlap_is_an_error(self):
        out = os.path.join(self.tmp, "split")
        self.ok("data", "split", IRIS, "--out", out, "--seed", "1")
        doc = json.loads(self.ok("data", "validate", IRIS, "--splits", out, "--json"))
        self.assertEqual(doc["split_overlap"], {"train_val": 0, "train_test": 0, "val_test": 0})
        with open(os.path.join(out, "test.idx")) as f:
            first_test = int(f.readline())
        with open(os.path.join(out, "train.idx")) as f:
            train = sorted(set(int(x) for x in f) | {first_test})
        with open(os.path.join(out, "train.idx"), "w") as f:
            f.write("".join("%d\n" % i for i in train))
        rc, stdout, _ = cairn("data", "validate", IRIS, "--splits", out, "--json")
        self.assertEqual(rc, 1)
        doc = json.loads(stdout)
        self.assertFalse(doc["ok"])
        self.assertEqual(doc["split_overlap"]["train_test"], 1)
        # A broken index file names the file and line.
        with open(os.path.join(out, "val.idx"), "a") as f:
            f.write("x7\n")
        err = self.fails("data", "validate", IRIS, "--splits", out)
        self.assertRegex(err, r"val\.idx': line \d+: 'x7' is not a row index")


class Split(DataTest):
    def split(self, *extra):
        out = os.path.join(self.tmp, "split")
        doc = json.loads(self.ok("data", "split", IRIS, "--out", out, "--json", *extra))
        parts = {}
        for name in ("train", "val", "test"):
            path = os.path.join(out, name + ".idx")
            with open(path, "rb") as f:
                data = f.read()
            rows = [int(x) for x in data.split()]
            self.assertEqual(rows, sorted(set(rows)))
            self.assertEqual(hashlib.sha256(data).hexdigest(), doc["parts"][name]["sha256"])
            self.assertEqual(len(rows), doc["parts"][name]["rows"])
            parts[name] = rows
        with open(os.path.join(out, "split.json")) as f:
            manifest = json.load(f)
        self.assertEqual(manifest["parts"]["train"]["sha256"], doc["parts"]["train"]["sha256"])
        return doc, parts

    def test_stratified_iris(self):
        doc, parts = self.split("--label", "target", "--seed", "7")
        self.assertEqual(doc["method"], "stratified")
        self.assertEqual([len(parts[p]) for p in ("train", "val", "test")], [105, 15, 30])
        everything = sorted(parts["train"] + parts["val"] + parts["test"])
        self.assertEqual(everything, list(range(150)))
        # iris rows are ordered by class: 0-49, 50-99, 100-149; 10 of each in test.
        self.assertEqual([sum(1 for r in parts["test"] if r // 50 == k) for k in range(3)],
                         [10, 10, 10])

    def test_same_seed_same_split(self):
        a = self.split("--seed", "3", "--test", "0.25", "--val", "0")[0]
        b = self.split("--seed", "3", "--test", "0.25", "--val", "0")[0]
        c = self.split("--seed", "4", "--test", "0.25", "--val", "0")[0]
        self.assertEqual(a["parts"], b["parts"])
        self.assertNotEqual(a["parts"]["test"]["sha256"], c["parts"]["test"]["sha256"])
        self.assertEqual(a["parts"]["val"]["rows"], 0)

    def test_group_split(self):
        doc, parts = self.split("--method", "group", "--group", "petal width (cm)")
        with open(IRIS) as f:
            rows = [line.split(",") for line in f.read().splitlines()[1:]]
        side = {}
        for name, idx in parts.items():
            for r in idx:
                self.assertEqual(side.setdefault(rows[r][3], name), name)

    def test_bad_arguments(self):
        err = self.fails("data", "split", IRIS, "--out", self.tmp, "--test", "1.5", code=2)
        self.assertIn("--test '1.5': expected a fraction", err)
        err = self.fails("data", "split", IRIS, "--out", self.tmp, "--method", "magic", code=2)
        self.assertIn("--method 'magic'", err)
        err = self.fails("data", "split", IRIS, "--out", self.tmp, "--label", "nope")
        self.assertIn("label column 'nope' not found", err)
        self.fails("data", "split", IRIS, code=2)


class ProfileAndHash(DataTest):
    def test_profile_json_and_file(self):
        out = os.path.join(self.tmp, "profile.json")
        text = self.ok("data", "profile", IRIS, "--json", "-o", out)
        doc = json.loads(text)
        with open(out) as f:
            self.assertEqual(json.load(f), doc)
        self.assertEqual(doc["kind"], "cairn.profile")
        self.assertEqual(doc["quantile_levels"], [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99])
        f0 = doc["features"][0]
        self.assertEqual(f0["name"], "sepal length (cm)")
        self.assertEqual(f0["count"], 150)
        self.assertAlmostEqual(f0["mean"], 5.843333333333334, places=12)
        self.assertEqual(f0["quantiles"][3], 5.8)
        self.assertEqual(len(f0["histogram"]["edges"]), 21)
        self.assertEqual(sum(f0["histogram"]["counts"]), 150)
        self.assertEqual(f0["histogram"]["edges"][0], 4.3)
        self.assertEqual(f0["histogram"]["edges"][-1], 7.9)

    def test_profile_human(self):
        out = self.ok("data", "profile", IRIS)
        self.assertRegex(out, r"sepal length \(cm\)\s+numeric\s+150\s+0\s+5\.84333")

    def test_hash(self):
        sums = {}
        with open(os.path.join(SOURCE, "data", "SHA256SUMS")) as f:
            for line in f:
                digest, name = line.split()
                sums[name] = digest
        wine = os.path.join(SOURCE, "data", "wine.csv")
        doc = json.loads(self.ok("data", "hash", IRIS, wine, "--json"))
        self.assertEqual([d["sha256"] for d in doc], [sums["iris.csv"], sums["wine.csv"]])
        self.assertEqual((doc[0]["n_rows"], doc[0]["n_cols"]), (150, 5))
        self.assertEqual((doc[1]["n_rows"], doc[1]["n_cols"]), (178, 14))
        self.assertRegex(doc[0]["content_sha256"], r"^[0-9a-f]{64}$")
        # The content digest ignores number formatting; the file digest does not.
        with open(IRIS) as f:
            text = f.read()
        reformatted = self.write("iris2.csv", re.sub(r"(?m),0$", ",0.0", text).replace("\n", "\r\n"))
        other = json.loads(self.ok("data", "hash", reformatted, "--json"))[0]
        self.assertEqual(other["content_sha256"], doc[0]["content_sha256"])
        self.assertNotEqual(other["sha256"], doc[0]["sha256"])
        human = self.ok("data", "hash", IRIS)
        self.assertTrue(human.startswith(sums["iris.csv"] + "  150 x 5  content "))


class Help(DataTest):
    def test_synopsis_matches_docs(self):
        out = self.ok("data", "--help")
        synopsis = "\n".join(line[7:] for line in out.split("\n\n")[0].splitlines())
        with open(os.path.join(SOURCE, "docs", "cli", "cairn-data.md")) as f:
            doc = f.read()
        m = re.search(r"## Synopsis\s*\n+```\n(.*?)\n```", doc, re.S)
        self.assertIsNotNone(m, "docs/cli/cairn-data.md has no synopsis block")
        self.assertEqual(m.group(1), synopsis)

    def test_verb_help(self):
        for verb in ("validate", "split", "profile", "hash"):
            out = self.ok("data", verb, "--help")
            self.assertTrue(out.startswith("usage: cairn data " + verb), out)

    def test_unknown_verb(self):
        rc, _, err = cairn("data", "frobnicate")
        self.assertEqual(rc, 2)
        self.assertIn("cairn: error: unknown verb 'frobnicate' for 'cairn data'", err)


if __name__ == "__main__":
    unittest.main()
