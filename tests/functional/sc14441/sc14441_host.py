#!/usr/bin/env python3
"""Host tool for the Dialog SC14441 UART boot and our test loader.

Python 3 standard library only. Usable as a module (the functional tests
import it) and as a command-line tool against a real serial port or the
emulator's `-serial pty`:

    cr16-system -M sc14441 -drive if=mtd,file=flash.img,format=raw -serial pty
    # ... char device redirected to /dev/pts/7 (label serial0)
    sc14441_host.py -p /dev/pts/7 chip_id
    sc14441_host.py -p /dev/pts/7 write_flash new.img 0x10000 0x2000

Two protocols (docs/boards/sc14441.md: the boot ROM, the loader protocol):

* Boot ROM: wait for STX (0x02, other bytes skipped), send SOH + 16-bit
  length, expect ACK (0x06; NACK 0x15 refuses), send the image in one
  write, check the XOR byte within 1 s, send `06 00`.
* Loader commands: host frame
  `A5 cmd id:u32 len:u32 crc32(cmd,id,len) [params crc32(params)]`,
  reply `A5 code id:u32 len:u32 crc32(A5,code,id,len) [payload crc32(payload)]`,
  integers little-endian, CRC-32 = zlib.crc32.

Each CLI invocation uploads the loader first (unless --skip-loader): the
board cannot be reset from the host, so an earlier loader must have
returned to the ROM (it does so by itself after ~2.5 s idle, or at once
with the `reset` sub-command).
"""
import argparse
import os
import select
import struct
import sys
import termios
import time
import zlib

STX, SOH, ACK, NACK = 0x02, 0x01, 0x06, 0x15

# Every timeout of this tool is multiplied by this (the test suite sets
# CR16_TIMEOUT_SCALE for a sanitizer build, whose emulator cannot keep the
# chip's real-time pace through MMIO-heavy loops on a loaded machine).
TIMEOUT_SCALE = float(os.environ.get("CR16_TIMEOUT_SCALE", "1"))
SYNC = 0xA5
UNSOLICITED_ID = 0xFFFFFFFF

CMD_PING = 0x00
CMD_SET_BAUDRATE = 0x01
CMD_FLASH_INFO = 0x02
CMD_ERASE_SECTOR = 0x03
CMD_PROGRAM_PAGE = 0x04
CMD_RESET = 0x05
CMD_READ_FLASH = 0x06
CMD_CHECKSUM = 0x07
CMD_CHIPID = 0x08
CMD_PEEK = 0x10  # our loader only
CMD_POKE = 0x11  # our loader only

INVALID_CRC = 0x00
CMD_OK = 0x01
CMD_INVALID = 0x02
PARAM_SHORT = 0x03
OK = 0x04
DEBUG = 0x05
INVALID_PARAM = 0x06
ONLINE = 0x07
FLASH_TIMEOUT = 0x08
CHECKSUM = 0x09
FLASH_INFO = 0x0A
CHIPID = 0x0B

REPLY_NAMES = {
    INVALID_CRC: "INVALID_CRC", CMD_OK: "CMD_OK", CMD_INVALID: "CMD_INVALID",
    PARAM_SHORT: "PARAM_SHORT", OK: "OK", DEBUG: "DEBUG", INVALID_PARAM: "INVALID_PARAM",
    ONLINE: "ONLINE", FLASH_TIMEOUT: "FLASH_TIMEOUT", CHECKSUM: "CHECKSUM",
    FLASH_INFO: "FLASH_INFO", CHIPID: "CHIPID",
}

BAUD_RATES = (9600, 19200, 57600, 115200, 230400)
SECTOR_SIZE = 4096
PAGE_SIZE = 256

DEFAULT_LOADER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                              "roms", "sc14441-loader.bin")


class HostError(Exception):
    """A protocol step failed (timeout, refused, bad checksum, bad reply)."""


# ---- serial port --------------------------------------------------------------------

class SerialPort:
    """A tty (real serial port or pty slave) opened raw, 8N1, no flow control.
    Reads use select() with deadlines; nothing blocks forever."""

    def __init__(self, path, baud=9600):
        self.path = path
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        self.write_fd = self.fd  # the same descriptor both ways on a tty
        self._make_raw()
        self.set_baud(baud)
        self.flush_input()

    def _make_raw(self):
        attrs = termios.tcgetattr(self.fd)
        iflag, oflag, cflag, lflag = attrs[0], attrs[1], attrs[2], attrs[3]
        iflag &= ~(termios.IGNBRK | termios.BRKINT | termios.PARMRK | termios.ISTRIP |
                   termios.INLCR | termios.IGNCR | termios.ICRNL | termios.IXON |
                   termios.IXOFF | termios.IXANY)
        oflag &= ~termios.OPOST
        lflag &= ~(termios.ECHO | termios.ECHONL | termios.ICANON | termios.ISIG |
                   termios.IEXTEN)
        cflag &= ~(termios.CSIZE | termios.PARENB | termios.CSTOPB | getattr(termios, "CRTSCTS", 0))
        cflag |= termios.CS8 | termios.CREAD | termios.CLOCAL
        attrs[0], attrs[1], attrs[2], attrs[3] = iflag, oflag, cflag, lflag
        attrs[6][termios.VMIN] = 0
        attrs[6][termios.VTIME] = 0
        termios.tcsetattr(self.fd, termios.TCSANOW, attrs)

    def set_baud(self, baud):
        """Sets the line speed (meaningless on a pty, but harmless)."""
        speed = getattr(termios, "B%d" % baud, None)
        if speed is None:
            raise HostError("unsupported baud rate %d" % baud)
        attrs = termios.tcgetattr(self.fd)
        attrs[4] = attrs[5] = speed
        termios.tcsetattr(self.fd, termios.TCSANOW, attrs)
        self.baud = baud

    def flush_input(self):
        """Drops everything received so far (as opening a port with pyserial does)."""
        termios.tcflush(self.fd, termios.TCIFLUSH)
        while self.read(4096, 0):
            pass

    def write(self, data):
        """Writes all of `data` (one write call for a pty when it fits)."""
        view = memoryview(bytes(data))
        deadline = time.monotonic() + 10
        while view:
            try:
                written = os.write(self.write_fd, view)
                view = view[written:]
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise HostError("write to %s stalled" % self.path)
                select.select([], [self.write_fd], [], 0.1)

    def read(self, count, timeout):
        """Up to `count` bytes; b"" when none arrived within `timeout` seconds."""
        ready, _, _ = select.select([self.fd], [], [], max(0, timeout))
        if not ready:
            return b""
        try:
            return os.read(self.fd, count)
        except (BlockingIOError, InterruptedError):
            return b""
        except OSError:
            # EIO on a pty whose other side went away; behave like silence.
            time.sleep(min(timeout, 0.05))
            return b""

    def read_exact(self, count, timeout):
        """Exactly `count` bytes within `timeout` seconds, or HostError."""
        timeout *= TIMEOUT_SCALE
        deadline = time.monotonic() + timeout
        data = b""
        while len(data) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise HostError("timed out after %.1f s: got %d of %d bytes" %
                                (timeout, len(data), count))
            data += self.read(count - len(data), remaining)
        return data

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---- boot ROM ---------------------------------------------------------------------

def xor_bytes(data):
    value = 0
    for byte in data:
        value ^= byte
    return value


def wait_for_stx(port, timeout, log=None):
    """Reads until STX arrives (other bytes are skipped); HostError after `timeout` s."""
    deadline = time.monotonic() + timeout * TIMEOUT_SCALE
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise HostError("timed out waiting for STX")
        byte = port.read(1, remaining)
        if not byte:
            continue
        if byte[0] == STX:
            return
        if log:
            log("unexpected byte 0x%02x while waiting for STX" % byte[0])


def upload(port, image, stx_timeout=15.0, log=None):
    """Boots `image` through the ROM's UART protocol on `port`.

    Waits for STX, sends SOH + length, expects ACK (tolerating one stale
    STX first), writes the image in one call, checks the XOR byte within 1 s
    and sends `06 00`. Raises HostError naming the failing step."""
    if not 1 <= len(image) <= 0xFFFF:
        raise HostError("image length %d does not fit the 16-bit length field" % len(image))
    wait_for_stx(port, stx_timeout, log)
    port.write(bytes([SOH]) + struct.pack("<H", len(image)))
    answer = port.read_exact(1, 1.0)
    if answer[0] == STX:  # one STX may have crossed our SOH
        answer = port.read_exact(1, 1.0)
    if answer[0] == NACK:
        raise HostError("boot ROM refused the length %d (NACK)" % len(image))
    if answer[0] != ACK:
        raise HostError("boot ROM answered 0x%02x to the length, expected ACK" % answer[0])
    started = time.monotonic()
    port.write(image)
    checksum = port.read_exact(1, 1.0)[0]
    if checksum != xor_bytes(image):
        raise HostError("boot ROM checksum 0x%02x, expected 0x%02x" % (checksum, xor_bytes(image)))
    port.write(struct.pack("<H", ACK))  # 06 00, as the vendor tool sends it
    return time.monotonic() - started


# ---- loader command client --------------------------------------------------------

def command_frame(cmd, frame_id, params=b""):
    """The bytes of a host -> loader frame."""
    header = struct.pack("<BII", cmd, frame_id, len(params))
    frame = bytes([SYNC]) + header + struct.pack("<I", zlib.crc32(header))
    if params:
        frame += bytes(params) + struct.pack("<I", zlib.crc32(params))
    return frame


class Reply:
    def __init__(self, code, frame_id, payload):
        self.code, self.id, self.payload = code, frame_id, payload

    def __repr__(self):
        return "Reply(%s, id=0x%x, %r)" % (REPLY_NAMES.get(self.code, hex(self.code)), self.id,
                                          self.payload[:32])


class LoaderClient:
    """Talks to a running loader on `port`. Every request waits for the
    reply carrying its id; DEBUG frames are collected in `debug`, ONLINE
    frames counted in `online`."""

    def __init__(self, port, log=None):
        self.port = port
        self.log = log
        self.next_id = 1
        self.debug = []
        self.online = 0
        self.skipped = 0  # bytes dropped while looking for A5

    # -- frames --

    def read_frame(self, timeout):
        """The next well-formed reply frame (DEBUG and ONLINE included), or
        HostError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        remaining = lambda: max(0.0, deadline - time.monotonic())  # noqa: E731
        while True:
            byte = self.port.read(1, remaining())
            if not byte:
                if remaining() <= 0:
                    raise HostError("timed out waiting for a reply frame")
                continue
            if byte[0] != SYNC:
                self.skipped += 1
                continue
            rest = self.port.read_exact(13, max(remaining(), 0.5))
            code, frame_id, length, crc = struct.unpack("<BIII", rest)
            if zlib.crc32(byte + rest[:9]) != crc:
                self.skipped += 1
                if self.log:
                    self.log("bad reply header CRC, resynchronising")
                # rescan the 13 bytes for another A5 would be nicer; replies
                # come one at a time, so dropping them is enough here
                continue
            payload = b""
            if length:
                body = self.port.read_exact(length + 4, max(remaining(), 1.0) + length / 20000.0)
                payload, payload_crc = body[:length], struct.unpack("<I", body[length:])[0]
                if zlib.crc32(payload) != payload_crc:
                    raise HostError("bad payload CRC in a %s reply" %
                                    REPLY_NAMES.get(code, hex(code)))
            return Reply(code, frame_id, payload)

    def _note(self, reply):
        """Consumes unsolicited frames; True when `reply` was one."""
        if reply.code == DEBUG and reply.id == UNSOLICITED_ID:
            text = reply.payload.decode(errors="replace")
            self.debug.append(text)
            if self.log:
                self.log("loader: " + text)
            return True
        if reply.code == ONLINE and reply.id == UNSOLICITED_ID:
            self.online += 1
            return True
        return False

    def wait_online(self, count=3, timeout=5.0):
        """Reads the loader's start-up frames until `count` ONLINE frames came."""
        deadline = time.monotonic() + timeout
        while self.online < count:
            reply = self.read_frame(max(0.0, deadline - time.monotonic()))
            if not self._note(reply) and self.log:
                self.log("unexpected %r at start-up" % reply)

    def send(self, cmd, params=b""):
        """Sends one command frame; returns its id."""
        frame_id = self.next_id
        self.next_id = (self.next_id + 1) & 0x7FFFFFFF or 1
        self.port.write(command_frame(cmd, frame_id, params))
        return frame_id

    def wait_reply(self, frame_id, timeout):
        deadline = time.monotonic() + timeout * TIMEOUT_SCALE
        while True:
            reply = self.read_frame(max(0.0, deadline - time.monotonic()))
            if self._note(reply):
                continue
            if reply.id == frame_id:
                return reply
            if self.log:
                self.log("ignoring %r (waiting for id %d)" % (reply, frame_id))

    def request(self, cmd, params=b"", timeout=1.0):
        """Sends a command and returns its Reply."""
        return self.wait_reply(self.send(cmd, params), timeout)

    def expect(self, reply, code, what):
        if reply.code != code:
            raise HostError("%s: loader replied %s, expected %s" %
                            (what, REPLY_NAMES.get(reply.code, hex(reply.code)),
                             REPLY_NAMES.get(code, hex(code))))
        return reply

    # -- commands --

    def ping(self, timeout=1.0):
        self.expect(self.request(CMD_PING, timeout=timeout), OK, "ping")

    def sync(self, attempts=3):
        """Up to `attempts` pings; HostError when none is answered."""
        for attempt in range(attempts):
            try:
                self.ping()
                return
            except HostError:
                if attempt == attempts - 1:
                    raise

    def set_baudrate(self, baud):
        """Switches the loader (and this port) to `baud`, then pings."""
        reply = self.request(CMD_SET_BAUDRATE, struct.pack("<I", baud))
        self.expect(reply, OK, "set_baudrate %d" % baud)
        time.sleep(0.05)
        self.port.set_baud(baud)
        self.sync()

    def flash_info(self):
        reply = self.expect(self.request(CMD_FLASH_INFO), FLASH_INFO, "flash_info")
        return struct.unpack("<I", reply.payload[:4])[0]

    def chip_id(self):
        return self.expect(self.request(CMD_CHIPID), CHIPID, "chip_id").payload

    def erase_sector(self, address):
        reply = self.request(CMD_ERASE_SECTOR, struct.pack("<I", address), timeout=1.5)
        self.expect(reply, OK, "erase_sector 0x%x" % address)

    def program_page(self, address, data):
        if len(data) != PAGE_SIZE:
            raise HostError("program_page needs exactly %d bytes" % PAGE_SIZE)
        reply = self.request(CMD_PROGRAM_PAGE, struct.pack("<I", address) + bytes(data),
                             timeout=1.5)
        self.expect(reply, OK, "program_page 0x%x" % address)

    def reset(self):
        """RESET: the loader answers OK and the chip returns to the ROM."""
        self.expect(self.request(CMD_RESET), OK, "reset")

    def read_flash(self, address, length):
        """READ_FLASH: one request, the data in a frame of code OK."""
        reply = self.request(CMD_READ_FLASH, struct.pack("<II", address, length),
                             timeout=2.0 + length / 10000.0)
        self.expect(reply, OK, "read_flash")
        if len(reply.payload) != length:
            raise HostError("read_flash returned %d of %d bytes" % (len(reply.payload), length))
        return reply.payload

    def checksum(self, address, length):
        """CHECKSUM: 4 raw CRC bytes, then a CHECKSUM frame; returns the CRC."""
        frame_id = self.send(CMD_CHECKSUM, struct.pack("<II", address, length))
        timeout = 2.0 + length / 20000.0
        raw = struct.unpack("<I", self.port.read_exact(4, timeout))[0]
        reply = self.expect(self.wait_reply(frame_id, timeout), CHECKSUM, "checksum")
        value = struct.unpack("<I", reply.payload[:4])[0]
        if value != raw:
            raise HostError("checksum: raw 0x%08x but framed 0x%08x" % (raw, value))
        return value

    def peek(self, address, width=4):
        reply = self.request(CMD_PEEK, struct.pack("<II", address, width))
        self.expect(reply, OK, "peek 0x%x" % address)
        return struct.unpack("<I", reply.payload[:4])[0]

    def poke(self, address, value, width=4):
        reply = self.request(CMD_POKE, struct.pack("<III", address, width, value & 0xFFFFFFFF))
        self.expect(reply, OK, "poke 0x%x" % address)

    def write_flash(self, address, data, progress=None):
        """Erases every 4 KiB sector of [address, address+len) and programs
        it page by page. `address` and the length must be sector-aligned."""
        if address % SECTOR_SIZE or len(data) % SECTOR_SIZE:
            raise HostError("write_flash needs 4 KiB-aligned offset and length")
        for sector in range(0, len(data), SECTOR_SIZE):
            self.erase_sector(address + sector)
            for page in range(sector, sector + SECTOR_SIZE, PAGE_SIZE):
                chunk = data[page:page + PAGE_SIZE]
                if chunk != b"\xff" * PAGE_SIZE:
                    self.program_page(address + page, chunk)
            if progress:
                progress(sector + SECTOR_SIZE, len(data))

    def read_flash_chunked(self, address, length, chunk=SECTOR_SIZE):
        out = bytearray()
        while len(out) < length:
            size = min(chunk, length - len(out))
            out += self.read_flash(address + len(out), size)
        return bytes(out)


def boot_loader(port, loader_image, log=None, stx_timeout=15.0):
    """Uploads the loader and waits for its ONLINE frames; returns a client."""
    upload(port, loader_image, stx_timeout=stx_timeout, log=log)
    client = LoaderClient(port, log=log)
    client.wait_online()
    return client


# ---- command line -----------------------------------------------------------------

def parse_int(text):
    return int(text, 0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-p", "--port", required=True, help="serial port or pty path")
    parser.add_argument("-b", "--baudrate", type=int, default=230400,
                        help="baud rate to switch to after the upload (default 230400)")
    parser.add_argument("--initial-baudrate", type=int, default=9600)
    parser.add_argument("-l", "--loader", default=DEFAULT_LOADER,
                        help="loader image to upload (default roms/sc14441-loader.bin)")
    parser.add_argument("--skip-loader", action="store_true",
                        help="a loader already runs: do not upload")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("ping")
    sub.add_parser("chip_id")
    sub.add_parser("flash_info")
    sub.add_parser("reset")
    p = sub.add_parser("read_flash")
    p.add_argument("file")
    p.add_argument("offset", nargs="?", type=parse_int, default=0)
    p.add_argument("length", nargs="?", type=parse_int)
    p = sub.add_parser("write_flash")
    p.add_argument("file")
    p.add_argument("offset", nargs="?", type=parse_int, default=0)
    p.add_argument("length", nargs="?", type=parse_int)
    p = sub.add_parser("checksum")
    p.add_argument("offset", type=parse_int)
    p.add_argument("length", type=parse_int)
    p = sub.add_parser("peek")
    p.add_argument("address", type=parse_int)
    p.add_argument("width", nargs="?", type=parse_int, default=4)
    p = sub.add_parser("poke")
    p.add_argument("address", type=parse_int)
    p.add_argument("value", type=parse_int)
    p.add_argument("width", nargs="?", type=parse_int, default=4)
    args = parser.parse_args(argv)

    log = (lambda text: print(text, file=sys.stderr)) if args.verbose else None
    try:
        with SerialPort(args.port, args.initial_baudrate) as port:
            if args.skip_loader:
                client = LoaderClient(port, log=log)
            else:
                with open(args.loader, "rb") as f:
                    image = f.read()
                print("waiting for the boot ROM (STX)...", file=sys.stderr)
                client = boot_loader(port, image, log=log)
                if not args.verbose:  # verbose already logged them
                    for text in client.debug:
                        print("loader: " + text, file=sys.stderr)
            client.sync()
            if args.baudrate != args.initial_baudrate:
                client.set_baudrate(args.baudrate)
            return run_command(client, args)
    except (HostError, OSError) as error:
        print("error: %s" % error, file=sys.stderr)
        return 1


def run_command(client, args):
    if args.command == "ping":
        print("pong")
    elif args.command == "chip_id":
        ident = client.chip_id()
        print("chip id: %s, mem size 0x%02x, revision %c%c (0x%02x)" %
              (ident[:3].decode(errors="replace"), ident[3],
               chr(ord("A") + (ident[4] >> 4)), chr(ord("A") + (ident[4] & 15)), ident[4]))
    elif args.command == "flash_info":
        print("flash size: %d bytes" % client.flash_info())
    elif args.command == "reset":
        client.reset()
        print("reset: the chip is back in the boot ROM")
    elif args.command == "read_flash":
        length = args.length if args.length is not None else client.flash_info() - args.offset
        data = client.read_flash_chunked(args.offset, length)
        with open(args.file, "wb") as f:
            f.write(data)
        print("read %d bytes at 0x%x into %s" % (length, args.offset, args.file))
    elif args.command == "write_flash":
        with open(args.file, "rb") as f:
            data = f.read()
        length = args.length if args.length is not None else len(data)
        data = data[:length]
        client.write_flash(args.offset, data)
        if client.checksum(args.offset, len(data)) != zlib.crc32(data):
            raise HostError("verification failed: flash CRC differs from the file")
        print("wrote and verified %d bytes at 0x%x" % (len(data), args.offset))
    elif args.command == "checksum":
        print("crc32 0x%08x" % client.checksum(args.offset, args.length))
    elif args.command == "peek":
        print("0x%0*x" % (args.width * 2, client.peek(args.address, args.width)))
    elif args.command == "poke":
        client.poke(args.address, args.value, args.width)
        print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
