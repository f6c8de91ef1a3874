# SPDX-License-Identifier: MIT
"""Help and habits (issue 12, item 6): every verb's --help explains what it does and every
option of its usage lines, and shows examples that work; the short options are the same
across verbs (-e for the experiment); a filter or order-by naming a metric no run has says
so ("did you mean"); '==' in a filter gets a hint; misspelled commands, verbs and options get
a "did you mean"."""
import pathlib
import re
import shlex
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402


usage_lines = harness.usage_lines


def explanation(text):
    """What --help prints after its usage lines."""
    lines = text.splitlines()
    i = 0
    while i < len(lines) and (lines[i].startswith('usage: ') or lines[i].startswith('   or: ')):
        i += 1
    return '\n'.join(lines[i:])


def section(text, name):
    """The indented lines under a 'name:' line (up to the next blank or unindented line)."""
    lines = text.splitlines()
    try:
        start = lines.index(name + ':')
    except ValueError:
        return None
    out = []
    for line in lines[start + 1:]:
        if not line.strip() or not line.startswith(' '):
            break
        out.append(line.strip())
    return out


def verb_path(line, group):
    """The verb words of a usage line: 'cairn auth user add NAME' -> ('user', 'add')."""
    words = line.split()[2:]
    path = []
    for w in words:
        if not re.fullmatch(r'[a-z][a-z-]*', w):
            break
        path.append(w)
    return tuple(path)


class Help(harness.CairnTest):
    def commands(self):
        out = self.cairn('--help', store=False).stdout
        names = section(out, 'commands')
        self.assertTrue(names, out)
        return [n.split()[0] for n in names]

    def verbs(self):
        """Every (group, verb path) that the usage lines of `cairn <group> --help` name, with
        the lines of that verb."""
        out = {}
        for cmd in self.commands():
            text = self.cairn(cmd, '--help', store=False).stdout
            for line in usage_lines(text):
                self.assertTrue(line.startswith('cairn %s' % cmd), line)
                path = verb_path(line, cmd)
                out.setdefault((cmd,) + path, []).append(line)
        return out

    def test_walk_finds_every_group(self):
        verbs = self.verbs()
        for want in [('exp', 'create'), ('runs', 'search'), ('auth', 'user', 'add'), ('run',),
                     ('tune',), ('drift',), ('drift', 'reference'), ('train',), ('serve',)]:
            self.assertIn(want, verbs)
        self.assertGreater(len(verbs), 50)

    def test_every_verb_explains_its_options_with_examples(self):
        for key, lines in sorted(self.verbs().items()):
            with self.subTest(verb=' '.join(key)):
                proc = self.cairn(*key, '--help', store=False)
                text = explanation(proc.stdout)
                # a description: a paragraph of prose before the options
                first = text.strip().split('\n\n')[0] if text.strip() else ''
                self.assertGreater(len(first), 30, 'no description:\n' + proc.stdout)
                self.assertFalse(first.startswith('options:'), proc.stdout)
                # every --option of the usage lines is explained
                options = section(text, 'options') or []
                explained = '\n'.join(options)
                for line in lines:
                    for opt in sorted(set(re.findall(r'--[a-z][a-z0-9-]*', line))):
                        self.assertRegex(explained, r'(^|[\s,(])%s(?![\w-])' % re.escape(opt),
                                         '%s is not explained in:\n%s' % (opt, proc.stdout))
                    for opt in sorted(set(re.findall(r'(?<![\w-])-[a-zA-Z]\b', line))):
                        self.assertIn(opt + ',', explained,
                                      '%s is not explained in:\n%s' % (opt, proc.stdout))
                self.assertIn('--help', explained)
                # examples that are command lines of this verb
                examples = section(text, 'examples')
                self.assertTrue(examples, 'no examples: section:\n' + proc.stdout)
                for ex in examples:
                    self.assertTrue(ex.startswith('cairn %s' % ' '.join(key)), ex)
                    shlex.split(ex)  # quotes balance

    def examples_of(self, *key):
        return section(explanation(self.cairn(*key, '--help', store=False).stdout), 'examples')

    def run_example(self, line, **kwargs):
        """Runs one example line in self.tmp (the repository's data/ and examples/ linked in)."""
        for name in ('data', 'examples'):
            link = self.tmp / name
            if not link.exists():
                link.symlink_to(harness.SOURCE_DIR / name)
        args = shlex.split(line)
        self.assertEqual(args[0], 'cairn')
        return self.cairn(*args[1:], **kwargs)

    def test_examples_run(self):
        """At least one example of each group that needs no server runs for real, in the order
        a user would type them (exp, run, runs, data, train, eval, model, study, drift)."""
        for ex in self.examples_of('exp', 'create')[:1]:
            self.run_example(ex)
        self.run_example(self.examples_of('exp', 'list')[0])
        for ex in self.examples_of('run'):
            self.run_example(ex)
        for verb in ('list', 'search'):
            for ex in self.examples_of('runs', verb):
                self.run_example(ex)
        for verb in ('validate', 'split', 'profile', 'hash'):
            self.run_example(self.examples_of('data', verb)[0])
        train = self.examples_of('train')[0]
        out = self.run_example(train + ' --json').stdout
        run_id = harness.json.loads(out)['run_id']
        for ex in self.examples_of('model', 'register')[:1]:
            self.run_example(ex.replace('RUN_ID', run_id))
        self.run_example(self.examples_of('model', 'list')[0])
        self.run_example(self.examples_of('explain')[0].replace('RUN_ID', run_id))
        self.run_example(self.examples_of('predict')[0].replace('RUN_ID', run_id))
        self.run_example(self.examples_of('model', 'show')[3].replace('7451aa3c', run_id))
        # the space file tune's help describes
        (self.tmp / 'space.yaml').write_text(
            'objective: {name: val_acc, goal: maximize}\n'
            'parameters:\n  lr: {type: float, low: 0.01, high: 1.0, log: true}\n')
        for ex in self.examples_of('tune')[:1]:
            self.run_example(ex)
        self.run_example(self.examples_of('study', 'list')[0])
        self.run_example(self.examples_of('store', 'check')[0])
        self.run_example(self.examples_of('drift', 'reference')[0])

    def test_experiment_takes_e_everywhere(self):
        """Every verb whose usage lines take --experiment also takes -e (same for -n with
        --name, -t with --tag, -o with --output, -j with --jobs, -p with --param)."""
        pairs = [('--experiment', '-e'), ('--name', '-n'), ('--tag', '-t'), ('--output', '-o'),
                 ('--jobs', '-j'), ('--param', '-p'), ('--filter', '-f')]
        seen = 0
        for key, lines in sorted(self.verbs().items()):
            text = ' '.join(lines)
            for long, short in pairs:
                if not re.search(r'%s(?![\w-])' % re.escape(long), text):
                    continue
                seen += 1
                with self.subTest(verb=' '.join(key), option=short):
                    # -X VALUE then an option no verb has: the error must be about the latter
                    proc = self.cairn(*key, short, 'x=1', '--zz-no-such-option', expect=None,
                                      store=False)
                    self.assertNotIn("unknown option '%s'" % short, proc.stderr)
                    self.assertNotIn("invalid option -- '%s'" % short[1], proc.stderr)
        self.assertGreater(seen, 15)

    def test_conventions_documented(self):
        doc = (harness.SOURCE_DIR / 'docs' / 'cli' / 'README.md').read_text()
        self.assertIn('## Conventions', doc)
        for short in ('-e', '-n', '-o', '-j', '-p', '-t', '-f'):
            self.assertIn('`%s`' % short, doc)

    def seed_runs(self):
        for acc in ('0.5', '0.9'):
            self.cairn('run', '-p', 'lr=' + acc, '--', 'sh', '-c', 'echo "cairn: acc=%s"' % acc)

    def test_filter_on_a_misspelled_metric_says_so(self):
        self.seed_runs()
        proc = self.cairn('runs', 'search', '--filter', 'metrics.acx > 0.1')
        self.assertIn("no run in any experiment has metric 'acx' (did you mean 'metrics.acc'?)",
                      proc.stderr)
        proc = self.cairn('runs', 'search', '-e', 'Default', '-f', 'metrics.lr > 0.1')
        self.assertIn("no run in experiment 'Default' has metric 'lr' (did you mean "
                      "'params.lr'?)", proc.stderr)
        # a filter that matches says nothing
        proc = self.cairn('runs', 'search', '--filter', 'metrics.acc > 0.1')
        self.assertNotIn('note', proc.stderr)
        # an order-by on a misspelled name, even with results
        proc = self.cairn('runs', 'search', '-e', 'Default', '--order-by', 'metrics.acx DESC')
        self.assertIn("has metric 'acx' (did you mean 'metrics.acc'?)", proc.stderr)
        self.assertEqual(len(proc.stdout.strip().splitlines()), 3)

    def test_columns_and_tune_metric_names(self):
        self.seed_runs()
        proc = self.cairn('runs', 'list', '--columns', 'name,metrics.acx')
        self.assertIn("has metric 'acx' (did you mean 'metrics.acc'?)", proc.stderr)
        # a study's objective that the command never reports: the FAILed trial's run says
        # which name it did report
        (self.tmp / 'space.yaml').write_text('parameters:\n  lr: {type: float, low: 0.1, '
                                             'high: 1.0}\n')
        self.cairn('tune', '-s', 'space.yaml', '--study', 's', '-n', '1', '--metric', 'acx',
                   '--quiet', '--', 'sh', '-c', 'echo "cairn: acc=0.5"')
        runs = self.cairn_json('runs', 'search', '-e', 's', '--json')['runs']
        self.assertEqual(len(runs), 1)
        self.assertIn("without reporting 'acx' (did you mean 'acc'?",
                      runs[0]['tags']['cairn.status_reason'])

    def test_filter_as_an_argument(self):
        self.seed_runs()
        proc = self.cairn('runs', 'search', 'metrics.acc > 0.7', '--json')
        runs = harness.json.loads(proc.stdout)['runs']
        self.assertEqual(len(runs), 1)
        proc = self.cairn('runs', 'search', 'metrics.acc > 0.7', '-f', 'x', expect=2)
        self.assertIn('twice', proc.stderr)

    def test_double_equals_gets_a_hint(self):
        self.seed_runs()
        proc = self.cairn('runs', 'search', '--filter', "params.lr == '0.5'", expect=1)
        self.assertIn("equality is a single '='", proc.stderr)

    def test_did_you_mean_commands_verbs_options(self):
        proc = self.cairn('stduy', expect=2, store=False)
        self.assertIn("did you mean 'cairn study'", proc.stderr)
        proc = self.cairn('runs', 'serach', expect=2, store=False)
        self.assertIn("did you mean 'cairn runs search'", proc.stderr)
        proc = self.cairn('runs', 'search', '--fitler', 'x', expect=2)
        self.assertIn("did you mean '--filter'", proc.stderr)


class RemoteNames(harness.CairnTest):
    """The note works on a remote store too (CAIRN_STORE=http://...: the keys come from the
    runs the server returns)."""

    def test_note_over_rest(self):
        server_db = 'sqlite:///' + str(self.tmp / 'server.db').lstrip('/')
        log = open(self.tmp / 'server.log', 'ab')
        server = subprocess.Popen(
            [harness.CAIRN_BIN, 'server', '--store', server_db, '--port', '0', '--artifacts',
             str(self.tmp / 'server-artifacts')],
            stdout=subprocess.PIPE, stderr=log, cwd=self.tmp, env=self._env(None))
        log.close()

        def stop():
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            server.stdout.close()
        self.addCleanup(stop)
        m = re.search(rb'http://127\.0\.0\.1:(\d+)', server.stdout.readline())
        self.assertIsNotNone(m, (self.tmp / 'server.log').read_text(errors='replace'))
        env = {'CAIRN_STORE': 'http://127.0.0.1:%s' % m.group(1).decode()}
        self.cairn('run', '-e', 'remote', '-p', 'depth=3', '--', 'sh', '-c',
                   'echo "cairn: auc=0.8"', store=False, env=env)
        proc = self.cairn('runs', 'search', '-e', 'remote', 'metrics.acu > 0.5', store=False,
                          env=env)
        self.assertIn("no run in experiment 'remote' has metric 'acu' (did you mean "
                      "'metrics.auc'?)", proc.stderr)
        proc = self.cairn('runs', 'search', '-e', 'remote', "params.dept = '3'", store=False,
                          env=env)
        self.assertIn("has param 'dept' (did you mean 'params.depth'?)", proc.stderr)


if __name__ == '__main__':
    harness.main()
