# SPDX-License-Identifier: GPL-2.0
"""End-to-end scenarios of the transport with a second device class, the
entropy device (QEMU's virtio-rng-pci, which has MSI-X in QEMU 7.2 where
the balloon has not): each interrupt configuration, a virtual IOMMU with
and without VIRTIO_F_ACCESS_PLATFORM, and hot-unplug with a reader
waiting. As everywhere, the kernel's own virtio-rng runs each scenario
too. The scenarios share two boots, one with an IOMMU: one that needs
another rng swaps the boot's (QEMU's defaults, vectors=2) for it with
device_del and device_add, and puts the boot's back at the end."""

import time

import pytest

from balloon import (VIRTIO_ID_RNG, balloon_to, bus_device, check_memtotal,
                     device_attr, inflate_deflate, wait_driver_ok)
from conftest import scenario
from guest import (GIB, MIB, GuestError, balloon_device, device_add,
                   device_del, rng_device)
from test_e2e import load

pytestmark = pytest.mark.e2e

# "Reserved Feature Bits"
VIRTIO_F_ACCESS_PLATFORM = 33

# The transport's scenarios run the kernel's driver on the test kernel too:
# its checkers (DMA-API debug with the IOMMU, lockdep around hot-unplug)
# watch the reference as they watch vfc.
BOTH = ('kernel', 'vfc')


def load_rng(step, g, drv):
    step('load %s rng driver' % drv.name, drv.load_rng, g)
    step('wait for DRIVER_OK', wait_driver_ok, g, drv, 60, VIRTIO_ID_RNG)
    dev = bus_device(g, drv, VIRTIO_ID_RNG)
    current = g.sh('cat /sys/class/misc/hw_random/rng_current').strip()
    assert current.startswith(drv.rng_name), (
        'the current hwrng is %r, not %s\'s' % (current, drv.rng))
    return dev


def read_rng(g, nbytes=4096, timeout=60):
    """Read nbytes from /dev/hwrng within timeout seconds; the number of
    distinct byte values seen (random data shows nearly all 256)."""
    out = g.sh('timeout %d head -c %d /dev/hwrng > /tmp/rng.bin; echo rc=$?; '
               'wc -c < /tmp/rng.bin; od -An -v -tx1 /tmp/rng.bin | '
               'tr -s " " "\\n" | sort -u | grep -c . || true' %
               (timeout, nbytes), timeout + 30).split()
    rc, got, distinct = out[0], int(out[1]), int(out[2])
    assert rc == 'rc=0' and got == nbytes, (
        'read %d of %d bytes from /dev/hwrng (%s)' % (got, nbytes, rc))
    return distinct


def interrupts(g, dev):
    """{handler name: (count over all CPUs, its /proc/interrupts line)} for
    the handlers of device dev (named dev or dev-<what>)."""
    text = g.sh('cat /proc/interrupts').splitlines()
    ncpu = len(text[0].split())
    found = {}
    for ln in text[1:]:
        parts = ln.split()
        if parts and (parts[-1] == dev or parts[-1].startswith(dev + '-')):
            found[parts[-1]] = (sum(int(x) for x in parts[1:1 + ncpu]), ln)
    return found


def check_irqs(step, g, drv, msix):
    """Reading works, and the device's interrupts say how: with MSI-X one
    vector for config changes and one for the queue, which counts the
    reads; without, the INTx line, which does."""
    dev = load_rng(step, g, drv)
    before = interrupts(g, dev)
    distinct = step('read 4 KiB from /dev/hwrng', read_rng, g)
    assert distinct > 200, 'the 4 KiB read hold only %d byte values' % distinct
    after = interrupts(g, dev)
    if msix:
        want, kind = dev + '-' + drv.rng_queue, 'MSI'
        assert dev + '-config' in after, (
            'no config vector for %s: %s' % (dev, sorted(after)))
    else:
        want, kind = dev + drv.intx_suffix, 'IO-APIC'
    assert want in after, ('no interrupt handler %s: %s' %
                           (want, sorted(after) or 'none'))
    count, line = after[want]
    assert kind in line, 'handler %s is not on %s: %s' % (want, kind, line)
    assert count > before.get(want, (0,))[0], (
        'handler %s took no interrupt while reading: %s' % (want, line))
    others = set(after) - {want, dev + '-config'}
    assert not others, 'unexpected handlers of %s: %s' % (dev, sorted(others))
    step('unload %s driver' % drv.name, drv.unload, g)


@scenario(rng='', test_drivers=BOTH)
def test_rng_msix(guest, drv, step):
    """vectors=2 (QEMU's default): MSI-X, a vector for config changes and
    one for the queue."""
    check_irqs(step, guest, drv, True)


@scenario(rng='', test_drivers=BOTH)
def test_rng_one_vector(guest, drv, step):
    """vectors=1: too few for config changes and the queue apart or
    shared; both drivers fall back to INTx."""
    replug(step, guest, 'vectors=1')
    check_irqs(step, guest, drv, False)
    replug(step, guest, '')


@scenario(rng='', test_drivers=BOTH)
def test_rng_intx(guest, drv, step):
    """vectors=0: no MSI-X capability at all; INTx."""
    replug(step, guest, 'vectors=0')
    check_irqs(step, guest, drv, False)
    replug(step, guest, '')


def check_access_platform(step, g, drv, negotiated):
    assert 'DMAR: IOMMU enabled' in g.sh('dmesg'), \
        'the guest kernel did not enable the IOMMU'
    load_rng(step, g, drv)
    bits = device_attr(g, drv, 'features', VIRTIO_ID_RNG)
    assert bits[VIRTIO_F_ACCESS_PLATFORM] == ('1' if negotiated else '0'), (
        'ACCESS_PLATFORM negotiated: %s' % bits[VIRTIO_F_ACCESS_PLATFORM])
    distinct = step('read 4 KiB from /dev/hwrng', read_rng, g, 4096, 20)
    assert distinct > 200, 'the 4 KiB read hold only %d byte values' % distinct
    step('unload %s driver' % drv.name, drv.unload, g)


@scenario(iommu=True, rng='', test_drivers=BOTH)
def test_rng_iommu_physical(guest, drv, step):
    """A virtual IOMMU in use and a device without iommu_platform: no
    ACCESS_PLATFORM, so the device reads and writes guest-physical
    addresses ("Reserved Feature Bits"), and a driver that hands it IOVAs
    reads nothing."""
    check_access_platform(step, guest, drv, False)


@scenario(iommu=True, rng='', test_drivers=BOTH)
def test_rng_iommu_platform(guest, drv, step):
    """iommu_platform=on: ACCESS_PLATFORM negotiated, the device goes
    through the IOMMU, the driver hands it IOVAs from the DMA API."""
    replug(step, guest, 'iommu_platform=on')
    check_access_platform(step, guest, drv, True)
    replug(step, guest, '')


def replug(step, g, props):
    """Swap the guest's rng, with no driver bound, for one with props."""
    step('device_del rng0', device_del, g, 'rng0')
    step('device_add rng0 %s' % (props or "(QEMU's defaults)"), device_add,
         g, rng_device(props))


@scenario(rng='', test_drivers=BOTH)
def test_hotunplug_balloon(guest, drv, step, cycles=3):
    """device_del of the balloon with 256 MiB in it, three times: remove
    gives every page back to the guest (and tells the device) before the
    device goes; device_add plugs it back, the driver binds it again; at
    the end it inflates and deflates as ever."""
    spec = balloon_device(guest.device_props)
    load(step, guest, drv)
    mem0 = guest.meminfo()
    for i in range(cycles):
        step('inflate by 256 MiB', balloon_to, guest, guest.mem - GIB // 4)
        check_memtotal(guest, mem0, GIB // 4, 'inflated')
        took = step('device_del balloon0', device_del, guest, 'balloon0')
        check_memtotal(guest, mem0, 0, 'after unplug %d' % (i + 1))
        assert bus_device(guest, drv) is None, 'the balloon is still on the bus'
        assert took < 30, 'unplug took %.0f s' % took
        step('device_add balloon0', device_add, guest, spec)
        step('wait for DRIVER_OK', wait_driver_ok, guest, drv)
    inflate_deflate(guest, step, drv.name, GIB // 2)
    assert guest.qmp.cmd('query-balloon')['actual'] == guest.mem, \
        'the new balloon is not at %d MiB' % (guest.mem // MIB)
    step('unload %s driver' % drv.name, drv.unload, guest)


RATE_LIMITED = 'max-bytes=64,period=600000'


def reader_state(g):
    """None while the background reader runs, else (exit code, stderr)."""
    rc = g.sh('cat /tmp/rd.rc 2>/dev/null || echo none').strip()
    if rc == 'none':
        return None
    return rc, g.sh('cat /tmp/rd.err').strip()


@scenario(rng='', test_drivers=BOTH)
def test_hotunplug_rng_reader(guest, drv, step, cycles=3):
    """A reader blocked on /dev/hwrng (the device gives 64 bytes per 10
    minutes) when the device is unplugged, three times: remove wakes it
    with ENODEV and completes promptly, and the device plugged back binds
    again. The last time it comes back at QEMU's default rate, as the
    boot's, and serves reads."""
    replug(step, guest, RATE_LIMITED)
    load_rng(step, guest, drv)
    for i in range(cycles):
        guest.sh('rm -f /tmp/rd.rc; (dd if=/dev/hwrng of=/tmp/rd.bin bs=64 '
                 'count=64 2> /tmp/rd.err; echo $? > /tmp/rd.rc) '
                 '> /dev/null 2>&1 &')
        time.sleep(3)
        assert reader_state(guest) is None, \
            'the reader did not block: %s' % (reader_state(guest),)
        took = step('device_del rng0', device_del, guest, 'rng0')
        assert took < 30, 'unplug took %.0f s' % took
        deadline = time.time() + 20
        while reader_state(guest) is None:
            assert time.time() < deadline, 'the reader still waits after unplug'
            time.sleep(0.5)
        rc, err = reader_state(guest)
        assert rc != '0', 'the reader read 4 KiB from a device that gave 64 bytes'
        assert 'No such device' in err, (
            'the reader ended with "%s", not ENODEV from the removal' % err)
        spec = rng_device(RATE_LIMITED if i < cycles - 1 else '')
        step('device_add rng0', device_add, guest, spec)
        step('wait for DRIVER_OK', wait_driver_ok, guest, drv, 60, VIRTIO_ID_RNG)
    distinct = step('read 4 KiB from /dev/hwrng', read_rng, guest)
    assert distinct > 200, 'the 4 KiB read hold only %d byte values' % distinct
    step('unload %s driver' % drv.name, drv.unload, guest)
