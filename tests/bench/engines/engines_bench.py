"""Execution engines side by side: bench-cpu's tight loop (loop, from this
folder) and compiled C (crunch from tests/bench/system, bytevm from this
folder) under cr16-system's interpreter, under its JIT (`-accel jit`, when
this build has one) and under the GNU simulator (cr16-elf-run, when
installed), plus the time the default firmware takes to
reach its prompt under each cr16-system engine.

Each case runs --repeat times (the GNU simulator --sim-repeat times, it is
~25x slower) and the medians are printed: wall time, the child's CPU time
(user + system) and MIPS. cr16-system does not report its instruction
count, so the count comes from count-instructions (CR16_COUNT_INSTRUCTIONS,
a helper that runs the same ELF through system::Machine); the count is the
same under every engine, and the GNU simulator's MIPS are at that count.
A wrong output line or exit status fails the run; slowness never does.

Usage: engines_bench.py [--repeat N] [--sim-repeat N] [--boot-repeat N]
                        [--workloads loop,crunch,bytevm] [--no-sim] [--no-boot]
Environment: CR16_SYSTEM (the binary), CR16_SOURCE_DIR, optional
CR16_COUNT_INSTRUCTIONS and CR16_ELF_RUN.
"""
import argparse
import os
import re
import resource
import select
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("CR16_SOURCE_DIR", os.path.join(HERE, "..", "..", ".."))
PROMPT = b"cr16> "
BOOT_TIMEOUT = 60.0

# name -> (ELF, the output it must print, the exit status it must return)
WORKLOADS = {
    "loop": (os.path.join(HERE, "loop"), "", 128),
    "crunch": (os.path.join(SOURCE_DIR, "tests", "bench", "system", "crunch"),
               "crunch: 1000 rounds, checksum a16474fb", 0),
    "bytevm": (os.path.join(HERE, "bytevm"), "bytevm: 10 rounds, checksum 08c83834 PASS", 0),
}


class BenchError(Exception):
    pass


def find_gnu_simulator():
    configured = os.environ.get("CR16_ELF_RUN", "")
    if configured and os.access(configured, os.X_OK):
        return configured
    cached = os.path.expanduser("~/.cache/cr16-toolchain/bin/cr16-elf-run")
    if os.access(cached, os.X_OK):
        return cached
    return shutil.which("cr16-elf-run")


def detect_engines(binary):
    """Returns {engine name: extra cr16-system arguments}. Without -accel
    support the interpreter is the only engine and takes no argument."""
    try:
        probe = subprocess.run([binary, "-accel", "help"], capture_output=True, text=True,
                               timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        probe = None
    listed = probe.stdout + probe.stderr if probe is not None else ""
    if probe is None or probe.returncode != 0:
        print("jit: not available in this build (no -accel option)")
        return {"interp": []}
    engines = {"interp": ["-accel", "interp"]}
    if re.search(r"\bjit\b", listed):
        engines["jit"] = ["-accel", "jit"]
    else:
        print("jit: not available in this build (-accel help does not list it)")
    return engines


def timed_run(command):
    """Runs command to completion; returns (wall s, child CPU s, stdout, status)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    completed = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, completed.stdout.decode(errors="replace"), completed.returncode


def run_workload(label, command, expected, expected_status, repeat):
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu, output, status = timed_run(command)
        if status != expected_status or output.strip() != expected:
            raise BenchError("%s: exit %d, output %r (expected %d, %r)" %
                             (label, status, output.strip(), expected_status, expected))
        walls.append(wall)
        cpus.append(cpu)
    return statistics.median(walls), statistics.median(cpus), walls


def count_instructions(helper, elf, expected, expected_status):
    if not helper or not os.access(helper, os.X_OK):
        return None
    output = subprocess.run([helper, elf], capture_output=True, text=True).stdout
    match = re.search(r"^instructions: (\d+)$", output, re.M)
    if (not match or expected not in output or
            not re.search(r"^exit: %d$" % expected_status, output, re.M)):
        raise BenchError("count-instructions on %s: %r" % (elf, output))
    return int(match.group(1))


def boot_time(binary, extra):
    """Returns (seconds from start to the firmware's prompt on the serial
    console, the process's CPU seconds from start to its exit after
    `poweroff`)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    process = subprocess.Popen([binary, "-nographic"] + extra, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen = b""
    try:
        while PROMPT not in seen:
            left = BOOT_TIMEOUT - (time.perf_counter() - start)
            if left <= 0:
                raise BenchError("no prompt within %.0f s (got %r)" % (BOOT_TIMEOUT, seen[-200:]))
            ready, _, _ = select.select([process.stdout], [], [], left)
            if ready:
                chunk = os.read(process.stdout.fileno(), 4096)
                if not chunk:
                    raise BenchError("cr16-system exited before its prompt (got %r)" % seen[-200:])
                seen += chunk
        elapsed = time.perf_counter() - start
        process.stdin.write(b"poweroff\r")
        process.stdin.flush()
        process.wait(timeout=10)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return elapsed, ((after.ru_utime - before.ru_utime) +
                         (after.ru_stime - before.ru_stime))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def ratio(numerator, denominator):
    return "%.1fx" % (numerator / denominator) if numerator and denominator else "-"


def verdict(met):
    return "met" if met else "NOT met"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", default=os.environ.get("CR16_SYSTEM"))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sim-repeat", type=int, default=1)
    parser.add_argument("--boot-repeat", type=int, default=5)
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--no-sim", action="store_true", help="skip the GNU simulator")
    parser.add_argument("--no-boot", action="store_true", help="skip the firmware boot time")
    args = parser.parse_args()
    if not args.binary or not os.access(args.binary, os.X_OK):
        print("engines_bench: set CR16_SYSTEM or --binary to cr16-system", file=sys.stderr)
        return 2

    engines = detect_engines(args.binary)
    simulator = None if args.no_sim else find_gnu_simulator()
    if not args.no_sim and simulator is None:
        print("cr16-elf-run: not installed; GNU simulator column left out")
    helper = os.environ.get("CR16_COUNT_INSTRUCTIONS")
    print("engines_bench: %s; repeats: %d (GNU simulator %d); load average %.2f" %
          (", ".join(engines) + (", cr16-elf-run" if simulator else ""), args.repeat,
           args.sim_repeat, os.getloadavg()[0]))

    try:
        for name in args.workloads.split(","):
            elf, expected, expected_status = WORKLOADS[name]
            instructions = count_instructions(helper, elf, expected, expected_status)
            print("\n%s: %s instructions" %
                  (name, "{:,}".format(instructions).replace(",", " ") if instructions else "?"))
            medians = {}
            cases = [(engine, [args.binary, "-kernel", elf, "-semihosting"] + extra, args.repeat)
                     for engine, extra in engines.items()]
            if simulator:
                cases.append(("cr16-elf-run", [simulator, elf], args.sim_repeat))
            for engine, command, repeat in cases:
                wall, cpu, walls = run_workload("%s under %s" % (name, engine), command,
                                                expected, expected_status, repeat)
                medians[engine] = (wall, cpu)
                mips = (" = %7.1f MIPS wall, %7.1f MIPS CPU" %
                        (instructions / wall / 1e6, instructions / cpu / 1e6)
                        if instructions else "")
                print("  %-13s median wall %7.3f s, CPU %7.3f s%s  (walls: %s)" %
                      (engine, wall, cpu, mips, " ".join("%.3f" % w for w in walls)))
            interp_cpu = medians["interp"][1]
            if "cr16-elf-run" in medians:
                print("  interp vs cr16-elf-run: %s faster (CPU time), %s (wall)" %
                      (ratio(medians["cr16-elf-run"][1], interp_cpu),
                       ratio(medians["cr16-elf-run"][0], medians["interp"][0])))
            if "jit" in medians:
                print("  jit vs interp: %s faster (CPU time), %s (wall); goal 3x: %s" %
                      (ratio(interp_cpu, medians["jit"][1]),
                       ratio(medians["interp"][0], medians["jit"][0]),
                       verdict(interp_cpu / medians["jit"][1] >= 3)))
                if "cr16-elf-run" in medians:
                    print("  jit vs cr16-elf-run: %s faster (CPU time); goal 100x: %s" %
                          (ratio(medians["cr16-elf-run"][1], medians["jit"][1]),
                           verdict(medians["cr16-elf-run"][1] / medians["jit"][1] >= 100)))

        if not args.no_boot:
            print("\ndefault firmware to its prompt (-nographic; CPU: the whole process, to its"
                  " exit after poweroff), median of %d:" % args.boot_repeat)
            boots = {}
            for engine, extra in engines.items():
                runs = [boot_time(args.binary, extra) for _ in range(args.boot_repeat)]
                boots[engine] = statistics.median(wall for wall, _ in runs)
                print("  %-13s wall %6.1f ms, CPU %6.1f ms (walls: %s)" %
                      (engine, boots[engine] * 1e3, statistics.median(cpu for _, cpu in runs) * 1e3,
                       " ".join("%.1f" % (wall * 1e3) for wall, _ in runs)))
            if "jit" in boots:
                # Goal: translation costs no more than it saves while booting
                # (10 % slack for timer noise on a few-ms figure).
                print("  jit vs interp: %s; goal no slower: %s" %
                      (ratio(boots["interp"], boots["jit"]),
                       verdict(boots["jit"] <= boots["interp"] * 1.1)))
    except BenchError as error:
        print("engines_bench: WRONG RESULT: %s" % error)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
