"""hookd's homeassistant action against a real mosquitto, through a real hookd: buttons
pressed with kinds and battery values become Home Assistant MQTT discovery devices (a retained
config per entity, once per button id), one event message per press and the battery sensor's
state; a restarted broker (no persistence) gets the configs again, and so does Home Assistant
when it says it started (its birth message); bad settings are refused
at save naming the field; a press kind that is not an event type fails its delivery, saying so.

What a subscriber sees is read with mosquitto_sub over MQTT 5 with --retain-as-published, so
the retain flag of each message is the one hookd set.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hookd_harness import (Broker, Hookd, NO_LIMITS, SLOW, free_port, mosquitto_sub,  # noqa: E402
                           stop_sub, wait_for)

TYPES = ["single", "double", "long"]


class Sub:
    """mosquitto_sub on homeassistant/# and hookd/#, started once it has its SUBACK; each
    message as (retain, topic, payload)."""

    def __init__(self, port):
        self.msgs = []
        self.lock = threading.Lock()
        self.proc = mosquitto_sub("-h", "127.0.0.1", "-p", str(port), "-t", "homeassistant/#",
                                  "-t", "hookd/#", "-q", "1", "-V", "5", "--retain-as-published",
                                  "-F", r"%r\t%t\t%p")
        self.thread = threading.Thread(target=self.read, daemon=True)
        self.thread.start()

    def read(self):
        for raw in iter(self.proc.stdout.readline, b""):
            parts = raw.decode("utf-8", "replace").rstrip("\n").split("\t", 2)
            if len(parts) == 3 and parts[0] in ("0", "1"):
                with self.lock:
                    self.msgs.append((parts[0] == "1", parts[1], parts[2]))

    def got(self):
        with self.lock:
            return list(self.msgs)

    def upto_sentinel(self, port):
        """Every message before a sentinel published now: the broker has acknowledged hookd's
        messages (the deliveries are done), so it queued them to us before the sentinel."""
        topic = "hookd/zz-sentinel-%d" % time.monotonic_ns()
        subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-t", topic,
                        "-m", "x", "-q", "1"], check=True, timeout=10)
        wait_for("the sentinel", lambda: any(t == topic for _, t, _ in self.got()), 15)
        out = []
        for m in self.got():
            if m[1] == topic:
                return out
            out.append(m)

    def stop(self):
        stop_sub(self.proc)
        self.proc.stdout.close()


def device(bid):
    return {"identifiers": ["hookd_" + bid], "name": bid, "manufacturer": "buttonhook",
            "model": "Wi-Fi button"}


def event_config(bid, types=TYPES):
    return {"name": "Press", "unique_id": "hookd_%s_press" % bid,
            "default_entity_id": "event.%s_press" % bid, "state_topic": "hookd/%s/press" % bid,
            "device_class": "button", "event_types": types, "device": device(bid),
            "origin": {"name": "hookd"}}


def sensor_config(bid):
    return {"name": "Battery", "unique_id": "hookd_%s_battery" % bid,
            "default_entity_id": "sensor.%s_battery" % bid,
            "state_topic": "hookd/%s/battery" % bid, "device_class": "voltage",
            "unit_of_measurement": "mV", "state_class": "measurement",
            "entity_category": "diagnostic", "device": device(bid), "origin": {"name": "hookd"}}


class HomeAssistant(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="hookd-ha-")
        cls.broker = Broker(cls.tmp)
        # retries soon, for test_8's broker that comes up late
        cls.h = Hookd({"limits": NO_LIMITS,
                       "deliveries": {"backoff_initial_ms": 300, "backoff_max_ms": 2000}})
        cls.h.start()
        cls.fields = {"host": "127.0.0.1", "port": cls.broker.port, "press": "value2",
                      "battery_mv": "value3", "timeout": 10 * SLOW}
        for name, event, fields in (
                ("ha", "button_pressed", cls.fields),
                # separate event names: the kind is the name's suffix, the rest as above
                ("ha suffix", "button_pressed_long", dict(cls.fields, press="event_suffix"))):
            st, a = cls.h.api("POST", "/api/applets", {"name": name, "event": event,
                                                        "action": "homeassistant",
                                                        "fields": fields})
            assert st == 201, a

    @classmethod
    def tearDownClass(cls):
        try:
            rc = cls.h.stop()
            assert rc == 0, "hookd exited %s:\n%s" % (rc, cls.h.log())
        finally:
            cls.h.cleanup()
            cls.broker.stop()
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def press(self, bid, kind=None, mv=None, event="button_pressed"):
        body = {"value1": bid}
        if kind is not None:
            body["value2"] = kind
        if mv is not None:
            body["value3"] = mv
        st, _, b = self.h.trigger(event, json_body=body)
        self.assertEqual(st, 200, b)

    def delivered(self, n, state="done"):
        """Waits until n deliveries are in state; returns them, oldest first."""
        found = []

        def check():
            found[:] = [d for e in self.h.events(limit=100) for d in e["deliveries"]
                        if d["state"] == state]
            return len(found) >= n
        wait_for("%d deliveries %s" % (n, state), check, 30, self.h)
        return sorted(found, key=lambda d: d["id"])

    def test_1_two_buttons_announced_once_each_press_one_event(self):
        sub = Sub(self.broker.port)
        try:
            done0 = len(self.delivered(0))
            # one at a time: workers deliver presses in parallel, so only then in order
            for k, args in enumerate((("kitchen", "single", "2950"),
                                      ("kitchen", "double", "2941"),
                                      ("hall", "long"),         # no battery value: no state
                                      ("hall", "", "3100"),     # no kind: the first type
                                      ("kitchen",))):           # neither
                self.press(*args)
                done = self.delivered(done0 + k + 1)
            self.assertTrue(all(d["applet"] == "ha" for d in done), done)
            got = sub.upto_sentinel(self.broker.port)
        finally:
            sub.stop()
        configs = [(r, t, json.loads(p)) for r, t, p in got if t.endswith("/config")]
        self.assertEqual(sorted(configs, key=lambda m: m[1]), [
            (True, "homeassistant/event/hall/press/config", event_config("hall")),
            (True, "homeassistant/event/kitchen/press/config", event_config("kitchen")),
            (True, "homeassistant/sensor/hall/battery/config", sensor_config("hall")),
            (True, "homeassistant/sensor/kitchen/battery/config", sensor_config("kitchen")),
        ])
        states = [(r, t, p) for r, t, p in got if not t.endswith("/config")]
        by_button = {}
        for r, t, p in states:
            by_button.setdefault(t.split("/")[1], []).append(
                (r, t.split("/")[2], json.loads(p) if t.endswith("/press") else p))
        self.assertEqual(by_button["kitchen"], [
            (False, "press", {"event_type": "single"}), (True, "battery", "2950"),
            (False, "press", {"event_type": "double"}), (True, "battery", "2941"),
            (False, "press", {"event_type": "single"})])
        self.assertEqual(by_button["hall"], [
            (False, "press", {"event_type": "long"}),
            (False, "press", {"event_type": "single"}), (True, "battery", "3100")])
        # each button's configs came before its first press
        for bid in ("kitchen", "hall"):
            topics = [t for _, t, _ in got if "/%s/" % bid in t]
            self.assertTrue(topics[0].endswith("/config") and topics[1].endswith("/config"),
                            topics)
        # a subscriber that comes later (Home Assistant starting) gets the configs and the
        # last battery value, retained
        late = Sub(self.broker.port)
        try:
            kept = {t: p for r, t, p in late.upto_sentinel(self.broker.port) if r}
        finally:
            late.stop()
        self.assertEqual(json.loads(kept["homeassistant/event/kitchen/press/config"]),
                         event_config("kitchen"))
        self.assertEqual(kept["hookd/kitchen/battery"], "2941")
        self.assertEqual(kept["hookd/hall/battery"], "3100")
        self.assertNotIn("hookd/kitchen/press", kept)

    def test_2_event_name_suffix(self):
        sub = Sub(self.broker.port)
        try:
            done0 = len(self.delivered(0))
            self.press("porch", mv="2800", event="button_pressed_long")
            d = self.delivered(done0 + 1)[-1]
            self.assertEqual(d["applet"], "ha suffix")
            got = sub.upto_sentinel(self.broker.port)
        finally:
            sub.stop()
        self.assertIn((False, "hookd/porch/press", '{"event_type":"long"}'), got)
        self.assertIn((True, "hookd/porch/battery", "2800"), got)
        porch = [m for m in got if "/porch/" in m[1]]
        self.assertEqual([t for _, t, _ in porch], [
            "homeassistant/event/porch/press/config", "homeassistant/sensor/porch/battery/config",
            "hookd/porch/press", "hookd/porch/battery"])

    def test_3_kind_not_an_event_type_fails_the_delivery(self):
        failed0 = len(self.delivered(0, "failed"))
        self.press("kitchen", "triple", "2900")
        d = self.delivered(failed0 + 1, "failed")[-1]
        self.assertEqual(d["applet"], "ha")
        self.assertIn('the press kind in value2, "triple", is not one of the event types '
                      '(single, double, long) of button kitchen', d["last_result"])
        self.press("kitchen door", "single")
        d = self.delivered(failed0 + 2, "failed")[-1]
        self.assertIn('the button id in value1, "kitchen door", must be 1 to 64 letters',
                      d["last_result"])

    def test_4_bad_battery_value_sends_the_press_and_says_why(self):
        done0 = len(self.delivered(0))
        self.press("attic", "double", "3.1V")
        d = self.delivered(done0 + 1)[-1]
        self.assertIn('battery not sent: value3 is not a voltage in mV', d["last_result"])
        self.assertIn('"3.1V"', d["last_result"])

    def test_5_refused_at_save(self):
        base = {"host": "127.0.0.1"}
        cases = [
            ({}, 'field "host" is required'),
            (dict(base, button_id="value4"), 'field "button_id" must be value1, value2 or value3'),
            (dict(base, press="value7"), 'field "press" must be value1, value2, value3 or '
                                         'event_suffix'),
            (dict(base, press="value1"), 'field "press" is value1, the value that "button_id"'),
            (dict(base, press="value2", battery_mv="value2"),
             'field "battery_mv" is value2, a value that "press" already uses'),
            (dict(base, battery_mv="mv"), 'field "battery_mv" must be value1, value2 or value3'),
            (dict(base, event_types=[]), 'field "event_types" must be a non-empty list'),
            (dict(base, event_types=["single", "a b"]),
             'field "event_types": item 2 "a b" must be 1 to 32 letters'),
            (dict(base, event_types=["single", "single"]),
             'field "event_types": "single" is listed twice'),
            (dict(base, discovery_prefix="home/#"), 'field "discovery_prefix" must be an MQTT'),
            (dict(base, state_prefix="hookd/"), 'field "state_prefix" must be an MQTT'),
            (dict(base, port=0), 'field "port" must be between 1 and 65535'),
            (dict(base, qos=1), 'unknown field "qos"'),
        ]
        for fields, msg in cases:
            st, j = self.h.api("POST", "/api/applets", {"name": "bad", "event": "e",
                                                         "action": "homeassistant",
                                                         "fields": fields})
            self.assertEqual(st, 400, (fields, j))
            self.assertIn("homeassistant: " + msg, j["errors"][0]["message"], fields)

    def test_6_broker_restart_announces_again(self):
        done0 = len(self.delivered(0))
        self.press("garage", "single", "3000")
        self.delivered(done0 + 1)
        self.broker.stop()
        self.broker.start()   # no persistence: every retained config is gone
        sub = Sub(self.broker.port)
        try:
            want = {"homeassistant/event/garage/press/config",
                    "homeassistant/sensor/garage/battery/config"}
            wait_for("the configs again", lambda: want <= {t for _, t, _ in sub.got()},
                     30, self.h)
            got = {t: (r, json.loads(p)) for r, t, p in sub.got() if t in want}
        finally:
            sub.stop()
        self.assertEqual(got["homeassistant/event/garage/press/config"],
                         (True, event_config("garage")))
        self.assertEqual(got["homeassistant/sensor/garage/battery/config"],
                         (True, sensor_config("garage")))
        # and presses go on, on the new connection
        self.press("garage", "double")
        self.delivered(done0 + 2)

    def test_7_home_assistant_birth_message_announces_again(self):
        done0 = len(self.delivered(0))
        self.press("cellar", "single")
        self.delivered(done0 + 1)
        want = ["homeassistant/event/cellar/press/config",
                "homeassistant/sensor/cellar/battery/config"]
        # the retained configs cleared (an empty retained message deletes one), as after a
        # broker that lost them while hookd stayed connected
        for t in want:
            subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(self.broker.port),
                            "-t", t, "-r", "-n", "-q", "1"], check=True, timeout=10)
        sub = Sub(self.broker.port)
        try:
            self.assertEqual([m for m in sub.upto_sentinel(self.broker.port) if m[1] in want],
                             [])
            # Home Assistant starting says so on <discovery_prefix>/status
            subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(self.broker.port),
                            "-t", "homeassistant/status", "-m", "online", "-q", "1"],
                           check=True, timeout=10)
            wait_for("the configs again", lambda: set(want) <= {t for _, t, _ in sub.got()},
                     30, self.h)
            got = {t: (r, json.loads(p)) for r, t, p in sub.got() if t in want}
        finally:
            sub.stop()
        self.assertEqual(got[want[0]], (True, event_config("cellar")))
        self.assertEqual(got[want[1]], (True, sensor_config("cellar")))

    def test_8_broker_down_at_the_first_press(self):
        port = free_port()
        st, a = self.h.api("POST", "/api/applets", {
            "name": "ha late", "event": "late_press", "action": "homeassistant",
            "fields": {"host": "127.0.0.1", "port": port, "timeout": 1}})
        self.assertEqual(st, 201, a)
        self.press("shed", event="late_press")
        d = self.h.wait_delivery(lambda d: d["applet"] == "ha late" and any(
            "not connected to 127.0.0.1:%d after 1 s (Connection refused)" % port in t["result"]
            for t in d["attempts"]))
        self.assertIn(d["state"], ("pending", "running"))
        late = Broker(self.tmp, port=port, name="late")
        try:
            d = self.h.wait_delivery(lambda x: x["id"] == d["id"] and x["state"] == "done",
                                     timeout=30)
            sub = Sub(port)   # after the press went out: what is retained
            try:
                got = sub.upto_sentinel(port)
            finally:
                sub.stop()
        finally:
            late.stop()
        self.assertIn("shed announced, pressed single", d["last_result"])
        self.assertEqual([(r, t, json.loads(p)) for r, t, p in got],
                         [(True, "homeassistant/event/shed/press/config", event_config("shed"))])


if __name__ == "__main__":
    unittest.main(verbosity=2)
