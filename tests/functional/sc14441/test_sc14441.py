"""The sc14441 board end to end: a real cr16-system -M sc14441 with its
UART on -serial pty and an SPI NOR image (-drive if=mtd), driven by
sc14441_host.py exactly as a user would. The boot ROM
(roms/sc14441-bootrom.bin) uploads our loader (roms/sc14441-loader.bin),
which then answers the command protocol. Every test starts its own
emulator so CTest can run them in parallel. The CPU is paced at about
4 MIPS, so the timings below are real seconds."""
import os
import random
import re
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "cli"))
sys.path.insert(0, os.path.dirname(__file__))
import cr16_harness as h  # noqa: E402
import sc14441_host as host  # noqa: E402

BOOTROM = os.path.join(h.ROMS_DIR, "sc14441-bootrom.bin")
LOADER = os.path.join(h.ROMS_DIR, "sc14441-loader.bin")
MIB = 1 << 20
PTY_LINE = re.compile(r"char device redirected to (/dev/pts/\d+) \(label serial0\)")
LOADER_RANGE = range(0x010080, 0x014000)
# The longest range the guest checksums: 64 KiB take 0.6 s at the chip's
# pace, ~20 times that in an unoptimised sanitizer build (which stretches
# the tool's timeouts too, CR16_TIMEOUT_SCALE): there it checks 4 KiB.
LONG_RANGE = 0x10000 if host.TIMEOUT_SCALE == 1 else 0x1000


def loader_image():
    with open(LOADER, "rb") as f:
        return f.read()


_support = None


def board_support():
    """None when the binary has the sc14441 board and the images exist,
    else the reason to skip."""
    global _support
    if _support is None:
        if not (os.path.isfile(h.BINARY) and os.access(h.BINARY, os.X_OK)):
            _support = "cr16-system binary not found: %s" % h.BINARY
        elif not os.path.exists(BOOTROM) or not os.path.exists(LOADER):
            _support = "prebuilt sc14441 images missing in roms/"
        else:
            result = h.run(["-M", "help"], timeout=20)
            _support = "" if b"sc14441" in result.stdout + result.stderr else \
                "this cr16-system has no sc14441 board (-M help)"
    return _support or None


class Board:
    """One running `cr16-system -M sc14441` with its serial port on a pty,
    a flash image file in a private directory and QMP on a UNIX socket."""

    def __init__(self, flash=None, flash_size=MIB, extra_args=()):
        self.directory = tempfile.mkdtemp(prefix="cr16-sc14441-")
        self.image_path = os.path.join(self.directory, "flash.img")
        self.flash = bytes(flash) if flash is not None else random.Random(flash_size).randbytes(
            flash_size)
        with open(self.image_path, "wb") as f:
            f.write(self.flash)
        self.qmp_path = os.path.join(self.directory, "qmp.sock")
        self.stderr_path = os.path.join(self.directory, "stderr.txt")
        self.stderr_file = open(self.stderr_path, "wb")
        args = [h.BINARY, "-M", "sc14441", "-drive", "if=mtd,file=%s,format=raw" % self.image_path,
                "-serial", "pty", "-display", "none", "-monitor", "none",
                "-qmp", "unix:%s,server=on,wait=off" % self.qmp_path] + list(extra_args)
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=self.stderr_file)
        self.pty = self._wait_for_pty()
        self.ports = []

    def stderr(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode(errors="replace")

    def _wait_for_pty(self):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            match = PTY_LINE.search(self.stderr())
            if match:
                return match.group(1)
            if self.process.poll() is not None:
                raise AssertionError("cr16-system exited (%s) before its pty line:\n%s" %
                                     (self.process.returncode, self.stderr()))
            time.sleep(0.05)
        raise AssertionError("no 'char device redirected' line:\n" + self.stderr())

    def reopen_port(self):
        """Closes every port this test holds on the pty, then opens it again."""
        for port in self.ports:
            port.close()
        self.ports = []
        return self.open_port()

    def open_port(self):
        port = host.SerialPort(self.pty)
        self.ports.append(port)
        return port

    def alive(self):
        return self.process.poll() is None

    def quit(self):
        """Quits through QMP (SIGTERM if that fails); returns the exit status."""
        if self.process.poll() is None:
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                    s.settimeout(5)
                    s.connect(self.qmp_path)
                    s.recv(4096)  # greeting
                    s.sendall(b'{"execute": "qmp_capabilities"}\n')
                    s.recv(4096)
                    s.sendall(b'{"execute": "quit"}\n')
                    s.recv(4096)
            except OSError:
                self.process.terminate()
        try:
            return self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=10)

    def close(self):
        for port in self.ports:
            port.close()
        self.ports = []
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.stderr_file.close()
        for name in os.listdir(self.directory):
            os.unlink(os.path.join(self.directory, name))
        os.rmdir(self.directory)

    def file_contents(self):
        with open(self.image_path, "rb") as f:
            return f.read()


class Sc14441Test(unittest.TestCase):
    def setUp(self):
        reason = board_support()
        if reason:
            self.skipTest(reason)
        self.boards = []
        self.log_lines = []

    def tearDown(self):
        for board in self.boards:
            board.close()

    def log(self, text):
        self.log_lines.append(text)

    def start(self, **kwargs):
        board = Board(**kwargs)
        self.boards.append(board)
        return board

    def boot(self, board, port=None):
        """Opens the pty (unless given), uploads the loader; returns the client."""
        port = port or board.open_port()
        client = host.boot_loader(port, loader_image(), log=self.log)
        client.ping()
        return client

    def read_stx_or_silence(self, port, seconds):
        """Everything received within `seconds`."""
        deadline = time.monotonic() + seconds
        data = b""
        while time.monotonic() < deadline:
            data += port.read(4096, deadline - time.monotonic())
        return data

    def expect_stx_within(self, port, seconds):
        """Waits for STX; returns the seconds it took."""
        started = time.monotonic()
        host.wait_for_stx(port, seconds, self.log)
        return time.monotonic() - started


class Loader(Sc14441Test):
    def test_upload_ping_and_chip_id(self):
        board = self.start()
        port = board.open_port()
        host.wait_for_stx(port, 10)
        second = self.expect_stx_within(port, 1.0)  # the ROM repeats STX every ~200 ms
        self.assertGreater(second, 0.1)
        client = self.boot(board, port)
        self.assertEqual(client.online, 3)
        self.assertIn("sc14441-loader ready, flash %d bytes" % MIB, client.debug)
        ident = client.chip_id()
        self.assertEqual(len(ident), 5)
        self.assertEqual(ident[:3], b"441")
        client.ping()

    def test_flash_info_1mib(self):
        client = self.boot(self.start(flash_size=MIB))
        self.assertEqual(client.flash_info(), MIB)

    def test_flash_info_2mib(self):
        client = self.boot(self.start(flash_size=2 * MIB))
        self.assertEqual(client.flash_info(), 2 * MIB)
        self.assertIn("sc14441-loader ready, flash %d bytes" % (2 * MIB), client.debug)

    def test_erase_program_and_read_back(self):
        board = self.start(flash_size=2 * MIB)
        client = self.boot(board)
        rng = random.Random(12)
        expected = bytearray(board.flash)
        for address in (0x000000, 0x0FF000, 0x1FF000):
            data = rng.randbytes(host.SECTOR_SIZE)
            data = data[:512] + b"\xff" * 256 + data[768:]  # one page left erased
            client.write_flash(address, data)
            expected[address:address + len(data)] = data
            self.assertEqual(client.read_flash(address, len(data)), data)
        # an erase alone leaves 0xFF; programming only clears bits (AND)
        client.erase_sector(0x123000)
        expected[0x123000:0x124000] = b"\xff" * host.SECTOR_SIZE
        page = rng.randbytes(host.PAGE_SIZE)
        client.program_page(0x123100, page)
        client.program_page(0x123100, bytes(b & 0x0F for b in rng.randbytes(host.PAGE_SIZE)))
        readback = client.read_flash(0x123000, host.SECTOR_SIZE)
        expected[0x123000:0x124000] = readback
        self.assertTrue(all(b == 0xFF for b in readback[:0x100] + readback[0x200:]))
        self.assertTrue(all((r & ~p & 0xFF) == 0 for r, p in zip(readback[0x100:0x200], page)))
        for address, length in ((0, 0x1000), (0x0FF000, 0x1000), (0x1FF000, 0x1000),
                                (0x120000, LONG_RANGE)):
            self.assertEqual(client.checksum(address, length),
                             zlib.crc32(expected[address:address + length]))
        # the image file follows while the VM runs (written back asynchronously)
        deadline = time.monotonic() + 10
        while board.file_contents() != bytes(expected) and time.monotonic() < deadline:
            time.sleep(0.2)
        self.assertEqual(board.file_contents(), bytes(expected))
        self.assertEqual(board.quit(), 0)
        self.assertEqual(board.file_contents(), bytes(expected))

    def test_checksum_matches_zlib(self):
        board = self.start()
        client = self.boot(board)
        for address, length in ((0, 4096), (0x1235, 777), (0xF0000, LONG_RANGE), (0xFFFFF, 1)):
            self.assertEqual(client.checksum(address, length),
                             zlib.crc32(board.flash[address:address + length]),
                             "checksum 0x%x+0x%x" % (address, length))
        self.assertEqual(client.read_flash(0x1235, 777), board.flash[0x1235:0x1235 + 777])

    def test_set_baudrate_230400_then_ping(self):
        client = self.boot(self.start())
        reply = client.request(host.CMD_SET_BAUDRATE, struct.pack("<I", 12345))
        self.assertEqual(reply.code, host.INVALID_PARAM)
        client.ping()
        for baud in (57600, 230400):
            client.set_baudrate(baud)
            client.ping()
        self.assertEqual(client.chip_id()[:3], b"441")

    def test_frame_errors_get_their_reply_codes(self):
        client = self.boot(self.start())
        frame = bytearray(host.command_frame(host.CMD_PING, 77))
        frame[10] ^= 1  # header CRC
        client.port.write(bytes(frame))
        self.assertEqual(client.wait_reply(77, 1.0).code, host.INVALID_CRC)
        client.port.write(host.command_frame(0x42, 78))
        self.assertEqual(client.wait_reply(78, 1.0).code, host.CMD_INVALID)
        client.port.write(host.command_frame(host.CMD_ERASE_SECTOR, 79, b"\x00\x10"))
        self.assertEqual(client.wait_reply(79, 1.0).code, host.PARAM_SHORT)
        frame = bytearray(host.command_frame(host.CMD_PEEK, 80, struct.pack("<II", 0x10080, 2)))
        frame[-1] ^= 0x80  # parameter CRC
        client.port.write(b"\x00\x13" + bytes(frame))  # leading noise is skipped
        self.assertEqual(client.wait_reply(80, 1.0).code, host.INVALID_CRC)
        client.ping()

    def test_peek_and_poke_ram(self):
        client = self.boot(self.start())
        self.assertEqual(client.peek(0x010080, 2), struct.unpack("<H", loader_image()[:2])[0])
        client.poke(0x009000, 0x12345678, 4)
        self.assertEqual(client.peek(0x009000, 4), 0x12345678)
        client.poke(0x009001, 0xAB, 1)
        self.assertEqual(client.peek(0x009000, 4), 0x1234AB78)

    def test_command_line_tool(self):
        board = self.start()
        tool = [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                             "sc14441_host.py"), "-p", board.pty]

        def run(*args):
            result = subprocess.run(tool + list(args), capture_output=True, text=True, timeout=40)
            self.assertEqual(result.returncode, 0, result.stderr)
            return result.stdout

        self.assertIn("chip id: 441", run("chip_id"))
        data = random.Random(7).randbytes(2 * host.SECTOR_SIZE)
        source = os.path.join(board.directory, "data.bin")
        with open(source, "wb") as f:
            f.write(data)
        # each invocation uploads the loader again: the previous one went back
        # to the ROM through the watchdog (after chip_id) or RESET (below)
        self.assertIn("wrote and verified 8192 bytes at 0x2000", run("write_flash", source, "0x2000"))
        self.assertIn("reset", run("-b", "9600", "reset"))
        copy = os.path.join(board.directory, "copy.bin")
        run("read_flash", copy, "0x2000", "0x2000")
        with open(copy, "rb") as f:
            self.assertEqual(f.read(), data)


class Watchdog(Sc14441Test):
    def test_idle_loader_is_reset_into_the_rom(self):
        board = self.start()
        port = board.open_port()
        client = self.boot(board, port)
        client.ping()
        idle_from = time.monotonic()
        for held in board.ports:  # the host side goes away for a while
            held.close()
        board.ports = []
        time.sleep(1.0)
        port = board.open_port()  # reopened pty: input flushed, as the vendor tool does
        host.wait_for_stx(port, 8)
        idle = time.monotonic() - idle_from
        self.assertGreater(idle, 1.8, "the watchdog fired before ~2.5 s of idleness")
        self.assertLess(idle, 6.0)
        client = self.boot(board, port)  # second upload without restarting the emulator
        self.assertEqual(client.chip_id()[:3], b"441")
        self.assertTrue(board.alive())

    def test_reset_command_returns_to_the_rom_at_once(self):
        board = self.start()
        port = board.open_port()
        client = self.boot(board, port)
        client.reset()
        self.assertLess(self.expect_stx_within(port, 2.0), 1.0)
        client = self.boot(board, board.reopen_port())
        client.ping()
        self.assertEqual(client.flash_info(), MIB)


class BootRom(Sc14441Test):
    def send_length(self, port, length):
        host.wait_for_stx(port, 10)
        port.write(bytes([host.SOH]) + struct.pack("<H", length))
        answer = port.read_exact(1, 1.0)
        if answer[0] == host.STX:
            answer = port.read_exact(1, 1.0)
        return answer[0]

    def check_length_refused(self, length):
        board = self.start()
        port = board.open_port()
        self.assertEqual(self.send_length(port, length), host.NACK)
        self.assertLess(self.expect_stx_within(port, 1.0), 0.5)  # STX resumes
        self.boot(board, port)

    def test_length_zero_is_refused(self):
        self.check_length_refused(0)

    def test_length_0x4000_is_refused(self):
        self.check_length_refused(0x4000)

    def test_upload_timeout_returns_to_stx(self):
        board = self.start()
        port = board.open_port()
        image = loader_image()
        self.assertEqual(self.send_length(port, len(image)), host.ACK)
        port.write(image[:len(image) // 2])
        silent_from = time.monotonic()
        host.wait_for_stx(port, 6)
        waited = time.monotonic() - silent_from
        self.assertGreater(waited, 1.0, "STX came back before the ~2 s silence timeout")
        self.boot(board, port)

    def test_bad_final_ack_does_not_start_the_payload(self):
        board = self.start()
        port = board.open_port()
        image = loader_image()
        self.assertEqual(self.send_length(port, len(image)), host.ACK)
        port.write(image)
        self.assertEqual(port.read_exact(1, 1.0)[0], host.xor_bytes(image))
        port.write(bytes([host.NACK]))
        after = self.read_stx_or_silence(port, 3.0)
        self.assertNotIn(bytes([host.SYNC]), after, "the payload ran: %r" % after[:40])
        self.assertIn(bytes([host.STX]), after)
        self.assertEqual(set(after), {host.STX})
        self.boot(board, port)

    def test_largest_image_uploads_within_a_second(self):
        board = self.start()
        port = board.open_port()
        image = loader_image()
        image += b"\x00" * (0x3F80 - len(image))  # .bss follows the image; padding is harmless
        seconds = host.upload(port, image, log=self.log)
        self.assertLess(seconds, 1.0)
        client = host.LoaderClient(port, log=self.log)
        client.wait_online()
        client.ping()


class FdPort(host.SerialPort):
    """The host tool's port on a socket or a pair of pipes instead of a tty:
    same reads and writes, nothing to put in raw mode."""

    def __init__(self, read_fd, write_fd, name):
        self.path = name
        self.fd = read_fd
        self.write_fd = write_fd
        os.set_blocking(read_fd, False)
        os.set_blocking(write_fd, False)

    def set_baud(self, baud):
        self.baud = baud

    def flush_input(self):
        while self.read(4096, 0):
            pass

    def close(self):
        self.fd = None


class OtherBackends(Sc14441Test):
    """The ROM and the loader on -serial unix: and -serial stdio, not a pty."""

    def run_loader(self, port):
        host.wait_for_stx(port, 10, self.log)
        port.flush_input()  # STX queued since the start, as a tool opening a port drops them
        client = host.boot_loader(port, loader_image(), log=self.log)
        client.ping()
        self.assertEqual(client.chip_id()[:3], b"441")
        self.assertEqual(client.flash_info(), MIB)

    def test_unix_socket_and_stdio_lines(self):
        directory = tempfile.mkdtemp(prefix="cr16-sc14441-")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", directory]))
        image = os.path.join(directory, "flash.img")
        with open(image, "wb") as f:
            f.write(b"\xff" * MIB)
        common = [h.BINARY, "-M", "sc14441", "-drive", "if=mtd,file=%s,format=raw" % image,
                  "-display", "none", "-monitor", "none", "-snapshot"]
        path = os.path.join(directory, "uart.sock")
        server = subprocess.Popen(common + ["-serial", "unix:%s,server=on,wait=off" % path],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: (server.kill(), server.wait()))
        deadline = time.monotonic() + 20
        while not os.path.exists(path) and time.monotonic() < deadline:
            time.sleep(0.02)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.addCleanup(sock.close)
        sock.connect(path)
        self.run_loader(FdPort(sock.fileno(), sock.fileno(), "unix:" + path))
        piped = subprocess.Popen(common + ["-serial", "stdio"], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: (piped.kill(), piped.wait()))
        self.run_loader(FdPort(piped.stdout.fileno(), piped.stdin.fileno(), "stdio"))


class Robustness(Sc14441Test):
    def test_unimplemented_sfr_read_is_logged_with_the_pc(self):
        directory = tempfile.mkdtemp(prefix="cr16-sc14441-log-")
        log_path = os.path.join(directory, "log.txt")
        try:
            board = self.start(extra_args=["-d", "unimp", "-D", log_path])
            client = self.boot(board)
            self.assertEqual(client.peek(0xFF6000, 2), 0)
            deadline = time.monotonic() + 5
            lines = []
            while time.monotonic() < deadline:
                with open(log_path, errors="replace") as f:
                    lines = [line for line in f
                             if re.search(r"(?<![0-9a-f])(?:0x)?0*ff6000(?![0-9a-f])", line, re.I)]
                if lines:
                    break
                time.sleep(0.1)
            self.assertTrue(lines, "no unimp line naming 0xff6000")
            pcs = [int(m.group(1), 16) for line in lines
                   for m in re.finditer(r"pc\W*(?:0x)?([0-9a-f]{4,6})\b", line, re.I)]
            self.assertTrue(any(pc in LOADER_RANGE for pc in pcs),
                            "no PC inside the loader in: %r" % lines)
        finally:
            for name in os.listdir(directory):
                os.unlink(os.path.join(directory, name))
            os.rmdir(directory)

    def test_poke_storm_leaves_the_emulator_alive(self):
        board = self.start()
        client = self.boot(board)
        rng = random.Random(441)
        known = [(0xFF4000, 0xFF4020), (0xFF4400, 0xFF4440), (0xFF4800, 0xFF4820),
                 (0xFF4900, 0xFF4920), (0xFF4C00, 0xFF4C02), (0xFF5000, 0xFF5010),
                 (0xFF5400, 0xFF5410)]

        def unknown_sfr():
            while True:
                address = rng.randrange(0xFF0000, 0xFFFC00) & ~3
                if not any(lo <= address < hi for lo, hi in known) and \
                        not 0xFF0C00 <= address < 0xFF0C40:
                    return address

        pokes = 0
        for _ in range(400):
            if rng.random() < 0.6:
                address = 0xFF0C00 + 4 * rng.randrange(16)
            else:
                address = unknown_sfr()
            width = rng.choice((1, 2, 4))
            address &= ~(width - 1)
            try:
                client.poke(address, rng.getrandbits(32), width)
                pokes += 1
            except host.HostError:
                break  # the loader got lost (or reset): fine, the process must live
            self.assertTrue(board.alive(), "cr16-system died after %d pokes" % pokes)
        self.log("poke storm: %d pokes answered" % pokes)
        self.assertGreater(pokes, 10)
        self.assertTrue(board.alive())
        # the machine still works: back to the ROM (RESET or the watchdog) and boot again
        try:
            client.reset()
        except host.HostError:
            pass
        client = self.boot(board, board.reopen_port())
        self.assertEqual(client.chip_id()[:3], b"441")
        self.assertEqual(board.quit(), 0)


if __name__ == "__main__":
    unittest.main()
