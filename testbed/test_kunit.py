# SPDX-License-Identifier: GPL-2.0
"""vfc's KUnit suites, two ways, one pytest test per suite and way:

  module   the suites as modules in a guest of each test kernel, 6.1 and
           6.12 (their checkers on, failslab armed by the runner), read
           with kunit.py parse;
  builtin  the suites built into a kernel by the kernel's own
           `kunit.py run` (scripts/kunit-run.sh).

A test fails with the names of the suite's failed cases. The suites are
found in tests/*.c, so a suite that does not run at all fails too."""

import glob
import json
import os
import re
import subprocess
import sys

import pytest

from conftest import quote
from guest import (BUILD, TOP, GuestError, boot_guest, kernel_info,
                   kernel_reports, prepare)

OUT = os.path.join(BUILD, 'kunit')

# Suites that need what only the module path provides, and why.
MODULE_ONLY = {
    'vfc_ring_fault': 'needs fault injection armed by the runner',
}

# Cases whose outcome includes a kernel log line naming the device (and
# the queue) and what it did wrong: each pattern must show in the case's
# output, once per row of a parameterised case. Checked on the module path,
# where the log lines land among the KTAP lines.
MESSAGES = {
    'vfc_pci_queue_size_zero': [r'vfc-pci-test: queue 0 \(q\): size 0, not available'],
    'vfc_pci_queue_size_not_pow2': [
        r'vfc-pci-test: queue 0 \(q\): no ring for size 96: -(EINVAL|22)'],
    'vfc_pci_notify_off_beyond': [
        r'vfc-pci-test: queue 0 \(q\): notify offset 4 x 4 beyond the 16-byte notify structure'],
    'vfc_pci_vector_refused': [r'vfc-pci-test: queue 1 \(q\): device refused MSI-X vector 2'],
    'vfc_pci_config_vector_refused': [
        r'vfc-pci-test: device refused MSI-X vector 0 for config changes',
        r'vfc-pci-test: 2 queues, interrupts by INTx'],
    'vfc_pci_gone_reads': [r'vfc-pci-test: device is gone: it offers no features',
                           r'vfc-pci-test: config kept changing during \d+ reads at offset 0'],
    'vfc_pci_generation_unsettled': [
        r'vfc-pci-test: config kept changing during \d+ reads at offset 0'],
    'vfc_pci_surprise_removal': [r'vfc-pci-test: device is gone: not waiting for its reset'],
    'vfc_pci_reset_timeout': [
        r'vfc-pci-test: device did not reset within \d+ ms: bus mastering off'],
    'vfc_pci_caps_ignored': [r' capability at 0x[0-9a-f]{2} ignored: '],
    'vfc_core_remove_reset_fails': [r'vfc\d+: device did not reset: -110'],
    'vfc_core_needs_reset': [r'vfc\d+: device needs a reset \(DEVICE_NEEDS_RESET'],
    'vfc_core_needs_reset_reset_fails': [
        r'vfc\d+: cannot reset a device that needs it \(-110\)'],
    'vfc_balloon_dev_generation_unsettled': [
        r'vfc\d+: config kept changing during \d+ reads at offset 0'],
    'vfc_balloon_dev_ack_timeout': [
        r'vfc\d+: \w+ request not acknowledged in \d+ ms',
        # The conformance report's line as the device goes away.
        r'vfc\d+: conformance: 1 violation, \d+ deviations?: .*request never acknowledged x\d+'],
}


def case_output(lines):
    """{(suite, case): (the case's output lines, its rows)} from a module's
    KTAP lines: a case's output is what came since the previous case's
    result line; its rows are the parameter results among it (0 for a case
    without parameters)."""
    out, buf, suite = {}, [], None
    for ln in lines:
        m = re.match(r'^    # Subtest: (\w+)$', ln)
        if m:
            suite, buf = m.group(1), []
            continue
        m = re.match(r'^    (?:not )?ok \d+ (\w+)', ln)
        if m:
            rows = sum(1 for b in buf if re.match(r'^        (?:not )?ok \d+ ', b))
            out[(suite, m.group(1))] = (buf, rows)
            buf = []
            continue
        buf.append(ln)
    return out


def missing_messages(lines):
    """{suite: ['case: pattern seen n of m times', ...]} for the MESSAGES
    of the cases in these KTAP lines; and the cases found."""
    bad, seen = {}, set()
    for (suite, case), (buf, rows) in case_output(lines).items():
        for pat in MESSAGES.get(case, ()):
            seen.add(case)
            n = sum(1 for ln in buf if re.search(pat, ln))
            if n < max(rows, 1):
                bad.setdefault(suite, []).append(
                    '%s: no log line matching %r (%d of %d)' %
                    (case, pat, n, max(rows, 1)))
    return bad, seen


# "<kernel> <case> <row> <operation>: N allocation failure points ..."
# of the allocation-failure sweeps, for the summary at the end.
SWEEPS = []
SWEEP_LINE = re.compile(r'#\s*(\w+): (\S+ \S+: \d+ allocation failure points.*)$')


def suites_in_sources():
    names = []
    for path in sorted(glob.glob(os.path.join(TOP, 'tests', '*.c'))):
        with open(path) as f:
            text = f.read()
        names += re.findall(r'struct kunit_suite\s+\w+\s*=\s*\{[^}]*?'
                            r'\.name\s*=\s*"([^"]+)"', text, re.S)
    return names


SUITES = suites_in_sources()


def kunit_py(kernel='test'):
    """The kunit.py of the test kernel's own source."""
    kdir = kernel_info(kernel, 'kdir')
    return os.path.join(os.path.dirname(kdir), 'src', 'tools', 'testing',
                        'kunit', 'kunit.py')


TIMESTAMP = re.compile(r'^\[\s*\d+\.\d+\] ?')


def module_ktap(dmesg, mod):
    """The KTAP a test module printed while it loaded, from the kernel log
    between the runner's markers, without printk timestamps. (In 6.1 the
    debugfs results keep only 512 bytes of each test's log.)"""
    lines = [TIMESTAMP.sub('', ln) for ln in dmesg.splitlines()]
    try:
        start = lines.index('vfc-kunit: begin %s' % mod)
        end = lines.index('vfc-kunit: end %s' % mod, start)
    except ValueError:
        raise GuestError('no KUnit output of %s in the kernel log' % mod)
    return lines[start + 1:end]


def split_suites(lines):
    """Split a module's KTAP lines into one list per suite: a suite ends at
    its unindented result line."""
    suites, cur = [], []
    for ln in lines:
        # 6.12 has a module print a top-level header of its own; the one
        # document merge_ktap() makes has one header for all.
        if re.match(r'^(KTAP version \d+|1\.\.\d+)$', ln):
            continue
        cur.append(ln)
        if re.match(r'^(ok|not ok) \d+ ', ln):
            suites.append(cur)
            cur = []
    return suites


def merge_ktap(suites):
    """One KTAP document from the suites' output: a module's suites print
    as subtests of a top level that 6.1 prints only for built-in suites,
    so add it and number the suites in order."""
    out = ['KTAP version 1', '1..%d' % len(suites)]
    for i, body in enumerate(suites, 1):
        m = re.match(r'^(ok|not ok) \d+ (.*)$', body[-1])
        if m:
            body = body[:-1] + ['%s %d %s' % (m.group(1), i, m.group(2))]
        out += body
    return '\n'.join(out) + '\n'


def json_cases(node, prefix=''):
    """(case[.param], status) of every test case under a suite in kunit.py's
    JSON: a parameterised case is a sub-group of its suite."""
    for case in node.get('test_cases', []):
        yield prefix + case['name'], case['status']
    for sub in node.get('sub_groups', []):
        yield from json_cases(sub, prefix + sub['name'] + '.')


def read_suites(js):
    """{suite: [(case, status)]} from kunit.py's JSON file."""
    with open(js) as f:
        tree = json.load(f)
    return {s['name']: list(json_cases(s)) for s in tree.get('sub_groups', [])}


class Results:
    def __init__(self):
        self.suites = {}        # suite -> [(case, status)]
        self.reports = {}       # suite -> kernel reports while it ran
        self.error = None       # what kept the run from finishing
        self.messages = {}      # suite -> MESSAGES not logged
        self.message_cases = set()  # MESSAGES cases found
        self.where = ''


# The test kernels the module path runs on: one per kernel line.
TEST_KERNELS = ('test', 'test-6.12')
_module_results = {}


def module_results(kernel):
    """Every suite module loaded in one guest of the test kernel, its KTAP
    cut out of the kernel log and parsed by kunit.py parse; once a
    session per kernel."""
    if kernel not in _module_results:
        _module_results[kernel] = run_modules(kernel)
    return _module_results[kernel]


def run_modules(kernel):
    prepare(kernel)
    out = os.path.join(OUT, kernel)
    os.makedirs(out, exist_ok=True)
    res = Results()
    run = 'kunit' if kernel == 'test' else 'kunit-' + kernel
    res.where = 'build/runs/%s/, build/kunit/%s/' % (run, kernel)
    testdir = os.path.join(BUILD, kernel, 'src', 'tests')
    mods = sorted(f[:-3] for f in os.listdir(testdir) if f.endswith('_test.ko'))
    g = None
    docs = []
    try:
        # 1 GiB: the suites need little, and kmemleak's scans take
        # time in proportion to guest memory.
        g = boot_guest(run, kernel, balloon=False, mem_mib=1024)
        if g.boot_note:
            print(g.boot_note)
        # Arm fault injection for the tasks that ask and nothing else:
        # failslab fails every slab allocation of a task that sets
        # current->make_it_fail, and a task's fail-nth (the sweeps)
        # counts every slab allocation and page, those that may sleep,
        # order 0 and highmem ones too, which the defaults leave out.
        g.sh('cd /sys/kernel/debug/failslab && echo 100 > probability && '
             'echo -1 > times && echo 0 > verbose && echo Y > task-filter '
             '&& echo N > ignore-gfp-wait')
        g.sh('cd /sys/kernel/debug/fail_page_alloc && echo 0 > verbose && '
             'echo N > ignore-gfp-wait && echo N > ignore-gfp-highmem && '
             'echo 0 > min-order')
        for mod in mods:
            g.sh('echo "vfc-kunit: begin %s" > /dev/kmsg' % mod)
            g.sh('modprobe %s' % mod, timeout=1200)
            g.sh('echo "vfc-kunit: end %s" > /dev/kmsg' % mod)
            found = split_suites(module_ktap(g.sh('dmesg'), mod))
            if not found:
                raise GuestError('%s ran no KUnit suite' % mod)
            g.sh('rmmod %s' % mod)
            doc = merge_ktap(found)
            docs.append(doc)
            bad, seen = missing_messages(doc.splitlines())
            res.messages.update(bad)
            res.message_cases |= seen
            for ln in doc.splitlines():
                m = SWEEP_LINE.search(ln)
                if m:
                    SWEEPS.append('%s %s %s' % (kernel, m.group(1),
                                                m.group(2)))
            ktap = os.path.join(out, mod + '.ktap')
            with open(ktap, 'w') as f:
                f.write(doc)
            js = os.path.join(out, mod + '.json')
            p = subprocess.run([sys.executable, kunit_py(kernel), 'parse',
                                '--json=' + js, ktap],
                               capture_output=True, text=True)
            with open(os.path.join(out, mod + '.kunit.py.out'), 'w') as f:
                f.write(p.stdout + p.stderr)
            mine = read_suites(js)
            reports = g.new_reports()
            for s in mine:
                res.reports[s] = reports
            res.suites.update(mine)
    except (GuestError, OSError, ValueError) as e:
        res.error = e
    finally:
        if g:
            res.reports['<final scan>'] = g.finish()
            res.error = res.error or g.finish_error
    return res


@pytest.fixture(scope='session')
def builtin_results():
    """The suites built in and run by kunit.py run."""
    os.makedirs(OUT, exist_ok=True)
    res = Results()
    res.where = 'build/kunit/kunit-run.log'
    js = os.path.join(OUT, 'builtin.json')
    if os.path.exists(js):
        os.unlink(js)
    log = os.path.join(OUT, 'kunit-run.log')
    with open(log, 'w') as f:
        p = subprocess.run([os.path.join(TOP, 'scripts', 'kunit-run.sh'), js],
                           stdout=f, stderr=subprocess.STDOUT)
    try:
        res.suites = read_suites(js)
    except (OSError, ValueError) as e:
        res.error = 'kunit.py run (exit %d) left no JSON: %s; see %s' % (
            p.returncode, e, res.where)
    test_log = os.path.join(os.path.dirname(kernel_info('test', 'kdir')),
                            'kunit-build', 'test.log')
    if os.path.exists(test_log):
        with open(test_log, errors='replace') as f:
            res.reports['<kernel log>'] = kernel_reports(f.read())
    return res


def judge(res, suite):
    """A skipped case fails too: every case runs on each path it is built
    for."""
    assert not res.reports.get(suite), quote(res.reports[suite], res.where)
    if suite not in res.suites:
        pytest.fail('suite %s did not run%s; see %s' % (
            suite, ': %s' % res.error if res.error else '', res.where),
            pytrace=False)
    cases = res.suites[suite]
    assert not res.messages.get(suite), 'suite %s: %s (see %s)' % (
        suite, '; '.join(res.messages[suite]), res.where)
    bad = [c for c, st in cases if st != 'PASS']
    assert cases, 'suite %s reported no cases' % suite
    assert not bad, 'suite %s: %d of %d cases failed: %s (see %s)' % (
        suite, len(bad), len(cases), ', '.join(bad), res.where)


@pytest.mark.kunit
@pytest.mark.parametrize('kernel', TEST_KERNELS)
@pytest.mark.parametrize('suite', SUITES)
def test_module(kernel, suite):
    judge(module_results(kernel), suite)


@pytest.mark.kunit
@pytest.mark.parametrize('kernel', TEST_KERNELS)
def test_module_guest(kernel):
    """The KUnit guest ran to the end and its final kmemleak scan and
    kernel log are clean."""
    res = module_results(kernel)
    assert not res.error, '%s; see %s' % (res.error, res.where)
    assert not res.reports.get('<final scan>'), \
        quote(res.reports['<final scan>'], res.where)
    extra = set(res.suites) - set(SUITES)
    assert not extra, 'suites not found in tests/*.c: %s' % ', '.join(extra)
    gone = set(MESSAGES) - res.message_cases
    assert not gone, 'MESSAGES names cases that did not run: %s' % \
        ', '.join(sorted(gone))


@pytest.mark.kunit_run
@pytest.mark.parametrize('suite', [s for s in SUITES if s not in MODULE_ONLY])
def test_builtin(builtin_results, suite):
    judge(builtin_results, suite)


@pytest.mark.kunit_run
def test_builtin_run(builtin_results):
    """kunit.py run finished, and its kernel log is clean."""
    res = builtin_results
    assert not res.error, res.error
    assert not res.reports.get('<kernel log>'), \
        quote(res.reports['<kernel log>'], res.where)
