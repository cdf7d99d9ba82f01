#!/usr/bin/env python3
"""Figures of the sc14441 board with its boot ROM and our test loader, over a
real -serial pty as a user's flashing tool sees them: host CPU while the ROM
waits and while the paced loader polls, upload times, command round trips,
flash read/write/checksum throughput, and how closely the paced clock
follows real time (the loader's idle watchdog: 255 counts of 10 ms)."""
import os
import re
import subprocess
import sys
import tempfile
import time

SOURCE_DIR = os.environ.get("CR16_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", "..", ".."))
BINARY = os.environ.get("CR16_SYSTEM", os.path.join(SOURCE_DIR, "build", "cr16-system"))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "functional", "sc14441"))
import sc14441_host as host  # noqa: E402

LOADER = os.path.join(SOURCE_DIR, "roms", "sc14441-loader.bin")
FLASH_SIZE = 2 << 20


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_share(pid, seconds):
    start_cpu, start = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return 100 * (cpu_seconds(pid) - start_cpu) / (time.monotonic() - start)


def timed(function, *args):
    start = time.monotonic()
    result = function(*args)
    return time.monotonic() - start, result


def main():
    with open(LOADER, "rb") as f:
        loader = f.read()
    with tempfile.TemporaryDirectory() as directory:
        image = os.path.join(directory, "flash.img")
        with open(image, "wb") as f:
            f.write(os.urandom(FLASH_SIZE))
        process = subprocess.Popen(
            [BINARY, "-M", "sc14441", "-drive", "if=mtd,file=%s,format=raw" % image,
             "-serial", "pty", "-monitor", "none", "-display", "none", "-L",
             os.path.join(SOURCE_DIR, "roms")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            line = process.stderr.readline().decode()
            pty = re.search(r"(/dev/pts/\d+)", line).group(1)
            port = host.SerialPort(pty)
            print("sc14441 board (paced at shift 8, 3.9 M instructions/s), %d MiB flash" %
                  (FLASH_SIZE >> 20))
            print("  boot ROM waiting for a host:  %5.2f %% of a core" % cpu_share(process.pid, 5))
            port.flush_input()  # as a tool opening the port does: no stale STX
            elapsed, _ = timed(host.upload, port, loader)
            print("  loader upload (%d bytes):   %5.0f ms (image written to XOR byte)" %
                  (len(loader), 1000 * elapsed))
            client = host.LoaderClient(port)
            client.wait_online()
            rounds = 20
            elapsed, _ = timed(lambda: [client.ping() for _ in range(rounds)])
            print("  ping round trip:              %5.2f ms" % (1000 * elapsed / rounds))
            print("  loader idle (polling):        %5.2f %% of a core" % cpu_share(process.pid, 1.5))
            client.ping()
            data = os.urandom(64 << 10)
            elapsed, _ = timed(client.write_flash, 0x10000, data)
            print("  write_flash 64 KiB:           %5.2f s (%4.0f KiB/s: 16 erases, 256 programs)" %
                  (elapsed, 64 / elapsed))
            elapsed, back = timed(client.read_flash_chunked, 0x10000, len(data))
            assert back == data
            print("  read_flash 64 KiB:            %5.2f s (%4.0f KiB/s)" % (elapsed, 64 / elapsed))
            elapsed, _ = timed(client.checksum, 0, 1 << 20)
            print("  checksum 1 MiB (in the guest):%5.2f s" % elapsed)
            client.ping()
            idle_since = time.monotonic()
            host.wait_for_stx(port, 20)
            print("  idle loader -> watchdog -> ROM's first STX: %.2f s (2.55 s of guest time)" %
                  (time.monotonic() - idle_since))
            port.flush_input()
            elapsed, _ = timed(host.upload, port, bytes(0x3F80))
            print("  largest upload (16256 bytes): %5.0f ms" % (1000 * elapsed))
            port.close()
        finally:
            process.kill()
            process.wait()


if __name__ == "__main__":
    main()
