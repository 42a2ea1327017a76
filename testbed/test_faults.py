# SPDX-License-Identifier: GPL-2.0
"""End-to-end allocation-failure sweep: the balloon driver bound to the
real device with each allocation of the bind failing in turn (the
kernel's fail-nth, from the guest's shell: guest/bind-sweep.sh), until a
bind runs through untouched. The bind probes in the writing task: the
core's initialisation, the PCI transport's queues and INTx, the
balloon's set-up. On the test kernels, whose kmemleak and DMA-API debug
(a mapping left behind shows when the transport lets go of the function)
watch every failed probe; the kernel's virtio_balloon as the reference
on 6.1. The balloon works afterwards. The balloon's worker contexts
(inflate, deflate, statistics, reporting) have their sweeps in KUnit
(vfc_balloon_device).

Not swept here, for the kernel's sake: the PCI function's own probe
(pci_enable_device() evaluates ACPI's _PRT, and ACPICA reads freed memory
when an allocation fails there) and MSI-X vectors (an irq descriptor
whose /proc entries could not all be made warns in remove_proc_entry()
when it is freed). Both showed under this sweep on 6.1, before any vfc
code ran or after it had let go."""

import re

import pytest

from balloon import bus_device, inflate_deflate, wait_driver_ok
from conftest import scenario
from guest import GIB

pytestmark = pytest.mark.e2e

# Each driver's balloon driver in sysfs.
BALLOON_DRIVER = {'kernel': '/sys/bus/virtio/drivers/virtio_balloon',
                  'vfc': '/sys/bus/vfc/drivers/vfc_balloon'}


@scenario(kernels=('test', 'test-6.12'), test_drivers=('kernel', 'vfc'))
def test_probe_alloc_failures(guest, drv, step):
    """The balloon bound with its 1st, 2nd, ... allocation failing: no
    report from the checkers, and afterwards it inflates and deflates."""
    step('load %s driver' % drv.name, drv.load, guest)
    step('wait for DRIVER_OK', wait_driver_ok, guest, drv)
    dev = bus_device(guest, drv)
    out = step('bind with each allocation failing', guest.sh,
               'sh /bind-sweep.sh %s %s' % (BALLOON_DRIVER[drv.name], dev),
               1800)
    m = re.search(r'points (\d+) bound (\d+)', out)
    assert m and 'still allocating' not in out, out
    points, coped = int(m.group(1)), int(m.group(2))
    print('  %s balloon probe: %d allocation failure points, %d binds coped'
          % (drv.name, points, coped))
    assert points > 0, 'no allocation failed: fail-nth is not working'
    step('wait for DRIVER_OK', wait_driver_ok, guest, drv)
    inflate_deflate(guest, step, drv.name, GIB // 4)
    step('unload %s driver' % drv.name, drv.unload, guest)
