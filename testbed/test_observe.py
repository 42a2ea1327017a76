# SPDX-License-Identifier: GPL-2.0
"""What vfc shows a device implementer, against QEMU's devices: the
per-queue statistics and the features in debugfs (vfc/<device>/queues,
features), the conformance report (vfc/<device>/conformance, and its line
in the kernel log when the device goes away) and the tracepoints (trace
system vfc). The statistics must agree with what the run did and with the
trace; QEMU's devices must leave the report empty.

vfc only: the kernel's own virtio has none of this to compare with. The
trace runs where the guest kernel has tracing (Debian's kernels; the
test kernels are built without it)."""

import re
import time

import pytest

from balloon import (bus_device, device_attr, expect, inflate_deflate,
                     wait_driver_ok)
from conftest import scenario
from guest import GIB
from test_rng import load_rng, read_rng

pytestmark = pytest.mark.e2e

DEBUGFS = '/sys/kernel/debug/vfc'
TRACEFS = '/sys/kernel/tracing'


def queues(g, dev):
    """{queue name: {counter: value}} from debugfs vfc/<dev>/queues."""
    lines = g.sh('cat %s/%s/queues' % (DEBUGFS, dev)).strip().splitlines()
    head = lines[0].split()
    out = {}
    for ln in lines[1:]:
        row = dict(zip(head, ln.split()))
        out[row['name']] = {k: (v if k in ('name', 'layout', 'broken') else
                                int(v)) for k, v in row.items()}
    return out


def conformance(g, dev):
    """The entries of debugfs vfc/<dev>/conformance (its header left out)."""
    return g.sh('cat %s/%s/conformance' % (DEBUGFS, dev)).strip().splitlines()[1:]


def trace_start(g):
    """Record vfc's events from now on, where the kernel can trace; False
    where it cannot."""
    if g.run('test -d %s/events || mount -t tracefs tracefs %s'
             % (TRACEFS, TRACEFS), check=False)[0] or \
            g.run('test -d %s/events/vfc' % TRACEFS, check=False)[0]:
        return False
    g.sh('echo 0 > %s/tracing_on; echo > %s/trace; '
         'echo 1 > %s/events/vfc/enable; echo 1 > %s/tracing_on'
         % ((TRACEFS,) * 4))
    return True


def trace_stop(g):
    """The events recorded, as (event, text) pairs; tracing off."""
    out = g.sh('echo 0 > %s/tracing_on; cat %s/trace; '
               'echo 0 > %s/events/vfc/enable; echo > %s/trace'
               % ((TRACEFS,) * 4), timeout=120)
    return re.findall(r' (vfc_\w+): (.*)$', out, re.M)


def check_queue(q, name, in_flight=0):
    """A queue's counters after a run that used it and is done with it."""
    expect(q['broken'] == '-', '%s broken: %s' % (name, q['broken']))
    expect(q['added'] > 0, '%s: nothing added: %s' % (name, q))
    expect(q['used'] + q['in_flight'] == q['added'] and
           q['in_flight'] == in_flight,
           '%s: used and in flight do not add up to added: %s' % (name, q))
    expect(q['kicks'] + q['kicks_suppressed'] <= q['added'] + 1,
           '%s: more kicks than buffers: %s' % (name, q))
    expect(q['callbacks'] <= q['interrupts'],
           '%s: more callbacks than interrupts: %s' % (name, q))
    expect(q['max_in_flight'] >= max(1, q['in_flight']),
           '%s: max in flight %d' % (name, q['max_in_flight']))


@scenario(drivers=('vfc',))
def test_observe_balloon(guest, drv, step):
    """Inflate by 256 MiB and deflate with vfc: in debugfs, the inflate and
    deflate queues count as many used buffers as the trace shows
    vfc_vq_used events, and as vfc_balloon_request events (each
    acknowledged); each took back all it added; kicks no more than
    buffers; the statistics buffer is with the device; the accepted
    features are those in sysfs, named; QEMU's balloon leaves the
    conformance report empty, and its summary line says so."""
    # The events are there once their modules are: the driver first, then
    # the transport, whose device it then binds (probe, in the trace).
    guest.sh('modprobe vfc_balloon')
    tracing = trace_start(guest)
    drv.load(guest)
    wait_driver_ok(guest, drv)
    dev = bus_device(guest, drv)
    inflate_deflate(guest, step, drv.name, GIB // 4)
    # actual is on target before the last deflate requests, sent without
    # waiting (no MUST_TELL_HOST), are back: the balloon then takes them.
    deadline = time.time() + 10
    while queues(guest, dev)['deflate']['in_flight'] and time.time() < deadline:
        time.sleep(0.1)
    qs = queues(guest, dev)
    events = trace_stop(guest) if tracing else None
    for name in ('inflate', 'deflate'):
        check_queue(qs[name], name)
    if 'stats' in qs:
        check_queue(qs['stats'], 'stats', in_flight=1)
    expect(qs['inflate']['layout'] == ('packed' if 'packed=on' in
                                       guest.device_props else 'split'),
           'layout %s' % qs['inflate']['layout'])

    feats = guest.sh('cat %s/%s/features' % (DEBUGFS, dev))
    accepted = re.search(r'^accepted +0x([0-9a-f]+)(.*)$', feats, re.M)
    sysfs = device_attr(guest, drv, 'features')
    expect(accepted and int(accepted.group(1), 16) ==
           sum(1 << i for i, c in enumerate(sysfs) if c == '1'),
           'debugfs features %s, sysfs %s' % (feats, sysfs))
    expect('VERSION_1' in accepted.group(2), 'features not named: %s' % feats)

    expect(conformance(guest, dev) == [],
           'QEMU\'s balloon in the conformance report: %s'
           % conformance(guest, dev))

    if events is not None:
        index = {name: q['index'] for name, q in qs.items()}
        for name in ('inflate', 'deflate'):
            used = [t for e, t in events if e == 'vfc_vq_used' and
                    t.startswith('%s vq %d ' % (dev, index[name]))]
            expect(len(used) == qs[name]['used'],
                   '%s: %d used in the trace, %d in debugfs'
                   % (name, len(used), qs[name]['used']))
            reqs = [t for e, t in events if e == 'vfc_balloon_request' and
                    t.startswith('%s %s ' % (dev, name))]
            expect(len(reqs) == qs[name]['used'] and
                   all(t.endswith(' err 0') for t in reqs),
                   '%s: requests in the trace %s, %d used'
                   % (name, reqs[:3], qs[name]['used']))
        expect(any(e == 'vfc_features' for e, _ in events),
               'no vfc_features event at probe')

    drv.unload(guest)
    expect(re.search(r'%s: conformance: 0 violations, 0 deviations' % dev,
                     guest.sh('dmesg')),
           'no conformance summary line saying the report is empty')


@scenario(drivers=('vfc',), rng='')
def test_observe_rng(guest, drv, step):
    """Read 4 KiB from /dev/hwrng with vfc_rng: its queue counts the
    requests the trace shows, used with the lengths the trace shows, and
    QEMU's rng leaves the conformance report empty."""
    dev = load_rng(step, guest, drv)
    tracing = trace_start(guest)
    step('read 4 KiB from /dev/hwrng', read_rng, guest, 4096)
    events = trace_stop(guest) if tracing else None
    qs = queues(guest, dev)
    q = qs[drv.rng_queue]
    expect(q['in_flight'] <= 1, 'rng: %s' % q)
    check_queue(q, drv.rng_queue, in_flight=q['in_flight'])
    expect(conformance(guest, dev) == [],
           'QEMU\'s rng in the conformance report: %s'
           % conformance(guest, dev))
    if events is not None:
        used = [t for e, t in events if e == 'vfc_vq_used' and
                t.startswith(dev + ' ')]
        expect(used and all(re.search(r' len [1-9]\d*$', t) for t in used),
               'rng used buffers in the trace: %s' % used[:3])
    step('unload %s driver' % drv.name, drv.unload, guest)
    expect(re.search(r'%s: conformance: 0 violations, 0 deviations' % dev,
                     guest.sh('dmesg')),
           'no conformance summary line saying the report is empty')
