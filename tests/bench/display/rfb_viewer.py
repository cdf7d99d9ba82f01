"""A minimal RFB 3.8 viewer for the display benchmark: security None,
32-bit true colour, Raw or Zlib, asking for the next incremental update as
soon as one arrives (as real viewers do). It counts updates and bytes; it
does not keep the pixels (Zlib data is inflated to check it is whole)."""
import socket
import struct
import zlib

RAW, ZLIB, DESKTOP_SIZE = 0, 6, -223


class RfbViewer:
    def __init__(self, address, encoding=RAW, timeout=120):
        family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(address)
        self.inflater = zlib.decompressobj()
        self.updates = 0
        self.bytes = 0
        self._handshake(encoding)

    def _read(self, count):
        data = bytearray()
        while len(data) < count:
            chunk = self.sock.recv(min(count - len(data), 1 << 20))
            if not chunk:
                raise ConnectionError("the server closed the connection")
            data += chunk
        self.bytes += count
        return bytes(data)

    def _handshake(self, encoding):
        if not self._read(12).startswith(b"RFB 003."):
            raise ConnectionError("not an RFB server")
        self.sock.sendall(b"RFB 003.008\n")
        count = self._read(1)[0]
        if 1 not in self._read(count):
            raise ConnectionError("security None not offered")
        self.sock.sendall(b"\x01")
        if struct.unpack(">I", self._read(4))[0] != 0:
            raise ConnectionError("security failed")
        self.sock.sendall(b"\x01")  # shared
        self.width, self.height = struct.unpack(">HH", self._read(4))
        self._read(16)
        self._read(struct.unpack(">I", self._read(4))[0])
        # 32 bpp, depth 24, little-endian, true colour, 255/255/255, shifts 16/8/0.
        self.sock.sendall(struct.pack(">BxxxBBBBHHHBBBxxx", 0, 32, 24, 0, 1, 255, 255, 255,
                                      16, 8, 0))
        encodings = [encoding, DESKTOP_SIZE]
        self.sock.sendall(struct.pack(">BxH%di" % len(encodings), 2, len(encodings), *encodings))
        self.request(incremental=False)

    def request(self, incremental=True):
        self.sock.sendall(struct.pack(">BBHHHH", 3, 1 if incremental else 0, 0, 0,
                                      self.width, self.height))

    def next_update(self):
        """Reads messages up to the next FramebufferUpdate, asks for the one
        after it; returns the number of rectangles."""
        while True:
            kind = self._read(1)[0]
            if kind == 0:
                break
            if kind == 2:  # bell
                continue
            if kind == 3:  # cut text
                self._read(3)
                self._read(struct.unpack(">I", self._read(4))[0])
                continue
            raise ConnectionError("unexpected server message %d" % kind)
        self._read(1)
        count = struct.unpack(">H", self._read(2))[0]
        for _ in range(count):
            x, y, w, h, kind = struct.unpack(">HHHHi", self._read(12))
            if kind == RAW:
                self._read(w * h * 4)
            elif kind == ZLIB:
                data = self._read(struct.unpack(">I", self._read(4))[0])
                if len(self.inflater.decompress(data)) != w * h * 4:
                    raise ConnectionError("a zlib rectangle inflated to the wrong size")
            elif kind == DESKTOP_SIZE:
                self.width, self.height = w, h
            else:
                raise ConnectionError("unexpected encoding %d" % kind)
        self.updates += 1
        self.request()
        return count

    def close(self):
        self.sock.close()
