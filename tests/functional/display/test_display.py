"""The display and keyboard of the virt board in a real cr16-system process,
through QMP and the human monitor: screendump of the default firmware's boot
screen compared pixel by pixel with a reference, PNG and PPM holding the same
pixels, keys typed with send-key / input-send-event / HMP sendkey reaching the
firmware shell (its reply on the UART, and on the screen exactly as when the
same line is typed on the UART), keys refused whole when the guest does not
read them, and bad requests answered with clear errors while the VM runs on.

CR16_UPDATE_REFERENCE=1 rewrites boot-screen.ppm.gz from this build (do it
only after a deliberate change to the firmware's boot screen)."""
import gzip
import os
import shutil
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "cli"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "qmp"))
import cr16_harness as h  # noqa: E402
import images  # noqa: E402
from qmp_client import QmpClient  # noqa: E402

PROMPT = "cr16> "
HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = os.path.join(HERE, "boot-screen.ppm.gz")
KBD_STATUS = 0xFF0704

# The QKeyCode of each character a test types, and whether it needs Shift.
_UNSHIFTED = {" ": "spc", "-": "minus", "=": "equal", ".": "dot", ",": "comma", "/": "slash",
              ";": "semicolon", "'": "apostrophe", "\n": "ret"}
_SHIFTED = {"!": "1", "@": "2", "#": "3", "$": "4", "%": "5", "^": "6", "&": "7", "*": "8",
            "(": "9", ")": "0", "_": "minus", "+": "equal", ":": "semicolon", "?": "slash"}


def key_of(char):
    """(qcode, shifted) for one character on a US keyboard."""
    if char.isalpha():
        return char.lower(), char.isupper()
    if char.isdigit():
        return char, False
    if char in _UNSHIFTED:
        return _UNSHIFTED[char], False
    return _SHIFTED[char], True


def qcode(name):
    return {"type": "qcode", "data": name}


class Display(unittest.TestCase):
    def setUp(self):
        self.directory = tempfile.mkdtemp(prefix="cr16-display-")
        self.consoles = []
        self.clients = []

    def tearDown(self):
        for client in self.clients:
            client.close()
        for console in self.consoles:
            console.close()
        shutil.rmtree(self.directory, ignore_errors=True)

    def start(self, *args, name="qmp"):
        """The default firmware, its serial console on pipes, QMP on a socket."""
        path = os.path.join(self.directory, name + ".sock")
        console = h.start_with_pipes(["-serial", "stdio", "-monitor", "none",
                                      "-qmp", "unix:%s,server=on,wait=off" % path] + list(args))
        self.consoles.append(console)
        client = QmpClient(path)
        client.negotiate()
        self.clients.append(client)
        return console, client

    def booted(self, name="qmp"):
        console, qmp = self.start(name=name)
        console.expect(PROMPT)
        return console, qmp

    def screendump(self, qmp, name, fmt=None):
        path = os.path.join(self.directory, name)
        arguments = {"filename": path}
        if fmt:
            arguments["format"] = fmt
        self.assertEqual(qmp.command("screendump", arguments), {})
        return images.read_image(path)

    def type_with_send_key(self, qmp, text):
        for char in text:
            name, shifted = key_of(char)
            keys = [qcode("shift"), qcode(name)] if shifted else [qcode(name)]
            # A short hold keeps the FIFO from filling while the guest reads.
            qmp.command("send-key", {"keys": keys, "hold-time": 5})
            time.sleep(0.02)

    def kbd_level(self, qmp):
        text = qmp.command("human-monitor-command",
                           {"command-line": "xp /1wx 0x%x" % KBD_STATUS})
        value = int(text.split(":")[1].split()[0], 16)
        return (value >> 8) & 0x3F

    # ---- screendump

    def test_screendump_of_the_boot_screen_matches_the_reference(self):
        console, qmp = self.booted()
        screen = self.screendump(qmp, "boot.ppm")
        self.assertEqual(screen[:2], (640, 480))
        self.assertFalse(images.is_uniform(screen), "the boot screen is one colour")
        if os.environ.get("CR16_UPDATE_REFERENCE") == "1":
            with open(os.path.join(self.directory, "boot.ppm"), "rb") as f:
                data = f.read()
            with gzip.open(REFERENCE, "wb", compresslevel=9) as f:
                f.write(data)
        reference = images.read_image(REFERENCE)
        self.assertEqual(images.differing_pixels(screen, reference), 0,
                         "the boot screen differs from %s" % REFERENCE)

    def test_png_and_ppm_screendumps_hold_the_same_pixels(self):
        console, qmp = self.booted()
        ppm = self.screendump(qmp, "s.ppm", "ppm")
        png = self.screendump(qmp, "s.png", "png")
        self.assertEqual(images.differing_pixels(ppm, png), 0)
        # HMP spells it positionally, or as QMP does.
        for line, name in (("screendump %s/h.png png", "h.png"),
                           ("screendump %s/f.png format=png", "f.png")):
            self.assertEqual(qmp.command("human-monitor-command",
                                        {"command-line": line % self.directory}), "")
            self.assertEqual(images.differing_pixels(
                ppm, images.read_image(os.path.join(self.directory, name))), 0)

    # ---- keys

    def test_keys_typed_with_send_key_reach_the_shell_and_the_screen(self):
        typed, qmp = self.booted("typed")
        reference, qmp_reference = self.booted("reference")
        before = self.screendump(qmp, "before.ppm")
        self.type_with_send_key(qmp, "echo Hi, keys!\n")
        output = typed.expect(PROMPT)
        self.assertIn("Hi, keys!", output)
        reference.run("echo Hi, keys!", PROMPT)
        after = self.screendump(qmp, "after.ppm")
        self.assertGreater(images.differing_pixels(before, after), 0, "the screen did not change")
        self.assertEqual(images.differing_pixels(after, self.screendump(qmp_reference, "ref.ppm")),
                         0, "typing on the keyboard and on the UART show differently")

    def test_input_send_event_and_hmp_sendkey_type_too(self):
        console, qmp = self.booted()
        events = []
        for char in "echo ev\n":
            name, _ = key_of(char)
            events.append({"type": "key", "data": {"down": True, "key": qcode(name)}})
            events.append({"type": "key", "data": {"down": False, "key": qcode(name)}})
        self.assertEqual(qmp.command("input-send-event", {"events": events[:16]}), {})
        time.sleep(0.2)
        self.assertEqual(qmp.command("input-send-event", {"events": events[16:]}), {})
        self.assertIn("ev", console.expect(PROMPT))
        for key in ("e", "c", "h", "o", "spc", "h", "m", "p", "ret"):
            self.assertEqual(qmp.command("human-monitor-command",
                                        {"command-line": "sendkey %s 5" % key}), "")
            time.sleep(0.02)
        self.assertIn("hmp", console.expect(PROMPT))

    def test_keys_the_guest_does_not_read_are_refused_whole(self):
        # -S: the firmware never runs, so nothing drains the 32-byte FIFO.
        console, qmp = self.start("-S")
        for _ in range(16):  # 'a' down and up: 2 bytes each
            qmp.command("send-key", {"keys": [qcode("a")], "hold-time": 0})
        self.assertEqual(self.kbd_level(qmp), 32)
        refused = qmp.request("send-key", {"keys": [qcode("a")]})
        self.assertIn("room for 0 bytes", refused["error"]["desc"])
        refused = qmp.request("input-send-event", {"events": [
            {"type": "key", "data": {"down": True, "key": qcode("up")}}]})
        self.assertIn("no room", refused["error"]["desc"])
        self.assertEqual(self.kbd_level(qmp), 32)

    def test_bad_requests_get_clear_errors_and_the_vm_runs_on(self):
        console, qmp = self.booted()
        cases = [
            ("screendump", {"filename": os.path.join(self.directory, "x"), "format": "bmp"},
             "expected ppm or png"),
            ("screendump", {"filename": "/nonexistent-dir/x.ppm"}, "cannot create"),
            ("screendump", {"filename": os.path.join(self.directory, "x"), "head": 1},
             "head 1"),
            ("send-key", {"keys": [qcode("nosuchkey")]}, "unknown qcode"),
            ("send-key", {"keys": [{"type": "number", "data": 999}]}, "out of range"),
            ("send-key", {"keys": [qcode("a")], "hold-time": -1}, "hold-time"),
            ("send-key", {"keys": []}, "no keys"),
            ("input-send-event", {"events": [{"type": "abs", "data": {}}]},
             "pointing device"),
            ("input-send-event", {"events": [{"type": "key", "data": {"key": qcode("a")}}]},
             "'down'"),
        ]
        for command, arguments, needle in cases:
            reply = qmp.request(command, arguments)
            self.assertIn("error", reply, "%s %r" % (command, arguments))
            self.assertIn(needle, reply["error"]["desc"], "%s %r" % (command, arguments))
        self.assertEqual(qmp.command("query-status")["status"], "running")
        self.assertIn("still", console.run("echo still here", PROMPT))


if __name__ == "__main__":
    unittest.main()
