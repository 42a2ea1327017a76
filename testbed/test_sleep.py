# SPDX-License-Identifier: GPL-2.0
"""System sleep: the guest suspends to RAM (ACPI S3, which QEMU's q35
offers) with both devices in use, and QEMU wakes it (QMP system_wakeup),
resetting the machine's devices as real hardware does. The drivers'
freeze and restore, and the transport's, bring them back. As everywhere,
the kernel's own drivers run the scenario too (on stock 6.1).

QEMU 7.2 suspends a guest only once per boot: the second `echo mem`
comes back at once, without QEMU's SUSPEND event, whatever the drivers.
So each run starts a guest of its own (fresh), and runs after every
other scenario of its boot configuration (last).

vfc on both test kernels, under the checkers; the kernel's drivers, the
reference, on stock 6.1 (each run is a boot of its own). The test kernels have the tick
of a distribution kernel (NO_HZ_IDLE, high-resolution timers): with
allnoconfig's periodic tick the boot CPU, right after
arch_suspend_enable_irqs(), stayed in timer softirqs for up to minutes
(soft lockups) in about one resume in three under TCG."""

import time

import pytest

from balloon import balloon_to, check_memtotal, expect
from conftest import scenario
from guest import GIB, GuestError
from test_e2e import load
from test_rng import load_rng, read_rng

pytestmark = pytest.mark.e2e


def suspend_resume(g, timeout=120):
    """Suspend the guest to RAM and wake it up once QEMU sees it asleep;
    return when its agent answers again (the serial ports are reset on
    the way: Guest.resync())."""
    modes = g.sh('cat /sys/power/mem_sleep')
    expect('deep' in modes, 'the guest cannot suspend to RAM (S3): '
           '/sys/power/mem_sleep is "%s"' % modes.strip())
    g.sh('echo deep > /sys/power/mem_sleep; '
         '(sleep 1; echo mem > /sys/power/state) > /dev/null 2>&1 &')
    deadline = time.time() + timeout
    while g.qmp.cmd('query-status')['status'] != 'suspended':
        if time.time() > deadline:
            raise GuestError('the guest did not suspend in %d s' % timeout)
        time.sleep(0.5)
    g.qmp.cmd('system_wakeup')
    while g.qmp.cmd('query-status')['status'] != 'running':
        if time.time() > deadline:
            raise GuestError('the guest did not wake in %d s' % timeout)
        time.sleep(0.5)
    g.resync(max(1, deadline - time.time()))


SLEEP_KERNELS = ('stock', 'test', 'test-6.12')


@scenario(kernels=SLEEP_KERNELS, drivers=('kernel',), rng='', last=True,
          fresh=SLEEP_KERNELS)
def test_suspend_resume(guest, drv, step):
    """Suspend to RAM with the balloon inflated by 256 MiB and a reader on
    /dev/hwrng, and wake up: the balloon holds its 256 MiB afterwards
    (actual and MemTotal as before; vfc keeps the pages through the sleep,
    the kernel's driver gives them back and inflates again), follows a
    new target and deflates fully; /dev/hwrng reads again."""
    load(step, guest, drv)
    load_rng(step, guest, drv)
    mem0 = guest.meminfo()
    step('inflate by 256 MiB', balloon_to, guest, guest.mem - GIB // 4)
    check_memtotal(guest, mem0, GIB // 4, 'inflated')
    guest.sh('(dd if=/dev/hwrng of=/dev/null bs=64 count=1000000) '
             '> /dev/null 2>&1 &')
    step('suspend to RAM, wake up', suspend_resume, guest)
    guest.sh('pkill -x dd || true')
    if drv.name == 'vfc':
        dmesg = guest.sh('dmesg | grep -E "(frozen|restored) with" || true')
        print('  ' + '\n  '.join(dmesg.splitlines()))
        expect('frozen with 65536 pages' in dmesg and
               'restored with 65536 pages' in dmesg,
               'vfc_balloon did not keep its 256 MiB through the sleep: %s'
               % (dmesg.strip() or 'nothing logged'))
    step('balloon back at 256 MiB', balloon_to, guest, guest.mem - GIB // 4)
    check_memtotal(guest, mem0, GIB // 4, 'after the sleep')
    step('inflate by 512 MiB', balloon_to, guest, guest.mem - GIB // 2)
    check_memtotal(guest, mem0, GIB // 2, 'a new target after the sleep')
    step('deflate', balloon_to, guest, guest.mem)
    check_memtotal(guest, mem0, 0, 'deflated after the sleep')
    distinct = step('read 4 KiB from /dev/hwrng', read_rng, guest)
    expect(distinct > 200, 'the 4 KiB read hold only %d byte values'
           % distinct)
    step('unload %s drivers' % drv.name, drv.unload, guest)
