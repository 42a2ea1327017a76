# SPDX-License-Identifier: GPL-2.0
"""The balloon drivers and the steps the end-to-end scenarios are made of.
A scenario is written once against a Driver and runs with the kernel's own
virtio (the reference run, which proves the scenario) and with vfc (which
proves vfc)."""

import time

from guest import MIB, GuestError


class Driver:
    """The guest modules that drive the balloon device."""

    def __init__(self, name, load, unload, bus, refusal, rng, rng_name,
                 rng_queue, intx_suffix):
        self.name = name
        self.load_mods = load
        self.unload_mods = [rng] + unload
        self.bus = bus                  # where its devices' status shows
        self.refusal = refusal          # what it logs refusing ACCESS_PLATFORM
        self.rng = rng                  # its entropy device driver
        self.rng_name = rng_name        # the hwrng's name, a prefix
        self.rng_queue = rng_queue      # its name for the rng's queue
        self.intx_suffix = intx_suffix  # its INTx handler's name after the device's

    def load(self, g):
        for mod in self.load_mods:
            modprobe(g, mod)

    def load_rng(self, g):
        modprobe(g, self.load_mods[0])
        modprobe(g, self.rng)

    def unload(self, g):
        for mod in self.unload_mods:
            g.sh('if grep -q "^%s " /proc/modules; then rmmod %s; fi' %
                 (mod, mod))
        left = [m for m in self.unload_mods if m in loaded(g)]
        if left:
            raise GuestError('modules still loaded: %s' % ' '.join(left))


DRIVERS = {
    # The guest kernel's own virtio_pci + virtio_balloon.
    'kernel': Driver('kernel', ['virtio_pci', 'virtio_balloon'],
                     ['virtio_balloon', 'virtio_pci', 'virtio_pci_modern_dev',
                      'virtio_pci_legacy_dev', 'virtio', 'virtio_ring'],
                     'virtio', 'device refuses features',
                     'virtio_rng', 'virtio_rng.', 'input', ''),
    # vfc's transport and balloon driver (vfc.ko comes in as a dependency).
    'vfc': Driver('vfc', ['vfc_pci', 'vfc_balloon'],
                  ['vfc_balloon', 'vfc_pci', 'vfc'],
                  'vfc', 'VIRTIO_F_ACCESS_PLATFORM',
                  'vfc_rng', 'vfc_rng.', 'requestq', '-intx'),
}


class Steps:
    """Prints each timed step of a scenario."""

    def __init__(self, log):
        self.log = log

    def __call__(self, what, fn, *args):
        t = time.time()
        ret = fn(*args)
        self.log('  %-44s %6.2f s' % (what, time.time() - t))
        return ret


VIRTIO_STATUS_DRIVER_OK = 0x4
VIRTIO_STATUS_FAILED = 0x80


VIRTIO_ID_RNG = 4
VIRTIO_ID_BALLOON = 5


def device_attr(g, drv, attr, dev_id=VIRTIO_ID_BALLOON):
    """A sysfs attribute of the device with that virtio device id on the
    driver's bus, or None if there is none; one guest command."""
    out = g.sh('cd /sys/bus/%s/devices 2>/dev/null && for d in *; do '
               'if [ "$(cat $d/device 2>/dev/null)" = 0x%04x ]; then '
               'cat $d/%s; break; fi; '
               'done; true' % (drv.bus, dev_id, attr)).strip()
    return out or None


def bus_device(g, drv, dev_id=VIRTIO_ID_BALLOON):
    """The name of the device with that virtio device id on the driver's
    bus, or None."""
    out = g.sh('cd /sys/bus/%s/devices 2>/dev/null && grep -l "^0x%04x$" '
               '*/device 2>/dev/null || true' % (drv.bus, dev_id)).split()
    return out[0].split('/')[0] if out else None


def device_status(g, drv, dev_id=VIRTIO_ID_BALLOON):
    """The status byte of the balloon (or dev_id) device on the driver's
    bus, or None if the bus has no such device."""
    st = device_attr(g, drv, 'status', dev_id)
    return int(st, 16) if st else None


# virtio-balloon-pci properties that switch a ring feature, and its bit.
RING_FEATURE_PROPS = {'packed': 34, 'event_idx': 29, 'indirect_desc': 28}


def check_ring_features(g, drv):
    """A run asked for packed=on, event_idx=off, ...: the negotiated
    features (sysfs, bit 0 first) must say so, or the run proves nothing."""
    bits = device_attr(g, drv, 'features')
    for prop in filter(None, g.device_props.split(',')):
        key, _, val = prop.partition('=')
        if key in RING_FEATURE_PROPS and val in ('on', 'off'):
            want = '1' if val == 'on' else '0'
            got = bits[RING_FEATURE_PROPS[key]]
            expect(got == want, '%s asked, but feature bit %d negotiated is %s'
                   % (prop, RING_FEATURE_PROPS[key], got))


def wait_driver_ok(g, drv, timeout=60, dev_id=VIRTIO_ID_BALLOON):
    """Wait until the driver has set DRIVER_OK. (QEMU's query-balloon
    answers as soon as the device exists, so it cannot tell.)"""
    deadline = time.time() + timeout
    while True:
        st = device_status(g, drv, dev_id)
        if st is not None and st & VIRTIO_STATUS_FAILED:
            raise GuestError('%s driver failed the device (status 0x%02x)' %
                             (drv.name, st))
        if st is not None and st & VIRTIO_STATUS_DRIVER_OK:
            if dev_id == VIRTIO_ID_BALLOON:
                check_ring_features(g, drv)
            return
        if time.time() > deadline:
            raise GuestError('%s driver did not set DRIVER_OK (status %s)' %
                             (drv.name, st))
        time.sleep(0.2)


def balloon_to(g, target, timeout=600, poll=None, stall=60):
    """Ask for a guest size of target bytes and wait until the guest's
    driver reports it reached it (query-balloon's actual == target): woken
    by QEMU's BALLOON_CHANGE events, each confirmed with a query-balloon.
    QEMU sends at most one such event a second, so the end of a step is
    seen up to a second late; the benchmark, which times steps of half a
    second, polls every `poll` seconds instead. A balloon that has not
    moved for `stall` seconds is stuck."""
    g.qmp.drop_events('BALLOON_CHANGE')
    g.qmp.cmd('balloon', value=target)
    deadline = time.time() + timeout
    moved, last = time.time(), None
    while True:
        actual = g.qmp.cmd('query-balloon')['actual']
        if actual == target:
            return
        now = time.time()
        if actual != last:
            moved, last = now, actual
        left = min(deadline, moved + stall) - now
        if left <= 0:
            raise GuestError('balloon stuck at %d MiB, target %d MiB '
                             '(no move for %d s)' %
                             (actual // MIB, target // MIB, now - moved))
        if poll:
            time.sleep(poll)
        else:
            g.qmp.wait_event('BALLOON_CHANGE', left)


def expect(cond, what):
    """A scenario's check: fails the test with what was expected and seen."""
    assert cond, what


PAGE = 4096


def check_memtotal(g, before, expect_drop, what):
    now = g.meminfo()
    expect(abs((before - now) - expect_drop) <= PAGE,
           '%s: MemTotal %d kB, expected %d kB' %
           (what, now // 1024, (before - expect_drop) // 1024))


def inflate_deflate(g, step, drv_name, down):
    """Inflate by `down` bytes and back, MemTotal checked at each end."""
    size = g.mem
    mem0 = g.meminfo()
    step('%s: inflate %d -> %d MiB' % (drv_name, size // MIB, (size - down) // MIB),
         balloon_to, g, size - down)
    check_memtotal(g, mem0, down, 'inflated')
    step('%s: deflate %d -> %d MiB' % (drv_name, (size - down) // MIB, size // MIB),
         balloon_to, g, size)
    check_memtotal(g, mem0, 0, 'deflated')


def balloon_settles(g, target, quiet_secs=3, timeout=600):
    """Ask for target bytes and wait until actual reaches it or stops
    moving: no BALLOON_CHANGE event for quiet_secs (QEMU sends one a second
    while actual moves). Returns actual."""
    g.qmp.drop_events('BALLOON_CHANGE')
    g.qmp.cmd('balloon', value=target)
    deadline = time.time() + timeout
    while time.time() < deadline:
        actual = g.qmp.cmd('query-balloon')['actual']
        if actual == target:
            return actual
        if not g.qmp.wait_event('BALLOON_CHANGE', quiet_secs):
            return g.qmp.cmd('query-balloon')['actual']
    raise GuestError('balloon never settled; last actual %d MiB' % (actual // MIB))


def builtin(g, mod):
    """Whether the guest kernel has module mod built in (Debian's 6.12:
    virtio, virtio_pci)."""
    return g.run('tr - _ < /lib/modules/$(uname -r)/modules.builtin | '
                 'grep -q "/%s.ko$"' % mod, check=False)[0] == 0


def modprobe(g, mod):
    """Load mod unless the kernel has it built in."""
    if not builtin(g, mod):
        g.sh('modprobe %s' % mod)


def loaded(g):
    return [ln.split()[0] for ln in g.sh('cat /proc/modules').splitlines()]


