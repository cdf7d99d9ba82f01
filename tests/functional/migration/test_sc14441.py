"""Live migration and snapshots of a running sc14441: the test loader keeps
answering on the destination's pty, the SPI flash contents travel with the
machine (and reach the destination's image file), the paced clock and the
watchdog go on from where they were; loadvm brings back the flash of the
snapshot while the loader runs on."""
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "..", "sc14441"))
import migration_harness as m  # noqa: E402
import sc14441_host as host  # noqa: E402

h = m.h
LOADER = os.path.join(h.ROMS_DIR, "sc14441-loader.bin")
FLASH_SIZE = 1 << 20


def loader_image():
    with open(LOADER, "rb") as f:
        return f.read()


class Board:
    """A cr16-system -M sc14441 with its UART on a pty and QMP on a socket."""

    def __init__(self, directory, name, image, *args):
        self.qmp_path = os.path.join(directory, name + ".qmp")
        self.port = None
        self.qmp = None
        self.process = subprocess.Popen(
            [h.BINARY, "-M", "sc14441", "-drive", "if=mtd,file=%s,format=raw" % image,
             "-serial", "pty", "-monitor", "none", "-display", "none",
             "-qmp", "unix:%s,server=on,wait=off" % self.qmp_path, "-L", h.ROMS_DIR, *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        line = h.stderr_line(self.process)
        match = re.match(r"char device redirected to (/dev/pts/\d+) \(label serial0\)", line)
        if not match:
            self.close()
            raise AssertionError("no pty line: %r" % line)
        self.pty = match.group(1)
        self.qmp = m.Qmp(self.qmp_path)

    def open_port(self):
        self.port = host.SerialPort(self.pty)
        self.port.flush_input()
        return self.port

    def close(self):
        if self.port:
            self.port.close()
        if self.qmp:
            self.qmp.close()
        h.stop(self.process)
        self.process.stderr.close()


def write_random_image(path, size):
    data = os.urandom(size)
    with open(path, "wb") as f:
        f.write(data)
    return data


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


class Sc14441Migration(unittest.TestCase):
    def setUp(self):
        if not os.path.exists(LOADER):
            self.skipTest("no " + LOADER)
        self.directory = tempfile.TemporaryDirectory()
        self.boards = []

    def tearDown(self):
        for board in self.boards:
            board.close()
        self.directory.cleanup()

    def board(self, name, image, *args):
        board = Board(self.directory.name, name, image, *args)
        self.boards.append(board)
        return board

    def path(self, name):
        return os.path.join(self.directory.name, name)

    def program(self, client, address, data):
        client.write_flash(address, data)  # raises HostError on any refusal
        self.assertEqual(client.read_flash(address, 256), data[:256])

    def test_a_running_loader_migrates_with_its_flash_and_clock(self):
        source_image, destination_image = self.path("source.img"), self.path("destination.img")
        write_random_image(source_image, FLASH_SIZE)
        with open(destination_image, "wb") as f:
            f.write(b"\xff" * FLASH_SIZE)
        source = self.board("source", source_image)
        client = host.boot_loader(source.open_port(), loader_image())
        data = os.urandom(4096)
        self.program(client, 0x3000, data)
        socket_path = self.path("migration.sock")
        destination = self.board("destination", destination_image,
                                 "-incoming", "unix:" + socket_path)
        destination_port = destination.open_port()
        source.qmp.command("migrate", {"uri": "unix:" + socket_path})
        self.assertEqual(source.qmp.wait_migration()["status"], "completed")
        self.assertEqual(destination.qmp.poll_migration()["status"], "completed")
        self.assertEqual(destination.qmp.status(), "running")
        self.assertEqual(source.qmp.status(), "postmigrate")
        # The loader goes on answering on the destination's line.
        moved = host.LoaderClient(destination_port)
        moved.ping()
        self.assertEqual(moved.flash_info(), FLASH_SIZE)
        self.assertEqual(moved.read_flash(0x3000, 256), data[:256])
        # The whole flash came along and reached the destination's file.
        expected = bytearray(read_file(source_image))
        self.assertEqual(expected[0x3000:0x4000], data)
        deadline = time.monotonic() + 10
        while read_file(destination_image) != expected and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(read_file(destination_image), bytes(expected))
        # The paced clock and the watchdog go on: left idle, the loader is
        # reset back into the boot ROM after about 2.5 s, not at once.
        idle_since = time.monotonic()
        host.wait_for_stx(destination_port, 10)
        idle = time.monotonic() - idle_since
        self.assertGreater(idle, 1.5)
        self.assertLess(idle, 6)

    def test_loadvm_brings_back_the_flash_of_the_snapshot(self):
        image = self.path("flash.img")
        write_random_image(image, FLASH_SIZE)
        board = self.board("vm", image)
        client = host.boot_loader(board.open_port(), loader_image())
        first, second = os.urandom(4096), os.urandom(4096)
        self.program(client, 0x8000, first)
        self.assertIn("", board.qmp.command("human-monitor-command",
                                            {"command-line": "savevm loaded"}))
        self.assertTrue(os.path.isdir(image + ".snapshots"))
        self.program(client, 0x8000, second)
        self.assertEqual(client.read_flash(0x8000, 256), second[:256])
        output = board.qmp.command("human-monitor-command", {"command-line": "loadvm loaded"})
        self.assertEqual(output.strip(), "")
        # The loader was running when saved: it runs on, with the old flash.
        board.port.flush_input()
        client.ping()
        self.assertEqual(client.read_flash(0x8000, 256), first[:256])
        deadline = time.monotonic() + 10
        while read_file(image)[0x8000:0x9000] != first and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(read_file(image)[0x8000:0x9000], first)


if __name__ == "__main__":
    unittest.main()
