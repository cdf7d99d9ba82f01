"""Headless chromium driven over the DevTools protocol on a pipe
(--remote-debugging-pipe: NUL-terminated JSON on descriptors 3 and 4), so
no websocket client or extra package is needed: open a page, evaluate
JavaScript in it, take a screenshot."""
import json
import os
import select
import shutil
import subprocess
import tempfile
import time


def chromium_binary():
    return shutil.which("chromium") or shutil.which("chromium-browser")


class HeadlessChromium:
    def __init__(self, width=800, height=600, extra_args=()):
        self.profile = tempfile.mkdtemp(prefix="cr16-chromium-")
        to_chromium_r, self.to_chromium = os.pipe()
        self.from_chromium, from_chromium_w = os.pipe()

        def descriptors_3_and_4():
            # dup first: a pipe end may already be 3 or 4 (and close-on-exec).
            read_end, write_end = os.dup(to_chromium_r), os.dup(from_chromium_w)
            os.dup2(read_end, 3)
            os.dup2(write_end, 4)

        self.process = subprocess.Popen(
            [chromium_binary(), "--headless=new", "--no-sandbox", "--disable-gpu",
             "--no-first-run", "--disable-extensions", "--remote-debugging-pipe",
             "--window-size=%d,%d" % (width, height), "--user-data-dir=" + self.profile]
            + list(extra_args) + ["about:blank"],
            preexec_fn=descriptors_3_and_4, close_fds=False,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chromium_r)
        os.close(from_chromium_w)
        self.buffer = b""
        self.next_id = 0
        self.session = None

    def call(self, method, params=None, session=True, timeout=30):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self.to_chromium, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" not in self.buffer:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not select.select([self.from_chromium], [], [], remaining)[0]:
                    raise TimeoutError("chromium did not answer %s" % method)
                chunk = os.read(self.from_chromium, 1 << 20)
                if not chunk:
                    raise ConnectionError("chromium exited (%s)" % self.process.poll())
                self.buffer += chunk
            line, self.buffer = self.buffer.split(b"\0", 1)
            reply = json.loads(line)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError("%s: %s" % (method, reply["error"]))
                return reply["result"]

    def open(self, url):
        target = self.call("Target.createTarget", {"url": url}, session=False)["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True},
                                 session=False)["sessionId"]

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": True})
        if "exceptionDetails" in result:
            raise RuntimeError("%s: %s" % (expression, result["exceptionDetails"]))
        return result["result"].get("value")

    def wait_for(self, expression, timeout=20):
        """Evaluates EXPRESSION until it is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        value = None
        while time.monotonic() < deadline:
            try:
                value = self.evaluate(expression)
            except RuntimeError as error:  # the page is not there yet
                value = error
            if value and not isinstance(value, RuntimeError):
                return value
            time.sleep(0.2)
        raise AssertionError("%s stayed %r for %s s" % (expression, value, timeout))

    def screenshot(self):
        import base64
        return base64.b64decode(self.call("Page.captureScreenshot", {"format": "png"})["data"])

    def close(self):
        self.process.kill()
        self.process.wait()
        os.close(self.to_chromium)
        os.close(self.from_chromium)
        shutil.rmtree(self.profile, ignore_errors=True)
