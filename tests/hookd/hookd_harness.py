"""Starts a real hookd for tests: a temporary data folder, a config file, any free port.

HOOKD          the hookd binary (set by CTest; defaults to build/main/hookd/hookd)
HOOKD_WRAPPER  a command to run hookd under, e.g. "valgrind --error-exitcode=99 -q"
HOOKD_SANITIZED=1 when HOOKD is an ASan/UBSan build (longer timeouts)
HOOKD_TEST_STORE=postgresql://...  run every hookd on PostgreSQL: each Hookd gets a new
               database on that server (pg_harness.py starts one and sets this)

Every test that starts hookd through Hookd gets, when it stops it, a check that hookd exited
0 and that no sanitizer or valgrind report is in its log.
"""
import http.client
import importlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
HOOKD = os.environ.get("HOOKD") or os.path.join(ROOT, "build", "main", "hookd", "hookd")
WRAPPER = shlex.split(os.environ.get("HOOKD_WRAPPER", ""))
SLOW = 4 if (WRAPPER or os.environ.get("HOOKD_SANITIZED")) else 1
PASSWORD = "test-password-1"
STORE = os.environ.get("HOOKD_TEST_STORE", "")
PG = STORE.startswith("postgres")
_stores = {}   # data folder -> its PostgreSQL database, so that Hookd(data=...) shares it

CURL_LINE_BODY = '{"value1":"micropython1"}'
# the config's "limits" for tests that send many triggers from one address with one key
NO_LIMITS = {"per_ip": {"rate": 0, "burst": 1}, "per_key": {"rate": 0, "burst": 1}}


class Hookd:
    """One hookd process. Use as a context manager or call start()/stop()."""

    def __init__(self, config=None, data=None, password=PASSWORD, args=(), store=None):
        self.tmp = tempfile.mkdtemp(prefix="hookd-test-")
        self.data = data or os.path.join(self.tmp, "data")
        # --store URL instead of --data DIR (PostgreSQL): given, or one per data folder
        self.store = store
        if not store and PG:
            if self.data not in _stores:
                from pg_harness import new_database
                _stores[self.data] = new_database(STORE)
            self.store = _stores[self.data]
        self.config = dict(config or {})
        if password is not None:
            self.config.setdefault("admin_password", password)
        self.args = list(args)
        self.proc = None
        self.lines = []
        self.port = None
        self.cookie = None
        self.csrf = None

    # -- process --------------------------------------------------------------------------

    def start(self, timeout=60):
        # timeout only stops a start that hangs: one that fails exits and ends the wait at
        # once. 15 s was too short for a first start (a new key) at nice 12 on a loaded core
        cfg = os.path.join(self.tmp, "config.json")
        with open(cfg, "w") as f:
            json.dump(self.config, f)
        cmd = WRAPPER + [HOOKD] + self.where() + ["--listen", "127.0.0.1:0",
                                                  "--config", cfg] + self.args
        self.lines = []
        self.port = None
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True, errors="replace")
        ready = threading.Event()

        def read():
            for line in self.proc.stderr:
                self.lines.append(line.rstrip("\n"))
                m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
                if m:
                    self.port = int(m.group(1))
                    ready.set()
            ready.set()

        self.reader = threading.Thread(target=read, daemon=True)
        self.reader.start()
        if not ready.wait(timeout * SLOW) or self.port is None:
            self.proc.kill()
            self.proc.wait()
            self.reader.join(5)
            raise AssertionError("hookd did not start:\n" + self.log())
        return self

    def where(self):
        return ["--store", self.store] if self.store else ["--data", self.data]

    def log(self):
        return "\n".join(self.lines)

    def wait_log(self, pattern, timeout=10):
        end = time.time() + timeout * SLOW
        while time.time() < end:
            if re.search(pattern, self.log()):
                return True
            time.sleep(0.05)
        raise AssertionError("no %r in the log:\n%s" % (pattern, self.log()))

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Stops hookd with sig; returns its exit code (after checking the log is clean)."""
        if not self.proc:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout * SLOW)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("hookd did not stop on %s:\n%s" % (sig, self.log()))
        self.reader.join(5)
        self.proc.stderr.close()
        self.proc = None
        if sig != signal.SIGKILL:
            check_clean(self.log())
        return rc

    def kill9(self):
        return self.stop(signal.SIGKILL)

    def restart(self):
        self.stop()
        return self.start()

    def cleanup(self):
        if self.proc:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
            self.proc.stderr.close()
            self.proc = None
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        try:
            if self.proc and exc[0] is None:
                rc = self.stop()
                assert rc == 0, "hookd exited %s:\n%s" % (rc, self.log())
        finally:
            self.cleanup()

    # -- HTTP -----------------------------------------------------------------------------

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def request(self, method, path, body=None, headers=None, timeout=10):
        """(status, headers as a dict with lower-case names, body bytes)"""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout * SLOW)
        try:
            if isinstance(body, str):
                body = body.encode()
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            c.close()

    def cli(self, *args, input=None):
        r = subprocess.run(WRAPPER + [HOOKD] + list(args) + self.where(),
                           input=input, capture_output=True, text=True, timeout=60 * SLOW)
        return r

    def key(self):
        r = self.cli("key")
        assert r.returncode == 0, r.stderr
        return r.stdout.strip()

    def trigger(self, event="button_pressed", key=None, json_body=None, form=None, query="",
                method="POST", headers=None, json_endpoint=False):
        key = key if key is not None else self.key_cached()
        path = "/trigger/%s/%swith/key/%s%s" % (event, "json/" if json_endpoint else "", key,
                                               ("?" + query) if query else "")
        h = dict(headers or {})
        body = None
        if json_body is not None:
            body = json_body if isinstance(json_body, (str, bytes)) else json.dumps(json_body)
            h.setdefault("Content-Type", "application/json")
        elif form is not None:
            body = form
            h.setdefault("Content-Type", "application/x-www-form-urlencoded")
        return self.request(method, path, body, h)

    def key_cached(self):
        if not getattr(self, "_key", None):
            self._key = self.key()
        return self._key

    # -- API ------------------------------------------------------------------------------

    def login(self, password=PASSWORD):
        st, h, body = self.request("POST", "/api/login", json.dumps({"password": password}),
                                   {"Content-Type": "application/json"})
        if st != 200:
            return st, h, body
        m = re.match(r"hookd_session=([^;]+)", h["set-cookie"])
        self.cookie = m.group(1)
        self.csrf = json.loads(body)["csrf"]
        return st, h, body

    def api(self, method, path, body=None, csrf=True, cookie=True, headers=None):
        """(status, parsed JSON or None)"""
        if self.cookie is None and cookie:
            st, _, b = self.login()
            assert st == 200, b
        h = dict(headers or {})
        if cookie and self.cookie:
            h["Cookie"] = "hookd_session=" + self.cookie
        if csrf and self.csrf and method not in ("GET", "HEAD"):
            h["X-CSRF-Token"] = self.csrf
        data = None
        if body is not None:
            data = json.dumps(body)
            h.setdefault("Content-Type", "application/json")
        st, _, b = self.request(method, path, data, h)
        return st, (json.loads(b) if b else None)

    def events(self, **query):
        q = "&".join("%s=%s" % kv for kv in query.items())
        st, j = self.api("GET", "/api/events" + ("?" + q if q else ""))
        assert st == 200, j
        return j["events"]

    def wait_delivery(self, pred, timeout=15):
        """Waits until some delivery of the newest events satisfies pred; returns it."""
        end = time.time() + timeout * SLOW
        last = None
        while time.time() < end:
            for e in self.events():
                for d in e["deliveries"]:
                    last = d
                    if pred(d):
                        return d
            time.sleep(0.1)
        raise AssertionError("no such delivery; last: %r\n%s" % (last, self.log()))

    def metrics(self):
        st, _, b = self.request("GET", "/metrics")
        assert st == 200
        out = {}
        for line in b.decode().splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                out[name] = float(value)
        return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, up, timeout=10, proc=None):
    """Waits until 127.0.0.1:port accepts connections (up) or refuses them (not up)."""
    end = time.time() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            ok = up
        except OSError:
            ok = not up
        if ok:
            return
        if time.time() > end or (proc is not None and proc.poll() is not None):
            raise AssertionError("port %d did not go %s" % (port, "up" if up else "down"))
        time.sleep(0.05)


class Broker:
    """A real mosquitto on 127.0.0.1, started at once; stop() and start() keep its port.
    persistent: retained messages and persistent sessions are saved at SIGTERM and read back
    at start (a broker restarted after a crash); otherwise a restart loses them (a broker
    started from scratch). Files in tmp/name/. A subclass may override conf_text()."""

    def __init__(self, tmp, persistent=False, port=None, name="broker"):
        self.exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not os.path.exists(self.exe):
            raise unittest.SkipTest("mosquitto not installed (scripts/deps.sh check)")
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir, exist_ok=True)
        self.persistent = persistent
        self.port = port or free_port()
        self.conf = os.path.join(self.dir, "mosquitto.conf")
        self.logpath = os.path.join(self.dir, "broker.log")
        with open(self.conf, "w") as f:
            if os.geteuid() == 0:   # else mosquitto drops to its own user, locked out of tmp
                f.write("user root\n")
            f.write("log_dest stderr\n" + self.conf_text())
        self.proc = None
        self.start()

    def conf_text(self):
        return ("persistence true\npersistence_location %s/\n" % self.dir if self.persistent
                else "persistence false\n") + \
            "listener %d 127.0.0.1\nallow_anonymous true\n" % self.port

    def start(self):
        self.log = open(self.logpath, "a+")
        self.proc = subprocess.Popen([self.exe, "-c", self.conf], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        try:
            wait_port(self.port, True, proc=self.proc)
        except AssertionError:
            self.log.seek(0)
            raise AssertionError("mosquitto did not start: " + self.log.read())

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None
            self.log.close()
            wait_port(self.port, False)


class PasswordBroker(Broker):
    """mosquitto with an anonymous listener (port) and one asking for user / password
    (auth_port), as Home Assistant's add-on does; the two share their topics."""

    def __init__(self, tmp, user, password):
        self.pw = os.path.join(tmp, "passwd")
        subprocess.run(["mosquitto_passwd", "-c", "-b", self.pw, user, password], check=True,
                       capture_output=True)
        os.chmod(self.pw, 0o600)
        self.auth_port = free_port()
        super().__init__(tmp)

    def conf_text(self):
        return (f"per_listener_settings true\npersistence false\n"
                f"listener {self.port} 127.0.0.1\nallow_anonymous true\n"
                f"listener {self.auth_port} 127.0.0.1\nallow_anonymous false\n"
                f"password_file {self.pw}\n")


def mosquitto_sub(*args):
    """mosquitto_sub with args, line-buffered and with -d, once the broker's SUBACK is seen (so
    no message published after this returns is missed): the process, its output still to read."""
    proc = subprocess.Popen(["stdbuf", "-oL", "mosquitto_sub", *args, "-d"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    seen = []
    while True:
        line = proc.stdout.readline().decode()
        if not line:
            raise RuntimeError("mosquitto_sub: " + "".join(seen))
        seen.append(line)
        if "SUBACK" in line:
            return proc


def stop_sub(proc):
    """Ends a process mosquitto_sub() started: SIGTERM, on which it sends its DISCONNECT and
    waits for its loop to end (under valgrind's load once longer than 10 s, though everything
    it printed had been read), then SIGKILL if it is still there. Its output is left readable
    to the end."""
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def wait_for(what, check, timeout=30, h=None):
    """Polls check() until it returns something true (returned), or fails after timeout
    seconds (longer under a sanitizer or valgrind) naming what, with hookd h's log if given."""
    end = time.time() + timeout * SLOW
    while True:
        got = check()
        if got:
            return got
        if time.time() > end:
            raise AssertionError("timed out waiting for %s%s" % (what, "\n" + h.log() if h else ""))
        time.sleep(0.05)


def system_python(module):
    """Debian's python3 modules (python3-aiosmtpd, ...) live in the system interpreter, which a
    venv or pyenv python3 first on PATH does not see: when module cannot be imported, runs
    this test again under /usr/bin/python3."""
    try:
        importlib.import_module(module)
    except ImportError:
        if os.path.exists("/usr/bin/python3") and \
                os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
            os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
        raise


def check_clean(log):
    for bad in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                "Invalid read", "Invalid write", "definitely lost: [1-9]",
                "Conditional jump or move", "ERROR SUMMARY: [1-9]"):
        if re.search(bad, log):
            raise AssertionError("%s in hookd's log:\n%s" % (bad, log))


def raw_socket(port, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout * SLOW)
    return s


def recv_all(s):
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except (ConnectionResetError, socket.timeout):
        pass
    return data


def stopper(h):
    """A clean-up for a class's stack (see unwind): stops hookd h, removes its folder, and
    fails unless it exited 0."""
    def stop():
        rc = h.stop()
        h.cleanup()
        assert rc == 0, "hookd exited %s:\n%s" % (rc, h.log())
    return stop


def unwind(stack, tmp):
    """The clean-up of a class that pushed a stop onto stack for each thing it started: calls
    them all, last first, even when one fails; removes the folder tmp; then raises the first
    failure."""
    errors = []
    while stack:
        try:
            stack.pop()()
        except Exception as e:   # stop everything, then report
            errors.append(e)
    shutil.rmtree(tmp, ignore_errors=True)
    if errors:
        raise errors[0]


def all_events(h):
    """Every event in the store, through the API (pages of 500, newest first)."""
    out, before = [], None
    while True:
        q = {"limit": 500}
        if before:
            q["before"] = before
        page = h.events(**q)
        out += page
        if len(page) < 500:
            return out
        before = page[-1]["id"]


class HookdTest(unittest.TestCase):
    """A test case with one shared hookd (config: CONFIG), started once for the class."""

    CONFIG = {}

    @classmethod
    def setUpClass(cls):
        cls.h = Hookd(cls.CONFIG)
        cls.h.start()

    @classmethod
    def tearDownClass(cls):
        try:
            rc = cls.h.stop()
            assert rc == 0, "hookd exited %s:\n%s" % (rc, cls.h.log())
        finally:
            cls.h.cleanup()
