# SPDX-License-Identifier: MIT
"""Every docs/cli/cairn-<group>.md opens with a synopsis block that equals the usage lines of
`cairn <group> --help` (git's t0450). New groups are covered as their docs appear."""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402


def doc_synopsis(text):
    """The lines of the first fenced block after the '## Synopsis' heading."""
    lines = text.splitlines()
    try:
        start = next(i for i, l in enumerate(lines) if l.strip().lower() == '## synopsis')
    except StopIteration:
        return None
    block, inside = [], False
    for line in lines[start + 1:]:
        if line.startswith('```'):
            if inside:
                return block
            inside = True
        elif inside:
            block.append(line.rstrip())
        elif line.startswith('#'):
            break
    return None


help_synopsis = harness.usage_lines


class CliDocs(harness.CairnTest):
    def docs(self):
        docs = sorted((harness.SOURCE_DIR / 'docs' / 'cli').glob('cairn-*.md'))
        self.assertTrue(docs, 'no docs/cli/cairn-*.md found under %s' % harness.SOURCE_DIR)
        return docs

    def test_each_doc_synopsis_equals_help(self):
        for doc in self.docs():
            group = doc.stem[len('cairn-'):]
            with self.subTest(group=group):
                want = doc_synopsis(doc.read_text())
                self.assertTrue(want, '%s has no "## Synopsis" block' % doc.name)
                proc = self.cairn(group, '--help')
                got = help_synopsis(proc.stdout)
                self.assertTrue(got, "'cairn %s --help' prints no 'usage:' line" % group)
                self.assertEqual(got, want, 'synopsis of %s differs from --help' % doc.name)
                for line in want:
                    self.assertTrue(line.startswith('cairn %s' % group), line)

    def test_each_doc_opens_with_its_synopsis(self):
        for doc in self.docs():
            with self.subTest(doc=doc.name):
                headings = [l for l in doc.read_text().splitlines() if l.startswith('## ')]
                self.assertTrue(headings)
                self.assertEqual(headings[0].strip().lower(), '## synopsis')

    def test_verb_help_prints_its_synopsis_lines(self):
        for doc in self.docs():
            group = doc.stem[len('cairn-'):]
            for line in doc_synopsis(doc.read_text()) or []:
                words = line.split()
                if len(words) < 3 or not words[2].isalpha() or words[2].isupper():
                    continue  # a group without verbs
                with self.subTest(line=line):
                    proc = self.cairn(group, words[2], '--help')
                    self.assertIn(line, help_synopsis(proc.stdout))

    def test_parsers(self):
        self.assertEqual(help_synopsis('usage: cairn a x\n   or: cairn a y\n\nverbs:\n'),
                         ['cairn a x', 'cairn a y'])
        self.assertEqual(doc_synopsis('# t\n\n## Synopsis\n\n```\ncairn a x\n```\n'),
                         ['cairn a x'])
        self.assertIsNone(doc_synopsis('# t\n\n## Usage\n'))


if __name__ == '__main__':
    harness.main()
