"""A small QMP client for the functional tests (Python stdlib only): connects
to a UNIX or TCP socket, reads CR LF terminated JSON messages, keeps the
events it sees on the way to a reply. Every wait has a deadline."""
import json
import socket
import time


class QmpError(AssertionError):
    pass


class QmpClient:
    def __init__(self, address, timeout=20):
        """`address`: a UNIX socket path (str) or a (host, port) tuple.
        Retries while the server is not there yet."""
        family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
        deadline = time.monotonic() + timeout
        while True:
            self.sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                self.sock.connect(address)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        self.sock.settimeout(timeout)
        self.timeout = timeout
        self.buffer = b""
        self.events = []

    def close(self):
        self.sock.close()

    def send_raw(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def read_raw_line(self):
        """The next message as bytes (without CR LF); b"" at end of file."""
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                return b""
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def read_message(self):
        line = self.read_raw_line()
        if not line:
            raise QmpError("the connection closed")
        return json.loads(line)

    def greeting(self):
        message = self.read_message()
        if "QMP" not in message:
            raise QmpError("not a greeting: %r" % message)
        return message["QMP"]

    def reply(self):
        """The next message that is not an event (events are kept)."""
        while True:
            message = self.read_message()
            if "event" in message:
                self.events.append(message)
                continue
            return message

    def request(self, command, arguments=None, id=None):
        message = {"execute": command}
        if arguments is not None:
            message["arguments"] = arguments
        if id is not None:
            message["id"] = id
        self.send_raw(json.dumps(message))
        return self.reply()

    def command(self, command, arguments=None):
        """Runs a command that must succeed; returns its "return"."""
        reply = self.request(command, arguments)
        if "return" not in reply:
            raise QmpError("%s failed: %r" % (command, reply))
        return reply["return"]

    def negotiate(self):
        self.greeting()
        self.command("qmp_capabilities")

    def events_until(self, name, match=None, timeout=None):
        """The events kept and arriving, in order, up to and including the
        first `name` event whose data satisfies `match` (any without it);
        these are no longer kept, the ones after it stay. A reply on the
        way, or no such event within `timeout` seconds, fails."""
        timeout = self.timeout if timeout is None else timeout

        def found():
            for index, event in enumerate(self.events):
                if event["event"] == name and (match is None or match(event.get("data", {}))):
                    taken, self.events = self.events[:index + 1], self.events[index + 1:]
                    return taken
            return None

        deadline = time.monotonic() + timeout
        try:
            while (taken := found()) is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise socket.timeout()
                self.sock.settimeout(remaining)
                message = self.read_message()
                if "event" not in message:
                    raise QmpError("a reply while waiting for %s: %r" % (name, message))
                self.events.append(message)
        except socket.timeout:
            raise QmpError("no %s event within %s s; seen %r" % (name, timeout, self.events))
        finally:
            self.sock.settimeout(self.timeout)
        return taken

    def wait_event(self, name):
        """The first event called `name` seen so far or arriving next."""
        for index, event in enumerate(self.events):
            if event["event"] == name:
                return self.events.pop(index)
        while True:
            message = self.read_message()
            if "event" not in message:
                raise QmpError("a reply while waiting for %s: %r" % (name, message))
            if message["event"] == name:
                return message
            self.events.append(message)
