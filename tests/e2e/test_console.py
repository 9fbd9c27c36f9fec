"""End to end: the console of the simulated board, over its serial port (`simboard type`) and
over WebREPL with an independent WebSocket client (Debian's python3-websocket,
websocket-client): login right and wrong, commands, file put and get (0 B, 1 B, 300 KB),
a split header, a full flash, a malformed frame and a second concurrent session. Then what
MicroPython's own webrepl_cli.py relies on, with a plain socket that behaves as it does, and
the password delay and idle timeout told by the board's event log."""
import ast
import os
import socket
import struct
import sys
import time
import unittest

# Debian's python3-websocket lives in the system interpreter; a venv or pyenv python3 first on
# PATH does not see it.
try:
    import websocket  # noqa: F401
except ImportError:
    if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise

sys.path.insert(0, os.path.dirname(__file__))
from harness import WORLD, Board, BoardTestCase, Receiver, TempDir  # noqa: E402

REQ = "<2sBBQLH64s"
PASSWORD = "s3cret"


class Console:
    """Types lines into the board's serial console and collects the lines it printed back."""

    def __init__(self, board):
        self.b = board

    def lines(self):
        return [e["text"] for e in self.b.events("console")]

    def run(self, line, timeout=20, prompt=">>> ", echo=None):
        """echo: how the log shows the typed line (a password as '*')"""
        mark = len(self.lines())
        self.b.ctl("type", line)
        typed, line = line, echo if echo is not None else line
        deadline = time.time() + timeout
        while time.time() < deadline:
            new = self.lines()[mark:]
            # the echo of the line, then whatever it printed, then the next prompt
            for i, t in enumerate(new):
                if t.endswith(line) or (line == "" and t.strip() == ""):
                    rest = new[i + 1:]
                    for j, r in enumerate(rest):
                        if r.startswith(prompt):
                            return rest[:j]
                    break
            time.sleep(0.05)
        raise AssertionError(f"no prompt after {typed!r}: {self.lines()[mark:]}")


def wr_login(port, password=PASSWORD):
    ws = websocket.create_connection(f"ws://127.0.0.1:{port}/", timeout=20)
    assert read_text(ws, "Password: ").endswith("Password: ")
    ws.send(password + "\r")
    return ws


def read_text(ws, until):
    got = ""
    while not got.endswith(until):
        op, data = ws.recv_data(control_frame=True)
        if op == websocket.ABNF.OPCODE_TEXT:
            got += data.decode()
        elif op == websocket.ABNF.OPCODE_CLOSE:
            raise ConnectionError("closed: " + got)
    return got


def read_bin(ws):
    while True:
        op, data = ws.recv_data()
        if op == websocket.ABNF.OPCODE_BINARY:
            return data


def status(ws):
    sig, code = struct.unpack("<2sH", read_bin(ws))
    assert sig == b"WB"
    return code


def put(ws, name, data, split=True):
    rec = struct.pack(REQ, b"WA", 1, 0, 0, len(data), len(name), name.encode())
    if split:
        ws.send_binary(rec[:10])
        ws.send_binary(rec[10:])
    else:
        ws.send_binary(rec)
    first = status(ws)
    if first:
        return first
    for i in range(0, len(data), 1024):
        ws.send_binary(data[i:i + 1024])
    return status(ws)


def get(ws, name):
    rec = struct.pack(REQ, b"WA", 2, 0, 0, 0, len(name), name.encode())
    ws.send_binary(rec)
    st = status(ws)
    if st:
        return st, None
    out = b""
    while True:
        ws.send_binary(b"\0")
        chunk = read_bin(ws)
        (sz,) = struct.unpack("<H", chunk[:2])
        # webrepl.html takes each chunk as one whole message: the length and its bytes
        assert len(chunk) == 2 + sz, (len(chunk), sz)
        if sz == 0:
            break
        out += chunk[2:2 + sz]
    return status(ws), out


class ConsoleTest(unittest.TestCase):
    def setUp(self):
        self.tmpctx = TempDir()
        self.tmp = self.tmpctx.__enter__()
        self.r = Receiver()
        world = dict(WORLD, flash_kb=1024, ports={"8266": 0})
        self.b = Board(self.tmp, world=world,
                       config={"WEBHOOK_URL": self.r.url("/trigger/button_pressed/with/key/k")})
        self.b.wait("sleeping")
        self.b.jumper(True)
        self.b.press()
        self.b.wait("idle")
        self.c = Console(self.b)
        # the console's first prompt is up once it reads input
        deadline = time.time() + 10
        while not any(t.startswith(">>> ") for t in self.c.lines()) and time.time() < deadline:
            time.sleep(0.05)

    def tearDown(self):
        self.b.off()
        self.r.close()
        self.tmpctx.__exit__(None, None, None)

    def setup_webrepl(self):
        c = self.c
        out = c.run("webrepl_setup", prompt="> ")
        self.assertEqual(out, ["WebREPL daemon auto-start status: disabled", " ",
                               "Would you like to (E)nable or (D)isable it running on boot?",
                               "(Empty line to quit)"])
        self.assertEqual(c.run("E", prompt="New password"),
                         ["To enable WebREPL, you must set password for it"])
        hidden = "*" * len(PASSWORD)
        self.assertEqual(c.run("abc", prompt="New password", echo="***"), ["Invalid password length"])
        self.assertEqual(c.run(PASSWORD, prompt="Confirm password: ", echo=hidden), [])
        self.assertEqual(c.run("other", prompt="New password", echo="*****"), ["Passwords do not match"])
        c.run(PASSWORD, prompt="Confirm password: ", echo=hidden)
        self.assertEqual(c.run(PASSWORD, prompt="Would you like to reboot now? (y/n) ", echo=hidden),
                         ["Changes will be activated after reboot"])
        with open(os.path.join(self.b.state, "flash", "webrepl_cfg.py")) as f:
            self.assertEqual(f.read(), f"PASS = '{PASSWORD}'\nSTART = True\n")
        # the terminal echoed the new password, as MicroPython does; the log on disk did not
        self.assertIn("| " + PASSWORD + "\n", self.b.output())
        with open(os.path.join(self.b.state, "events.jsonl")) as f:
            self.assertNotIn(PASSWORD, f.read())
        self.b.ctl("type", "y")          # reboot: SOFT_RESET, and WebREPL starts on boot
        deadline = time.time() + 20
        while time.time() < deadline:
            st = self.b.state_json()
            if st["boots"] >= 3 and st["mode"] == "idle" and st.get("listening"):
                return int(st["listening"]["8266"])
            time.sleep(0.1)
        self.fail(f"WebREPL not listening: {self.b.state_json()}")

    def test_serial_commands(self):
        c = self.c
        self.assertIn("Webhook invoked", self.b.console())
        help_text = "\n".join(c.run("help"))
        for word in ("wlan sta|ap", "http get URL", "reset_cause", "deepsleep", "pin N",
                     "rtc read", "cat FILE", "connect_wifi", "call_webhook", "webrepl_setup"):
            self.assertIn(word, help_text)
        self.assertEqual(c.run("reset_cause"), ["5  # DEEPSLEEP_RESET"])
        self.assertEqual(c.run("wlan sta isconnected"), ["True"])
        self.assertEqual(c.run("wlan ap active"), ["False"])   # connect_wifi() turned it off
        self.assertRegex(c.run("wlan sta ifconfig")[0],
                         r"^\('192\.168\.0\.\d+', '255\.255\.255\.0', '192\.168\.0\.1', '192\.168\.0\.1'\)$")
        scan = c.run("wlan sta scan")[0]
        self.assertTrue(scan.startswith("[(b'home-net', b'\\xa0@\\xa0\\x91}\\xac', 6, -58, 3, 0), "
                                        "(b'neighbour', "), scan)
        self.assertEqual(c.run("wlan sta status"), ["5"])
        self.assertEqual(c.run("wlan ap scan"), ["OSError: STA required"])
        self.assertEqual(c.run("frobnicate"), ["error: unknown command or arguments: frobnicate (type help)"])
        self.assertIn("config.py", ast.literal_eval(c.run("ls")[0]))
        self.assertEqual(c.run("rm nothing.txt"), ["OSError: [Errno 2] ENOENT"])
        self.assertEqual(c.run(f"http get {self.r.url('/hello')}"),
                         ["200 OK", "Congratulations! You've fired the button_pressed event"])
        self.assertEqual(c.run(f'http post {self.r.url("/p")} {{"value1": "x y"}}')[0], "200 OK")
        self.assertEqual(self.r.requests[-1]["body"], b'{"value1": "x y"}')
        self.assertEqual(c.run("call_webhook"), ["Invoking webhook", "Webhook invoked"])
        self.assertEqual(c.run("pin D4 0"), [])
        self.assertEqual(self.b.state_json()["leds"]["D4"], "on")
        self.assertEqual(c.run("rtc write 400 hi"), [])
        self.assertEqual(c.run("rtc read 400 2"), ["b'hi'"])
        # deep sleep from the console; RESET wakes it with DEEPSLEEP_RESET
        self.b.ctl("type", "deepsleep")
        self.b.wait("sleeping")

    def test_webrepl(self):
        port = self.setup_webrepl()
        self.assertEqual(self.b.state_json()["reset_cause"], "SOFT_RESET")
        self.assertIn("WebREPL daemon started on ws://", self.b.console())

        # a wrong password is denied and closed
        ws = wr_login(port, "wrong")
        with self.assertRaises(ConnectionError):
            read_text(ws, "WebREPL connected")
        ws.close()

        ws = wr_login(port)
        self.assertTrue(read_text(ws, ">>> ").endswith("\r\nWebREPL connected\r\n>>> "))
        ws.send("wlan ap isconnected\r")
        self.assertTrue(read_text(ws, ">>> ").endswith("wlan ap isconnected\r\nFalse\r\n>>> "))
        ws.send("reset_cause\r")
        self.assertIn("4  # SOFT_RESET\r\n", read_text(ws, ">>> "))

        # one session at a time
        with self.assertRaises(websocket.WebSocketBadStatusException) as cm:
            websocket.create_connection(f"ws://127.0.0.1:{port}/", timeout=10)
        self.assertEqual(cm.exception.status_code, 503)

        # files both ways, byte for byte
        big = os.urandom(300 * 1024)
        for name, data in (("empty.bin", b""), ("one.bin", b"\x00"), ("big.bin", big)):
            self.assertEqual(put(ws, name, data), 0, name)
            with open(os.path.join(self.b.state, "flash", name), "rb") as f:
                self.assertEqual(f.read(), data, name)
            st, back = get(ws, name)
            self.assertEqual(st, 0, name)
            self.assertEqual(back, data, name)
        self.assertEqual(put(ws, "whole.bin", b"abc", split=False), 0)
        # version, a missing file, a full flash: a status, and the session stays open
        ws.send_binary(struct.pack(REQ, b"WA", 3, 0, 0, 0, 0, b""))
        self.assertEqual(read_bin(ws), bytes([1, 20, 0]))
        self.assertEqual(get(ws, "missing.bin")[0], 2)
        self.assertEqual(put(ws, "huge.bin", os.urandom(900 * 1024)), 28)
        self.assertFalse(os.path.exists(os.path.join(self.b.state, "flash", "huge.bin")))
        ws.send("ls\r")
        self.assertIn("'big.bin'", read_text(ws, ">>> "))

        # a malformed frame (reserved bits set) closes the session with 1002
        ws.sock.send(b"\xf1\x80\x00\x00\x00\x00")
        op, data = ws.recv_data(control_frame=True)
        while op != websocket.ABNF.OPCODE_CLOSE:
            op, data = ws.recv_data(control_frame=True)
        self.assertEqual(struct.unpack(">H", data[:2])[0], 1002)
        ws.close()

        # and the next session may log in again
        deadline = time.time() + 5
        while True:
            try:
                ws = wr_login(port)
                break
            except websocket.WebSocketBadStatusException:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
        self.assertTrue(read_text(ws, ">>> ").endswith("WebREPL connected\r\n>>> "))
        ws.close()


class CliLike:
    """A WebREPL client that talks as MicroPython's webrepl_cli.py does on the wire, on a plain
    socket: its fixed handshake key "foo", the reply read line by line, unmasked frames sent as
    a 2-byte header and the payload in two writes, the password in a binary frame with no wait
    for "WebREPL connected", text frames skipped while it waits for binary ones, and the
    socket closed with no close frame."""

    def __init__(self, port, password=PASSWORD):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.s.sendall(b"GET / HTTP/1.1\r\nHost: echo.websocket.org\r\nConnection: Upgrade\r\n"
                       b"Upgrade: websocket\r\nSec-WebSocket-Key: foo\r\n\r\n")
        self.status = self.line()
        while self.line() != b"\r\n":
            pass
        self.buf = b""
        if self.status.startswith(b"HTTP/1.1 101 "):
            prompt = b""
            while not prompt.endswith(b": "):
                prompt += self.read(1, text_ok=True)
            self.prompt = prompt
            self.write(password.encode() + b"\r")

    def line(self):
        out = b""
        while not out.endswith(b"\n"):
            c = self.s.recv(1)
            if not c:
                break
            out += c
        return out

    def exactly(self, n):
        out = b""
        while len(out) < n:
            d = self.s.recv(n - len(out))
            if not d:
                raise ConnectionError("closed")
            out += d
        return out

    def frame(self):
        fl, n = self.exactly(2)
        if n == 126:
            (n,) = struct.unpack(">H", self.exactly(2))
        return fl, self.exactly(n)

    def read(self, n, text_ok=False):
        if not self.buf:
            while True:
                fl, data = self.frame()
                if fl == 0x82 or (text_ok and fl == 0x81):
                    break
            self.buf = data
        d, self.buf = self.buf[:n], self.buf[n:]
        assert len(d) == n, (d, n)
        return d

    def write(self, data, fl=0x82):
        n = len(data)
        self.s.send(struct.pack(">BB", fl, n) if n < 126 else struct.pack(">BBH", fl, 126, n))
        self.s.send(data)

    def resp(self):
        sig, code = struct.unpack("<2sH", self.read(4))
        assert sig == b"WB", sig
        return code

    def version(self):
        self.write(struct.pack(REQ, b"WA", 3, 0, 0, 0, 0, b""))
        return tuple(self.read(3))

    def put(self, name, data):
        rec = struct.pack(REQ, b"WA", 1, 0, 0, len(data), len(name), name.encode())
        self.write(rec[:10])
        self.write(rec[10:])
        first = self.resp()
        if first:
            return first
        for i in range(0, len(data), 1024):
            self.write(data[i:i + 1024])
        return self.resp()

    def get(self, name):
        self.write(struct.pack(REQ, b"WA", 2, 0, 0, 0, len(name), name.encode()))
        first = self.resp()
        if first:
            return first, None
        out = b""
        while True:
            self.write(b"\0")
            (sz,) = struct.unpack("<H", self.read(2))
            if sz == 0:
                break
            # webrepl.html takes each chunk as one whole message: length and data in one frame
            assert len(self.buf) == sz, (len(self.buf), sz)
            out += self.read(sz)
        return self.resp(), out

    def close(self):
        self.s.close()


def board_events(b, where="webrepl"):
    return [e for e in b.events() if e.get("where") == where]


class WebreplClientsTest(BoardTestCase):
    """A board that starts WebREPL on boot (webrepl_cfg.py written beforehand), with IDLE = 3:
    a silent connection is closed after 3 s instead of 5 minutes."""

    def start(self):
        world = dict(WORLD, flash_kb=1024, ports={"8266": 0})
        cfg = f"PASS = '{PASSWORD}'\nSTART = True\nIDLE = 3\n".encode()
        self.b = self.board(world=world, extra_files={"webrepl_cfg.py": cfg})
        self.b.wait("sleeping")
        self.b.jumper(True)
        self.b.press()
        self.b.wait("idle")
        deadline = time.time() + 20
        while time.time() < deadline:
            st = self.b.state_json()
            if st.get("listening"):
                return int(st["listening"]["8266"])
            time.sleep(0.1)
        self.fail(f"WebREPL not listening: {self.b.state_json()}")

    def test_as_webrepl_cli_does(self):
        port = self.start()
        data = os.urandom(300 * 1024)
        for name, payload in (("e.bin", b""), ("o.bin", b"\x7f"), ("big.bin", data)):
            c = CliLike(port)
            self.assertEqual(c.status, b"HTTP/1.1 101 Switching Protocols\r\n")
            self.assertEqual(c.prompt, b"Password: ")
            self.assertEqual(c.version(), (1, 20, 0))
            self.assertEqual(c.put(name, payload), 0)
            c.close()
            # the next copy connects at once: the old session is over, not "busy"
            c = CliLike(port)
            self.assertEqual(c.status, b"HTTP/1.1 101 Switching Protocols\r\n")
            self.assertEqual(c.version(), (1, 20, 0))
            st, back = c.get(name)
            self.assertEqual((st, back), (0, payload), name)
            c.close()
            with open(os.path.join(self.b.state, "flash", name), "rb") as f:
                self.assertEqual(f.read(), payload)
        # a missing file is a status, and the session goes on
        c = CliLike(port)
        self.assertEqual(c.get("nothing.bin"), (2, None))
        self.assertEqual(c.version(), (1, 20, 0))
        c.close()
        # a wrong password: denied, and the connection closed
        c = CliLike(port, "wrong")
        self.assertEqual(c.read(len("\r\nAccess denied\r\n"), text_ok=True), b"\r\nAccess denied\r\n")
        with self.assertRaises((ConnectionError, AssertionError)):
            c.version()
        c.close()

    def test_password_delay_and_idle(self):
        port = self.start()
        for i in range(4):
            c = CliLike(port, "nope")
            self.assertEqual(c.read(len("\r\nAccess denied\r\n"), text_ok=True), b"\r\nAccess denied\r\n")
            c.close()
        # the right password, 5th in a row, with the version request right behind it
        c = CliLike(port)
        self.assertEqual(c.version(), (1, 20, 0))
        evs = [(e["t"], e["text"]) for e in board_events(self.b)
               if e["text"] in ("wrong password", "session logged in") or "held" in e["text"]]
        texts = [t for _, t in evs]
        self.assertEqual(texts, ["wrong password"] * 3 + [
            "password attempt held 1000 ms", "wrong password",
            "password attempt held 2000 ms", "session logged in"])
        # by the board's clock, each held attempt was answered only after its delay
        self.assertGreaterEqual(evs[4][0] - evs[3][0], 1000)
        self.assertGreaterEqual(evs[6][0] - evs[5][0], 2000)
        # the session, silent now, is closed after IDLE = 3 s with a close frame
        fl, data = c.frame()
        while fl != 0x88:
            fl, data = c.frame()
        self.assertEqual(struct.unpack(">H", data[:2])[0], 1000)
        self.assertEqual(c.s.recv(1), b"")
        c.close()
        # a connection that sends nothing at all is closed too
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.assertEqual(s.recv(1), b"")
        s.close()
        self.assertEqual([e["text"] for e in board_events(self.b)].count("idle session closed"), 2)
        # and the board still serves a new session
        c = CliLike(port)
        self.assertEqual(c.version(), (1, 20, 0))
        c.close()


if __name__ == "__main__":
    unittest.main()
