"""End to end: no press is lost (docs/press-queue.md). A simulated board presses against a real
hookd through a small TCP proxy that plays the faults of the way between them: the endpoint
down (nothing listens), a reply lost after hookd stored the event, a silent server, a 503, a
peer that breaks the TLS handshake. hookd counts what it stored (its JSON API) and the repeats
it recognised by their Idempotency-Key (its metrics); each test prints pressed, sent, stored and
duplicates. Whatever fails, the board is back in deep sleep within AWAKE_MAX and its next wake
says why.

SIMBOARD and HOOKD are set by CTest."""
import copy
import json
import os
import socket
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "hookd"))
from harness import WORLD, HookdBoardTestCase, free_port  # noqa: E402

AWAKE_MAX = 6


class Proxy:
    """Between the board and hookd. mode: "up" (forward), "drop_reply" (forward, then close
    without the reply), "silent" (read the request, answer nothing), "503" (answer it
    ourselves), "tls_alert" (answer a TLS ClientHello with a fatal handshake_failure alert, as
    a server refusing every cipher suite or client does). down() closes the listening
    socket, so connects are refused; up() listens again on the same port."""

    def __init__(self, upstream_port):
        self.upstream = upstream_port
        self.port = free_port()
        self.mode = "up"
        self.keys = []            # the Idempotency-Key of every request that arrived
        self.lsock = None
        self.held = []
        self.up()

    def up(self, mode="up"):
        self.mode = mode
        if self.lsock:
            return
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port))
        s.listen(16)
        self.lsock = s
        threading.Thread(target=self._accept, args=(s,), daemon=True).start()

    def down(self):
        if self.lsock:
            # shutdown() stops the listening at once (and wakes the accepting thread)
            try:
                self.lsock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.lsock.close()
            self.lsock = None

    def _accept(self, s):
        while True:
            try:
                c, _ = s.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    @staticmethod
    def _read_request(c):
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = c.recv(4096)
            if not chunk:
                return None
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        n = 0
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                n = int(v)
        while len(body) < n:
            chunk = c.recv(4096)
            if not chunk:
                return None
            body += chunk
        return head, data

    def _serve(self, c):
        c.settimeout(30)
        try:
            if self.mode == "tls_alert":
                c.recv(4096)
                c.sendall(bytes([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]))
                return
            got = self._read_request(c)
            if not got:
                return
            head, raw = got
            key = ""
            for line in head.split(b"\r\n")[1:]:
                k, _, v = line.partition(b":")
                if k.strip().lower() == b"idempotency-key":
                    key = v.strip().decode()
            self.keys.append(key)
            if self.mode == "silent":
                self.held.append(c)     # kept open, never answered
                c = None
                return
            if self.mode == "503":
                c.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                          b"Connection: close\r\n\r\n")
                return
            up = socket.create_connection(("127.0.0.1", self.upstream), timeout=30)
            up.sendall(raw)
            reply = b""
            while True:
                chunk = up.recv(65536)
                if not chunk:
                    break
                reply += chunk
            up.close()
            if self.mode != "drop_reply":
                c.sendall(reply)
        except OSError:
            pass
        finally:
            if c:
                c.close()

    def close(self):
        self.down()
        for c in self.held:
            c.close()


class PressTest(HookdBoardTestCase):
    def setUp(self):
        super().setUp()
        self.proxy = Proxy(self.hookd.port)
        self.before = {e["id"] for e in self.hookd.events(limit=500)}
        self.dups_before = self.duplicates()

    def tearDown(self):
        self.proxy.close()
        super().tearDown()

    def duplicates(self):
        return self.hookd.metrics().get('hookd_triggers_total{result="duplicate"}', 0)

    def stored(self):
        """This test's events in hookd, oldest first."""
        evs = [e for e in self.hookd.events(limit=500) if e["id"] not in self.before]
        return sorted(evs, key=lambda e: e["id"])

    def url(self, scheme="http"):
        return f"{scheme}://127.0.0.1:{self.proxy.port}/trigger/button_pressed/with/key/{self.key}"

    def make_board(self, world=None, **config):
        cfg = {"WEBHOOK_URL": self.url(), "AWAKE_MAX": AWAKE_MAX, "RETRY_WAKE": 600}
        cfg.update(config)
        b = self.board(world=world, config=cfg)
        b.wait("sleeping")
        return b

    def press(self, b):
        b.press()
        b.wait("sleeping")
        return b.events("boot")[-1]["boot"]

    def counts(self, name, b, pressed):
        """pressed; sent: requests that reached the endpoint (the proxy); stored: events in
        hookd; duplicates: repeats hookd recognised by their key. Printed with the board's
        attempts (its http reports, failed ones included)."""
        stored = self.stored()
        c = {"pressed": pressed, "sent": len(self.proxy.keys), "stored": len(stored),
             "duplicates": int(self.duplicates() - self.dups_before)}
        print(f"\n  {name}: " + ", ".join(f"{k} {v}" for k, v in c.items()) +
              f" (attempts {len(b.events('http'))})", flush=True)
        return c, stored

    def awake_ms(self, b, boot):
        """How long the wake lasted by the board's own clock (the report's board_ms), the clock
        AWAKE_MAX is counted on: what the firmware waited, each wait at most what it asked.
        The host's time (the events' t) also holds the pace at which the host ran the code
        in between, which a loaded machine stretches without limit; it is printed, not
        asserted."""
        evs = b.wake_events(boot)
        self.assertTrue([e for e in evs if e["event"] == "sleep"],
                        f"boot {boot} did not end in deep sleep:\n{b.console(boot)}")
        report = [e for e in evs if e["event"] == "report"][-1]
        return report["board_ms"], report["real_ms"]

    def last_wake(self, b, boot):
        """The reason the wake before `boot` failed, as `boot` reported it."""
        got = [e for e in b.wake_events(boot)
               if e["event"] == "info" and e.get("where") == "last_wake"]
        self.assertEqual(len(got), 1, b.console(boot))
        return got[0]["text"]

    # -- no lost presses --------------------------------------------------------------------

    def test_endpoint_down_three_presses_then_up(self):
        b = self.make_board()
        self.proxy.down()
        boots = [self.press(b) for _ in range(3)]
        for n, boot in enumerate(boots, 1):
            self.assertIn("connection refused", b.console(boot))
            # a failed press arms the retry timer (RETRY_WAKE s)
            self.assertEqual([e["ms"] for e in b.wake_events(boot) if e["event"] == "sleep"],
                             [600000])
        self.assertIn("call_webhook: connection refused (-7); 2 kept", self.last_wake(b, boots[2]))
        self.proxy.up()
        boot = self.press(b)
        self.assertIn("call_webhook: connection refused (-7); 3 kept", self.last_wake(b, boot))
        c, stored = self.counts("endpoint down for 3 presses, then up", b, 4)
        self.assertEqual(c, {"pressed": 4, "sent": 4, "stored": 4, "duplicates": 0})
        keys = [e["idempotency_key"] for e in stored]
        self.assertEqual(keys, self.proxy.keys)                 # in the order pressed
        self.assertEqual(len(set(keys)), 4)
        mac = b.state_json()["mac"].replace(":", "")
        self.assertEqual([k.split("-")[0] for k in keys], [mac] * 4)
        self.assertEqual([int(k.split("-")[2]) for k in keys], [0, 1, 2, 3])
        self.assertEqual([e["value1"] for e in stored], ["micropython1"] * 4)
        # nothing kept: the next sleep is until RESET, and a fifth press sends one request
        self.assertEqual(b.events("sleep")[-1]["ms"], 0)
        self.press(b)
        c, _ = self.counts("one more press", b, 5)
        self.assertEqual((c["sent"], c["stored"], c["duplicates"]), (5, 5, 0))

    def test_reply_lost_after_hookd_stored_it(self):
        b = self.make_board()
        self.proxy.mode = "drop_reply"
        boot = self.press(b)
        self.assertIn("Webhook failed", b.console(boot))
        self.assertEqual(len(self.stored()), 1)                 # hookd has it; the board not
        self.proxy.mode = "up"
        boot = self.press(b)
        self.assertIn("call_webhook: connection closed by peer", self.last_wake(b, boot))
        c, stored = self.counts("reply lost, then retried", b, 2)
        self.assertEqual(c, {"pressed": 2, "sent": 3, "stored": 2, "duplicates": 1})
        # the first press went twice with one key, and is one event
        self.assertEqual(self.proxy.keys[0], self.proxy.keys[1])
        self.assertEqual([e["idempotency_key"] for e in stored],
                         [self.proxy.keys[0], self.proxy.keys[2]])

    def test_timed_wake_retries_by_itself(self):
        b = self.make_board(RETRY_WAKE=1)
        self.proxy.down()
        boot = self.press(b)
        self.assertEqual([e["ms"] for e in b.wake_events(boot) if e["event"] == "sleep"],
                         [1000])
        self.proxy.up()
        # no press: the timer wakes the board, which sends the kept press
        end = time.time() + 30
        while time.time() < end and not self.stored():
            time.sleep(0.1)
        b.wait("sleeping")
        timer_boot = b.events("boot")[-1]["boot"]
        self.assertEqual(timer_boot, boot + 1)                 # nobody pressed
        self.assertEqual(len(b.events("timer")), 1)
        self.assertEqual(len(b.events("press")), 1)
        self.assertIn("Retry wake: 1 kept", b.console(timer_boot))
        c, _ = self.counts("timed retry wake", b, 1)
        self.assertEqual((c["stored"], c["duplicates"]), (1, 0))
        self.assertEqual(b.events("sleep")[-1]["ms"], 0)       # nothing left: no more timer

    # -- the awake bound ------------------------------------------------------------------------

    def test_every_failure_sleeps_within_the_bound_and_is_named(self):
        dhcp_silent = copy.deepcopy(WORLD)
        dhcp_silent["faults"] = {"dhcp_fail": True}
        dns_down = copy.deepcopy(WORLD)
        dns_down["faults"] = {"dns_fail": True}
        dns_down["hosts"] = {"hook.test": "127.0.0.1"}
        cases = [
            ("no AP", None, {"WIFI_SSID": "gone-net"}, None, "connect_wifi: no AP found"),
            ("wrong password", None, {"WIFI_PASSWORD": "wrong"}, None,
             "connect_wifi: wrong password"),
            ("DHCP silent", dhcp_silent, {"WIFI_TIMEOUT": 30}, None, "connect_wifi: timed out"),
            ("DNS down", dns_down, {"WEBHOOK_URL": self.url().replace("127.0.0.1", "hook.test")},
             None, "call_webhook: host name not found"),
            ("server refuses", None, {}, "down", "call_webhook: connection refused"),
            ("server silent", None, {"HTTP_TIMEOUT": 30}, "silent", "call_webhook: timed out"),
            ("server 503", None, {}, "503", "call_webhook: HTTP status (503)"),
            ("TLS refused", None, {"WEBHOOK_URL": self.url("https")}, "tls_alert",
             "call_webhook: TLS handshake failed"),
        ]
        for name, world, config, mode, reason in cases:
            with self.subTest(name):
                b = self.board(name=name.replace(" ", "-"), world=world,
                               config={"WEBHOOK_URL": self.url(), "AWAKE_MAX": AWAKE_MAX,
                                       "RETRY_WAKE": 600, **config})
                b.wait("sleeping")
                if mode == "down":
                    self.proxy.down()
                elif mode:
                    self.proxy.up(mode)
                boot = self.press(b)
                ms, host_ms = self.awake_ms(b, boot)
                print(f"\n  {name}: asleep after {ms} ms of the board's clock (bound "
                      f"{AWAKE_MAX * 1000} ms; {host_ms} ms of the host's)", flush=True)
                self.assertLessEqual(ms, AWAKE_MAX * 1000, b.console(boot))
                self.assertEqual(len(b.events("error")), 1, b.console(boot))
                boot = self.press(b)                     # the next wake names the reason
                self.assertIn(reason, self.last_wake(b, boot))
                self.assertIn("Last wake failed in " + reason, b.console(boot))
                report = [e for e in b.wake_events(boot) if e["event"] == "report"]
                self.assertIn(reason, report[-1].get("last_wake_failed", ""), report)
                self.proxy.up("up")
        self.assertEqual(self.stored(), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
