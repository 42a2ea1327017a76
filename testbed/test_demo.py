# SPDX-License-Identifier: GPL-2.0
"""make demo and make bench: the balloon from the QEMU monitor, and the
kernel's driver against vfc's in one boot. Not part of make check."""

import os
import re
import statistics
import time

import pytest

from balloon import DRIVERS, balloon_to, wait_driver_ok
from conftest import quote
from guest import BUILD, GIB, MIB, boot_guest, kernel_info, prepare


def stock_kernel(opt):
    """KERNEL= for demo and bench: one stock kernel, 6.1's by default."""
    kernel = (opt('kernel') or 'stock').split(',')[0]
    if not kernel.startswith('stock'):
        pytest.fail('demo and bench run on a stock kernel, not %s' % kernel,
                    pytrace=False)
    return kernel


@pytest.mark.demo
def test_demo(request, capsys):
    """The main job: the balloon inflated and deflated from the monitor.
    KERNEL=stock-6.12 shows it on Debian's 6.12, whose built-in virtio_pci
    vfc_pci takes the balloon from (takeover=)."""
    opt = request.config.getoption
    drv = DRIVERS[(opt('driver') or 'vfc').split(',')[0]]
    kernel = stock_kernel(opt)
    prepare(kernel)
    with capsys.disabled():
        print('\nBooting the Debian kernel %s under QEMU with a '
              'virtio-balloon-pci device...' % kernel_info(kernel, 'release'))
        g = boot_guest('demo-' + kernel, kernel, opt('device_props') or '',
                       opt('qemu_args'), opt('kernel_args'))
        try:
            print('guest kernel %s up in %.1f s; loading the %s balloon driver'
                  % (g.release, g.boot_seconds, drv.name))
            drv.load(g)
            wait_driver_ok(g, drv)
            for ln in g.sh('dmesg').splitlines():
                if 'vfc_pci: taken over' in ln:
                    print('guest kernel log: ' + ln.split('] ', 1)[-1])

            def show(what):
                info = g.qmp.hmp('info balloon').strip()
                print('%-28s (qemu) info balloon -> %-22s guest MemTotal %8d kB'
                      % (what, info, g.meminfo() // 1024))
            show('start')
            for mib in (1024, 1536, 2048):
                t = time.time()
                print('(qemu) balloon %d' % mib)
                g.qmp.hmp('balloon %d' % mib)
                balloon_to(g, mib * MIB)
                show('after %.1f s' % (time.time() - t))
            drv.unload(g)
            print('driver unloaded')
        finally:
            reports = g.finish()
    assert not reports, quote(reports, g.dir)


def balloon_time(g):
    """vfc's debugfs vfc/<dev>/balloon: {(step, counter): value}."""
    out = g.sh('cat /sys/kernel/debug/vfc/*/balloon')
    vals = {}
    for ln in out.splitlines():
        words = ln.split()
        for k, v in zip(words[1::2], words[2::2]):
            vals[(words[0], k)] = int(v)
    return vals


def time_spent(before, after, step):
    """Where one step of vfc's went, from two balloon_time() readings:
    requests, and seconds allocating, waiting for the device, freeing."""
    d = {k[1]: after[k] - before[k] for k in after if k[0] == step}
    out = {'requests': d['requests']}
    for k in ('alloc_ns', 'device_ns', 'free_ns'):
        if k in d:
            out[k[:-3] + '_s'] = d[k] / 1e9
    return out


@pytest.mark.bench
def test_bench(request, capsys, layout):
    """The balloon steps with the kernel's driver and vfc's in one boot of
    the stock kernel per ring layout, the device moved between them,
    alternating which goes first: median seconds per step and the ratio
    vfc/kernel, which must stay within --max-ratio. DEVICE_PROPS picks one
    layout."""
    opt = request.config.getoption
    rounds = opt('rounds')
    kernel = stock_kernel(opt)
    prepare(kernel)
    g = boot_guest('bench-%s-%s' % (kernel, re.sub(r'[^A-Za-z0-9]+', '_', layout)),
                   kernel,
                   '' if layout == 'split' else layout,
                   opt('qemu_args'), opt('kernel_args'))
    times = {(d, s): [] for d in DRIVERS for s in ('inflate', 'deflate')}
    parts = {s: [] for s in ('inflate', 'deflate')}
    try:
        for d in ('kernel', 'vfc'):
            DRIVERS[d].load(g)
        size = g.mem
        for r in range(rounds):
            for d in (('kernel', 'vfc') if r % 2 == 0 else ('vfc', 'kernel')):
                g.sh('vfc-move %s' % d)
                wait_driver_ok(g, DRIVERS[d])
                for st, target in (('inflate', size - GIB), ('deflate', size)):
                    before = d == 'vfc' and balloon_time(g)
                    t = time.time()
                    balloon_to(g, target, poll=0.01)
                    times[(d, st)].append(time.time() - t)
                    if before:
                        parts[st].append(time_spent(before, balloon_time(g), st))
            with capsys.disabled():
                print('%s: round %d/%d done' % (layout, r + 1, rounds), flush=True)
        DRIVERS['vfc'].unload(g)
        DRIVERS['kernel'].unload(g)
    finally:
        reports = g.finish()
    assert not reports, quote(reports, g.dir)
    worst = 0
    name = layout.split('=')[0]
    lines = []
    for st in ('inflate', 'deflate'):
        k = statistics.median(times[('kernel', st)])
        v = statistics.median(times[('vfc', st)])
        worst = max(worst, v / k)
        lines.append('balloon %s %s kernel %.3f vfc %.3f ratio %.2f' %
                     (name, st, k, v, v / k))
    # Where vfc's time went (median per counter; summed over the CPUs
    # that moved pages, so a sum above the step's time means overlap).
    for st in ('inflate', 'deflate'):
        med = {k: statistics.median(p[k] for p in parts[st]) for k in parts[st][0]}
        lines.append('balloon-where %s %s vfc %s' % (
            name, st, ' '.join('%s %s' % (k, ('%.3f' % v) if isinstance(v, float)
                                          else v) for k, v in med.items())))
    with capsys.disabled():
        print('\n' + '\n'.join(lines) + '\n')
    assert worst <= opt('max_ratio'), 'vfc/kernel %.2f > %.2f' % (
        worst, opt('max_ratio'))


RING_CELLS = 24
RING_FIELDS = ('layout', 'batch', 'indirect', 'event_idx', 'buffers',
               'kernel_ns1k', 'vfc_ns1k', 'kernel_kicks', 'vfc_kicks',
               'kernel_irqs', 'vfc_irqs', 'kernel_cbs', 'vfc_cbs')


@pytest.mark.bench
def test_ring_bench(request, capsys):
    """The ring microbenchmark (bench/vfc_ring_bench.c): vfc's virtqueue and
    the kernel's virtio_ring in one boot of the stock kernel, same DMA
    device, ring size, device, buffers and CPU, alternating. One line per
    cell: median ns per buffer of each, the ratio vfc/kernel, and vfc's
    notifications and interrupts per 1000 buffers (the kernel's after
    them); and a ring-where line: ns per buffer in each phase of the loop
    (add, kick, the device with the interrupt, get), from the warm-up.
    vfc must not notify or interrupt more often than the kernel's ring;
    the times are reported (README, "Benchmark"), not judged. ROUNDS= sets
    the timed runs per cell, 11 at least. The lines also go to
    build/bench-ring-<kernel>.txt."""
    opt = request.config.getoption
    kernel = stock_kernel(opt)
    prepare(kernel)
    g = boot_guest('ring-bench-' + kernel, kernel, '', opt('qemu_args'),
                   opt('kernel_args'))
    lines = []
    try:
        g.sh('modprobe vfc_ring_bench runs=%d' % max(opt('rounds'), 11))
        for i in range(RING_CELLS):
            g.sh('echo %d > /sys/kernel/debug/vfc_ring_bench/run' % i,
                 timeout=600)
            f = g.sh('cat /sys/kernel/debug/vfc_ring_bench/run').split()
            c = dict(zip(RING_FIELDS, f))
            per_k = 1000 / int(c['buffers'])
            k_ns, v_ns = int(c['kernel_ns1k']) / 1000, int(c['vfc_ns1k']) / 1000
            line = ('ring %s batch=%s indirect=%s event_idx=%s kernel_ns %.1f '
                    'vfc_ns %.1f ratio %.2f kicks/1k %.1f irqs/1k %.1f '
                    'kernel_kicks/1k %.1f kernel_irqs/1k %.1f' % (
                        c['layout'], c['batch'], c['indirect'], c['event_idx'],
                        k_ns, v_ns, v_ns / k_ns, int(c['vfc_kicks']) * per_k,
                        int(c['vfc_irqs']) * per_k,
                        int(c['kernel_kicks']) * per_k,
                        int(c['kernel_irqs']) * per_k))
            ph = [int(x) / 1000 for x in f[len(RING_FIELDS):]]
            where = ('ring-where %s batch=%s indirect=%s event_idx=%s '
                     'add/kick/device/get ns kernel %s vfc %s' % (
                         c['layout'], c['batch'], c['indirect'], c['event_idx'],
                         '/'.join('%.0f' % x for x in ph[:4]),
                         '/'.join('%.0f' % x for x in ph[4:])))
            lines += [line, where]
            with capsys.disabled():
                print(('\n' if not i else '') + line + '\n' + where, flush=True)
            # Each stack's device saw every interrupt its callback did.
            assert c['vfc_irqs'] == c['vfc_cbs'], line
            assert c['kernel_irqs'] == c['kernel_cbs'], line
            assert int(c['vfc_kicks']) <= int(c['kernel_kicks']), line
            assert int(c['vfc_irqs']) <= int(c['kernel_irqs']), line
        g.sh('rmmod vfc_ring_bench')
    finally:
        reports = g.finish()
        with open(os.path.join(BUILD, 'bench-ring-%s.txt' % kernel), 'w') as out:
            out.write('\n'.join(lines) + '\n')
    assert not reports, quote(reports, g.dir)
