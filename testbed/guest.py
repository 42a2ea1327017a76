# SPDX-License-Identifier: GPL-2.0
"""One QEMU guest of the vfc test bed: boot, run commands, drive QMP, and
judge the console log for kernel reports."""

import gzip
import itertools
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(TOP, 'build')
MIB = 1 << 20
GIB = 1 << 30


class GuestError(Exception):
    """The guest or QEMU did not do what a scenario needed."""


class BootReport(GuestError):
    """The guest kernel reported a problem while booting, before /init:
    before anything of the project was loaded."""


def kernel_info(kernel, what):
    return subprocess.check_output(
        [os.path.join(TOP, 'scripts', 'kernel-info.sh'), kernel, what],
        text=True).strip()


# A kernel report anywhere in a guest's log fails its run. Each pattern is
# the start of a report as the kernel prints it.
REPORT_PATTERNS = [
    r'\bBUG: ',                       # KASAN, sleeping in atomic, soft lockup
    r'\bWARNING: ',                   # WARN_ON and lockdep splats
    r'-+\[ cut here \]-+',
    r'\bOops\b',
    r'kernel BUG at',
    r'general protection fault',
    r'Kernel panic',
    r'UBSAN: ',
    r'DMA-API: (?!preallocated|debugging enabled)',
    r'INFO: task .* blocked for more than',
    r'INFO: trying to register non-static key',
    r'DEBUG_LOCKS_WARN_ON',
    r'rcu: INFO: .* detected stalls?',
    r'unreferenced object 0x',
    r'kmemleak: \d+ new suspected memory leaks',
]
REPORT_RE = re.compile('|'.join('(?:%s)' % p for p in REPORT_PATTERNS))


def kernel_reports(text):
    """The lines of text that start or are part of a kernel report."""
    return [ln for ln in text.splitlines() if REPORT_RE.search(ln)]


def kvm_usable():
    """Whether a KVM guest really boots here. On some machines /dev/kvm
    exists and KVM guests hang, so this boots the stock kernel under KVM,
    bounded in time, with no root file system: a guest that works reaches
    the kernel's "unable to mount root" panic within seconds. VFC_ACCEL=kvm
    or tcg overrides; the answer is kept in /tmp for the host's uptime."""
    if os.environ.get('VFC_ACCEL') in ('kvm', 'tcg'):
        return os.environ['VFC_ACCEL'] == 'kvm'
    if not os.access('/dev/kvm', os.R_OK | os.W_OK):
        return False
    stamp = '/tmp/vfc-kvm-probe'
    if os.path.exists(stamp):
        return open(stamp).read().strip() == 'yes'
    try:
        p = subprocess.run(
            ['qemu-system-x86_64', '-machine', 'q35', '-accel', 'kvm',
             '-cpu', 'host', '-smp', '2', '-m', '512', '-nodefaults',
             '-display', 'none', '-no-reboot', '-serial', 'stdio',
             '-kernel', kernel_info('stock', 'image'),
             '-append', 'console=ttyS0 panic=-1'],
            timeout=20, capture_output=True, stdin=subprocess.DEVNULL)
        ok = b'Unable to mount root' in p.stdout
    except subprocess.TimeoutExpired:
        ok = False
    with open(stamp, 'w') as f:
        f.write('yes' if ok else 'no')
    return ok


class Qmp:
    """A minimal QMP client over QEMU's unix socket (Debian bookworm
    packages no QMP client library)."""

    def __init__(self, path, proc, timeout=30):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        deadline = time.time() + timeout
        while True:
            try:
                self.sock.connect(path)
                break
            except OSError:
                if proc.poll() is not None:
                    raise GuestError('QEMU exited (%d) before its QMP '
                                     'socket opened' % proc.returncode)
                if time.time() > deadline:
                    raise GuestError('QMP socket %s did not open' % path)
                time.sleep(0.1)
        self.timeout = timeout
        self.sock.settimeout(timeout)
        self.buf = b''
        self.events = []
        self._read()                    # greeting
        self.cmd('qmp_capabilities')

    def _read(self, timeout=None):
        """The next message; None if none came within timeout (when
        given)."""
        deadline = time.time() + (timeout if timeout is not None
                                  else self.timeout)
        while b'\n' not in self.buf:
            left = deadline - time.time()
            if left <= 0:
                if timeout is not None:
                    return None
                raise GuestError('QMP: no answer in %d s' % self.timeout)
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            if not data:
                raise GuestError('QMP connection closed')
            self.buf += data
        line, self.buf = self.buf.split(b'\n', 1)
        return json.loads(line)

    def cmd(self, name, **args):
        msg = {'execute': name}
        if args:
            msg['arguments'] = args
        self.sock.sendall(json.dumps(msg).encode() + b'\n')
        while True:
            reply = self._read()
            if 'event' in reply:
                self.events.append(reply)
                continue
            if 'error' in reply:
                raise GuestError('QMP %s: %s' % (name, reply['error']['desc']))
            return reply.get('return')

    def hmp(self, line):
        return self.cmd('human-monitor-command', **{'command-line': line})

    def wait_event(self, name, timeout):
        """The next event called name, from those already received or
        arriving within timeout seconds; None if none came."""
        deadline = time.time() + timeout
        while True:
            for i, ev in enumerate(self.events):
                if ev['event'] == name:
                    return self.events.pop(i)
            left = deadline - time.time()
            if left <= 0:
                return None
            msg = self._read(left)
            if msg is None:
                return None
            if 'event' in msg:
                self.events.append(msg)

    def drop_events(self, name):
        self.events = [ev for ev in self.events if ev['event'] != name]

    def close(self):
        self.sock.close()


def build_initramfs(kernel, out):
    """A busybox initramfs with the project's modules and, for reference
    runs, the kernel's own virtio modules, with depmod's index."""
    rel = kernel_info(kernel, 'release')
    kmods = kernel_info(kernel, 'modules')
    root = tempfile.mkdtemp(prefix='vfc-initramfs-')
    try:
        for d in ('bin', 'sbin', 'proc', 'sys', 'dev', 'tmp', 'etc', 'root'):
            os.makedirs(os.path.join(root, d))
        shutil.copy('/bin/busybox', os.path.join(root, 'bin', 'busybox'))
        for f in ('init', 'agent.sh', 'bind-sweep.sh'):
            shutil.copy(os.path.join(TOP, 'testbed', 'guest', f),
                        os.path.join(root, f))
        guest_bin = os.path.join(TOP, 'guest')
        if os.path.isdir(guest_bin):
            for f in os.listdir(guest_bin):
                shutil.copy(os.path.join(guest_bin, f),
                            os.path.join(root, 'bin', f))
        moddir = os.path.join(root, 'lib', 'modules', rel)
        os.makedirs(moddir)
        for f in ('modules.order', 'modules.builtin', 'modules.builtin.modinfo'):
            if os.path.exists(os.path.join(kmods, f)):
                shutil.copy(os.path.join(kmods, f), moddir)
        # The kernel's virtio and its virtio-rng (with the hwrng core where
        # that is a module): the reference drivers.
        for sub in (('drivers', 'virtio'), ('drivers', 'char', 'hw_random')):
            src = os.path.join(kmods, 'kernel', *sub)
            if os.path.isdir(src):
                shutil.copytree(src, os.path.join(moddir, 'kernel', *sub))
        # Debian's 6.12 compresses its modules; busybox's modprobe loads
        # plain ones.
        for dirpath, _, files in os.walk(moddir):
            for f in files:
                if f.endswith('.ko.xz'):
                    subprocess.run(['xz', '-d', os.path.join(dirpath, f)],
                                   check=True)
        # vfc_pci takes the devices vfc has drivers for from the kernel's
        # virtio_pci (built in on 6.12), as the README tells a user to.
        os.makedirs(os.path.join(root, 'etc', 'modprobe.d'))
        with open(os.path.join(root, 'etc', 'modprobe.d', 'vfc.conf'), 'w') as f:
            f.write(MODPROBE_CONF)
        extra = os.path.join(moddir, 'extra')
        os.makedirs(extra)
        built = os.path.join(BUILD, kernel, 'src')
        for dirpath, _, files in os.walk(built):
            for f in files:
                if f.endswith('.ko'):
                    shutil.copy(os.path.join(dirpath, f), extra)
        subprocess.run(['depmod', '-b', root, rel], check=True)
        cpio = subprocess.Popen(['cpio', '-o', '-H', 'newc', '--quiet'],
                                cwd=root, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE)
        names = []
        for dirpath, dirs, files in os.walk(root):
            for n in dirs + files:
                names.append(os.path.relpath(os.path.join(dirpath, n), root))
        data, _ = cpio.communicate('\n'.join(names).encode() + b'\n')
        if cpio.returncode:
            raise GuestError('cpio failed')
        with gzip.open(out, 'wb', compresslevel=1) as f:
            f.write(data)
    finally:
        shutil.rmtree(root)


MODPROBE_CONF = 'options vfc_pci takeover=balloon,rng\n'

_prepared = set()


def prepare(kernel):
    """The kernel, vfc's modules for it and its initramfs, once a session."""
    if kernel in _prepared:
        return
    if kernel.startswith('test'):
        line = kernel.partition('-')[2] or '6.1'
        subprocess.run([os.path.join(TOP, 'scripts', 'build-kernel.sh'), line],
                       check=True, stdout=subprocess.DEVNULL)
    subprocess.run([os.path.join(TOP, 'scripts', 'build-modules.sh'), kernel],
                   check=True)
    os.makedirs(os.path.join(BUILD, kernel), exist_ok=True)
    build_initramfs(kernel, os.path.join(BUILD, kernel, 'initramfs.cpio.gz'))
    _prepared.add(kernel)


IOTHREAD = 'vfc-io'


def qemu_command(kernel, initrd, append, mem_mib=2048, device_props='',
                 qemu_args='', balloon=True, iommu=False, rng=None):
    """The QEMU command line of a test guest, without its serial ports and
    monitor: q35, 2 vCPUs, and a modern-only virtio-balloon-pci behind a
    PCIe root port; with rng (its properties, '' for none), a modern-only
    virtio-rng-pci behind a second one. Each sits alone on its port, so
    device_del and device_add unplug and plug it as a user's would."""
    accel = 'kvm' if kvm_usable() else 'tcg,thread=multi'
    cmd = ['qemu-system-x86_64', '-machine', 'q35', '-accel', accel,
           '-cpu', 'max', '-smp', '2', '-m', str(mem_mib),
           '-nodefaults', '-display', 'none', '-no-reboot',
           '-kernel', kernel_info(kernel, 'image'), '-initrd', initrd,
           '-append', append]
    # The balloon's free page hinting runs in an iothread (QEMU wants one
    # for free-page-hint=on): there is one for any balloon plugged later.
    cmd += ['-object', 'iothread,id=%s' % IOTHREAD]
    if iommu:
        # Before any other PCI device, as QEMU wants.
        cmd += ['-device', 'intel-iommu']
    cmd += ['-device', 'pcie-root-port,id=rp1,chassis=1,slot=1']
    if balloon:
        cmd += ['-device', balloon_device(device_props)]
    if rng is not None:
        cmd += ['-device', 'pcie-root-port,id=rp2,chassis=2,slot=2',
                '-device', rng_device(rng)]
    return cmd + qemu_args.split()


def balloon_device(props=''):
    """The -device (and device_add) argument of the test guests' balloon."""
    return 'virtio-balloon-pci,id=balloon0,bus=rp1,disable-legacy=on' + \
        (',' + props if props else '')


def rng_device(props=''):
    """The -device (and device_add) argument of the test guests' rng."""
    return 'virtio-rng-pci,id=rng0,bus=rp2,disable-legacy=on' + \
        (',' + props if props else '')


def device_del(g, dev_id, timeout=60):
    """Unplug a device as a user does (device_del: the guest's pciehp
    removes it after its 5 s attention-button wait); seconds it took."""
    g.qmp.drop_events('DEVICE_DELETED')
    t = time.time()
    g.qmp.cmd('device_del', id=dev_id)
    while True:
        ev = g.qmp.wait_event('DEVICE_DELETED', t + timeout - time.time())
        if ev is None:
            raise GuestError('%s was not removed within %d s' % (dev_id, timeout))
        if ev.get('data', {}).get('device') == dev_id:
            return time.time() - t


def device_add(g, spec):
    """Plug a device back: device_add with a -device style spec."""
    driver, *props = spec.split(',')
    args = dict(p.split('=', 1) for p in props)
    g.qmp.cmd('device_add', driver=driver, **args)


def swap_balloon(g, props, timeout=30):
    """Replace the guest's balloon, with no driver of the project's bound,
    by one with other properties (device_del, device_add) and wait until
    the guest has enumerated it: a boot serves several ring rows so."""
    device_del(g, 'balloon0')
    device_add(g, balloon_device(props))
    g.device_props = props
    deadline = time.time() + timeout
    while g.run('grep -qx 0x1045 /sys/bus/pci/devices/*/device', check=False)[0]:
        if time.time() > deadline:
            raise GuestError('the balloon plugged back did not appear in %d s'
                             % timeout)
        time.sleep(0.2)


KERNEL_ARGS = 'console=ttyS0 loglevel=5 panic=-1 log_buf_len=8M printk.devkmsg=on'

# The test kernels zero every page they free: a balloon driver must then
# tell the device so (VIRTIO_BALLOON_F_PAGE_POISON), and the checkers watch
# that path; the stock kernels run without, the path most guests take.
TEST_KERNEL_ARGS = 'init_on_free=1'


class Guest:
    """A QEMU q35 guest with a virtio-balloon-pci device and a QMP socket.
    The kernel's console is the first serial port (console.log); the
    runner's commands and their output travel on the second (agent.log),
    so a kernel message printed during a command never lands in its
    output."""

    def __init__(self, name, kernel='stock', device_props='', qemu_args='',
                 kernel_args='', mem_mib=2048, balloon=True, iommu=False,
                 rng=None, incoming=None):
        self.name = name
        self.kernel = kernel
        self.device_props = device_props
        self.balloon = balloon
        self.mem = mem_mib * MIB
        self.dir = os.path.join(BUILD, 'runs', name)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.log_path = os.path.join(self.dir, 'console.log')
        self.dmesg_path = os.path.join(self.dir, 'dmesg.log')
        self.boot_note = ''
        self.console_seen = 0           # console.log bytes already judged
        self.dmesg_seen = 0             # dmesg lines already judged
        self.pending = ''               # command output still to be judged
        initrd = os.path.join(BUILD, kernel, 'initramfs.cpio.gz')
        if not os.path.exists(initrd):
            build_initramfs(kernel, initrd)
        # Sockets in a short directory: unix socket paths are limited to
        # 108 bytes, and the checkout may live anywhere.
        self.sock_dir = tempfile.mkdtemp(prefix='vfc-')
        agent_path = os.path.join(self.sock_dir, 'agent.sock')
        qmp_path = os.path.join(self.sock_dir, 'qmp.sock')
        if iommu:
            # Debian's kernel leaves the Intel IOMMU off unless asked.
            kernel_args = (kernel_args + ' intel_iommu=on').strip()
        if kernel.startswith('test'):
            kernel_args = (TEST_KERNEL_ARGS + ' ' + kernel_args).strip()
        cmd = qemu_command(kernel, initrd, (KERNEL_ARGS + ' ' + kernel_args).strip(),
                           mem_mib, device_props, qemu_args, balloon, iommu,
                           rng)
        # The console goes straight to its file: a reader that fell behind
        # would slow the guest's every printk to the serial line's pace.
        cmd += ['-chardev', 'file,id=con,path=%s' % self.log_path,
                '-serial', 'chardev:con',
                '-chardev', 'socket,id=agent,path=%s,server=on,wait=off,'
                'logfile=%s' % (agent_path, os.path.join(self.dir, 'agent.log')),
                '-serial', 'chardev:agent']
        cmd += ['-qmp', 'unix:%s,server=on,wait=off' % qmp_path]
        if incoming:
            cmd += ['-incoming', incoming]
        with open(os.path.join(self.dir, 'qemu.cmd'), 'w') as f:
            f.write(' '.join(cmd) + '\n')
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=open(os.path.join(self.dir, 'qemu.out'), 'w'),
                                     stderr=subprocess.STDOUT)
        self.qmp = None
        self.agent = None
        self.buf = b''
        try:
            self.qmp = Qmp(qmp_path, self.proc)
            self.agent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.agent.connect(agent_path)
            t = time.time()
            if incoming:
                # No boot: the guest runs on from the migrated state.
                self._wait_incoming(180)
                self.release = None
            else:
                banner = self._expect(re.compile(rb'@@VFC-READY (\S+)\r?\n'),
                                      180)
                self.release = banner.group(1).decode()
            self.boot_seconds = time.time() - t
            # A report before /init ran is the guest kernel's own boot, with
            # nothing of the project loaded yet: the caller may boot again.
            boot = self.new_reports(dmesg=False)
            if boot:
                raise BootReport(boot[0].strip())
        except GuestError as e:
            self.close()
            with open(os.path.join(self.dir, 'qemu.out'), errors='replace') as f:
                said = f.read().strip().splitlines()
            # Keep the error's kind (BootReport) for the caller.
            raise type(e)('%s%s' % (e, ': ' + said[0] if said else ''))
        except Exception:
            self.close()
            raise

    def _wait_incoming(self, timeout):
        """Wait until an incoming migration is loaded and the guest runs."""
        deadline = time.time() + timeout
        while True:
            st = self.qmp.cmd('query-migrate').get('status')
            if st == 'failed':
                raise GuestError('guest %s: incoming migration failed' %
                                 self.name)
            if st == 'completed' and \
                    self.qmp.cmd('query-status')['status'] == 'running':
                return
            if time.time() > deadline:
                raise GuestError('guest %s: incoming migration not running '
                                 'in %d s (%s)' % (self.name, timeout, st))
            time.sleep(0.5)

    def resync(self, timeout=120):
        """Find the agent's answers again after its serial line was reset
        (a system sleep): characters sent meanwhile may be lost, and an
        answer may come late. Send numbered markers until one comes back,
        dropping whatever arrived before it."""
        deadline = time.time() + timeout
        for n in itertools.count(1):
            marker = b'vfc-sync-%d' % n
            self.agent.sendall(b'echo ' + marker + b'\n')
            try:
                self._expect(re.compile(rb'@@VFC-BEGIN\r?\n' + marker +
                                        rb'\r?\n@@VFC-END 0\r?\n'),
                             max(1, min(10, deadline - time.time())))
                return
            except GuestError:
                if time.time() > deadline or self.proc.poll() is not None:
                    raise GuestError('guest %s: its agent did not answer '
                                     'again within %d s' % (self.name, timeout))

    def _expect(self, regex, timeout):
        deadline = time.time() + timeout
        while True:
            m = regex.search(self.buf)
            if m:
                self.buf = self.buf[m.end():]
                return m
            left = deadline - time.time()
            if left <= 0 or self.proc.poll() is not None:
                why = 'exited' if self.proc.poll() is not None else \
                    'did not answer in %d s' % timeout
                raise GuestError('guest %s %s; console log: %s' %
                                 (self.name, why, self.log_path))
            self.agent.settimeout(min(left, 1.0))
            try:
                data = self.agent.recv(65536)
            except socket.timeout:
                continue
            if not data:
                raise GuestError('guest %s closed its agent port' % self.name)
            self.buf += data

    def run(self, command, timeout=120, check=True):
        """Run a shell command in the guest; returns (exit code, output)."""
        if '\n' in command:
            raise ValueError('one line per command')
        try:
            self.agent.sendall(command.encode() + b'\n')
        except OSError as e:
            raise GuestError('guest %s agent port closed (%s); console log: %s'
                             % (self.name, e, self.log_path))
        m = self._expect(re.compile(rb'@@VFC-BEGIN\r?\n(.*?)@@VFC-END (\d+)\r?\n',
                                    re.S), timeout)
        out = m.group(1).decode(errors='replace').replace('\r', '')
        rc = int(m.group(2))
        if check and rc:
            raise GuestError('guest command failed (%d): %s\n%s' %
                             (rc, command, out))
        return rc, out

    def sh(self, command, timeout=120):
        return self.run(command, timeout)[1]

    def meminfo(self, field='MemTotal'):
        out = self.sh('cat /proc/meminfo')
        m = re.search(r'^%s:\s+(\d+) kB' % field, out, re.M)
        if not m:
            raise GuestError('no %s in /proc/meminfo' % field)
        return int(m.group(1)) * 1024

    def qemu_rss(self):
        """QEMU's resident set size in bytes: the guest memory the host
        really holds (and what it gets back when the guest's free pages
        are reported and discarded)."""
        with open('/proc/%d/status' % self.proc.pid) as f:
            m = re.search(r'^VmRSS:\s+(\d+) kB', f.read(), re.M)
        return int(m.group(1)) * 1024

    def kmemleak_scan(self):
        """Force kmemleak scans where the kernel has kmemleak; what it
        reports is judged by the next new_reports()."""
        if self.run('test -e /sys/kernel/debug/kmemleak', check=False)[0]:
            return
        # kmemleak reports an object only once it is 5 s old and unchanged
        # since the scan before: scan twice, the second at least 6 s after
        # the first began (a scan here takes longer than that).
        self.pending += self.sh(
            't=$(date +%s); echo scan > /sys/kernel/debug/kmemleak; '
            'sleep $((t + 6 - $(date +%s))) 2>/dev/null; '
            'echo scan > /sys/kernel/debug/kmemleak; '
            'cat /sys/kernel/debug/kmemleak', timeout=300)

    def new_reports(self, dmesg=True):
        """The kernel reports that appeared since the last call: in the
        console log, in the kernel log (kept in dmesg.log) and in forced
        kmemleak scans."""
        with open(self.log_path, 'rb') as f:
            f.seek(self.console_seen)
            data = f.read()
        self.console_seen += len(data)
        text = data.decode(errors='replace')
        if dmesg and self.agent:
            # Only what is new: the whole log each time is slow to carry.
            lines = self.sh('dmesg | tail -n +%d' % (self.dmesg_seen + 1),
                            timeout=60).splitlines()
            self.dmesg_seen += len(lines)
            with open(self.dmesg_path, 'a') as f:
                f.write(''.join(ln + '\n' for ln in lines))
            text += '\n' + '\n'.join(lines)
        text += '\n' + self.pending
        self.pending = ''
        return kernel_reports(text)

    def close(self):
        if self.agent:
            self.agent.close()
            self.agent = None
        if self.qmp:
            try:
                self.qmp.cmd('quit')
            except Exception:
                pass
            self.qmp.close()
            self.qmp = None
        if self.proc.poll() is None:
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.sock_dir, ignore_errors=True)

    def finish(self):
        """End the boot: a last kmemleak scan, the kernel log kept, QEMU
        stopped; returns the kernel reports not yet judged. A guest that no
        longer answers is judged by its console log alone, and what went
        wrong is kept in finish_error."""
        self.finish_error = None
        reports = []
        try:
            self.kmemleak_scan()
            reports = self.new_reports()
        except GuestError as e:
            self.finish_error = e
            reports = self.new_reports(dmesg=False)
        finally:
            self.close()
        return reports


def boot_guest(name, *args, **kwargs):
    """Boot a guest. A kernel report during the guest kernel's own boot,
    before /init and so before anything of the project is loaded, fails
    that boot, not the run: boot once more, keep the first boot's
    directory as <name>-boot1 and say so in boot_note. A second such boot
    fails."""
    try:
        return Guest(name, *args, **kwargs)
    except BootReport as e:
        first = os.path.join(BUILD, 'runs', name)
        kept = first + '-boot1'
        shutil.rmtree(kept, ignore_errors=True)
        os.rename(first, kept)
        g = Guest(name, *args, **kwargs)
        g.boot_note = ('booted twice: boot report "%s", see build/runs/%s-boot1/'
                       % (e, name))
        return g
