# SPDX-License-Identifier: GPL-2.0
"""End-to-end scenarios of the balloon's features beyond inflate and
deflate ("5.5 Traditional Memory Balloon Device"): deflate-on-OOM, free
page reporting, page poison, and movable balloon pages. Each runs with the kernel's own driver as
reference and with vfc's, on both kernel lines; the test kernels boot with
init_on_free=1 (guest.TEST_KERNEL_ARGS), so there the poison path runs."""

import time

import pytest

from balloon import balloon_to, check_memtotal, device_attr, expect, \
    wait_driver_ok
from conftest import scenario
from guest import GIB, MIB

pytestmark = pytest.mark.e2e

# "5.5.3 Feature bits"
F_DEFLATE_ON_OOM = 2
F_PAGE_POISON = 4
F_REPORTING = 5


def load(step, g, drv):
    step('load %s driver' % drv.name, drv.load, g)
    step('wait for DRIVER_OK', wait_driver_ok, g, drv)


def negotiated(g, drv, bit):
    """Whether the balloon's negotiated features (sysfs, bit 0 first) have
    that bit."""
    return device_attr(g, drv, 'features')[bit] == '1'


def poisoning(g):
    """Whether the guest writes a value into the pages it frees."""
    cmdline = g.sh('cat /proc/cmdline')
    return 'init_on_free=1' in cmdline or 'page_poison=1' in cmdline


OOM_KILL = ('Out of memory', 'oom-kill', 'invoked oom-killer')


# The features with a device property of their own share one balloon (a
# boot's scenarios swap the balloon for one with other properties).
OOM_AND_REPORTING = 'deflate-on-oom=on,free-page-reporting=on'


@scenario(props=OOM_AND_REPORTING)
def test_deflate_on_oom(guest, drv, step):
    """VIRTIO_BALLOON_F_DEFLATE_ON_OOM: inflating until 256 MiB are left
    available leaves MemTotal whole; a tmpfs file 128 MiB larger than
    MemAvailable then gets its memory from the balloon (actual rises by
    nearly that) instead of the OOM killer's victim, and every byte of it
    is written."""
    load(step, guest, drv)
    expect(negotiated(guest, drv, F_DEFLATE_ON_OOM),
           'deflate-on-oom=on, but DEFLATE_ON_OOM was not negotiated')
    mem0 = guest.meminfo()
    down = (guest.meminfo('MemAvailable') - 256 * MIB) // MIB * MIB
    step('inflate by %d MiB' % (down // MIB), balloon_to, guest,
         guest.mem - down)
    check_memtotal(guest, mem0, 0, 'inflated with DEFLATE_ON_OOM')
    inflated = guest.qmp.cmd('query-balloon')['actual']

    more = 128 * MIB
    size = guest.meminfo('MemAvailable') + more
    guest.sh('mkdir -p /mnt/oom && mount -t tmpfs -o size=%d tmpfs /mnt/oom'
             % guest.mem)
    try:
        step('write a %d MiB tmpfs file' % (size // MIB), guest.sh,
             'dd if=/dev/zero of=/mnt/oom/f bs=1M count=%d 2>&1' % (size // MIB),
             600)
        written = int(guest.sh('stat -c %s /mnt/oom/f'))
        expect(written == size // MIB * MIB, 'tmpfs file has %d of %d bytes'
               % (written, size // MIB * MIB))
        dmesg = guest.sh('dmesg')
        for bad in OOM_KILL:
            expect(bad not in dmesg, 'the OOM killer ran: "%s"' % bad)
        actual = guest.qmp.cmd('query-balloon')['actual']
        print('  balloon gave back %d MiB' % ((actual - inflated) // MIB))
        expect(actual - inflated >= more - 32 * MIB,
               'balloon gave back only %d MiB for a file %d MiB over '
               'MemAvailable' % ((actual - inflated) // MIB, more // MIB))
        check_memtotal(guest, mem0, 0, 'after the OOM deflate')
    finally:
        guest.sh('rm -f /mnt/oom/f; umount /mnt/oom')
    step('deflate', balloon_to, guest, guest.mem)
    step('unload %s driver' % drv.name, drv.unload, guest)


def rss_falls(g, below, timeout=60):
    """Wait until QEMU's resident size is below `below` bytes; the sizes
    seen, a second apart, the last one last."""
    deadline = time.time() + timeout
    seen = []
    while True:
        seen.append(g.qemu_rss())
        if seen[-1] < below or time.time() > deadline:
            return seen
        time.sleep(1)


@scenario(test_drivers=('kernel', 'vfc'), props=OOM_AND_REPORTING)
def test_free_page_reporting(guest, drv, step):
    """VIRTIO_BALLOON_F_PAGE_REPORTING ("Free Page Reporting"): 768 MiB
    written to a tmpfs and freed again come back to the host, QEMU's
    resident size falling by at least 512 MiB (QEMU discards reported
    pages). Where the guest zeroes freed pages (init_on_free=1, the test
    kernels) the driver must have negotiated PAGE_POISON and told the
    device poison_val 0: with any other value QEMU keeps the pages."""
    load(step, guest, drv)
    expect(negotiated(guest, drv, F_REPORTING),
           'free-page-reporting=on, but PAGE_REPORTING was not negotiated')
    expect(negotiated(guest, drv, F_PAGE_POISON) == poisoning(guest),
           'PAGE_POISON negotiated: %s, guest poisons freed pages: %s' %
           (negotiated(guest, drv, F_PAGE_POISON), poisoning(guest)))
    size = 768 * MIB
    guest.sh('mkdir -p /mnt/fpr && mount -t tmpfs -o size=%d tmpfs /mnt/fpr'
             % size)
    try:
        step('write %d MiB' % (size // MIB), guest.sh,
             'dd if=/dev/zero of=/mnt/fpr/f bs=1M count=%d 2>&1' % (size // MIB))
        full = guest.qemu_rss()
    finally:
        guest.sh('rm -f /mnt/fpr/f; umount /mnt/fpr')
    seen = step('free it; wait for QEMU to shrink', rss_falls, guest,
                full - 512 * MIB)
    print('  QEMU resident: %d MiB written, then %s MiB' %
          (full // MIB, ' '.join(str(r // MIB) for r in seen)))
    expect(seen[-1] < full - 512 * MIB,
           'QEMU holds %d MiB after the guest freed 768 MiB (%d MiB before, '
           'then %s MiB a second apart): free pages were not reported' %
           (seen[-1] // MIB, full // MIB,
            ' '.join(str(r // MIB) for r in seen[:12])))
    step('unload %s driver' % drv.name, drv.unload, guest)


@scenario(kernels=('test', 'test-6.12'), test_drivers=('kernel', 'vfc'),
          props='free-page-reporting=on,page-poison=off')
def test_poison_unsupported(guest, drv, step):
    """"Feature bits": a guest that zeroes freed pages (init_on_free=1)
    with a device that cannot keep them so (page-poison=off) must not
    accept PAGE_REPORTING, which would hand it pages back with other
    contents."""
    expect(poisoning(guest), 'the test kernels boot with init_on_free=1')
    load(step, guest, drv)
    for bit, name in ((F_PAGE_POISON, 'PAGE_POISON'),
                      (F_REPORTING, 'PAGE_REPORTING')):
        expect(not negotiated(guest, drv, bit), '%s negotiated' % name)
    step('unload %s driver' % drv.name, drv.unload, guest)


def vmstat(g, name):
    out = g.sh('cat /proc/vmstat')
    for line in out.splitlines():
        key, _, val = line.partition(' ')
        if key == name:
            return int(val)
    raise AssertionError('no %s in /proc/vmstat' % name)


def fragment_with_balloon(g, step):
    """Leave the balloon's pages spread over 256 MiB of memory: write
    256 tmpfs files of 1 MiB at once (tee: their pages interleave),
    delete every other one, inflate the balloon into those holes (order-0
    allocations take the smallest free blocks first), delete the rest.
    Each 2 MiB block there then holds balloon pages, and only moving them
    frees it. Returns the balloon's size."""
    n = 256
    g.sh('mkdir -p /mnt/frag && mount -t tmpfs -o size=%d tmpfs /mnt/frag'
         % g.mem)
    try:
        step('write %d files of 1 MiB' % n, g.sh,
             'cd /mnt/frag && dd if=/dev/zero bs=1M count=1 2>/dev/null | '
             'tee $(seq 0 %d) > /dev/null; cd /' % (n - 1), 600)
        g.sh('i=1; while [ $i -lt %d ]; do rm /mnt/frag/$i; i=$((i+2)); done'
             % n)
        size = (n // 2 - 32) * MIB
        step('inflate by %d MiB' % (size // MIB), balloon_to, g, g.mem - size)
    finally:
        g.sh('rm -rf /mnt/frag/*; umount /mnt/frag')
    return size


@scenario()
def test_compaction(guest, drv, step):
    """Movable balloon pages: with the balloon spread over all of memory,
    compacting it (/proc/sys/vm/compact_memory) moves balloon pages (the
    balloon_migrate counter of /proc/vmstat rises), so 2 MiB blocks come
    free, and MemTotal and actual stay exact: each move is an inflate of
    the new page and a deflate of the old one."""
    load(step, guest, drv)
    mem0 = guest.meminfo()
    size = fragment_with_balloon(guest, step)
    check_memtotal(guest, mem0, size, 'inflated')
    before = vmstat(guest, 'balloon_migrate')
    step('compact memory', guest.sh, 'echo 1 > /proc/sys/vm/compact_memory',
         600)
    moved = vmstat(guest, 'balloon_migrate') - before
    print('  compaction moved %d balloon pages' % moved)
    expect(moved > 0, 'compaction moved no balloon page')
    check_memtotal(guest, mem0, size, 'compacted')
    actual = guest.qmp.cmd('query-balloon')['actual']
    expect(actual == guest.mem - size, 'compacted: actual %d MiB, expected %d'
           % (actual // MIB, (guest.mem - size) // MIB))
    step('deflate', balloon_to, guest, guest.mem)
    check_memtotal(guest, mem0, 0, 'deflated')
    step('unload %s driver' % drv.name, drv.unload, guest)
