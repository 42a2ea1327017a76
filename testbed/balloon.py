# SPDX-License-Identifier: GPL-2.0
"""End-to-end scenarios. Each is written once against a Driver and runs with
the kernel's own virtio (the reference run, which proves the scenario) and
with vfc (which proves vfc)."""

import os
import time

from guest import BUILD, GIB, MIB, GuestError


class Driver:
    """The guest modules that drive the balloon device."""

    def __init__(self, name, load, unload, bus, refusal):
        self.name = name
        self.load_mods = load
        self.unload_mods = unload
        self.bus = bus                  # where its devices' status shows
        self.refusal = refusal          # what it logs refusing ACCESS_PLATFORM

    def available(self, kernel):
        for mod in self.load_mods:
            if self.name == 'vfc' and not os.path.exists(
                    os.path.join(BUILD, kernel, 'src', mod + '.ko')):
                return False
        return True

    def load(self, g):
        for mod in self.load_mods:
            g.sh('modprobe %s' % mod)

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
                     'virtio', 'device refuses features'),
    # vfc's transport and balloon driver (vfc.ko comes in as a dependency).
    'vfc': Driver('vfc', ['vfc_pci', 'vfc_balloon'],
                  ['vfc_balloon', 'vfc_pci', 'vfc'],
                  'vfc', 'VIRTIO_F_ACCESS_PLATFORM'),
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


def device_status(g, drv):
    """The status byte of the balloon device on the driver's bus, or None
    if the bus has no device."""
    out = g.sh('cat /sys/bus/%s/devices/*/status 2>/dev/null || true' %
               drv.bus).split()
    return int(out[0], 16) if out else None


# virtio-balloon-pci properties that switch a ring feature, and its bit.
RING_FEATURE_PROPS = {'packed': 34, 'event_idx': 29, 'indirect_desc': 28}


def check_ring_features(g, drv):
    """A run asked for packed=on, event_idx=off, ...: the negotiated
    features (sysfs, bit 0 first) must say so, or the run proves nothing."""
    bits = g.sh('cat /sys/bus/%s/devices/*/features' % drv.bus).split()[0]
    for prop in filter(None, g.device_props.split(',')):
        key, _, val = prop.partition('=')
        if key in RING_FEATURE_PROPS and val in ('on', 'off'):
            want = '1' if val == 'on' else '0'
            got = bits[RING_FEATURE_PROPS[key]]
            expect(got == want, '%s asked, but feature bit %d negotiated is %s'
                   % (prop, RING_FEATURE_PROPS[key], got))


def wait_driver_ok(g, drv, timeout=60):
    """Wait until the driver has set DRIVER_OK. (QEMU's query-balloon
    answers as soon as the device exists, so it cannot tell.)"""
    deadline = time.time() + timeout
    while True:
        st = device_status(g, drv)
        if st is not None and st & VIRTIO_STATUS_FAILED:
            raise GuestError('%s driver failed the device (status 0x%02x)' %
                             (drv.name, st))
        if st is not None and st & VIRTIO_STATUS_DRIVER_OK:
            check_ring_features(g, drv)
            return
        if time.time() > deadline:
            raise GuestError('%s driver did not set DRIVER_OK (status %s)' %
                             (drv.name, st))
        time.sleep(0.2)


def balloon_to(g, target, timeout=600):
    """Ask for a guest size of target bytes and wait until the guest's
    driver reports it reached it (query-balloon's actual == target)."""
    g.qmp.cmd('balloon', value=target)
    deadline = time.time() + timeout
    while True:
        actual = g.qmp.cmd('query-balloon')['actual']
        if actual == target:
            return
        if time.time() > deadline:
            raise GuestError('balloon stuck at %d MiB, target %d MiB' %
                             (actual // MIB, target // MIB))
        # Fine-grained: make bench times steps of half a second.
        time.sleep(0.01)


def expect(cond, what):
    if not cond:
        raise GuestError(what)


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


def reference(g, drv, log):
    """The reference scenario: 2 GiB -> 1 GiB -> 2 GiB, MemTotal checked."""
    step = Steps(log)
    step('load %s driver' % drv.name, drv.load, g)
    step('wait for DRIVER_OK', wait_driver_ok, g, drv)
    inflate_deflate(g, step, drv.name, GIB)
    step('unload %s driver' % drv.name, drv.unload, g)


def small(g, drv, log):
    """Inflate to 0.5 GiB of guest memory and back."""
    step = Steps(log)
    step('load %s driver' % drv.name, drv.load, g)
    step('wait for DRIVER_OK', wait_driver_ok, g, drv)
    inflate_deflate(g, step, drv.name, g.mem - GIB // 2)
    step('unload %s driver' % drv.name, drv.unload, g)


def rmmod_inflated(g, drv, log):
    """Unloading the driver while 1 GiB is in the balloon gives it all back."""
    step = Steps(log)
    step('load %s driver' % drv.name, drv.load, g)
    step('wait for DRIVER_OK', wait_driver_ok, g, drv)
    mem0 = g.meminfo()
    step('inflate by 1 GiB', balloon_to, g, g.mem - GIB)
    check_memtotal(g, mem0, GIB, 'inflated')
    step('unload %s driver while inflated' % drv.name, drv.unload, g)
    check_memtotal(g, mem0, 0, 'after unload')


def balloon_settles(g, target, quiet_secs=3, timeout=600):
    """Ask for target bytes and wait until actual stops moving for
    quiet_secs (or reaches the target). Returns actual."""
    g.qmp.cmd('balloon', value=target)
    deadline = time.time() + timeout
    last, since = None, time.time()
    while time.time() < deadline:
        actual = g.qmp.cmd('query-balloon')['actual']
        if actual == target:
            return actual
        if actual != last:
            last, since = actual, time.time()
        elif time.time() - since >= quiet_secs:
            return actual
        time.sleep(0.1)
    raise GuestError('balloon never settled; last actual %d MiB' % (last // MIB))


def overcommit(g, drv, log):
    """A target beyond what the guest can spare (64 MiB of 2 GiB): the
    driver inflates what it can without waking the OOM killer, keeps
    actual truthful (MemTotal fell by exactly what actual says), and the
    balloon deflates fully afterwards. vfc only: the kernel's driver takes
    every page it can get, and the test guest (an initramfs, nothing to
    reclaim or kill) then panics on its next fork."""
    step = Steps(log)
    step('load %s driver' % drv.name, drv.load, g)
    step('wait for DRIVER_OK', wait_driver_ok, g, drv)
    mem0 = g.meminfo()
    target = 64 * MIB
    actual = step('inflate towards %d MiB' % (target // MIB),
                  balloon_settles, g, target)
    log('  settled at actual %d MiB' % (actual // MIB))
    expect(actual > target, 'a 2 GiB guest cannot spare all but 64 MiB; '
           'actual %d MiB is not believable' % (actual // MIB))
    check_memtotal(g, mem0, g.mem - actual, 'settled')
    dmesg = g.sh('dmesg')
    for bad in ('Out of memory', 'oom-kill', 'invoked oom-killer'):
        expect(bad not in dmesg, 'the OOM killer ran: "%s"' % bad)
    step('deflate to %d MiB' % (g.mem // MIB), balloon_to, g, g.mem)
    check_memtotal(g, mem0, 0, 'deflated')
    step('unload %s driver' % drv.name, drv.unload, g)


def iommu_refused(g, drv, log):
    """iommu_platform=on: the device insists on VIRTIO_F_ACCESS_PLATFORM,
    which a balloon must not accept (it passes guest-physical page numbers
    the IOMMU would not translate). The device never reaches DRIVER_OK, the
    log says why, and the driver unloads cleanly."""
    step = Steps(log)
    step('load %s driver' % drv.name, drv.load, g)
    st = device_status(g, drv)
    expect(st is not None and not st & VIRTIO_STATUS_DRIVER_OK,
           'device status %s: expected a refused device' % st)
    expect(drv.refusal in g.sh('dmesg'),
           'no "%s" in the kernel log saying why' % drv.refusal)
    step('unload %s driver' % drv.name, drv.unload, g)


def move(g, drv, log):
    """One boot, both drivers loaded: the balloon moves from the kernel's
    virtio-pci to vfc_pci and back, inflating with each."""
    step = Steps(log)
    kern, vfc = DRIVERS['kernel'], DRIVERS['vfc']
    step('load kernel driver', kern.load, g)
    step('load vfc driver', vfc.load, g)
    for who in ('kernel', 'vfc', 'kernel'):
        step('vfc-move %s' % who, g.sh, 'vfc-move %s' % who)
        step('wait for DRIVER_OK', wait_driver_ok, g, DRIVERS[who])
        inflate_deflate(g, step, who, GIB // 2)
    step('unload both drivers', lambda: (vfc.unload(g), kern.unload(g)))


def loaded(g):
    return [ln.split()[0] for ln in g.sh('cat /proc/modules').splitlines()]


def coexist(g, drv, log):
    """vfc.ko beside the kernel's own virtio.ko and virtio_ring.ko: no
    symbol, bus or module name collides, so all three load and both buses
    register."""
    step = Steps(log)
    step('load virtio.ko and virtio_ring.ko', g.sh,
         'modprobe virtio && modprobe virtio_ring')
    step('load vfc.ko', g.sh, 'modprobe vfc')
    mods = loaded(g)
    for m in ('virtio', 'virtio_ring', 'vfc'):
        expect(m in mods, '%s not loaded: %s' % (m, ' '.join(mods)))
    expect(g.run('test -d /sys/bus/virtio && test -d /sys/bus/vfc',
                 check=False)[0] == 0, 'both buses must be registered')
    step('unload all three', g.sh, 'rmmod vfc && rmmod virtio && rmmod virtio_ring')
    expect(not {'virtio', 'virtio_ring', 'vfc'} & set(loaded(g)),
           'modules left loaded')


def runner_catches_warn(g, drv, log):
    """The runner's planted fault: a module that WARNs on load. The run must
    be judged failed by the report check (see run.py)."""
    g.sh('modprobe vfc_runner_fault fault=warn')
    g.sh('rmmod vfc_runner_fault')


def runner_catches_leak(g, drv, log):
    """The runner's planted leak: kmemleak must report it at the end."""
    g.sh('modprobe vfc_runner_fault fault=leak')
    g.sh('rmmod vfc_runner_fault')


class Scenario:
    """A scenario and how to run it.

    kernels: the guest kernels it runs on; uses_driver: it runs once per
    DRIVER; expect_report: a planted fault, passing only if the runner
    catches it; needs_vfc: it needs vfc's balloon driver; device_props and
    iommu: its own virtio-balloon-pci properties and an intel-iommu;
    drivers: the DRIVERs it applies to."""

    def __init__(self, fn, kernels=('stock', 'test'), uses_driver=True,
                 expect_report=False, needs_vfc=False, device_props='',
                 iommu=False, drivers=('kernel', 'vfc')):
        self.fn = fn
        self.kernels = kernels
        self.drivers = drivers
        self.uses_driver = uses_driver
        self.expect_report = expect_report
        self.needs_vfc = needs_vfc
        self.device_props = device_props
        self.iommu = iommu


SCENARIOS = {
    'reference': Scenario(reference),
    'small': Scenario(small),
    'rmmod-inflated': Scenario(rmmod_inflated),
    'overcommit': Scenario(overcommit, drivers=('vfc',)),
    'iommu-refused': Scenario(iommu_refused, device_props='iommu_platform=on',
                              iommu=True),
    'move': Scenario(move, uses_driver=False, needs_vfc=True),
    'coexist': Scenario(coexist, uses_driver=False),
    'runner-catches-warn': Scenario(runner_catches_warn, kernels=('test',),
                                    uses_driver=False, expect_report=True),
    'runner-catches-leak': Scenario(runner_catches_leak, kernels=('test',),
                                    uses_driver=False, expect_report=True),
}
