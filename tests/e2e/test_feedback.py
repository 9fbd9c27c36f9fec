"""End to end: what the button tells besides the chapter's error blink, and what it sends
about itself (docs/config.md): the success pattern on the LEDs (SUCCESS_BLINK), the battery
of the simulated board's world draining wake by wake, its voltage arriving at a real hookd in
value2 through {battery_mv} (with {presses} and {rssi} in value3), and the low-battery pattern
on every wake once the supply reads below LOW_BATTERY_MV.

SIMBOARD and HOOKD are set by CTest."""
import copy
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "hookd"))
from harness import WORLD, HookdBoardTestCase  # noqa: E402

# lit for 100 ms and dark for 100 ms, both LEDs together, twice (app/feedback.h)
SUCCESS = [("D4", True), ("D0", True), ("D4", False), ("D0", False)] * 2
# show_error(): the two LEDs taking turns for 0.5 s each, three times, then both dark
ERROR_BLINK = [("D0", True), ("D4", True), ("D0", False), ("D4", False)] * 3
# LED_PIN's LED alone, three times
LOW_BATTERY = [("D4", True), ("D4", False)] * 3


def leds(board, boot):
    return [(e["pin"], e["on"]) for e in board.wake_events(boot) if e["event"] == "led"]


def battery_world(mAh, full_mv=3300, empty_mv=2500):
    w = copy.deepcopy(WORLD)
    w["battery"] = {"mAh": mAh, "full_mv": full_mv, "empty_mv": empty_mv}
    return w


class FeedbackTest(HookdBoardTestCase):
    def url(self):
        return f"http://127.0.0.1:{self.hookd.port}/trigger/button_pressed/with/key/{self.key}"

    def press(self, b):
        b.press()
        b.wait("sleeping")
        return b.events("boot")[-1]["boot"]

    def test_success_pattern_only_when_set(self):
        r = self.receiver()
        quiet = self.board("quiet", config={"WEBHOOK_URL": r.url()})
        shown = self.board("shown", config={"WEBHOOK_URL": r.url(), "SUCCESS_BLINK": 1})
        for b in (quiet, shown):
            b.wait("sleeping")
        # the chapter's button: a press that worked leaves the LEDs dark
        boot = self.press(quiet)
        self.assertEqual(leds(quiet, boot), [], quiet.console(boot))
        boot = self.press(shown)
        self.assertEqual(len(r.requests), 2)
        self.assertEqual(shown.events("error"), [])
        self.assertEqual(leds(shown, boot), SUCCESS, shown.console(boot))
        # each flash lasts its 100 ms, and the report counts the time the LEDs took
        ev = [e for e in shown.wake_events(boot) if e["event"] == "led"]
        for on, off in ((ev[0], ev[2]), (ev[4], ev[6])):
            self.assertGreaterEqual(off["t"] - on["t"], 100)
        report = shown.wake_events(boot)[-1]
        self.assertEqual(report["event"], "report")
        self.assertGreaterEqual(report["real_ms"], ev[-1]["t"] - ev[0]["t"])
        self.assertGreaterEqual(report["radio_ms"], 113 + 400)
        # not the error blink: that is the two LEDs taking turns, 3 s
        self.assertNotIn(("D4", True), leds(quiet, boot))

    def test_battery_falls_reaches_hookd_and_warns_when_low(self):
        threshold = 3050
        b = self.board(world=battery_world(0.25), config={
            "WEBHOOK_URL": self.url(), "VALUE2": "{battery_mv}",
            "VALUE3": "press {presses} at {rssi} dBm, {{ok}}", "LOW_BATTERY_MV": threshold})
        b.wait("sleeping")
        before = {e["id"] for e in self.hookd.events(limit=500)}
        levels = [b.events("report")[-1]["battery_mv"]]   # after the power-on wake
        self.assertLess(levels[0], 3300)
        self.assertEqual(b.state_json()["battery_mv"], levels[0])
        boots = []
        # pressed until a press read the supply below the threshold (levels[-2]: what the
        # last press read; levels[-1]: what it left)
        while len(boots) < 8 and (not boots or levels[-2] >= threshold):
            boots.append(self.press(b))
            levels.append(b.events("report")[-1]["battery_mv"])
        print(f"\nfigures: feedback: battery mV after each wake (power-on, then presses): "
              f"{levels}, LOW_BATTERY_MV {threshold}", flush=True)
        self.assertLess(levels[-2], threshold, f"never below the threshold: {levels}")
        self.assertGreaterEqual(levels[0], threshold, f"below it from the start: {levels}")
        # falling wake by wake
        for a, z in zip(levels, levels[1:]):
            self.assertLess(z, a, levels)
        stored = sorted((e for e in self.hookd.events(limit=500) if e["id"] not in before),
                        key=lambda e: e["id"])
        self.assertEqual(len(stored), len(boots), b.console())
        for n, (boot, e) in enumerate(zip(boots, stored)):
            read = levels[n]   # a wake reads what the wakes before it left
            self.assertEqual(e["value2"], str(read), b.console(boot))
            self.assertEqual(e["value3"], f"press {n + 1} at -58 dBm, {{ok}}")
            low = read < threshold
            self.assertEqual(leds(b, boot), LOW_BATTERY if low else [], (read, b.console(boot)))
            said = f"Battery low: {read} mV"
            self.assertEqual(said in b.console(boot), low, b.console(boot))

    def test_unknown_placeholder_is_a_config_error(self):
        r = self.receiver()
        b = self.board(config={"WEBHOOK_URL": r.url(), "VALUE2": "at {battery}"})
        b.wait("sleeping")
        boot = self.press(b)
        self.assertEqual(r.requests, [])
        self.assertIn("config.py:8: VALUE2: unknown placeholder {battery} (known: {battery_mv}",
                      b.console(boot))
        # the chapter's error blink, not the success pattern
        self.assertEqual(b.events("error")[-1]["where"], "load_config")
        self.assertEqual(leds(b, boot), ERROR_BLINK, b.console(boot))

if __name__ == "__main__":
    unittest.main(verbosity=2)
