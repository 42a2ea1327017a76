# SPDX-License-Identifier: GPL-2.0
"""End-to-end scenarios against the real QEMU virtio-balloon-pci device,
driven over QMP. Each runs with the kernel's own driver (the reference run
proves the scenario) and with vfc's (which proves vfc); see scenario() in
conftest.py for where each runs."""

import time

import pytest

from balloon import (DRIVERS, PAGE, VIRTIO_STATUS_DRIVER_OK,
                     balloon_settles, balloon_to, builtin, check_memtotal,
                     device_status, expect, inflate_deflate, loaded,
                     wait_driver_ok)
from conftest import scenario
from guest import GIB, MIB, GuestError

pytestmark = pytest.mark.e2e


def load(step, g, drv):
    step('load %s driver' % drv.name, drv.load, g)
    step('wait for DRIVER_OK', wait_driver_ok, g, drv)


@scenario(test_drivers=('kernel', 'vfc'), ring_rows=True)
def test_reference(guest, drv, step):
    """2 GiB -> 1 GiB -> 2 GiB: MemTotal falls by 1 GiB (to a page) and
    comes back exactly; the driver unloads."""
    load(step, guest, drv)
    inflate_deflate(guest, step, drv.name, GIB)
    step('unload %s driver' % drv.name, drv.unload, guest)


@scenario(kernels=('stock', 'test', 'stock-6.12'), fresh=('test',))
def test_small(guest, drv, step):
    """The same down to 0.5 GiB of guest memory and back. On the test
    kernel in a fresh boot: its debug options (KASAN's shadow alone is 256
    MiB) leave its guest only a few MiB above what 0.5 GiB needs, which the
    memory earlier scenarios leave in use would take. (Not on test-6.12:
    the checkers watch it on 6.1, and a boot of its own costs a minute.)"""
    load(step, guest, drv)
    inflate_deflate(guest, step, drv.name, guest.mem - GIB // 2)
    step('unload %s driver' % drv.name, drv.unload, guest)


@scenario(ring_rows='layouts')
def test_rmmod_inflated(guest, drv, step):
    """Unloading the driver with 1 GiB in the balloon gives all of it back,
    to the guest and (deflating) to the device. On both ring layouts; each
    ring feature's row is reference's."""
    load(step, guest, drv)
    mem0 = guest.meminfo()
    step('inflate by 1 GiB', balloon_to, guest, guest.mem - GIB)
    check_memtotal(guest, mem0, GIB, 'inflated')
    step('unload %s driver while inflated' % drv.name, drv.unload, guest)
    check_memtotal(guest, mem0, 0, 'after unload')
    actual = guest.qmp.cmd('query-balloon')['actual']
    assert actual == guest.mem, (
        'after unload the device still counts %d MiB in the balloon: the '
        'driver freed its pages without deflating' % ((guest.mem - actual) // MIB))


@scenario(drivers=('vfc',))
def test_overcommit(guest, drv, step):
    """A target beyond what the guest can spare (64 MiB of 2 GiB): the
    driver inflates what it can without waking the OOM killer, keeps
    actual truthful (MemTotal fell by exactly what actual says), and the
    balloon deflates fully afterwards. vfc only: the kernel's driver takes
    every page it can get, and the test guest (an initramfs, nothing to
    reclaim or kill) then panics on its next fork."""
    load(step, guest, drv)
    mem0 = guest.meminfo()
    target = 64 * MIB
    step('inflate towards %d MiB' % (target // MIB),
         balloon_settles, guest, target)
    # A balloon short of its target retries now and then, as memory frees
    # up: read actual and MemTotal between two moves.
    actual, mem = still(guest)
    print('  settled at actual %d MiB' % (actual // MIB))
    assert actual > target, ('a 2 GiB guest cannot spare all but 64 MiB; '
                             'actual %d MiB is not believable' % (actual // MIB))
    assert abs((mem0 - mem) - (guest.mem - actual)) <= PAGE, (
        'settled at actual %d kB: MemTotal %d kB, expected %d kB' %
        (actual // 1024, mem // 1024, (mem0 - guest.mem + actual) // 1024))
    dmesg = guest.sh('dmesg')
    for bad in ('Out of memory', 'oom-kill', 'invoked oom-killer'):
        assert bad not in dmesg, 'the OOM killer ran: "%s"' % bad
    step('deflate to %d MiB' % (guest.mem // MIB), balloon_to, guest, guest.mem)
    check_memtotal(guest, mem0, 0, 'deflated')
    step('unload %s driver' % drv.name, drv.unload, guest)


BALLOON_QOM = '/machine/peripheral/balloon0'


def guest_stats(g, newer_than=0, timeout=30):
    """QEMU's copy of the guest's last memory statistics report (qom-get
    guest-stats: {'stats': {'stat-total-memory': bytes, ...},
    'last-update': seconds}), once one newer than newer_than came."""
    deadline = time.time() + timeout
    while True:
        st = g.qmp.cmd('qom-get', path=BALLOON_QOM, property='guest-stats')
        if st['last-update'] > newer_than:
            return st
        if time.time() > deadline:
            raise GuestError('no memory statistics report newer than %d in %d s'
                             % (newer_than, timeout))
        time.sleep(0.5)


def check_stats(g, st, what):
    """A report agrees with /proc/meminfo: MemTotal exactly (the balloon
    held still), MemFree and MemAvailable within 64 MiB (they move)."""
    stats = st['stats']
    expect(stats['stat-total-memory'] == g.meminfo(), '%s: stat-total-memory '
           '%d, MemTotal %d' % (what, stats['stat-total-memory'], g.meminfo()))
    for key, field in (('stat-free-memory', 'MemFree'),
                       ('stat-available-memory', 'MemAvailable')):
        expect(abs(stats[key] - g.meminfo(field)) <= 64 * MIB,
               '%s: %s %d, %s %d' % (what, key, stats[key], field,
                                     g.meminfo(field)))


@scenario(ring_rows='layouts')
def test_stats(guest, drv, step):
    """VIRTIO_BALLOON_F_STATS_VQ ("Memory Statistics"): QEMU, polling
    every second, shows the guest's statistics (what libvirt's dommemstat
    reads): a report at probe, in agreement with /proc/meminfo, and after
    inflating by 512 MiB a fresh one with MemTotal 512 MiB lower."""
    guest.qmp.cmd('qom-set', path=BALLOON_QOM,
                  property='guest-stats-polling-interval', value=1)
    try:
        # QEMU keeps the last report across drivers: only a newer one counts.
        t0 = int(time.time()) - 1
        load(step, guest, drv)
        st = step('first report', guest_stats, guest, t0)
        check_stats(guest, st, 'at probe')
        mem0 = guest.meminfo()
        step('inflate by 512 MiB', balloon_to, guest, guest.mem - GIB // 2)
        check_memtotal(guest, mem0, GIB // 2, 'inflated')
        st = step('a report after the inflate', guest_stats, guest,
                  int(time.time()) + 1)
        check_stats(guest, st, 'inflated')
        step('deflate', balloon_to, guest, guest.mem)
        step('unload %s driver' % drv.name, drv.unload, guest)
    finally:
        guest.qmp.cmd('qom-set', path=BALLOON_QOM,
                      property='guest-stats-polling-interval', value=0)


def still(g, tries=20):
    """(actual, MemTotal) read while actual held still across the read."""
    for _ in range(tries):
        actual = g.qmp.cmd('query-balloon')['actual']
        mem = g.meminfo()
        if g.qmp.cmd('query-balloon')['actual'] == actual:
            return actual, mem
    raise GuestError('the balloon never held still for a MemTotal read')


@scenario(iommu=True, rng='', test_drivers=('kernel', 'vfc'))
def test_iommu_physical(guest, drv, step):
    """A virtual IOMMU in use in the guest (intel-iommu, intel_iommu=on)
    and a device without iommu_platform, QEMU's default: VIRTIO_F_ACCESS_
    PLATFORM is not offered, so the device reads and writes guest-physical
    addresses ("Reserved Feature Bits"). A driver that hands it IOVAs from
    the DMA API never gets a request back; one that follows the rule
    inflates and deflates exactly. In the boot of test_rng_iommu_physical,
    which shows the same for the rng."""
    assert 'DMAR: IOMMU enabled' in guest.sh('dmesg'), \
        'the guest kernel did not enable the IOMMU'
    load(step, guest, drv)
    inflate_deflate(guest, step, drv.name, GIB // 2)
    step('unload %s driver' % drv.name, drv.unload, guest)


@scenario(props='iommu_platform=on', iommu=True, rng='')
def test_iommu_refused(guest, drv, step):
    """iommu_platform=on: the device insists on VIRTIO_F_ACCESS_PLATFORM,
    which a balloon must not accept (it passes guest-physical page numbers
    the IOMMU would not translate). The device never reaches DRIVER_OK, the
    log says why, and the driver unloads cleanly."""
    step('load %s driver' % drv.name, drv.load, guest)
    st = device_status(guest, drv)
    assert st is not None and not st & VIRTIO_STATUS_DRIVER_OK, \
        'device status %s: expected a refused device' % st
    assert drv.refusal in guest.sh('dmesg'), \
        'no "%s" in the kernel log saying why' % drv.refusal
    step('unload %s driver' % drv.name, drv.unload, guest)


@scenario(drivers=())
def test_move(guest, step):
    """One boot, both drivers loaded: the balloon moves from the kernel's
    virtio-pci to vfc_pci and back, inflating with each."""
    kern, vfc = DRIVERS['kernel'], DRIVERS['vfc']
    step('load kernel driver', kern.load, guest)
    step('load vfc driver', vfc.load, guest)
    for who in ('kernel', 'vfc', 'kernel'):
        step('vfc-move %s' % who, guest.sh, 'vfc-move %s' % who)
        step('wait for DRIVER_OK', wait_driver_ok, guest, DRIVERS[who])
        inflate_deflate(guest, step, who, GIB // 2)
    step('unload both drivers', lambda: (vfc.unload(guest), kern.unload(guest)))


@scenario(drivers=())
def test_coexist(guest, step):
    """vfc.ko beside the kernel's own virtio core (virtio.ko and
    virtio_ring.ko, or built in as in Debian's 6.12): no symbol, bus or
    module name collides, so all load and both buses register."""
    kmods = [m for m in ('virtio', 'virtio_ring') if not builtin(guest, m)]
    step('load the kernel\'s virtio core', guest.sh,
         'true' + ''.join(' && modprobe %s' % m for m in kmods))
    step('load vfc.ko', guest.sh, 'modprobe vfc')
    mods = loaded(guest)
    for m in kmods + ['vfc']:
        assert m in mods, '%s not loaded: %s' % (m, ' '.join(mods))
    assert guest.run('test -d /sys/bus/virtio && test -d /sys/bus/vfc',
                     check=False)[0] == 0, 'both buses must be registered'
    step('unload them', guest.sh,
         'rmmod vfc' + ''.join(' && rmmod %s' % m for m in kmods))
    assert not set(kmods + ['vfc']) & set(loaded(guest)), 'modules left loaded'


# The test bed's own self-test: testbed/fault/vfc_runner_fault.ko plants a
# kernel report, and the runner must find it. Each test takes the reports
# itself and fails when the planted one is missing. A planted fault leaves
# the kernel tainted, so they run last in their boot: the rng boot, which
# the rng scenarios (test_rng.py) share.

@scenario(kernels=('test', 'test-6.12'), drivers=(), rng='', last=True)
def test_runner_catches_warn(guest):
    """A module that WARNs on load: the report check must see it."""
    guest.sh('modprobe vfc_runner_fault fault=warn')
    guest.sh('rmmod vfc_runner_fault')
    reports = guest.new_reports()
    assert any('vfc_runner_fault: planted warning' in r or 'WARNING:' in r
               for r in reports), 'planted WARN not caught: %s' % reports


@scenario(kernels=('test', 'test-6.12'), drivers=(), rng='', last=True)
def test_runner_catches_leak(guest, pool):
    """A kmalloc nobody frees: the kmemleak scans that end every boot must
    report it. So this test ends its boot itself, the last of it."""
    guest.sh('modprobe vfc_runner_fault fault=leak')
    guest.sh('rmmod vfc_runner_fault')
    reports, err = pool.end()
    assert err is None, 'guest did not answer at the end of its boot: %s' % err
    assert any('unreferenced object' in r for r in reports), \
        'planted leak not caught: %s' % reports
