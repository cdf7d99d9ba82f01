"""Semihosting with real processes: unmodified cr16-elf-gcc programs run with
`cr16-system -kernel prog`; their stdout/stderr appear on ours and their exit
status becomes ours. Expected outputs in expected/ were recorded from the GNU
simulator (cr16-elf-run) for the same binaries."""
import os
import signal
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "cli"))
import cr16_harness as h  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PROGRAMS = os.path.join(HERE, "programs")
EXPECTED = os.path.join(HERE, "expected")


def expected(name, stream):
    with open(os.path.join(EXPECTED, "%s.%s" % (name, stream)), "rb") as f:
        return f.read()


class Semihosting(unittest.TestCase):
    def run_guest(self, name, extra=(), cwd=None, status=0, check_stderr=True):
        path = os.path.join(h.GUEST_DIR, name)
        result = h.run(["-kernel", path, "-serial", "null"] + list(extra), timeout=60, cwd=cwd)
        self.assertEqual(result.stdout, expected(name, "stdout"),
                         "stderr: %r" % result.stderr)
        if check_stderr:
            self.assertEqual(result.stderr, expected(name, "stderr"))
        self.assertEqual(result.returncode, status)
        return result

    def test_minimal_program_without_libc(self):
        # Our own program: write to fd 1 and 2, check the count, exit(42).
        result = h.run(["-kernel", os.path.join(PROGRAMS, "svc_write_exit.elf"), "-serial", "null"])
        self.assertEqual(result.stdout, b"semihosting says hello\n")
        self.assertEqual(result.stderr, b"semihosting on stderr\n")
        self.assertEqual(result.returncode, 42)

    def test_raw_kernel_loads_at_address_zero(self):
        # The same program linked at 0 and flattened with objcopy -O binary.
        result = h.run(["-semihosting", "-kernel", os.path.join(PROGRAMS, "svc_write_exit_at0.bin"),
                        "-serial", "null"])
        self.assertEqual(result.stdout, b"semihosting says hello\n")
        self.assertEqual(result.returncode, 42)

    def test_guest_stdin_is_our_stdin(self):
        # No -serial: with semihosting the UART is not on stdio, so all input
        # reaches the program's read(0).
        result = h.run(["-kernel", os.path.join(PROGRAMS, "svc_echo_stdin.elf")],
                       input_bytes=b"typed input")
        self.assertEqual(result.stdout, b"typed input")
        self.assertEqual(result.returncode, 11)

    def start_ready_reader(self):
        """Starts the guest that prints "ready" and then waits in read(0);
        returns once the line is here."""
        process = subprocess.Popen([h.BINARY, "-kernel",
                                    os.path.join(PROGRAMS, "svc_ready_read.elf")],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE)
        self.assertEqual(process.stdout.readline(), b"ready\n")
        return process

    def test_sigint_while_the_guest_waits_for_input(self):
        # The guest prints "ready" and then waits in read(0): once the line is
        # here the machine runs with its signal handling in place, so SIGINT
        # ends it however loaded the host is (no fixed delay).
        process = self.start_ready_reader()
        try:
            process.send_signal(signal.SIGINT)
            _, stderr = process.communicate(timeout=20)
            self.assertEqual(process.returncode, 0)
            self.assertIn(b"terminating on signal 2", stderr)
        finally:
            h.stop(process)

    def test_input_after_the_guest_started_waiting(self):
        # The guest waits for stdin through the main loop; input typed later
        # reaches it.
        process = self.start_ready_reader()
        try:
            process.stdin.write(b"later")
            process.stdin.flush()
            self.assertEqual(process.stdout.read(5), b"later")
            process.stdin.close()
            self.assertEqual(process.wait(timeout=20), 5)
        finally:
            h.stop(process)

    def test_hello_world_stdout_and_stderr(self):
        self.run_guest("hello")

    def test_exit_code_propagates(self):
        self.run_guest("exit7", status=7)

    def test_printf_formats(self):
        self.run_guest("printf")

    def test_compute_with_libc(self):
        self.run_guest("compute")

    def test_compute_with_icount(self):
        self.run_guest("compute", extra=["-icount", "2"])

    def test_file_io_in_a_temporary_directory(self):
        # Host files need -semihosting (the simulator BSP alone gets the console).
        with tempfile.TemporaryDirectory() as directory:
            self.run_guest("fileio", extra=["-semihosting"], cwd=directory)
            self.assertEqual(os.listdir(directory), [])  # the program unlinked its file

    def test_file_io_confined_to_a_root_directory(self):
        with tempfile.TemporaryDirectory() as directory:
            root = os.path.join(directory, "root")
            os.mkdir(root)
            self.run_guest("fileio", extra=["-semihosting-config", "enable=on,root=" + root],
                           cwd=directory)
            self.assertEqual(os.listdir(directory), ["root"])
            self.assertEqual(os.listdir(root), [])

    def test_file_io_refused_without_dash_semihosting(self):
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(h.GUEST_DIR, "fileio")
            result = h.run(["-kernel", path, "-serial", "null"], cwd=directory)
            self.assertIn(b"open for writing: FAILED", result.stdout)
            self.assertIn(b"allow it with -semihosting", result.stderr)
            self.assertEqual(os.listdir(directory), [])

    def test_forced_semihosting_flag(self):
        self.run_guest("hello", extra=["-semihosting"])

    def test_epoll_and_io_uring_loops(self):
        for backend in ("epoll", "io_uring"):
            # io_uring may fall back to epoll with a notice on stderr.
            self.run_guest("hello", extra=["-loop", backend], check_stderr=False)


if __name__ == "__main__":
    unittest.main()
