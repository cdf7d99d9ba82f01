#!/usr/bin/env python3
"""savevm and loadvm of a 14 MiB guest, and the store size of ten snapshots,
beside Debian's QEMU 7.2 doing savevm/loadvm of a 16 MiB arm `virt` guest on
a qcow2 drive in the same run (skipped with a note when QEMU is absent).

Every figure is the time from sending the human monitor command to its
prompt coming back (both monitors on a unix socket), median of N runs.

  cr16-system: -m 14M, a -pflash image, RAM above 64 KiB filled by the
  default firmware's `fill` (non-zero), the firmware itself below.
    savevm (first)    every page hashed and written (a fresh store and process)
    savevm (repeat)   after the guest changed 3 pages: unchanged pages keep
                      their digests (dirty log), only new pages are written
    loadvm (changed)  after the guest changed 3 pages since the save
    loadvm (all)      a snapshot whose every RAM page differs from the guest
                      (two snapshots of different fills, loaded in turn)
    loadvm (cold)     -loadvm's path in a fresh process: nothing known yet
  QEMU: qemu-system-arm -M virt -m 16M -S, 15 MiB of random bytes loaded at
  RAM+1 MiB, a qcow2 drive made by qemu-img; savevm NAME / loadvm NAME.

Usage: snapshot_bench.py [--binary build/cr16-system] [--runs N]
"""
import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

FREE_RAM = 0x10000
RAM = 14 << 20


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """User + system CPU time of process `pid` (all its threads, exited ones
    included), in seconds; resolution one clock tick."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


class Figure:
    """Wall-clock times of a command, and the CPU time its process spent."""

    def __init__(self):
        self.wall = []
        self.cpu = 0.0

    def median_ms(self):
        return statistics.median(self.wall) * 1000

    def cpu_ms(self):
        return self.cpu / len(self.wall) * 1000

    def __str__(self):
        return "%7.1f ms  (CPU %5.1f ms)" % (self.median_ms(), self.cpu_ms())


class Monitor:
    """A human monitor on a unix socket: send a line, wait for the prompt."""

    def __init__(self, path, prompt, process):
        self.prompt = prompt.encode()
        self.process = process
        deadline = time.monotonic() + 20
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                self.sock.close()
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("monitor never came up: %s" %
                                       process.stderr.read().decode(errors="replace"))
                time.sleep(0.02)
        self.buffer = b""
        self.until_prompt()

    def until_prompt(self):
        while self.prompt not in self.buffer:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise RuntimeError("monitor closed: %s" %
                                   self.process.stderr.read().decode(errors="replace"))
            self.buffer += chunk
        index = self.buffer.index(self.prompt) + len(self.prompt)
        text, self.buffer = self.buffer[:index], self.buffer[index:]
        return text.decode(errors="replace")

    def command(self, line):
        """Runs `line`; returns (seconds, output)."""
        start = time.perf_counter()
        self.sock.sendall(line.encode() + b"\r")
        text = self.until_prompt()
        return time.perf_counter() - start, text

    def timed(self, line, figure=None):
        cpu = cpu_seconds(self.process.pid)
        seconds, text = self.command(line)
        if "Error" in text or "error" in text:
            raise RuntimeError("%s: %s" % (line, text))
        if figure is not None:
            figure.cpu += cpu_seconds(self.process.pid) - cpu
            figure.wall.append(seconds)
        return seconds


class Cr16:
    def __init__(self, binary, directory, extra=()):
        self.directory = directory
        self.image = os.path.join(directory, "flash.img")
        sock = os.path.join(directory, "cr16.sock")
        if os.path.exists(sock):
            os.unlink(sock)
        self.process = subprocess.Popen(
            [binary, "-m", "14M", "-drive", "if=pflash,file=%s,create=on" % self.image,
             "-monitor", "unix:%s,server=on,wait=off" % sock, "-serial", "stdio"] + list(extra),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.serial = b""
        self.monitor = Monitor(sock, "(cr16) ", self.process)

    def shell(self, line):
        self.process.stdin.write(line.encode() + b"\r")
        self.process.stdin.flush()
        while self.serial.count(b"cr16> ") < 1:
            chunk = os.read(self.process.stdout.fileno(), 1 << 16)
            if not chunk:
                raise RuntimeError("guest console closed")
            self.serial += chunk
        index = self.serial.index(b"cr16> ") + 6
        text, self.serial = self.serial[:index], self.serial[index:]
        return text.decode(errors="replace")

    def wait_for_prompt(self):
        while b"cr16> " not in self.serial:
            self.serial += os.read(self.process.stdout.fileno(), 1 << 16)
        self.serial = self.serial[self.serial.index(b"cr16> ") + 6:]

    def fill(self, seed, length=RAM - FREE_RAM, address=FREE_RAM):
        text = self.shell("fill 0x%x %d %d" % (address, length, seed))
        if "filled" not in text:
            raise RuntimeError(text)

    def quit(self):
        self.monitor.sock.sendall(b"quit\r")
        self.process.wait(timeout=30)


def store_bytes(store):
    total = 0
    for sub in ("manifests", "packs"):
        path = os.path.join(store, sub)
        if os.path.isdir(path):
            total += sum(os.path.getsize(os.path.join(path, name)) for name in os.listdir(path)
                         if not name.startswith("."))
    return total


def ms(values):
    return "%.1f ms" % (statistics.median(values) * 1000)


def bench_cr16(binary, runs, work):
    figures = {name: Figure() for name in ("first", "repeat", "changed", "full", "cold")}
    for run in range(runs):
        directory = tempfile.mkdtemp(dir=work)
        vm = Cr16(binary, directory)
        vm.wait_for_prompt()
        vm.fill(1)
        vm.monitor.timed("savevm s0", figures["first"])
        if run == 0:
            one = store_bytes(vm.image + ".snapshots")
            for i in range(1, 10):
                vm.fill(100 + i, 3 * 4096, FREE_RAM + i * 0x40000)
                vm.monitor.timed("savevm s%d" % i, figures["repeat"])
            ten = store_bytes(vm.image + ".snapshots")
            figures["store"] = (one, ten)
            vm.fill(2)
            vm.monitor.timed("savevm other")
            for i in range(runs):
                vm.monitor.timed("loadvm s0", figures["full"])
                vm.monitor.timed("loadvm other", figures["full"])
        for i in range(3):
            vm.fill(50 + i, 3 * 4096, FREE_RAM + 0x100000)
            vm.monitor.timed("loadvm s0", figures["changed"])
        vm.quit()
        # A fresh process knows nothing of its memory: loadvm reads everything.
        vm = Cr16(binary, directory)
        vm.wait_for_prompt()
        vm.monitor.timed("loadvm s0", figures["cold"])
        vm.quit()
        shutil.rmtree(directory)
    return figures


def bench_qemu(runs, work):
    qemu = shutil.which("qemu-system-arm")
    qemu_img = shutil.which("qemu-img")
    if not qemu or not qemu_img:
        return None
    directory = tempfile.mkdtemp(dir=work)
    disk = os.path.join(directory, "disk.qcow2")
    subprocess.run([qemu_img, "create", "-q", "-f", "qcow2", disk, "64M"], check=True)
    blob = os.path.join(directory, "ram.bin")
    with open(blob, "wb") as f:
        f.write(os.urandom(15 << 20))
    sock = os.path.join(directory, "qemu.sock")
    process = subprocess.Popen(
        [qemu, "-M", "virt", "-m", "16M", "-S", "-nographic", "-nic", "none", "-serial", "null",
         "-drive", "if=none,file=%s,format=qcow2,id=d0" % disk,
         "-device", "loader,file=%s,addr=0x40100000,force-raw=on" % blob,
         "-monitor", "unix:%s,server=on,wait=off" % sock],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    monitor = Monitor(sock, "(qemu) ", process)
    save, load = Figure(), Figure()
    for i in range(10):
        monitor.timed("savevm q%d" % i, save)
    for i in range(runs * 2):
        monitor.timed("loadvm q%d" % (i % 10), load)
    size = os.path.getsize(disk)
    monitor.sock.sendall(b"quit\r")
    process.wait(timeout=30)
    version = subprocess.run([qemu, "--version"], capture_output=True, text=True).stdout
    shutil.rmtree(directory)
    return {"save": save, "load": load, "size": size, "version": version.splitlines()[0]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default=os.path.join("build", "cr16-system"))
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="cr16-snapshot-bench-")
    with open("/proc/loadavg") as f:
        load_before = f.read().split()[0]
    try:
        ours = bench_cr16(args.binary, args.runs, work)
        qemu = bench_qemu(args.runs, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    with open("/proc/loadavg") as f:
        load_after = f.read().split()[0]
    one, ten = ours["store"]
    print("snapshot benchmark: 14 MiB guest, median wall time (mean CPU time of the process), "
          "%d runs; load average %s before, %s after" % (args.runs, load_before, load_after))
    print("  cr16-system savevm, first (every page)      %s" % ours["first"])
    print("  cr16-system savevm, 3 pages changed         %s" % ours["repeat"])
    print("  cr16-system loadvm, 3 pages changed         %s" % ours["changed"])
    print("  cr16-system loadvm, every RAM page differs  %s" % ours["full"])
    print("  cr16-system loadvm, fresh process           %s" % ours["cold"])
    print("  cr16-system store: one snapshot %.2f MiB, ten %.2f MiB (x%.3f)" %
          (one / 2**20, ten / 2**20, ten / one))
    if qemu is None:
        print("  QEMU: skipped (qemu-system-arm or qemu-img not installed; "
              "scripts/install-bench-deps.sh)")
        return
    print("  %s, -M virt -m 16M, qcow2:" % qemu["version"])
    print("  QEMU savevm                                 %s (first %.1f ms, tenth %.1f ms)" %
          (qemu["save"], qemu["save"].wall[0] * 1000, qemu["save"].wall[-1] * 1000))
    print("  QEMU loadvm                                 %s" % qemu["load"])
    print("  QEMU qcow2 after ten snapshots              %.2f MiB" % (qemu["size"] / 2**20))
    print("  ours / QEMU (goal <= 0.25), wall (CPU):")
    for label, mine, theirs in (("savevm first", "first", "save"), ("savevm repeat", "repeat", "save"),
                                ("loadvm changed", "changed", "load"),
                                ("loadvm every page", "full", "load"),
                                ("loadvm fresh", "cold", "load")):
        print("    %-18s %.3f (%.3f)" % (label, ours[mine].median_ms() / qemu[theirs].median_ms(),
                                         ours[mine].cpu_ms() / max(qemu[theirs].cpu_ms(), 1e-9)))


if __name__ == "__main__":
    sys.exit(main())
