"""The gdbstub in real cr16-system processes, driven by our own RSP client
(rsp_client.py; GDB has no CR16 target) over unix and tcp sockets, with the
default firmware's shell on the serial console: breakpoints in the firmware,
single steps, registers, memory the guest then prints, write/read/access
watchpoints, Ctrl-C, reading the UART data register without popping typed
input, qRcmd, -S with a debugger's continue and a monitor's cont, detach,
kill, power-off, `gdbserver` from the monitor, and hostile peers (garbage,
bad checksums, mid-packet disconnects, a peer that never reads) while the
guest keeps counting."""
import os
import random
import re
import socket
import sys
import tempfile
import time
import unittest
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cli"))
sys.path.insert(0, HERE)
import cr16_harness as h  # noqa: E402
from rsp_client import (REGISTERS, RspClient, RspError, elf_symbols, frame,  # noqa: E402
                        parse_stop, le32)

PROMPT = "cr16> "
MONITOR = "(cr16) "
CTRL_A_C = "\x01c"
FIRMWARE_ELF = os.path.join(h.ROMS_DIR, "virt-firmware.elf")
UART0_DATA = 0xFF0100
UART0_STATUS = 0xFF0104
PC = 16


def fill_pattern(seed, length):
    """The firmware's fill pattern (roms/README.md)."""
    state, out = seed or 1, bytearray()
    for _ in range(length):
        state ^= (state << 13) & 0xFFFFFFFF
        state ^= state >> 17
        state ^= (state << 5) & 0xFFFFFFFF
        out.append(state & 0xFF)
    return bytes(out)


class Gdb(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.symbols = elf_symbols(FIRMWARE_ELF)

    def setUp(self):
        self.directory = tempfile.mkdtemp(prefix="cr16-gdb-")
        self.socket_path = os.path.join(self.directory, "gdb.sock")
        self.consoles = []
        self.clients = []

    def tearDown(self):
        for client in self.clients:
            client.close()
        for console in self.consoles:
            console.close()
        if os.path.exists(self.socket_path):
            os.unlink(self.socket_path)
        os.rmdir(self.directory)

    # ---- helpers

    def start(self, *args, prompt=True):
        """cr16-system with the default firmware on a pipe console and the
        gdbstub on a unix socket."""
        console = h.start_with_pipes(["-gdb", "unix:%s,server=on" % self.socket_path] + list(args))
        self.consoles.append(console)
        if prompt:
            console.expect(PROMPT)
        return console

    def attach(self, handshake=True):
        client = RspClient.connect_unix(self.socket_path)
        self.clients.append(client)
        if handshake:
            client.handshake()
        return client

    def shell(self, console, line):
        return console.run(line, PROMPT)

    def pc(self, client):
        return client.read_register(PC)

    # ---- breakpoints, steps, registers

    def test_breakpoint_in_the_firmware_single_step_and_registers(self):
        console = self.start()
        gdb = self.attach()
        self.assertEqual(gdb.monitor("info status"), "VM status: paused (debug)\n")
        registers = gdb.registers_from_xml()
        self.assertEqual(registers, REGISTERS)  # the order and sizes of docs/gdb.md
        cmd_info = self.symbols["_cmd_info"]
        self.assertEqual(gdb.set_breakpoint(cmd_info), "OK")
        gdb.send_packet("c")
        console.send("info\r")
        signal, fields = parse_stop(gdb.reply())
        self.assertEqual(signal, 5)
        self.assertIn("swbreak", fields)
        self.assertEqual(le32(fields["10"]), cmd_info)
        values = gdb.read_registers()
        self.assertEqual(values["pc"], cmd_info)
        self.assertEqual(values["sp"], le32(fields["0f"]))
        self.assertEqual(values["intbase"], self.symbols["_dispatch_table"])
        self.assertEqual(values["cfg"] & 0x100, 0x100)  # crt0 set CFG.ED
        self.assertEqual(values["psr"] & 0x8, 0)  # supervisor mode
        self.assertEqual(self.pc(gdb), cmd_info)
        # Single steps move through cmd_info one instruction at a time.
        seen = [cmd_info]
        for _ in range(3):
            signal, fields = parse_stop(gdb.step())
            self.assertEqual(signal, 5)
            self.assertNotIn("swbreak", fields)
            seen.append(le32(fields["10"]))
        self.assertEqual(len(set(seen)), 4, [hex(pc) for pc in seen])
        self.assertTrue(all(cmd_info <= pc < self.symbols["_cmd_mem"] for pc in seen))
        # Writing a register: r4 reads back.
        self.assertEqual(gdb.write_register(4, 0x1234), "OK")
        self.assertEqual(gdb.read_register(4), 0x1234)
        # Off the breakpoint and on: the command completes.
        self.assertEqual(gdb.clear_breakpoint(cmd_info), "OK")
        gdb.send_packet("c")
        console.expect("board: virt 1.0")
        console.expect(PROMPT)
        gdb.interrupt()
        gdb.command("D")

    def test_continue_from_a_breakpoint_stops_there_again_next_time(self):
        console = self.start()
        gdb = self.attach()
        execute = self.symbols["_shell_execute"]
        gdb.set_breakpoint(execute, kind=1)  # a hardware breakpoint this time
        for word in ("one", "two"):
            gdb.send_packet("vCont;c:1")
            console.send("echo %s\r" % word)
            signal, fields = parse_stop(gdb.reply())
            self.assertIn("hwbreak", fields)
            self.assertEqual(le32(fields["10"]), execute)
        gdb.send_packet("c")
        console.expect("two\r\n" + PROMPT)

    # ---- memory

    def test_memory_written_by_the_debugger_is_printed_by_the_guest(self):
        console = self.start()
        gdb = self.attach()
        self.assertEqual(gdb.write_memory(0x10000, b"hello gdb"), "OK")
        # Binary X with the bytes that must be escaped.
        self.assertEqual(gdb.write_binary(0x10010, b"#$}*\x03\x00\xff"), "OK")
        self.assertEqual(gdb.read_memory(0x10000, 9), b"hello gdb")
        self.assertEqual(gdb.read_memory(0x10010, 7), b"#$}*\x03\x00\xff")
        # Run-length encoded input: "0*\"00" is eight '0's.
        gdb.send_raw(frame(b'M10020,4:0*"00'))
        self.assertEqual(gdb.reply(), "OK")
        # Flash and device registers refuse writes and keep their contents.
        flash = gdb.read_memory(0xE00000, 4)
        self.assertTrue(gdb.write_memory(0xE00000, b"\0\0\0\0").startswith("E"))
        self.assertEqual(gdb.read_memory(0xE00000, 4), flash)
        self.assertTrue(gdb.write_memory(UART0_DATA, b"A").startswith("E"))
        gdb.send_packet("c")
        output = self.shell(console, "mem 0x10000 40")
        self.assertIn("010000: 68 65 6c 6c 6f 20 67 64 62", output)
        self.assertIn("010010: 23 24 7d 2a 03 00 ff", output)
        self.assertIn("010020: 00 00 00 00", output)

    def test_reading_the_uart_data_register_does_not_pop_typed_input(self):
        console = self.start()
        gdb = self.attach()  # the guest stops
        console.send("echo typed\r")
        deadline = time.monotonic() + 10
        while not gdb.read_memory(UART0_STATUS, 4)[0] & 1:  # RX_AVAIL
            self.assertLess(time.monotonic(), deadline, "the input never reached the UART")
            time.sleep(0.02)
        for _ in range(5):
            self.assertEqual(gdb.read_memory(UART0_DATA, 4), b"e\0\0\0")
        gdb.send_packet("c")
        console.expect("echo typed\r\n")
        self.assertEqual(console.expect(PROMPT), "typed\r\n" + PROMPT)

    # ---- watchpoints

    def test_write_read_and_access_watchpoints_in_the_firmware(self):
        console = self.start()
        gdb = self.attach()
        self.assertEqual(gdb.command("Z2,10004,4"), "OK")
        gdb.send_packet("c")
        console.send("fill 0x10000 16 1\r")
        signal, fields = parse_stop(gdb.reply())
        self.assertEqual(signal, 5)
        self.assertEqual(fields.get("watch"), "10004")
        stop_pc = le32(fields["10"])
        self.assertTrue(self.symbols["_cmd_fill"] <= stop_pc < self.symbols["_cmd_count"])
        pattern = fill_pattern(1, 16)
        written = gdb.read_memory(0x10004, 1)
        self.assertEqual(written, pattern[4:5])  # the store completed
        self.assertEqual(gdb.command("z2,10004,4"), "OK")
        gdb.send_packet("c")
        console.expect("filled 16 bytes at 0x010000\r\n" + PROMPT)
        # A read watchpoint: sum reads the bytes.
        self.assertEqual(gdb.interrupt()[:3], "T02")
        self.assertEqual(gdb.command("Z3,10008,2"), "OK")
        gdb.send_packet("c")
        console.send("sum 0x10000 16\r")
        signal, fields = parse_stop(gdb.reply())
        self.assertEqual(fields.get("rwatch"), "10008")
        self.assertEqual(gdb.command("z3,10008,2"), "OK")
        # An access watchpoint catches the next read too.
        self.assertEqual(gdb.command("Z4,1000c,1"), "OK")
        gdb.send_packet("c")
        signal, fields = parse_stop(gdb.reply())
        self.assertEqual(fields.get("awatch"), "1000c")
        self.assertEqual(gdb.command("z4,1000c,1"), "OK")
        gdb.send_packet("c")
        console.expect("crc32 0x%08x\r\n" % zlib.crc32(pattern))

    # ---- run control

    def test_ctrl_c_interrupts_and_monitor_commands_answer(self):
        console = self.start()
        gdb = self.attach()
        gdb.send_packet("c")
        console.send("count 1000\r")
        console.expect("\r\n3\r\n")
        signal, fields = parse_stop(gdb.interrupt())
        self.assertEqual(signal, 2)
        self.assertEqual(gdb.monitor("info status"), "VM status: paused (debug)\n")
        # Nothing counts while the debugger holds the guest.
        console.output = b""
        time.sleep(0.3)
        self.assertNotIn(b"\n", console.output.lstrip(b"0123456789\r"))
        registers = gdb.monitor("info registers")
        self.assertIn("pc=%06x" % le32(fields["10"]), registers.replace("pc=0x", "pc="))
        gdb.send_packet("c")
        console.expect("\r\n")  # counting again
        console.send("\x03")
        console.expect("count: stopped at")
        console.expect(PROMPT)

    def test_dash_s_waits_for_the_debugger_and_a_monitor_cont_is_coherent(self):
        console = self.start("-S", prompt=False)
        gdb = self.attach()
        self.assertEqual(gdb.monitor("info status"), "VM status: paused (prelaunch)\n")
        self.assertEqual(self.pc(gdb), 0xE00000)  # the reset entry: nothing ran
        self.assertEqual(console.output, b"")
        # The debugger's continue starts the guest.
        gdb.send_packet("c")
        console.expect(PROMPT)
        gdb.interrupt()
        # A monitor's cont (through qRcmd, as any front end) runs the guest
        # while the debugger thinks it stopped; the guest keeps working and
        # the debugger's next continue and interrupt still work.
        self.assertEqual(gdb.monitor("cont"), "")
        self.assertEqual(self.shell(console, "echo running"), "running\n")
        self.assertEqual(gdb.monitor("info status"), "VM status: running\n")
        gdb.send_packet("c")
        self.assertEqual(self.shell(console, "echo still"), "still\n")
        # A monitor's stop while the debugger waits is reported to it.
        gdb.send_packet("qRcmd," + "stop".encode().hex())
        replies = [gdb.reply(), gdb.reply()]
        self.assertIn("OK", replies)
        self.assertTrue(any(reply.startswith("T02") for reply in replies), replies)

    def test_detach_leaves_the_guest_running_without_breakpoints(self):
        console = self.start()
        gdb = self.attach()
        gdb.set_breakpoint(self.symbols["_cmd_info"])
        self.assertEqual(gdb.command("D"), "OK")
        self.assertTrue(gdb.closed_by_peer())
        self.assertIn("board: virt 1.0", self.shell(console, "info"))
        # A new debugger can attach afterwards.
        again = self.attach()
        self.assertEqual(again.monitor("info status"), "VM status: paused (debug)\n")
        again.command("D")

    def test_kill_ends_the_emulator(self):
        console = self.start()
        gdb = self.attach()
        gdb.send_packet("k")
        self.assertEqual(console.wait(), 0)
        self.assertTrue(gdb.closed_by_peer())

    def test_guest_power_off_is_reported_with_its_exit_code(self):
        console = self.start()
        gdb = self.attach()
        gdb.send_packet("c")
        console.send("poweroff 3\r")
        self.assertEqual(gdb.reply(), "W03")
        self.assertEqual(console.wait(), 3)

    def test_power_off_kept_by_no_shutdown_is_a_stop(self):
        console = self.start("-no-shutdown")
        gdb = self.attach()
        gdb.send_packet("c")
        console.send("poweroff 3\r")
        signal, _ = parse_stop(gdb.reply())
        self.assertEqual(signal, 3)
        self.assertEqual(gdb.monitor("info status"), "VM status: paused (shutdown)\n")
        self.assertEqual(parse_stop(gdb.cont())[0], 3)  # it cannot run again without a reset
        gdb.send_packet("k")
        self.assertEqual(console.wait(), 0)

    def test_guest_panic_is_reported(self):
        # A guest whose breakpoint trap cannot push its frame (control/programs).
        panic = os.path.join(HERE, "..", "control", "programs", "panic.elf")
        console = self.start("-S", "-kernel", panic, prompt=False)
        gdb = self.attach()
        gdb.send_packet("c")
        self.assertEqual(gdb.reply(), "X06")  # the process ends with status 134
        self.assertEqual(console.wait(), 134)
        self.clients.remove(gdb)
        gdb.close()
        kept = self.start("-S", "-kernel", panic, "-no-shutdown", prompt=False)
        gdb = self.attach()
        gdb.send_packet("c")
        signal, _ = parse_stop(gdb.reply())
        self.assertEqual(signal, 6)
        self.assertEqual(gdb.monitor("info status"), "VM status: paused (guest-panicked)\n")
        gdb.send_packet("k")
        self.assertEqual(kept.wait(), 0)

    # ---- the server

    def test_tcp_device_and_gdbserver_from_the_monitor(self):
        console = h.start_with_pipes(["-gdb", "tcp:127.0.0.1:0"])
        self.consoles.append(console)
        port = int(re.search(r"gdb listening on tcp port (\d+)",
                             h.stderr_line(console.process)).group(1))
        console.expect(PROMPT)
        gdb = RspClient.connect_tcp("127.0.0.1", port)
        self.clients.append(gdb)
        gdb.handshake(no_ack=False)  # acknowledgements all the way
        self.assertEqual(gdb.read_registers()["pc"], self.pc(gdb))
        gdb.command("D")
        self.assertTrue(gdb.closed_by_peer())
        # From the monitor (Ctrl-A c): move the server to a unix socket.
        console.send(CTRL_A_C)
        console.expect(MONITOR)
        console.send("gdbserver unix:%s\r" % self.socket_path)
        console.expect("Waiting for gdb connection on device 'unix:%s'" % self.socket_path)
        console.expect(MONITOR)
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2).recv(1)
        moved = self.attach()
        self.assertEqual(moved.monitor("info status"), "VM status: paused (debug)\n")
        console.send("gdbserver none\r")
        console.expect("Disabled gdbserver")
        self.assertTrue(moved.closed_by_peer())
        self.assertFalse(os.path.exists(self.socket_path))
        console.send("info status\r")
        console.expect("VM status: running")  # the debugger that held it is gone

    def test_dash_s_listens_on_port_1234(self):
        probe = socket.socket()
        try:
            probe.bind(("", 1234))
        except OSError:
            self.skipTest("port 1234 is in use on this host")
        finally:
            probe.close()
        console = h.start_with_pipes(["-s"])
        self.consoles.append(console)
        console.expect(PROMPT)
        gdb = RspClient.connect_tcp("127.0.0.1", 1234)
        self.clients.append(gdb)
        self.assertIn("PacketSize", gdb.handshake())
        gdb.command("D")

    # ---- hostile peers

    def test_bad_checksums_overlong_packets_bad_hex_and_unknown_packets(self):
        self.start()
        gdb = self.attach(handshake=False)
        for _ in range(3):
            gdb.send_raw(b"$g#00")
            self.assertEqual(gdb.read_byte(), b"-")  # NAK: send it again
        self.assertEqual(len(gdb.command("g")), 168)
        gdb.send_raw(frame(b"m" + b"0" * 5000))
        self.assertEqual(gdb.reply(), "E01")  # over PacketSize
        self.assertTrue(gdb.command("mzz,4").startswith("E"))
        self.assertEqual(gdb.command("vFooBar"), "")
        self.assertEqual(gdb.command("qNothing"), "")
        gdb.send_raw(frame(b"*!"))  # run-length with nothing to repeat
        self.assertEqual(gdb.reply(), "E01")
        # Too many bad packets in a row and the peer is dropped.
        gdb.send_raw(b"$g#00" * 20)
        self.assertTrue(gdb.closed_by_peer())
        again = self.attach()
        self.assertEqual(again.monitor("info status"), "VM status: paused (debug)\n")

    def start_counting(self, console, total):
        """Starts the firmware's `count TOTAL` (one number per 10 ms tick)."""
        console.send("count %d\r" % total)
        console.expect("count %d\r\n" % total)

    def test_garbage_and_mid_packet_disconnects_while_the_guest_counts(self):
        console = self.start()
        self.start_counting(console, 150)
        last = 2
        console.expect("\r\n%d\r\n" % last)
        rng = random.Random(9)
        for _ in range(4):
            gdb = self.attach(handshake=False)
            gdb.send_packet("c")  # the debugger's attach stopped the guest; let it go
            # A flood of noise: no '$' or Ctrl-C, so no packet and no stop.
            noise = bytes(b for b in rng.randbytes(300000) if b not in b"$\x03")
            gdb.send_raw(noise)
            # Then half a packet, and gone.
            gdb.send_raw(b"$m0,4")
            gdb.close()
            self.clients.remove(gdb)
            last += 3
            console.expect("\r\n%d\r\n" % last)  # still counting
        console.expect("\r\n150\r\n" + PROMPT, timeout=30)

    def test_a_debugger_that_never_reads_does_not_stall_the_guest(self):
        console = self.start()
        gdb = self.attach()
        gdb.send_packet("c")
        self.start_counting(console, 100)
        console.expect("\r\n2\r\n")
        # Requests whose replies are never read: the stub stops taking this
        # peer's input once its replies pile up; the guest keeps counting.
        gdb.sock.setblocking(False)
        sent = 0
        request = frame(b"m10000,800") * 64
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            try:
                sent += gdb.sock.send(request)
            except BlockingIOError:
                time.sleep(0.01)
        self.assertGreater(sent, 20000)
        console.expect("\r\n30\r\n")
        gdb.close()
        self.clients.remove(gdb)
        console.expect("\r\n100\r\n" + PROMPT, timeout=30)
        self.assertEqual(self.shell(console, "echo alive"), "alive\n")


if __name__ == "__main__":
    unittest.main()
