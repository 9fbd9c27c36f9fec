"""hookd under faults (issue 7's "proof under faults"), with the numbers printed:

- KillUnderLoad: SIGKILL at random moments while a load generator (several keep-alive
  connections) sends triggers, several kill/restart cycles. Every trigger that got a 200 must
  be in the store after the restart (through the API) and delivered (a file action: one JSON
  line per delivery). Prints sent, acknowledged, found, delivered, duplicates.
- TargetsDown: the SMTP server (aiosmtpd), the HTTP receiver (http.server) and the MQTT broker
  (mosquitto) stopped while triggers arrive, then started again: every delivery arrives once.
  Then the HTTP receiver loses its first reply to each request: hookd sends it again with the
  same Idempotency-Key, and the receiver applies it once.
- DiskFull: the data folder on a small tmpfs mounted here, filled up: triggers get 503 with a
  JSON error (never a 200 that is not kept), hookd keeps serving, and takes triggers again
  once space is back. Needs root (mount); skipped otherwise.

HOOKD_TEST_STORE  the store: unset, SQLite in the test's temporary data folder; a
                  postgresql:// URL (pg_harness.py sets it), a new database on that server for
                  each hookd (hookd_harness.py). DiskFull then skips: the data folder does not
                  hold the store.
HOOKD_TEST_SEED   the seed of the kill moments (printed; set it to replay a run)
HOOKD_WRAPPER     a command to run hookd under (valgrind); see hookd_harness.py
"""
import email
import email.policy
import http.client
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from hookd_harness import system_python  # noqa: E402

system_python("aiosmtpd")   # Debian's python3-aiosmtpd

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from hookd_harness import (NO_LIMITS, SLOW, WRAPPER, Hookd, all_events, stopper,  # noqa: E402
                           unwind, wait_for)
from fault_targets import Broker, HttpReceiver, SmtpServer, Subscriber  # noqa: E402

STORE = os.environ.get("HOOKD_TEST_STORE", "") or "sqlite"   # hookd_harness applies it


def report(name, **figures):
    """One line of figures, "figures: hookd-faults NAME key=value ...": `make check` collects
    the lines starting with "figures: " from CTest's log and prints them at the end."""
    variant = "valgrind" if WRAPPER else "asan" if os.environ.get("HOOKD_SANITIZED") else "plain"
    print("\nfigures: hookd-faults %s store=%s hookd=%s %s"
          % (name, "sqlite" if STORE == "sqlite" else "postgresql", variant,
             " ".join("%s=%s" % kv for kv in figures.items())), flush=True)



def queue(h):
    m = h.metrics()
    return (int(m["hookd_deliveries_pending"]), int(m["hookd_deliveries_running"]),
            int(m["hookd_deliveries_failed"]))


# --------------------------------------------------------------------------- kill -9

class LoadGenerator:
    """CONNS threads, each with one keep-alive connection, sending triggers with a unique value1
    (also the Idempotency-Key) until stopped or until hookd goes away. Records every value
    sent and the ones that got a 200."""

    CONNS = 6

    def __init__(self, port, key, cycle):
        self.port, self.key, self.cycle = port, key, cycle
        self.sent, self.acked, self.unknown, self.other = [], [], [], {}
        self.lock = threading.Lock()
        self.stop_ev = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(n,)) for n in range(self.CONNS)]

    def start(self):
        for t in self.threads:
            t.start()

    def run(self, n):
        path = "/trigger/button_pressed/with/key/%s" % self.key
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10 * SLOW)
        i = 0
        try:
            while not self.stop_ev.is_set():
                v = "k%d-c%d-%d" % (self.cycle, n, i)
                i += 1
                with self.lock:
                    self.sent.append(v)
                try:
                    c.request("POST", path, body=json.dumps({"value1": v}),
                              headers={"Content-Type": "application/json",
                                       "Idempotency-Key": v})
                    r = c.getresponse()
                    r.read()
                except (OSError, http.client.HTTPException):
                    # hookd killed: stored or not, both are right; the client sends it again
                    # after the restart, as a button does
                    with self.lock:
                        self.unknown.append(v)
                    return
                with self.lock:
                    if r.status == 200:
                        self.acked.append(v)
                    else:
                        self.other[r.status] = self.other.get(r.status, 0) + 1
        finally:
            c.close()

    def stop(self):
        self.stop_ev.set()
        for t in self.threads:
            t.join(30 * SLOW)


class KillUnderLoad(unittest.TestCase):
    CYCLES = 5

    def test_kill9_cycles_lose_no_acknowledged_trigger(self):
        seed = int(os.environ.get("HOOKD_TEST_SEED") or time.time())
        rnd = random.Random(seed)
        tmp = tempfile.mkdtemp(prefix="hookd-faults-")
        lines = os.path.join(tmp, "delivered.jsonl")
        # two applets: the file action, a JSON line per delivery outside hookd's data folder
        # (no fsync: a SIGKILL loses nothing the kernel already has), and an HTTP receiver
        # that de-duplicates by Idempotency-Key. A short lease: on PostgreSQL the deliveries a
        # killed hookd held wait for theirs to run out.
        web = HttpReceiver()
        h = Hookd({"limits": NO_LIMITS,
                   "deliveries": {"backoff_initial_ms": 100, "backoff_max_ms": 500,
                                  "lease_s": 3},
                   "applets": [{"name": "log", "event": "button_pressed", "action": "file",
                                "fields": {"path": lines, "fsync": False}},
                               {"name": "web", "event": "button_pressed", "action": "http",
                                "fields": {"url": web.url("/hook"),
                                           "body": '{"v":"{{Value1}}"}',
                                           "headers": {"Content-Type": "application/json"}}}]})
        sent, acked, acked_resent, other, unknown = [], [], [], {}, []
        replayed, resent = 0, 0

        def resend():
            """The triggers whose answer the kill cut off, again with the same
            Idempotency-Key: those stored before the kill are not stored twice."""
            nonlocal replayed, resent, unknown
            for v in unknown:
                st, hdr, body = h.trigger(key=key, json_body={"value1": v},
                                          headers={"Idempotency-Key": v})
                self.assertEqual(st, 200, body)
                acked_resent.append(v)
                resent += 1
                replayed += hdr.get("idempotent-replayed") == "true"
            unknown = []

        try:
            key = None
            for cycle in range(self.CYCLES):
                h.start()
                key = key or h.key()
                resend()
                gen = LoadGenerator(h.port, key, cycle)
                gen.start()
                # some 200s first, then a moment anywhere in the stream (and in the deliveries
                # it sets off)
                wait_for("a first 200", lambda: gen.acked, h=h)
                time.sleep(rnd.uniform(0.2, 1.5))
                h.kill9()
                gen.stop()
                sent += gen.sent
                acked += gen.acked
                unknown += gen.unknown
                for k, v in gen.other.items():
                    other[k] = other.get(k, 0) + v
            self.assertEqual(other, {}, "answers other than 200 under load")
            self.assertEqual(len(set(sent)), len(sent))

            # the last start: everything acknowledged is there, and is delivered
            h.start()
            h.cookie = None   # a restart ends the API session
            resend()
            acked_first, acked = acked, acked + acked_resent
            events = all_events(h)
            stored = {}
            for e in events:
                stored[e["value1"]] = stored.get(e["value1"], 0) + 1
            lost = [v for v in acked if v not in stored]
            found = len(acked) - len(lost)
            wait_for("the delivery queue to drain",
                     lambda: queue(h)[:2] == (0, 0) and os.path.exists(lines), timeout=120, h=h)
            self.assertEqual(queue(h)[2], 0, "failed deliveries")
            delivered = {}
            torn = 0
            with open(lines, "rb") as f:
                for raw in f:
                    try:
                        v = json.loads(raw)["value1"]
                    except ValueError:
                        torn += 1
                        continue
                    delivered[v] = delivered.get(v, 0) + 1
            undelivered = [v for v in acked if v not in delivered]
            dup_deliveries = sum(n - 1 for n in delivered.values())
            http_requests, http_keys = web.counts()
            applied = sorted(json.loads(b)["v"] for b in web.applied.values())
            report("kill9", seed=seed, cycles=self.CYCLES, sent=len(sent),
                   acknowledged=len(acked_first), cut_off=resent,
                   resent_acknowledged=len(acked_resent), of_which_already_stored=replayed,
                   found=found, lost=len(lost), stored=len(events),
                   stored_unacknowledged=len(set(stored) - set(acked)),
                   delivered=sum(1 for v in acked if v in delivered),
                   delivered_lines=sum(delivered.values()),
                   duplicates=dup_deliveries, duplicate_events=sum(n - 1 for n in stored.values()),
                   torn_lines=torn, http_requests=http_requests, http_distinct_keys=http_keys,
                   http_applied=len(applied))
            self.assertGreater(len(acked_first), 50 * self.CYCLES // SLOW,
                               "too little load to prove much")
            self.assertEqual(lost, [], "acknowledged but not in the store after the restart")
            self.assertEqual(undelivered, [], "acknowledged but never delivered")
            # an Idempotency-Key is stored once, whatever the crashes: the store holds exactly
            # what was acknowledged, each once
            self.assertEqual([v for v, n in stored.items() if n > 1], [])
            self.assertEqual(sorted(stored), sorted(set(acked)))
            # whatever was delivered is an event of the store (nothing made up or torn)
            self.assertEqual([v for v in delivered if v not in stored], [])
            self.assertEqual(torn, 0)
            # the HTTP receiver: whatever hookd sent twice (a kill between the request and its
            # record) came with the same key, so each trigger was applied exactly once
            self.assertEqual(applied, sorted(acked))
            rc = h.stop()
            self.assertEqual(rc, 0, h.log())
        finally:
            h.cleanup()
            web.stop()
            subprocess.run(["rm", "-rf", tmp])


# --------------------------------------------------------------------------- targets down

class TargetsDown(unittest.TestCase):
    """One hookd with an email, an HTTP and an MQTT applet, each against a real server that the
    tests stop and start again on the same port."""

    N = 8

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="hookd-targets-")
        cls.stack = []
        try:
            cls.smtp = SmtpServer()
            cls.stack.append(cls.smtp.stop)
            cls.web = HttpReceiver()
            cls.stack.append(cls.web.stop)
            cls.broker = Broker(cls.tmp)
            cls.stack.append(cls.broker.stop)
            cls.sub = Subscriber(cls.broker.port, "faults/#")
            cls.stack.append(cls.sub.stop)
            applets = [
                {"name": "email", "event": "press", "action": "email",
                 "fields": {"url": "smtp://127.0.0.1:%d" % cls.smtp.port,
                            "from": "hookd <hookd@example.test>", "to": "me@example.test",
                            "subject": "{{Value1}}", "timeout": 5}},
                {"name": "http", "event": "press", "action": "http",
                 "fields": {"url": cls.web.url("/hook"), "body": '{"v":"{{Value1}}"}',
                            "headers": {"Content-Type": "application/json"}, "timeout": 5}},
                {"name": "mqtt", "event": "press", "action": "mqtt",
                 "fields": {"host": "127.0.0.1", "port": cls.broker.port,
                            "topic": "faults/{{EventName}}", "payload": "{{Value1}}", "qos": 1,
                            "timeout": 5}},
            ]
            # short backoff so recovery is quick; enough attempts to outlast the outage
            cls.h = Hookd({"applets": applets,
                           "deliveries": {"backoff_initial_ms": 100, "backoff_max_ms": 400,
                                          "max_attempts": 1000}})
            cls.h.start()
            cls.stack.append(stopper(cls.h))
        except BaseException:
            unwind(cls.stack, cls.tmp)
            raise

    @classmethod
    def tearDownClass(cls):
        unwind(cls.stack, cls.tmp)

    def press(self, values):
        for v in values:
            st, _, body = self.h.trigger(event="press", json_body={"value1": v})
            self.assertEqual(st, 200, body)

    def deliveries_of(self, values):
        evs = [e for e in self.h.events(event="press", limit=500) if e["value1"] in values]
        return [d for e in evs for d in e["deliveries"]]

    def wait_done(self, values):
        def done():
            ds = self.deliveries_of(values)
            failed = [d for d in ds if d["state"] == "failed"]
            if failed:
                raise AssertionError("failed: %r\n%s" % (failed, self.h.log()))
            return ds if len(ds) == 3 * len(values) and \
                all(d["state"] == "done" for d in ds) else None
        return wait_for("every delivery done", done, timeout=60, h=self.h)

    def test_1_targets_down_then_back(self):
        values = ["down-%d" % i for i in range(self.N)]
        smtp0, (req0, keys0), mqtt0 = len(self.smtp.ids()), self.web.counts(), len(self.sub.got())
        self.smtp.stop()
        self.web.stop()
        self.broker.stop()
        try:
            self.press(values)

            # each delivery is retried (not failed) while its target is down
            def retrying():
                ds = self.deliveries_of(values)
                ended = [d for d in ds if d["state"] not in ("pending", "running")]
                if ended:
                    raise AssertionError("ended while the target was down: %r" % ended)
                return len(ds) == 3 * self.N and all(d["tries"] >= 2 for d in ds)
            wait_for("every delivery retried", retrying, h=self.h)
            tries_down = sum(d["tries"] for d in self.deliveries_of(values))
        finally:
            self.broker.start()
            self.web.start()
            self.smtp.start()
        ds = self.wait_done(values)
        # the subscriber may still be getting what the broker queued for it
        wait_for("the MQTT messages", lambda: len(self.sub.got()) >= mqtt0 + self.N)
        time.sleep(0.5)   # room for a duplicate to show up, if one were sent

        mails = self.smtp.messages[smtp0:]
        subjects = sorted(self.subject(raw) for _, raw in mails)
        reqs = self.web.requests[req0:]
        mqtt = self.sub.got()[mqtt0:]
        report("targets-down", triggers=self.N, deliveries=len(ds),
               attempts_while_down=tries_down, attempts_total=sum(d["tries"] for d in ds),
               smtp_messages=len(mails), smtp_distinct_message_ids=len({m[0] for m in mails}),
               http_requests=len(reqs), http_distinct_keys=self.web.counts()[1] - keys0,
               mqtt_messages=len(mqtt), mqtt_distinct=len(set(mqtt)))
        self.assertEqual(subjects, sorted(values))            # each mail once
        self.assertEqual(len({m[0] for m in mails}), self.N)
        self.assertEqual(sorted(json.loads(b)["v"] for _, b in reqs), sorted(values))
        self.assertEqual(len({k for k, _ in reqs}), self.N)
        self.assertEqual(sorted(mqtt), sorted(values))

    def test_2_lost_http_reply_is_retried_with_the_same_key(self):
        values = ["lost-reply-%d" % i for i in range(5)]
        req0, keys0 = self.web.counts()
        self.web.lose_first_reply = True
        try:
            self.press(values)
            ds = self.wait_done(values)
        finally:
            self.web.lose_first_reply = False
        reqs = self.web.requests[req0:]
        keys = [k for k, _ in reqs]
        http_ds = [d for d in ds if d["action"] == "http"]
        report("lost-reply", triggers=len(values), http_requests=len(reqs),
               http_distinct_keys=len(set(keys)), applied=self.web.counts()[1] - keys0,
               http_attempts=sum(d["tries"] for d in http_ds))
        # every request was sent twice (the first reply lost), with the same key both times,
        # and the receiver applied each once
        self.assertEqual(len(reqs), 2 * len(values))
        self.assertEqual(len(set(keys)), len(values))
        for k in keys:
            self.assertRegex(k, r"^hookd-\d+-\d+$")
            self.assertEqual(keys.count(k), 2)
        applied = sorted(json.loads(self.web.applied[k])["v"] for k in set(keys))
        self.assertEqual(applied, sorted(values))
        self.assertEqual([d["tries"] for d in http_ds], [2] * len(values))

    @staticmethod
    def subject(raw):
        return email.message_from_bytes(raw, policy=email.policy.default)["Subject"]


# --------------------------------------------------------------------------- disk full

class DiskFull(unittest.TestCase):
    SIZE = "4m"
    ROOM = 512 * 1024

    def setUp(self):
        if STORE != "sqlite":
            self.skipTest("the store is PostgreSQL (HOOKD_TEST_STORE), not in the data folder")
        if os.geteuid() != 0:
            self.skipTest("mounting a tmpfs needs root; run as root (as CI does) for this test")
        self.tmp = tempfile.mkdtemp(prefix="hookd-diskfull-")
        self.mnt = os.path.join(self.tmp, "mnt")
        os.mkdir(self.mnt)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=" + self.SIZE, "hookd-test",
                            self.mnt], capture_output=True, text=True)
        if r.returncode != 0:
            os.rmdir(self.mnt)
            self.skipTest("cannot mount a tmpfs here: " + r.stderr.strip())

    def tearDown(self):
        if STORE == "sqlite" and os.geteuid() == 0 and os.path.ismount(self.mnt):
            subprocess.run(["umount", "-l", self.mnt])
        subprocess.run(["rm", "-rf", getattr(self, "tmp", "/nonexistent")])

    def free(self):
        st = os.statvfs(self.mnt)
        return st.f_bavail * st.f_frsize

    def fill(self, leave=0):
        """Writes a file until only `leave` bytes are free (0: the disk is full); returns its
        path."""
        path = os.path.join(self.mnt, "filler")
        with open(path, "wb", buffering=0) as f:
            for size in (65536, 4096, 512):
                while self.free() >= leave + size:
                    try:
                        f.write(b"\0" * size)
                    except OSError:
                        break
        return path

    def test_503_while_full_then_200(self):
        lines = os.path.join(self.tmp, "delivered.jsonl")   # off the full disk
        h = Hookd({"limits": NO_LIMITS,
                   "deliveries": {"backoff_initial_ms": 100, "backoff_max_ms": 500},
                   "applets": [{"name": "log", "event": "button_pressed", "action": "file",
                                "fields": {"path": lines, "fsync": False}}]},
                  data=os.path.join(self.mnt, "data"))
        try:
            h.start()
            key = h.key()
            self.assertEqual(h.trigger(key=key, json_body={"value1": "before"})[0], 200)
            # a little room left: the triggers fill the disk themselves, and the ones that
            # still fit are answered 200 and must all be kept; then 503, never a 200 that is not
            # kept
            h.login()   # before: a login may need to write
            filler = self.fill(leave=self.ROOM)
            self.assertLess(self.free(), self.ROOM + 4096)
            acked, refused, first_503 = [], 0, None
            for i in range(5000):
                v = "full-%d" % i
                status, hdr, body = h.trigger(key=key, json_body={"value1": v})
                if status == 200:
                    acked.append(v)
                    continue
                self.assertEqual(status, 503, body)
                refused += 1
                if first_503 is None:
                    first_503 = (hdr, body)
                if refused == 20:
                    break
            # (a commit is a few pages of WAL: it can fail with a little room left)
            self.assertLess(self.free(), 64 * 1024, "a 503 while the disk had room")
            self.assertEqual(refused, 20, "no 503 on a full disk after %d triggers" % len(acked))
            hdr, body = first_503
            self.assertTrue(hdr["content-type"].startswith("application/json"), hdr)
            msg = json.loads(body)["errors"][0]["message"]
            self.assertIn("could not be stored durably", msg)
            self.assertIn("retry-after", hdr)

            # still serving everything that does not write: the API, metrics, /ip
            self.assertEqual(h.request("GET", "/ip")[0], 200)
            values = {e["value1"] for e in all_events(h)}
            self.assertIn("before", values)
            self.assertEqual(h.metrics()['hookd_triggers_total{result="unavailable"}'], refused)

            # space is back: the next trigger is kept
            os.unlink(filler)
            st, _, body = h.trigger(key=key, json_body={"value1": "after"})
            self.assertEqual(st, 200, body)
            wait_for("the delivery queue to drain", lambda: queue(h)[:2] == (0, 0), h=h)
            rc = h.stop()
            self.assertEqual(rc, 0, h.log())

            h.start()
            h.cookie = None   # a restart ends the API session
            values = {e["value1"] for e in all_events(h)}
            lost = [v for v in acked + ["before", "after"] if v not in values]
            kept_refused = [v for v in values if v.startswith("full-") and v not in acked]
            wait_for("the delivery queue to drain", lambda: queue(h)[:2] == (0, 0), h=h)
            with open(lines) as f:
                delivered = [json.loads(x)["value1"] for x in f]
            report("disk-full", tmpfs=self.SIZE, room=self.ROOM, sent=len(acked) + refused + 2,
                   acknowledged=len(acked) + 2, refused_503=refused, found=len(values),
                   lost=len(lost), stored_though_refused=len(kept_refused),
                   delivered=len(set(delivered)), duplicates=len(delivered) - len(set(delivered)))
            self.assertEqual(lost, [])
            self.assertEqual(kept_refused, [])
            self.assertEqual(sorted(set(delivered)), sorted(acked + ["before", "after"]))
            self.assertEqual(queue(h)[2], 0, "failed deliveries")
            rc = h.stop()
            self.assertEqual(rc, 0, h.log())
        finally:
            h.cleanup()


if __name__ == "__main__":
    unittest.main(verbosity=2)
