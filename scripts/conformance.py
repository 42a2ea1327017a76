#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Check CONFORMANCE.md against the spec and the tests.

Every driver-normative statement of the spec chapters in spec/ (each
sentence with MUST or SHOULD in a \\drivernormative section) has a row in
CONFORMANCE.md: its id (a hash of its section and text), its text, and
the tests that fail when vfc breaks it, or "not implemented: <why>", or
"untested: <where vfc does it; what a test would check>" (the gaps).
A test is kunit:<case> (a KUNIT_CASE in tests/), e2e:<test> (a
scenario in testbed/) or lint:<check> (a check of vfc's sources below,
for a rule no device can show broken). Fails, naming each, on a statement with no row,
a row whose statement is no longer in the spec, a row whose text is not
the statement's, a row with neither tests nor a reason, and a test that
does not exist.

  scripts/conformance.py            check (make lint runs it)
  scripts/conformance.py --update   rewrite the table from the spec,
                                    keeping the tests of every row whose
                                    statement is still there
"""

import hashlib
import os
import re
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPEC = os.path.join(TOP, 'spec')
TABLE = os.path.join(TOP, 'CONFORMANCE.md')
SPEC_FILES = ('content.tex', 'split-ring.tex', 'packed-ring.tex',
              'transport-pci.tex', 'device-types/balloon/description.tex')

NOT_IMPLEMENTED = 'not implemented: '
UNTESTED = 'untested: '     # implemented, no test yet: the gap list
REASONED = (NOT_IMPLEMENTED, UNTESTED)
TODO = 'TODO'  # a new row, for a human to map

HEADER = '''# Conformance: the driver-normative statements vfc implements

Each driver-normative statement (a sentence with MUST or SHOULD in a
"Driver Requirements" section) of the spec chapters vfc implements
(`spec/`, revision {revision}), with the tests that fail when vfc breaks
it: `kunit:<case>` is a KUnit case (`tests/`), `e2e:<test>` an end-to-end
scenario (`testbed/`), `lint:<check>` a check of vfc's sources in
`scripts/conformance.py`, all run by `make check`. A statement vfc does not
implement says why. `scripts/conformance.py` checks this table against the
spec and the tests in `make lint`; `--update` rewrites it after a spec
update, keeping what it can.

{count} statements: {tested} with tests, {missing} not implemented, {untested}
implemented without a test of their own yet ("untested": where vfc does it,
and what a test would check).
'''


# ---------------------------------------------------------------------------
# The spec's statements

def strip_arg(text, macro, keep):
    """Replace \\macro{arg} by keep(arg), braces nested one level."""
    pat = re.compile(r'\\' + macro + r'\*?\{((?:[^{}]|\{[^{}]*\})*)\}')
    return pat.sub(lambda m: keep(m.group(1)), text)


def plain(tex):
    """The text of a LaTeX fragment, as a reader would quote it."""
    t = re.sub(r'(?<!\\)%.*', '', tex)
    t = re.sub(r'\\begin\{(note|lstlisting)\}.*?\\end\{\1\}', ' ', t,
               flags=re.S)
    t = strip_arg(t, 'label', lambda a: '')
    for m in ('ref', 'nameref'):
        t = strip_arg(t, m, lambda a: '"%s"' % ' '.join(
            re.split(r'\s*/\s*', a.split(':', 1)[-1])[-1].split()))
    for m in ('field', 'emph', 'textbf', 'texttt', 'textit', 'mbox',
              'hyperref\\[[^]]*\\]'):
        t = strip_arg(t, m, lambda a: a)
    t = re.sub(r'\\(begin|end)\{[^}]*\}', ' ', t)
    t = t.replace('\\item', ' ').replace('``', '"').replace("''", '"')
    t = re.sub(r'\\([_&%#$])', r'\1', t)
    t = t.replace('~', ' ').replace('\\\\', ' ').replace('$', '')
    t = re.sub(r'\\[A-Za-z]+\*?', '', t)
    t = t.replace('{', '').replace('}', '')
    return ' '.join(t.split())


def sentences(text):
    return [s for s in re.split(r'(?<=[.:;!])\s+(?=[A-Z"(])', text) if s]


def statement_id(section, text):
    return hashlib.sha1(('%s\n%s' % (section, text)).encode()).hexdigest()[:8]


NORMATIVE = re.compile(r'\\drivernormative\{\\\w+\}\{[^}]*\}\{([^}]*)\}')
END = re.compile(r'^\\(devicenormative|drivernormative|chapter|section|'
                 r'subsection|subsubsection|paragraph|conformance)\b', re.M)


def spec_statements():
    """[(section, id, text)] in spec order."""
    out = []
    for name in SPEC_FILES:
        with open(os.path.join(SPEC, name)) as f:
            tex = f.read()
        for m in NORMATIVE.finditer(tex):
            section = ' '.join(m.group(1).split())
            end = END.search(tex, m.end())
            body = plain(tex[m.end():end.start() if end else len(tex)])
            for s in sentences(body):
                if 'MUST' in s or 'SHOULD' in s:
                    out.append((section, statement_id(section, s), s))
    return out


# ---------------------------------------------------------------------------
# The tests

def test_names():
    names = set()
    for d, pat, kind in (('tests', r'KUNIT_CASE(?:_PARAM|_SLOW)?\(\s*(\w+)',
                          'kunit'),
                         ('testbed', r'^def (test_\w+)\(', 'e2e')):
        for fn in sorted(os.listdir(os.path.join(TOP, d))):
            # The demo and the benchmark are not in make check.
            if fn.endswith(('.c', '.py')) and fn != 'test_demo.py':
                with open(os.path.join(TOP, d, fn)) as f:
                    names.update('%s:%s' % (kind, n) for n in
                                  re.findall(pat, f.read(), re.M))
    return names | {'lint:' + n for n in LINT}


# ---------------------------------------------------------------------------
# Checks of the sources, for rules a device cannot show broken (QEMU's
# capabilities are read-only: a write to one changes nothing)

def driver_sources():
    for fn in sorted(os.listdir(TOP)):
        if fn.endswith(('.c', '.h')):
            with open(os.path.join(TOP, fn)) as f:
                yield fn, f.read()


def no_pci_config_writes():
    """vfc_pci reads the function's configuration space and never writes
    it: no call of the kernel's configuration space writers."""
    pat = re.compile(r'\b(pci_(?:bus_|user_)?write_config_(?:byte|word|dword)'
                     r'|pci_write_config_\w+)\s*\(')
    return ['%s:%d: %s' % (fn, text.count('\n', 0, m.start()) + 1,
                           m.group(1))
            for fn, text in driver_sources() for m in pat.finditer(text)]


LINT = {'no_pci_config_writes': no_pci_config_writes}


# ---------------------------------------------------------------------------
# The table

ROW = re.compile(r'^\| ([0-9a-f]{8}) \| (.*) \| (.*) \|$')


def escape(text):
    return text.replace('|', '\\|')


def read_table():
    """{id: (text, tests)} and the ids in table order."""
    rows, order = {}, []
    if not os.path.exists(TABLE):
        return rows, order
    with open(TABLE) as f:
        for line in f:
            m = ROW.match(line.rstrip('\n'))
            if m:
                rows[m.group(1)] = (m.group(2), m.group(3).strip())
                order.append(m.group(1))
    return rows, order


def revision():
    with open(os.path.join(SPEC, 'REVISION')) as f:
        return f.read().strip()


def write_table(stmts, rows):
    kept = [rows[i][1] for _, i, _ in stmts if i in rows]
    missing = sum(1 for t in kept if t.startswith(NOT_IMPLEMENTED))
    untested = sum(1 for t in kept if t.startswith(UNTESTED))
    tested = sum(1 for t in kept if t != TODO) - missing - untested
    lines = [HEADER.format(revision=revision(), count=len(stmts),
                           tested=tested, missing=missing,
                           untested=untested)]
    section = None
    for sec, i, text in stmts:
        if sec != section:
            lines.append('\n## %s\n\n| id | statement | tests |\n'
                         '|----|-----------|-------|' % sec)
            section = sec
        tests = rows.get(i, ('', ''))[1] or TODO
        lines.append('| %s | %s | %s |' % (i, escape(text), tests))
    with open(TABLE, 'w') as f:
        f.write('\n'.join(lines) + '\n')


def check(stmts, rows, order):
    errors = []
    known = test_names()
    ids = {i for _, i, _ in stmts}
    if len(ids) != len(stmts):
        errors.append('two statements of one section read the same')
    if len(set(order)) != len(order):
        errors.append('a statement has two rows')
    for sec, i, text in stmts:
        if i not in rows:
            errors.append('no row for %s: "%s" (%s)' % (i, text, sec))
            continue
        if rows[i][0] != escape(text):
            errors.append('row %s: its text is not the statement\'s: "%s"'
                          % (i, text))
        tests = rows[i][1]
        if tests == TODO:
            errors.append('row %s: not mapped yet (TODO)' % i)
            continue
        why = [p for p in REASONED if tests.startswith(p)]
        if why:
            if not tests[len(why[0]):].strip():
                errors.append('row %s: %s but not why' % (i, why[0]))
            continue
        refs = [t.strip() for t in tests.split(',') if t.strip()]
        if not refs:
            errors.append('row %s: no tests and no reason' % i)
        for t in refs:
            t = t.strip('`')
            if t not in known:
                errors.append('row %s: no test %s' % (i, t))
    for name, fn in sorted(LINT.items()):
        errors.extend('lint:%s: %s' % (name, hit) for hit in fn())
    for i in order:
        if i not in ids:
            errors.append('row %s: no such statement in spec/ (changed? '
                          'run --update)' % i)
    return errors


def main(argv):
    stmts = spec_statements()
    rows, order = read_table()
    if argv[1:] == ['--update']:
        write_table(stmts, rows)
        return 0
    if argv[1:]:
        print(__doc__, file=sys.stderr)
        return 2
    errors = check(stmts, rows, order)
    for e in errors:
        print('CONFORMANCE.md: ' + e)
    if not errors:
        print('CONFORMANCE.md: %d statements, each mapped' % len(stmts))
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
