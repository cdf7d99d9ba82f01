"""The VNC server in real cr16-system processes: our own RFB client (3.8
and 3.3, None, Raw) over UNIX and TCP sockets and over a hand-written
WebSocket client, pixels checked against QMP screendump, a key sent through
VNC reaching the guest, and a client we did not write: vncsnapshot
(skipped with a reason when absent; noVNC in a browser is
tests/functional/browser/).

The guest is guest/vnc_pattern (prebuilt): colour bars at 320x240 RGB565,
and rows 200..219 repainted for every keyboard byte."""
import os
import random
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import json

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "qmp"))
import cr16_harness as h  # noqa: E402
from qmp_client import QmpClient  # noqa: E402
from rfb_client import RfbClient, WebSocket, connect_socket  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PATTERN = os.path.join(HERE, "guest", "vnc_pattern")
FIRMWARE = os.path.join(h.ROMS_DIR, "virt-firmware.bin")

DECODE_SCRIPT = r"""
import sys
from PIL import Image
image = Image.open(sys.argv[1]).convert("RGB")
sys.stdout.buffer.write(b"%d %d\n" % image.size + image.tobytes())
"""


def decode_image(path):
    """(width, height, RGB bytes) of a JPEG or PNG through Pillow (here or
    in the system's python3), or None when Pillow is nowhere."""
    for python in (sys.executable, "/usr/bin/python3"):
        if not os.path.exists(python):
            continue
        result = subprocess.run([python, "-c", DECODE_SCRIPT, path], capture_output=True, timeout=60)
        if result.returncode == 0:
            head, rgb = result.stdout.split(b"\n", 1)
            width, height = map(int, head.split())
            return width, height, rgb
    return None


def read_ppm(path):
    with open(path, "rb") as f:
        data = f.read()
    parts = data.split(maxsplit=4)
    assert parts[0] == b"P6", parts[0]
    return int(parts[1]), int(parts[2]), parts[4]


def free_display():
    """A display number N whose port 5900 + N is free on 127.0.0.1 now."""
    for _ in range(200):
        n = random.randrange(100, 4000)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", 5900 + n))
                return n
            except OSError:
                continue
    raise AssertionError("no free VNC port")


def make_certificates(directory):
    """A CA and a server certificate for 127.0.0.1 made with the openssl
    program into DIRECTORY (QEMU's file names); False when openssl is absent."""
    if not shutil.which("openssl"):
        return False
    def openssl(*args):
        subprocess.run(["openssl"] + list(args), check=True, capture_output=True, timeout=60)
    path = lambda name: os.path.join(directory, name)  # noqa: E731
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", path("ca-key.pem"), "-out", path("ca-cert.pem"), "-days", "2",
            "-subj", "/CN=cr16 test CA")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", path("server-key.pem"), "-out", path("server.csr"),
            "-subj", "/CN=localhost")
    with open(path("ext.cnf"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("x509", "-req", "-in", path("server.csr"), "-CA", path("ca-cert.pem"),
            "-CAkey", path("ca-key.pem"), "-CAcreateserial", "-out", path("server-cert.pem"),
            "-days", "2", "-extfile", path("ext.cnf"))
    return True


def distinct_colours(rgb, step=3 * 7):
    return len({rgb[i:i + 3] for i in range(0, len(rgb) - 2, step)})


class Vnc(unittest.TestCase):
    def setUp(self):
        self.directory = tempfile.mkdtemp(prefix="cr16-vnc-")
        self.vnc_path = os.path.join(self.directory, "vnc.sock")
        self.qmp_path = os.path.join(self.directory, "qmp.sock")
        self.process = None
        self.closers = []

    def tearDown(self):
        for close in self.closers:
            try:
                close()
            except OSError:
                pass
        if self.process:
            h.stop(self.process)
        shutil.rmtree(self.directory, ignore_errors=True)

    def start(self, vnc, program=PATTERN, extra=(), stdin=subprocess.DEVNULL):
        """Starts cr16-system with -vnc VNC and a QMP socket; with the
        pattern guest, waits for it to have drawn."""
        args = ["-vnc", vnc, "-qmp", "unix:%s,server=on,wait=off" % self.qmp_path]
        args += list(extra) if "-serial" in extra else ["-serial", "null"] + list(extra)
        args = (["-kernel", program] if program != FIRMWARE else ["-bios", program]) + args
        self.process = subprocess.Popen([h.BINARY] + args, stdin=stdin,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.ws_port = None
        if ",websocket=0" in vnc:
            line = h.stderr_line(self.process)
            self.assertIn("vnc websocket listening on tcp port", line)
            self.ws_port = int(line.split()[-1])
        if program == PATTERN:
            self.assertEqual(self.process.stdout.readline(), b"pattern drawn\n")
        self.qmp = QmpClient(self.qmp_path)
        self.closers.append(self.qmp.close)
        self.qmp.greeting()
        self.assertEqual(self.qmp.request("qmp_capabilities"), {"return": {}})

    def screendump(self):
        path = os.path.join(self.directory, "dump.ppm")
        self.assertEqual(self.qmp.request("screendump", {"filename": path}), {"return": {}})
        return read_ppm(path)

    def rfb(self, address):
        sock = connect_socket(address)
        self.closers.append(sock.close)
        return RfbClient(sock)

    def assert_pattern_screen(self, width, height, rgb):
        self.assertEqual((width, height), (320, 240))
        self.assertEqual(len(rgb), 320 * 240 * 3)
        self.assertGreaterEqual(distinct_colours(rgb), 8, "the colour bars are not there")

    def test_rfb_client_sees_the_guest_screen_as_screendump_does(self):
        self.start("unix:" + self.vnc_path)
        client = self.rfb(self.vnc_path)
        width, height, name = client.handshake()
        rgb = client.screen()
        self.assert_pattern_screen(width, height, rgb)
        # A white bar pixel (RGB565 0xFFFF) at (5, 50).
        self.assertEqual(rgb[(50 * 320 + 5) * 3:(50 * 320 + 5) * 3 + 3], b"\xff\xff\xff")
        self.assertEqual(self.screendump(), (320, 240, rgb))

    def test_version_3_3_and_two_viewers_at_once(self):
        self.start("unix:" + self.vnc_path)
        first = self.rfb(self.vnc_path)
        second = self.rfb(self.vnc_path)
        first.handshake(b"RFB 003.003\n")
        second.handshake()
        self.assertEqual(first.screen(), second.screen())
        self.assertEqual(self.screendump()[2], first.screen())

    def test_query_vnc_and_info_vnc_list_the_listeners_and_viewers(self):
        self.start("unix:%s,websocket=0" % self.vnc_path)
        info = self.qmp.command("query-vnc")
        self.assertEqual((info["enabled"], info["family"], info["host"], info["auth"]),
                         (True, "unix", self.vnc_path, "none"))
        self.assertEqual(info["websockets"][0]["service"], str(self.ws_port))
        self.assertEqual(info["clients"], [])
        first = self.rfb(self.vnc_path)
        first.handshake()
        second = self.rfb(self.vnc_path)
        second.handshake()
        clients = self.qmp.command("query-vnc")["clients"]
        self.assertEqual([(c["family"], c["websocket"]) for c in clients],
                         [("unix", False), ("unix", False)])
        text = self.qmp.command("human-monitor-command", {"command-line": "info vnc"})
        self.assertIn("VNC server: %s (unix), auth none" % self.vnc_path, text)
        self.assertEqual(text.count("  client: "), 2)

    def test_a_key_through_vnc_reaches_the_guest_and_only_its_rows_are_sent(self):
        self.start("unix:" + self.vnc_path)
        client = self.rfb(self.vnc_path)
        client.handshake()
        before = client.screen()
        client.request(incremental=True)
        client.key(ord("a"), True)
        self.assertEqual(self.process.stdout.readline(), b"key 1e\n")
        rects = client.update()
        rows = set()
        for x, y, w, h, encoding, pixels in rects:
            rows.update(range(y, y + h))
        self.assertTrue(rows, "no rows came")
        self.assertTrue(rows <= set(range(200, 220)), "rows outside the band: %s" % sorted(rows))
        # Then the release: a second repaint, seen on the full screen.
        client.key(ord("a"), False)
        self.assertEqual(self.process.stdout.readline(), b"key 9e\n")
        time.sleep(0.1)
        after = client.screen()
        self.assertEqual(after[:200 * 320 * 3], before[:200 * 320 * 3])
        self.assertNotEqual(after[200 * 320 * 3:220 * 320 * 3], before[200 * 320 * 3:220 * 320 * 3])
        self.assertEqual(self.screendump()[2], after)

    def test_bad_vnc_values_are_refused_with_the_option_named(self):
        for value, part in ((":x", "display number 'x'"), (":0,bogus=1", "unknown option 'bogus'"),
                            (":0,tls-creds=nope", "no tls-creds-x509 object")):
            result = h.run(["-vnc", value, "-kernel", PATTERN, "-serial", "null"], timeout=20)
            self.assertNotEqual(result.returncode, 0, value)
            self.assertIn(b"-vnc " + value.encode(), result.stderr)
            self.assertIn(part.encode(), result.stderr)

    def test_bad_client_input_closes_that_client_only(self):
        self.start("unix:" + self.vnc_path)
        bad = connect_socket(self.vnc_path)
        self.closers.append(bad.close)
        bad.recv(12)
        bad.sendall(b"GET / HTTP/1.1\r\n\r\n")
        self.assertEqual(bad.recv(100), b"")  # closed
        good = self.rfb(self.vnc_path)
        good.handshake()
        self.assert_pattern_screen(good.width, good.height, good.screen())
        self.assertEqual(self.qmp.request("query-status")["return"]["status"], "running")

    def test_vncsnapshot_captures_the_screen(self):
        if not shutil.which("vncsnapshot"):
            self.skipTest("vncsnapshot is not installed (scripts/install-test-deps.sh)")
        n = free_display()
        self.start("127.0.0.1:%d" % n)
        jpeg = os.path.join(self.directory, "snap.jpg")
        result = subprocess.run(["vncsnapshot", "-quiet", "-allowblank", "127.0.0.1:%d" % n, jpeg],
                                capture_output=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(jpeg, "rb") as f:
            data = f.read()
        self.assertEqual(data[:2], b"\xff\xd8", "not a JPEG")
        decoded = decode_image(jpeg)
        if decoded is None:
            self.skipTest("Pillow is not available to decode the JPEG (the capture itself worked)")
        width, height, rgb = decoded
        self.assertEqual((width, height), (320, 240))
        self.assertGreaterEqual(distinct_colours(rgb), 8, "the capture is uniform")
        # JPEG is lossy: compare with the screendump with a tolerance.
        reference = self.screendump()[2]
        difference = sum(abs(a - b) for a, b in zip(rgb, reference)) / len(rgb)
        self.assertLess(difference, 8, "mean difference per channel %.1f" % difference)

    def test_websocket_client_does_the_rfb_handshake(self):
        self.start("unix:%s,websocket=0" % self.vnc_path)
        sock = connect_socket(("127.0.0.1", self.ws_port))
        self.closers.append(sock.close)
        client = RfbClient(WebSocket(sock))
        width, height, name = client.handshake()
        rgb = client.screen()
        self.assert_pattern_screen(width, height, rgb)
        self.assertEqual(self.screendump()[2], rgb)

    def tls_start(self, vnc):
        certificates = os.path.join(self.directory, "pki")
        os.mkdir(certificates)
        if not make_certificates(certificates):
            self.skipTest("the openssl program is not installed")
        self.start(vnc + ",tls-creds=tls0", extra=[
            "-object", "tls-creds-x509,id=tls0,dir=%s,endpoint=server,verify-peer=off"
            % certificates])
        import ssl
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.load_verify_locations(os.path.join(certificates, "ca-cert.pem"))
        return context

    def test_vencrypt_x509none_carries_rfb_over_tls(self):
        n = free_display()
        context = self.tls_start("127.0.0.1:%d" % n)
        sock = connect_socket(("127.0.0.1", 5900 + n))
        self.closers.append(sock.close)
        plain = RfbClient(sock)
        self.assertEqual(plain.take(12), b"RFB 003.008\n")
        sock.sendall(b"RFB 003.008\n")
        self.assertEqual(plain.take(2), b"\x01\x13")  # VeNCrypt (19) only: no None
        sock.sendall(b"\x13")
        self.assertEqual(plain.take(2), b"\x00\x02")
        sock.sendall(b"\x00\x02")
        self.assertEqual(plain.take(2), b"\x00\x01")
        self.assertEqual(struct.unpack(">I", plain.take(4))[0], 260)  # X509None
        sock.sendall(struct.pack(">I", 260))
        self.assertEqual(plain.take(1), b"\x01")
        tls = context.wrap_socket(sock, server_hostname="localhost")
        self.closers.append(tls.close)
        client = RfbClient(tls)
        self.assertEqual(client.take(4), b"\0\0\0\0")
        tls.sendall(b"\x01")
        init = client.take(24)
        client.width, client.height = struct.unpack(">HH", init[:4])
        client.take(struct.unpack(">I", init[20:24])[0])
        rgb = client.screen()
        self.assert_pattern_screen(client.width, client.height, rgb)
        self.assertEqual(self.screendump()[2], rgb)
        # A client that tries security None is refused.
        other = self.rfb(("127.0.0.1", 5900 + n))
        with self.assertRaises(AssertionError):
            other.handshake()

    def test_wss_websocket_over_tls(self):
        context = self.tls_start("unix:%s,websocket=0" % self.vnc_path)
        sock = connect_socket(("127.0.0.1", self.ws_port))
        tls = context.wrap_socket(sock, server_hostname="localhost")
        self.closers.append(tls.close)
        client = RfbClient(WebSocket(tls))
        width, height, name = client.handshake()  # None inside wss, as QEMU does
        rgb = client.screen()
        self.assert_pattern_screen(width, height, rgb)
        self.assertEqual(self.screendump()[2], rgb)

    def test_default_firmware_boot_screen_as_screendump_shows_it(self):
        self.start("unix:" + self.vnc_path, program=FIRMWARE)
        client = self.rfb(self.vnc_path)
        for _ in range(50):
            width, height, name = client.handshake()
            rgb = client.screen()
            dump = self.screendump()
            if dump == (width, height, rgb) and distinct_colours(rgb, 3) >= 2:
                break
            time.sleep(0.2)  # the firmware was still drawing its boot screen
            client = self.rfb(self.vnc_path)
        self.assertEqual(dump, (width, height, rgb))
        self.assertGreaterEqual(distinct_colours(rgb, 3), 2, "the boot screen is uniform")
        self.assertTrue(any(rgb[i] for i in range(len(rgb))), "the boot screen is black")

    def test_a_viewer_that_never_reads_stalls_neither_the_guest_nor_another_viewer(self):
        # The firmware's anim redraws all of 640x480 every frame (60/s).
        self.start("unix:" + self.vnc_path, program=FIRMWARE,
                   extra=["-serial", "stdio", "-monitor", "none"], stdin=subprocess.PIPE)
        self.expect_stdout(b"cr16> ")
        stuck = self.rfb(self.vnc_path)
        stuck.handshake()
        stuck.stream.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        good = self.rfb(self.vnc_path)
        good.handshake()
        self.process.stdin.write(b"anim\r")
        self.process.stdin.flush()
        self.expect_stdout(b"anim: 640x480")
        request = struct.pack(">BBHHHH", 3, 0, 0, 0, 640, 480)
        good.request(False, (0, 0, 640, 480))
        updates = 0
        start = time.monotonic()
        while time.monotonic() - start < 3:
            stuck.stream.sendall(request)  # asks for everything, reads nothing
            for x, y, w, h, encoding, pixels in good.update():
                self.assertEqual(encoding, 0)
            updates += 1
            good.request(True, (0, 0, 640, 480))
        elapsed = time.monotonic() - start
        self.process.stdin.write(b"q")
        self.process.stdin.flush()
        line = self.expect_stdout(b" frames")
        frames = int(line.split(b"anim: ")[1].split()[0])
        # The guest kept drawing (~180 frames here in a release build, ~14
        # under ASan; a machine thread blocked on the full socket would stop
        # within the first frame or two: one update is 1.2 MB) and the
        # reading viewer kept getting updates while the other one let its
        # socket fill up.
        self.assertGreater(frames, 4, "the guest stalled: %d frames in %.1f s" % (frames, elapsed))
        self.assertGreater(updates, 5, "the reading viewer got %d updates" % updates)
        self.assertEqual(self.qmp.request("query-status")["return"]["status"], "running")

    def expect_stdout(self, needle, timeout=20):
        """Reads the guest's stdout up to the line holding NEEDLE; returns it."""
        deadline = time.monotonic() + timeout
        data = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.process.stdout], [], [], 0.2)
            if not ready:
                continue
            chunk = os.read(self.process.stdout.fileno(), 4096)
            if not chunk:
                break
            data += chunk
            if needle in data:
                start = data.rfind(b"\n", 0, data.index(needle)) + 1
                end = data.find(b"\n", data.index(needle))
                if needle == b"cr16> " or end >= 0:
                    return data[start:end if end >= 0 else len(data)]
        self.fail("no %r on stdout within %d s: %r" % (needle, timeout, data[-300:]))


if __name__ == "__main__":
    unittest.main()
