"""The default firmware's display side in a real cr16-system process, driven
over the serial console: the boot screen is the same on every boot, console
output leaves the free low RAM alone, `gfx` returns to the shell and `anim`
counts frames at the display's 60 Hz. (Keyboard input and the picture itself
are checked pixel by pixel in tests/unit/hw/firmware_display_test.cpp.)"""
import os
import re
import sys
import time
import unittest
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "cli"))
import cr16_harness as h  # noqa: E402

PROMPT = "cr16> "
CONSOLE_FRAMEBUFFER = 0x03E000  # with the default 2 MiB (roms/README.md)
CONSOLE_FRAMEBUFFER_SIZE = 640 * 480 * 2
FREE_LOW_RAM = (0x010000, CONSOLE_FRAMEBUFFER - 0x010000)


def fill_pattern(seed, length):
    s, out = seed or 1, bytearray()
    for _ in range(length):
        s ^= (s << 13) & 0xFFFFFFFF
        s ^= s >> 17
        s ^= (s << 5) & 0xFFFFFFFF
        out.append(s & 0xFF)
    return bytes(out)


class FirmwareDisplay(unittest.TestCase):
    def setUp(self):
        self.consoles = []

    def tearDown(self):
        for console in self.consoles:
            console.close()

    def boot(self, *args):
        console = h.start_with_pipes(["-nographic"] + list(args))
        self.consoles.append(console)
        console.expect(PROMPT)
        return console

    def test_boot_screen_is_the_same_on_every_boot(self):
        line = "sum 0x%x %d" % (CONSOLE_FRAMEBUFFER, CONSOLE_FRAMEBUFFER_SIZE)
        sums = []
        for _ in range(2):
            console = self.boot()
            sums.append(console.run(line, PROMPT))
            console.send("poweroff\r")
            self.assertEqual(console.wait(), 0)
        self.assertRegex(sums[0], r"^crc32 0x[0-9a-f]{8}\n$")
        self.assertEqual(sums[0], sums[1])
        blank = "crc32 0x%08x\n" % zlib.crc32(bytes(CONSOLE_FRAMEBUFFER_SIZE))
        self.assertNotEqual(sums[0], blank)

    def test_console_output_leaves_the_free_low_ram_alone(self):
        console = self.boot()
        address, length = FREE_LOW_RAM
        self.assertEqual(console.run("fill 0x%x %d 5" % (address, length), PROMPT),
                         "filled %d bytes at 0x%06x\n" % (length, address))
        self.assertIn("anim", console.run("help", PROMPT))  # scrolls the console
        self.assertEqual(console.run("sum 0x%x %d" % (address, length), PROMPT),
                         "crc32 0x%08x\n" % zlib.crc32(fill_pattern(5, length)))
        console.send("poweroff\r")
        self.assertEqual(console.wait(), 0)

    def test_gfx_then_the_shell_goes_on(self):
        console = self.boot()
        self.assertEqual(console.run("gfx", PROMPT),
                         "gfx: test pattern on the display (any key returns to the console)\n")
        self.assertEqual(console.run("echo back", PROMPT), "back\n")
        self.assertEqual(console.run("cls", PROMPT), "")
        console.send("poweroff\r")
        self.assertEqual(console.wait(), 0)

    def test_anim_counts_frames_at_the_display_rate(self):
        console = self.boot()
        console.send("anim\r")
        console.expect("anim: 640x480 XRGB8888 at 60 Hz until a key is pressed\r\n")
        started = time.monotonic()
        time.sleep(1.0)
        console.send("x")
        text = console.expect(PROMPT)
        elapsed = time.monotonic() - started
        frames = int(re.search(r"^anim: (\d+) frames\r\n", text).group(1))
        self.assertGreaterEqual(frames, 2, text)  # it animates (ASan builds draw ~6 a second)
        self.assertLessEqual(frames, 60 * elapsed + 3, text)  # one frame per vertical blank
        self.assertEqual(console.run("echo after", PROMPT), "after\n")
        console.send("poweroff\r")
        self.assertEqual(console.wait(), 0)

    def test_small_ram_keeps_the_display_off(self):
        console = self.boot("-m", "1M")
        self.assertEqual(console.run("anim", PROMPT), "error: the display needs 2048 KiB of RAM\n")
        console.send("poweroff\r")
        self.assertEqual(console.wait(), 0)


if __name__ == "__main__":
    unittest.main()
