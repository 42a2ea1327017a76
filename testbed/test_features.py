# SPDX-License-Identifier: GPL-2.0
"""End-to-end scenarios of the balloon's features beyond inflate and
deflate ("5.5 Traditional Memory Balloon Device"): deflate-on-OOM, free
page reporting, page poison, free page hinting, and movable balloon pages.
Each runs with the kernel's own driver as reference and with vfc's, on
both kernel lines and both ring layouts; the test kernels boot with
init_on_free=1 (guest.TEST_KERNEL_ARGS), so there the poison path runs."""

import os
import time

import pytest

from balloon import balloon_to, check_memtotal, device_attr, expect, \
    wait_driver_ok
from conftest import scenario
from guest import GIB, IOTHREAD, MIB, Guest, kvm_usable

pytestmark = pytest.mark.e2e

# "5.5.3 Feature bits"
F_DEFLATE_ON_OOM = 2
F_FREE_PAGE_HINT = 3
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


# Where the features' scenarios run: 6.1 under the checkers (both
# drivers, poisoning freed pages), 6.12 stock (the kernel's driver as the
# reference, and pages not poisoned) and under the checkers. Stock 6.1
# would only repeat the test kernel's 6.1 without its checkers.
FEATURE_KERNELS = ('test', 'stock-6.12', 'test-6.12')

# The features with a device property of their own share one balloon (a
# boot's scenarios swap the balloon for one with other properties). With
# the hinting queue there, the reporting queue is queue 4, not 3.
FEATURES = 'deflate-on-oom=on,free-page-reporting=on,' \
    'free-page-hint=on,iothread=' + IOTHREAD


@scenario(kernels=FEATURE_KERNELS, ring_rows='layouts', props=FEATURES)
def test_deflate_on_oom(guest, drv, step):
    """VIRTIO_BALLOON_F_DEFLATE_ON_OOM: inflating until 256 MiB are left
    available leaves MemTotal whole; a tmpfs file 128 MiB larger than
    MemAvailable then gets its memory from the balloon (actual rises by
    at least half of that: MemAvailable is an estimate, and reclaim finds
    some of the rest elsewhere; without the feature it rises by nothing)
    instead of the OOM killer's victim, and every byte of it is written."""
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
        expect(actual - inflated >= more // 2,
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


@scenario(kernels=FEATURE_KERNELS, test_drivers=('kernel', 'vfc'),
          ring_rows='layouts', props=FEATURES)
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
          ring_rows='layouts',
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


@scenario(kernels=FEATURE_KERNELS, ring_rows='layouts')
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


def migrate_to_file(g, path, cont=True, timeout=600):
    """Migrate the guest to a file, as `migrate "exec:cat > file"` from the
    monitor does, and (cont) let it run on. Returns QEMU's RAM statistics
    of the migration."""
    g.qmp.cmd('migrate', uri='exec:cat > %s' % path)
    deadline = time.time() + timeout
    while True:
        st = g.qmp.cmd('query-migrate')
        if st.get('status') == 'completed':
            break
        expect(st.get('status') not in ('failed', 'cancelled'),
               'migration %s: %s' % (st.get('status'), st.get('error-desc')))
        expect(time.time() < deadline, 'migration not done in %d s: %s'
               % (timeout, st))
        time.sleep(0.5)
    if cont:
        g.qmp.cmd('cont')
    return st['ram']


def restore(g, boot, path):
    """Start a second QEMU from a migration file of guest g: the same
    machine, -incoming. Returns the restored guest, running."""
    return Guest(g.name + '-restored', g.kernel, boot.device_props(),
                 mem_mib=g.mem // MIB, iommu=boot.iommu, rng=boot.rng,
                 incoming='exec:cat %s' % path)


def zeroes_on_alloc(g):
    """Whether the guest zeroes the pages it allocates: init_on_alloc,
    unless init_on_free zeroes them when freed instead ("mem auto-init" in
    the boot log)."""
    line = g.sh('dmesg | grep "mem auto-init" || true')
    return 'heap alloc:on' in line and 'heap free:off' in line


def avail_back(g, want, timeout=30):
    """Wait until MemAvailable is at least want; the last value seen."""
    deadline = time.time() + timeout
    while True:
        seen = g.meminfo('MemAvailable')
        if seen >= want or time.time() > deadline:
            return seen
        time.sleep(1)


def pages_sent(ram):
    return ram['normal'] + ram['duplicate']


HINT_DATA = '/mnt/fph/data'


def data_md5(g):
    return g.sh('md5sum %s' % HINT_DATA).split()[0]


def expect_hinted_back(g, step, avail, where):
    """DONE comes with the migration's end: MemAvailable comes back to
    within the 64 MiB of data of what it was (avail) before."""
    seen = step('%s: wait for the hinted memory' % where, avail_back, g,
                avail - 64 * MIB)
    expect(seen >= avail - 64 * MIB, '%s: MemAvailable %d MiB after the '
           'migration, %d MiB before: hinted pages not given back' %
           (where, seen // MIB, avail // MIB))


def check_restore(g, boot, step, mig, md5, avail):
    """Restore the migration file of guest g in a second QEMU: it runs on
    with the data intact, the hinted memory comes back (DONE), and its
    kernel reports nothing."""
    dest = step('restore it in a second QEMU', restore, g, boot, mig)
    try:
        dest.dmesg_seen = g.dmesg_seen
        there = data_md5(dest)
        expect(there == md5, 'data changed in the restored guest: md5 %s, '
               'was %s' % (there, md5))
        expect_hinted_back(dest, step, avail, 'restored guest')
        reports = dest.new_reports()
        expect(not reports, 'kernel report in the restored guest: %s' %
               '\n'.join(reports[:8]))
    finally:
        dest.close()


@scenario(kernels=FEATURE_KERNELS, test_drivers=('kernel', 'vfc'),
          ring_rows='layouts', props=FEATURES)
def test_free_page_hint(guest, boot, drv, step):
    """VIRTIO_BALLOON_F_FREE_PAGE_HINT ("Free Page Hinting"): a migration
    to a file with free-page-hint=on completes with the driver hinting,
    and 64 MiB of data written before it are intact in the guest running
    on, and once the migration is over (DONE) the hinted memory is the
    guest's again (MemAvailable back). The same migration before the
    driver is loaded is the baseline: hinting skips free memory, so at
    least 256 MiB fewer pages go out.

    Except where the guest zeroes the pages it allocates (init_on_alloc,
    the stock kernels): the driver's allocation of the free blocks it
    hints writes them, and QEMU 7.2 under TCG does not forget those
    writes when the hint comes (it clears KVM's dirty log only), so the
    blocks go out anyway. There the scenario proves that hinting runs and
    loses nothing.

    Under KVM the migration file is also restored in a second QEMU, whose
    guest must run on with the data intact. Under TCG it is not: QEMU 7.2
    loses writes the guest makes during a live migration (its TCG dirty
    tracking, fixed in QEMU 9.0), and hinting's short rounds expose it;
    testbed/restore_probe.py shows the pages it loses."""
    mig = os.path.join(guest.dir, 'migration.bin')
    guest.sh('mkdir -p /mnt/fph && mount -t tmpfs -o size=%d tmpfs /mnt/fph'
             % (128 * MIB))
    try:
        guest.sh('dd if=/dev/urandom of=%s bs=1M count=64 2>&1' % HINT_DATA)
        md5 = data_md5(guest)
        base = step('migrate to a file, no driver', migrate_to_file, guest,
                    mig)
        avail = guest.meminfo('MemAvailable')
        load(step, guest, drv)
        expect(negotiated(guest, drv, F_FREE_PAGE_HINT),
               'free-page-hint=on, but FREE_PAGE_HINT was not negotiated')
        hinted = step('migrate to a file, hinting', migrate_to_file, guest,
                      mig, False)
        print('  pages sent: %d without hinting, %d with' %
              (pages_sent(base), pages_sent(hinted)))
        try:
            if kvm_usable():
                check_restore(guest, boot, step, mig, md5, avail)
            else:
                print('  restore not tried: under TCG, QEMU 7.2 loses guest '
                      'writes in a live migration (README, "Free page '
                      'hinting and restore")')
        finally:
            # The source runs on whatever became of the restore.
            guest.qmp.cmd('cont')
        after = data_md5(guest)
        expect(after == md5, 'data changed by the migration: md5 %s, was %s'
               % (after, md5))
        if drv.name == 'vfc':
            dmesg = guest.sh('dmesg | grep "free page hinting" || true')
            print('  ' + '\n  '.join(dmesg.splitlines()[-4:]))
            expect(' MiB hinted' in dmesg, 'vfc logged no hinting round')
        expect_hinted_back(guest, step, avail, 'source guest')
        if not zeroes_on_alloc(guest):
            expect(pages_sent(hinted) < pages_sent(base) - 256 * MIB // 4096,
                   'hinting saved %d pages of %d, not 256 MiB worth' %
                   (pages_sent(base) - pages_sent(hinted), pages_sent(base)))
    finally:
        guest.sh('rm -f %s; umount /mnt/fph' % HINT_DATA)
        if os.path.exists(mig):
            os.unlink(mig)
    step('unload %s driver' % drv.name, drv.unload, guest)
