# SPDX-License-Identifier: GPL-2.0
"""make soak: a long run of everything a balloon goes through, in one boot
of a test kernel (its checkers on; KERNEL= picks another kernel). Not part
of make check.

  targets   random balloon targets from the monitor, some waited for to
            the end (MemTotal checked then), some overtaken by the next;
            the device moved between the kernel's driver and vfc along
            the way (vfc-move)
  loads     vfc's modules loaded, the balloon inflated, the modules
            unloaded while it is (every page back, to the guest and the
            device)
  unplugs   device_del with the balloon inflated, device_add back

SOAK=targets,loads,unplugs sets the counts (1000,100,20 by default); the
seed of the random targets is printed, SOAK_SEED= repeats a run. At the
end MemTotal is what it was before any driver was loaded, and no checker
spoke."""

import os
import random
import time

import pytest

from balloon import (DRIVERS, balloon_to, bus_device, check_memtotal,
                     wait_driver_ok)
from conftest import quote
from guest import (GIB, MIB, balloon_device, boot_guest, device_add,
                   device_del, prepare)

pytestmark = pytest.mark.soak


def counts():
    raw = os.environ.get('SOAK') or '1000,100,20'
    try:
        targets, loads, unplugs = (int(x) for x in raw.split(','))
    except ValueError:
        pytest.fail('SOAK is targets,loads,unplugs (e.g. 1000,100,20), not %r'
                    % raw, pytrace=False)
    return targets, loads, unplugs


def checkpoint(g, what):
    """No kernel report so far (a kmemleak scan included)."""
    g.kmemleak_scan()
    reports = g.new_reports()
    assert not reports, '%s: %s' % (what, quote(reports, g.dir))


def random_targets(g, rnd, n, mem0, log):
    """n targets between the guest's size less 768 MiB and its size, the
    device moved to the other driver every 50; returns (waited, moves)."""
    drv, waited, moves = 'vfc', 0, 0
    for i in range(n):
        if i and i % 50 == 0:
            drv = 'kernel' if drv == 'vfc' else 'vfc'
            g.sh('vfc-move %s' % drv)
            wait_driver_ok(g, DRIVERS[drv])
            moves += 1
        target = g.mem - rnd.randrange(0, 769) * MIB
        if rnd.random() < 0.5:
            balloon_to(g, target)
            check_memtotal(g, mem0, g.mem - target,
                           'target %d (%d MiB, %s)' % (i, target // MIB, drv))
            waited += 1
        else:
            g.qmp.cmd('balloon', value=target)
            time.sleep(rnd.random() / 2)
        if (i + 1) % 100 == 0:
            log('targets: %d/%d' % (i + 1, n))
    balloon_to(g, g.mem)
    check_memtotal(g, mem0, 0, 'after the targets')
    return waited, moves


def load_cycles(g, rnd, n, mem0, log):
    vfc = DRIVERS['vfc']
    for i in range(n):
        vfc.load(g)
        wait_driver_ok(g, vfc)
        down = rnd.randrange(1, 513) * MIB
        balloon_to(g, g.mem - down)
        check_memtotal(g, mem0, down, 'load %d, inflated' % i)
        vfc.unload(g)
        check_memtotal(g, mem0, 0, 'load %d, unloaded' % i)
        actual = g.qmp.cmd('query-balloon')['actual']
        assert actual == g.mem, ('load %d: unloaded with %d MiB still in the '
                                 'device\'s balloon' % (i, (g.mem - actual) // MIB))
        # The next load must not inflate at once.
        g.qmp.cmd('balloon', value=g.mem)
        if (i + 1) % 20 == 0:
            log('loads: %d/%d' % (i + 1, n))


def unplug_cycles(g, n, mem0, log):
    vfc = DRIVERS['vfc']
    spec = balloon_device(g.device_props)
    vfc.load(g)
    wait_driver_ok(g, vfc)
    for i in range(n):
        balloon_to(g, g.mem - GIB // 4)
        check_memtotal(g, mem0, GIB // 4, 'unplug %d, inflated' % i)
        device_del(g, 'balloon0')
        check_memtotal(g, mem0, 0, 'unplug %d, unplugged' % i)
        assert bus_device(g, vfc) is None, 'the balloon is still on the bus'
        device_add(g, spec)
        wait_driver_ok(g, vfc)
        if (i + 1) % 5 == 0:
            log('unplugs: %d/%d' % (i + 1, n))
    balloon_to(g, g.mem)
    vfc.unload(g)


def test_soak(request, capsys):
    opt = request.config.getoption
    kernel = (opt('kernel') or 'test').split(',')[0]
    targets, loads, unplugs = counts()
    seed = int(os.environ.get('SOAK_SEED') or time.time())
    rnd = random.Random(seed)
    prepare(kernel)

    def log(what):
        with capsys.disabled():
            print('soak: %s (%.0f s)' % (what, time.time() - t0), flush=True)

    t0 = time.time()
    log('%s, seed %d: %d targets, %d load cycles, %d unplug cycles' %
        (kernel, seed, targets, loads, unplugs))
    g = boot_guest('soak-' + kernel, kernel, opt('device_props') or '',
                   opt('qemu_args'), opt('kernel_args'))
    try:
        mem0 = g.meminfo()
        for d in ('kernel', 'vfc'):
            DRIVERS[d].load(g)
        wait_driver_ok(g, DRIVERS['vfc'])
        waited, moves = random_targets(g, rnd, targets, mem0, log)
        for d in ('vfc', 'kernel'):
            DRIVERS[d].unload(g)
        check_memtotal(g, mem0, 0, 'after the targets, unloaded')
        checkpoint(g, 'after the targets')
        load_cycles(g, rnd, loads, mem0, log)
        checkpoint(g, 'after the load cycles')
        unplug_cycles(g, unplugs, mem0, log)
        check_memtotal(g, mem0, 0, 'at the end')
    finally:
        reports = g.finish()
    assert not reports, quote(reports, g.dir)
    log('%d targets (%d waited for, MemTotal exact each time; %d moves '
        'between the kernel\'s driver and vfc), %d load/unload cycles, %d '
        'hot-unplug cycles inflated; MemTotal exact at the end, no kernel '
        'report' % (targets, waited, moves, loads, unplugs))
