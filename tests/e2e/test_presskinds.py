"""End to end: single, double and long presses (docs/press-kinds.md). A simulated board presses
against a real hookd, through the TCP proxy of test_presses.py; hookd's events say what an
applet would see: which event each press went to, and that each press arrived once (its
Idempotency-Key, and hookd's duplicate count), and {press} in VALUE2 says each one's kind.
Each test prints pressed, sent, stored and duplicates.

- simboard press --double: one double event;
- a second press while the first is still joining Wi-Fi: the first press becomes the double;
- a second press while the first press's POST is in flight (hookd has stored it, its reply is
  held): the first is sent again with its key (a duplicate, stored once) and the second is a
  double: a single and a double, each once;
- simboard press --hold: a long press on BUTTON_PIN, and a short hold that stays a single;
- press --hold on a board whose button is wired to RST only: refused, saying why.

SIMBOARD and HOOKD are set by CTest."""
import copy
import os
import socket
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "hookd"))
from harness import WORLD, HookdBoardTestCase  # noqa: E402
from test_presses import Proxy  # noqa: E402


class HoldingProxy(Proxy):
    """Proxy with one more mode, "hold_reply": the request goes on to hookd at once (hookd
    stores the event), and its reply waits until release is set: a POST in flight."""

    def __init__(self, upstream_port):
        self.forwarded = threading.Event()
        self.release = threading.Event()
        super().__init__(upstream_port)

    def _serve(self, c):
        if self.mode != "hold_reply":
            return super()._serve(c)
        c.settimeout(30)
        try:
            got = self._read_request(c)
            if not got:
                return
            head, raw = got
            for line in head.split(b"\r\n")[1:]:
                k, _, v = line.partition(b":")
                if k.strip().lower() == b"idempotency-key":
                    self.keys.append(v.strip().decode())
            up = socket.create_connection(("127.0.0.1", self.upstream), timeout=30)
            up.sendall(raw)
            reply = b""
            while True:
                chunk = up.recv(65536)
                if not chunk:
                    break
                reply += chunk
            up.close()
            self.forwarded.set()
            self.release.wait(30)
            c.sendall(reply)     # to a board that was reset meanwhile: nobody reads it
        except OSError:
            pass
        finally:
            c.close()


class PressKindTest(HookdBoardTestCase):
    def setUp(self):
        super().setUp()
        self.proxy = HoldingProxy(self.hookd.port)
        self.before = {e["id"] for e in self.hookd.events(limit=500)}
        self.dups_before = self.duplicates()

    def tearDown(self):
        self.proxy.release.set()
        self.proxy.close()
        super().tearDown()

    def duplicates(self):
        return self.hookd.metrics().get('hookd_triggers_total{result="duplicate"}', 0)

    def stored(self):
        """This test's events in hookd, oldest first: (event, Idempotency-Key)."""
        evs = [e for e in self.hookd.events(limit=500) if e["id"] not in self.before]
        return [(e["event"], e["idempotency_key"]) for e in sorted(evs, key=lambda e: e["id"])]

    def kinds(self):
        """What {press} in VALUE2 said, for this test's events, oldest first."""
        evs = [e for e in self.hookd.events(limit=500) if e["id"] not in self.before]
        return [e["value2"] for e in sorted(evs, key=lambda e: e["id"])]

    def make_board(self, world=None, **config):
        cfg = {"WEBHOOK_URL": f"http://127.0.0.1:{self.proxy.port}/trigger/button_pressed/"
                              f"with/key/{self.key}",
               "DOUBLE_EVENT": "button_double", "LONG_EVENT": "button_long",
               "VALUE2": "{press}", "RETRY_WAKE": 600}
        cfg.update(config)
        b = self.board(world=world, config=cfg)
        b.wait("sleeping")
        return b

    def counts(self, name, pressed):
        c = {"pressed": pressed, "sent": len(self.proxy.keys), "stored": len(self.stored()),
             "duplicates": int(self.duplicates() - self.dups_before)}
        print(f"\n  {name}: " + ", ".join(f"{k} {v}" for k, v in c.items()), flush=True)
        return c

    @staticmethod
    def seq(key):
        return int(key.split("-")[2])

    def wait_console(self, b, text, timeout=20):
        boot = b.events("boot")[-1]["boot"]
        end = time.time() + timeout
        while time.time() < end:
            if text in b.console(boot):
                return
            time.sleep(0.02)
        self.fail(f"boot {boot} never printed {text!r}:\n{b.console(boot)}")

    def test_simboard_press_double(self):
        b = self.make_board()
        b.ctl("press", "--double")
        b.wait("sleeping")
        self.assertEqual(self.counts("press --double", 2),
                         {"pressed": 2, "sent": 1, "stored": 1, "duplicates": 0})
        (event, key), = self.stored()
        self.assertEqual(event, "button_double")
        self.assertEqual(self.seq(key), 0)      # one press: the first since power-on
        self.assertIn("Double press", b.console(b.events("boot")[-1]["boot"]))
        self.assertEqual([e["mode"] for e in b.events("press")], ["sleeping", "running"])
        # a press after the board went back to sleep is a single again
        b.press()
        b.wait("sleeping")
        self.assertEqual([e for e, _ in self.stored()], ["button_double", "button_pressed"])
        self.assertEqual(self.kinds(), ["double", "single"])

    def test_second_press_while_joining_makes_the_first_a_double(self):
        world = copy.deepcopy(WORLD)
        world["delays"] = {"scan_ms": 3000}     # the full join's scan: time to press again
        b = self.make_board(world=world, FAST_WAKE=0)
        b.press()
        self.wait_console(b, "Connecting to WiFi...")   # the press is kept by then
        b.press()
        b.wait("sleeping")
        self.assertEqual(self.counts("second press while joining", 2),
                         {"pressed": 2, "sent": 1, "stored": 1, "duplicates": 0})
        (event, key), = self.stored()
        self.assertEqual((event, self.seq(key)), ("button_double", 0))
        self.assertEqual([e["reset_cause"] for e in b.events("boot")],
                         ["PWRON_RESET", "DEEPSLEEP_RESET", "HARD_RESET"])

    def test_second_press_while_the_post_is_in_flight(self):
        b = self.make_board()
        self.proxy.mode = "hold_reply"
        b.press()
        self.assertTrue(self.proxy.forwarded.wait(20), "the first press's POST never came")
        self.assertEqual(len(self.stored()), 1)  # hookd has it; the board has no reply yet
        self.proxy.mode = "up"
        b.press()                                # RESET while the POST is in flight
        self.proxy.release.set()
        b.wait("sleeping")
        c = self.counts("second press while the POST is in flight", 2)
        self.assertEqual(c, {"pressed": 2, "sent": 3, "stored": 2, "duplicates": 1})
        stored = self.stored()
        # the first press went twice with its key and is one single; the second, a double
        self.assertEqual(self.proxy.keys[0], self.proxy.keys[1])
        self.assertEqual(stored, [("button_pressed", self.proxy.keys[0]),
                                  ("button_double", self.proxy.keys[2])])
        self.assertEqual([self.seq(k) for k in self.proxy.keys], [0, 0, 1])
        self.assertEqual(self.kinds(), ["single", "double"])
        last = b.events("boot")[-1]
        self.assertEqual(last["reset_cause"], "HARD_RESET")
        self.assertIn("Double press", b.console(last["boot"]))
        self.assertEqual(b.events("sleep")[-1]["ms"], 0)   # nothing left kept

    def test_long_press_on_button_pin(self):
        world = copy.deepcopy(WORLD)
        world["button_gpio"] = 12
        b = self.make_board(world=world, BUTTON_PIN=12)
        # held 3 s: still down when the firmware looks a second after the boot, with room to
        # spare on a loaded machine; 0.2 s: let go well before, a single
        for hold in ("3", "0.2"):
            b.ctl("press", "--hold", hold)
            b.wait("sleeping")
            end = time.time() + 10
            while len(b.events("release")) < len(b.events("hold")) and time.time() < end:
                time.sleep(0.05)
        self.assertIn("Long press", b.console(b.events("boot")[-2]["boot"]))
        self.assertEqual(self.counts("held 3 s, then 0.2 s", 2),
                         {"pressed": 2, "sent": 2, "stored": 2, "duplicates": 0})
        self.assertEqual([e for e, _ in self.stored()], ["button_long", "button_pressed"])
        self.assertEqual(self.kinds(), ["long", "single"])
        self.assertEqual([e["ms"] for e in b.events("hold")], [3000, 200])
        # a press while the button is still held is refused: one button, one finger
        b.ctl("press", "--hold", "20")
        r = b.ctl("press", "--hold", "1", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("the button is already held", r.stderr)
        self.assertEqual(len(b.events("press")), 3)

    def test_hold_needs_the_button_on_a_gpio(self):
        b = self.make_board()
        r = b.ctl("press", "--hold", "2", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("the board's button is wired to RST only: press --hold needs "
                      "\"button_gpio\" in its world file", r.stderr)
        self.assertEqual(b.events("press"), [])  # and nothing was pressed


if __name__ == "__main__":
    unittest.main(verbosity=2)
