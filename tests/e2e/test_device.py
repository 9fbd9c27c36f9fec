"""End to end: the simulated board runs the chapter's application against a real local HTTP
server. What a user of the chapter would notice: the POST that arrives, the LEDs, the console
message, and whether the board went back to sleep."""
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import WORLD, BoardTestCase, free_port  # noqa: E402

KEY = "b7xKq2W9-fLm_4TzR8vYpA"
PATH = f"/trigger/button_pressed/with/key/{KEY}"


def led_ons(board, boot, pin):
    return [e for e in board.wake_events(boot) if e.get("event") == "led" and e.get("pin") == pin
            and e.get("on")]


def final_leds(board):
    return board.state_json()["leds"]


class DeviceTest(BoardTestCase):
    def test_power_on_sends_nothing_and_sleeps(self):
        r = self.receiver()
        b = self.board(config={"WEBHOOK_URL": r.url(PATH)})
        b.wait("sleeping")
        st = b.state_json()
        self.assertEqual(st["reset_cause"], "PWRON_RESET")
        self.assertEqual(st["mode"], "sleeping")
        self.assertEqual(r.requests, [])
        self.assertEqual(b.events("http"), [])
        self.assertEqual(b.events("error"), [])

    def test_each_press_sends_one_post(self):
        r = self.receiver()
        b = self.board(config={"WEBHOOK_URL": r.url(PATH), "BUTTON_ID": "micropython1"})
        b.wait("sleeping")
        for n in range(1, 4):
            b.press()
            b.wait("sleeping")
            self.assertEqual(len(r.requests), n, b.console())
        self.assertEqual(b.state_json()["reset_cause"], "DEEPSLEEP_RESET")
        for req in r.requests:
            self.assertEqual(req["method"], "POST")
            self.assertEqual(req["path"], PATH)
            self.assertEqual(req["headers"]["Content-Type"], "application/json")
            self.assertEqual(json.loads(req["body"]), {"value1": "micropython1"})
            self.assertEqual(req["headers"]["Host"], f"127.0.0.1:{r.port}")
        self.assertIn("Webhook invoked", b.console())
        self.assertEqual(b.events("error"), [])
        # no error blink on success: the LEDs never came on
        self.assertEqual([e for e in b.events("led") if e.get("on")], [])
        self.assertEqual(len(b.events("report")), 4)

    def test_value2_and_value3_from_config(self):
        r = self.receiver()
        b = self.board(config={"WEBHOOK_URL": r.url(PATH), "BUTTON_ID": "kitchen",
                               "VALUE2": "battery ok", "VALUE3": 'quote " and \\ slash'})
        b.wait("sleeping")
        b.press()
        b.wait("sleeping")
        self.assertEqual(json.loads(r.requests[0]["body"]),
                         {"value1": "kitchen", "value2": "battery ok",
                          "value3": 'quote " and \\ slash'})

    def assert_error_blink(self, b, boot, message):
        console = b.console(boot)
        self.assertIn(message, console)
        errors = [e for e in b.wake_events(boot) if e.get("event") == "error"]
        self.assertTrue(errors, console)
        self.assertIn(message, errors[0]["text"] + " " + errors[0]["where"])
        # the chapter's show_error(): three cycles, each LED lit three times, then both off
        self.assertEqual(len(led_ons(b, boot, "D4")), 3)
        self.assertEqual(len(led_ons(b, boot, "D0")), 3)
        leds = [e for e in b.wake_events(boot) if e.get("event") == "led"]
        self.assertGreaterEqual(leds[-1]["t"] - leds[0]["t"], 2500)   # 0.5 s steps, not a flash
        self.assertEqual(final_leds(b), {"D4": "off", "D0": "off"})
        self.assertEqual(b.state_json()["mode"], "sleeping")

    def test_server_error_500_blinks(self):
        r = self.receiver(status=500, body=b"oops")
        b = self.board(config={"WEBHOOK_URL": r.url(PATH)})
        b.wait("sleeping")
        b.press()
        b.wait("sleeping")
        self.assertEqual(len(r.requests), 1)
        self.assertIn("Webhook failed", b.console(2))
        self.assert_error_blink(b, 2, "500")

    def test_refused_connection_blinks(self):
        port = free_port()   # nobody listens here
        b = self.board(config={"WEBHOOK_URL": f"http://127.0.0.1:{port}{PATH}"})
        b.wait("sleeping")
        b.press()
        b.wait("sleeping")
        self.assert_error_blink(b, 2, "connection refused")

    def test_wrong_wifi_password_blinks(self):
        r = self.receiver()
        b = self.board(config={"WEBHOOK_URL": r.url(PATH), "WIFI_PASSWORD": "wrong"})
        b.wait("sleeping")
        b.press()
        b.wait("sleeping")
        self.assertEqual(r.requests, [])
        self.assert_error_blink(b, 2, "wrong password")

    def test_missing_ap_blinks(self):
        r = self.receiver()
        b = self.board(config={"WEBHOOK_URL": r.url(PATH), "WIFI_SSID": "gone-net"})
        b.wait("sleeping")
        b.press()
        b.wait("sleeping")
        self.assertEqual(r.requests, [])
        self.assert_error_blink(b, 2, "no AP found")

    def test_jumper_keeps_board_awake(self):
        r = self.receiver()
        b = self.board(config={"WEBHOOK_URL": r.url(PATH)})
        b.wait("sleeping")
        b.jumper(True)
        b.press()
        b.wait("idle")
        self.assertEqual(len(r.requests), 1)
        self.assertIn("Debug mode detected.", b.console(2))
        time.sleep(0.5)
        self.assertEqual(b.state_json()["mode"], "idle")
        # pressing RESET while awake is a hard reset, and without the jumper it sleeps again
        b.jumper(False)
        b.press()
        b.wait("sleeping")
        self.assertEqual(b.state_json()["reset_cause"], "HARD_RESET")
        self.assertEqual(len(r.requests), 1)   # only DEEPSLEEP_RESET fires the webhook

    def test_three_boards_three_ids(self):
        r = self.receiver()
        boards = [self.board(name=f"b{i}", config={"WEBHOOK_URL": r.url(PATH),
                                                     "BUTTON_ID": f"button{i}"})
                  for i in range(3)]
        for b in boards:
            b.wait("sleeping")
        for b in boards:
            b.press()
        for b in boards:
            b.wait("sleeping")
        ids = sorted(json.loads(q["body"])["value1"] for q in r.requests)
        self.assertEqual(ids, ["button0", "button1", "button2"])

    def test_hung_firmware_is_reset_by_the_watchdog(self):
        world = dict(WORLD, wdt_ms=2000, faults={"firmware_hang": 1})
        b = self.board(world=world)
        b.wait("sleeping")
        boots = b.events("boot")
        self.assertEqual([e["reset_cause"] for e in boots], ["PWRON_RESET", "WDT_RESET"])
        self.assertEqual(b.events("reset")[0]["cause"], "WDT_RESET")

    def test_dns_failure_and_dhcp_silence_are_clear(self):
        r = self.receiver()
        b = self.board(name="dns", world=dict(WORLD, faults={"dns_fail": True}),
                       config={"WEBHOOK_URL": f"http://hooks.example:{r.port}{PATH}"})
        b.wait("sleeping")
        b.press()
        b.wait("sleeping")
        self.assert_error_blink(b, 2, "host name not found")
        c = self.board(name="dhcp", world=dict(WORLD, faults={"dhcp_fail": True}),
                       config={"WEBHOOK_URL": r.url(PATH), "WIFI_TIMEOUT": 2})
        c.wait("sleeping")
        c.press()
        c.wait("sleeping")
        self.assert_error_blink(c, 2, "not connected after 2 s")
        self.assertEqual(r.requests, [])

    def test_bad_config_names_the_line(self):
        r = self.receiver()
        b = self.board(config={"WEBHOOK_URL": r.url(PATH), "LED_PIN": 6})
        b.wait("sleeping")
        self.assertIn("config.py:", b.console())
        self.assertIn("LED_PIN", b.console())
        b.press()
        b.wait("sleeping")
        self.assertEqual(r.requests, [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
