"""hookd's JSON API: the admin login (cookie, CSRF), applets, events with their deliveries and
attempts, the key and the password."""
import json
import os
import re
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hookd_harness import PASSWORD, Hookd, HookdTest  # noqa: E402


class Login(HookdTest):
    def test_login_sets_a_strict_httponly_cookie(self):
        st, h, body = self.h.login("wrong password")
        self.assertEqual(st, 401)
        self.assertNotIn("set-cookie", h)
        st, h, body = self.h.login()
        self.assertEqual(st, 200, body)
        cookie = h["set-cookie"]
        self.assertRegex(cookie, r"^hookd_session=[A-Za-z0-9_-]{43}; Path=/; ")
        self.assertIn("HttpOnly", cookie)
        self.assertIn("SameSite=Strict", cookie)
        self.assertRegex(json.loads(body)["csrf"], r"^[A-Za-z0-9_-]{43}$")
        self.assertEqual(h["cache-control"], "no-store")

    def test_session_required(self):
        for method, path in (("GET", "/api/applets"), ("GET", "/api/events"),
                             ("GET", "/api/key"), ("POST", "/api/key/rotate"),
                             ("GET", "/api/session")):
            st, j = self.h.api(method, path, cookie=False)
            self.assertEqual(st, 401, path)
            self.assertIn("log in", j["errors"][0]["message"])
        st, j = self.h.api("GET", "/api/applets", cookie=False,
                           headers={"Cookie": "hookd_session=" + "A" * 43})
        self.assertEqual(st, 401)

    def test_csrf_required_for_changes(self):
        self.h.login()
        st, j = self.h.api("POST", "/api/key/rotate", csrf=False)
        self.assertEqual(st, 403)
        self.assertIn("X-CSRF-Token", j["errors"][0]["message"])
        st, j = self.h.api("POST", "/api/key/rotate", csrf=False,
                           headers={"X-CSRF-Token": "x" * 43})
        self.assertEqual(st, 403)
        st, j = self.h.api("GET", "/api/session")
        self.assertEqual((st, j["csrf"]), (200, self.h.csrf))

    def test_json_bodies_only(self):
        self.h.login()
        st, _, body = self.h.request(
            "POST", "/api/applets", "name=x",
            {"Cookie": "hookd_session=" + self.h.cookie, "X-CSRF-Token": self.h.csrf,
             "Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(st, 415)

    def test_logout(self):
        other = Hookd.__new__(Hookd)
        other.__dict__.update(self.h.__dict__)
        other.cookie = other.csrf = None
        other.login()
        old = other.cookie
        self.assertEqual(other.api("GET", "/api/applets")[0], 200)
        self.assertEqual(other.api("POST", "/api/logout")[0], 204)
        self.assertEqual(other.api("GET", "/api/applets")[0], 401)
        st, _ = self.h.api("GET", "/api/applets", cookie=False,
                           headers={"Cookie": "hookd_session=" + old})
        self.assertEqual(st, 401)
        self.assertEqual(self.h.api("GET", "/api/applets")[0], 200)   # other sessions stay

    def test_unknown_routes(self):
        self.assertEqual(self.h.api("GET", "/api/nothing")[0], 404)
        self.assertEqual(self.h.api("DELETE", "/api/applets")[0], 405)
        self.assertEqual(self.h.api("GET", "/api/applets/abc")[0], 404)


class Applets(HookdTest):
    def test_create_list_update_delete(self):
        st, a = self.h.api("POST", "/api/applets", {
            "name": "mail", "event": "button_pressed", "action": "maildir",
            "fields": {"path": "/tmp/nowhere/Maildir", "body": "Button: {{Value1}}"}})
        self.assertEqual(st, 201, a)
        self.assertEqual((a["name"], a["enabled"]), ("mail", True))
        st, j = self.h.api("GET", "/api/applets")
        self.assertIn(a, j["applets"])
        st, one = self.h.api("GET", "/api/applets/%d" % a["id"])
        self.assertEqual(one, a)
        st, b = self.h.api("PATCH", "/api/applets/%d" % a["id"], {"event": "other"})
        self.assertEqual((st, b["event"], b["fields"]), (200, "other", a["fields"]))
        st, b = self.h.api("POST", "/api/applets/%d/disable" % a["id"])
        self.assertEqual((st, b["enabled"]), (200, False))
        st, b = self.h.api("POST", "/api/applets/%d/enable" % a["id"])
        self.assertEqual((st, b["enabled"]), (200, True))
        self.assertEqual(self.h.api("PUT", "/api/applets/%d" % a["id"], {"id": 12345})[0], 400)
        self.assertEqual(self.h.api("DELETE", "/api/applets/%d" % a["id"])[0], 204)
        self.assertEqual(self.h.api("GET", "/api/applets/%d" % a["id"])[0], 404)
        self.assertEqual(self.h.api("DELETE", "/api/applets/%d" % a["id"])[0], 404)

    def test_validation(self):
        cases = [
            ({"name": "x", "event": "e", "action": "nope", "fields": {}}, 'unknown action'),
            ({"name": "x", "event": "e", "action": "file",
              "fields": {"path": "/tmp/{{Nope}}"}}, "{{Nope}}"),
            ({"name": "x", "event": "e", "action": "file", "fields": {}}, "required"),
            ({"name": "x", "event": "e", "action": "file", "fields": {"path": "/t", "z": 1}},
             'unknown field "z"'),
            ({"name": "x", "event": "", "action": "file", "fields": {"path": "/t"}}, "event"),
            ({"name": "x", "event": "a\u0001b", "action": "file", "fields": {"path": "/t"}},
             "control character"),
            ({"event": "e", "action": "file", "fields": {"path": "/t"}}, "needs a name"),
            ({"name": "x", "event": "e", "action": "file", "fields": {"path": "/t"},
              "colour": "red"}, 'unknown applet setting "colour"'),
            ({"name": "x", "event": "e", "action": "file", "fields": [1]}, "fields"),
        ]
        for body, msg in cases:
            st, j = self.h.api("POST", "/api/applets", body)
            self.assertEqual(st, 400, (body, j))
            self.assertIn(msg, j["errors"][0]["message"], body)
        st, j = self.h.api("POST", "/api/applets", "not an object")
        self.assertEqual(st, 400)
        good = {"name": "dup", "event": "e", "action": "file", "fields": {"path": "/tmp/x"}}
        self.assertEqual(self.h.api("POST", "/api/applets", good)[0], 201)
        self.assertEqual(self.h.api("POST", "/api/applets", good)[0], 409)

    def test_seeded_from_config_and_listed(self):
        h = Hookd({"applets": [{"name": "seeded", "event": "e", "action": "file",
                                "fields": {"path": "/tmp/seeded.jsonl"}}]})
        try:
            h.start()
            names = [a["name"] for a in h.api("GET", "/api/applets")[1]["applets"]]
            self.assertEqual(names, ["seeded"])
            # the config is applied again at each start (by name), so the applets it names
            # are pinned: an edit, a switch or a deletion is refused, not undone later
            a = h.api("GET", "/api/applets")[1]["applets"][0]
            for method, path, body in (("PATCH", "", {"event": "changed"}),
                                       ("POST", "/disable", None), ("DELETE", "", None)):
                st, j = h.api(method, "/api/applets/%d%s" % (a["id"], path), body)
                self.assertEqual(st, 409, (method, path, j))
                self.assertIn("pinned by the config file", j["errors"][0]["message"])
            h.api("POST", "/api/applets", {"name": "mine", "event": "e", "action": "file",
                                           "fields": {"path": "/tmp/mine"}})
            h.restart()
            h.cookie = None
            got = {a["name"]: a["event"] for a in h.api("GET", "/api/applets")[1]["applets"]}
            self.assertEqual(got, {"seeded": "e", "mine": "e"})
            h.stop()
        finally:
            h.cleanup()


class Events(HookdTest):
    OUT = os.path.join(tempfile.gettempdir(), "hookd-test-api-%d.jsonl" % os.getpid())
    CONFIG = {"applets": [{"name": "to file", "event": "ev", "action": "file",
                           "fields": {"path": OUT}}]}

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        if os.path.exists(cls.OUT):
            os.unlink(cls.OUT)

    def test_events_with_deliveries_and_attempts(self):
        self.h.trigger("ev", json_body={"value1": "a", "value2": "b"})
        d = self.h.wait_delivery(lambda d: d["state"] == "done")
        e = self.h.events(event="ev")[0]
        self.assertEqual((e["event"], e["value1"], e["value2"], e["value3"]),
                         ("ev", "a", "b", None))
        self.assertRegex(e["occurred_at_text"],
                         r"^[A-Z][a-z]+ \d{1,2}, \d{4} at \d{2}:\d{2}[AP]M$")
        self.assertEqual(e["deliveries"][0]["id"], d["id"])
        self.assertEqual((d["applet"], d["action"], d["tries"]), ("to file", "file", 1))
        att = d["attempts"][0]
        self.assertEqual(att["status"], "ok")
        self.assertIn("appended", att["result"])
        self.assertGreaterEqual(att["duration_ms"], 0)
        st, one = self.h.api("GET", "/api/events/%d" % e["id"])
        self.assertEqual((st, one["id"], one["deliveries"][0]["id"]), (200, e["id"], d["id"]))
        self.assertEqual(self.h.api("GET", "/api/events/99999")[0], 404)

    def test_paging_and_filter(self):
        for i in range(5):
            self.h.trigger("page", method="GET", query="value1=%d" % i)
        first = self.h.events(event="page", limit=2)
        self.assertEqual([e["value1"] for e in first], ["4", "3"])
        more = self.h.events(event="page", limit=2, before=first[-1]["id"])
        self.assertEqual([e["value1"] for e in more], ["2", "1"])
        self.assertEqual(self.h.api("GET", "/api/events?limit=0")[0], 400)


class Password(unittest.TestCase):
    def test_first_start_prints_a_password(self):
        h = Hookd(password=None)
        try:
            h.start()
            m = re.search(r"admin password for http://127\.0\.0\.1:%d/ and /api/ is\n\n    "
                          r"(\S{16})\n" % h.port, h.log())
            self.assertTrue(m, h.log())
            pw = m.group(1)
            self.assertIn("hookd password %s" % h.where()[0], h.log())
            self.assertEqual(h.login(pw)[0], 200)
            h.restart()
            self.assertNotIn("first start", h.log())
            self.assertEqual(h.login(pw)[0], 200)
            # the CLI sets another; the running server reads it within 2 s
            r = h.cli("password", input="another-password\n")
            self.assertEqual(r.returncode, 0, r.stderr)
            h.restart()
            self.assertEqual(h.login(pw)[0], 401)
            self.assertEqual(h.login("another-password")[0], 200)
            self.assertEqual(h.cli("password", input="short\n").returncode, 2)
            h.stop()
        finally:
            h.cleanup()

    def test_change_through_the_api(self):
        # not pinned by the config: set with the CLI before the first start
        h = Hookd(password=None)
        r = h.cli("password", input=PASSWORD + "\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        with h:
            h.login()
            st, j = h.api("POST", "/api/password", {"current": "nope", "new": "0123456789"})
            self.assertEqual(st, 403)
            st, j = h.api("POST", "/api/password", {"current": PASSWORD, "new": "short"})
            self.assertEqual(st, 400)
            st, j = h.api("POST", "/api/password", {"current": PASSWORD, "new": "0123456789"})
            self.assertEqual(st, 204, j)
            self.assertEqual(h.api("GET", "/api/applets")[0], 200)   # this session stays
            self.assertEqual(h.login(PASSWORD)[0], 401)
            self.assertEqual(h.login("0123456789")[0], 200)


class Sessions(unittest.TestCase):
    def test_login_kept_across_a_restart_and_ended_by_a_new_password(self):
        # sessions live in the store: a restart (or another instance on the same store) keeps
        # the login; a password set with the CLI ends it
        h = Hookd(password=None)   # not pinned: the CLI may change it
        try:
            r = h.cli("password", input=PASSWORD + "\n")
            self.assertEqual(r.returncode, 0, r.stderr)
            h.start()
            self.assertEqual(h.login()[0], 200)
            self.assertEqual(h.api("GET", "/api/applets")[0], 200)
            cookie, csrf = h.cookie, h.csrf
            h.restart()
            h.cookie, h.csrf = cookie, csrf
            self.assertEqual(h.api("GET", "/api/applets")[0], 200)
            st, _ = h.api("POST", "/api/applets", {"name": "kept", "event": "e",
                                                   "action": "file",
                                                   "fields": {"path": "/tmp/kept"}})
            self.assertEqual(st, 201)   # the CSRF token came along too
            self.assertEqual(h.api("POST", "/api/logout")[0], 204)
            self.assertEqual(h.api("GET", "/api/applets")[0], 401)
            self.assertEqual(h.login()[0], 200)
            cookie = h.cookie
            r = h.cli("password", input="another-password\n")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(h.api("GET", "/api/applets")[0], 401)
            h.stop()
        finally:
            h.cleanup()


if __name__ == "__main__":
    unittest.main(verbosity=2)
