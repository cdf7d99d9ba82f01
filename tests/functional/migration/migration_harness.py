"""Helpers for the migration functional tests (Python stdlib only): a
cr16-system VM with its serial console on pipes and QMP (or the human
monitor) on a UNIX socket, firmware shell commands, waiting for a migration
(MIGRATION events), parsing the count the firmware prints, x509 credentials
made with the openssl CLI, and network namespaces joined by a veth pair."""
import itertools
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "cli"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "qmp"))
import cr16_harness as h  # noqa: E402
from qmp_client import QmpClient, QmpError  # noqa: E402

PROMPT = "cr16> "
MONITOR = "(cr16) "
FINAL_STATUSES = ("completed", "failed", "cancelled")


class Monitor:
    """The human monitor of a VM on a UNIX socket."""

    def __init__(self, path, process, timeout=10):
        self.process = process
        self.socket = socket.socket(socket.AF_UNIX)
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.socket.connect(path)
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise AssertionError("no monitor at %s (exit %s)" % (path, process.poll()))
                time.sleep(0.02)
        self.buffer = b""
        self._read_prompt()

    def _read_prompt(self, timeout=20):
        deadline = time.monotonic() + timeout
        marker = MONITOR.encode()
        while marker not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("monitor: no prompt; so far %r" % self.buffer)
            ready, _, _ = select.select([self.socket], [], [], min(remaining, 0.5))
            if ready:
                chunk = self.socket.recv(65536)
                if not chunk:
                    raise AssertionError("monitor closed; so far %r" % self.buffer)
                self.buffer += chunk
        index = self.buffer.index(marker) + len(marker)
        text, self.buffer = self.buffer[:index], self.buffer[index:]
        return text.decode(errors="replace").replace("\r", "")

    def command(self, line, timeout=20):
        """Runs one line; returns what it printed (without echo and prompt)."""
        self.socket.sendall(line.encode() + b"\r")
        text = self._read_prompt(timeout)
        first_newline = text.find("\n")
        return text[first_newline + 1:-len(MONITOR)]

    def status(self):
        """The run state as `info status` words it ("running", "postmigrate", ...)."""
        text = self.command("info status")
        match = re.search(r"VM status: (\w+)(?: \(([\w-]+)\))?", text)
        return match.group(2) or match.group(1)

    def migration(self):
        """`info migrate` as a dict of its lines ("Migration status" -> "completed")."""
        info = {}
        for line in self.command("info migrate").splitlines():
            key, _, value = line.partition(": ")
            info[key] = value
        return info

    def wait_migration(self, statuses=FINAL_STATUSES, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            info = self.migration()
            if info.get("Migration status") in statuses:
                return info
            if time.monotonic() > deadline:
                raise AssertionError("migration still %s" % info)
            time.sleep(0.01)

    def close(self):
        self.socket.close()


class Qmp(QmpClient):
    """A negotiated QMP session with a VM, with the migration commands."""

    def __init__(self, path, timeout=20):
        super().__init__(path, timeout)
        self.negotiate()

    def status(self):
        """The run state ("running", "postmigrate", ...) of query-status."""
        return self.command("query-status")["status"]

    def migration(self):
        return self.command("query-migrate")

    def error(self, command, arguments=None):
        """The error of a command that must fail: {"class", "desc"}."""
        reply = self.request(command, arguments)
        if "error" not in reply:
            raise QmpError("%s did not fail: %r" % (command, reply))
        return reply["error"]

    def set_parameters(self, **parameters):
        """migrate-set-parameters; max_bandwidth=... for max-bandwidth."""
        self.command("migrate-set-parameters",
                     {key.replace("_", "-"): value for key, value in parameters.items()})

    def set_capabilities(self, *names, state=True):
        self.command("migrate-set-capabilities", {"capabilities": [
            {"capability": name, "state": state} for name in names]})

    def wait_migration(self, statuses=FINAL_STATUSES, timeout=60):
        """Waits for a MIGRATION event with one of `statuses` (the events up
        to it are consumed); returns query-migrate."""
        self.events_until("MIGRATION", lambda data: data["status"] in statuses, timeout)
        return self.migration()

    def poll_migration(self, statuses=FINAL_STATUSES, timeout=60):
        """Polls query-migrate until its status is one of `statuses` (for a
        destination whose events may have gone before it was connected)."""
        deadline = time.monotonic() + timeout
        while True:
            info = self.migration()
            if info.get("status") in statuses:
                return info
            if time.monotonic() > deadline:
                raise AssertionError("migration still %s" % info)
            time.sleep(0.01)


_vm_numbers = itertools.count()


class Vm:
    """A cr16-system with its serial console on pipes and QMP on a UNIX
    socket, or with `hmp` the human monitor instead."""

    def __init__(self, directory, name, args=(), ram="4M", wrapper=(), pass_fds=(),
                 stderr=subprocess.PIPE, hmp=False):
        self.uses_hmp = hmp
        # Paths never reused: a killed process's io_uring may hold its
        # listening socket open for a moment after it was reaped, and a
        # client would connect to that one and see it reset.
        unique = "%s-%d" % (name, next(_vm_numbers))
        self.monitor_path = os.path.join(directory, unique + ".monitor")
        self.qmp_path = os.path.join(directory, unique + ".qmp")
        if hmp:
            front = ["-monitor", "unix:%s,server=on,wait=off" % self.monitor_path]
        else:
            front = ["-qmp", "unix:%s,server=on,wait=off" % self.qmp_path]
        command = list(wrapper) + [h.BINARY, "-m", ram, "-serial", "stdio"] + front + list(args)
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=stderr, pass_fds=pass_fds)
        self.console = h.Console(self.process, self.process.stdout.fileno(),
                                 self.process.stdin.fileno())
        self._monitor = None
        self._qmp = None

    @property
    def monitor(self):
        if self._monitor is None:
            self._monitor = Monitor(self.monitor_path, self.process)
        return self._monitor

    @property
    def qmp(self):
        """The QMP session (connected and negotiated on first use)."""
        if self._qmp is None:
            self._qmp = Qmp(self.qmp_path)
        return self._qmp

    def hmp(self, line, timeout=20):
        return self.monitor.command(line, timeout)

    def status(self):
        """The run state, through whichever monitor the VM has."""
        return self.monitor.status() if self.uses_hmp else self.qmp.status()

    def shell(self, line, timeout=30):
        """Runs a firmware shell command; returns its output (CR removed)."""
        return self.console.run(line, PROMPT, timeout)

    def crc(self, address, length):
        text = self.shell("sum 0x%x %d" % (address, length))
        match = re.search(r"crc32 (0x[0-9a-f]{8})", text)
        if not match:
            raise AssertionError("sum printed %r" % text)
        return match.group(1)

    def drain(self, seconds=0.2):
        """Whatever the console prints within `seconds` (bytes, CR kept)."""
        deadline = time.monotonic() + seconds
        data = self.console.output
        self.console.output = b""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return data
            ready, _, _ = select.select([self.console.read_fd], [], [], remaining)
            if ready:
                chunk = os.read(self.console.read_fd, 65536)
                if not chunk:
                    return data
                data += chunk

    def wait(self, timeout=20):
        return self.process.wait(timeout=timeout)

    def stderr(self):
        return self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""

    def close(self):
        if self._monitor:
            self._monitor.close()
        if self._qmp:
            self._qmp.close()
        h.stop(self.process)


def read_memory(vm, address, length):
    """`length` bytes of guest memory at `address`, read with xp (QMP has
    no command for it: human-monitor-command)."""
    text = vm.qmp.command("human-monitor-command",
                          {"command-line": "xp /%dbx 0x%x" % (length, address)})
    values = []
    for line in text.splitlines():
        words = re.findall(r"0x([0-9a-f]{2})\b", line.split(":", 1)[1])
        values += [int(word, 16) for word in words]
    return bytes(values)


def count_lines(data):
    """The numbers a `count` printed, from raw console bytes (both sides of
    a migration concatenated: a line may be cut between them)."""
    text = data.decode(errors="replace").replace("\r", "")
    return [int(line) for line in text.split("\n") if line.strip().isdigit()]


# ---- x509 credentials (openssl CLI)

def make_credentials(directory, names=("localhost",), addresses=("127.0.0.1",)):
    """A CA, a server certificate for `names`/`addresses` and a client
    certificate, as QEMU's credential directories: DIR/server (ca-cert.pem,
    server-cert.pem, server-key.pem) and DIR/client (ca-cert.pem,
    client-cert.pem, client-key.pem); DIR/client-no-cert has the CA only."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None

    def run(*args):
        subprocess.run([openssl] + list(args), check=True, capture_output=True)

    def key_and_request(key, request, subject):
        run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
            key, "-out", request, "-subj", subject)

    os.makedirs(directory, exist_ok=True)
    ca_key = os.path.join(directory, "ca-key.pem")
    ca_cert = os.path.join(directory, "ca-cert.pem")
    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", ca_key, "-out", ca_cert, "-days", "2", "-subj", "/CN=cr16 migration test CA")
    server = os.path.join(directory, "server")
    client = os.path.join(directory, "client")
    bare = os.path.join(directory, "client-no-cert")
    for path in (server, client, bare):
        os.makedirs(path, exist_ok=True)
        shutil.copy(ca_cert, os.path.join(path, "ca-cert.pem"))
    extensions = os.path.join(directory, "san.ext")
    with open(extensions, "w") as f:
        entries = ["DNS:%s" % name for name in names] + ["IP:%s" % a for a in addresses]
        f.write("subjectAltName=%s\n" % ",".join(entries))
    key_and_request(os.path.join(server, "server-key.pem"), os.path.join(directory, "s.csr"),
                    "/CN=%s" % names[0])
    run("x509", "-req", "-in", os.path.join(directory, "s.csr"), "-CA", ca_cert, "-CAkey",
        ca_key, "-CAcreateserial", "-out", os.path.join(server, "server-cert.pem"), "-days", "2",
        "-extfile", extensions)
    key_and_request(os.path.join(client, "client-key.pem"), os.path.join(directory, "c.csr"),
                    "/CN=cr16 migration client")
    run("x509", "-req", "-in", os.path.join(directory, "c.csr"), "-CA", ca_cert, "-CAkey",
        ca_key, "-CAcreateserial", "-out", os.path.join(client, "client-cert.pem"), "-days", "2")
    return directory


# ---- network namespaces

def _ip(*args):
    return subprocess.run(["ip"] + list(args), capture_output=True, text=True)


class Namespaces:
    """Network namespaces (removed by close()); `veth` joins two of them."""

    def __init__(self):
        self.names = []
        self.skip_reason = None
        if os.geteuid() != 0:
            self.skip_reason = "network namespaces need root"
        elif shutil.which("ip") is None:
            self.skip_reason = "the ip tool (iproute2) is missing"

    def add(self, name):
        name = "%s-%d" % (name, os.getpid())
        result = _ip("netns", "add", name)
        if result.returncode != 0:
            self.skip_reason = "cannot create a network namespace: " + result.stderr.strip()
            return None
        self.names.append(name)
        _ip("-n", name, "link", "set", "lo", "up")
        return name

    def veth(self, first, first_address, second, second_address):
        """A veth pair between two namespaces, with /24 addresses, up."""
        a, b = "mva%d" % os.getpid(), "mvb%d" % os.getpid()
        result = _ip("link", "add", a, "type", "veth", "peer", "name", b)
        if result.returncode != 0:
            self.skip_reason = "cannot create a veth pair: " + result.stderr.strip()
            return False
        for link, namespace, address in ((a, first, first_address), (b, second, second_address)):
            _ip("link", "set", link, "netns", namespace)
            _ip("-n", namespace, "addr", "add", address + "/24", "dev", link)
            _ip("-n", namespace, "link", "set", link, "up")
        return True

    def sysctl(self, namespace, key, value):
        result = subprocess.run(["ip", "netns", "exec", namespace, "sysctl", "-w",
                                 "%s=%s" % (key, value)], capture_output=True, text=True)
        check = subprocess.run(["ip", "netns", "exec", namespace, "sysctl", "-n", key],
                               capture_output=True, text=True)
        if result.returncode != 0 or check.stdout.strip() != str(value):
            self.skip_reason = "cannot set %s in a namespace: %s" % (key, result.stderr.strip())
            return False
        return True

    @staticmethod
    def wrapper(namespace):
        return ["ip", "netns", "exec", namespace]

    def close(self):
        for name in self.names:
            _ip("netns", "delete", name)
        self.names = []


# ---- the stream, for a destination played by the test

# The destination's answer on the return path once a pass arrived
# (docs/migration-format.md).
PASS_ACKNOWLEDGEMENT = 0x02


def read_until_end_of_pass(connection, timeout=30):
    """Reads a migration stream from `connection` up to and including the
    first end-of-pass record; returns the bytes read. Record layout:
    docs/migration-format.md."""
    data = b""
    deadline = time.monotonic() + timeout

    def need(count):
        nonlocal data
        while len(data) < count:
            if time.monotonic() > deadline:
                raise AssertionError("stream stalled after %d bytes" % len(data))
            chunk = connection.recv(1 << 20)
            if not chunk:
                raise AssertionError("stream ended after %d bytes" % len(data))
            data += chunk

    at = 12  # magic and version
    need(at)
    while True:
        need(at + 1)
        kind = data[at]
        if kind == 0x10:  # configuration: two short strings, u8, u8, 16 bytes
            need(at + 2)
            first = data[at + 1]
            need(at + 3 + first)
            second = data[at + 2 + first]
            at += 1 + 1 + first + 1 + second + 1 + 1 + 16
        elif kind == 0x11:  # block list
            need(at + 2)
            count, at = data[at + 1], at + 2
            for _ in range(count):
                need(at + 1)
                at += 1 + data[at] + 9
        elif kind in (0x12, 0x13):  # pages, zero pages
            need(at + 4)
            count = data[at + 2] | (data[at + 3] << 8)
            at += 4 + 4 * count + (4096 * count if kind == 0x12 else 0)
        elif kind == 0x16:  # fill pages
            need(at + 5)
            count = data[at + 3] | (data[at + 4] << 8)
            at += 5 + 4 * count
        elif kind == 0x14:  # end of pass
            need(at + 5)
            return data[:at + 5]
        else:
            raise AssertionError("unexpected record 0x%02x at %d" % (kind, at))
