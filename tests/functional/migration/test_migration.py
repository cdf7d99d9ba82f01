"""Live migration between real cr16-system processes, driven through the
human monitor on UNIX sockets: a guest running the default firmware's
`count` moves over every transport and its count goes on at the
destination with no gap and no repeat, while the CRC the firmware computes
of a region filled before migration stays the same; migration between two
network namespaces over TCP and TLS (and TLS refusals); zero-copy multifd
where net.core.optmem_max is tiny; cancels in setup, active and device; a
destination killed mid-stream; a truncated file; a destination that refuses
the stream exits non-zero with the reason."""
import os
import random
import re
import signal
import socket
import tempfile
import threading
import time
import unittest

import migration_harness as m

FILL_ADDRESS = 0x10000
FILL_LENGTH = 65536
BIG_FILL = 4 << 20
COUNT = 300  # 3 s at 100 Hz
# A guest without firmware (tests/functional/snapshot): a loop at 0 that
# counts in the word at 0x8000.
COUNTING_LOOP = bytes([0x04, 0x5a, 0x14, 0x32, 0x40, 0xc9, 0x00, 0x80, 0xed, 0x1f])


class Migration(unittest.TestCase):
    def setUp(self):
        self.directory = tempfile.TemporaryDirectory()
        self.dir = self.directory.name
        self.vms = []
        self.namespaces = m.Namespaces()

    def tearDown(self):
        for vm in self.vms:
            vm.close()
        self.namespaces.close()
        self.directory.cleanup()

    def vm(self, name, args=(), ram="4M", **kwargs):
        vm = m.Vm(self.dir, name, args, ram, **kwargs)
        self.vms.append(vm)
        return vm

    def path(self, name):
        return os.path.join(self.dir, name)

    # ---- the scenario every transport runs

    def start_counting(self, source, length=FILL_LENGTH):
        """Boots, fills a region of `length` bytes with pseudo-random bytes
        (pages of one repeated byte cost nothing to send, so the length is
        what sets a migration's volume), starts `count`; returns the CRC of
        the region and the console bytes of the count so far."""
        source.console.expect(m.PROMPT)
        self.assertIn("filled", source.shell("fill 0x%x %d 7" % (FILL_ADDRESS, length), timeout=60))
        crc = source.crc(FILL_ADDRESS, length)
        source.console.send("count %d\r" % COUNT)
        source.console.expect("count %d\r\n" % COUNT)
        counted = source.console.expect("\r\n20\r\n").encode()
        return crc, counted

    def finish_counting(self, source, destination, crc, counted):
        """After a completed migration: the source is postmigrate and quiet,
        the destination runs and finishes the count, and the filled region
        has the same CRC there."""
        self.assertEqual(source.monitor.status(), "postmigrate")
        counted += source.drain(0.3)
        self.assertEqual(source.drain(0.3), b"", "a migrated source must not run on")
        rest = destination.console.expect(m.PROMPT, timeout=COUNT / 100 + 20).encode()
        numbers = m.count_lines(counted + rest)
        self.assertEqual(numbers, list(range(1, COUNT + 1)),
                         "the count must go on with no gap and no repeat")
        self.assertLess(len(m.count_lines(counted)), COUNT, "the migration came too late")
        self.assertEqual(destination.monitor.status(), "running")
        self.assertEqual(destination.crc(FILL_ADDRESS, FILL_LENGTH), crc)

    def migrate(self, source, uri):
        self.assertEqual(source.hmp("migrate -d " + uri), "")
        info = source.monitor.wait_migration()
        self.assertEqual(info["Migration status"], "completed", info)
        return info

    def listening_address(self, destination):
        info = destination.monitor.migration()
        return info["socket address"]

    # ---- every transport

    def test_count_goes_on_over_tcp(self):
        destination = self.vm("dst", ["-incoming", "tcp:127.0.0.1:0"])
        self.assertEqual(destination.monitor.status(), "inmigrate")
        source = self.vm("src")
        crc, counted = self.start_counting(source)
        info = self.migrate(source, self.listening_address(destination))
        self.assertGreater(int(info["dirty sync count"]), 0)
        self.finish_counting(source, destination, crc, counted)

    def test_count_goes_on_over_unix(self):
        uri = "unix:" + self.path("migration.sock")
        destination = self.vm("dst", ["-incoming", uri])
        destination.monitor.status()  # listening once the monitor answers
        source = self.vm("src")
        crc, counted = self.start_counting(source)
        self.migrate(source, uri)
        self.finish_counting(source, destination, crc, counted)

    def test_count_goes_on_through_exec(self):
        stream = self.path("vm.mig")
        source = self.vm("src")
        crc, counted = self.start_counting(source)
        self.migrate(source, "exec:cat > " + stream)
        destination = self.vm("dst", ["-incoming", "exec:cat " + stream])
        self.finish_counting(source, destination, crc, counted)

    def test_count_goes_on_through_a_file_at_an_offset(self):
        stream = self.path("vm.mig")
        with open(stream, "wb") as f:
            f.write(b"my header" + bytes(4096 - 9))
        source = self.vm("src")
        crc, counted = self.start_counting(source)
        self.migrate(source, "file:%s,offset=4096" % stream)
        with open(stream, "rb") as f:
            self.assertTrue(f.read(9) == b"my header", "the bytes before the offset stay")
        destination = self.vm("dst", ["-incoming", "file:%s,offset=4096" % stream])
        self.finish_counting(source, destination, crc, counted)

    def test_count_goes_on_over_inherited_fds(self):
        left, right = socket.socketpair()
        source_fd, destination_fd = left.fileno(), right.fileno()
        destination = self.vm("dst", ["-incoming", "fd:%d" % destination_fd],
                              pass_fds=[destination_fd])
        source = self.vm("src", pass_fds=[source_fd])
        left.close()
        right.close()
        crc, counted = self.start_counting(source)
        self.migrate(source, "fd:%d" % source_fd)
        self.finish_counting(source, destination, crc, counted)

    def test_incoming_defer_then_migrate_incoming(self):
        destination = self.vm("dst", ["-incoming", "defer"])
        self.assertEqual(destination.monitor.status(), "inmigrate")
        self.assertIn("needs a URI", destination.hmp("migrate_incoming defer"))
        uri = "unix:" + self.path("deferred.sock")
        self.assertEqual(destination.hmp("migrate_incoming " + uri), "")
        self.assertIn("already started", destination.hmp("migrate_incoming " + uri))
        source = self.vm("src")
        crc, counted = self.start_counting(source)
        self.assertIn("waits for an incoming migration", destination.hmp("migrate -d " + uri))
        self.migrate(source, uri)
        self.finish_counting(source, destination, crc, counted)

    def test_multifd_with_zero_copy_over_tcp(self):
        destination = self.vm("dst", ["-incoming", "tcp:127.0.0.1:0"])
        source = self.vm("src")
        crc, counted = self.start_counting(source)
        for line in ("migrate_set_capability multifd on",
                     "migrate_set_capability zero-copy-send on",
                     "migrate_set_parameter multifd-channels 3"):
            self.assertEqual(source.hmp(line), "")
        info = self.migrate(source, self.listening_address(destination))
        self.assertGreater(int(info["multifd bytes"].split()[0]), 0)
        self.assertGreater(int(info["zero-copy sends"]), 0)
        self.finish_counting(source, destination, crc, counted)

    def test_flash_reaches_the_destinations_pflash_file_and_dash_s_waits(self):
        # The source's flash: a pattern in its last sector (the firmware
        # goes over the start); the destination's file starts erased.
        pattern = bytes((i * 7 + 3) & 0xFF for i in range(4096))
        source_image = self.path("src-flash.img")
        with open(source_image, "wb") as f:
            f.write(b"\xff" * (1024 * 1024 - 4096) + pattern)
        destination_image = self.path("dst-flash.img")
        stream = self.path("vm.mig")
        source = self.vm("src", ["-drive", "if=pflash,file=%s" % source_image])
        source.console.expect(m.PROMPT)
        self.migrate(source, "file:" + stream)
        destination = self.vm("dst", ["-drive", "if=pflash,file=%s,create=on" % destination_image,
                                      "-S", "-incoming", "file:" + stream])
        deadline = time.monotonic() + 20
        while destination.monitor.status() == "inmigrate" and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertEqual(destination.monitor.status(), "paused", "-S keeps it paused")
        self.assertEqual(destination.hmp("cont"), "")
        self.assertEqual(destination.shell("echo moved"), "moved\n")
        destination.hmp("quit")
        self.assertEqual(destination.wait(), 0)
        with open(destination_image, "rb") as f:
            contents = f.read()
        self.assertEqual(len(contents), 1024 * 1024)
        self.assertEqual(contents[-4096:], pattern, "the loaded flash reached the pflash file")

    # ---- refusals and failures leave the source running

    def assert_source_runs_on(self, source, crc, length=FILL_LENGTH):
        """The source runs (its count goes on) and its memory is intact."""
        self.assertEqual(source.monitor.status(), "running")
        before = m.count_lines(source.drain(0.05))
        source.console.expect("\r\n", timeout=5)
        source.console.send("\x03")  # stop the count
        source.console.expect(m.PROMPT, timeout=10)
        self.assertEqual(source.crc(FILL_ADDRESS, length), crc)

    def test_cancel_during_setup(self):
        creds = m.make_credentials(self.path("creds"))
        if creds is None:
            self.skipTest("openssl is not installed")
        silent = socket.socket(socket.AF_UNIX)
        silent.bind(self.path("silent.sock"))
        silent.listen(1)  # accepts (the kernel does) and never answers the handshake
        source = self.vm("src", ["-object", "tls-creds-x509,id=tls0,dir=%s/client,"
                                 "endpoint=client" % creds])
        crc, _ = self.start_counting(source)
        self.assertEqual(source.hmp("migrate_set_parameter tls-creds tls0"), "")
        self.assertEqual(source.hmp("migrate_set_parameter tls-hostname localhost"), "")
        source.hmp("migrate -d unix:" + self.path("silent.sock"))
        time.sleep(0.2)
        self.assertEqual(source.monitor.migration()["Migration status"], "setup")
        self.assertEqual(source.hmp("migrate_cancel"), "")
        self.assertEqual(source.monitor.wait_migration()["Migration status"], "cancelled")
        self.assert_source_runs_on(source, crc)
        silent.close()

    def test_cancel_while_active(self):
        destination = self.vm("dst", ["-incoming", "tcp:127.0.0.1:0"], ram="14M")
        source = self.vm("src", ram="14M")
        crc, _ = self.start_counting(source, BIG_FILL)  # 4 s at 1 MiB/s
        self.assertEqual(source.hmp("migrate_set_parameter max-bandwidth 1M"), "")
        source.hmp("migrate -d " + self.listening_address(destination))
        source.monitor.wait_migration(("active",))
        time.sleep(0.3)
        info = source.monitor.migration()
        self.assertEqual(info["Migration status"], "active")
        self.assertEqual(source.hmp("migrate_cancel"), "")
        self.assertEqual(source.monitor.wait_migration()["Migration status"], "cancelled")
        self.assert_source_runs_on(source, crc, BIG_FILL)
        self.assertNotEqual(destination.wait(), 0, "the destination saw a cut stream")
        self.assertIn("incoming migration failed", destination.stderr())

    def test_cancel_in_the_device_phase(self):
        # A destination played by the test: it takes the first pass, then
        # stops reading, so the last pass (the guest rewrites 8 MiB) stalls
        # with the VM stopped.
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(self.path("stall.sock"))
        listener.listen(1)
        source = self.vm("src", ram="14M")
        source.console.expect(m.PROMPT)
        self.assertIn("filled", source.shell("fill 0x900000 65536 3"))
        crc = source.crc(0x900000, 65536)
        source.console.send("dirty 8192\r")
        source.console.expect("until a key is pressed")
        self.assertEqual(source.hmp("migrate_set_parameter downtime-limit 2000000"), "")
        self.assertEqual(source.hmp("migrate_set_parameter max-bandwidth 10G"), "")
        source.hmp("migrate -d unix:" + self.path("stall.sock"))
        connection, _ = listener.accept()
        m.read_until_end_of_pass(connection)
        connection.sendall(bytes([m.PASS_ACKNOWLEDGEMENT]))  # the source waits for it
        info = source.monitor.wait_migration(("device",))
        self.assertEqual(source.monitor.status(), "finish-migrate")
        self.assertIn("last pass", source.hmp("cont"))
        time.sleep(0.2)
        self.assertEqual(source.monitor.migration()["Migration status"], "device")
        self.assertEqual(source.hmp("migrate_cancel"), "")
        self.assertEqual(source.monitor.wait_migration()["Migration status"], "cancelled")
        self.assertEqual(source.monitor.status(), "running")
        source.console.send("x")  # the guest runs again: `dirty` sees the key
        source.console.expect("dirty: stopped after")
        source.console.expect(m.PROMPT)
        self.assertEqual(source.crc(0x900000, 65536), crc)
        connection.close()
        listener.close()

    def test_destination_killed_mid_stream(self):
        destination = self.vm("dst", ["-incoming", "tcp:127.0.0.1:0"], ram="14M")
        source = self.vm("src", ram="14M")
        crc, _ = self.start_counting(source, BIG_FILL)  # 2 s at 2 MiB/s
        self.assertEqual(source.hmp("migrate_set_parameter max-bandwidth 2M"), "")
        source.hmp("migrate -d " + self.listening_address(destination))
        source.monitor.wait_migration(("active",))
        time.sleep(0.3)
        destination.process.send_signal(signal.SIGKILL)
        info = source.monitor.wait_migration()
        self.assertEqual(info["Migration status"], "failed", info)
        self.assertIn("Error", source.hmp("info migrate"))
        self.assert_source_runs_on(source, crc, BIG_FILL)

    def test_a_truncated_file_is_refused_and_the_destination_exits_with_the_reason(self):
        stream = self.path("vm.mig")
        source = self.vm("src")
        source.console.expect(m.PROMPT)
        self.migrate(source, "file:" + stream)
        os.truncate(stream, os.path.getsize(stream) - 1000)
        destination = self.vm("dst", ["-incoming", "file:" + stream])
        self.assertEqual(destination.wait(), 1)
        error = destination.stderr()
        self.assertRegex(error, r"cr16-system: incoming migration failed: truncated: the stream ends inside a "
                         r"(page )?record at offset \d+")

    def test_a_destination_with_other_ram_refuses_and_the_source_runs_on(self):
        destination = self.vm("dst", ["-incoming", "tcp:127.0.0.1:0"], ram="2M")
        address = self.listening_address(destination)
        source = self.vm("src", ram="4M")
        crc, _ = self.start_counting(source)
        source.hmp("migrate -d " + address)
        info = source.monitor.wait_migration()
        self.assertEqual(info["Migration status"], "failed", info)
        self.assertEqual(destination.wait(), 1)
        self.assertIn("RAM block 'ram' is 4194304 bytes at 0x000000 in the stream, 2097152 bytes",
                      destination.stderr())
        self.assert_source_runs_on(source, crc)

    # ---- between hosts: two network namespaces and a veth pair

    def two_hosts(self):
        if self.namespaces.skip_reason:
            self.skipTest(self.namespaces.skip_reason)
        first = self.namespaces.add("mig-src")
        second = self.namespaces.add("mig-dst") if first else None
        if not second or not self.namespaces.veth(first, "10.77.0.1", second, "10.77.0.2"):
            self.skipTest(self.namespaces.skip_reason)
        return first, second

    def test_between_hosts_over_tcp_then_tls(self):
        first, second = self.two_hosts()
        creds = m.make_credentials(self.path("creds"), names=("localhost",),
                                   addresses=("10.77.0.2",))
        other = m.make_credentials(self.path("other"))
        if creds is None:
            self.skipTest("openssl is not installed")
        # Plain TCP.
        destination = self.vm("dst1", ["-incoming", "tcp:10.77.0.2:4455"],
                              wrapper=self.namespaces.wrapper(second))
        destination.monitor.status()
        source = self.vm("src1", wrapper=self.namespaces.wrapper(first))
        crc, counted = self.start_counting(source)
        self.migrate(source, "tcp:10.77.0.2:4455")
        self.finish_counting(source, destination, crc, counted)

        def tls_pair(tag, client_dir, verify="on"):
            destination = self.vm(
                "dst" + tag, ["-object", "tls-creds-x509,id=tls0,dir=%s/server,endpoint=server,"
                              "verify-peer=%s" % (creds, verify), "-incoming", "defer"],
                wrapper=self.namespaces.wrapper(second))
            self.assertEqual(destination.hmp("migrate_set_parameter tls-creds tls0"), "")
            self.assertEqual(destination.hmp("migrate_incoming tcp:10.77.0.2:4456"), "")
            source = self.vm("src" + tag, ["-object", "tls-creds-x509,id=tls0,dir=%s,"
                                           "endpoint=client" % client_dir],
                             wrapper=self.namespaces.wrapper(first))
            self.assertEqual(source.hmp("migrate_set_parameter tls-creds tls0"), "")
            return source, destination

        # TLS, verified both ways.
        source, destination = tls_pair("2", creds + "/client")
        crc, counted = self.start_counting(source)
        self.migrate(source, "tcp:10.77.0.2:4456")
        self.finish_counting(source, destination, crc, counted)

        # A client that trusts another CA: refused, the source runs on.
        source, destination = tls_pair("3", other + "/client")
        crc, _ = self.start_counting(source)
        source.hmp("migrate -d tcp:10.77.0.2:4456")
        info = source.monitor.wait_migration()
        self.assertEqual(info["Migration status"], "failed", info)
        self.assertIn("TLS handshake", info.get("Error", ""))
        self.assertEqual(destination.wait(), 1)
        self.assert_source_runs_on(source, crc)

        # A client without a certificate, for a server that wants one.
        source, destination = tls_pair("4", creds + "/client-no-cert")
        crc, _ = self.start_counting(source)
        source.hmp("migrate -d tcp:10.77.0.2:4456")
        info = source.monitor.wait_migration()
        self.assertEqual(info["Migration status"], "failed", info)
        self.assertEqual(destination.wait(), 1)
        self.assertIn("TLS", destination.stderr())
        self.assert_source_runs_on(source, crc)

    # ---- zero-copy where optmem is tiny

    def test_zero_copy_multifd_recovers_from_enobufs_with_tiny_optmem(self):
        if self.namespaces.skip_reason:
            self.skipTest(self.namespaces.skip_reason)
        namespace = self.namespaces.add("mig-zc")
        if namespace is None or not self.namespaces.sysctl(namespace, "net.core.optmem_max", 4096):
            self.skipTest(self.namespaces.skip_reason)
        wrapper = self.namespaces.wrapper(namespace)
        # A raw -kernel guest (a counting loop, then RAM where random pages
        # alternate with zero pages): each zero-copy send gathers hundreds of
        # separate 4 KiB pieces, and with an optmem this small the kernel
        # refuses some of them with ENOBUFS (every run here: 2 of 15).
        data = bytearray(14 << 20)
        rng = random.Random(5)
        for page in range(16, len(data) // 4096, 2):
            data[page * 4096:(page + 1) * 4096] = rng.randbytes(4096)
        data[0:len(COUNTING_LOOP)] = COUNTING_LOOP
        image = self.path("guest.img")
        with open(image, "wb") as f:
            f.write(data)
        destination = self.vm("dst", ["-incoming", "tcp:127.0.0.1:4457"], ram="14M",
                              wrapper=wrapper)
        destination.monitor.status()
        source = self.vm("src", ["-kernel", image], ram="14M", wrapper=wrapper)
        for line in ("migrate_set_capability multifd on",
                     "migrate_set_capability zero-copy-send on",
                     "migrate_set_parameter max-bandwidth 10G"):
            self.assertEqual(source.hmp(line), "")
        info = self.migrate(source, "tcp:127.0.0.1:4457")
        print("zero-copy: %s sends, %s ENOBUFS recovered" % (info["zero-copy sends"],
                                                            info["zero-copy enobufs recovered"]))
        self.assertGreater(int(info["zero-copy enobufs recovered"]), 0, info)
        self.assertEqual(info["zero-copy enobufs"], info["zero-copy enobufs recovered"])
        self.assertEqual(destination.monitor.status(), "running")
        for address in (0x10000, 0x12000, 0x7FE000, 0xDFE000):
            self.assertEqual(m.read_memory(destination, address, 16), bytes(data[address:address + 16]))


if __name__ == "__main__":
    unittest.main()
