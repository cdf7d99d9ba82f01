"""A real browser as the VNC viewer: headless chromium opens Debian's noVNC
page (served over HTTP by this test) and connects straight to
`-vnc ...,websocket=PORT` — no proxy — over ws://, and over wss:// with
`tls-creds` (the browser trusts exactly the test server's key). The canvas
noVNC draws must equal QMP's screendump pixel for pixel, and keys typed in
the page reach the firmware shell. Skipped, with the reason, when chromium
or noVNC is not installed (scripts/install-test-deps.sh installs them)."""
import base64
import functools
import http.server
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cli"))
sys.path.insert(0, os.path.join(HERE, "..", "qmp"))
sys.path.insert(0, os.path.join(HERE, "..", "display"))
sys.path.insert(0, os.path.join(HERE, "..", "migration"))
import cr16_harness as h  # noqa: E402
import images  # noqa: E402
from headless_chromium import HeadlessChromium, chromium_binary  # noqa: E402
from qmp_client import QmpClient  # noqa: E402

NOVNC = "/usr/share/novnc"
PROMPT = "cr16> "
CANVAS_PNG = "document.querySelector('canvas').toDataURL('image/png')"
CONNECTED = "document.documentElement.classList.contains('noVNC_connected')"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_vnc_display():
    """A display number N whose port 5900+N is free on loopback."""
    for _ in range(100):
        port = free_port()
        if port > 5900 and port - 5900 < 30000:
            return port - 5900
    raise RuntimeError("no free VNC display")


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@unittest.skipUnless(chromium_binary(), "chromium is not installed (scripts/install-test-deps.sh)")
@unittest.skipUnless(os.path.exists(os.path.join(NOVNC, "vnc.html")),
                     "Debian's novnc is not installed (scripts/install-test-deps.sh)")
class NoVnc(unittest.TestCase):
    def setUp(self):
        self.directory = tempfile.mkdtemp(prefix="cr16-novnc-")
        handler = functools.partial(QuietHandler, directory=NOVNC)
        self.http = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        self.console = None
        self.qmp = None
        self.browser = None

    def tearDown(self):
        if self.browser:
            self.browser.close()
        if self.qmp:
            self.qmp.close()
        if self.console:
            self.console.close()
        self.http.shutdown()
        self.http.server_close()
        shutil.rmtree(self.directory, ignore_errors=True)

    def start_vm(self, vnc_options, extra=()):
        self.ws_port = free_port()
        qmp_path = os.path.join(self.directory, "qmp.sock")
        self.console = h.start_with_pipes(
            ["-serial", "stdio", "-monitor", "none",
             "-qmp", "unix:%s,server=on,wait=off" % qmp_path,
             "-vnc", "127.0.0.1:%d,websocket=%d%s" % (free_vnc_display(), self.ws_port,
                                                        vnc_options)] + list(extra))
        self.console.expect(PROMPT)
        self.qmp = QmpClient(qmp_path)
        self.qmp.negotiate()

    def open_novnc(self, encrypt, browser_args=()):
        self.browser = HeadlessChromium(extra_args=browser_args)
        self.browser.open("http://127.0.0.1:%d/vnc.html?autoconnect=true&resize=off"
                          "&host=127.0.0.1&port=%d&encrypt=%d" %
                          (self.http.server_address[1], self.ws_port, 1 if encrypt else 0))
        try:
            self.browser.wait_for(CONNECTED, timeout=30)
        except AssertionError:
            status = self.browser.evaluate(
                "(document.getElementById('noVNC_status') || {}).textContent")
            raise AssertionError("noVNC did not connect: %r" % status)

    def canvas(self):
        data = self.browser.evaluate(CANVAS_PNG)
        return images.read_png(base64.b64decode(data.split(",", 1)[1]))

    def screendump(self):
        path = os.path.join(self.directory, "screen.ppm")
        self.qmp.command("screendump", {"filename": path})
        return images.read_image(path)

    def assert_canvas_shows_the_screen(self):
        deadline, differing = time.monotonic() + 20, None
        while time.monotonic() < deadline:
            screen, canvas = self.screendump(), self.canvas()
            if canvas[:2] == screen[:2]:
                differing = images.differing_pixels(canvas, screen)
                if differing == 0:
                    return screen
            time.sleep(0.3)
        with open(os.path.join(self.directory, "page.png"), "wb") as f:
            f.write(self.browser.screenshot())
        self.fail("the noVNC canvas (%dx%d) differs from the screendump (%dx%d) in %s pixels" %
                  (canvas[0], canvas[1], screen[0], screen[1], differing))

    def type_in_page(self, text):
        """Keys as a user types them into the focused noVNC canvas."""
        self.browser.evaluate("document.querySelector('canvas').focus()")
        for char in text:
            if char == "\n":
                key = {"key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13}
            else:
                key = {"key": char, "text": char,
                       "code": "Key" + char.upper() if char.isalpha() else
                       ("Space" if char == " " else "Digit" + char)}
            self.browser.call("Input.dispatchKeyEvent", dict(key, type="keyDown"))
            self.browser.call("Input.dispatchKeyEvent", dict(key, type="keyUp"))
            time.sleep(0.03)

    def test_novnc_over_a_websocket_shows_the_screen_and_types(self):
        self.start_vm("")
        self.open_novnc(encrypt=False)
        before = self.assert_canvas_shows_the_screen()
        self.assertFalse(images.is_uniform(before))
        self.type_in_page("echo browser 42\n")
        self.assertIn("browser 42", self.console.expect(PROMPT))
        after = self.assert_canvas_shows_the_screen()
        self.assertGreater(images.differing_pixels(before, after), 0)

    def test_novnc_over_wss_with_x509_credentials(self):
        import migration_harness as m
        credentials = m.make_credentials(os.path.join(self.directory, "tls"))
        if credentials is None:
            self.skipTest("openssl is not installed")
        server = os.path.join(self.directory, "tls", "server")
        # The browser trusts exactly the server's key (its SPKI hash).
        public = subprocess.run(["openssl", "x509", "-pubkey", "-noout", "-in",
                                 os.path.join(server, "server-cert.pem")],
                                check=True, capture_output=True).stdout
        der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"], input=public,
                             check=True, capture_output=True).stdout
        digest = subprocess.run(["openssl", "dgst", "-sha256", "-binary"], input=der,
                                check=True, capture_output=True).stdout
        self.start_vm(",tls-creds=tls0", ["-object", "tls-creds-x509,id=tls0,dir=%s,"
                                          "endpoint=server,verify-peer=off" % server])
        self.open_novnc(encrypt=True, browser_args=[
            "--ignore-certificate-errors-spki-list=" + base64.b64encode(digest).decode()])
        self.assertFalse(images.is_uniform(self.assert_canvas_shows_the_screen()))


if __name__ == "__main__":
    unittest.main()
