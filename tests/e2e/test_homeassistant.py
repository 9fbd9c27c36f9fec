"""End to end: a button in Home Assistant, set up as docs/home-assistant.md says. The page's
config.py and applet blocks (those after a `<!-- e2e: NAME -->` mark) are read from it, so the
page and this test cannot drift; the addresses in them are put back to local ones: hookd's,
its key, the broker's.

A simulated board (a 1 mAh battery in its world, the button also on GPIO 12) presses against
a real hookd whose homeassistant applet is made through its API, publishing to a real
mosquitto that asks for a password. A subscriber on homeassistant/# and hookd/# sees what Home
Assistant would: one retained discovery config per entity, one event per press with its
event_type, the battery sensor's state. Both ways of carrying the kind: {press} in VALUE2,
and one event name per kind (DOUBLE_EVENT, LONG_EVENT, the applets' event_suffix).

SIMBOARD and HOOKD are set by CTest."""
import ast
import copy
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "hookd"))
from harness import SOURCE, WORLD, BoardTestCase  # noqa: E402
from hookd_harness import PASSWORD as ADMIN_PASSWORD, Hookd, PasswordBroker, wait_for  # noqa: E402

# tests/hookd/test_homeassistant.py's broker, subscriber and the configs it checks field by
# field against Home Assistant's documentation (loaded by path: this file has its name)
_spec = importlib.util.spec_from_file_location(
    "hookd_test_homeassistant", os.path.join(HERE, "..", "hookd", "test_homeassistant.py"))
_ha = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_ha)
Sub, event_config, sensor_config = _ha.Sub, _ha.event_config, _ha.sensor_config

DOC = os.path.join(SOURCE, "docs", "home-assistant.md")
# the page's addresses -> this test's
DOC_HOOKD = "http://192.168.0.10:8080"
DOC_BROKER = "192.168.0.20"
BROKER_USER, BROKER_PASSWORD = "hookd", "broker-password"


def doc_blocks():
    """{name: text} of the page's fenced blocks marked <!-- e2e: name -->."""
    with open(DOC) as f:
        text = f.read()
    blocks = dict(re.findall(r"^<!-- e2e: ([^>]+?) -->\n```\w*\n(.*?)^```$", text, re.S | re.M))
    for name in ("config.py", "applet", "api", "config.py events", "applets events"):
        assert name in blocks, f"{DOC}: no block marked <!-- e2e: {name} -->"
    return blocks


def json_docs(text):
    """The JSON documents in text, one after another (curl prints them without newlines)."""
    dec, out, i = json.JSONDecoder(), [], 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        doc, i = dec.raw_decode(text, i)
        out.append(doc)
    return out


def config_lines(text):
    """config.py's NAME = value lines as a dict."""
    cfg = {}
    for n, line in enumerate(text.splitlines(), 1):
        m = re.fullmatch(r"(\w+) = (.+)", line)
        assert m, f"{DOC}: config.py line {n} is not NAME = value: {line!r}"
        cfg[m.group(1)] = ast.literal_eval(m.group(2))
    return cfg


class HomeAssistantE2E(BoardTestCase):
    def setUp(self):
        super().setUp()
        self.docs = doc_blocks()
        self.tmpdir = tempfile.mkdtemp(prefix="bh-ha-")
        self.broker = PasswordBroker(self.tmpdir, BROKER_USER, BROKER_PASSWORD)
        self.hookd = Hookd()
        self.hookd.start()
        self.key = self.hookd.key()

    def tearDown(self):
        try:
            super().tearDown()
            rc = self.hookd.stop()
            self.assertEqual(rc, 0, self.hookd.log())
        finally:
            self.hookd.cleanup()
            self.broker.stop()
            shutil.rmtree(self.tmpdir, ignore_errors=True)

    # -- set up as the page says -------------------------------------------------------------

    def local(self, text):
        return (text.replace(DOC_HOOKD, f"http://127.0.0.1:{self.hookd.port}")
                    .replace("YOUR_KEY", self.key))

    def add_applet(self, applet):
        """The page's curl commands, run by bash in a folder of their own, with applet.json
        the page's applet, its broker address made this one's."""
        self.assertEqual(applet["fields"]["host"], DOC_BROKER)
        self.assertEqual((applet["fields"]["username"], applet["fields"]["password"]),
                         (BROKER_USER, BROKER_PASSWORD))
        applet = copy.deepcopy(applet)
        applet["fields"]["host"] = "127.0.0.1"
        applet["fields"]["port"] = self.broker.auth_port   # the page's broker is on 1883
        saved = self.run_api(applet)
        self.assertEqual({k: saved.get(k) for k in ("name", "event", "action", "fields")},
                         applet)

    def run_api(self, applet):
        """What the page's last curl command printed, applet.json holding applet."""
        cwd = tempfile.mkdtemp(dir=self.tmpdir)
        with open(os.path.join(cwd, "applet.json"), "w") as f:
            json.dump(applet, f)
        script = self.local(self.docs["api"]).replace("your admin password", ADMIN_PASSWORD)
        r = subprocess.run(["bash", "-e", "-c", script], cwd=cwd, capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json_docs(r.stdout)[-1]      # login's {"csrf"}, then the applet saved

    def make_board(self, *config_blocks):
        """A board whose config.py is the page's blocks, as they are but for the addresses."""
        text = "".join(self.local(self.docs[name]) for name in config_blocks)
        world = copy.deepcopy(WORLD)
        world["battery"] = {"mAh": 1}       # a few presses move it by some mV
        world["button_gpio"] = config_lines(text)["BUTTON_PIN"]
        b = self.board(world=world, config=False, extra_files={"config.py": text.encode()})
        b.wait("sleeping")
        return b

    # -- what Home Assistant sees -------------------------------------------------------------

    def subscribe(self):
        return Sub(self.broker.port)

    def done(self, n):
        """Waits until n deliveries are done (none failed meanwhile)."""
        def check():
            ds = [d for e in self.hookd.events(limit=100) for d in e["deliveries"]]
            bad = [d for d in ds if d["state"] == "failed"]
            self.assertEqual(bad, [])
            return sum(d["state"] == "done" for d in ds) >= n
        wait_for(f"{n} deliveries done", check, 30, self.hookd)

    def press_all_kinds(self, b):
        """single, double, long, each delivered before the next (deliveries run in parallel
        workers: only so is the order on MQTT the presses' order). Returns the battery the
        board read for each press: the battery_mv of the last wake report before the boot that
        sent it (a wake is drained when it is reported)."""
        sent_mv = []
        for k, how in enumerate(((), ("--double",), ("--hold", "3"))):
            last_boot = b.events("boot")[-1]["boot"]
            b.ctl("press", *how)
            b.wait("sleeping")
            end = time.time() + 10      # a long press: the button let go again
            while len(b.events("release")) < len(b.events("hold")) and time.time() < end:
                time.sleep(0.05)
            self.done(k + 1)
            evs = b.events()
            posts = [e for e in evs if e["event"] == "http" and e["where"].startswith("POST")
                     and e["boot"] > last_boot]
            self.assertEqual(len(posts), 1, posts)
            reports = [e for e in evs if e["event"] == "report" and e["boot"] < posts[0]["boot"]]
            sent_mv.append(str(reports[-1]["battery_mv"]))
            # with the AP and lease kept since the first press, no wake scans: not even the
            # long press's, whose held second the station's auto-connect would fill with a
            # full join (firmware/app/presskind.c)
            sent = [e for e in evs if e["event"] == "report" and e["boot"] == posts[0]["boot"]]
            if k:
                self.assertEqual(sent[0]["scans"], 0, sent)
            if how and how[0] == "--hold":
                self.assertEqual(sent[0]["dhcp"], 0, sent)
        return sent_mv

    def check_home_assistant(self, got, sent_mv, b, bid):
        configs = [(r, t, json.loads(p)) for r, t, p in got if t.endswith("/config")]
        self.assertEqual(sorted(configs, key=lambda m: m[1]), [
            (True, f"homeassistant/event/{bid}/press/config", event_config(bid)),
            (True, f"homeassistant/sensor/{bid}/battery/config", sensor_config(bid))])
        self.assertTrue(all(t.endswith("/config") for _, t, _ in got[:2]), got)
        states = [(r, t, json.loads(p) if t.endswith("/press") else p)
                  for r, t, p in got if not t.endswith("/config")]
        expect = []
        for kind, mv in zip(("single", "double", "long"), sent_mv):
            expect += [(False, f"hookd/{bid}/press", {"event_type": kind}),
                       (True, f"hookd/{bid}/battery", mv)]
        self.assertEqual(states, expect)
        # the battery went down press by press, and the board now reads its last wake's drain
        mvs = [int(v) for v in sent_mv]
        self.assertEqual(mvs, sorted(mvs, reverse=True))
        self.assertGreater(mvs[0], mvs[-1])
        now = b.state_json()["battery_mv"]
        self.assertLess(now, mvs[-1])
        print(f"\n  battery sent {' '.join(sent_mv)} mV, board now {now} mV", flush=True)
        # Home Assistant restarting: configs and the last battery value, no press
        late = self.subscribe()
        try:
            kept = {t: p for r, t, p in late.upto_sentinel(self.broker.port) if r}
        finally:
            late.stop()
        self.assertEqual(sorted(kept), [f"homeassistant/event/{bid}/press/config",
                                        f"homeassistant/sensor/{bid}/battery/config",
                                        f"hookd/{bid}/battery"])
        self.assertEqual(kept[f"hookd/{bid}/battery"], sent_mv[-1])

    def run_chain(self, config_blocks, applets):
        for a in applets:
            self.add_applet(a)
        b = self.make_board(*config_blocks)
        bid = config_lines(self.docs["config.py"])["BUTTON_ID"]
        sub = self.subscribe()
        try:
            sent_mv = self.press_all_kinds(b)
            got = sub.upto_sentinel(self.broker.port)
        finally:
            sub.stop()
        self.check_home_assistant(got, sent_mv, b, bid)
        return b

    def test_press_in_value2(self):
        # a mistake in a field: refused, as the page shows it
        bad = json.loads(self.docs["applet"])
        bad["fields"]["press"] = "value4"
        with open(DOC) as f:
            shown = re.search(r"refused\s+there instead, naming it \(`(.*?)`\)", f.read(), re.S)
        self.assertEqual(self.run_api(bad), json.loads(re.sub(r"\s*\n\s*", " ", shown.group(1))))
        b = self.run_chain(["config.py"], [json.loads(self.docs["applet"])])
        events = sorted(self.hookd.events(limit=100), key=lambda e: e["id"])
        self.assertEqual([(e["event"], e["value1"], e["value2"]) for e in events],
                         [("button_pressed", "kitchen", k) for k in ("single", "double", "long")])
        self.assertEqual(len(b.events("press")), 4)   # --double is RESET twice

    def test_one_event_name_per_kind(self):
        b = self.run_chain(["config.py", "config.py events"],
                           json.loads(self.docs["applets events"]))
        events = sorted(self.hookd.events(limit=100), key=lambda e: e["id"])
        self.assertEqual([e["event"] for e in events],
                         ["button_pressed", "button_pressed_double", "button_pressed_long"])
        self.assertEqual(len(b.events("press")), 4)   # --double is RESET twice


if __name__ == "__main__":
    unittest.main(verbosity=2)
