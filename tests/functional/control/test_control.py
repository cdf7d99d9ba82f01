"""Run control and the human monitor in real cr16-system processes: the
serial/monitor multiplexer on a pipe and a pty (Ctrl-A c), stop/cont changing
what the guest does, -S then cont, -monitor on unix and tcp sockets, the board
registry behind -M and -m, a guest panic's exit status, and a console file on
a full disk."""
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import termios
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "cli"))
import cr16_harness as h  # noqa: E402

PROMPT = "cr16> "          # the firmware's shell
MONITOR = "(cr16) "        # the human monitor
CTRL_A_C = "\x01c"
# A guest whose breakpoint trap cannot push its frame (ISP in unmapped space).
PANIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "programs", "panic.elf")
PANIC_REASON = ("cannot take exception BPT (vector 8): the ISP frame at 0xf7fffa is not RAM "
                "(pc 0x000022, isp 0xf80000, intbase 0x000000)")


class Control(unittest.TestCase):
    def setUp(self):
        self.consoles = []
        self.processes = []

    def tearDown(self):
        for console in self.consoles:
            console.close()
        for process in self.processes:
            h.stop(process)

    def pipe_console(self, *args):
        console = h.start_with_pipes(list(args))
        self.consoles.append(console)
        return console

    def shell(self, console, line):
        """Runs a firmware shell command; returns its output."""
        return console.run(line, PROMPT)

    def monitor(self, console, line):
        """Runs a monitor command (the monitor has the focus); returns its output."""
        return console.run(line, MONITOR)

    def assert_silent(self, console, seconds):
        """Nothing arrives on the console for `seconds`."""
        self.assertEqual(console.output_within(seconds), b"", "unexpected console output")

    # ---- the multiplexer

    def test_mux_on_a_pipe_switches_and_stop_cont_changes_the_guest(self):
        console = self.pipe_console("-nographic")
        console.expect(PROMPT)
        self.assertEqual(self.shell(console, "echo before"), "before\n")
        console.send(CTRL_A_C)
        console.expect("monitor - type 'help' for more information")
        console.expect(MONITOR)
        self.assertEqual(self.monitor(console, "info status"), "VM status: running\n")
        self.assertEqual(self.monitor(console, "stop"), "")
        self.assertEqual(self.monitor(console, "info status"), "VM status: paused\n")
        console.send(CTRL_A_C)
        console.send("count 3\r")  # typed to a stopped guest: nothing happens
        self.assert_silent(console, 0.6)
        console.send(CTRL_A_C)
        console.expect(MONITOR)
        self.assertEqual(self.monitor(console, "cont"), "")
        console.send(CTRL_A_C)
        console.expect("count 3\r\n")  # the guest runs again and takes the input
        self.assertEqual(console.expect(PROMPT).replace("\r", ""), "1\n2\n3\n" + PROMPT)
        console.send(CTRL_A_C)
        console.expect(MONITOR)
        console.send("quit\r")
        self.assertEqual(console.wait(), 0)

    def test_system_powerdown_presses_the_button_and_the_firmware_powers_off(self):
        console = self.pipe_console("-nographic")
        console.expect(PROMPT)
        console.send(CTRL_A_C)
        console.expect(MONITOR)
        console.send("system_powerdown\r")
        console.send(CTRL_A_C)  # back to the guest's console to see it react
        console.expect("power button pressed: powering off")
        self.assertEqual(console.wait(), 0)

    def test_mux_on_a_pty_and_the_escape_help(self):
        console = h.start_with_pty(["-nographic"])
        self.consoles.append(console)
        console.expect(PROMPT)
        console.send("\x01h")
        help_text = console.expect("C-a C-a")
        self.assertIn("C-a c", help_text)
        self.assertIn("C-a x", help_text)
        console.send(CTRL_A_C)
        console.expect(MONITOR)
        self.assertEqual(self.monitor(console, "info status"), "VM status: running\n")
        registers = self.monitor(console, "info registers")
        self.assertRegex(registers, r"pc=[0-9a-f]{6}")
        self.assertRegex(registers, r"psr=[0-9a-f]{4}")
        dump = self.monitor(console, "x/4xb 0xe00000")
        with open(os.path.join(h.ROMS_DIR, "virt-firmware.bin"), "rb") as f:
            first = f.read(4)
        self.assertEqual(dump, "00e00000: " + " ".join("0x%02x" % b for b in first) + "\n")
        # A device register is peeked (SYS_BOARD_ID reads "VIRT"); a hole is refused.
        self.assertEqual(self.monitor(console, "x/1xw 0xff0000"), "00ff0000: 0x56495254\n")
        self.assertIn("Error:", self.monitor(console, "x/1xb 0xf00000"))
        console.send("quit\r")
        self.assertEqual(console.wait(), 0)
        self.assertEqual(termios.tcgetattr(console.read_fd), console.initial_mode)

    def test_ctrl_a_x_still_quits_from_the_monitor(self):
        console = self.pipe_console("-serial", "mon:stdio")
        console.expect(PROMPT)
        console.send(CTRL_A_C)
        console.expect(MONITOR)
        console.send("\x01x")
        self.assertEqual(console.wait(), 0)

    def test_dash_s_waits_in_prelaunch_until_cont(self):
        console = self.pipe_console("-nographic", "-S")
        self.assert_silent(console, 0.5)  # no banner: the CPU has not started
        console.send(CTRL_A_C)
        console.expect(MONITOR)
        self.assertEqual(self.monitor(console, "info status"), "VM status: paused (prelaunch)\n")
        self.assertIn("pc=e00000", self.monitor(console, "info registers"))
        console.send("cont\r")
        console.send(CTRL_A_C)
        console.expect("reset cause: poweron")
        console.expect(PROMPT)
        self.assertEqual(self.shell(console, "echo started"), "started\n")
        console.send("poweroff 4\r")
        self.assertEqual(console.wait(), 4)

    def test_system_reset_from_the_monitor_reboots_the_guest(self):
        console = self.pipe_console("-nographic")
        console.expect(PROMPT)
        console.send(CTRL_A_C)
        console.expect(MONITOR)
        console.send("system_reset\r")
        console.expect(MONITOR)
        console.send(CTRL_A_C)
        console.expect("reset cause: external")
        console.expect(PROMPT)
        console.send("poweroff 2\r")
        self.assertEqual(console.wait(), 2)

    def test_stdin_is_read_without_making_it_non_blocking(self):
        # The console reads a private non-blocking description of stdin (a
        # stale readiness report then costs nothing; a blocking read hung
        # the process after `poweroff` under load): the description the
        # parent shares stays blocking, and input still arrives.
        read_end, write_end = os.pipe()
        process = subprocess.Popen([h.BINARY, "-nographic"], stdin=read_end,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        os.close(read_end)
        self.processes.append(process)
        console = h.Console(process, process.stdout.fileno(), write_end)
        console.expect(PROMPT)
        def flags(fd):
            with open("/proc/%d/fdinfo/%s" % (process.pid, fd)) as info:
                return int(info.read().split("flags:")[1].split()[0], 8)
        self.assertEqual(flags(0) & os.O_NONBLOCK, 0, "the shared stdin was made non-blocking")
        pipe = os.readlink("/proc/%d/fd/0" % process.pid)
        readers = [fd for fd in os.listdir("/proc/%d/fd" % process.pid)
                   if fd != "0" and os.readlink("/proc/%d/fd/%s" % (process.pid, fd)) == pipe]
        self.assertTrue(any(flags(fd) & os.O_NONBLOCK for fd in readers),
                        "no non-blocking description of stdin is read")
        self.assertEqual(self.shell(console, "echo through a pipe"), "through a pipe\n")
        console.send("poweroff 5\r")
        self.assertEqual(console.wait(), 5)
        os.close(write_end)

    # ---- -monitor on sockets

    def connect_monitor(self, family, address):
        client = socket.socket(family, socket.SOCK_STREAM)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.connect(address)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        return client

    def test_monitor_on_a_unix_socket(self):
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "monitor.sock")
            serial = self.pipe_console("-monitor", "unix:%s,server=on,wait=off" % path)
            serial.expect(PROMPT)
            client = self.connect_monitor(socket.AF_UNIX, path)
            monitor = h.Console(serial.process, client.fileno(), client.fileno(), strip_cr=True)
            monitor.expect("monitor - type 'help' for more information")
            monitor.expect(MONITOR)
            self.assertEqual(self.monitor(monitor, "info status"), "VM status: running\n")
            self.assertEqual(self.monitor(monitor, "stop"), "")
            serial.send("echo held\r")
            self.assert_silent(serial, 0.5)  # the stopped guest does not echo
            self.assertEqual(self.monitor(monitor, "cont"), "")
            serial.expect("echo held\r\n")
            serial.expect("held")
            self.assertIn("info version", self.monitor(monitor, "help"))
            monitor.send("quit\r")
            self.assertEqual(serial.wait(), 0)
            client.close()
            self.assertFalse(os.path.exists(path))  # the socket file is removed

    def test_monitor_on_tcp_and_a_second_client_after_the_first(self):
        process = subprocess.Popen(
            [h.BINARY, "-monitor", "tcp:127.0.0.1:0,server=on,wait=off", "-serial", "null"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.processes.append(process)
        line = h.stderr_line(process)
        port = int(re.search(r"monitor listening on tcp port (\d+)", line).group(1))
        first = self.connect_monitor(socket.AF_INET, ("127.0.0.1", port))
        monitor = h.Console(process, first.fileno(), first.fileno(), strip_cr=True)
        monitor.expect(MONITOR)
        self.assertRegex(self.monitor(monitor, "info version"), r"^\d+\.\d+\.\d+ \(cr16-system\)\n$")
        first.close()
        second = self.connect_monitor(socket.AF_INET, ("127.0.0.1", port))
        monitor = h.Console(process, second.fileno(), second.fileno(), strip_cr=True)
        monitor.expect(MONITOR)  # a new banner and prompt for the new client
        self.assertEqual(self.monitor(monitor, "info status"), "VM status: running\n")
        monitor.send("quit\r")
        self.assertEqual(process.wait(timeout=20), 0)
        second.close()

    # ---- the board registry behind -M and -m

    def assert_one_line_error(self, args, expected):
        result = h.run(args, timeout=20)
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr.decode(), "cr16-system: " + expected + "\n")
        self.assertEqual(result.stdout, b"")

    def test_machine_help_lists_the_registry(self):
        result = h.run(["-M", "help"])
        self.assertEqual(result.returncode, 0)
        lines = result.stdout.decode().splitlines()
        self.assertEqual(lines[0], "Supported machines are:")
        self.assertTrue(lines[1].startswith("virt "), lines[1])
        self.assertTrue(lines[1].endswith("(default)"), lines[1])
        properties = h.run(["-M", "virt,help"])
        self.assertEqual(properties.returncode, 0)
        self.assertIn("rtc-base", properties.stdout.decode())

    def test_unknown_machine_property_is_named(self):
        self.assert_one_line_error(
            ["-M", "virt,foo=bar"],
            "-M virt,foo=bar: the virt board has no property 'foo' (known: rtc-base)")

    def test_memory_below_the_board_minimum_names_the_limits(self):
        self.assert_one_line_error(
            ["-m", "8K"],
            "-m 8K: RAM size must be a multiple of 4K between 64K and 14M on the virt board")
        self.assert_one_line_error(
            ["-m", "15M"],
            "-m 15M: RAM size must be a multiple of 4K between 64K and 14M on the virt board")

    def test_machine_property_reaches_the_board(self):
        console = self.pipe_console("-nographic", "-M", "virt,rtc-base=1000000000")
        console.expect(PROMPT)
        self.assertRegex(self.shell(console, "date"), r"^rtc: 100000000[0-9]\n$")
        console.send("poweroff\r")
        self.assertEqual(console.wait(), 0)

    def test_bios_elf_with_a_ram_segment_is_outside_the_flash(self):
        sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "cli"))
        from test_cli import elf32  # noqa: E402
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "ram.elf")
            with open(path, "wb") as f:
                f.write(elf32([(0x1000, b"\x01\x02" * 8, 0)], entry=0x1000))
            result = h.run(["-bios", path, "-serial", "null"])
            self.assertEqual(result.returncode, 1)
            message = result.stderr.decode()
            self.assertIn("outside the flash (0xe00000-0xefffff)", message)
            self.assertNotIn("machine's memory", message)

    # ---- guest panic

    def test_guest_panic_exits_134_with_one_line(self):
        result = subprocess.run([h.BINARY, "-nographic", "-kernel", PANIC], input=b"",
                                capture_output=True, timeout=20)
        stderr = h.LOOP_FALLBACK_NOTICE.sub(b"", result.stderr).decode()
        self.assertEqual(result.returncode, 134)
        self.assertEqual(stderr, "cr16-system: guest panicked: " + PANIC_REASON + "\n")

    def test_guest_panic_with_no_shutdown_stays_paused(self):
        process = subprocess.Popen([h.BINARY, "-nographic", "-no-shutdown", "-kernel", PANIC],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE)
        console = h.Console(process, process.stdout.fileno(), process.stdin.fileno())
        self.consoles.append(console)
        self.assertEqual(h.stderr_line(process),
                         "cr16-system: guest panicked: " + PANIC_REASON + "; paused (-no-shutdown)\n")
        console.send(CTRL_A_C)
        console.expect(MONITOR)
        self.assertEqual(self.monitor(console, "info status"),
                         "VM status: paused (guest-panicked)\n")
        console.send("quit\r")
        self.assertEqual(console.wait(), 0)

    # ---- a console file on a full disk

    def test_serial_file_on_a_full_disk_says_so_once(self):
        process = subprocess.Popen([h.BINARY, "-serial", "file:/dev/full"],
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE)
        self.processes.append(process)
        self.assertEqual(h.stderr_line(process),
                         "cr16-system: serial0: writing file:/dev/full failed "
                         "(No space left on device); further output is dropped\n")
        time.sleep(0.3)  # the firmware keeps printing its banner and prompt
        process.send_signal(signal.SIGTERM)
        self.assertEqual(process.wait(timeout=20), 0)
        rest = h.LOOP_FALLBACK_NOTICE.sub(b"", process.stderr.read()).decode()
        self.assertEqual(rest, "cr16-system: terminating on signal 15\n")  # said only once


if __name__ == "__main__":
    unittest.main()
