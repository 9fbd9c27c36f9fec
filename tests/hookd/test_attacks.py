"""hookd under attack (issue 13, items 2 and 4-7), against a real hookd on loopback: password
guessing, pinned settings, a forged email sender, command applets that would run a value as
code, and the smaller ones (a client leaving before its reply, a literal "..", the key in the
log, `hookd key` on a typo, JSON errors). Each attack is bounded in count and time, asserts
what a user would notice and that the store lost nothing. (Slow clients and smuggled requests
are in test_attacks_http.py.)

Each attack prints a "figures: hookd-attacks NAME ..." line: a normal trigger's p50/p99
during it, and what the attacker got."""
import email
import email.policy
import email.utils
import http.client
import json
import multiprocessing
import os
import socket
import statistics
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hookd_harness import (NO_LIMITS, PASSWORD, SLOW, WRAPPER, Hookd, system_python,  # noqa
                           wait_for)

system_python("aiosmtpd")   # Debian's python3-aiosmtpd
from aiosmtpd.controller import Controller  # noqa: E402


def report(name, **figures):
    variant = "valgrind" if WRAPPER else "asan" if os.environ.get("HOOKD_SANITIZED") else "plain"
    print("\nfigures: hookd-attacks %s hookd=%s %s"
          % (name, variant, " ".join("%s=%s" % kv for kv in figures.items())), flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def post(h, path, body, source="127.0.0.1", headers=None, timeout=10):
    """(status, headers, body) of one POST from source (another loopback address)."""
    c = http.client.HTTPConnection("127.0.0.1", h.port, timeout=timeout * SLOW,
                                   source_address=(source, 0))
    try:
        hd = {"Content-Type": "application/json"}
        hd.update(headers or {})
        c.request("POST", path, body=json.dumps(body), headers=hd)
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p / 100))] if xs else float("nan")


class Triggers:
    """Normal triggers from 127.0.0.1, one after another, timed, while an attack runs."""

    def __init__(self, h, event="normal"):
        self.h, self.event, self.ms, self.statuses = h, event, [], []
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop.is_set():
            t0 = time.monotonic()
            st = self.h.trigger(self.event, method="GET")[0]
            self.ms.append((time.monotonic() - t0) * 1000)
            self.statuses.append(st)
            time.sleep(0.01)

    def __enter__(self):
        self.t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.t.join(30)

    def figures(self):
        return {"trigger_p50_ms": "%.1f" % percentile(self.ms, 50),
                "trigger_p99_ms": "%.1f" % percentile(self.ms, 99), "triggers": len(self.ms)}


def stored(h, event):
    n, before = 0, ""
    while True:
        st, j = h.api("GET", "/api/events?limit=500&event=%s%s" % (event, before))
        assert st == 200, j
        n += len(j["events"])
        if len(j["events"]) < 500:
            return n
        before = "&before=%d" % j["events"][-1]["id"]


def guess_loop(port, n, start, stop, results):
    """One guessing loop from 127.0.0.(n+2) from the time start to stop: its (status,
    Retry-After) list into results."""
    class Target:
        pass
    h = Target()
    h.port = port
    src = "127.0.0.%d" % (n + 2)
    out = []
    time.sleep(max(0, start - time.time()))
    for i in range(400):
        if time.time() >= stop:
            break
        st, hd, _ = post(h, "/api/login", {"password": "guess-%d-%d" % (n, i)}, src)
        out.append((st, int(hd.get("retry-after", 0))))
        # 20 guesses a second a loop: the hashing, not this machine's cores running Python
        # clients flat out, is what is measured
        time.sleep(0.05)
    results.put(out)


LOGIN = {"free_failures": 3, "delay_ms": 200, "max_delay_s": 2, "account_max_delay_s": 1,
         "forget_s": 4}


class PasswordGuessing(unittest.TestCase):
    def guess(self, h, seconds=6, during=None):
        """8 guessing loops from 127.0.0.2-9 for seconds while normal triggers are timed;
        during() runs 2 s in. ({status: count}, Retry-After values, the Triggers, during's
        result)."""
        got, retry_after = {}, []
        # the guessers in processes of their own, started fresh (not forked from this
        # threaded one) and before the timing, so that neither their start nor their Python
        # slows the timed triggers' client (one interpreter lock); they begin together
        mp = multiprocessing.get_context("spawn")
        results = mp.Queue()
        start = time.time() + 3 * SLOW
        procs = [mp.Process(target=guess_loop, args=(h.port, n, start, start + seconds, results))
                 for n in range(8)]
        for p in procs:
            p.start()
        time.sleep(max(0, start - 0.3 - time.time()))
        extra = None
        with Triggers(h) as normal:
            if during:
                time.sleep(2.3)
                extra = during()
            for _ in procs:
                for st, ra in results.get(timeout=60 * SLOW):
                    got[st] = got.get(st, 0) + 1
                    if st == 429:
                        retry_after.append(ra)
        for p in procs:
            p.join(60)
        return got, retry_after, normal, extra

    def test_hashing_waits_in_its_own_queue_not_on_the_http_threads(self):
        # no delays at all: every guess wants a hash, far more than one hash thread does
        login = dict(LOGIN, free_failures=1000, hash_threads=1, queue=4)
        with Hookd({"limits": dict(NO_LIMITS, login=login)}) as h:
            with Triggers(h, "quiet") as quiet:
                time.sleep(2)
            got, _, normal, _ = self.guess(h, seconds=4)
            report("password-hashing", quiet_p99_ms="%.1f" % percentile(quiet.ms, 99),
                   loops=8, guesses=sum(got.values()), hashed_401=got.get(401, 0),
                   queue_full_503=got.get(503, 0), **normal.figures())
            self.assertEqual(set(got) - {401, 503}, set(), got)
            self.assertGreater(got.get(503, 0), 0, got)   # the queue is bounded
            self.assertGreater(got.get(401, 0), 0, got)
            bound = max(50, 2 * percentile(quiet.ms, 99)) * SLOW
            self.assertLess(percentile(normal.ms, 99), bound, normal.figures())
            self.assertEqual(set(normal.statuses), {200})
            self.assertEqual(stored(h, "normal"), len(normal.statuses))

    def test_eight_guessers_get_429_and_triggers_keep_their_latency(self):
        # per-IP token buckets off: the 429s seen here are the login's own delays
        cfg = {"limits": dict(NO_LIMITS, login=LOGIN)}
        with Hookd(cfg) as h:
            self.assertEqual(h.login()[0], 200)   # the admin, from 127.0.0.1, known
            with Triggers(h, "quiet") as quiet:   # the same triggers without an attack, to compare
                time.sleep(2)

            def admin_login():
                # the admin still gets in during the attack, from an address known to work
                t0 = time.monotonic()
                st = post(h, "/api/login", {"password": PASSWORD})[0]
                return st, (time.monotonic() - t0) * 1000

            got, retry_after, normal, (admin, admin_ms) = self.guess(h, during=admin_login)
            guesses = sum(got.values())
            report("password-guessing", quiet_p99_ms="%.1f" % percentile(quiet.ms, 99), loops=8, guesses=guesses, got_401=got.get(401, 0),
                   got_429=got.get(429, 0), got_503=got.get(503, 0), admin_login=admin,
                   admin_login_ms="%.0f" % admin_ms, **normal.figures())
            self.assertEqual(admin, 200)
            self.assertEqual(set(got) - {401, 429, 503}, set(), got)
            self.assertGreater(got.get(429, 0), guesses // 2, got)
            self.assertTrue(all(1 <= r <= 2 for r in retry_after), sorted(set(retry_after)))
            # 3 free failures for the account, then one a delay (at most 1 s) over 6 s,
            # give or take those in flight together
            self.assertLessEqual(got.get(401, 0), 3 + 8 + 6 * 8, got)
            # under 50 ms, unless this (shared) machine is that slow without an attack too
            bound = max(50, 2 * percentile(quiet.ms, 99)) * SLOW
            self.assertLess(percentile(normal.ms, 99), bound, normal.figures())
            self.assertEqual(set(normal.statuses), {200})
            # the store lost nothing: every 200 is an event
            self.assertEqual(stored(h, "normal"), len(normal.statuses))
            # and once the guessing stops the delays decay: the right password from an
            # attacking address works after its Retry-After
            for _ in range(10):
                st, hd, _ = post(h, "/api/login", {"password": PASSWORD}, "127.0.0.2")
                if st != 429:
                    break
                time.sleep(int(hd["retry-after"]))
            self.assertEqual(st, 200)
            # each wrong password that was tried is in the log (those refused are not)
            self.assertEqual(h.log().count("api: failed login from 127.0.0."), got.get(401, 0))


class Pinned(unittest.TestCase):
    def test_every_pinned_setting_is_refused(self):
        key = "pinned-key-0123456789"
        cfg = {"key": key, "applets": [{"name": "pinned", "event": "e", "action": "file",
                                        "fields": {"path": "/tmp/hookd-pinned.jsonl"}}]}
        with Hookd(cfg) as h:   # the harness pins admin_password
            st, j = h.api("POST", "/api/password", {"current": PASSWORD, "new": "0123456789"})
            self.assertEqual(st, 409, j)
            self.assertIn("pinned by the config file", j["errors"][0]["message"])
            st, j = h.api("POST", "/api/key/rotate")
            self.assertEqual(st, 409, j)
            a = h.api("GET", "/api/applets")[1]["applets"][0]
            st, j = h.api("PATCH", "/api/applets/%d" % a["id"], {"event": "changed"})
            self.assertEqual(st, 409, j)
            r = h.cli("password", input="another-password\n")
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn('"admin_password" is pinned', r.stderr)
            r = h.cli("key", "--rotate")
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn('"key" is pinned', r.stderr)
            h.restart()
            h.cookie = None
            self.assertEqual(h.login(PASSWORD)[0], 200)   # nothing changed behind its back
            self.assertEqual(h.login("0123456789")[0], 401)
            self.assertEqual(h.trigger(key=key, method="GET")[0], 200)
            report("pinned", password_api=409, rotate_api=409, applet_api=409,
                   cli_password=1, cli_rotate=1)


class Sink:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append({"mail_from": envelope.mail_from,
                              "rcpt_tos": list(envelope.rcpt_tos),
                              "data": envelope.original_content})
        return "250 Message accepted for delivery"


class ForgedSender(unittest.TestCase):
    def test_an_ingredient_never_adds_an_address(self):
        sink, port = Sink(), free_port()
        smtp = Controller(sink, hostname="127.0.0.1", port=port)
        smtp.start()
        try:
            fields = {"url": "smtp://127.0.0.1:%d" % port, "from": "{{Value1}} <hookd@example.test>",
                      "to": "{{Value2}} <me@example.test>", "subject": "{{Value3}}",
                      "html": False, "timeout": 10}
            cfg = {"limits": NO_LIMITS, "deliveries": {"backoff_initial_ms": 100},
                   "applets": [{"name": "mail", "event": "mail", "action": "email",
                                "fields": fields}]}
            with Hookd(cfg) as h:
                hostile = [('"CEO" <ceo@corp.example>', "x\r\nBcc: evil@attacker.example"),
                           ("ceo@corp.example, <cfo@corp.example>", "Eve <eve@attacker.example>"),
                           ("=?UTF-8?B?Q0VP?= <ceo@corp.example>", "a\nReply-To: x@attacker.example")]
                for v1, v2 in hostile:
                    st = h.trigger("mail", json_body={"value1": v1, "value2": v2, "value3": v2})[0]
                    self.assertEqual(st, 200)
                wait_for("3 mails", lambda: len(sink.messages) >= 3, 30, h)
                names = set()
                for m in sink.messages:   # in any order: deliveries run in parallel
                    msg = email.message_from_bytes(m["data"], policy=email.policy.default)
                    froms = email.utils.getaddresses(msg.get_all("From"))
                    self.assertEqual([a for _, a in froms], ["hookd@example.test"], msg["From"])
                    names.add(froms[0][0])
                    tos = email.utils.getaddresses(msg.get_all("To"))
                    self.assertEqual([a for _, a in tos], ["me@example.test"], msg["To"])
                    for name in ("Bcc", "Cc", "Reply-To", "Sender"):
                        self.assertIsNone(msg[name], msg.as_string())
                    self.assertEqual(m["mail_from"], "hookd@example.test")
                    self.assertEqual(m["rcpt_tos"], ["me@example.test"])
                self.assertEqual(names, {v1 for v1, _ in hostile})   # each value intact
                # an address from a value must be exactly one
                st = h.api("POST", "/api/applets", {"name": "to", "event": "to", "action": "email",
                                                     "fields": dict(fields, to="{{Value1}}")})[0]
                self.assertEqual(st, 201)
                h.trigger("to", json_body={"value1": "a@x.example, b@y.example"})
                d = h.wait_delivery(lambda d: d["applet"] == "to" and d["state"] == "failed")
                self.assertIn('field "to": not one address', d["last_result"])
                # the sender's address is the configured one: a value cannot be it
                st, j = h.api("POST", "/api/applets", {
                    "name": "from", "event": "f", "action": "email",
                    "fields": dict(fields, **{"from": "{{Value1}}"})})
                self.assertEqual(st, 400, j)
                self.assertIn('"from": the address must be written out', j["errors"][0]["message"])
                self.assertEqual(stored(h, "mail"), 3)
                report("forged-sender", mails=len(sink.messages), from_addresses=1,
                       injected_headers=0, extra_recipients=0)
        finally:
            smtp.stop()


class CommandApplets(unittest.TestCase):
    def test_a_value_cannot_become_code(self):
        with Hookd() as h:
            refused = {
                "shell -c": ["/bin/sh", "-c", "echo {{Value1}}"],
                "argv[0]": ["{{Value1}}", "x"],
                "env sh -c": ["/usr/bin/env", "sh", "-c", "echo {{Value1}}"],
                "bash -ec": ["bash", "-ec", "echo {{Value1}}"],
                "python3 -c": ["python3.11", "-c", "print('{{Value1}}')"],
                "python3 script": ["python3", "{{Value1}}"],
                "sudo": ["sudo", "-u", "x", "{{Value1}}"],
            }
            for what, argv in refused.items():
                st, j = h.api("POST", "/api/applets", {"name": what, "event": "c",
                                                        "action": "command",
                                                        "fields": {"argv": argv}})
                self.assertEqual(st, 400, (what, j))
                msg = j["errors"][0]["message"]
                self.assertIn("allow_shell", msg, what)
                self.assertIn("{{Value1}}", msg, what)
            safe = {
                "sh $1": ["/bin/sh", "-c", 'echo "$1"', "sh", "{{Value1}}"],
                "env var": ["/bin/sh", "-c", 'echo "$HOOKD_VALUE1"'],
                "script": ["/usr/local/bin/notify.sh", "{{Value1}}"],
                "python after code": ["python3", "-c", "import sys", "{{Value1}}"],
                "allowed": ["/bin/sh", "-c", "echo {{Value1}}"],
            }
            for what, argv in safe.items():
                f = {"argv": argv}
                if what == "allowed":
                    f["allow_shell"] = True
                st, j = h.api("POST", "/api/applets", {"name": what, "event": "c",
                                                        "action": "command", "fields": f})
                self.assertEqual(st, 201, (what, j))
            report("command-applets", refused=len(refused), accepted=len(safe))


class Smaller(unittest.TestCase):
    def test_small_defects(self):
        with Hookd({"limits": NO_LIMITS}) as h:
            key = h.key_cached()
            # a literal ".." in a file path: 400 at save, not a failure at every delivery
            st, j = h.api("POST", "/api/applets", {"name": "f", "event": "f", "action": "file",
                                                    "fields": {"path": "/tmp/a/../b.jsonl"}})
            self.assertEqual(st, 400, j)
            self.assertIn('".." component', j["errors"][0]["message"])
            # an event named like the key: never the whole key in the log
            self.assertEqual(h.trigger(key, method="GET")[0], 200)
            h.api("POST", "/api/applets", {"name": key, "event": key, "action": "file",
                                           "fields": {"path": "/tmp/%s.jsonl" % key}})
            h.trigger(key, key="wrong-key-0123456789", method="GET")
            wait_for("the trigger's line", lambda: "\u2026" in h.log(), 10, h)
            self.assertNotIn(key, h.log())
            self.assertIn(key[:4] + "\u2026", h.log())
            # JSON errors in the user's words
            st, _, b = h.trigger("j", json_body='{"value1":"\\u0000"}')
            self.assertEqual(st, 400)
            self.assertIn(b"NUL", b)
            self.assertNotIn(b"JSON_", b)
            st, hd, b = h.request("POST", "/api/login", '{"password":"\\u0000"}',
                                  {"Content-Type": "application/json"})
            self.assertEqual(st, 400)
            self.assertNotIn(b"JSON_", b)
            # a client that leaves before the reply: the trigger is stored, logged, counted
            before = stored(h, "gone")
            counted = h.metrics().get('hookd_triggers_total{result="ok"}', 0)
            for _ in range(5):
                s = socket.create_connection(("127.0.0.1", h.port))
                s.sendall(b"GET /trigger/gone/with/key/%s HTTP/1.1\r\nHost: x\r\n\r\n"
                          % key.encode())
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            wait_for("5 stored", lambda: stored(h, "gone") == before + 5, 10, h)
            wait_for("5 lines", lambda: h.log().count('trigger "gone"') == 5, 10, h)
            left = h.log().count("the client left before the reply")
            self.assertEqual(h.metrics()['hookd_triggers_total{result="ok"}'],
                             counted + 5)
        # hookd key on a mistyped folder: no store made, exit 1, saying so
        other = Hookd()
        typo = os.path.join(other.tmp, "dtaa")
        other.data = typo
        try:
            r = other.cli("key")
        finally:
            other.cleanup()
        self.assertEqual(r.returncode, 1)
        self.assertIn("there is no store in", r.stderr)
        self.assertFalse(os.path.exists(typo) and os.listdir(typo))
        report("smaller", dotdot=400, key_in_log=0, json_error_internals=0, gone_logged=5,
               gone_marked=left, key_typo_exit=1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
