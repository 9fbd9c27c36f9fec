"""hookd's deliveries: applets from the config run off the request path, with retries, backoff,
a failed state, a retry through the API, resumption after a restart, and SIGTERM's wait."""
import glob
import json
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hookd_harness import PG, SLOW, Hookd  # noqa: E402

FAST = {"workers": 2, "backoff_initial_ms": 200, "backoff_max_ms": 1000, "max_attempts": 3}


def wait(pred, timeout=15, what="condition"):
    end = time.time() + timeout * SLOW
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


class Deliveries(unittest.TestCase):
    def test_file_and_maildir_applets(self):
        h = Hookd()
        out = os.path.join(h.tmp, "events.jsonl")
        mail = os.path.join(h.tmp, "Maildir")
        h.config = {"admin_password": "test-password-1", "deliveries": FAST, "applets": [
            {"name": "log it", "event": "button_pressed", "action": "file",
             "fields": {"path": out}},
            {"name": "mail me", "event": "button_pressed", "action": "maildir",
             "fields": {"path": mail, "body": "Button: {{Value1}}"}},
            {"name": "other event", "event": "other", "action": "file",
             "fields": {"path": out + ".other"}},
            {"name": "off", "event": "button_pressed", "action": "file", "enabled": False,
             "fields": {"path": out + ".off"}}]}
        with h:
            st, _, _ = h.trigger(json_body={"value1": "micropython1"})
            self.assertEqual(st, 200)
            line = wait(lambda: os.path.exists(out) and read(out), what="the file")
            j = json.loads(line)
            self.assertEqual((j["event"], j["value1"]), ("button_pressed", "micropython1"))
            msgs = wait(lambda: glob.glob(os.path.join(mail, "new", "*")), what="the mail")
            text = read(msgs[0])
            self.assertIn('The event named "button_pressed" occurred', text)
            self.assertIn("Button: micropython1", text)
            e = h.events(limit=1)[0]
            self.assertEqual(sorted(d["applet"] for d in e["deliveries"]),
                             ["log it", "mail me"])
            d = h.wait_delivery(lambda d: d["applet"] == "mail me" and d["state"] == "done")
            self.assertEqual(len(d["attempts"]), 1)
            self.assertEqual(d["attempts"][0]["status"], "ok")
            self.assertFalse(os.path.exists(out + ".other") or os.path.exists(out + ".off"))
            self.assertIn('applet "log it", file) attempt 1: done', h.log())
            m = h.metrics()
            self.assertEqual(m['hookd_deliveries_total{action="file",result="ok"}'], 1)
            self.assertEqual(m['hookd_deliveries_total{action="maildir",result="ok"}'], 1)
            self.assertEqual(m["hookd_deliveries_pending"], 0)

    def test_retries_then_failed_then_retry_via_api(self):
        h = Hookd()
        flag = os.path.join(h.tmp, "ok-now")
        h.config = {"admin_password": "test-password-1", "deliveries": FAST, "applets": [
            {"name": "flaky", "event": "flaky", "action": "command",
             "fields": {"argv": ["sh", "-c", "echo trying; test -e " + flag],
                        "retry_on_failure": True}}]}
        with h:
            self.assertEqual(h.trigger("flaky", method="GET")[0], 200)
            d = h.wait_delivery(lambda d: d["state"] == "failed")
            self.assertEqual(len(d["attempts"]), 3)   # max_attempts
            self.assertEqual([a["status"] for a in d["attempts"]], ["retry", "retry", "fail"])
            self.assertIn("trying", d["attempts"][0]["result"])
            starts = [a["started_ms"] for a in d["attempts"]]
            gaps = [b - a for a, b in zip(starts, starts[1:])]
            # backoff 200 ms then 400 ms, each with jitter in its upper half
            self.assertGreaterEqual(gaps[0], 100)
            self.assertGreaterEqual(gaps[1], 200)
            # and not seconds where milliseconds were meant (no wall-clock bound: CI is loaded)
            self.assertLess(max(gaps), 60000)
            m = h.metrics()
            self.assertEqual(m['hookd_deliveries_total{action="command",result="retry"}'], 2)
            self.assertEqual(m['hookd_deliveries_total{action="command",result="failed"}'], 1)
            self.assertEqual(m["hookd_deliveries_failed"], 1)
            # a retry through the API starts a new round
            open(flag, "w").close()
            st, j = h.api("POST", "/api/deliveries/%d/retry" % d["id"])
            self.assertEqual(st, 200, j)
            d2 = h.wait_delivery(lambda x: x["id"] == d["id"] and x["state"] == "done")
            self.assertEqual(len(d2["attempts"]), 4)
            self.assertEqual(d2["attempts"][-1]["status"], "ok")
            # only a failed delivery can be retried
            self.assertEqual(h.api("POST", "/api/deliveries/%d/retry" % d["id"])[0], 409)
            self.assertEqual(h.api("POST", "/api/deliveries/999999/retry")[0], 404)

    def test_failure_for_good_is_not_retried(self):
        h = Hookd()
        h.config = {"admin_password": "test-password-1", "deliveries": FAST, "applets": [
            {"name": "broken", "event": "b", "action": "command",
             "fields": {"argv": ["sh", "-c", "exit 3"]}}]}
        with h:
            h.trigger("b", method="GET")
            d = h.wait_delivery(lambda d: d["state"] == "failed")
            self.assertEqual(len(d["attempts"]), 1)

    def test_sigterm_waits_for_running_delivery(self):
        h = Hookd()
        out = os.path.join(h.tmp, "finished")
        h.config = {"admin_password": "test-password-1", "deliveries": FAST, "applets": [
            {"name": "slow", "event": "slow", "action": "command",
             "fields": {"argv": ["sh", "-c", "sleep 1; touch " + out]}}]}
        try:
            h.start()
            h.trigger("slow", method="GET")
            time.sleep(0.3)   # the command is running
            self.assertEqual(h.stop(signal.SIGTERM), 0)
            self.assertTrue(os.path.exists(out), h.log())
            h.start()
            d = h.events(limit=1)[0]["deliveries"][0]
            self.assertEqual(d["state"], "done")
        finally:
            h.cleanup()

    def test_interrupted_and_pending_deliveries_resume_after_restart(self):
        h = Hookd()
        runs = os.path.join(h.tmp, "runs")
        h.config = {"admin_password": "test-password-1",
                    # a short lease: on PostgreSQL the next start takes the interrupted
                    # delivery over when its lease runs out (other instances may hold theirs)
                    "deliveries": dict(FAST, shutdown_timeout_s=0, lease_s=2), "applets": [
                        {"name": "long", "event": "long", "action": "command",
                         "fields": {"argv": ["sh", "-c", "echo x >> %s; sleep 2" % runs]}}]}
        try:
            h.start()
            h.trigger("long", method="GET")
            wait(lambda: os.path.exists(runs), what="the first run")
            # SIGTERM does not wait (shutdown_timeout_s 0): the delivery stays "running"
            self.assertEqual(h.stop(signal.SIGTERM), 0)
            self.assertIn("will run again at the next start", h.log())
            h.start()
            if not PG:   # SQLite: one server per data folder, so it is taken back at once
                self.assertIn("1 deliveries to resume, some interrupted", h.log())
            d = h.wait_delivery(lambda d: d["state"] == "done")
            self.assertEqual(len(d["attempts"]), 1)
            with open(runs) as f:
                self.assertEqual(f.read(), "x\nx\n")   # at least once: it ran again
            # a kill -9 leaves a pending delivery: it runs after the restart
            h.config["applets"][0]["fields"]["argv"] = ["sh", "-c", "echo y >> " + runs]
            h.config["deliveries"]["workers"] = 1
            h.restart()
            h.trigger("long", method="GET")
            h.kill9()
            h.start()
            wait(lambda: read(runs).count("y") >= 1, what="the resumed delivery")
        finally:
            h.cleanup()

    def test_applet_changes_apply_to_retries(self):
        h = Hookd()
        out = os.path.join(h.tmp, "out.jsonl")
        h.config = {"admin_password": "test-password-1", "deliveries": FAST}
        with h:
            st, a = h.api("POST", "/api/applets", {
                "name": "cmd", "event": "e", "action": "command",
                "fields": {"argv": ["false"]}})
            self.assertEqual(st, 201, a)
            h.trigger("e", method="GET")
            d = h.wait_delivery(lambda d: d["state"] == "failed")
            st, _ = h.api("PUT", "/api/applets/%d" % a["id"],
                          {"action": "file", "fields": {"path": out}})
            self.assertEqual(st, 200)
            h.api("POST", "/api/deliveries/%d/retry" % d["id"])
            h.wait_delivery(lambda x: x["id"] == d["id"] and x["state"] == "done")
            self.assertTrue(os.path.exists(out))
            # an applet disabled while its delivery waits for a retry: failed, saying why
            st, _ = h.api("PATCH", "/api/applets/%d" % a["id"], {
                "action": "command", "fields": {"argv": ["false"], "retry_on_failure": True}})
            self.assertEqual(st, 200)
            h.trigger("e", method="GET")
            self.assertEqual(h.api("POST", "/api/applets/%d/disable" % a["id"])[0], 200)
            first = d["id"]
            d = h.wait_delivery(lambda x: x["id"] != first and x["state"] == "failed")
            self.assertIn("disabled", d["last_result"])
            # a deleted one likewise
            self.assertEqual(h.api("POST", "/api/applets/%d/enable" % a["id"])[0], 200)
            h.trigger("e", method="GET")
            self.assertEqual(h.api("DELETE", "/api/applets/%d" % a["id"])[0], 204)
            second = d["id"]
            d = h.wait_delivery(lambda x: x["id"] not in (first, second) and
                                x["state"] == "failed")
            self.assertIn("deleted", d["last_result"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
