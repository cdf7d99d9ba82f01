"""QMP and the human monitor in real cr16-system processes over real
sockets and terminals: a QMP session (stop, cont, query-status,
system_reset, quit) with its events, two clients at once, -S and wait=on,
TCP, -chardev with -mon (control and readline), bad input, clients that
flood or leave while the guest keeps counting on its serial port,
memsave/inject-nmi reaching the guest, HMP line editing and history on a
pty and on the mon:stdio multiplexer, and a QMP client we did not write
(the npm package qemu-qmp)."""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import tty
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cli"))
import cr16_harness as h  # noqa: E402
from qmp_client import QmpClient, QmpError  # noqa: E402

PROMPT = "cr16> "     # the firmware's shell
MONITOR = "(cr16) "   # the human monitor
FIRMWARE = os.path.join(h.ROMS_DIR, "virt-firmware.bin")
NPM_DIR = os.path.join(os.path.dirname(os.path.abspath(h.BINARY)), "qmp-npm")


class Qmp(unittest.TestCase):
    def setUp(self):
        self.directory = tempfile.mkdtemp(prefix="cr16-qmp-")
        self.socket_path = os.path.join(self.directory, "qmp.sock")
        self.consoles = []
        self.clients = []

    def tearDown(self):
        for client in self.clients:
            client.close()
        for console in self.consoles:
            console.close()
        shutil.rmtree(self.directory, ignore_errors=True)

    def start(self, *args):
        """cr16-system with its serial console on pipes (no HMP on it) and
        QMP on self.socket_path unless `args` say otherwise."""
        argv = list(args)
        if not any(a.startswith(("-qmp", "-chardev")) for a in argv):
            argv += ["-qmp", "unix:%s,server=on,wait=off" % self.socket_path]
        console = h.start_with_pipes(["-serial", "stdio", "-monitor", "none"] + argv)
        self.consoles.append(console)
        return console

    def client(self, address=None):
        client = QmpClient(address or self.socket_path)
        self.clients.append(client)
        return client

    def shell(self, console, line):
        return console.run(line, PROMPT)

    def assert_silent(self, console, seconds):
        self.assertEqual(console.output_within(seconds), b"", "unexpected console output")

    # ---- a session

    def test_session_stop_cont_status_reset_quit_with_events(self):
        console = self.start()
        console.expect(PROMPT)
        qmp = self.client()
        greeting = qmp.greeting()
        self.assertEqual(sorted(greeting["version"]["qemu"]), ["major", "micro", "minor"])
        self.assertEqual(greeting["capabilities"], [])
        refused = qmp.request("query-status")
        self.assertEqual(refused["error"]["class"], "CommandNotFound")
        self.assertEqual(qmp.request("qmp_capabilities", id="neg"), {"return": {}, "id": "neg"})
        self.assertEqual(qmp.command("query-status"),
                         {"status": "running", "singlestep": False, "running": True})
        # stop: STOP comes before the reply; the guest no longer answers.
        self.assertEqual(qmp.request("stop", id=1), {"return": {}, "id": 1})
        stop = qmp.wait_event("STOP")
        self.assertNotIn("data", stop)
        self.assertGreater(stop["timestamp"]["seconds"], 1600000000)
        self.assertIn(stop["timestamp"]["microseconds"], range(1000000))
        self.assertEqual(qmp.command("query-status")["status"], "paused")
        console.send("echo held\r")
        self.assert_silent(console, 0.5)
        self.assertEqual(qmp.request("cont", id=[2, {"x": None}]),
                         {"return": {}, "id": [2, {"x": None}]})
        qmp.wait_event("RESUME")
        console.expect("held\r\n")
        console.expect(PROMPT)
        # system_reset: RESET with QEMU's data, and the firmware boots again.
        qmp.command("system_reset")
        reset = qmp.wait_event("RESET")
        self.assertEqual(reset["data"], {"guest": False, "reason": "host-qmp-system-reset"})
        console.expect("reset cause: external")
        console.expect(PROMPT)
        self.assertEqual(qmp.command("query-status")["status"], "running")
        # quit: SHUTDOWN, the reply, the end of the connection and the process.
        self.assertEqual(qmp.request("quit", id=3), {"return": {}, "id": 3})
        shutdown = qmp.wait_event("SHUTDOWN")
        self.assertEqual(shutdown["data"], {"guest": False, "reason": "host-qmp-quit"})
        self.assertEqual(qmp.read_raw_line(), b"")
        self.assertEqual(console.wait(), 0)
        self.assertFalse(os.path.exists(self.socket_path))

    def test_two_clients_at_once_each_with_its_own_negotiation(self):
        console = self.start("-S", "-name", "twin")
        first, second = self.client(), self.client()
        first.negotiate()
        second.greeting()
        # Only the first has negotiated: the second's commands are refused.
        self.assertEqual(second.request("cont")["error"]["class"], "CommandNotFound")
        self.assertEqual(first.command("query-status")["status"], "prelaunch")
        first.command("cont")
        first.wait_event("RESUME")
        second.command("qmp_capabilities")
        self.assertEqual(second.command("query-name"), {"name": "twin"})
        second.command("stop")
        second.wait_event("STOP")
        first.wait_event("STOP")  # an event reaches every negotiated client
        self.assertEqual([e["event"] for e in second.events], [])  # no RESUME before negotiating
        # One leaves; the other goes on.
        second.close()
        self.assertEqual(first.command("query-status")["status"], "paused")
        third = self.client()
        third.negotiate()
        self.assertEqual(third.command("query-target"), {"arch": "cr16"})
        first.command("quit")
        self.assertEqual(console.wait(), 0)

    def test_dash_s_waits_for_cont(self):
        console = self.start("-S")
        qmp = self.client()
        qmp.negotiate()
        self.assertEqual(qmp.command("query-status")["status"], "prelaunch")
        self.assert_silent(console, 0.4)  # the CPU has not started: no banner
        qmp.command("cont")
        console.expect("reset cause: poweron")
        console.expect(PROMPT)
        self.assertEqual(self.shell(console, "echo started"), "started\n")
        qmp.command("quit")
        self.assertEqual(console.wait(), 0)

    def test_wait_on_holds_the_start_until_a_client_connects(self):
        console = self.start("-qmp", "unix:%s,server=on" % self.socket_path)
        self.assertEqual(h.stderr_line(console.process),
                         "cr16-system: compat_monitor0 waiting for a connection on unix:%s,"
                         "server=on\n" % self.socket_path)
        self.assert_silent(console, 0.4)
        qmp = self.client()
        qmp.negotiate()
        console.expect(PROMPT)  # the guest started with the first client
        self.assertEqual(qmp.command("query-status")["status"], "running")
        qmp.command("quit")
        self.assertEqual(console.wait(), 0)

    def test_tcp_server_on_port_zero_and_pretty_output(self):
        console = self.start("-qmp-pretty", "tcp:127.0.0.1:0,server=on,wait=off")
        line = h.stderr_line(console.process)
        port = int(re.match(r"cr16-system: compat_monitor0 listening on tcp port (\d+)\n",
                            line).group(1))
        sock = socket.create_connection(("127.0.0.1", port), timeout=20)
        data = b""
        while b"}\r\n" not in data:
            data += sock.recv(4096)
        self.assertTrue(data.startswith(b'{\n    "QMP": {\n        "version": {\n'), data)
        sock.sendall(b'{"execute": "qmp_capabilities"}{"execute": "query-target"}')
        data = b""
        while data.count(b"}\r\n") < 2:
            data += sock.recv(4096)
        self.assertEqual(data, b'{\n    "return": {\n    }\n}\r\n'
                               b'{\n    "return": {\n        "arch": "cr16"\n    }\n}\r\n')
        sock.sendall(b'{"execute": "quit"}')
        self.assertEqual(console.wait(), 0)
        sock.close()

    def test_qmp_on_stdio(self):
        # -qmp stdio owns the terminal: no serial console or monitor on it.
        console = h.start_with_pipes(["-qmp", "stdio"])
        self.consoles.append(console)
        greeting = json.loads(console.expect("\r\n"))
        self.assertEqual(greeting["QMP"]["capabilities"], [])
        console.send('{"execute": "qmp_capabilities"}')
        self.assertEqual(json.loads(console.expect("\r\n")), {"return": {}})
        console.send('{"execute": "query-chardev"}')
        devices = json.loads(console.expect("\r\n"))["return"]
        self.assertEqual({d["label"]: d["filename"] for d in devices},
                         {"compat_monitor0": "stdio", "serial0": "null", "serial1": "null"})
        console.send('{"execute": "quit", "id": "bye"}')
        self.assertEqual(json.loads(console.expect("\r\n"))["event"], "SHUTDOWN")
        self.assertEqual(json.loads(console.expect("\r\n")), {"return": {}, "id": "bye"})
        self.assertEqual(console.wait(), 0)

    def test_chardev_with_a_control_and_a_readline_monitor(self):
        hmp_path = os.path.join(self.directory, "hmp.sock")
        console = self.start(
            "-chardev", "socket,id=ctl,path=%s,server=on,wait=off" % self.socket_path,
            "-mon", "chardev=ctl,mode=control",
            "-chardev", "socket,id=human,path=%s,server=on,wait=off" % hmp_path,
            "-mon", "chardev=human,mode=readline")
        console.expect(PROMPT)
        qmp = self.client()
        qmp.negotiate()
        devices = {d["label"]: d for d in qmp.command("query-chardev")}
        self.assertEqual(devices["ctl"]["filename"], "unix:%s,server=on" % self.socket_path)
        self.assertEqual(devices["human"]["filename"], "disconnected:unix:%s,server=on" % hmp_path)
        self.assertTrue(devices["serial0"]["frontend-open"])
        human = socket.socket(socket.AF_UNIX)
        human.connect(hmp_path)
        monitor = h.Console(console.process, human.fileno(), human.fileno(), strip_cr=True)
        monitor.expect(MONITOR)
        monitor.send("stop\r")
        monitor.expect(MONITOR)
        qmp.wait_event("STOP")  # the human monitor's stop reaches QMP clients
        self.assertEqual(qmp.command("query-status")["status"], "paused")
        devices = {d["label"]: d for d in qmp.command("query-chardev")}
        self.assertEqual(devices["human"]["filename"], "unix:%s,server=on" % hmp_path)
        monitor.send("cont\r")
        qmp.wait_event("RESUME")
        monitor.send("quit\r")
        self.assertEqual(console.wait(), 0)
        human.close()

    # ---- bad input

    def test_bad_input_gets_errors_and_the_session_goes_on(self):
        console = self.start("-S")
        qmp = self.client()
        qmp.negotiate()

        def error_of(raw):
            qmp.send_raw(raw)
            reply = qmp.reply()
            self.assertEqual(set(reply), {"error"}, reply)
            return reply["error"]["desc"]

        self.assertEqual(error_of('{"execute": foo}'),
                         "JSON parse error, invalid keyword 'foo' (at byte 12)")
        self.assertEqual(error_of("[" * 5000 + "]" * 5000), "JSON nesting depth limit exceeded")
        self.assertEqual(error_of('{"execute": "query-status", "id": 1e999}'),
                         "JSON parse error, number out of range: 1e999 (at byte 34)")
        self.assertEqual(error_of(b'{"execute": "\xff"}'),
                         "JSON parse error, invalid UTF-8 sequence in a string (at byte 13)")
        self.assertEqual(error_of('{"execute": "query-status", "id": "\\ud800"}'),
                         "JSON parse error, \\ud800 is a high surrogate without its low half "
                         "(at byte 35)")
        big = '{"execute": "query-status", "id": "' + "x" * (2 << 20) + '"}'
        self.assertEqual(error_of(big), "JSON message too large (more than 1048576 bytes)")
        self.assertEqual(error_of('{"execute": "memsave", "arguments": {"val": 99999999999999999999,'
                                  ' "size": 1, "filename": "f"}}'),
                         "Invalid parameter type for 'val', expected: integer")
        self.assertEqual(error_of('{"execute": "memsave", "arguments": {"val": 0, "size": "1",'
                                  ' "filename": "f"}}'),
                         "Invalid parameter type for 'size', expected: integer")
        self.assertEqual(error_of('{"execute": "frobnicate"}'),
                         "The command frobnicate has not been found")
        self.assertEqual(error_of('{"execute": "stop", "arguments": {"now": true}}'),
                         "Parameter 'now' is unexpected")
        # After all that, the same session still works.
        self.assertEqual(qmp.command("query-status")["status"], "prelaunch")
        qmp.command("quit")
        self.assertEqual(console.wait(), 0)

    def test_clients_that_flood_or_leave_do_not_stall_the_counting_guest(self):
        console = self.start()
        console.expect(PROMPT)
        watcher = self.client()
        watcher.negotiate()
        stop = threading.Event()
        floods = []

        def flood():
            # Connects, sends requests and never reads: dropped once its
            # replies pile up; then again with a new connection.
            request = b'{"execute": "query-machines"}' * 200
            while not stop.is_set():
                sock = socket.socket(socket.AF_UNIX)
                sock.connect(self.socket_path)
                try:
                    while not stop.is_set():
                        sock.sendall(request)
                except OSError:
                    floods.append("dropped")
                sock.close()

        def leave():
            # Connects, sends half a request or a whole one, and goes away.
            n = 0
            while not stop.is_set():
                sock = socket.socket(socket.AF_UNIX)
                sock.connect(self.socket_path)
                sock.sendall(b'{"execute": "qmp_capabilities"}' if n % 2 else
                             b'{"execute": "qmp_capabilities"}{"execute": "query-sta')
                sock.close()
                n += 1

        threads = [threading.Thread(target=flood), threading.Thread(target=leave)]
        console.send("count 100000\r")
        console.expect("count 100000\r\n")
        console.expect("1\r\n")
        for thread in threads:
            thread.start()
        try:
            deadline = time.monotonic() + 60
            while not floods:
                self.assertLess(time.monotonic(), deadline, "the flooding client was never dropped")
                time.sleep(0.05)
            # The guest keeps counting, one by one, while the clients misbehave.
            first = int(console.expect("\r\n").strip())
            counted = console.expect("\r\n%d\r\n" % (first + 30), timeout=90)
            self.assertEqual([int(n) for n in counted.split()], list(range(first + 1, first + 31)))
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
        console.send("\x03")  # Ctrl-C ends the count
        console.expect("count: stopped at")
        console.expect(PROMPT)
        self.assertEqual(watcher.command("query-status")["status"], "running")
        watcher.command("quit")
        self.assertEqual(console.wait(), 0)
        stderr = console.process.stderr.read().decode()
        self.assertIn("compat_monitor0: dropped a QMP client: it does not read its replies and "
                      "events", stderr)

    # ---- commands that reach the guest

    def test_memsave_and_pmemsave_dump_the_flash(self):
        console = self.start("-S")
        qmp = self.client()
        qmp.negotiate()
        dump = os.path.join(self.directory, "flash.bin")
        qmp.command("memsave", {"val": 0xE00000, "size": 4096, "filename": dump})
        with open(FIRMWARE, "rb") as f:
            firmware = f.read(4096)
        with open(dump, "rb") as f:
            self.assertEqual(f.read(), firmware)
        qmp.command("pmemsave", {"val": 0xFF0000, "size": 4, "filename": dump})
        with open(dump, "rb") as f:
            self.assertEqual(f.read(), b"TRIV")  # SYS_BOARD_ID, peeked
        error = qmp.request("pmemsave", {"val": 0xF00000, "size": 16, "filename": dump})
        self.assertIn("0xf00000", error["error"]["desc"])
        qmp.command("quit")
        self.assertEqual(console.wait(), 0)

    def test_inject_nmi_reaches_the_guest(self):
        console = self.start()
        console.expect(PROMPT)
        qmp = self.client()
        qmp.negotiate()
        qmp.command("inject-nmi")
        # The default firmware has no NMI handler: it says so and powers off.
        console.expect("fatal: unexpected exception or interrupt")
        self.assertEqual(console.wait(), 255)

    def test_human_monitor_command_and_its_commands(self):
        console = self.start("-S")
        qmp = self.client()
        qmp.negotiate()

        def hmp(line):
            return qmp.command("human-monitor-command", {"command-line": line})

        self.assertEqual(hmp("info status"), "VM status: paused (prelaunch)\r\n")
        self.assertEqual(hmp("print $pc + 2"), "0xe00002\r\n")
        self.assertRegex(hmp("info cpus"), r"^\* CPU #0: thread_id=\d+\r\n$")
        self.assertIn("e00000-efffff (prio 0, romd): flash", hmp("info mtree"))
        self.assertIn('dev: uart, id "uart0"', hmp("info qtree"))
        self.assertIn("nmi status", hmp("info irq"))
        self.assertIn("compat_monitor0: filename=unix:", hmp("info chardev"))
        self.assertEqual(hmp("x/2xb 0xff0000"), "00ff0000: 0x54 0x52\r\n")
        self.assertEqual(hmp("cont"), "")
        qmp.wait_event("RESUME")
        qmp.command("quit")
        self.assertEqual(console.wait(), 0)

    # ---- the human monitor on terminals

    def test_hmp_on_a_pty_edits_lines_and_keeps_history(self):
        console = self.start("-S", "-chardev", "pty,id=human", "-mon", "chardev=human")
        line = h.stderr_line(console.process)
        match = re.match(r"char device redirected to (/dev/pts/\d+) \(label human\)\n", line)
        self.assertTrue(match, line)
        fd = os.open(match.group(1), os.O_RDWR | os.O_NOCTTY)
        tty.setraw(fd)
        monitor = h.Console(console.process, fd, fd, strip_cr=True)
        try:
            monitor.expect(MONITOR)
            # "info sttus", three times left, "a": the line is mended in place.
            monitor.send("info sttus\x1b[D\x1b[D\x1b[Da\r")
            monitor.expect("info sttus\b\b\batus\b\b\b")
            self.assertEqual(monitor.expect(MONITOR), "\nVM status: paused (prelaunch)\n" + MONITOR)
            # Up: the line comes back, and runs again.
            monitor.send("print 6*7\r")
            monitor.expect("0x2a\n" + MONITOR)
            monitor.send("\x1b[A\x1b[A\r")
            monitor.expect("VM status: paused (prelaunch)\n" + MONITOR)
            # Ctrl-A, Ctrl-K: a typed line is thrown away and replaced.
            monitor.send("garbage\x01\x0bprint/d 0x10\r")
            monitor.expect("16\n" + MONITOR)
            monitor.send("quit\r")
            self.assertEqual(console.wait(), 0)
        finally:
            os.close(fd)

    def test_hmp_on_the_mon_stdio_multiplexer(self):
        console = h.start_with_pipes(["-nographic", "-S"])
        self.consoles.append(console)
        console.send("\x01c")
        console.expect(MONITOR)
        # A script on a pipe types plain lines and sees a plain echo.
        console.send("print 2 + 3\r")
        self.assertEqual(console.expect(MONITOR), "print 2 + 3\r\n0x5\r\n" + MONITOR)
        console.send("\x1b[A\r")  # history works on the shared terminal too
        self.assertEqual(console.expect(MONITOR), "print 2 + 3\r\n0x5\r\n" + MONITOR)
        console.send("cont\r")
        console.expect(MONITOR)
        console.send("\x01c")
        console.expect(PROMPT)  # the firmware started on the serial side
        self.assertEqual(self.shell(console, "echo back"), "back\n")
        console.send("\x01c")
        console.expect(MONITOR)
        console.send("quit\r")
        self.assertEqual(console.wait(), 0)

    # ---- a client we did not write

    def test_third_party_client_qemu_qmp_drives_the_vm(self):
        node = shutil.which("node")
        if node is None:
            self.skipTest("node is not installed")
        install = subprocess.run([os.path.join(HERE, "install_qemu_qmp.sh"), NPM_DIR],
                                 capture_output=True, timeout=300)
        if install.returncode == 77:
            self.skipTest("npm is not installed")
        if install.returncode != 0:
            self.skipTest("npm could not install qemu-qmp 0.5.0: " +
                          install.stderr.decode(errors="replace")[-300:])
        console = self.start()
        console.expect(PROMPT)
        result = subprocess.run([node, os.path.join(HERE, "qemu_qmp_check.js"),
                                 os.path.join(NPM_DIR, "node_modules"), self.socket_path],
                                capture_output=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        seen = json.loads(result.stdout.decode().strip().splitlines()[-1])
        self.assertNotIn("error", seen)
        self.assertEqual(seen["capabilities"], [])
        self.assertEqual(seen["status_before"]["status"], "running")
        self.assertEqual(seen["status_stopped"],
                         {"status": "paused", "singlestep": False, "running": False})
        self.assertEqual(seen["hmp"], "VM status: paused\r\n")
        self.assertEqual(seen["unknown"], "The command no-such-command has not been found")
        self.assertEqual(seen["query_version"], {"qemu": seen["version"]["qemu"],
                                                 "package": "cr16-system"})
        self.assertTrue(seen["quit"])
        self.assertEqual(seen["events"], ["stop", "reset", "shutdown"])
        self.assertEqual(console.wait(), 0)
        console.expect("reset cause: external")  # system_reset really reset the guest


if __name__ == "__main__":
    unittest.main()
