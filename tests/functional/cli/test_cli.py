"""cr16-system command line and loader error paths: every bad input gives one
clear line on stderr naming the culprit and exit status 1, never a crash."""
import os
import struct
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import cr16_harness as h  # noqa: E402

PROGRAM = os.path.join(h.SOURCE_DIR, "tests", "functional", "semihosting", "programs",
                       "svc_write_exit.elf")


def elf32(segments, entry=0x18, machine=177):
    """Builds a CR16-style ELF32 executable from (paddr, data, memsz) tuples."""
    header_size, phdr_size = 52, 32
    data_offset = header_size + phdr_size * len(segments)
    phdrs, blobs = b"", b""
    for paddr, data, memsz in segments:
        phdrs += struct.pack("<8I", 1, data_offset + len(blobs), paddr, paddr, len(data),
                             max(memsz, len(data)), 7, 1)
        blobs += data
    ident = b"\x7fELF\x01\x01\x01" + b"\x00" * 9
    header = ident + struct.pack("<HHIIIIIHHHHHH", 2, machine, 1, entry, header_size, 0, 0xb1,
                                 header_size, phdr_size, len(segments), 40, 0, 0)
    return header + phdrs + blobs


class Cli(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.dir.cleanup()

    def write(self, name, data):
        path = os.path.join(self.dir.name, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def assert_one_line_error(self, args, *fragments):
        result = h.run(args, timeout=20)
        stderr = result.stderr.decode(errors="replace")
        self.assertEqual(result.returncode, 1, "args %r: stderr %r" % (args, stderr))
        lines = stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, "expected one error line, got %r" % stderr)
        self.assertTrue(lines[0].startswith("cr16-system: "), lines[0])
        for fragment in fragments:
            self.assertIn(fragment, lines[0])
        self.assertEqual(result.stdout, b"")

    def test_help_and_version(self):
        result = h.run(["-h"])
        self.assertEqual(result.returncode, 0)
        self.assertIn(b"-serial", result.stdout)
        result = h.run(["-version"])
        self.assertEqual(result.returncode, 0)
        self.assertIn(b"cr16-system version", result.stdout)
        self.assertIn(b"virt", h.run(["-M", "help"]).stdout)
        self.assertIn(b"cr16cplus", h.run(["-cpu", "help"]).stdout)
        self.assertIn(b"guest_errors", h.run(["-d", "help"]).stdout)

    def test_unknown_option(self):
        self.assert_one_line_error(["-frobnicate"], "unknown option '-frobnicate'")

    def test_unknown_machine(self):
        self.assert_one_line_error(["-M", "pc"], "unknown machine 'pc'")

    def test_unknown_cpu(self):
        self.assert_one_line_error(["-cpu", "z80"], "unknown CPU model 'z80'")

    def test_bad_serial_spec(self):
        self.assert_one_line_error(["-serial", "carrier-pigeon"], "carrier-pigeon")
        self.assert_one_line_error(["-serial", "tcp:localhost"], "tcp:HOST:PORT")

    def test_bad_memory_size(self):
        self.assert_one_line_error(["-m", "64M"], "-m 64M")

    def test_missing_value(self):
        self.assert_one_line_error(["-kernel"], "'-kernel' needs a value")

    def test_missing_kernel_file(self):
        missing = os.path.join(self.dir.name, "nope.elf")
        self.assert_one_line_error(["-kernel", missing, "-serial", "null"], missing,
                                   "No such file")

    def test_missing_bios_file(self):
        missing = os.path.join(self.dir.name, "nope.bin")
        self.assert_one_line_error(["-bios", missing, "-serial", "null"], missing)

    def test_truncated_elf(self):
        with open(PROGRAM, "rb") as f:
            data = f.read()
        for length in (20, 60, len(data) // 2):
            path = self.write("truncated%d.elf" % length, data[:length])
            self.assert_one_line_error(["-kernel", path, "-serial", "null"], path, "truncated")

    def test_non_cr16_elf(self):
        path = self.write("arm.elf", elf32([(0x100, b"\x00\x00", 0)], machine=40))
        self.assert_one_line_error(["-kernel", path, "-serial", "null"], path, "not a CR16 ELF")
        # A 64-bit host executable.
        self.assert_one_line_error(["-kernel", "/bin/true", "-serial", "null"], "/bin/true",
                                   "not a 32-bit ELF")

    def test_overlapping_segments(self):
        path = self.write("overlap.elf", elf32([(0x100, b"\x01" * 16, 0), (0x108, b"\x02" * 8, 0)]))
        self.assert_one_line_error(["-kernel", path, "-serial", "null"], path, "overlap")

    def test_segment_outside_ram(self):
        path = self.write("high.elf", elf32([(0x300000, b"\x01" * 16, 0)], entry=0x300000))
        self.assert_one_line_error(["-kernel", path, "-serial", "null", "-m", "2M"], path,
                                   "outside the machine's memory")

    def test_oversized_bios(self):
        path = self.write("big.bin", b"\xff" * ((1 << 20) + 2))
        self.assert_one_line_error(["-bios", path, "-serial", "null"], path, "too large")

    def test_empty_bios(self):
        path = self.write("empty.bin", b"")
        self.assert_one_line_error(["-bios", path, "-serial", "null"], path, "empty")

    def test_unopenable_serial_file(self):
        self.assert_one_line_error(
            ["-kernel", PROGRAM, "-serial", "file:/nonexistent-dir/out.txt"],
            "/nonexistent-dir/out.txt")

    def test_serial_client_cannot_connect(self):
        self.assert_one_line_error(
            ["-kernel", PROGRAM, "-serial", "unix:%s/none.sock" % self.dir.name], "none.sock",
            "cannot connect")


if __name__ == "__main__":
    unittest.main()
