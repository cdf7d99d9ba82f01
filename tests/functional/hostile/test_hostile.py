"""What a hostile or careless user and guest can do to cr16-system, with real
processes: host calls that would block (FIFOs, full pipes, a vanished
reader), host file access the user did not ask for, flash images that must
not be rewritten or shared, a runaway stack through the power-off register,
images that are not regular files and malformed option values. Every case
here hung, leaked or silently did the wrong thing before it was fixed."""
import fcntl
import os
import re
import resource
import select
import signal
import subprocess
import sys
import tempfile
import termios
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "cli"))
import cr16_harness as h  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PROGRAMS = os.path.join(HERE, "programs")
FIRMWARE = os.path.join(h.ROMS_DIR, "virt-firmware.bin")
SELFTEST = os.path.join(h.ROMS_DIR, "selftest.bin")
FLASH_SIZE = 1 << 20
SECRET = b"the host's secret\n"


def program(name):
    return os.path.join(PROGRAMS, name + ".elf")


class Hostile(unittest.TestCase):
    def setUp(self):
        self.directory = tempfile.TemporaryDirectory()
        self.dir = self.directory.name

    def tearDown(self):
        self.directory.cleanup()

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, data):
        with open(self.path(name), "wb") as f:
            f.write(data)
        return self.path(name)

    def read(self, name):
        with open(self.path(name), "rb") as f:
            return f.read()

    def assert_ends_on_sigterm(self, process):
        """The process must end promptly on SIGTERM, with status 0."""
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.fail("cr16-system ignored SIGTERM (stuck in a host call)")
        self.assertEqual(process.returncode, 0)

    # --- semihosting never blocks the machine ------------------------------

    def test_semihosting_open_of_a_fifo_without_writer(self):
        # open() of a FIFO nobody writes to used to wait in the kernel, out of
        # reach of SIGTERM and Ctrl-C. Now it opens at once and reads EOF.
        os.mkfifo(self.path("hostile-input.txt"))
        process = subprocess.Popen([h.BINARY, "-semihosting", "-kernel", program("open_read")],
                                   cwd=self.dir, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.assert_ends_on_sigterm(process)
                self.fail("open() of a FIFO without a writer blocked the machine")
            self.assertEqual(process.returncode, 0, process.stderr.read())
            self.assertEqual(process.stdout.read(), b"")
        finally:
            h.stop(process)

    def wait_until_opened(self, process, path):
        """Readiness: returns once `process` holds `path` open (/proc/PID/fd)."""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            self.assertIsNone(process.poll(), "cr16-system exited early")
            directory = "/proc/%d/fd" % process.pid
            try:
                for fd in os.listdir(directory):
                    try:
                        if os.readlink(os.path.join(directory, fd)) == path:
                            return
                    except OSError:
                        pass
            except OSError:
                pass
            time.sleep(0.01)
        self.fail("cr16-system never opened " + path)

    def test_semihosting_fifo_with_a_silent_writer_and_sigterm(self):
        # A writer that never writes (the test holds the FIFO open read-write,
        # so the guest never sees end of file): the guest waits in read(),
        # the machine does not. Readiness: cr16-system holds the FIFO open.
        fifo = self.path("hostile-input.txt")
        os.mkfifo(fifo)
        writer = os.open(fifo, os.O_RDWR)
        process = subprocess.Popen([h.BINARY, "-semihosting", "-kernel", program("open_read")],
                                   cwd=self.dir, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            self.wait_until_opened(process, fifo)
            self.assert_ends_on_sigterm(process)
            self.assertIn(b"terminating on signal 15", process.stderr.read())
        finally:
            os.close(writer)
            h.stop(process)

    def test_semihosting_fifo_input_arrives_later(self):
        fifo = self.path("hostile-input.txt")
        os.mkfifo(fifo)
        writer = os.open(fifo, os.O_RDWR)
        process = subprocess.Popen([h.BINARY, "-semihosting", "-kernel", program("open_read")],
                                   cwd=self.dir, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            self.wait_until_opened(process, fifo)
            os.write(writer, b"late bytes\n")
            self.assertEqual(process.wait(timeout=20), 0, process.stderr.read())
            self.assertEqual(process.stdout.read(), b"late bytes\n")
        finally:
            os.close(writer)
            h.stop(process)

    def start_flood(self):
        """Starts the guest that writes to stdout forever, its stdout on a
        pipe; returns the process and the pipe's read end."""
        read_end, write_end = os.pipe()
        process = subprocess.Popen([h.BINARY, "-kernel", program("flood")], cwd=self.dir,
                                   stdin=subprocess.DEVNULL, stdout=write_end,
                                   stderr=subprocess.PIPE)
        os.close(write_end)
        return process, read_end

    def test_semihosting_stdout_pipe_nobody_reads_and_sigterm(self):
        # The guest floods stdout; nobody reads the pipe. Once the pipe is
        # full (the readiness signal: FIONREAD reaches the pipe's capacity)
        # the guest is blocked, the machine is not.
        process, read_end = self.start_flood()
        try:
            capacity = fcntl.fcntl(read_end, 1032)  # F_GETPIPE_SZ
            deadline = time.monotonic() + 20
            queued = 0
            while time.monotonic() < deadline:
                queued = int.from_bytes(fcntl.ioctl(read_end, termios.FIONREAD, b"\0" * 4),
                                        "little")
                if queued >= capacity:
                    break
                time.sleep(0.02)
            self.assertGreaterEqual(queued, capacity, "the guest never filled stdout")
            self.assert_ends_on_sigterm(process)
        finally:
            os.close(read_end)
            h.stop(process)

    def test_semihosting_stdout_reader_vanishes(self):
        # The reader goes away: the guest's write fails with EPIPE (32) and
        # the program ends with it; nothing hangs, no SIGPIPE death.
        process, read_end = self.start_flood()
        try:
            self.assertTrue(select.select([read_end], [], [], 20)[0], "no output")
            os.read(read_end, 4096)
            os.close(read_end)
            read_end = None
            self.assertEqual(process.wait(timeout=20), 32)
        finally:
            if read_end is not None:
                os.close(read_end)
            h.stop(process)

    def test_semihosting_stdin_stays_blocking_for_the_shell(self):
        # cr16-system reads its stdin through a private non-blocking
        # description: the terminal or pipe it shares keeps its flags.
        read_end, write_end = os.pipe()
        os.write(write_end, b"0123456789abcdef")
        os.close(write_end)
        result = subprocess.run([h.BINARY, "-kernel", program("read_into_flash")],
                                stdin=read_end, capture_output=True, timeout=30)
        self.assertEqual(fcntl.fcntl(read_end, fcntl.F_GETFL) & os.O_NONBLOCK, 0)
        os.close(read_end)
        self.assertEqual(result.returncode, 14, result.stderr)

    def test_semihosting_read_into_flash_consumes_no_input(self):
        # read(0) into flash fails with EFAULT (14) and leaves the 16 bytes
        # for the next read into RAM, which echoes them.
        result = h.run(["-kernel", program("read_into_flash")], input_bytes=b"0123456789abcdef")
        self.assertEqual(result.returncode, 14, result.stderr)
        self.assertEqual(result.stdout, b"0123456789abcdef")

    # --- host file access must be asked for --------------------------------

    def test_forged_simulator_elf_gets_no_host_files(self):
        # The program has the simulator BSP's symbols, which anyone can
        # forge: console I/O yes, host files no (EACCES = 13), with a hint.
        self.write("hostile-input.txt", SECRET)
        result = h.run(["-kernel", program("open_read")], cwd=self.dir)
        self.assertEqual(result.returncode, 13)
        self.assertNotIn(SECRET, result.stdout)
        self.assertIn(b"-semihosting", result.stderr)
        # Asked for explicitly, it works.
        result = h.run(["-semihosting", "-kernel", program("open_read")], cwd=self.dir)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, SECRET)
        result = h.run(["-semihosting-config", "enable=on", "-kernel", program("open_read")],
                       cwd=self.dir)
        self.assertEqual(result.stdout, SECRET)

    def test_semihosting_can_be_switched_off(self):
        # enable=off: the SVC trap goes to the guest's own handler, which
        # powers off with 99; nothing reaches the host.
        result = h.run(["-kernel", program("svc_to_guest")])
        self.assertEqual((result.returncode, result.stdout), (0, b"semihosting\n"))
        result = h.run(["-semihosting-config", "enable=off", "-kernel", program("svc_to_guest"),
                        "-serial", "null"])
        self.assertEqual(result.returncode, 99, result.stderr)
        self.assertEqual(result.stdout, b"")

    def test_semihosting_root_confines_paths(self):
        self.write("hostile-input.txt", SECRET)
        root = self.path("root")
        os.mkdir(root)
        # The program opens "hostile-input.txt": outside the root it does not
        # exist (2), a symlink pointing out is refused (13), inside it works.
        result = h.run(["-semihosting-config", "enable=on,root=" + root, "-kernel",
                        program("open_read")])
        self.assertEqual(result.returncode, 2, result.stderr)
        os.symlink(self.path("hostile-input.txt"), os.path.join(root, "hostile-input.txt"))
        result = h.run(["-semihosting-config", "root=" + root, "-kernel", program("open_read")])
        self.assertEqual(result.returncode, 13, result.stderr)
        self.assertNotIn(SECRET, result.stdout)
        os.unlink(os.path.join(root, "hostile-input.txt"))
        with open(os.path.join(root, "hostile-input.txt"), "wb") as f:
            f.write(b"inside\n")
        result = h.run(["-semihosting-config", "root=" + root, "-kernel", program("open_read")],
                       cwd="/")
        self.assertEqual((result.returncode, result.stdout), (0, b"inside\n"))

    def test_semihosting_config_errors(self):
        for value, message in (("enable=maybe", b"bad value 'maybe' for 'enable'"),
                               ("target=native", b"unknown parameter 'target'"),
                               ("root=/a,root=/b", b"'root' given twice"),
                               ("root=" + self.path("missing"), b"missing")):
            result = h.run(["-semihosting-config", value, "-kernel", program("open_read")])
            self.assertEqual(result.returncode, 1, value)
            self.assertIn(message, result.stderr, value)

    # --- flash images -------------------------------------------------------

    def test_pflash_refuses_an_image_of_another_size(self):
        path = self.write("notes.txt", b"hello\n")
        result = h.run(["-pflash", path, "-nographic"], input_bytes=b"")
        self.assertEqual(result.returncode, 1)
        self.assertIn(b"6 bytes", result.stderr)
        self.assertIn(b"1048576 bytes", result.stderr)
        self.assertEqual(self.read("notes.txt"), b"hello\n")  # untouched

    def test_pflash_never_creates_a_missing_file_unless_asked(self):
        path = self.path("typo.img")
        result = h.run(["-pflash", path, "-nographic"], input_bytes=b"")
        self.assertEqual(result.returncode, 1)
        self.assertIn(path.encode(), result.stderr)
        self.assertFalse(os.path.exists(path))
        result = h.run(["-drive", "if=pflash,file=%s,create=on" % path, "-nographic"],
                       input_bytes=b"poweroff 5\r")
        self.assertEqual(result.returncode, 5, result.stderr)
        image = self.read("typo.img")
        self.assertEqual(len(image), FLASH_SIZE)
        with open(FIRMWARE, "rb") as f:
            firmware = f.read()
        self.assertEqual(image[:len(firmware)], firmware)  # the default firmware went in
        self.assertEqual(image[len(firmware):], b"\xff" * (FLASH_SIZE - len(firmware)))

    def test_drive_rejects_duplicate_keys(self):
        a, b = self.path("a.img"), self.path("b.img")
        result = h.run(["-drive", "if=pflash,file=%s,file=%s" % (a, b)])
        self.assertEqual(result.returncode, 1)
        self.assertIn(b"'file' given twice", result.stderr)
        self.assertFalse(os.path.exists(a) or os.path.exists(b))

    def test_two_machines_cannot_share_a_flash_image(self):
        path = self.write("shared.img", b"\xff" * FLASH_SIZE)
        first = h.start_with_pipes(["-pflash", path, "-nographic"])
        try:
            first.expect("cr16> ")  # running, holding the lock
            second = h.run(["-pflash", path, "-nographic"], input_bytes=b"")
            self.assertEqual(second.returncode, 1)
            self.assertIn(b"in use by another process", second.stderr)
            first.send("poweroff 0\r")
            self.assertEqual(first.wait(), 0)
        finally:
            first.close()
        # Released at exit.
        third = h.run(["-pflash", path, "-nographic"], input_bytes=b"poweroff 3\r")
        self.assertEqual(third.returncode, 3, third.stderr)

    def test_flash_write_back_is_complete_at_exit(self):
        # The self-test erases and programs the last sector and leaves it
        # erased: the file must say so once the process has exited.
        path = self.write("flash.img", b"\x00" * FLASH_SIZE)
        result = h.run(["-icount", "3", "-bios", SELFTEST, "-pflash", path, "-serial", "stdio"],
                       timeout=120, input_bytes=b"")
        self.assertEqual(result.returncode, 0, result.stdout.decode(errors="replace"))
        image = self.read("flash.img")
        self.assertEqual(image[-4096:], b"\xff" * 4096)
        with open(SELFTEST, "rb") as f:
            selftest = f.read()
        self.assertEqual(image[:len(selftest)], selftest)
        self.assertEqual(image[len(selftest) + 4096:-4096],
                         b"\x00" * (FLASH_SIZE - 8192 - len(selftest)))

    def test_flash_host_write_errors_stay_off_the_guest(self):
        # Writes past 512 KiB of the image fail on the host (RLIMIT_FSIZE,
        # SIGXFSZ ignored). The guest's flash still works (the self-test's
        # flash group passes), the user is told once on stderr.
        path = self.write("flash.img", b"\x00" * FLASH_SIZE)

        def limit_file_size():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (FLASH_SIZE // 2, FLASH_SIZE // 2))

        result = subprocess.run([h.BINARY, "-icount", "3", "-bios", SELFTEST, "-pflash", path,
                                 "-serial", "stdio"], input=b"", capture_output=True,
                                timeout=120, preexec_fn=limit_file_size)
        text = result.stdout.decode(errors="replace")
        self.assertIn("PASS flash", text)
        self.assertEqual(result.returncode, 0, text)
        errors = [line for line in result.stderr.decode().splitlines() if "cannot save" in line]
        self.assertEqual(len(errors), 1, result.stderr)
        self.assertIn(path, errors[0])
        self.assertIn(b"could not be saved", result.stderr)  # and what was lost, at exit

    # --- power-off needs the key --------------------------------------------

    def test_runaway_stack_does_not_power_off(self):
        log = self.path("log.txt")
        result = h.run(["-semihosting", "-kernel", program("runaway_stack"), "-serial", "null",
                        "-d", "guest_errors", "-D", log])
        self.assertEqual(result.returncode, 7, result.stderr)
        with open(log) as f:
            self.assertIn("SYS_POWEROFF written with 0x00000000", f.read())

    # --- images and option values -------------------------------------------

    def test_kernel_and_bios_fifo_are_refused_without_waiting(self):
        fifo = self.path("image.fifo")
        os.mkfifo(fifo)
        for option in ("-kernel", "-bios"):
            try:
                result = h.run([option, fifo], timeout=20)
            except subprocess.TimeoutExpired:
                self.fail("%s FIFO hung" % option)
            self.assertEqual(result.returncode, 1)
            self.assertIn(b"not a regular file", result.stderr)

    def test_bios_elf_with_a_ram_segment_names_the_flash(self):
        result = h.run(["-bios", program("open_read")])
        self.assertEqual(result.returncode, 1)
        self.assertIn(b"outside the flash", result.stderr)

    def test_unbalanced_ipv6_bracket_is_reported_once(self):
        result = h.run(["-serial", "tcp:[::1:0,server=on"])
        self.assertEqual(result.returncode, 1)
        self.assertIn(b"unbalanced brackets", result.stderr)
        self.assertNotIn(b"[[", result.stderr)


if __name__ == "__main__":
    unittest.main()
