"""End to end: the fast wake (docs/fast-wake.md) on the simulated board against a real local
HTTP server. A second press joins without a scan or DHCP and skips the DNS look-up; when the
world changes under it (the AP moves channel, the lease runs out) the wake falls back to the
full path by itself. Every press arrives exactly once."""
import copy
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import WORLD, Board, BoardTestCase, Receiver  # noqa: E402

PATH = "/trigger/button_pressed/with/key/k"


def world(**kw):
    w = copy.deepcopy(WORLD)
    w["hosts"] = {"hook.test": "127.0.0.1"}
    for k, v in kw.items():
        w[k] = v
    return w


class FastWakeTest(BoardTestCase):
    def setup_board(self, w=None, **config):
        r = Receiver()
        self.receivers.append(r)
        url = r.url(PATH).replace("127.0.0.1", "hook.test")
        b = Board(self.tmp, world=w or world(), config={"WEBHOOK_URL": url, **config})
        self.boards.append(b)
        b.wait("sleeping")
        return b, r

    def press(self, b, r, n):
        """Press; the wake's report once the press (the n-th) arrived."""
        b.press()
        b.wait("sleeping")
        self.assertEqual(len(r.requests), n, b.console())
        self.assertEqual(b.events("error"), [], b.console())
        return b.events("report")[-1]

    def test_second_press_skips_scan_dhcp_and_dns(self):
        b, r = self.setup_board()
        full = self.press(b, r, 1)
        self.assertEqual((full["scans"], full["assocs"], full["dhcp"], full["dns"]), (1, 1, 1, 1))
        for n in (2, 3):
            fast = self.press(b, r, n)
            self.assertEqual((fast["scans"], fast["assocs"], fast["dhcp"], fast["dns"]),
                             (0, 1, 0, 0), b.console())
            self.assertEqual(fast["tcp"], 1)
            # 113 boot + 160 association + 40 request, and the wake's real time (not asserted:
            # a loaded or sanitized simulation is slower than the chip)
            self.assertLess(fast["radio_ms"] - fast["real_ms"], 400)
            self.assertLess(fast["radio_ms"] * 4, full["radio_ms"])
        joins = [e for e in b.events("radio") if e.get("what") == "join"]
        self.assertEqual(joins[-1]["result"], "GOT_IP")

    def test_slow_host_changes_nothing(self):
        # The host stalls the firmware 300 ms at each flash read, as a loaded machine or
        # valgrind does: config.py is read after the boot's auto-connect began, and 300 ms is
        # longer than that join's scan and association. The chip's code takes milliseconds;
        # the board's clock does not count the stall, so each wake still replaces the
        # auto-connect before its scan ends: one scan for the full press, none for the fast
        # one (docs/simulated-board.md, "The board's time").
        for fast_wake in (1, 0):
            w = world()
            w["faults"] = {"host_stall_ms": 300}
            b, r = self.setup_board(w, FAST_WAKE=fast_wake)
            self.press(b, r, 1)
            rep = self.press(b, r, 2)
            self.assertEqual((rep["scans"], rep["assocs"], rep["dhcp"]),
                             (0, 1, 0) if fast_wake else (1, 1, 1), b.console())
            self.assertGreaterEqual(rep["real_ms"] - rep["board_ms"], 300)   # it did stall

    def test_ap_moved_channel(self):
        w = world()
        w["aps"][0]["channel_after_boot"] = {"boot": 3, "channel": 11}
        b, r = self.setup_board(w)
        self.press(b, r, 1)                  # boot 2: full path, AP kept on channel 6
        moved = self.press(b, r, 2)          # boot 3: the AP is on 11 now
        self.assertIn("Fast join failed (status 3): scanning", b.console(3))
        fb = [e for e in b.wake_events(3) if e.get("event") == "wifi"]
        self.assertEqual([(e["where"], e["code"]) for e in fb], [("fast_join", 3)])
        # the failed join to channel 6 (one association's time), then the full path
        self.assertEqual((moved["scans"], moved["assocs"], moved["dhcp"]), (1, 2, 1))
        again = self.press(b, r, 3)          # boot 4: fast on the new channel
        self.assertEqual((again["scans"], again["dhcp"]), (0, 0))
        self.assertEqual(b.state_json()["link"], "IDLE")

    def test_ap_does_not_answer(self):
        w = world()
        # from boot 3 on, the AP ignores association requests in the first 2 s of each wake
        w["faults"] = {"ap_silent_after_boot": {"boot": 3, "ms": 2000}}
        b, r = self.setup_board(w)
        self.press(b, r, 1)
        rep = self.press(b, r, 2)            # the fast join times out (3 s), then the full path
        self.assertIn("Fast join failed (status 1): scanning", b.console(3))
        self.assertEqual((rep["scans"], rep["assocs"], rep["dhcp"]), (1, 1, 1))
        self.assertGreater(rep["radio_ms"], 3000 + 1500)   # the wait, then a scan
        joins = [e["result"] for e in b.wake_events(3) if e.get("what") == "join"]
        self.assertEqual(joins[-2:], ["no AP answer", "GOT_IP"])

    def test_kept_address_not_routed(self):
        w = world()
        # from boot 3 on, the first TCP connect of each wake gets no answer
        w["faults"] = {"tcp_drop_after_boot": {"boot": 3, "connects": 1}}
        b, r = self.setup_board(w, HTTP_TIMEOUT=20)
        self.press(b, r, 1)
        rep = self.press(b, r, 2)            # fast join, connect times out, full join, again
        self.assertEqual((rep["scans"], rep["assocs"], rep["dhcp"], rep["tcp"]), (1, 2, 1, 2),
                         b.console(3))
        # the first attempt timed out at connect, nothing sent; the second got the 200
        codes = [e["code"] for e in b.wake_events(3) if e.get("event") == "http"]
        self.assertEqual(codes, [-5, 200])
        self.assertEqual(b.console(3).count("Connecting to WiFi..."), 2)

    def test_lease_ran_out(self):
        w = world()
        w["dhcp"] = dict(w["dhcp"], lease_s=2)   # used until half of it: 1 s
        b, r = self.setup_board(w)
        self.press(b, r, 1)
        time.sleep(1.2)
        renewed = self.press(b, r, 2)
        self.assertEqual((renewed["scans"], renewed["dhcp"]), (0, 1))

    def test_dns_answer_expires_with_its_ttl(self):
        b, r = self.setup_board(world(dns_ttl_s=1))
        self.press(b, r, 1)
        time.sleep(1.2)
        rep = self.press(b, r, 2)
        self.assertEqual(rep["dns"], 1)

    def test_fast_wake_off_is_the_chapter(self):
        b, r = self.setup_board(FAST_WAKE=0)
        for n in (1, 2):
            rep = self.press(b, r, n)
            self.assertEqual((rep["scans"], rep["assocs"], rep["dhcp"], rep["dns"]),
                             (1, 1, 1, 1))
            self.assertGreater(rep["radio_ms"], 1500 + 1000)   # a scan and DHCP, at least

    def test_power_loss_forgets(self):
        b, r = self.setup_board()
        self.press(b, r, 1)
        b.off()
        self.boards.remove(b)
        b2 = Board(self.tmp, name="board", world=world(),
                   config={"WEBHOOK_URL": r.url(PATH).replace("127.0.0.1", "hook.test")})
        self.boards.append(b2)
        b2.wait("sleeping")
        rep = self.press(b2, r, 2)
        self.assertEqual((rep["scans"], rep["dhcp"], rep["dns"]), (1, 1, 1))


if __name__ == "__main__":
    unittest.main(verbosity=2)
