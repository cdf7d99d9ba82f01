"""The SDL window (-display sdl) in a real cr16-system process on a private
Xvfb server: the picture in the window (captured with xwd) equals the
guest's framebuffer at the expected integer scale, across a mode change; the
title shows -name and the run state; keys typed into the window (XTest)
reach the guest's keyboard FIFO, Ctrl-Alt-G grabs without reaching it;
closing the window (WM_DELETE_WINDOW) powers the guest down; an idle window
costs almost no host CPU; without a display the option fails clearly.

The guest is programs/display_test.bin (source beside it). X clients are
Debian's xvfb, xwd (x11-apps) and libX11/libXtst through ctypes; a test
skips with the reason when one is missing."""
import ctypes
import ctypes.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "cli"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "qmp"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "display"))
import cr16_harness as h  # noqa: E402
import images  # noqa: E402
from qmp_client import QmpClient  # noqa: E402

GUEST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "programs", "display_test.bin")
BOOT_SCREEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "display",
                           "boot-screen.ppm.gz")
PROMPT = "cr16> "
NAME = "sdltest"
TITLE = NAME + " - cr16-system"


# ---- the guest's pictures (programs/display_test.c) -------------------------

def expected_xrgb_picture():
    """640x480 rows of (r, g, b)."""
    return [[(x & 0xFF, y & 0xFF, (x ^ y) & 0xFF) for x in range(640)] for y in range(480)]


def expected_rgb565_picture():
    """320x240 rows of (r, g, b), widened the way the display controller
    does (top bits repeated below)."""
    rows = []
    for y in range(240):
        row = []
        for x in range(320):
            r, g, b = x & 0x1F, y & 0x3F, (x + y) & 0x1F
            row.append((r << 3 | r >> 2, g << 2 | g >> 4, b << 3 | b >> 2))
        rows.append(row)
    return rows


def rows_of(image):
    """images.py's (width, height, rgb bytes) as rows of (r, g, b)."""
    width, height, rgb = image
    return [[tuple(rgb[(y * width + x) * 3:(y * width + x) * 3 + 3]) for x in range(width)]
            for y in range(height)]


def scaled(picture, scale):
    return [[pixel for pixel in row for _ in range(scale)] for row in picture for _ in range(scale)]


def letterboxed(picture, width, height):
    """`picture` centred in a black width x height window."""
    left, top = (width - len(picture[0])) // 2, (height - len(picture)) // 2
    black = (0, 0, 0)
    rows = [[black] * width for _ in range(top)]
    for row in picture:
        rows.append([black] * left + row + [black] * (width - left - len(row)))
    rows += [[black] * width for _ in range(height - top - len(picture))]
    return rows


# ---- XWD files (X Window Dump, version 7) -----------------------------------

def parse_xwd(data):
    """Returns (window name, width, height, rows of (r, g, b)) of a TrueColor
    32-bit-per-pixel dump."""
    fields = [int.from_bytes(data[i * 4:i * 4 + 4], "big") for i in range(25)]
    header_size, version = fields[0], fields[1]
    if version != 7:
        raise AssertionError("not an XWD version 7 file")
    width, height = fields[4], fields[5]
    byte_order, bits_per_pixel, bytes_per_line = fields[7], fields[11], fields[12]
    red_mask, green_mask, blue_mask = fields[14], fields[15], fields[16]
    colormap_entries = fields[19]
    name = data[100:header_size].split(b"\0", 1)[0].decode(errors="replace")
    if bits_per_pixel != 32:
        raise AssertionError("unexpected XWD pixel size %d" % bits_per_pixel)
    offset = header_size + colormap_entries * 12
    order = "little" if byte_order == 0 else "big"

    def channel(value, mask):
        shift = (mask & -mask).bit_length() - 1
        return (value & mask) >> shift

    rows = []
    for y in range(height):
        line = data[offset + y * bytes_per_line:offset + y * bytes_per_line + width * 4]
        row = []
        for x in range(width):
            value = int.from_bytes(line[x * 4:x * 4 + 4], order)
            row.append((channel(value, red_mask), channel(value, green_mask),
                        channel(value, blue_mask)))
        rows.append(row)
    return name, width, height, rows


# ---- a private X server and a few Xlib calls --------------------------------

class XClientMessage(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("serial", ctypes.c_ulong), ("send_event", ctypes.c_int),
                ("display", ctypes.c_void_p), ("window", ctypes.c_ulong),
                ("message_type", ctypes.c_ulong), ("format", ctypes.c_int),
                ("data", ctypes.c_long * 5)]


class XEvent(ctypes.Union):
    _fields_ = [("client", XClientMessage), ("pad", ctypes.c_long * 24)]


class XServer:
    """Xvfb on a free display number, and an Xlib connection to it."""

    def __init__(self):
        self.process = None
        self.display = None
        self.xlib = None
        self.xtst = None

    def start(self):
        """Returns None, or why the tests cannot run."""
        for tool in ("Xvfb", "xwd"):
            if shutil.which(tool) is None:
                return "%s is not installed (scripts/install-test-deps.sh)" % tool
        xlib_path = ctypes.util.find_library("X11")
        if xlib_path is None:
            return "libX11 is not installed"
        read_fd, write_fd = os.pipe()
        self.process = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x1024x24", "-nolisten",
             "tcp"], pass_fds=(write_fd,), stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        os.close(write_fd)
        number = b""
        deadline = time.monotonic() + 15
        while not number.endswith(b"\n") and time.monotonic() < deadline:
            import select
            ready, _, _ = select.select([read_fd], [], [], 0.5)
            if ready:
                chunk = os.read(read_fd, 16)
                if not chunk:
                    break
                number += chunk
        os.close(read_fd)
        if not number.strip():
            self.stop()
            return "Xvfb did not start"
        self.display = ":" + number.decode().strip()
        self.xlib = ctypes.CDLL(xlib_path)
        self.xlib.XOpenDisplay.restype = ctypes.c_void_p
        self.xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
        self.xlib.XInternAtom.restype = ctypes.c_ulong
        self.xlib.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
        self.xlib.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int,
                                         ctypes.c_long, ctypes.POINTER(XEvent)]
        self.xlib.XFlush.argtypes = [ctypes.c_void_p]
        self.xlib.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
        self.xlib.XSetInputFocus.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int,
                                             ctypes.c_ulong]
        self.xlib.XKeysymToKeycode.restype = ctypes.c_ubyte
        self.xlib.XKeysymToKeycode.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
        self.xlib.XStringToKeysym.restype = ctypes.c_ulong
        self.xlib.XStringToKeysym.argtypes = [ctypes.c_char_p]
        self.xlib.XDefaultRootWindow.restype = ctypes.c_ulong
        self.xlib.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
        self.xlib.XQueryTree.argtypes = [ctypes.c_void_p, ctypes.c_ulong] + [ctypes.c_void_p] * 4
        self.xlib.XFetchName.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_void_p]
        self.xlib.XFree.argtypes = [ctypes.c_void_p]
        self.xlib.XMoveResizeWindow.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int,
                                                ctypes.c_int, ctypes.c_uint, ctypes.c_uint]
        self.connection = self.xlib.XOpenDisplay(self.display.encode())
        if not self.connection:
            self.stop()
            return "cannot connect to Xvfb"
        xtst_path = ctypes.util.find_library("Xtst")
        if xtst_path is not None:
            self.xtst = ctypes.CDLL(xtst_path)
            self.xtst.XTestFakeKeyEvent.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_int,
                                                    ctypes.c_ulong]
        return None

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def env(self):
        env = dict(os.environ)
        env["DISPLAY"] = self.display
        env.pop("WAYLAND_DISPLAY", None)
        env.pop("SDL_VIDEODRIVER", None)
        env.pop("XAUTHORITY", None)
        # Sanitizer builds: libSDL2 dlopens libdbus and the GL driver and
        # unloads them at SDL_Quit, so LeakSanitizer sees their leftovers
        # with no module to suppress them by. Memory errors are still caught.
        env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS"), "detect_leaks=0"]))
        return env

    def window_name(self, window):
        """The window's WM_NAME, or None."""
        name = ctypes.c_char_p()
        if not self.xlib.XFetchName(self.connection, window, ctypes.byref(name)) or not name.value:
            return None
        text = name.value.decode(errors="replace")
        self.xlib.XFree(name)
        return text

    def find_window(self, title_prefix, timeout=20):
        """The id of the top-level window whose name starts with
        `title_prefix` (no window manager: top-level windows are the root's
        children)."""
        root = self.xlib.XDefaultRootWindow(self.connection)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            root_return, parent_return = ctypes.c_ulong(), ctypes.c_ulong()
            children, count = ctypes.POINTER(ctypes.c_ulong)(), ctypes.c_uint()
            if self.xlib.XQueryTree(self.connection, root, ctypes.byref(root_return),
                                    ctypes.byref(parent_return), ctypes.byref(children),
                                    ctypes.byref(count)):
                windows = [children[i] for i in range(count.value)]
                if children:
                    self.xlib.XFree(children)
                for window in windows:
                    name = self.window_name(window)
                    if name is not None and name.startswith(title_prefix):
                        return window
            time.sleep(0.1)
        raise AssertionError("no window titled %r appeared" % title_prefix)

    def capture(self, window):
        """(name, width, height, rows) of `window` as xwd dumps it."""
        data = subprocess.run(["xwd", "-silent", "-id", str(window), "-display", self.display],
                              capture_output=True, check=True, timeout=30).stdout
        return parse_xwd(data)

    def title(self, window):
        """The window's WM_NAME, as a window manager would show it."""
        self.xlib.XSync(self.connection, 0)
        return self.window_name(window)

    def press(self, window, keys):
        """Types `keys` (keysym names) as one chord: presses in order, releases
        in reverse. Returns False when XTest is not available."""
        if self.xtst is None:
            return False
        self.xlib.XSetInputFocus(self.connection, window, 2, 0)  # RevertToParent, CurrentTime
        codes = [self.xlib.XKeysymToKeycode(self.connection,
                                            self.xlib.XStringToKeysym(key.encode()))
                 for key in keys]
        for code in codes:
            self.xtst.XTestFakeKeyEvent(self.connection, code, 1, 0)
        for code in reversed(codes):
            self.xtst.XTestFakeKeyEvent(self.connection, code, 0, 0)
        self.xlib.XSync(self.connection, 0)
        return True

    def resize_window(self, window, width, height):
        """What a user dragging the window's border does (no window manager
        here to ask). At the screen's top left, so that it fits."""
        self.xlib.XMoveResizeWindow(self.connection, window, 0, 0, width, height)
        self.xlib.XSync(self.connection, 0)

    def close_window(self, window):
        """What a window manager sends when the user clicks the close button."""
        event = XEvent()
        event.client.type = 33  # ClientMessage
        event.client.window = window
        event.client.message_type = self.xlib.XInternAtom(self.connection, b"WM_PROTOCOLS", 0)
        event.client.format = 32
        event.client.data[0] = self.xlib.XInternAtom(self.connection, b"WM_DELETE_WINDOW", 0)
        event.client.data[1] = 0  # CurrentTime
        self.xlib.XSendEvent(self.connection, window, 0, 0, ctypes.byref(event))
        self.xlib.XSync(self.connection, 0)


SERVER = XServer()
SKIP_REASON = None


def setUpModule():
    global SKIP_REASON
    SKIP_REASON = SERVER.start()


def tearDownModule():
    SERVER.stop()


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class SdlWindow(unittest.TestCase):
    def setUp(self):
        if SKIP_REASON is not None:
            self.skipTest(SKIP_REASON)
        self.directory = tempfile.mkdtemp(prefix="cr16-sdl-")
        self.qmp_path = os.path.join(self.directory, "qmp.sock")
        self.process = None
        self.clients = []

    def tearDown(self):
        for client in self.clients:
            client.close()
        if self.process is not None:
            h.stop(self.process)
        shutil.rmtree(self.directory, ignore_errors=True)

    def start(self, *extra, bios=GUEST, ready="display-test ready\n"):
        """cr16-system with the test guest (or `bios`) in an SDL window;
        returns the console on its serial port once the guest printed
        `ready`."""
        argv = [h.BINARY, "-display", "sdl", "-name", NAME, "-serial", "stdio", "-monitor", "none",
                "-qmp", "unix:%s,server=on,wait=off" % self.qmp_path]
        if bios is not None:
            argv += ["-bios", bios]
        self.process = subprocess.Popen(argv + list(extra), stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        env=SERVER.env())
        console = h.Console(self.process, self.process.stdout.fileno(),
                            self.process.stdin.fileno(), strip_cr=True)
        if ready is not None:
            console.expect(ready)
        return console

    def qmp(self):
        client = QmpClient(self.qmp_path)
        client.negotiate()
        self.clients.append(client)
        return client

    def screendump(self, client):
        path = os.path.join(self.directory, "screen.ppm")
        self.assertEqual(client.command("screendump", {"filename": path}), {})
        return rows_of(images.read_image(path))

    def command(self, console, letter):
        console.send(letter)
        return console.expect("ok %s\n" % letter)

    def wait_for_picture(self, window, expected, timeout=20):
        """Captures until the window shows `expected` exactly."""
        height, width = len(expected), len(expected[0])
        deadline = time.monotonic() + timeout
        while True:
            _, got_width, got_height, rows = SERVER.capture(window)
            if (got_width, got_height) == (width, height) and rows == expected:
                return
            if time.monotonic() > deadline:
                if (got_width, got_height) != (width, height):
                    self.fail("window is %dx%d, expected %dx%d" %
                              (got_width, got_height, width, height))
                bad = next((x, y) for y in range(height) for x in range(width)
                           if rows[y][x] != expected[y][x])
                self.fail("pixel %s is %s, expected %s" %
                          (bad, rows[bad[1]][bad[0]], expected[bad[1]][bad[0]]))
            time.sleep(0.2)

    def wait_for_title(self, window, title, timeout=20):
        deadline = time.monotonic() + timeout
        while True:
            got = SERVER.title(window)
            if got == title:
                return
            if time.monotonic() > deadline:
                self.fail("title is %r, expected %r" % (got, title))
            time.sleep(0.1)

    def keyboard_level(self, console):
        console.send("k")
        text = console.expect("ok k\n")
        return int(text.split("kbd level ")[1].split()[0])

    def test_window_shows_the_guest_picture_and_follows_mode_changes(self):
        console = self.start()
        window = SERVER.find_window(TITLE)
        # 640x480 XRGB8888 at 1x, pixel for pixel, as screendump sees it too.
        self.wait_for_picture(window, expected_xrgb_picture())
        self.assertEqual(self.screendump(self.qmp()), expected_xrgb_picture())
        # 320x240 RGB565: a new texture, the window keeps its size at 2x.
        self.command(console, "l")
        self.wait_for_picture(window, scaled(expected_rgb565_picture(), 2))
        self.command(console, "h")
        self.wait_for_picture(window, expected_xrgb_picture())

    def test_a_resized_window_keeps_integer_scaling(self):
        console = self.start()
        window = SERVER.find_window(TITLE)
        picture = expected_xrgb_picture()
        self.wait_for_picture(window, picture)
        SERVER.resize_window(window, 1280, 960)
        self.wait_for_picture(window, scaled(picture, 2))
        # 1.5 times in each direction: 1x, centred on black.
        SERVER.resize_window(window, 960, 720)
        self.wait_for_picture(window, letterboxed(picture, 960, 720))
        # A mode change keeps the scale the user chose.
        SERVER.resize_window(window, 1280, 960)
        self.wait_for_picture(window, scaled(picture, 2))
        self.command(console, "l")
        self.wait_for_picture(window, scaled(expected_rgb565_picture(), 2))

    def test_default_firmware_boot_screen_and_shell_in_the_window(self):
        if not os.path.exists(BOOT_SCREEN):
            self.skipTest("no reference boot screen " + BOOT_SCREEN)
        console = self.start(bios=None, ready=PROMPT)
        window = SERVER.find_window(TITLE)
        reference = rows_of(images.read_image(BOOT_SCREEN))
        self.wait_for_picture(window, reference)
        client = self.qmp()
        self.assertEqual(self.screendump(client), reference)
        # Keys typed into the window reach the firmware's shell, whose
        # output the window then shows as screendump does.
        if not SERVER.press(window, ["e"]):
            self.skipTest("libXtst is not installed")
        for key in ["c", "h", "o", "space", "h", "i", "Return"]:
            SERVER.press(window, [key])
        console.expect("echo hi\nhi\n" + PROMPT)
        self.wait_for_picture(window, self.screendump(client))
        self.assertNotEqual(self.screendump(client), reference)

    def test_title_shows_the_name_and_the_run_state(self):
        self.start()
        window = SERVER.find_window(TITLE)
        self.wait_for_title(window, TITLE)
        client = self.qmp()
        client.command("stop")
        self.wait_for_title(window, TITLE + " [paused]")
        client.command("cont")
        self.wait_for_title(window, TITLE)

    def test_dash_s_shows_paused_until_cont(self):
        console = self.start("-S", ready=None)
        window = SERVER.find_window(TITLE)
        self.wait_for_title(window, TITLE + " [paused]")
        self.qmp().command("cont")
        console.expect("display-test ready\n")
        self.wait_for_title(window, TITLE)
        self.wait_for_picture(window, expected_xrgb_picture())

    def test_typed_keys_reach_the_guest_and_ctrl_alt_g_grabs(self):
        console = self.start()
        window = SERVER.find_window(TITLE)
        self.assertEqual(self.keyboard_level(console), 0)
        if not SERVER.press(window, ["a"]):
            self.skipTest("libXtst is not installed")
        deadline = time.monotonic() + 10
        while self.keyboard_level(console) != 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual(self.keyboard_level(console), 2)  # 0x1E then 0x9E
        # Ctrl-Alt-G: the guest sees Ctrl and Alt (4 bytes), not the G.
        SERVER.press(window, ["Control_L", "Alt_L", "g"])
        self.wait_for_title(window, TITLE + " - Press Ctrl-Alt-G to exit grab")
        self.assertEqual(self.keyboard_level(console), 6)
        SERVER.press(window, ["Control_L", "Alt_L", "g"])
        self.wait_for_title(window, TITLE)
        self.assertEqual(self.keyboard_level(console), 10)

    def test_closing_the_window_powers_the_guest_down(self):
        self.start()
        window = SERVER.find_window(TITLE)
        SERVER.close_window(window)
        self.assertEqual(self.process.wait(timeout=20), 0)

    def test_with_no_shutdown_the_window_stays_and_says_shutdown(self):
        self.start("-no-shutdown")
        window = SERVER.find_window(TITLE)
        client = self.qmp()
        # (The window shows what the guest drew at its last vertical blank.)
        self.wait_for_picture(window, expected_xrgb_picture())
        SERVER.close_window(window)
        self.wait_for_title(window, TITLE + " [shutdown]")
        self.wait_for_picture(window, expected_xrgb_picture())  # still shown
        client.command("quit")
        self.assertEqual(self.process.wait(timeout=20), 0)

    def test_idle_window_costs_little_host_cpu(self):
        self.start()
        window = SERVER.find_window(TITLE)
        self.wait_for_picture(window, expected_xrgb_picture())
        start_cpu, start = cpu_seconds(self.process.pid), time.monotonic()
        time.sleep(3)
        share = (cpu_seconds(self.process.pid) - start_cpu) / (time.monotonic() - start)
        # About 0.1 % here; the bound leaves room for a loaded machine.
        self.assertLess(share, 0.05, "idle window used %.1f%% of a core" % (100 * share))


class SdlWithoutDisplay(unittest.TestCase):
    def test_without_a_display_the_option_fails_clearly(self):
        env = dict(os.environ)
        for name in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER"):
            env.pop(name, None)
        result = subprocess.run([h.BINARY, "-display", "sdl", "-bios", GUEST, "-serial", "null",
                                 "-monitor", "none"], capture_output=True, timeout=30, env=env)
        self.assertEqual(result.returncode, 1)
        self.assertRegex(result.stderr.decode(),
                         r"^cr16-system: -display sdl: no display to open a window on \(neither "
                         r"DISPLAY nor WAYLAND_DISPLAY is set")

    def test_an_unusable_display_names_sdl_init(self):
        env = dict(os.environ)
        env["DISPLAY"] = ":99999"
        env.pop("WAYLAND_DISPLAY", None)
        env.pop("SDL_VIDEODRIVER", None)
        result = subprocess.run([h.BINARY, "-display", "sdl", "-bios", GUEST, "-serial", "null",
                                 "-monitor", "none"], capture_output=True, timeout=30, env=env)
        self.assertEqual(result.returncode, 1)
        self.assertIn("cr16-system: -display sdl: SDL_Init failed: ", result.stderr.decode())
        self.assertIn("(DISPLAY=:99999)", result.stderr.decode())


if __name__ == "__main__":
    unittest.main()
