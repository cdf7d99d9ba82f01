"""Snapshots in real cr16-system processes, driven through the human
monitor on a unix socket and the default firmware's shell on the serial
console: savevm, a change, loadvm restoring it (the firmware's `sum` CRC);
-loadvm at start-up; delvm and info snapshots; damaged snapshots refused
with the VM untouched; power cuts (kill -9) at every step of a savevm and
at random moments, after which older snapshots still load and no
half-written one is visible; pages shared between ten snapshots of a 14 MiB
guest; loadvm writing the flash back to the pflash image; -snapshot leaving
the image byte for byte as it was; QMP's snapshot jobs with their events,
and migrate refused while one runs."""
import glob
import hashlib
import json
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "cli"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "qmp"))
import cr16_harness as h  # noqa: E402
from qmp_client import QmpClient  # noqa: E402

PROMPT = "cr16> "
MONITOR = "(cr16) "
FREE_RAM = 0x10000  # the firmware's RAM ends below; the rest is the shell's
FLASH_SIZE = 1 << 20
# movw $0, r4 / loop: addw $1, r4 / storw r4, 0x8000 / br loop   (cr16-elf-as)
COUNTING_LOOP = bytes([0x04, 0x5a, 0x14, 0x32, 0x40, 0xc9, 0x00, 0x80, 0xed, 0x1f])
COUNTER = 0x8000


def fill_pattern(seed, length):
    """The firmware's `fill` bytes (roms/README.md)."""
    s, out = seed or 1, bytearray()
    for _ in range(length):
        s ^= (s << 13) & 0xFFFFFFFF
        s ^= s >> 17
        s ^= (s << 5) & 0xFFFFFFFF
        out.append(s & 0xFF)
    return bytes(out)


def store_bytes(store):
    """Bytes of every manifest and pack in a store."""
    total = 0
    for path in glob.glob(os.path.join(store, "manifests", "*.snap")) + \
            glob.glob(os.path.join(store, "packs", "*.pack")):
        total += os.path.getsize(path)
    return total


def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class Vm:
    """A cr16-system with the serial console on pipes and the human
    monitor on a unix socket."""

    def __init__(self, directory, args, env=None, name="vm"):
        self.socket_path = os.path.join(directory, name + ".sock")
        if os.path.exists(self.socket_path):
            os.unlink(self.socket_path)
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.process = subprocess.Popen(
            [h.BINARY, "-monitor", "unix:%s,server=on,wait=off" % self.socket_path,
             "-serial", "stdio"] + list(args),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=full_env)
        self.serial = h.Console(self.process, self.process.stdout.fileno(),
                                self.process.stdin.fileno())
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.connect(self.socket_path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if self.process.poll() is not None:
                    raise AssertionError("cr16-system exited (%s): %s" % (
                        self.process.returncode, self.process.stderr.read().decode()))
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        self.client = client
        self.monitor = h.Console(self.process, client.fileno(), client.fileno(), strip_cr=True)
        self.monitor.expect(MONITOR)

    def shell(self, line, timeout=60):
        """Runs a firmware shell command; returns its output."""
        return self.serial.run(line, PROMPT, timeout)

    def crc(self, address, length):
        text = self.shell("sum 0x%x %d" % (address, length))
        return int(text.split()[1], 16)

    def hmp(self, line, timeout=60):
        """Runs a monitor command; returns its output."""
        self.monitor.send(line + "\r")
        self.monitor.expect(line + "\n", timeout)
        return self.monitor.expect(MONITOR, timeout)[:-len(MONITOR)]

    def quit(self):
        self.monitor.send("quit\r")
        status = self.process.wait(timeout=30)
        self.close()
        return status

    def close(self):
        h.stop(self.process)
        self.client.close()


class Snapshot(unittest.TestCase):
    def setUp(self):
        self.directory = tempfile.mkdtemp(prefix="cr16-snapshot-test-")
        self.image = os.path.join(self.directory, "flash.img")
        self.store = self.image + ".snapshots"
        self.vms = []

    def tearDown(self):
        for vm in self.vms:
            vm.close()
        shutil.rmtree(self.directory, ignore_errors=True)

    def start(self, *args, env=None, ram="2M"):
        vm = Vm(self.directory, ["-m", ram, "-drive", "if=pflash,file=%s,create=on" % self.image]
                + list(args), env=env)
        self.vms.append(vm)
        return vm

    def boot(self, *args, **kwargs):
        vm = self.start(*args, **kwargs)
        vm.serial.expect(PROMPT)
        return vm

    def fill(self, vm, seed, length=65536, address=FREE_RAM, check=True):
        """Fills guest memory with the firmware; returns the guest's CRC of
        it (checked against the pattern unless it is too long for Python)."""
        self.assertEqual(vm.shell("fill 0x%x %d %d" % (address, length, seed)),
                         "filled %d bytes at 0x%06x\n" % (length, address))
        crc = vm.crc(address, length)
        if check:
            self.assertEqual(crc, zlib.crc32(fill_pattern(seed, length)))
        return crc

    # ---- savevm, loadvm, delvm, info snapshots

    def test_savevm_then_a_change_then_loadvm_restores_memory(self):
        vm = self.boot()
        saved = self.fill(vm, 1)
        self.assertEqual(vm.hmp("savevm first"), "")
        changed = self.fill(vm, 2)
        self.assertNotEqual(changed, saved)
        self.assertEqual(vm.hmp("loadvm first"), "")
        self.assertEqual(vm.hmp("info status"), "VM status: running\n")
        self.assertEqual(vm.crc(FREE_RAM, 65536), saved)
        # The shell still works from where the snapshot left it.
        self.assertEqual(vm.shell("echo still here"), "still here\n")
        self.assertEqual(vm.quit(), 0)

    def test_loadvm_at_start_up_restores_the_saved_machine(self):
        vm = self.boot()
        saved = self.fill(vm, 3)
        self.assertEqual(vm.hmp("savevm boot"), "")
        self.assertEqual(vm.quit(), 0)
        again = self.start("-loadvm", "boot")
        # No banner: the machine continues at the shell prompt it was saved at.
        self.assertEqual(again.crc(FREE_RAM, 65536), saved)
        self.assertNotIn("virt-firmware", again.serial.output.decode())
        self.assertEqual(again.quit(), 0)
        missing = subprocess.run([h.BINARY, "-m", "2M", "-drive", "if=pflash,file=%s" % self.image,
                                  "-loadvm", "nope", "-serial", "null", "-monitor", "none"],
                                 capture_output=True, timeout=30)
        self.assertEqual(missing.returncode, 1)
        self.assertIn(b"-loadvm: snapshot 'nope' not found", missing.stderr)

    def test_delvm_and_info_snapshots(self):
        vm = self.boot()
        self.fill(vm, 1)
        self.assertEqual(vm.hmp("savevm one"), "")
        self.fill(vm, 2)
        self.assertEqual(vm.hmp("savevm two"), "")
        listing = vm.hmp("info snapshots")
        self.assertIn("List of snapshots in %s:\n" % self.store, listing)
        self.assertRegex(listing, r"\n1 +one +\d+(\.\d+)? [KM]iB \d{4}-\d\d-\d\d \d\d:\d\d:\d\d "
                                  r"+\d\d:\d\d:\d\d\.\d\d\d\n")
        self.assertRegex(listing, r"\n2 +two ")
        self.assertEqual(vm.hmp("delvm one"), "")
        listing = vm.hmp("info snapshots")
        self.assertNotIn(" one ", listing)
        self.assertIn(" two ", listing)
        self.assertEqual(vm.hmp("loadvm one"), "Error: snapshot 'one' not found\n")
        self.assertEqual(vm.hmp("delvm 2"), "")  # by id
        self.assertEqual(vm.hmp("info snapshots"), "There is no snapshot available.\n")
        self.assertEqual(glob.glob(os.path.join(self.store, "packs", "*.pack")), [])
        self.assertEqual(vm.quit(), 0)

    def test_without_a_flash_image_or_directory_snapshots_are_refused_clearly(self):
        vm = Vm(self.directory, [])
        self.vms.append(vm)
        vm.serial.expect(PROMPT)
        self.assertEqual(vm.hmp("savevm x"),
                         "Error: no place for snapshots: give the machine a flash image "
                         "(-pflash FILE) or a snapshot directory (-snapshot-dir DIR)\n")
        self.assertEqual(vm.quit(), 0)
        # -snapshot-dir alone is enough.
        elsewhere = os.path.join(self.directory, "elsewhere")
        vm = Vm(self.directory, ["-snapshot-dir", elsewhere], name="vm2")
        self.vms.append(vm)
        vm.serial.expect(PROMPT)
        self.assertEqual(vm.hmp("savevm x"), "")
        self.assertTrue(os.path.exists(os.path.join(elsewhere, "manifests", "x.snap")))
        self.assertEqual(vm.quit(), 0)

    # ---- damaged snapshots

    def test_a_damaged_snapshot_is_refused_and_the_vm_runs_on_untouched(self):
        vm = self.boot()
        saved = self.fill(vm, 1)
        self.assertEqual(vm.hmp("savevm good"), "")
        changed = self.fill(vm, 2)
        # Damage the stored copy of the first filled page: loading needs it,
        # since the VM's own page changed.
        page = fill_pattern(1, 4096)
        [pack] = glob.glob(os.path.join(self.store, "packs", "*.pack"))
        with open(pack, "r+b") as f:
            data = f.read()
            offset = data.index(page)
            f.seek(offset + 100)
            f.write(bytes([data[offset + 100] ^ 0xFF]))
        reply = vm.hmp("loadvm good")
        self.assertRegex(reply, r"^Error: snapshot 'good': page 16 of block 'ram' is damaged in "
                                r"pack 'pack-[0-9a-f]+\.pack' \(SHA-256 mismatch\)\n$")
        self.assertEqual(vm.hmp("info status"), "VM status: running\n")
        self.assertEqual(vm.crc(FREE_RAM, 65536), changed)
        # A damaged manifest too.
        manifest = os.path.join(self.store, "manifests", "good.snap")
        with open(manifest, "r+b") as f:
            f.seek(40)
            byte = f.read(1)
            f.seek(40)
            f.write(bytes([byte[0] ^ 1]))
        self.assertEqual(vm.hmp("loadvm good"),
                         "Error: snapshot 'good': the manifest is damaged (SHA-256 mismatch)\n")
        # A truncated manifest.
        with open(manifest, "r+b") as f:
            f.truncate(100)
        self.assertIn("Error: snapshot 'good'", vm.hmp("loadvm good"))
        self.assertIn("(cannot be used: snapshot 'good'", vm.hmp("info snapshots"))
        self.assertEqual(vm.crc(FREE_RAM, 65536), changed)
        self.assertEqual(vm.shell("echo alive"), "alive\n")
        self.assertNotEqual(saved, changed)
        self.assertEqual(vm.quit(), 0)

    # ---- power cuts

    def crash_during_savevm(self, point, name):
        """Saves `name` in a VM that kills itself with SIGKILL at `point`."""
        vm = self.boot(env={"CR16_SNAPSHOT_CRASH_AT": point})
        self.fill(vm, 2)
        vm.monitor.send("savevm %s\r" % name)
        self.assertEqual(vm.process.wait(timeout=30), -signal.SIGKILL)
        vm.close()

    def test_a_power_cut_at_every_step_of_savevm_loses_nothing(self):
        cases = [
            # (crash point, name saved, is the new snapshot visible afterwards?)
            ("pack:half-written", "new", False),
            ("pack:before-sync", "new", False),
            ("pack:before-rename", "new", False),
            ("manifest:half-written", "new", False),
            ("manifest:before-sync", "new", False),
            ("manifest:before-rename", "new", False),
            ("manifest:before-directory-sync", "new", True),
            # Replacing the old snapshot: it stays whole until the new one is.
            ("manifest:half-written", "old", False),
            ("manifest:before-rename", "old", False),
        ]
        for point, name, visible in cases:
            with self.subTest(point=point, name=name):
                shutil.rmtree(self.store, ignore_errors=True)
                vm = self.boot()
                old = self.fill(vm, 1)
                self.assertEqual(vm.hmp("savevm old"), "")
                self.assertEqual(vm.quit(), 0)
                self.vms.remove(vm)

                self.crash_during_savevm(point, name)
                self.vms.pop()

                vm = self.start("-loadvm", "old")
                self.assertEqual(vm.crc(FREE_RAM, 65536), old)
                listing = vm.hmp("info snapshots")
                self.assertNotIn("cannot be used", listing)
                if name == "new":
                    self.assertEqual(" new " in listing, visible, listing)
                    if visible:
                        self.assertEqual(vm.hmp("loadvm new"), "")
                        self.assertEqual(vm.crc(FREE_RAM, 65536),
                                         zlib.crc32(fill_pattern(2, 65536)))
                # The next save cleans up what the crash left behind.
                self.assertEqual(vm.hmp("savevm later"), "")
                leftovers = [n for d in ("manifests", "packs")
                             for n in os.listdir(os.path.join(self.store, d))
                             if n.startswith(".tmp-")]
                self.assertEqual(leftovers, [])
                self.assertEqual(vm.quit(), 0)
                self.vms.remove(vm)

    # ---- guests made of random RAM (no firmware: fast under sanitizers too)

    def counting_guest(self, name, ram_mib, seed):
        """A raw -kernel image as large as RAM: a loop at 0 that counts in
        the word at COUNTER, then pseudo-random bytes. Returns (path, bytes)."""
        data = bytearray(random.Random(seed).randbytes(ram_mib << 20))
        data[0:len(COUNTING_LOOP)] = COUNTING_LOOP
        data[COUNTER:COUNTER + 4] = bytes(4)
        path = os.path.join(self.directory, name)
        with open(path, "wb") as f:
            f.write(data)
        return path, bytes(data)

    def start_guest(self, image, ram_mib, *args):
        vm = Vm(self.directory, ["-m", "%dM" % ram_mib, "-kernel", image, "-drive",
                                 "if=pflash,file=%s,create=on" % self.image] + list(args))
        self.vms.append(vm)
        return vm

    def read_words(self, vm, address, count=4):
        text = vm.hmp("xp /%dwx 0x%x" % (count, address))
        return [int(word, 16) for word in re.findall(r"0x([0-9a-f]{8})", text.split(":", 1)[1])]

    def assert_memory(self, vm, data, samples=8):
        """Guest memory equals `data` at a few places (not the counter)."""
        rng = random.Random(len(data))
        for _ in range(samples):
            address = rng.randrange(0x10000, len(data) - 16) & ~3
            self.assertEqual(self.read_words(vm, address),
                             list(struct.unpack("<4I", data[address:address + 16])),
                             "at 0x%x" % address)

    def test_kill_9_at_random_moments_of_savevm_never_shows_half_a_snapshot(self):
        rng = random.Random(1234)
        old_image, old = self.counting_guest("old.bin", 4, 1)
        vm = self.start_guest(old_image, 4)
        self.assertEqual(vm.hmp("savevm old"), "")
        self.assertEqual(vm.quit(), 0)
        self.vms.remove(vm)
        for attempt in range(5):
            new_image, new = self.counting_guest("new.bin", 4, 10 + attempt)
            vm = self.start_guest(new_image, 4)
            vm.monitor.send("savevm new%d\r" % attempt)
            time.sleep(rng.uniform(0, 0.03))
            vm.process.send_signal(signal.SIGKILL)
            vm.process.wait(timeout=30)
            vm.close()
            self.vms.remove(vm)
            vm = self.start_guest(old_image, 4, "-loadvm", "old", "-S")
            self.assert_memory(vm, old)
            listing = vm.hmp("info snapshots")
            self.assertNotIn("cannot be used", listing)
            if " new%d " % attempt in listing:  # finished before the kill: then whole
                self.assertEqual(vm.hmp("loadvm new%d" % attempt), "")
                self.assert_memory(vm, new)
            self.assertEqual(vm.quit(), 0)
            self.vms.remove(vm)

    # ---- page sharing

    def test_ten_snapshots_of_a_14_mib_guest_share_their_unchanged_pages(self):
        image, data = self.counting_guest("guest.bin", 14, 7)
        vm = self.start_guest(image, 14)
        counters = []

        def save(name):
            # Stopped, so the counter read is the one saved; running again
            # after, so the next snapshot differs from this one.
            self.assertEqual(vm.hmp("stop"), "")
            counters.append(self.read_words(vm, COUNTER, 1)[0])
            self.assertEqual(vm.hmp("savevm %s" % name), "")
            self.assertEqual(vm.hmp("cont"), "")

        save("s0")
        one = store_bytes(self.store)
        self.assertGreater(one, 14 * 1024 * 1024)
        for i in range(1, 10):
            time.sleep(0.01)
            save("s%d" % i)
        self.assertEqual(len(set(counters)), 10)  # ten different snapshots
        ten = store_bytes(self.store)
        print("\nstore: one 14 MiB snapshot %.2f MiB, ten %.2f MiB (x%.3f)" %
              (one / 2**20, ten / 2**20, ten / one), file=sys.stderr)
        self.assertLess(ten, one * 1.05)
        # Each still restores its own contents.
        self.assertEqual(vm.hmp("stop"), "")
        for i in (4, 0, 9):
            self.assertEqual(vm.hmp("loadvm s%d" % i), "")
            self.assertEqual(self.read_words(vm, COUNTER, 1)[0], counters[i])
            self.assert_memory(vm, data)
        # Deleting nine frees only what the tenth does not use.
        for i in range(9):
            self.assertEqual(vm.hmp("delvm s%d" % i), "")
        remaining = store_bytes(self.store)
        self.assertLess(remaining, one * 1.02)
        self.assertGreater(remaining, one * 0.95)
        self.assertEqual(vm.hmp("loadvm s9"), "")
        self.assertEqual(self.read_words(vm, COUNTER, 1)[0], counters[9])
        self.assertEqual(vm.hmp("delvm s9"), "")
        self.assertEqual(store_bytes(self.store), 0)
        self.assertEqual(vm.quit(), 0)

    # ---- flash

    def test_loadvm_restores_the_flash_and_writes_it_back_to_the_image(self):
        vm = self.boot()
        self.assertEqual(vm.hmp("savevm flash"), "")
        self.assertEqual(vm.quit(), 0)
        with open(self.image, "rb") as f:
            saved = f.read()
        self.assertEqual(saved[-4096:], b"\xff" * 4096)
        with open(self.image, "r+b") as f:  # the image changes behind the snapshot's back
            f.seek(FLASH_SIZE - 4096)
            f.write(b"\x00" * 4096)
        vm = self.start("-loadvm", "flash")
        self.assertEqual(vm.shell("echo loaded"), "loaded\n")
        self.assertEqual(vm.quit(), 0)
        with open(self.image, "rb") as f:
            self.assertEqual(f.read(), saved)

    def test_dash_snapshot_leaves_the_flash_image_byte_for_byte_as_it_was(self):
        selftest = os.path.join(h.ROMS_DIR, "selftest.bin")
        with open(self.image, "wb") as f:
            f.write(b"\x5a" * FLASH_SIZE)
        before = sha256_file(self.image)
        # The self-test programs and erases the flash's last sector, and
        # -bios writes itself into the first blocks: all into the overlay.
        result = h.run(["-snapshot", "-bios", selftest, "-pflash", self.image,
                        "-serial", "stdio", "-monitor", "none"], timeout=60)
        self.assertEqual(result.returncode, 0, result.stdout.decode(errors="replace"))
        self.assertIn(b"PASS flash", result.stdout)
        self.assertEqual(sha256_file(self.image), before)
        # The same run without -snapshot does change it (the test can tell).
        result = h.run(["-bios", selftest, "-pflash", self.image, "-serial", "stdio",
                        "-monitor", "none"], timeout=60)
        self.assertEqual(result.returncode, 0)
        self.assertNotEqual(sha256_file(self.image), before)

    def test_dash_snapshot_still_saves_and_loads_snapshots(self):
        with open(self.image, "wb") as f:
            f.write(b"\xff" * FLASH_SIZE)
        before = sha256_file(self.image)
        vm = Vm(self.directory, ["-snapshot", "-pflash", self.image])
        self.vms.append(vm)
        vm.serial.expect(PROMPT)
        saved = self.fill(vm, 5)
        self.assertEqual(vm.hmp("savevm s"), "")
        self.fill(vm, 6)
        self.assertEqual(vm.hmp("loadvm s"), "")
        self.assertEqual(vm.crc(FREE_RAM, 65536), saved)
        self.assertEqual(vm.quit(), 0)
        self.assertEqual(sha256_file(self.image), before)

    # ---- QMP: snapshots as jobs

    def start_job(self, qmp, command, job_id, tag):
        arguments = {"job-id": job_id, "tag": tag, "devices": ["pflash0"]}
        if command != "snapshot-delete":
            arguments["vmstate"] = "pflash0"
        self.assertEqual(qmp.command(command, arguments), {})

    def finish_job(self, qmp, job_id, kind, error=None):
        """Waits for a job to conclude (checking its JOB_STATUS_CHANGE
        events and query-jobs), dismisses it; returns the names of the
        other events meanwhile."""
        events = qmp.events_until("JOB_STATUS_CHANGE", lambda data: data["id"] == job_id and
                                  data["status"] == "concluded", timeout=60)
        statuses = [e["data"]["status"] for e in events
                    if e["event"] == "JOB_STATUS_CHANGE" and e["data"]["id"] == job_id]
        self.assertEqual(statuses, ["created", "running", "waiting", "pending", "concluded"]
                         if error is None else ["created", "running", "aborting", "concluded"])
        [job] = [j for j in qmp.command("query-jobs") if j["id"] == job_id]
        self.assertEqual((job["type"], job["status"], job.get("error")), (kind, "concluded", error))
        self.assertEqual(qmp.command("job-dismiss", {"id": job_id}), {})
        qmp.events_until("JOB_STATUS_CHANGE",
                         lambda data: data["id"] == job_id and data["status"] == "null")
        self.assertNotIn(job_id, [j["id"] for j in qmp.command("query-jobs")])
        return [e["event"] for e in events if e["event"] != "JOB_STATUS_CHANGE"]

    def run_job(self, qmp, command, job_id, tag, error=None):
        self.start_job(qmp, command, job_id, tag)
        return self.finish_job(qmp, job_id, command, error)

    def test_snapshot_jobs_over_qmp_and_migrate_refused_while_one_runs(self):
        qmp_path = os.path.join(self.directory, "qmp.sock")
        vm = self.boot("-qmp", "unix:%s,server=on,wait=off" % qmp_path)
        qmp = QmpClient(qmp_path)
        self.addCleanup(qmp.close)
        qmp.negotiate()
        saved = self.fill(vm, 1)
        other = self.run_job(qmp, "snapshot-save", "save0", "one")
        self.assertEqual(other, ["STOP", "RESUME"], "the VM stops while it is captured")
        changed = self.fill(vm, 2)
        self.assertNotEqual(changed, saved)
        self.run_job(qmp, "snapshot-load", "load0", "one")
        self.assertEqual(vm.crc(FREE_RAM, 65536), saved)
        self.assertEqual(qmp.command("query-status")["status"], "running")
        # QMP refuses an existing tag (HMP's savevm replaces it).
        self.run_job(qmp, "snapshot-save", "save1", "one", error="snapshot 'one' already exists")

        # A snapshot-save and a migrate in one write: the migrate comes
        # while the save runs, and is refused.
        qmp.send_raw(json.dumps({"execute": "snapshot-save", "id": "save", "arguments": {
            "job-id": "save2", "tag": "two", "vmstate": "pflash0", "devices": ["pflash0"]}}) +
            "\r\n" + json.dumps({"execute": "migrate", "id": "migrate", "arguments": {
                "uri": "file:" + os.path.join(self.directory, "vm.mig")}}) + "\r\n")
        self.assertEqual(qmp.reply(), {"return": {}, "id": "save"})
        self.assertEqual(qmp.reply(), {"id": "migrate", "error": {
            "class": "GenericError",
            "desc": "a snapshot operation is running: migrate when it ends"}})
        self.finish_job(qmp, "save2", "snapshot-save")
        self.assertEqual(qmp.command("query-migrate"), {}, "no migration started")

        self.run_job(qmp, "snapshot-delete", "delete0", "one")
        manifests = os.path.join(self.store, "manifests")
        self.assertEqual(sorted(os.listdir(manifests)), ["two.snap"])
        self.run_job(qmp, "snapshot-load", "load1", "one", error="snapshot 'one' not found")
        self.assertEqual(vm.crc(FREE_RAM, 65536), saved, "a failed load changes nothing")
        # Once no snapshot operation runs, migrate is accepted.
        self.assertEqual(qmp.command("migrate", {"uri": "file:" + os.path.join(
            self.directory, "vm.mig")}), {})
        qmp.events_until("MIGRATION", lambda data: data["status"] == "completed")
        self.assertEqual(qmp.command("query-status")["status"], "postmigrate")
        self.assertEqual(qmp.command("quit"), {})
        self.assertEqual(vm.process.wait(timeout=30), 0)


if __name__ == "__main__":
    unittest.main()
