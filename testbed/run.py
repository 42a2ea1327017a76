#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The vfc test bed: builds what a run needs, boots QEMU guests, runs the
KUnit suites and the end-to-end scenarios, and judges every guest log.

  run.py check                 lint, KUnit, every scenario; one line each
  run.py kunit                 the KUnit suites in the test-kernel guest
  run.py e2e [options]         end-to-end scenarios
  run.py demo                  the balloon demo on the stock kernel
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from guest import (BUILD, GIB, MIB, TOP, BootReport, Guest,  # noqa: E402
                   GuestError, build_initramfs, kernel_info)
from scenarios import DRIVERS, SCENARIOS, balloon_to  # noqa: E402
from scenarios import wait_driver_ok  # noqa: E402


class Results:
    def __init__(self):
        self.counts = {'PASS': 0, 'FAIL': 0, 'SKIP': 0}

    def add(self, status, name, detail=''):
        self.counts[status] += 1
        line = '%-4s %s' % (status, name)
        if detail:
            line += '  (%s)' % detail
        print(line, flush=True)

    def summary(self):
        s = '%d passed, %d failed' % (self.counts['PASS'], self.counts['FAIL'])
        if self.counts['SKIP']:
            s += ', %d skipped' % self.counts['SKIP']
        return s

    def ok(self):
        return self.counts['FAIL'] == 0


def sh(*cmd):
    subprocess.run(cmd, check=True)


_prepared = set()


def prepare(kernel):
    """Dependencies, the kernel, vfc's modules for it and its initramfs;
    once per run of this script."""
    if kernel in _prepared:
        return
    sh(os.path.join(TOP, 'scripts', 'deps.sh'))
    if kernel == 'test':
        subprocess.run([os.path.join(TOP, 'scripts', 'build-kernel.sh')],
                       check=True, stdout=subprocess.DEVNULL)
    sh(os.path.join(TOP, 'scripts', 'build-modules.sh'), kernel)
    os.makedirs(os.path.join(BUILD, kernel), exist_ok=True)
    build_initramfs(kernel, os.path.join(BUILD, kernel, 'initramfs.cpio.gz'))
    _prepared.add(kernel)


def log_to(path, echo):
    """A scenario's step log: kept in its run directory, and printed too
    unless the run is one line of make check."""
    f = open(path, 'w')

    def log(msg):
        if echo:
            print(msg, flush=True)
        f.write(msg + '\n')
        f.flush()
    return log


def run_scenario(res, name, kernel, driver, opts):
    sc = SCENARIOS[name]
    props = ','.join(p for p in (sc.device_props, opts.device_props) if p)
    label = 'e2e %s kernel=%s' % (name, kernel)
    if sc.uses_driver:
        label += ' driver=%s' % driver
    if opts.device_props:
        label += ' props=%s' % opts.device_props
    if kernel not in sc.kernels or (sc.uses_driver and
                                    driver not in sc.drivers):
        return
    drv = DRIVERS[driver]
    prepare(kernel)
    if (sc.uses_driver and not drv.available(kernel)) or \
       (sc.needs_vfc and not DRIVERS['vfc'].available(kernel)):
        res.add('SKIP', label, 'vfc has no balloon driver yet')
        return
    run_name = '-'.join([name, kernel] + ([driver] if sc.uses_driver else []))
    if opts.device_props:
        run_name += '-' + re.sub(r'[^A-Za-z0-9]+', '_', opts.device_props)
    t = time.time()
    g = None
    reports = []
    err = None
    boot_note = ''
    try:
        g = boot_guest(run_name, kernel, props, opts, sc.iommu)
        if isinstance(g, tuple):
            g, boot_note = g
        log = log_to(os.path.join(g.dir, 'steps.log'), not opts.quiet)
        log('  %-44s %6.2f s' % ('boot %s' % g.release, g.boot_seconds))
        sc.fn(g, drv, log)
    except GuestError as e:
        err = e
    finally:
        if g:
            reports = g.finish()
            err = err or g.finish_error
    secs = '%.1f s' % (time.time() - t)
    where = 'build/runs/%s/' % run_name
    if sc.expect_report:
        # A planted fault: the run passes only if the report check caught it.
        if err:
            res.add('FAIL', label, '%s; %s' % (err, where))
        elif reports:
            res.add('PASS', label, 'caught: %s; %s' % (reports[0].strip(), secs))
        else:
            res.add('FAIL', label, 'planted fault not caught; ' + where)
    elif err:
        res.add('FAIL', label, '%s; %s' % (str(err).splitlines()[0], where))
    elif reports:
        res.add('FAIL', label, 'kernel report: %s; %s' %
                (reports[0].strip(), where))
    else:
        res.add('PASS', label, '%s%s; steps in %ssteps.log' %
                (secs, boot_note, where))


def boot_guest(run_name, kernel, props, opts, iommu=False, balloon=True):
    """Boot a guest for a run. A kernel report during the guest kernel's
    own boot, before /init and so before anything of the project is
    loaded, fails that boot, not the run: boot once more, keep the first
    boot's directory as <run>-boot1 and say so in the result. A second
    such boot fails the run."""
    try:
        return Guest(run_name, kernel, props, opts.qemu_args,
                     opts.kernel_args, iommu=iommu, balloon=balloon)
    except BootReport as e:
        first = os.path.join(BUILD, 'runs', run_name)
        kept = first + '-boot1'
        shutil.rmtree(kept, ignore_errors=True)
        os.rename(first, kept)
        g = Guest(run_name, kernel, props, opts.qemu_args,
                  opts.kernel_args, iommu=iommu, balloon=balloon)
        return g, ('; booted twice: boot report "%s", see build/runs/%s-boot1/'
                   % (e, run_name))


def cmd_e2e(opts, res):
    kernels = opts.kernel.split(',')
    drivers = opts.driver.split(',')
    names = opts.scenario.split(',') if opts.scenario else list(SCENARIOS)
    for n in names:
        if n not in SCENARIOS:
            sys.exit('unknown scenario %s (have: %s)' % (n, ', '.join(SCENARIOS)))
    for kernel in kernels:
        for n in names:
            uses_driver = SCENARIOS[n].uses_driver
            for driver in (drivers if uses_driver else drivers[:1]):
                run_scenario(res, n, kernel, driver, opts)


def kunit_py():
    kdir = kernel_info('test', 'kdir')
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


def split_suites(lines):
    """Split a module's KTAP lines into one list per suite: a suite ends at
    its unindented result line."""
    suites, cur = [], []
    for ln in lines:
        cur.append(ln)
        if re.match(r'^(ok|not ok) \d+ ', ln):
            suites.append(cur)
            cur = []
    return suites


def json_cases(node, prefix=''):
    """(suite.case[.param], status) of every test case in kunit.py's JSON:
    suites are sub-groups of the top group, and a parameterised case is a
    sub-group of its suite."""
    for case in node.get('test_cases', []):
        yield prefix + case['name'], case['status']
    for sub in node.get('sub_groups', []):
        yield from json_cases(sub, prefix + sub['name'] + '.')


def cmd_kunit(opts, res):
    prepare('test')
    outdir = os.path.join(BUILD, 'kunit')
    os.makedirs(outdir, exist_ok=True)
    mods = sorted(f[:-3] for f in os.listdir(os.path.join(BUILD, 'test', 'src',
                                                           'tests'))
                  if f.endswith('.ko'))
    docs = []
    err = None
    reports = []
    g = None
    try:
        g = boot_guest('kunit', 'test', opts.device_props, opts,
                       balloon=False)
        if isinstance(g, tuple):
            g, note = g
            print('     kunit guest' + note)
        # Arm failslab for the tasks that ask (current->make_it_fail) and
        # for allocations that cannot sleep only: tests inject a failing
        # GFP_ATOMIC allocation this way without touching anything else.
        g.sh('cd /sys/kernel/debug/failslab && echo 100 > probability && '
             'echo -1 > times && echo 0 > verbose && echo Y > task-filter '
             '&& echo Y > ignore-gfp-wait')
        for mod in mods:
            g.sh('echo "vfc-kunit: begin %s" > /dev/kmsg' % mod)
            g.sh('modprobe %s' % mod, timeout=1200)
            g.sh('echo "vfc-kunit: end %s" > /dev/kmsg' % mod)
            found = split_suites(module_ktap(g.sh('dmesg'), mod))
            if not found:
                raise GuestError('%s ran no KUnit suite' % mod)
            docs += found
            g.sh('rmmod %s' % mod)
    except GuestError as e:
        err = e
    finally:
        if g:
            reports = g.finish()
            err = err or g.finish_error
    ktap = os.path.join(outdir, 'results.ktap')
    with open(ktap, 'w') as f:
        f.write(merge_ktap(docs) if docs else '')
    js = os.path.join(outdir, 'results.json')
    if docs:
        p = subprocess.run([sys.executable, kunit_py(), 'parse', '--json=' + js,
                            ktap], capture_output=True, text=True)
        with open(os.path.join(outdir, 'kunit.py.out'), 'w') as f:
            f.write(p.stdout + p.stderr)
        if opts.verbose:
            print(p.stdout, end='')
        try:
            with open(js) as f:
                tree = json.load(f)
        except (OSError, ValueError):
            res.add('FAIL', 'kunit: kunit.py parse', 'no JSON; see build/kunit/')
            tree = {}
        for name, status in json_cases(tree):
            res.add({'PASS': 'PASS', 'SKIP': 'SKIP'}.get(status, 'FAIL'),
                    'kunit ' + name)
        if p.returncode and res.ok():
            res.add('FAIL', 'kunit: kunit.py parse', 'exit %d; see '
                    'build/kunit/kunit.py.out' % p.returncode)
    if err:
        res.add('FAIL', 'kunit guest', '%s; build/runs/kunit/' % err)
    elif reports:
        res.add('FAIL', 'kunit guest', 'kernel report: %s; build/runs/kunit/'
                % reports[0].strip())
    elif not docs:
        res.add('FAIL', 'kunit guest', 'no suites ran')


def cmd_lint(opts, res):
    p = subprocess.run([os.path.join(TOP, 'scripts', 'lint.sh')],
                       capture_output=True, text=True)
    for line in p.stdout.splitlines():
        m = re.match(r'^(PASS|FAIL) (.*)$', line)
        if m:
            res.add(m.group(1), 'lint ' + m.group(2))
        elif opts.verbose or p.returncode:
            print('     ' + line)
    if p.returncode and res.ok():
        res.add('FAIL', 'lint', p.stderr.strip().splitlines()[-1:]
                and p.stderr.strip().splitlines()[-1] or 'failed')


def cmd_check(opts, res):
    """Everything, one line each. The kernel's own driver proves each
    scenario on the stock kernel; on the test kernel, whose checkers watch
    vfc, it runs the reference scenario only (make e2e runs any mix)."""
    cmd_lint(opts, res)
    cmd_kunit(opts, res)
    opts.quiet = True
    for kernel in ('stock', 'test'):
        for props in CHECK_RING_PROPS:
            opts.device_props = props
            for name, sc in SCENARIOS.items():
                if props and name not in ('reference', 'rmmod-inflated'):
                    continue
                drivers = ['kernel', 'vfc'] if sc.uses_driver else ['kernel']
                if kernel == 'test' and sc.uses_driver and name != 'reference':
                    drivers = ['vfc']
                for driver in drivers:
                    run_scenario(res, name, kernel, driver, opts)


# The ring layouts make check runs: split (QEMU's default), and packed with
# each ring feature on and off, for the reference and rmmod scenarios.
CHECK_RING_PROPS = ['', 'packed=on', 'packed=on,event_idx=off',
                    'packed=on,indirect_desc=off']


def cmd_demo(opts, res):
    """The main job: the balloon inflated and deflated from the monitor."""
    prepare('stock')
    drv = DRIVERS['vfc'] if DRIVERS['vfc'].available('stock') else \
        DRIVERS['kernel']
    print('Booting the stock Debian kernel under QEMU with a '
          'virtio-balloon-pci device...')
    g = Guest('demo', 'stock', opts.device_props, opts.qemu_args,
              opts.kernel_args)
    reports = []
    try:
        print('guest kernel %s up in %.1f s; loading the %s balloon driver' %
              (g.release, g.boot_seconds, drv.name))
        drv.load(g)
        wait_driver_ok(g, drv)

        def show(what):
            info = g.qmp.hmp('info balloon').strip()
            print('%-28s (qemu) info balloon -> %-22s guest MemTotal %8d kB' %
                  (what, info, g.meminfo() // 1024))
        show('start')
        for mib in (1024, 1536, 2048):
            t = time.time()
            print('(qemu) balloon %d' % mib)
            g.qmp.hmp('balloon %d' % mib)
            balloon_to(g, mib * MIB)
            show('after %.1f s' % (time.time() - t))
        drv.unload(g)
        print('driver unloaded')
    finally:
        reports = g.finish()
    if reports:
        print('kernel report in the guest log: %s' % reports[0])
        res.add('FAIL', 'demo', 'see build/runs/demo/')
    else:
        res.add('PASS', 'demo')


def cmd_bench(opts, res):
    """The balloon steps with the kernel's driver and vfc's in one boot of
    the stock kernel per ring layout, the device moved between them,
    alternating which goes first; median seconds per step and the ratio
    vfc/kernel."""
    kernel = 'stock'
    prepare(kernel)
    if not DRIVERS['vfc'].available(kernel):
        res.add('SKIP', 'bench', 'vfc has no balloon driver yet')
        return
    layouts = [('split', ''), ('packed', 'packed=on')]
    if opts.device_props:
        layouts = [(opts.device_props, opts.device_props)]
    rows = []
    for layout, props in layouts:
        rows += bench_layout(opts, res, kernel, layout, props)
    print()
    print('%-38s %10s %10s %8s' % ('step (median of %d)' % opts.rounds,
                                    'kernel s', 'vfc s', 'vfc/kern'))
    worst = 0
    for what, k, v in rows:
        worst = max(worst, v / k)
        print('%-38s %10.3f %10.3f %8.2f' % (what, k, v, v / k))
    print()
    if worst > opts.max_ratio:
        res.add('FAIL', 'bench', 'vfc/kernel %.2f > %.2f' % (worst, opts.max_ratio))
    elif rows and res.ok():
        res.add('PASS', 'bench', 'worst vfc/kernel ratio %.2f <= %.2f' %
                (worst, opts.max_ratio))


def bench_layout(opts, res, kernel, layout, props):
    """One boot: both drivers, the device moved between them; the rows
    (step, kernel median, vfc median) of this ring layout."""
    import statistics
    rounds = opts.rounds
    g = Guest('bench-' + layout.replace('=', '_').replace(',', '_'), kernel,
              props, opts.qemu_args, opts.kernel_args)
    times = {(d, s): [] for d in ('kernel', 'vfc') for s in ('inflate', 'deflate')}
    try:
        for d in ('kernel', 'vfc'):
            DRIVERS[d].load(g)
        size = g.mem
        for r in range(rounds):
            for d in (('kernel', 'vfc') if r % 2 == 0 else ('vfc', 'kernel')):
                g.sh('vfc-move %s' % d)
                wait_driver_ok(g, DRIVERS[d])
                for step, target in (('inflate', size - GIB), ('deflate', size)):
                    t = time.time()
                    balloon_to(g, target)
                    times[(d, step)].append(time.time() - t)
            print('%s: round %d/%d done' % (layout, r + 1, rounds), flush=True)
        DRIVERS['vfc'].unload(g)
        DRIVERS['kernel'].unload(g)
    finally:
        reports = g.finish()
    if reports:
        res.add('FAIL', 'bench ' + layout, 'kernel report: %s' % reports[0])
    rows = []
    for step, what in (('inflate', '%d -> %d MiB' % (size // MIB, (size - GIB) // MIB)),
                       ('deflate', '%d -> %d MiB' % ((size - GIB) // MIB, size // MIB))):
        rows.append(('%s: %s %s' % (layout, step, what),
                     statistics.median(times[('kernel', step)]),
                     statistics.median(times[('vfc', step)])))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('command', choices=('check', 'kunit', 'e2e', 'demo', 'lint',
                                        'bench'))
    ap.add_argument('--kernel', default=os.environ.get('KERNEL') or 'stock,test',
                    help='stock, test or both (comma-separated)')
    ap.add_argument('--driver', default=os.environ.get('DRIVER') or 'kernel,vfc',
                    help='kernel, vfc or both (comma-separated)')
    ap.add_argument('--scenario', default=os.environ.get('SCENARIO') or None,
                    help='scenario names, comma-separated (default: all)')
    ap.add_argument('--device-props', default=os.environ.get('DEVICE_PROPS', ''),
                    help='extra virtio-balloon-pci properties, e.g. packed=on')
    ap.add_argument('--qemu-args', default=os.environ.get('QEMU_ARGS', ''))
    ap.add_argument('--kernel-args', default=os.environ.get('KERNEL_ARGS', ''))
    ap.add_argument('--rounds', type=int, default=int(os.environ.get('ROUNDS') or 5),
                    help='bench: rounds per driver (default 5)')
    ap.add_argument('--max-ratio', type=float, default=1.1,
                    help='bench: the worst vfc/kernel ratio allowed')
    ap.add_argument('-v', '--verbose', action='store_true')
    ap.add_argument('-q', '--quiet', action='store_true',
                    help='no step timings, one line per scenario')
    opts = ap.parse_args()
    for k in opts.kernel.split(','):
        if k not in ('stock', 'test'):
            sys.exit('KERNEL must be stock or test, not %r' % k)
    for d in opts.driver.split(','):
        if d not in DRIVERS:
            sys.exit('DRIVER must be kernel or vfc, not %r' % d)
    res = Results()
    t = time.time()
    {'check': cmd_check, 'kunit': cmd_kunit, 'e2e': cmd_e2e,
     'demo': cmd_demo, 'lint': cmd_lint, 'bench': cmd_bench}[opts.command](opts, res)
    print('%s  (%.0f s)' % (res.summary(), time.time() - t))
    sys.exit(0 if res.ok() else 1)


if __name__ == '__main__':
    main()
