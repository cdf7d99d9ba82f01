"""A small RFB client for the VNC functional tests (Python stdlib only):
version 3.8 or 3.3, security None, Raw pixels in the server's default
32-bit little-endian format, over a plain socket or the WebSocket client
below. Every wait has a deadline."""
import base64
import os
import socket
import struct
import time


def connect_socket(address, timeout=20):
    """A connected socket to `address` (a UNIX path or a (host, port)
    tuple), retrying while the server is not listening yet."""
    family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
    deadline = time.monotonic() + timeout
    while True:
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.connect(address)
            sock.settimeout(timeout)
            return sock
        except (FileNotFoundError, ConnectionRefusedError):
            sock.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


class WebSocket:
    """An RFC 6455 client over a connected socket: the HTTP upgrade asking
    for the "binary" subprotocol, then masked binary frames out and the
    payload of data frames in, as a byte stream (recv/sendall like a socket)."""

    def __init__(self, sock, host="127.0.0.1", path="/"):
        self.sock = sock
        key = base64.b64encode(os.urandom(16)).decode()
        request = ("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
                   "Sec-WebSocket-Protocol: binary\r\nOrigin: http://%s\r\n\r\n"
                   % (path, host, key, host))
        sock.sendall(request.encode())
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = sock.recv(4096)
            if not chunk:
                raise AssertionError("the server closed during the upgrade: %r" % response)
            response += chunk
        head, self.pending = response.split(b"\r\n\r\n", 1)
        self.response = head.decode()
        if not self.response.startswith("HTTP/1.1 101"):
            raise AssertionError("upgrade refused: %s" % self.response)
        import hashlib
        accept = base64.b64encode(hashlib.sha1(
            (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        if accept not in self.response:
            raise AssertionError("bad Sec-WebSocket-Accept in %s" % self.response)
        self.payload = b""

    def sendall(self, data, opcode=2):
        mask = os.urandom(4)
        header = bytes([0x80 | opcode])
        if len(data) < 126:
            header += bytes([0x80 | len(data)])
        elif len(data) < 65536:
            header += bytes([0x80 | 126]) + struct.pack(">H", len(data))
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", len(data))
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.sock.sendall(header + mask + masked)

    def _raw(self, count):
        while len(self.pending) < count:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise AssertionError("the server closed the WebSocket")
            self.pending += chunk
        data, self.pending = self.pending[:count], self.pending[count:]
        return data

    def recv(self, count):
        while not self.payload:
            first, second = self._raw(2)
            if second & 0x80:
                raise AssertionError("the server masked a frame")
            length = second & 0x7F
            if length == 126:
                length = struct.unpack(">H", self._raw(2))[0]
            elif length == 127:
                length = struct.unpack(">Q", self._raw(8))[0]
            data = self._raw(length)
            opcode = first & 0x0F
            if opcode == 8:
                return b""
            if opcode in (0, 1, 2):
                self.payload += data
        data, self.payload = self.payload[:count], self.payload[count:]
        return data

    def close(self):
        self.sock.close()


class RfbClient:
    def __init__(self, stream):
        self.stream = stream

    def take(self, count):
        data = b""
        while len(data) < count:
            chunk = self.stream.recv(count - len(data))
            if not chunk:
                raise AssertionError("the server closed after %d of %d bytes" % (len(data), count))
            data += chunk
        return data

    def handshake(self, version=b"RFB 003.008\n"):
        """Version, security None, ClientInit; returns (width, height, name)."""
        server_version = self.take(12)
        if not server_version.startswith(b"RFB 003."):
            raise AssertionError("not an RFB server: %r" % server_version)
        self.stream.sendall(version)
        if version == b"RFB 003.003\n":
            assert struct.unpack(">I", self.take(4))[0] == 1
        else:
            types = self.take(self.take(1)[0])
            assert 1 in types, "security None not offered: %r" % types
            self.stream.sendall(b"\x01")
            assert self.take(4) == b"\0\0\0\0"
        self.stream.sendall(b"\x01")
        init = self.take(24)
        self.width, self.height = struct.unpack(">HH", init[:4])
        self.name = self.take(struct.unpack(">I", init[20:24])[0]).decode()
        return self.width, self.height, self.name

    def set_encodings(self, encodings):
        self.stream.sendall(struct.pack(">BxH", 2, len(encodings)) +
                            b"".join(struct.pack(">i", e) for e in encodings))

    def request(self, incremental=False, rect=None):
        x, y, w, h = rect or (0, 0, self.width, self.height)
        self.stream.sendall(struct.pack(">BBHHHH", 3, int(incremental), x, y, w, h))

    def key(self, keysym, down):
        self.stream.sendall(struct.pack(">BBxxI", 4, int(down), keysym))

    def update(self):
        """One FramebufferUpdate: a list of (x, y, w, h, encoding, pixels)
        where Raw pixels are bytes of B, G, R, 0 per pixel."""
        message = self.take(4)
        assert message[0] == 0, "not a FramebufferUpdate: %r" % message
        rects = []
        for _ in range(struct.unpack(">H", message[2:])[0]):
            x, y, w, h, encoding = struct.unpack(">HHHHi", self.take(12))
            pixels = self.take(w * h * 4) if encoding == 0 else b""
            rects.append((x, y, w, h, encoding, pixels))
        return rects

    def screen(self):
        """A full update as RGB bytes (width * height * 3)."""
        self.request(False)
        rgb = bytearray(self.width * self.height * 3)
        for x, y, w, h, encoding, pixels in self.update():
            assert encoding == 0
            for row in range(h):
                for column in range(w):
                    source = (row * w + column) * 4
                    target = ((y + row) * self.width + x + column) * 3
                    rgb[target:target + 3] = pixels[source + 2], pixels[source + 1], pixels[source]
        return bytes(rgb)
