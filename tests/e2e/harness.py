"""Helpers for end-to-end tests: a simulated board driven through its CLI, and real local
HTTP servers (Python's http.server) that record what the board sent."""
import http.server
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest

SIMBOARD = os.environ.get("SIMBOARD", "simboard")
# e.g. "valgrind -q": runs the powered board (and, through fork, every boot) under it
WRAPPER = shlex.split(os.environ.get("SIMBOARD_WRAPPER", ""))
SOURCE = os.environ.get("BH_SOURCE", os.path.join(os.path.dirname(__file__), "..", ".."))

WORLD = {
    "aps": [
        {"ssid": "home-net", "bssid": "a0:40:a0:91:7d:ac", "channel": 6, "rssi": -58,
         "auth": "WPA2_PSK", "password": "correct horse", "hidden": False},
        {"ssid": "neighbour", "bssid": "70:50:af:c9:90:d2", "channel": 11, "rssi": -80,
         "auth": "WPA2_PSK", "password": "not yours", "hidden": False},
    ],
    "dhcp": {"network": "192.168.0.0/24", "gateway": "192.168.0.1", "dns": "192.168.0.1",
             "lease_s": 7200},
}


def write_config(path, **kw):
    """Write a config.py the way the chapter's reader types it."""
    cfg = {"WIFI_SSID": "home-net", "WIFI_PASSWORD": "correct horse",
           "WEBHOOK_URL": "http://127.0.0.1:9/trigger/button_pressed/with/key/k",
           "BUTTON_ID": "micropython1", "LED_PIN": 2, "LED2_PIN": 16, "DEBUG_PIN": 14}
    cfg.update(kw)
    lines = []
    for k, v in cfg.items():
        if v is None:
            continue
        lines.append(f"{k} = {v!r}" if isinstance(v, str) else f"{k} = {v}")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


class Board:
    """One simulated board in its own state folder, powered on by `simboard run`."""

    def __init__(self, tmp, name="board", world=None, config=None, extra_files=None,
                 run_args=()):
        self.state = os.path.join(tmp, name)
        os.makedirs(os.path.join(self.state, "flash"), exist_ok=True)
        self.world = os.path.join(tmp, name + "-world.json")
        with open(self.world, "w") as f:
            json.dump(world or WORLD, f)
        if config is not False:   # False: a fresh board, no config.py
            write_config(os.path.join(self.state, "flash", "config.py"), **(config or {}))
        for fname, data in (extra_files or {}).items():
            with open(os.path.join(self.state, "flash", fname), "wb") as f:
                f.write(data)
        self.out = open(os.path.join(tmp, name + ".out"), "w+")
        self.proc = subprocess.Popen(
            [*WRAPPER, SIMBOARD, "run", "--state", self.state, "--world", self.world,
             "--name", name, *run_args],
            stdin=subprocess.DEVNULL, stdout=self.out, stderr=subprocess.STDOUT)
        # the board is up once its control socket answers. The deadline only stops a start
        # that hangs (one that fails exits, and says why): valgrind on a loaded machine has
        # taken over 10 s to bring the board up
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("simboard exited: " + self.output())
            r = self.ctl("state", check=False)
            if r.returncode == 0:
                return
            time.sleep(0.05)
        raise RuntimeError("simboard did not start: " + self.output())

    def ctl(self, *args, check=True, timeout=60):
        cmd = [SIMBOARD, args[0], "--state", self.state, *args[1:]]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed: {r.stdout}{r.stderr}")
        return r

    def press(self):
        self.ctl("press")

    def jumper(self, on):
        self.ctl("jumper", "on" if on else "off")

    def state_json(self):
        return json.loads(self.ctl("state").stdout)

    def wait(self, mode, timeout=40):
        self.ctl("wait", "--for", mode, "--timeout", str(timeout), timeout=timeout + 10)

    def events(self, kind=None):
        evs = []
        with open(os.path.join(self.state, "events.jsonl")) as f:
            for line in f:
                line = line.strip()
                if line:
                    evs.append(json.loads(line))
        return [e for e in evs if kind is None or e.get("event") == kind]

    def wake_events(self, boot):
        """Events of one boot (wake), by boot number."""
        out, cur = [], None
        for e in self.events():
            if e.get("event") == "boot":
                cur = e.get("boot")
            if cur == boot:
                out.append(e)
        return out

    def console(self, boot=None):
        evs = self.wake_events(boot) if boot else self.events()
        return "\n".join(e["text"] for e in evs if e.get("event") == "console")

    def output(self):
        self.out.flush()
        self.out.seek(0)
        return self.out.read()

    def off(self):
        if self.proc.poll() is None:
            self.ctl("off", check=False)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        text = self.output()
        self.out.close()
        # a sanitizer report from any boot of the board fails the test that ran it
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            if marker in text:
                raise AssertionError(f"sanitizer report from simboard {self.state}:\n{text}")
        # valgrind -q prints only errors, each line as ==PID==
        if WRAPPER and re.search(r"^==\d+== \S", text, re.M):
            raise AssertionError(f"valgrind report from simboard {self.state}:\n{text}")
        return self.proc.returncode


class Receiver:
    """A real HTTP server on 127.0.0.1 that records requests and answers as told."""

    def __init__(self, status=200, body=b"Congratulations! You've fired the button_pressed event",
                 handler=None):
        self.requests = []
        self.status, self.body, self.handler = status, body, handler
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _any(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                outer.requests.append({"method": self.command, "path": self.path,
                                       "headers": dict(self.headers.items()), "body": body})
                if outer.handler:
                    return outer.handler(self, body)
                self.send_response(outer.status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(outer.body)))
                self.end_headers()
                self.wfile.write(outer.body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _any

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path="/trigger/button_pressed/with/key/k"):
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TempDir:
    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix="bh-e2e-")
        return self.path

    def __exit__(self, *exc):
        shutil.rmtree(self.path, ignore_errors=True)


class BoardTestCase(unittest.TestCase):
    """A test case with a scratch folder; boards and receivers made through it are stopped
    after each test."""

    def setUp(self):
        self.tmpctx = TempDir()
        self.tmp = self.tmpctx.__enter__()
        self.boards, self.receivers = [], []

    def tearDown(self):
        for b in self.boards:
            b.off()
        for r in self.receivers:
            r.close()
        self.tmpctx.__exit__(None, None, None)

    def receiver(self, **kw):
        r = Receiver(**kw)
        self.receivers.append(r)
        return r

    def board(self, name="board", **kw):
        b = Board(self.tmp, name=name, **kw)
        self.boards.append(b)
        return b


class HookdBoardTestCase(BoardTestCase):
    """BoardTestCase with one real hookd for the whole class (tests/hookd/hookd_harness.py):
    self.hookd, and self.key, its trigger key."""

    @classmethod
    def setUpClass(cls):
        from hookd_harness import Hookd   # the caller put tests/hookd on sys.path
        cls.hookd = Hookd()
        cls.hookd.start()
        cls.key = cls.hookd.key()

    @classmethod
    def tearDownClass(cls):
        try:
            assert cls.hookd.stop() == 0, cls.hookd.log()
        finally:
            cls.hookd.cleanup()
