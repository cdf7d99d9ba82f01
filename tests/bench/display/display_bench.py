"""The display's cost: host CPU of an idle screen and frames per second of
the default firmware's `anim` (640x480 XRGB8888, every pixel changes each
frame), with no front end, over VNC to one viewer (Raw and Zlib), and in the
SDL window under Xvfb (when Xvfb is installed).

Figures per case: the guest's frames per second (`anim: N frames` over the
measured seconds), what the viewer received (updates/s, MB/s), and the
process's host CPU (user + system time over wall time, % of one core).
Idle: the firmware at its prompt with the boot screen shown, 10 s.

Usage: display_bench.py [--seconds N] [--binary PATH]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "functional", "cli"))
import cr16_harness as h  # noqa: E402
from rfb_viewer import RAW, ZLIB, RfbViewer  # noqa: E402

PROMPT = "cr16> "
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


class Xvfb:
    def __init__(self):
        read_fd, write_fd = os.pipe()
        self.process = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x1024x24", "-nolisten",
             "tcp"], pass_fds=[write_fd], stderr=subprocess.DEVNULL)
        os.close(write_fd)
        with os.fdopen(read_fd) as f:
            self.display = ":" + f.readline().strip()

    def close(self):
        self.process.terminate()
        self.process.wait()


def start(args):
    console = h.start_with_pipes(["-serial", "stdio", "-monitor", "none"] + args)
    console.expect(PROMPT)
    return console


def measure(console, seconds, during=None):
    pid = console.process.pid
    cpu0, t0 = cpu_seconds(pid), time.monotonic()
    if during:
        during(seconds)
    else:
        time.sleep(seconds)
    return 100.0 * (cpu_seconds(pid) - cpu0) / (time.monotonic() - t0)


def viewer_thread(address, encoding, stop, samples):
    """Reads updates until STOP; SAMPLES gets (time, bytes so far) after each."""
    viewer = RfbViewer(address, encoding)
    try:
        while not stop.is_set():
            viewer.next_update()
            samples.append((time.monotonic(), viewer.bytes))
    except (ConnectionError, OSError):
        pass
    viewer.close()


def window_figures(samples, start, end):
    """Updates per second and MB/s the viewer received between START and END."""
    inside = [(t, b) for t, b in samples if start <= t <= end]
    if len(inside) < 2:
        return {"updates_per_s": 0.0, "mb_per_s": 0.0}
    (t0, b0), (t1, b1) = inside[0], inside[-1]
    return {"updates_per_s": (len(inside) - 1) / (t1 - t0), "mb_per_s": (b1 - b0) / (t1 - t0) / 1e6}


def run_case(name, extra_args, seconds, vnc=None, env=None):
    """Idle CPU, then anim: guest fps, CPU, viewer figures."""
    old_env = os.environ.copy()
    if env:
        os.environ.update(env)
    try:
        console = start(extra_args)
    finally:
        os.environ.clear()
        os.environ.update(old_env)
    result = {"case": name}
    stop = threading.Event()
    samples = []
    thread = None
    try:
        if vnc:
            thread = threading.Thread(target=viewer_thread, args=(vnc[0], vnc[1], stop, samples))
            thread.start()
            time.sleep(1)
        result["idle_cpu"] = measure(console, 10)
        console.send("anim\r")
        console.expect("anim\r\n")
        time.sleep(0.5)
        window_start = time.monotonic()
        result["anim_cpu"] = measure(console, seconds)
        window_end = time.monotonic()
        console.send("q")
        out = console.expect(PROMPT)
        frames = int(re.search(r"anim: (\d+) frames", out).group(1))
        result["fps"] = frames / (seconds + 0.5)
    finally:
        stop.set()
        if thread:
            thread.join()
        h.stop(console.process)
    if vnc:
        result.update(window_figures(samples, window_start, window_end))
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    options = parser.parse_args()
    directory = tempfile.mkdtemp(prefix="cr16-display-bench-")
    results = []
    try:
        results.append(run_case("no front end", [], options.seconds))
        for encoding, label in ((RAW, "raw"), (ZLIB, "zlib")):
            path = os.path.join(directory, "vnc-%s.sock" % label)
            results.append(run_case("VNC, one viewer, " + label, ["-vnc", "unix:" + path],
                                    options.seconds, vnc=(path, encoding)))
        if shutil.which("Xvfb"):
            xvfb = Xvfb()
            try:
                results.append(run_case("SDL under Xvfb", ["-display", "sdl"], options.seconds,
                                        env={"DISPLAY": xvfb.display}))
            finally:
                xvfb.close()
        else:
            print("SDL case skipped: Xvfb is not installed (scripts/install-test-deps.sh)")
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    print("%-24s %10s %10s %10s %12s %8s" % ("case", "idle CPU%", "anim fps", "anim CPU%",
                                             "viewer upd/s", "MB/s"))
    for r in results:
        print("%-24s %10.2f %10.1f %10.1f %12s %8s" % (
            r["case"], r["idle_cpu"], r["fps"], r["anim_cpu"],
            "%.1f" % r["updates_per_s"] if "updates_per_s" in r else "-",
            "%.1f" % r["mb_per_s"] if "mb_per_s" in r else "-"))


if __name__ == "__main__":
    main()
