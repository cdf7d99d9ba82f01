"""Live migration over loopback: cr16-system against Debian's QEMU 7.2.

Ours: a 14 MiB virt guest whose RAM the firmware fills with non-zero bytes
(`fill`), then rewrites continuously (`dirty KIB`) while it migrates over
tcp:127.0.0.1, plain and with multifd (2 channels) + zero-copy-send.
QEMU: `qemu-system-arm -M virt -m 16M` with its RAM filled with random
bytes (-device loader), plain and with multifd + zero-copy-send. Both get
max-bandwidth 10 GiB/s and downtime-limit 300 ms (QEMU's default).

Figures per case: total time, downtime (QEMU's definition: from the stop of
the source VM to the end of the migration on the source; ours includes
waiting for the destination's confirmation), bytes sent, passes (dirty sync
count); the median of RUNS runs, with min and max. Asserts only
correctness: every migration completes and the destination runs.

Usage: migration_bench.py [--runs N] [--dirty KIB] [--binary PATH]
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

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "functional", "migration"))
import migration_harness as m  # noqa: E402

RAM = "14M"
FILL_START = 0x10000
FILL_LENGTH = 14 * 1024 * 1024 - FILL_START
BANDWIDTH_BYTES = 10 * 1024 ** 3
DOWNTIME_MS = 300


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ours_once(directory, dirty_kib, multifd):
    port = free_port()
    destination = m.Vm(directory, "dst", ["-incoming", "tcp:127.0.0.1:%d" % port], RAM)
    source = m.Vm(directory, "src", [], RAM)
    try:
        destination.status()  # listening once QMP answers
        source.console.expect(m.PROMPT)
        source.shell("fill 0x%x %d 5" % (FILL_START, FILL_LENGTH), timeout=120)
        if dirty_kib:
            source.console.send("dirty %d\r" % dirty_kib)
            source.console.expect("until a key is pressed")
            time.sleep(0.2)
        source.qmp.set_parameters(max_bandwidth=BANDWIDTH_BYTES, downtime_limit=DOWNTIME_MS)
        if multifd:
            source.qmp.set_capabilities("multifd", "zero-copy-send")
        source.qmp.command("migrate", {"uri": "tcp:127.0.0.1:%d" % port})
        info = source.qmp.wait_migration(timeout=120)
        if info["status"] != "completed":
            raise AssertionError("migration %s" % info)
        if destination.status() != "running":
            raise AssertionError("the destination does not run")
        return {
            "total_ms": info["total-time-us"] / 1000.0,
            "downtime_ms": info["downtime-us"] / 1000.0,
            "bytes": int(info["ram"]["transferred"]),
            "passes": int(info["ram"]["dirty-sync-count"]),
            "zero_copy_sends": int(info["zero-copy"]["sends"]),
        }
    finally:
        source.close()
        destination.close()


def qemu_once(directory, multifd):
    qemu = shutil.which("qemu-system-arm")
    image = os.path.join(directory, "ram.bin")
    if not os.path.exists(image):
        with open(image, "wb") as f:
            f.write(os.urandom(15 * 1024 * 1024))  # the RAM after QEMU's 1 MiB DTB area
    port = free_port()
    base = [qemu, "-M", "virt", "-m", "16M", "-nographic", "-nodefaults", "-display", "none"]
    source = subprocess.Popen(base + ["-device", "loader,file=%s,addr=0x40100000,force-raw=on" % image,
                                      "-qmp", "unix:%s/qs.sock,server=on,wait=off" % directory],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    destination = subprocess.Popen(base + ["-incoming", "tcp:127.0.0.1:%d" % port, "-qmp",
                                           "unix:%s/qd.sock,server=on,wait=off" % directory],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # The harness's QMP client speaks to QEMU as well as to us.
        s = m.Qmp(directory + "/qs.sock")
        d = m.Qmp(directory + "/qd.sock")
        if multifd:
            for side in (s, d):
                side.set_capabilities("multifd")
            s.set_capabilities("zero-copy-send")
        s.set_parameters(max_bandwidth=BANDWIDTH_BYTES, downtime_limit=DOWNTIME_MS)
        s.command("migrate", {"uri": "tcp:127.0.0.1:%d" % port})
        deadline = time.monotonic() + 120
        while True:
            info = s.command("query-migrate")
            if info.get("status") in ("completed", "failed", "cancelled"):
                break
            if time.monotonic() > deadline:
                raise AssertionError("QEMU's migration did not end: %s" % info)
            time.sleep(0.005)
        if info["status"] != "completed":
            raise AssertionError("QEMU's migration %s" % info)
        # QEMU's source completes before its destination has started the
        # guest: wait for that (not part of the figures, as for ours).
        deadline = time.monotonic() + 20
        while d.command("query-status")["status"] != "running":
            if time.monotonic() > deadline:
                raise AssertionError("QEMU's destination does not run")
            time.sleep(0.005)
        s.close()
        d.close()
        return {
            "total_ms": float(info["total-time"]),
            "downtime_ms": float(info["downtime"]),
            "bytes": int(info["ram"]["transferred"]),
            "passes": int(info["ram"]["dirty-sync-count"]),
            "zero_copy_sends": 0,
        }
    finally:
        for process in (source, destination):
            process.kill()
            process.wait()


def summarize(name, results):
    def spread(key, scale=1.0, digits=2):
        values = sorted(r[key] * scale for r in results)
        return "%.*f (%.*f-%.*f)" % (digits, statistics.median(values), digits, values[0], digits,
                                    values[-1])
    print("| %s | %s | %s | %s | %s |" % (name, spread("total_ms"), spread("downtime_ms", digits=3),
                                         spread("bytes", 1 / 1048576.0, 1),
                                         spread("passes", digits=0)))
    return statistics.median(r["total_ms"] for r in results)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--dirty", type=int, default=1024, help="KiB the guest rewrites")
    parser.add_argument("--binary", default=os.environ.get("CR16_SYSTEM"))
    arguments = parser.parse_args()
    if arguments.binary:
        m.h.BINARY = arguments.binary
    print("migration over loopback, %d runs each: median (min-max)" % arguments.runs)
    print("cr16-system: %s RAM filled, `dirty %d` running; QEMU 7.2: -m 16M, RAM random"
          % (RAM, arguments.dirty))
    print()
    print("| case | total time ms | downtime ms | sent MiB | passes |")
    print("|---|---|---|---|---|")
    medians = {}
    with tempfile.TemporaryDirectory() as directory:
        for multifd in (False, True):
            name = "cr16-system" + (", multifd + zero-copy" if multifd else "")
            results = [ours_once(directory, arguments.dirty, multifd)
                       for _ in range(arguments.runs)]
            medians[("ours", multifd)] = summarize(name, results)
        if shutil.which("qemu-system-arm") is None:
            print("\nQEMU (qemu-system-arm) is not installed: scripts/install-bench-deps.sh")
            return 0
        for multifd in (False, True):
            name = "QEMU 7.2" + (", multifd + zero-copy" if multifd else "")
            results = [qemu_once(directory, multifd) for _ in range(arguments.runs)]
            medians[("qemu", multifd)] = summarize(name, results)
    print()
    for multifd in (False, True):
        ours, theirs = medians[("ours", multifd)], medians[("qemu", multifd)]
        print("total time %s: cr16-system %.2f ms, QEMU %.2f ms: %.1fx faster"
              % ("multifd" if multifd else "plain", ours, theirs, theirs / ours))
    return 0


if __name__ == "__main__":
    sys.exit(main())
