"""The whole system, end to end, with real components started here: hookd (applets seeded from
its config file), a simulated board whose config.py points at hookd's trigger URL with the key
from `hookd key`, an SMTP server (Debian's python3-aiosmtpd, writing each message into a
folder), a mosquitto broker on a free port with mosquitto_sub listening, and Python's
http.server as the http applet's target. One press of the board's RESET button must come out
of all four: one email in the Maildir with IFTTT's default body, one over SMTP with IFTTT's
default subject, one MQTT message, one templated JSON request. Then the chapter's curl line,
against the same hookd, gets IFTTT's exact reply and fires the same applets.

HOOKD     the hookd binary;  SIMBOARD  the simboard binary (both set by CTest)
"""
import email
import email.policy
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

from hookd_harness import system_python  # noqa: E402

system_python("aiosmtpd")   # Debian's python3-aiosmtpd

from aiosmtpd.controller import Controller  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
os.environ.setdefault("SIMBOARD", os.path.join(ROOT, "build", "main", "firmware", "ports",
                                                "sim", "simboard"))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from hookd_harness import CURL_LINE_BODY, Hookd, stopper, unwind, wait_for  # noqa: E402
from harness import Board, Receiver, free_port  # noqa: E402
from fault_targets import Broker, Subscriber  # noqa: E402

EVENT = "button_pressed"
DEFAULT_SUBJECT = 'The event named "button_pressed" occurred on the Maker Webhooks service'
CONGRATS = b"Congratulations! You've fired the button_pressed event"
HTTP_BODY = '{"event": "{{EventName}}", "button": "{{Value1}}", "when": "{{OccurredAt}}"}'


def parse_mail(raw):
    return email.message_from_bytes(raw, policy=email.policy.default)


class FolderSink:
    """aiosmtpd handler: each message into its own file in a folder, written then renamed."""

    def __init__(self, folder):
        self.folder = folder
        self.n = 0

    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        tmp = os.path.join(self.folder, ".%d.tmp" % self.n)
        with open(tmp, "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(tmp, os.path.join(self.folder, "%d.eml" % self.n))
        return "250 OK"

    def messages(self):
        return sorted(f for f in os.listdir(self.folder) if f.endswith(".eml"))


class System(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="hookd-system-")
        cls.stack = []
        try:
            cls.start_all()
        except BaseException:
            unwind(cls.stack, cls.tmp)
            raise

    @classmethod
    def start_all(cls):
        t = cls.tmp
        cls.maildir = os.path.join(t, "Maildir")
        cls.smtp_dir = os.path.join(t, "smtp")
        os.makedirs(cls.smtp_dir)
        cls.smtp = FolderSink(cls.smtp_dir)
        cls.smtp_port = free_port()
        c = Controller(cls.smtp, hostname="127.0.0.1", port=cls.smtp_port)
        c.start()
        cls.stack.append(c.stop)
        cls.broker = Broker(t)
        cls.stack.append(cls.broker.stop)
        cls.receiver = Receiver(body=b"ok")
        cls.stack.append(cls.receiver.close)
        cls.sub = Subscriber(cls.broker.port, "buttonhook/" + EVENT)
        cls.stack.append(cls.sub.stop)

        applets = [
            {"name": "button_pressed -> maildir", "event": EVENT, "action": "maildir",
             "fields": {"path": cls.maildir, "to": "me@example.test"}},
            {"name": "button_pressed -> email", "event": EVENT, "action": "email",
             "fields": {"url": "smtp://127.0.0.1:%d" % cls.smtp_port,
                        "from": "hookd <hookd@example.test>", "to": "me@example.test",
                        "timeout": 10}},
            {"name": "button_pressed -> mqtt", "event": EVENT, "action": "mqtt",
             "fields": {"host": "127.0.0.1", "port": cls.broker.port,
                        "topic": "buttonhook/{{EventName}}", "qos": 1}},
            {"name": "button_pressed -> http", "event": EVENT, "action": "http",
             "fields": {"url": cls.receiver.url("/hook/{{EventName}}"),
                        "headers": {"Content-Type": "application/json"},
                        "body": HTTP_BODY}},
        ]
        cls.hookd = Hookd({"applets": applets,
                           "deliveries": {"backoff_initial_ms": 200, "backoff_max_ms": 1000}})
        cls.hookd.start()
        cls.stack.append(stopper(cls.hookd))
        # the key the way a user gets it: `hookd key --data DIR`
        key = cls.hookd.key()
        assert re.fullmatch(r"[A-Za-z0-9_-]{22}", key), key
        cls.key = key
        cls.trigger_url = cls.hookd.url("/trigger/%s/with/key/%s" % (EVENT, key))
        cls.board = Board(t, name="button1", config={"WEBHOOK_URL": cls.trigger_url,
                                                     "BUTTON_ID": "micropython1"})
        cls.stack.append(cls.board.off)

    @classmethod
    def tearDownClass(cls):
        unwind(cls.stack, cls.tmp)

    # -- what arrived where ----------------------------------------------------------------

    def maildir_new(self):
        d = os.path.join(self.maildir, "new")
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def all_done(self, n_events):
        """The newest events once there are n_events, each with 4 deliveries, all done."""
        evs = self.hookd.events(event=EVENT)
        if len(evs) != n_events:
            return None
        states = [d["state"] for e in evs for d in e["deliveries"]]
        bad = [d for e in evs for d in e["deliveries"] if d["state"] == "failed"]
        if bad:
            raise AssertionError("a delivery failed: %r\n%s" % (bad, self.hookd.log()))
        return evs if len(states) == 4 * n_events and set(states) == {"done"} else None

    def check_arrivals(self, n):
        """n presses so far: n of everything, each with the press's values."""
        # Maildir: exactly n files, the newest with IFTTT's default body
        files = wait_for("%d mail(s) in the Maildir" % n, lambda: len(self.maildir_new()) >= n)
        files = self.maildir_new()
        with open(os.path.join(self.maildir, "new", files[-1]), "rb") as f:
            msg = parse_mail(f.read())
        self.assertEqual(msg["Subject"], DEFAULT_SUBJECT)
        self.assertIn("Extra Data: micropython1", msg.get_content())
        self.assertIn("What: button_pressed", msg.get_content())
        # SMTP: IFTTT's default subject, to the recipient the applet names
        wait_for("%d mail(s) over SMTP" % n, lambda: len(self.smtp.messages()) >= n)
        with open(os.path.join(self.smtp_dir, self.smtp.messages()[-1]), "rb") as f:
            msg = parse_mail(f.read())
        self.assertEqual(msg["Subject"], DEFAULT_SUBJECT)
        self.assertEqual(msg["To"], "me@example.test")
        self.assertIn("Extra Data: micropython1", msg.get_content())
        # MQTT: the default payload, the event as JSON
        wait_for("%d MQTT message(s)" % n, lambda: len(self.sub.got()) >= n)
        payload = json.loads(self.sub.got()[-1])
        self.assertEqual((payload["event"], payload["value1"]), (EVENT, "micropython1"))
        # HTTP: the templated JSON body
        wait_for("%d HTTP request(s)" % n, lambda: len(self.receiver.requests) >= n)
        req = self.receiver.requests[-1]
        self.assertEqual((req["method"], req["path"]), ("POST", "/hook/button_pressed"))
        self.assertEqual(req["headers"]["Content-Type"], "application/json")
        body = json.loads(req["body"])
        self.assertEqual((body["event"], body["button"]), (EVENT, "micropython1"))
        self.assertRegex(body["when"], r"^[A-Z][a-z]+ \d{1,2}, \d{4} at \d\d:\d\d[AP]M$")
        # every delivery done, recorded; and then no more than n of anything
        evs = wait_for("all deliveries done", lambda: self.all_done(n))
        self.assertEqual(len(self.maildir_new()), n)
        self.assertEqual(len(self.smtp.messages()), n)
        self.assertEqual(len(self.sub.got()), n)
        self.assertEqual(len(self.receiver.requests), n)
        return evs

    # -- the tests, in order ---------------------------------------------------------------

    def test_1_board_press_fires_every_applet(self):
        b = self.board
        b.wait("sleeping")   # power on: PWRON_RESET, nothing sent
        self.assertEqual(b.events("http"), [])
        self.assertEqual(self.hookd.events(), [])
        b.press()
        b.wait("sleeping")
        self.assertIn("Webhook invoked", b.console(), b.output())
        self.assertEqual(b.events("error"), [])
        self.assertEqual(b.state_json()["reset_cause"], "DEEPSLEEP_RESET")
        evs = self.check_arrivals(1)
        e = evs[0]
        self.assertEqual((e["event"], e["value1"], e["json"]), (EVENT, "micropython1", False))
        self.assertEqual(sorted(d["action"] for d in e["deliveries"]),
                         ["email", "http", "maildir", "mqtt"])
        # the board's request got IFTTT's reply
        http_evs = b.events("http")
        self.assertEqual(len(http_evs), 1, http_evs)
        self.assertEqual(http_evs[0].get("code"), 200, http_evs)

    def test_2_chapter_curl_line(self):
        # the chapter's line, with only the host changed
        out = subprocess.run(["curl", "-s", "-X", "POST", "-H", "Content-Type: application/json",
                              "-d", CURL_LINE_BODY, self.trigger_url],
                             capture_output=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout, CONGRATS)
        self.check_arrivals(2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
