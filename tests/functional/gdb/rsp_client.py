"""A small GDB Remote Serial Protocol client (Python stdlib only).

GDB has no CR16 target, so the gdbstub's tests (and people without a GDB
port) talk to cr16-system with this: framing with checksums, acknowledgements
(and no-ack mode), run-length decoding, binary escapes, and helpers for the
packets the stub serves. Every wait has a deadline.

    client = RspClient.connect_unix("/tmp/gdb.sock")
    client.handshake()                      # qSupported, no-ack mode
    print(client.read_registers()["pc"])
    client.set_breakpoint(0xE00EE0)
    print(client.cont())                    # the stop reply, e.g. "T05swbreak:;..."
"""
import socket
import struct
import time
import xml.etree.ElementTree as ElementTree

# The register layout of docs/gdb.md: name and size in bytes, in order.
REGISTERS = [("r%d" % i, 2) for i in range(12)] + [
    ("r12", 4), ("r13", 4), ("ra", 4), ("sp", 4), ("pc", 4), ("isp", 4), ("usp", 4),
    ("intbase", 4), ("psr", 4), ("cfg", 4), ("dbs", 4), ("dcr", 4), ("dsr", 4), ("car0", 4),
    ("car1", 4)]


class RspError(Exception):
    pass


def checksum(data):
    return sum(data) & 0xFF


def frame(payload):
    """`$payload#cc` for bytes that need no escaping (the caller escapes X data)."""
    if isinstance(payload, str):
        payload = payload.encode()
    return b"$" + payload + b"#%02x" % checksum(payload)


def escape_binary(data):
    out = bytearray()
    for byte in data:
        if byte in b"#$}*":
            out += bytes([0x7D, byte ^ 0x20])
        else:
            out.append(byte)
    return bytes(out)


def expand_run_length(raw):
    """Undoes `X*N` (N - 29 more copies of the previous raw byte), as GDB does."""
    out = bytearray()
    i = 0
    while i < len(raw):
        byte = raw[i]
        if byte == ord("*") and out and i + 1 < len(raw):
            out += bytes([out[-1]]) * (raw[i + 1] - 29)
            i += 2
            continue
        out.append(byte)
        i += 1
    return bytes(out)


def unescape_binary(data):
    out = bytearray()
    i = 0
    while i < len(data):
        if data[i] == 0x7D and i + 1 < len(data):
            out.append(data[i + 1] ^ 0x20)
            i += 2
        else:
            out.append(data[i])
            i += 1
    return bytes(out)


class RspClient:
    def __init__(self, sock, timeout=20):
        self.sock = sock
        self.timeout = timeout
        self.buffer = b""
        self.ack_mode = True
        self.console = b""  # what O packets carried

    @classmethod
    def connect_unix(cls, path, timeout=20):
        deadline = time.monotonic() + timeout
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(path)
                return cls(sock, timeout)
            except OSError:
                sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    @classmethod
    def connect_tcp(cls, host, port, timeout=20):
        return cls(socket.create_connection((host, port), timeout=timeout), timeout)

    def close(self):
        self.sock.close()

    # ---- bytes

    def send_raw(self, data):
        self.sock.sendall(data)

    def _fill(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise RspError("timed out; received so far: %r" % self.buffer[:200])
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            raise RspError("timed out; received so far: %r" % self.buffer[:200])
        if not chunk:
            raise EOFError("the stub closed the connection")
        self.buffer += chunk

    def read_byte(self, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while not self.buffer:
            self._fill(deadline)
        byte, self.buffer = self.buffer[:1], self.buffer[1:]
        return byte

    def closed_by_peer(self, timeout=5):
        """True when the stub closes the connection within `timeout` seconds
        (anything it sends first is skipped)."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                self.buffer = b""
                self._fill(deadline)
        except EOFError:
            return True
        except ConnectionResetError:
            return True
        except RspError:
            return False

    # ---- packets

    def recv_packet(self, timeout=None, binary=False):
        """The next packet's payload (bytes), run-length expanded (and
        unescaped when `binary`); acknowledged in ack mode. Stray
        acknowledgements before it are skipped."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            while b"$" not in self.buffer:
                self.buffer = b""  # '+' or noise
                self._fill(deadline)
            start = self.buffer.index(b"$")
            while b"#" not in self.buffer[start:] or \
                    len(self.buffer) < self.buffer.index(b"#", start) + 3:
                self._fill(deadline)
            end = self.buffer.index(b"#", start)
            raw = self.buffer[start + 1:end]
            given = int(self.buffer[end + 1:end + 3], 16)
            self.buffer = self.buffer[end + 3:]
            if checksum(raw) != given:
                if self.ack_mode:
                    self.send_raw(b"-")
                    continue
                raise RspError("bad checksum in %r" % raw)
            if self.ack_mode:
                self.send_raw(b"+")
            data = expand_run_length(raw)
            return unescape_binary(data) if binary else data

    def send_packet(self, payload):
        """Sends one packet; in ack mode waits for '+' (resends on '-')."""
        packet = frame(payload)
        for _ in range(5):
            self.send_raw(packet)
            if not self.ack_mode:
                return
            while True:
                byte = self.read_byte()
                if byte == b"+":
                    return
                if byte == b"-":
                    break
        raise RspError("packet %r was refused five times" % packet)

    def command(self, payload, binary=False, timeout=None):
        """Sends a packet and returns its reply as text; console output (O
        packets) before it is collected in self.console."""
        self.send_packet(payload)
        return self.reply(binary=binary, timeout=timeout)

    def reply(self, binary=False, timeout=None):
        while True:
            data = self.recv_packet(timeout=timeout, binary=binary)
            if data.startswith(b"O") and data != b"OK" and not binary:
                self.console += bytes.fromhex(data[1:].decode())
                continue
            return data if binary else data.decode()

    # ---- conveniences

    def handshake(self, no_ack=True):
        """qSupported (saying swbreak+ and hwbreak+), then no-ack mode."""
        features = self.command("qSupported:swbreak+;hwbreak+;xmlRegisters=cr16")
        if no_ack and "QStartNoAckMode+" in features:
            if self.command("QStartNoAckMode") != "OK":
                raise RspError("QStartNoAckMode refused")
            self.ack_mode = False
        return dict(item.split("=", 1) if "=" in item else (item[:-1], item[-1])
                    for item in features.split(";"))

    def target_xml(self):
        text = b""
        offset = 0
        while True:
            reply = self.command("qXfer:features:read:target.xml:%x,%x" % (offset, 0x400),
                                 binary=True)
            if reply[:1] not in (b"m", b"l"):
                raise RspError("qXfer refused: %r" % reply)
            text += reply[1:]
            offset += len(reply) - 1
            if reply[:1] == b"l":
                return text.decode()

    def registers_from_xml(self):
        root = ElementTree.fromstring(self.target_xml())
        return [(reg.get("name"), int(reg.get("bitsize")) // 8) for reg in root.iter("reg")]

    def read_registers(self):
        data = bytes.fromhex(self.command("g"))
        values = {}
        offset = 0
        for name, size in REGISTERS:
            values[name] = int.from_bytes(data[offset:offset + size], "little")
            offset += size
        if offset != len(data):
            raise RspError("g reply of %d bytes, expected %d" % (len(data), offset))
        return values

    def read_register(self, number):
        reply = self.command("p%x" % number)
        return int.from_bytes(bytes.fromhex(reply), "little")

    def write_register(self, number, value):
        size = REGISTERS[number][1]
        return self.command("P%x=%s" % (number, value.to_bytes(size, "little").hex()))

    def read_memory(self, address, length):
        reply = self.command("m%x,%x" % (address, length))
        if reply.startswith("E"):
            raise RspError("m%x,%x: %s" % (address, length, reply))
        return bytes.fromhex(reply)

    def write_memory(self, address, data):
        return self.command("M%x,%x:%s" % (address, len(data), data.hex()))

    def write_binary(self, address, data):
        self.send_packet(b"X%x,%x:" % (address, len(data)) + escape_binary(data))
        return self.reply()

    def set_breakpoint(self, address, kind=0, length=2):
        return self.command("Z%d,%x,%x" % (kind, address, length))

    def clear_breakpoint(self, address, kind=0, length=2):
        return self.command("z%d,%x,%x" % (kind, address, length))

    def cont(self, timeout=None):
        return self.command("c", timeout=timeout)

    def step(self):
        return self.command("s")

    def interrupt(self):
        self.send_raw(b"\x03")
        return self.reply()

    def monitor(self, line):
        """qRcmd: runs a monitor command, returns its output."""
        self.console = b""
        reply = self.command("qRcmd," + line.encode().hex())
        if reply != "OK":
            raise RspError("qRcmd %r: %s" % (line, reply))
        return self.console.decode()


def parse_stop(reply):
    """A T stop reply as (signal, {key: value})."""
    if not reply.startswith("T"):
        raise RspError("not a T stop reply: %r" % reply)
    fields = {}
    for item in reply[3:].split(";"):
        if item:
            key, _, value = item.partition(":")
            fields[key] = value
    return int(reply[1:3], 16), fields


def le32(hex_text):
    return struct.unpack("<I", bytes.fromhex(hex_text))[0]


def elf_symbols(path):
    """The symbols of an ELF32 little-endian file: {name: value}."""
    with open(path, "rb") as handle:
        data = handle.read()
    if data[:4] != b"\x7fELF" or data[4] != 1 or data[5] != 1:
        raise ValueError("%s: not a little-endian ELF32 file" % path)
    shoff, = struct.unpack_from("<I", data, 32)
    shentsize, shnum = struct.unpack_from("<HH", data, 46)
    sections = [struct.unpack_from("<IIIIIIIIII", data, shoff + i * shentsize)
                for i in range(shnum)]
    symbols = {}
    for section in sections:
        if section[1] != 2:  # SHT_SYMTAB
            continue
        strtab = sections[section[6]]
        for offset in range(section[4], section[4] + section[5], 16):
            name_offset, value = struct.unpack_from("<II", data, offset)
            start = strtab[4] + name_offset
            name = data[start:data.index(b"\0", start)].decode()
            if name:
                symbols[name] = value
    return symbols
