# SPDX-License-Identifier: GPL-2.0
"""The vfc test bed on pytest: options, the guest fixture and the kernel x
driver x device-property matrix.

Options (each defaults to the make variable of the same name):
  --kernel stock,test,...   guest kernels: stock, test, stock-6.12,
                            test-6.12 (default: each scenario's own)
  --driver kernel,vfc       balloon drivers (default: the check matrix)
  --scenario a,b            scenario names (or use -k)
  --device-props P          extra virtio-balloon-pci properties; without it,
                            the check matrix's ring rows
  --qemu-args, --kernel-args
"""

import dataclasses
import os
import re
import sys
import time
import warnings

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from balloon import DRIVERS, loaded  # noqa: E402
from guest import boot_guest, prepare, swap_balloon  # noqa: E402

# The guest kernels: Debian's (stock) and the project's with the kernel's
# checkers (test), for each kernel line.
KERNELS = ('stock', 'test', 'stock-6.12', 'test-6.12')


def is_stock(kernel):
    return kernel.startswith('stock')

# The ring rows of the check matrix: split (QEMU's default), and packed with
# each ring feature on and off, for the scenarios marked ring_rows.
CHECK_RING_PROPS = ('', 'packed=on', 'packed=on,event_idx=off',
                    'packed=on,indirect_desc=off')
# Elsewhere both layouts, not each ring feature again: the ring code is the
# same on every kernel, and the 6.1 test kernel's rows, under the
# checkers, cover the features. The kernel's driver, the reference, runs
# on these rows only: the feature rows are about vfc's ring.
CHECK_RING_LAYOUTS = ('', 'packed=on')

# The phases of make check, in the order they run, and their markers.
PHASES = ('lint', 'kunit', 'kunit_run', 'e2e', 'demo', 'bench', 'soak')


def pytest_addoption(parser):
    env = os.environ.get
    g = parser.getgroup('vfc', 'vfc test bed')
    g.addoption('--kernel', default=env('KERNEL') or '',
                help='guest kernels: stock, test, stock-6.12, test-6.12, '
                'comma-separated')
    g.addoption('--driver', default=env('DRIVER') or '',
                help='balloon drivers: kernel, vfc or both')
    g.addoption('--scenario', default=env('SCENARIO') or '',
                help='scenario names, comma-separated')
    g.addoption('--device-props', default=env('DEVICE_PROPS') or None,
                help='extra virtio-balloon-pci properties (e.g. packed=on)')
    g.addoption('--qemu-args', default=env('QEMU_ARGS') or '')
    g.addoption('--kernel-args', default=env('KERNEL_ARGS') or '')
    g.addoption('--rounds', type=int, default=int(env('ROUNDS') or 5),
                help='bench: rounds per driver')
    g.addoption('--max-ratio', type=float, default=1.1,
                help='bench: the worst vfc/kernel ratio allowed')


def csv(value, allowed, what):
    items = [v for v in value.split(',') if v]
    for v in items:
        if v not in allowed:
            raise pytest.UsageError('%s must be one of %s, not %r' %
                                    (what, ', '.join(allowed), v))
    return items


# ---------------------------------------------------------------------------
# The matrix

@dataclasses.dataclass(frozen=True)
class Boot:
    """One guest configuration; the scenarios that run in equal Boots share
    one boot. props: the ring row's device properties; own: a scenario's
    own device properties; iommu: an intel-iommu before the device; rng:
    a virtio-rng-pci with these properties beside the balloon, None for
    none."""
    kernel: str
    props: str = ''
    own: str = ''
    iommu: bool = False
    rng: str = None

    @property
    def name(self):
        """The run directory's name: unique per boot."""
        return re.sub(r'[^A-Za-z0-9=._-]+', '_', '-'.join(
            x for x in (self.kernel, self.props, self.own,
                        'iommu' if self.iommu else None,
                        None if self.rng is None else 'rng' + self.rng)
            if x))

    def device_props(self):
        return ','.join(p for p in (self.own, self.props) if p)


@dataclasses.dataclass(frozen=True)
class Run:
    """A scenario's place in the matrix: its boot, and the balloon driver
    it runs with ('' for a scenario that loads what it needs)."""
    boot: Boot
    driver: str = ''
    last: bool = False
    fresh: bool = False

    @property
    def id(self):
        return '-'.join(x for x in (self.boot.kernel, self.driver,
                                    self.boot.props) if x)


def scenario(kernels=KERNELS, drivers=('kernel', 'vfc'), test_drivers=('vfc',),
             ring_rows=False, props='', iommu=False, rng=None, last=False,
             fresh=()):
    """Declare an end-to-end scenario and where it runs.

    drivers: the drivers it runs with on the stock kernels, () for one that
    loads what it needs (everywhere); test_drivers: on the 6.1 test kernel,
    whose checkers watch vfc (on test-6.12 vfc alone; make e2e DRIVER= runs
    any mix of drivers); ring_rows: it runs on the packed rows of the check matrix too
    (True: each ring feature's row on the 6.1 test kernel, both layouts
    elsewhere), or on both layouts only ('layouts'); props, iommu: its own device
    configuration; rng: the properties of a virtio-rng-pci beside the
    balloon ('' for QEMU's defaults), None for no rng; last: it leaves the guest changed (a planted fault taints
    the kernel), so it runs after every other scenario of its boot; fresh:
    the kernels on which it needs a guest no other scenario ran in, so each
    of its runs there starts a boot."""
    return pytest.mark.scenario(kernels=kernels, drivers=drivers,
                                test_drivers=test_drivers, ring_rows=ring_rows,
                                props=props, iommu=iommu, rng=rng,
                                last=last, fresh=fresh)


def scenario_runs(config, kernels, drivers, test_drivers, ring_rows,
                  props, iommu, rng, last, fresh):
    want_kernels = csv(config.getoption('kernel'), KERNELS, 'KERNEL')
    want_drivers = csv(config.getoption('driver'), DRIVERS, 'DRIVER')
    given_props = config.getoption('device_props')
    for kernel in kernels:
        if want_kernels and kernel not in want_kernels:
            continue
        rows = [given_props] if given_props is not None else \
            ('',) if not ring_rows else \
            CHECK_RING_PROPS if kernel == 'test' and ring_rows is True \
            else CHECK_RING_LAYOUTS
        if not drivers:
            drvs = ['']
        elif want_drivers:
            drvs = [d for d in drivers if d in want_drivers]
        else:
            # The kernel's driver as reference under the checkers on 6.1's
            # test kernel; on 6.12 the reference runs on the stock kernel.
            drvs = list(drivers) if is_stock(kernel) else \
                [d for d in test_drivers if kernel == 'test' or d == 'vfc']
        for row in rows:
            for drv in drvs:
                if not want_drivers and drv == 'kernel' and \
                        row not in CHECK_RING_LAYOUTS + (given_props,):
                    continue
                yield Run(Boot(kernel, row, props, iommu, rng), drv, last,
                          kernel in fresh)


def pytest_generate_tests(metafunc):
    if 'layout' in metafunc.fixturenames:
        props = metafunc.config.getoption('device_props')
        metafunc.parametrize('layout', [props] if props else ['split', 'packed=on'])
    mark = metafunc.definition.get_closest_marker('scenario')
    if mark is None:
        return
    runs = list(scenario_runs(metafunc.config, **mark.kwargs))
    metafunc.parametrize('run', runs, ids=[r.id for r in runs])


def scenario_name(item):
    return item.originalname[len('test_'):].replace('_', '-')


def phase(item):
    for p in PHASES:
        if item.get_closest_marker(p):
            return p
    return 'other'


def pytest_collection_modifyitems(config, items):
    """Run the phases in order, and the scenarios grouped by the boot they
    share; without -m, leave out demo, bench and soak; --scenario selects."""
    wanted = csv(config.getoption('scenario'),
                 {scenario_name(i) for i in items
                  if i.get_closest_marker('scenario')}, 'SCENARIO')
    keep, drop = [], []
    for item in items:
        if not config.getoption('markexpr') and phase(item) in ('demo', 'bench', 'soak'):
            drop.append(item)
        elif item.get_closest_marker('scenario') and (
                boot_of(item) is None or
                wanted and scenario_name(item) not in wanted):
            # Not selected, or nowhere to run with these options.
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
    # Boots that differ only in the balloon's properties share one guest
    # (Pool.swappable): their scenarios run together, those that leave the
    # guest changed (last) after all the others of the group.
    first = {}
    for i, item in enumerate(keep):
        b = boot_of(item)
        first.setdefault(b, i)
        first.setdefault(bare(b), i)

    def key(pair):
        i, item = pair
        p = phase(item)
        rank = PHASES.index(p) if p in PHASES else len(PHASES)
        r = run_of(item)
        b = boot_of(item)
        return (rank, r.boot.kernel if r else '', first[bare(b)],
                r.last if r else False, not r.fresh if r else True,
                first[b], i)
    items[:] = [item for _, item in sorted(enumerate(keep), key=key)]


def bare(boot):
    """The guest a boot needs, whatever its balloon's properties."""
    return boot and dataclasses.replace(boot, props='', own='')


def run_of(item):
    cs = getattr(item, 'callspec', None) if item else None
    r = cs.params.get('run') if cs else None
    return r if isinstance(r, Run) else None


def boot_of(item):
    r = run_of(item)
    return r.boot if r else None


# ---------------------------------------------------------------------------
# Guests

def quote(reports, where):
    shown = [r.strip() for r in reports[:8]]
    more = len(reports) - len(shown)
    return ('kernel report in the guest log (%s):\n    %s%s' %
            (where, '\n    '.join(shown),
             '\n    ... %d more lines' % more if more > 0 else ''))


class Pool:
    """The guest the current boot's tests share. The last test of a boot
    ends it (a final kmemleak scan) and answers for what that finds."""

    def __init__(self, config):
        self.config = config
        self.boot = None
        self.g = None
        self.boots = {}     # boots so far, per configuration

    def swappable(self, boot):
        """Whether the guest up now serves boot once its balloon is swapped
        for one with boot's properties: the same guest otherwise. A ring
        row needs no boot of its own so."""
        return self.g is not None and self.g.balloon and \
            bare(self.boot) == bare(boot)

    def serves(self, boot):
        return self.g is not None and (self.boot == boot or self.swappable(boot))

    def get(self, boot, **kwargs):
        if self.g and self.boot != boot:
            if self.swappable(boot):
                swap_balloon(self.g, boot.device_props())
                self.boot = boot
            else:
                self.end()
        if not self.g:
            prepare(boot.kernel)
            opt = self.config.getoption
            # A configuration booted again keeps the earlier boot's logs.
            n = self.boots[boot.name] = self.boots.get(boot.name, 0) + 1
            name = boot.name if n == 1 else '%s.%d' % (boot.name, n)
            self.g = boot_guest(name, boot.kernel, boot.device_props(),
                                opt('qemu_args'), opt('kernel_args'),
                                iommu=boot.iommu, rng=boot.rng, **kwargs)
            self.boot = boot
            if self.g.boot_note:
                warnings.warn(self.g.boot_note)
        return self.g

    def end(self):
        """Stop the guest; the reports its last scan found, and what went
        wrong if it no longer answered."""
        g, self.g, self.boot = self.g, None, None
        if not g:
            return [], None
        reports = g.finish()
        return reports, g.finish_error


@pytest.fixture(scope='session')
def pool(request):
    p = Pool(request.config)
    yield p
    p.end()


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_teardown(item, nextitem):
    item.vfc_nextitem = nextitem
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, 'vfc_rep_' + rep.when, rep)


@pytest.fixture
def boot(run):
    return run.boot


@pytest.fixture
def drv(run):
    return DRIVERS.get(run.driver)


@pytest.fixture
def guest(request, pool, boot):
    """The guest of this test's boot, booted if it is not up yet. After the
    test, any kernel report in its logs fails it, quoted; so does a guest
    not left as the test found it. The last test of a boot, or a failed
    one, ends the guest."""
    g = pool.get(boot)
    yield g
    reports = g.new_reports()
    failed = getattr(request.node, 'vfc_rep_call', None)
    failed = failed is None or failed.failed
    # A test may end its boot itself (pool.end()) and judge what that finds.
    ended = g is not pool.g
    left = None if failed or ended else leftovers(g)
    err = None
    nxt = run_of(request.node.vfc_nextitem)
    # A test that leaves the guest changed (last) is followed in its guest
    # only by another such test of the same boot.
    changed = run_of(request.node).last and not (
        nxt and nxt.last and nxt.boot == boot)
    if failed or left or not nxt or changed or nxt.fresh \
            or not pool.serves(nxt.boot):
        more, err = pool.end()
        reports += more
    where = os.path.relpath(g.dir, os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))) + '/'
    if reports:
        pytest.fail(quote(reports, where), pytrace=False)
    if err:
        pytest.fail('guest did not answer at the end of its boot: %s' % err,
                    pytrace=False)
    if left:
        pytest.fail('the test left the guest changed: %s (%s)' % (left, where),
                    pytrace=False)


DRIVER_MODULES = {m for d in DRIVERS.values() for m in d.unload_mods}


def leftovers(g):
    """What a scenario left behind that the next one in the boot would
    trip over: driver modules still loaded, virtio functions with no
    driver though the kernel's virtio_pci is there, memory still in the
    balloon. With no driver bound, the balloon's target goes back to all of the
    guest's memory: a scenario that unloads its driver while inflated
    leaves the target low, and the next driver would inflate at once."""
    mods = sorted(DRIVER_MODULES & set(loaded(g)))
    if mods:
        return 'modules still loaded: ' + ' '.join(mods)
    # Where the kernel's virtio_pci is (built in on 6.12), vfc_pci hands
    # back what it took when it unloads: no virtio function stays orphaned.
    orphans = g.sh('test -d /sys/bus/pci/drivers/virtio-pci || exit 0; '
                   'for d in /sys/bus/pci/devices/*; do '
                   '[ "$(cat $d/vendor)" = 0x1af4 ] && [ ! -e $d/driver ] && '
                   'echo ${d##*/}; done; true').split()
    if orphans:
        return 'virtio functions left without a driver: ' + ' '.join(orphans)
    if g.balloon:
        actual = g.qmp.cmd('query-balloon')['actual']
        if actual != g.mem:
            return 'balloon at %d MiB of %d' % (actual >> 20, g.mem >> 20)
        g.qmp.cmd('balloon', value=g.mem)
    return None


@pytest.fixture
def step(request, guest):
    """step(what, fn, *args): run one timed step of a scenario; the steps
    go to the run directory's steps.log and the test's captured output."""
    path = os.path.join(guest.dir, 'steps.log')

    def run(what, fn, *args):
        t = time.time()
        ret = fn(*args)
        line = '  %-44s %6.2f s' % (what, time.time() - t)
        print(line)
        with open(path, 'a') as f:
            f.write('%s: %s\n' % (request.node.name, line))
        return ret
    return run


# ---------------------------------------------------------------------------
# Time per phase, printed at the end

def pytest_terminal_summary(terminalreporter):
    totals = {}
    for reports in terminalreporter.stats.values():
        for rep in reports:
            if getattr(rep, 'when', None) is None or not hasattr(rep, 'duration'):
                continue
            p = next((m for m in PHASES if m in rep.keywords), None)
            if p:
                totals[p] = totals.get(p, 0) + rep.duration
    sweeps = getattr(sys.modules.get('test_kunit'), 'SWEEPS', None)
    if sweeps:
        terminalreporter.write_sep('-', 'allocation failure points (KUnit)')
        for line in sweeps:
            terminalreporter.write_line(line)
    if totals:
        terminalreporter.write_sep('-', 'time per phase')
        terminalreporter.write_line('  '.join(
            '%s %.0f s' % (p, totals[p]) for p in PHASES if p in totals))
