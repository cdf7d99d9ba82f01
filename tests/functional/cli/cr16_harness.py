"""Helpers for cr16-system functional tests (Python stdlib only).

The binary under test comes from the CR16_SYSTEM environment variable (CTest
sets it); the source tree from CR16_SOURCE_DIR. Every wait has a deadline so a
broken emulator fails the test instead of hanging it.
"""
import os
import re
import select
import subprocess
import termios
import time

BINARY = os.environ.get("CR16_SYSTEM", "cr16-system")
SOURCE_DIR = os.environ.get(
    "CR16_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..")))
GUEST_DIR = os.path.join(SOURCE_DIR, "tests", "functional", "guest")
ROMS_DIR = os.path.join(SOURCE_DIR, "roms")


# The one line cr16-system prints when the kernel refuses io_uring (seccomp
# in containers, kernel.io_uring_disabled) and it falls back to epoll.
LOOP_FALLBACK_NOTICE = re.compile(rb"^cr16-system: io_uring unavailable \(.*\); using epoll\n",
                                  re.MULTILINE)


def run(args, timeout=30, input_bytes=None, cwd=None):
    """Runs cr16-system to completion; returns CompletedProcess (bytes).
    The epoll fallback notice is removed from stderr, so tests that compare
    stderr pass on hosts that refuse io_uring too."""
    result = subprocess.run([BINARY] + list(args), input=input_bytes, capture_output=True,
                            timeout=timeout, cwd=cwd)
    result.stderr = LOOP_FALLBACK_NOTICE.sub(b"", result.stderr)
    return result


def stderr_line(process):
    """The next line cr16-system writes to its stderr pipe, skipping the
    epoll fallback notice."""
    while True:
        line = process.stderr.readline()
        if not LOOP_FALLBACK_NOTICE.match(line):
            return line.decode()


class Console:
    """A running cr16-system whose serial console is read from `read_fd`
    and written through `write_fd` (pipes or a pty)."""

    def __init__(self, process, read_fd, write_fd, strip_cr=False):
        self.process = process
        self.strip_cr = strip_cr  # a terminal adds \r: compare text without any
        self.read_fd = read_fd
        self.write_fd = write_fd
        self.output = b""

    def expect(self, needle, timeout=20):
        """Reads until `needle` (bytes) appears after what earlier calls
        consumed; returns the text up to and including it."""
        if isinstance(needle, str):
            needle = needle.encode()
        if self.strip_cr:
            needle = needle.replace(b"\r", b"")
        deadline = time.monotonic() + timeout
        while needle not in self.output:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("timed out waiting for %r; console so far:\n%s" %
                                     (needle, self.output.decode(errors="replace")))
            ready, _, _ = select.select([self.read_fd], [], [], min(remaining, 0.5))
            if ready:
                try:
                    chunk = os.read(self.read_fd, 4096)
                except OSError:
                    chunk = b""
                if not chunk:
                    if self.process.poll() is not None:
                        raise AssertionError("cr16-system exited (%s) before %r; console:\n%s" %
                                             (self.process.returncode, needle,
                                              self.output.decode(errors="replace")))
                    time.sleep(0.05)
                self.output += chunk.replace(b"\r", b"") if self.strip_cr else chunk
        index = self.output.index(needle) + len(needle)
        consumed, self.output = self.output[:index], self.output[index:]
        return consumed.decode(errors="replace")

    def send(self, text):
        if isinstance(text, str):
            text = text.encode()
        os.write(self.write_fd, text)

    def run(self, line, prompt, timeout=20):
        """Sends a command line to a shell or monitor that echoes it and
        returns its output up to `prompt` (CR removed)."""
        self.send(line + "\r")
        self.expect(line + "\r\n", timeout)
        return self.expect(prompt, timeout)[:-len(prompt)].replace("\r", "")

    def output_within(self, seconds):
        """Reads for `seconds`; returns everything not consumed yet (b""
        when the console stayed silent)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                self.expect("\x00never\x00", timeout=deadline - time.monotonic())
            except AssertionError:
                break
        return self.output

    def wait(self, timeout=20):
        return self.process.wait(timeout=timeout)

    def close(self):
        stop(self.process)


def stop(process):
    """Kills `process` if it still runs and closes its pipes."""
    if process.poll() is None:
        process.kill()
        process.wait(timeout=10)
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream:
            stream.close()


def start_with_pipes(args):
    """Starts cr16-system with the default stdio console on pipes."""
    process = subprocess.Popen([BINARY] + list(args), stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return Console(process, process.stdout.fileno(), process.stdin.fileno())


def start_with_pty(args):
    """Starts cr16-system with stdin/stdout on a pseudo-terminal, as a user
    at a terminal would (raw mode, Ctrl-A escapes)."""
    import pty
    master, slave = pty.openpty()
    initial_mode = termios.tcgetattr(master)
    process = subprocess.Popen([BINARY] + list(args), stdin=slave, stdout=slave,
                               stderr=subprocess.PIPE, start_new_session=True)
    os.close(slave)
    console = Console(process, master, master, strip_cr=True)
    console.initial_mode = initial_mode  # the terminal mode before cr16-system started
    return console
