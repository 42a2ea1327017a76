#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""The vfc test bed's one entry point: make's targets are its commands,
make's variables (KERNEL, DRIVER, SCENARIO, DEVICE_PROPS, QEMU_ARGS,
KERNEL_ARGS, ROUNDS) its options; the tests are pytest's, and any further
argument goes to pytest (-k, --lf, -x, --durations ...).

  run.py check        lint, KUnit (modules and kunit.py run), every scenario
  run.py lint|kunit|kunit-run|e2e|demo|bench|soak    one phase
  run.py guest        boot a guest with the balloon bound and hand over
                      the terminal (the guest's shell and the QEMU monitor)
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

MARKERS = {
    'check': 'lint or kunit or kunit_run or e2e',
    'lint': 'lint',
    'kunit': 'kunit',
    'kunit-run': 'kunit_run',
    'e2e': 'e2e',
    'demo': 'demo',
    'bench': 'bench',
    'soak': 'soak',
}


def interactive():
    """make guest: QEMU with the serial console and the monitor multiplexed
    on this terminal (-serial mon:stdio), the modules loaded by the guest's
    init, a shell on the console."""
    from guest import (BUILD, KERNEL_ARGS, kernel_info, prepare,
                       qemu_command)
    from balloon import DRIVERS
    kernel = os.environ.get('KERNEL') or 'stock'
    driver = os.environ.get('DRIVER') or 'vfc'
    from conftest import KERNELS
    if kernel not in KERNELS or driver not in DRIVERS:
        sys.exit('make guest: KERNEL is one of %s, DRIVER kernel or vfc' %
                 ', '.join(KERNELS))
    prepare(kernel)
    append = '%s vfc_guest.shell vfc_guest.load=%s %s' % (
        KERNEL_ARGS, ','.join(DRIVERS[driver].load_mods),
        os.environ.get('KERNEL_ARGS', ''))
    cmd = qemu_command(kernel, os.path.join(BUILD, kernel, 'initramfs.cpio.gz'),
                       append.strip(), device_props=os.environ.get('DEVICE_PROPS', ''),
                       qemu_args=os.environ.get('QEMU_ARGS', ''))
    cmd += ['-serial', 'mon:stdio']
    print('Booting %s (%s) with the %s balloon driver. Ctrl-A c: monitor <-> '
          'shell; Ctrl-A x: quit.' % (kernel, kernel_info(kernel, 'release'),
                                      driver))
    os.execvp(cmd[0], cmd)


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in list(MARKERS) + ['guest']:
        sys.exit(__doc__)
    cmd = sys.argv[1]
    if cmd == 'guest':
        return interactive()
    try:
        import pytest
    except ImportError:
        sys.exit('run.py needs Debian\'s python3-pytest (make deps installs it)')
    args = [HERE, '-m', MARKERS[cmd], '-v', '-rfEw',
            '--junitxml=%s' % os.path.join(os.path.dirname(HERE), 'build',
                                           'junit-%s.xml' % cmd)]
    if cmd in ('demo', 'bench', 'soak'):
        args.append('-s')
    sys.exit(pytest.main(args + sys.argv[2:]))


if __name__ == '__main__':
    main()
