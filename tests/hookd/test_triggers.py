"""hookd's trigger URLs, byte for byte as IFTTT's Maker Webhooks, and its answers to bad input."""
import json
import os
import re
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hookd_harness import (CURL_LINE_BODY, NO_LIMITS, SLOW, Hookd, HookdTest,  # noqa: E402
                           raw_socket, recv_all)

INVALID_KEY = b'{"errors":[{"message":"You sent an invalid key."}]}'


class Triggers(HookdTest):
    CONFIG = {"limits": dict(NO_LIMITS, connection_timeout_s=2)}

    def newest(self):
        return self.h.events(limit=1)[0]

    def test_chapter_curl_line(self):
        # the line IFTTT's documentation page shows, with only the host changed
        url = self.h.url("/trigger/button_pressed/with/key/" + self.h.key_cached())
        out = subprocess.run(["curl", "-s", "-X", "POST", "-H", "Content-Type: application/json",
                              "-d", CURL_LINE_BODY, url], capture_output=True, timeout=30)
        self.assertEqual(out.stdout, b"Congratulations! You've fired the button_pressed event")
        head = subprocess.run(["curl", "-s", "-o", "/dev/null", "-D", "-", "-X", "POST", "-H",
                               "Content-Type: application/json", "-d", CURL_LINE_BODY, url],
                              capture_output=True, timeout=30).stdout
        self.assertTrue(head.startswith(b"HTTP/1.1 200 OK\r\n"), head)
        self.assertIn(b"\r\nContent-Type: text/html; charset=utf-8\r\n", head)
        e = self.newest()
        self.assertEqual((e["event"], e["value1"], e["value2"], e["json"]),
                         ("button_pressed", "micropython1", None, False))

    def test_get_and_query_values(self):
        st, h, body = self.h.trigger("door", method="GET", query="value1=a+b&value2=%C3%A9t%C3%A9"
                                     "&value3=&other=x")
        self.assertEqual((st, body), (200, b"Congratulations! You've fired the door event"))
        self.assertEqual(h["content-type"], "text/html; charset=utf-8")
        e = self.newest()
        self.assertEqual((e["event"], e["value1"], e["value2"], e["value3"]),
                         ("door", "a b", "\u00e9t\u00e9", ""))
        self.assertEqual(e["source_ip"], "127.0.0.1")

    def test_form_values(self):
        st, _, _ = self.h.trigger("form", form="value1=one&value3=three%26more")
        self.assertEqual(st, 200)
        e = self.newest()
        self.assertEqual((e["value1"], e["value2"], e["value3"]), ("one", None, "three&more"))

    def test_json_values_not_strings(self):
        st, _, _ = self.h.trigger("j", json_body={"value1": 42, "value2": True,
                                                  "value3": None, "extra": "ignored"})
        self.assertEqual(st, 200)
        e = self.newest()
        self.assertEqual((e["value1"], e["value2"], e["value3"], e["payload"]),
                         ("42", "true", None, None))

    def test_body_over_query(self):
        st, _, _ = self.h.trigger("both", json_body={"value1": "body"},
                                  query="value1=query&value2=query2")
        self.assertEqual(st, 200)
        e = self.newest()
        self.assertEqual((e["value1"], e["value2"]), ("body", "query2"))

    def test_json_without_content_type(self):
        st, _, _ = self.h.trigger("bare", json_body='{"value1":"x"}',
                                  headers={"Content-Type": ""})
        self.assertEqual(st, 200)
        self.assertEqual(self.newest()["value1"], "x")

    def test_json_endpoint(self):
        body = '{"temp": 21.5, "tags": ["a", "b"], "value1": "v"}'
        st, h, reply = self.h.trigger("reading", json_body=body, json_endpoint=True)
        self.assertEqual((st, reply),
                         (200, b"Congratulations! You've fired the reading JSON event"))
        self.assertEqual(h["content-type"], "text/html; charset=utf-8")
        e = self.newest()
        self.assertTrue(e["json"])
        self.assertEqual(json.loads(e["payload"]), json.loads(body))
        self.assertIsNone(e["value1"])
        # an empty body is an empty object; a form body becomes an object of strings
        self.h.trigger("reading", json_endpoint=True, method="GET")
        self.assertEqual(self.newest()["payload"], "{}")
        self.h.trigger("reading", form="a=1&b=two", json_endpoint=True)
        self.assertEqual(json.loads(self.newest()["payload"]), {"a": "1", "b": "two"})

    def test_event_name_escaped_in_reply(self):
        st, _, body = self.h.trigger("a%3Cb%3E", method="GET")
        self.assertEqual((st, body), (200, b"Congratulations! You've fired the a&lt;b&gt; event"))
        self.assertEqual(self.newest()["event"], "a<b>")

    def test_invalid_key(self):
        for key in ("wrong", "x" * 22, self.h.key_cached()[:-1], self.h.key_cached() + "x",
                    "%ZZ"):
            st, h, body = self.h.trigger(key=key)
            self.assertEqual((st, body), (401, INVALID_KEY), key)
            self.assertEqual(h["content-type"], "application/json; charset=utf-8")
        self.assertEqual(self.h.trigger(key="")[0], 401)
        self.assertNotIn(self.h.key_cached(), self.h.log())

    def test_not_found(self):
        k = self.h.key_cached()
        for path in ("/trigger//with/key/" + k, "/trigger//json/with/key/" + k,
                     "/nothing", "/index.htm", "/app.js/x", "/trigger", "/trigger/", "/trigger/e/with/key",
                     "/trigger/e/with/key/%s/more" % k, "/trigger/e/json/json/with/key/" + k,
                     "/trigger/e/key/" + k, "/triggers/e/with/key/" + k):
            st, _, body = self.h.request("POST", path)
            self.assertEqual(st, 404, path)
            self.assertIn(b'"errors"', body)

    def test_web_page(self):
        # the page is embedded in the binary; the browser test (tests/hookd/browser) uses it
        for path, ctype in (("/", "text/html"), ("/index.html", "text/html"),
                            ("/app.js", "text/javascript"), ("/style.css", "text/css")):
            st, h, body = self.h.request("GET", path)
            self.assertEqual(st, 200, path)
            self.assertTrue(h["content-type"].startswith(ctype), path)
            csp = h["content-security-policy"]
            self.assertIn("script-src 'self'", csp)
            self.assertNotIn("unsafe-inline", csp)
            self.assertEqual(h["x-content-type-options"], "nosniff")
            self.assertEqual(h["referrer-policy"], "no-referrer")
            self.assertTrue(body)
        st, h, _ = self.h.request("POST", "/")
        self.assertEqual((st, h.get("allow")), (405, "GET, HEAD"))
        st, _, body = self.h.request("GET", "/")
        self.assertIn(b'<script src="/app.js"', body)
        self.assertNotIn(b"<script>", body)

    def test_method_not_allowed(self):
        for m in ("PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"):
            st, h, _ = self.h.trigger(method=m)
            self.assertEqual(st, 405, m)
            self.assertEqual(h.get("allow"), "GET, POST")

    def test_malformed_bodies(self):
        st, _, body = self.h.trigger(json_body='{"value1": "x"')
        self.assertEqual(st, 400)
        self.assertIn(b"malformed JSON body", body)
        st, _, body = self.h.trigger(json_body='["value1"]')
        self.assertEqual(st, 400)
        self.assertIn(b"must be an object", body)
        st, _, body = self.h.trigger(form="value1=%zz")
        self.assertEqual(st, 400)
        self.assertIn(b"malformed form body: bad percent-encoding at byte 7", body)
        st, _, body = self.h.trigger(query="value1=%4")
        self.assertEqual(st, 400)
        self.assertIn(b"malformed query string", body)
        st, _, body = self.h.trigger(json_body="not json", json_endpoint=True,
                                     headers={"Content-Type": "text/plain"})
        self.assertEqual(st, 400)
        st, _, body = self.h.trigger(json_body="x", headers={
            "Content-Type": "multipart/form-data; boundary=x"})
        self.assertEqual(st, 415)

    def test_invalid_utf8(self):
        st, _, body = self.h.trigger(form="value2=ok%C3%28")
        self.assertEqual(st, 400)
        self.assertIn(b"value2 is not valid UTF-8 (byte 2 of the value)", body)
        st, _, body = self.h.trigger(query="value1=%ED%A0%80")   # a UTF-16 surrogate
        self.assertEqual(st, 400)
        self.assertIn(b"value1 is not valid UTF-8 (byte 0", body)
        st, _, body = self.h.trigger(json_body=b'{"value1": "\xff"}')
        self.assertEqual(st, 400)
        self.assertIn(b"malformed JSON body", body)
        self.assertIn(b"byte", body)
        st, _, body = self.h.trigger("bad%FFname")
        self.assertEqual(st, 400)
        self.assertIn(b"event name is not valid UTF-8", body)
        st, _, body = self.h.trigger(form="value1=a%00b")
        self.assertEqual(st, 400)
        self.assertIn(b"NUL", body)

    def test_body_too_large(self):
        big = '{"value1":"%s"}' % ("x" * 70000)
        st, h, body = self.h.trigger(json_body=big)
        self.assertEqual(st, 413)
        self.assertIn(b"larger than the limit", body)
        # the same without a Content-Length (chunked): counted as it comes
        s = raw_socket(self.h.port)
        s.sendall(("POST /trigger/big/with/key/%s HTTP/1.1\r\nHost: x\r\n"
                   "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                   % self.h.key_cached()).encode())
        chunk = b"x" * 8192
        try:
            for _ in range(10):
                s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            s.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        reply = recv_all(s)
        s.close()
        self.assertTrue(reply.startswith(b"HTTP/1.1 413"), reply[:200])
        # just under the limit is fine
        ok = '{"value1":"%s"}' % ("y" * (65536 - 20))
        self.assertEqual(self.h.trigger(json_body=ok)[0], 200)

    def test_ip(self):
        st, h, body = self.h.request("GET", "/ip")
        self.assertEqual((st, body), (200, b"127.0.0.1\n"))
        self.assertTrue(h["content-type"].startswith("text/plain"))
        self.assertEqual(self.h.request("POST", "/ip")[0], 405)

    def test_idempotency_key(self):
        n0 = len(self.h.events(event="idem", limit=100))
        hdr = {"Idempotency-Key": "press-%d" % time.time_ns()}
        st1, h1, b1 = self.h.trigger("idem", json_body={"value1": "1"}, headers=hdr)
        st2, h2, b2 = self.h.trigger("idem", json_body={"value1": "2"}, headers=hdr)
        # a repeat under another event name still gets the first reply
        st3, h3, b3 = self.h.trigger("other", method="GET", headers=hdr)
        self.assertEqual((st1, st2, st3), (200, 200, 200))
        self.assertEqual(b1, b"Congratulations! You've fired the idem event")
        self.assertEqual((b2, b3), (b1, b1))
        self.assertNotIn("idempotent-replayed", h1)
        self.assertEqual(h2.get("idempotent-replayed"), "true")
        events = self.h.events(event="idem", limit=100)
        self.assertEqual(len(events), n0 + 1)
        self.assertEqual(events[0]["value1"], "1")
        self.assertEqual(events[0]["idempotency_key"], hdr["Idempotency-Key"])
        self.assertEqual(self.h.events(event="other", limit=5), [])
        st, _, body = self.h.trigger("idem", headers={"Idempotency-Key": "a b"})
        self.assertEqual(st, 400)

    def test_concurrent_idempotency(self):
        # the same key sent at once from many clients: one event
        hdr = {"Idempotency-Key": "burst-%d" % time.time_ns()}
        results = []

        def go():
            results.append(self.h.trigger("burst", method="GET", headers=hdr)[0])
        ts = [threading.Thread(target=go) for _ in range(16)]
        [t.start() for t in ts]
        [t.join() for t in ts]
        self.assertEqual(results, [200] * 16)
        self.assertEqual(len(self.h.events(event="burst", limit=100)), 1)

    def test_endless_headers_and_slow_clients(self):
        # a client that sends headers for ever gets an error once they pass the limit
        s = raw_socket(self.h.port)
        s.sendall(b"GET /ip HTTP/1.1\r\nHost: x\r\n")
        reply = b""
        try:
            for i in range(2000):
                s.sendall(b"X-Filler-%d: %s\r\n" % (i, b"y" * 100))
        except (BrokenPipeError, ConnectionResetError):
            pass
        reply = recv_all(s)
        s.close()
        self.assertTrue(reply == b"" or reply.startswith(b"HTTP/1.1 4"), reply[:100])
        # slow clients, each holding half a request, do not keep others waiting
        slow = [raw_socket(self.h.port) for _ in range(20)]
        for c in slow:
            c.sendall(b"POST /trigger/slow/with/key/")
        t0 = time.time()
        self.assertEqual(self.h.request("GET", "/ip")[0], 200)
        self.assertEqual(self.h.trigger("fast", method="GET")[0], 200)
        self.assertLess(time.time() - t0, 1.0 * SLOW)
        # and they are cut off after the connection timeout (2 s here)
        for c in slow:
            c.settimeout(10 * SLOW)
            self.assertEqual(recv_all(c), b"")
            c.close()

    def test_metrics(self):
        self.h.trigger("m", method="GET")
        self.h.trigger("m", key="bad")
        m = self.h.metrics()
        self.assertGreaterEqual(m['hookd_triggers_total{result="ok"}'], 1)
        self.assertGreaterEqual(m['hookd_triggers_total{result="invalid_key"}'], 1)
        self.assertGreaterEqual(m["hookd_trigger_duration_seconds_count"], 2)
        self.assertEqual(m['hookd_trigger_duration_seconds_bucket{le="+Inf"}'],
                         m["hookd_trigger_duration_seconds_count"])
        self.assertIn("hookd_deliveries_pending", m)
        self.assertIn('hookd_deliveries_total{action="email",result="ok"}', m)


class SmallLimits(unittest.TestCase):
    def test_configured_body_limit(self):
        with Hookd({"limits": {"body_max_bytes": 100}}) as h:
            self.assertEqual(h.trigger(json_body={"value1": "x" * 50})[0], 200)
            self.assertEqual(h.trigger(json_body={"value1": "x" * 100})[0], 413)
            self.assertEqual(h.metrics()['hookd_triggers_total{result="too_large"}'], 1)

    def test_rate_limit_per_ip(self):
        with Hookd({"limits": {"per_ip": {"rate": 0.5, "burst": 3}}}) as h:
            key = h.key()
            got = [h.trigger(key=key, method="GET") for _ in range(4)]
            self.assertEqual([g[0] for g in got], [200, 200, 200, 429])
            self.assertIn(b"too many requests from your address", got[3][2])
            self.assertGreaterEqual(int(got[3][1]["retry-after"]), 1)
            # wrong keys count too: guessing keys is slow
            self.assertEqual(h.trigger(key="guess", method="GET")[0], 429)
            self.assertEqual(h.request("GET", "/ip")[0], 429)
            self.assertGreaterEqual(h.metrics()['hookd_triggers_total{result="rate_limited"}'], 2)

    def test_rate_limit_per_key(self):
        with Hookd({"limits": {"per_key": {"rate": 0.5, "burst": 2}}}) as h:
            key = h.key()
            got = [h.trigger(key=key, method="GET")[0] for _ in range(3)]
            self.assertEqual(got, [200, 200, 429])
            self.assertEqual(h.trigger(key="wrong", method="GET")[0], 401)

    def test_http_threads_follow_the_cores(self):
        # one HTTP thread per CPU hookd may run on (its affinity, inherited from the test),
        # unless limits.http_threads says otherwise; and it still serves on one
        cores = os.sched_getaffinity(0)
        for cfg, allowed, want in (({}, {min(cores)}, "1 HTTP thread,"),
                                   ({}, cores, "%d HTTP threads," % len(cores)
                                    if len(cores) > 1 else "1 HTTP thread,"),
                                   ({"limits": {"http_threads": 3}}, {min(cores)},
                                    "3 HTTP threads,")):
            h = Hookd(cfg)
            os.sched_setaffinity(0, allowed)
            try:
                h.start()
            finally:
                os.sched_setaffinity(0, cores)
            try:
                self.assertIn(want, h.log())
                self.assertEqual(h.trigger(method="GET")[0], 200)
            finally:
                h.stop()

    def test_config_errors(self):
        for cfg, msg in (({"limits": {"body_max": 1}}, 'unknown setting "body_max"'),
                         ({"limits": {"per_ip": {"rate": -1}}}, "per_ip.rate"),
                         ({"key": "short"}, "16 to 128 characters"),
                         ({"applets": [{"name": "a", "event": "e", "action": "nope"}]},
                          'unknown action "nope"')):
            h = Hookd(cfg)
            try:
                with self.assertRaises(AssertionError):
                    h.start(timeout=5)
                self.assertIn(msg, h.log())
            finally:
                h.cleanup()


class LogLines(unittest.TestCase):
    def test_every_trigger_logged_whole_up_to_the_stop(self):
        # While serving, log lines are written in batches (docs/http-front.md): a burst of
        # triggers from several clients, then a stop right away, must still leave one whole
        # line per answered trigger, before the "stopped" line.
        h = Hookd({"limits": NO_LIMITS})
        try:
            h.start()
            key = h.key()
            got = []

            def client(n):
                for i in range(25):
                    got.append(h.trigger("burst_%d" % n, key=key, json_body={"value1": i})[0])

            threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            self.assertEqual(got, [200] * 100)
            self.assertEqual(h.stop(), 0)
            lines = h.log().split("\n")
            stamp = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z hookd: ")
            logged = [ln for ln in lines if re.search(r'trigger "burst_\d" .* -> 200 event \d+', ln)]
            self.assertEqual(len(logged), 100, h.log())
            for ln in logged:
                self.assertRegex(ln, stamp)
                self.assertRegex(ln, r"deliveries \(\d+\.\d ms\)$")
            self.assertEqual(lines[-1][-len("hookd: stopped"):], "hookd: stopped")
        finally:
            h.cleanup()


if __name__ == "__main__":
    unittest.main(verbosity=2)
