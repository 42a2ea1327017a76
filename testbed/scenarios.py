# SPDX-License-Identifier: GPL-2.0
"""End-to-end scenarios. Each is written once against a Driver and runs with
the kernel's own virtio (the reference run, which proves the scenario) and
with vfc (which proves vfc)."""

import os
import time

from guest import BUILD, GIB, MIB, GuestError


class Skip(Exception):
    """The scenario cannot run in this configuration (says why)."""


class Driver:
    """The guest modules that drive the balloon device."""

    def __init__(self, name, load, unload):
        self.name = name
        self.load_mods = load
        self.unload_mods = unload

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
                      'virtio_pci_legacy_dev', 'virtio', 'virtio_ring']),
    # vfc's transport and balloon driver (vfc.ko comes in as a dependency).
    'vfc': Driver('vfc', ['vfc_pci', 'vfc_balloon'],
                  ['vfc_balloon', 'vfc_pci', 'vfc']),
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


def wait_balloon_device(g, timeout=60):
    """Wait until the driver has set DRIVER_OK: QEMU refuses balloon
    commands before that."""
    deadline = time.time() + timeout
    while True:
        try:
            return g.qmp.cmd('query-balloon')['actual']
        except GuestError:
            if time.time() > deadline:
                raise GuestError('balloon driver did not become ready')
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
        time.sleep(0.1)


def expect(cond, what):
    if not cond:
        raise GuestError(what)


PAGE = 4096


def reference(g, drv, log):
    """The reference scenario: 2 GiB -> 1 GiB -> 2 GiB, MemTotal checked."""
    step = Steps(log)
    step('load %s driver' % drv.name, drv.load, g)
    step('wait for DRIVER_OK', wait_balloon_device, g)
    size = g.mem
    mem0 = g.meminfo()
    step('inflate %d -> %d MiB' % (size // MIB, (size - GIB) // MIB),
         balloon_to, g, size - GIB)
    mem1 = g.meminfo()
    log('  MemTotal %d -> %d kB' % (mem0 // 1024, mem1 // 1024))
    expect(abs((mem0 - mem1) - GIB) <= PAGE,
           'MemTotal fell by %d kB, expected %d kB' %
           ((mem0 - mem1) // 1024, GIB // 1024))
    step('deflate %d -> %d MiB' % ((size - GIB) // MIB, size // MIB),
         balloon_to, g, size)
    mem2 = g.meminfo()
    expect(mem2 == mem0, 'MemTotal %d kB after deflate, %d kB before' %
           (mem2 // 1024, mem0 // 1024))
    step('unload %s driver' % drv.name, drv.unload, g)


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


# name -> (function, kernels it runs on, whether it uses the driver,
#          whether the run is expected to end with a kernel report)
SCENARIOS = {
    'reference': (reference, ('stock', 'test'), True, False),
    'coexist': (coexist, ('stock', 'test'), False, False),
    'runner-catches-warn': (runner_catches_warn, ('test',), False, True),
    'runner-catches-leak': (runner_catches_leak, ('test',), False, True),
}
