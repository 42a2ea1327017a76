#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Which guest pages does a migration file restore stale?

Boots a test guest with the balloon of test_features (free-page-hint=on),
loads a balloon driver (hint) or none (nohint), migrates the guest to a
file and, with the source paused, saves its RAM (pmemsave); a second QEMU
loads the file (-incoming, -S: loaded, never run) and saves its RAM too.
Prints the pages that differ. A page the driver hinted may differ only by
being zero in the restored guest (it was free and not sent); any other
difference is a write the migration lost.

Seen here (QEMU 7.2, TCG, the 6.1 test kernel): 0 pages differ without a
driver; 30 with the kernel's driver hinting and 66 with vfc's, all kernel
data and per-CPU pages (jiffies among them: the restored guest warns that
time went backwards). QEMU 7.2's TCG stops tracking writes through TLB
entries a bitmap sync left writable (fixed in QEMU 9.0, "physmem: Fix
migration dirty bitmap coherency with TCG memory access"); hinting makes
the migration short enough that those writes are never caught up.

Usage: testbed/restore_probe.py KERNEL kernel|vfc|none
(the runner's kernel names: stock, test, stock-6.12, test-6.12; for vfc,
build the modules first: make modules-<kernel>)."""

import os
import subprocess
import sys
import time

from balloon import DRIVERS
from guest import BUILD, Guest, Qmp, qemu_command
from test_features import FEATURES, migrate_to_file, pages_sent

PAGE = 4096


def compare(a_path, b_path):
    """Pages that differ: (address, zero in b)."""
    zero = bytes(PAGE)
    diff = []
    with open(a_path, 'rb') as a, open(b_path, 'rb') as b:
        addr = 0
        while True:
            x, y = a.read(PAGE), b.read(PAGE)
            if not x:
                return diff
            if x != y:
                diff.append((addr, y == zero))
            addr += PAGE


def main(kernel, driver):
    g = Guest('restore-probe-%s-%s' % (kernel, driver), kernel, FEATURES)
    mig = os.path.join(g.dir, 'migration.bin')
    src = os.path.join(g.dir, 'source.ram')
    dst = os.path.join(g.dir, 'restored.ram')
    dest = None
    try:
        if driver != 'none':
            DRIVERS[driver].load(g)
            time.sleep(3)
        ram = migrate_to_file(g, mig, cont=False)
        print('migrated: %d pages sent, %d of them zero' %
              (pages_sent(ram), ram['duplicate']))
        g.qmp.cmd('pmemsave', val=0, size=g.mem, filename=src)
        cmd = qemu_command(kernel, os.path.join(BUILD, kernel,
                                                'initramfs.cpio.gz'),
                           '', g.mem // (1 << 20), FEATURES)
        qmp_path = os.path.join(g.sock_dir, 'restored.sock')
        # The same two serial ports as the source, for the same machine.
        cmd += ['-serial', 'null', '-serial', 'null', '-S',
                '-qmp', 'unix:%s,server=on,wait=off' % qmp_path,
                '-incoming', 'exec:cat %s' % mig]
        dest = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                stdout=open(os.path.join(g.dir,
                                                         'restored.out'), 'w'),
                                stderr=subprocess.STDOUT)
        q = Qmp(qmp_path, dest)
        while q.cmd('query-migrate').get('status') != 'completed':
            if dest.poll() is not None:
                sys.exit('the restoring QEMU exited: see %s/restored.out'
                         % g.dir)
            time.sleep(0.5)
        q.cmd('pmemsave', val=0, size=g.mem, filename=dst)
        diff = compare(src, dst)
        lost = [a for a, zero in diff if not zero]
        print('%d pages differ: %d zero in the restored guest (hinted), '
              '%d lost writes' % (len(diff), len(diff) - len(lost), len(lost)))
        if lost:
            print('lost writes at: ' + ' '.join('%#x' % a for a in lost[:32]))
        return 1 if lost else 0
    finally:
        if dest:
            dest.kill()
            dest.wait()
        g.close()
        for f in (mig, src, dst):
            if os.path.exists(f):
                os.unlink(f)


if __name__ == '__main__':
    if len(sys.argv) != 3 or sys.argv[2] not in ('kernel', 'vfc', 'none'):
        sys.exit(__doc__.split('\n\n')[-1])
    sys.exit(main(sys.argv[1], sys.argv[2]))
