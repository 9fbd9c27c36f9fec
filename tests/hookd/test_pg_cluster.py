"""Three hookd instances sharing one PostgreSQL (a real server from Debian's postgresql,
started here): triggers spread over the three, one instance killed with SIGKILL in the middle
of the load. Every acknowledged trigger must be stored and delivered, and no delivery may run
twice at the same time; its deliveries are taken over by the others once their lease runs out.
Also: the login, the key and an idempotency key hold across instances.

The applet's command appends "S key pid" then "E key pid" to one file (O_APPEND: the lines of
all runs are in one order), so two runs of one delivery overlap exactly when a second S comes
between a run's S and its E.
"""
import collections
import http.client
import json
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hookd_harness import NO_LIMITS, PASSWORD, SLOW, Hookd, wait_for  # noqa: E402
from pg_harness import Postgres  # noqa: E402

LEASE_S = 3
CLIENTS = 6
PER_CLIENT = 250          # at most CLIENTS * PER_CLIENT triggers
KILL_AFTER = 150          # acknowledged triggers before instance 1 is killed


def config(runs):
    script = ('echo "S $HOOKD_IDEMPOTENCY_KEY $$" >> %s; sleep 0.02; '
              'echo "E $HOOKD_IDEMPOTENCY_KEY $$" >> %s' % (runs, runs))
    return {"admin_password": PASSWORD,
            "limits": NO_LIMITS,
            "deliveries": {"workers": 4, "lease_s": LEASE_S, "max_attempts": 5,
                           "backoff_initial_ms": 200, "backoff_max_ms": 1000},
            "applets": [{"name": "record", "event": "load", "action": "command",
                         "fields": {"argv": ["/bin/sh", "-c", script]}}]}


def get(port, path, headers=None, timeout=10):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout * SLOW)
    try:
        c.request("GET", path, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def overlaps(lines):
    """(runs per key, keys run more than once, concurrent duplicates) from the S/E lines."""
    open_runs = collections.defaultdict(int)   # key -> runs started and not ended
    runs = collections.Counter()
    concurrent = 0
    for line in lines:
        parts = line.split()
        if len(parts) != 3:
            continue
        kind, key, _pid = parts
        if kind == "S":
            if open_runs[key] > 0:
                concurrent += 1
            open_runs[key] += 1
            runs[key] += 1
        elif kind == "E":
            open_runs[key] -= 1
    return runs, sum(1 for n in runs.values() if n > 1), concurrent


class Cluster(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = Postgres(fsync=True).start()
        cls.url = cls.pg.createdb()

    @classmethod
    def tearDownClass(cls):
        cls.pg.stop()

    def test_three_instances_one_killed_mid_load(self):
        hs = [Hookd(store=self.url) for _ in range(3)]
        runs_file = os.path.join(hs[0].tmp, "runs.log")
        for h in hs:
            h.config = config(runs_file)
        try:
            for h in hs:
                h.start()
            key = hs[0].key()
            self.assertEqual({h.key() for h in hs}, {key}, "one key in the store")

            # the login made on one instance works on the others
            self.assertEqual(hs[0].login()[0], 200)
            for h in hs[1:]:
                h.cookie, h.csrf = hs[0].cookie, hs[0].csrf
                self.assertEqual(h.api("GET", "/api/applets")[0], 200)

            # one idempotency key sent to two instances at once: stored once, both 200
            def idem(i, h, out):
                st, _, _ = h.trigger("idem", key=key, method="GET",
                                     headers={"Idempotency-Key": "k-%d" % i})
                out.append(st)
            idem_st = []
            ts = [threading.Thread(target=idem, args=(i, h, idem_st))
                  for i in range(20) for h in (hs[0], hs[2])]
            [t.start() for t in ts]
            [t.join() for t in ts]
            self.assertEqual(idem_st, [200] * 40)
            idem_events = [e for e in hs[0].events(limit=100, event="idem")]
            self.assertEqual(len(idem_events), 20, "each idempotency key stored once")

            sent, acked, lock = [0], [], threading.Lock()
            killed = threading.Event()
            ports = [h.port for h in hs]

            def client(n):
                for i in range(PER_CLIENT):
                    v = "c%d-%d" % (n, i)
                    port = ports[(n + i) % 3]
                    with lock:
                        sent[0] += 1
                    try:
                        st, _ = get(port, "/trigger/load/with/key/%s?value1=%s" % (key, v))
                    except OSError:
                        continue   # the killed instance: not acknowledged
                    if st == 200:
                        with lock:
                            acked.append(v)
                            if len(acked) == KILL_AFTER:
                                killed.set()

            ts = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
            [t.start() for t in ts]
            self.assertTrue(killed.wait(60 * SLOW), "no load")
            hs[1].kill9()   # mid-load: its claimed deliveries are left "running"
            [t.join() for t in ts]

            # everything delivered: the survivors take over the dead one's claims when their
            # leases run out
            survivor = hs[0]
            end = time.time() + (60 + 2 * LEASE_S) * SLOW
            while time.time() < end:
                m = survivor.metrics()
                if m["hookd_deliveries_pending"] + m["hookd_deliveries_running"] == 0:
                    break
                time.sleep(0.5)
            m = survivor.metrics()
            self.assertEqual((m["hookd_deliveries_pending"], m["hookd_deliveries_running"],
                              m["hookd_deliveries_failed"]), (0, 0, 0), "all delivered")

            stored, delivered, before = {}, 0, 0
            while True:
                page = survivor.events(limit=500, event="load",
                                       **({"before": before} if before else {}))
                for e in page:
                    stored[e["value1"]] = e
                    delivered += all(d["state"] == "done" for d in e["deliveries"]) and \
                        len(e["deliveries"]) == 1
                if len(page) < 500:
                    break
                before = page[-1]["id"]
            missing = [v for v in acked if v not in stored]
            self.assertEqual(missing, [], "acknowledged but not stored")
            self.assertEqual(delivered, len(stored), "stored but not delivered")

            with open(runs_file) as f:
                lines = f.read().splitlines()
            runs, rerun, concurrent = overlaps(lines)
            print("\ntest_pg_cluster: sent %d, acknowledged %d, stored %d, delivered %d, "
                  "runs %d, run again after the kill %d, concurrent-duplicates %d"
                  % (sent[0], len(acked), len(stored), delivered, sum(runs.values()), rerun,
                     concurrent), flush=True)
            self.assertEqual(concurrent, 0, "a delivery ran twice at the same time")
            self.assertEqual(len(runs), len(stored), "every delivery ran")
            # only the dead instance's deliveries may run twice (one after the other): those
            # it held (at most 2 x 4 workers) and those it had run but whose record had not
            # been committed yet (a group commit's worth)
            self.assertLessEqual(rerun, 40)
            for h in (hs[0], hs[2]):
                self.assertEqual(h.stop(), 0, h.log())
        finally:
            for h in hs:
                h.cleanup()

    def test_no_password_hint_names_the_store(self):
        # the admin password deleted from the shared database: the login's answer says how to
        # set one for this store, named by its --store URI (not a --data folder)
        url = self.pg.createdb()
        db = url.split("/")[3].split("?")[0]
        h = Hookd(store=url)
        try:
            h.start()
            self.pg.psql("DELETE FROM settings WHERE name = 'admin_password'", db=db)
            deadline = time.time() + 30 * SLOW
            while True:   # hookd reads the password from the store again every 2 s
                st, _, body = h.login()
                if st not in (200, 401) or time.time() > deadline:
                    break
                time.sleep(0.2)
            self.assertEqual(st, 403, body)
            self.assertEqual(json.loads(body)["errors"][0]["message"],
                             "no admin password is set: run `hookd password --store "
                             "postgresql:///%s`" % db)
            self.assertEqual(h.stop(), 0, h.log())
        finally:
            h.cleanup()

    def test_instances_starting_together_migrate_once(self):
        url = self.pg.createdb()
        hs = [Hookd(store=url) for _ in range(3)]
        errors = []

        def start(h):
            try:
                h.start()
            except AssertionError as e:
                errors.append(str(e))
        try:
            ts = [threading.Thread(target=start, args=(h,)) for h in hs]
            [t.start() for t in ts]
            [t.join() for t in ts]
            self.assertEqual(errors, [])
            db = url.split("/")[3].split("?")[0]
            rows = self.pg.psql("SELECT count(*), count(DISTINCT version) FROM schema_version",
                                db=db)
            self.assertEqual(rows, "1|1", "each version applied once")
            migrated = sum("schema migrated" in h.log() for h in hs)
            self.assertEqual(migrated, 1, "one instance migrated, the others waited")
            self.assertEqual(sum("made a new key" in h.log() for h in hs), 1,
                             "one instance made the key, the others use it")
            key = hs[0].key()
            for h in hs:   # at once, not after the next reload
                self.assertEqual(h.trigger(key=key, method="GET")[0], 200)
            for h in hs:
                self.assertEqual(h.stop(), 0, h.log())
        finally:
            for h in hs:
                h.cleanup()

    def test_slow_action_keeps_its_lease(self):
        # an action three times longer than the lease: its instance renews the lease, so the
        # other instance, idle and looking, never takes it over
        url = self.pg.createdb()
        runs = os.path.join(self.pg.tmp, "slow-runs.log")
        script = 'echo "S $HOOKD_IDEMPOTENCY_KEY" >> %s; sleep 6; echo "E" >> %s' % (runs, runs)
        cfg = {"admin_password": PASSWORD, "deliveries": {"workers": 2, "lease_s": 2},
               "applets": [{"name": "slow", "event": "slow", "action": "command",
                            "fields": {"argv": ["/bin/sh", "-c", script], "timeout": 20}}]}
        a, b = Hookd(cfg, store=url), Hookd(cfg, store=url)
        try:
            a.start()
            b.start()
            self.assertEqual(a.trigger("slow", key=a.key(), method="GET")[0], 200)
            d = a.wait_delivery(lambda d: d["state"] == "done", timeout=30)
            self.assertEqual(len(d["attempts"]), 1)
            with open(runs) as f:
                starts = [line for line in f.read().splitlines() if line.startswith("S")]
            self.assertEqual(len(starts), 1, "run once, though it outlasted its lease 3 times")
            for h in (a, b):
                self.assertEqual(h.stop(), 0, h.log())
        finally:
            a.cleanup()
            b.cleanup()

    def two_instances(self, name, workers):
        """Two instances, workers each, on a new database; "quick" appends the pid of the
        hookd that ran it to name-quick.log, "block" writes "S pid" to name-block.log and
        waits until name-release exists."""
        url = self.pg.createdb()
        quick = os.path.join(self.pg.tmp, name + "-quick.log")
        block = os.path.join(self.pg.tmp, name + "-block.log")
        release = os.path.join(self.pg.tmp, name + "-release")
        wait = 'echo "S $PPID" >> %s; while [ ! -e %s ]; do sleep 0.05; done' % (block, release)
        cfg = {"admin_password": PASSWORD, "limits": NO_LIMITS, "deliveries": {"workers": workers},
               "applets": [{"name": "quick", "event": "quick", "action": "command",
                            "fields": {"argv": ["/bin/sh", "-c", "echo $PPID >> " + quick]}},
                           {"name": "block", "event": "block", "action": "command",
                            "fields": {"argv": ["/bin/sh", "-c", wait], "timeout": 120}}]}
        return Hookd(cfg, store=url), Hookd(cfg, store=url), quick, block, release

    @staticmethod
    def lines(path):
        try:
            with open(path) as f:
                return f.read().split()
        except FileNotFoundError:
            return []

    def test_idle_instance_claims_its_own_work_without_waking_the_others(self):
        # work committed by an instance with an idle worker is claimed there: the other
        # instance gets no notification (before, each trigger woke every instance, each
        # running a claim that found nothing: N x N claims a second), nor does the instance
        # itself (its workers are kicked directly)
        # (two workers each: the next trigger may come while the worker that ran the last
        # one is still recording it, and one must be free)
        a, b, quick, _, _ = self.two_instances("idle", 2)
        try:
            a.start()
            b.start()
            key = a.key()
            ma, mb = a.metrics(), b.metrics()
            start = time.time()
            for i in range(10):
                self.assertEqual(a.trigger("quick", key=key, method="GET")[0], 200)
                wait_for("delivery %d" % (i + 1), lambda: len(self.lines(quick)) > i, h=a)
            polls = (time.time() - start) / 5
            ma2, mb2 = a.metrics(), b.metrics()
            for m, m2 in ((ma, ma2), (mb, mb2)):
                self.assertEqual(m2["hookd_store_notifications_total"],
                                 m["hookd_store_notifications_total"])
            # b claims only on its own 5 s look (and when that finds a delivery due soon)
            claims = sum(mb2['hookd_claims_total{found="%s"}' % f] -
                         mb['hookd_claims_total{found="%s"}' % f] for f in ("some", "none"))
            self.assertLessEqual(claims, 2 * (1 + polls), "b ran a claim per trigger on a")
            for h in (a, b):
                self.assertEqual(h.stop(), 0, h.log())
        finally:
            a.cleanup()
            b.cleanup()

    def test_busy_instance_wakes_an_idle_one(self):
        # an instance whose workers are all busy notifies the others: the idle one is woken
        # (its notification count rises) and runs the new work while the first still blocks
        a, b, quick, block, release = self.two_instances("busy", 1)
        try:
            a.start()
            b.start()
            key = a.key()
            self.assertEqual(a.trigger("block", key=key, method="GET")[0], 200)
            busy_pid = int(wait_for("the blocking action", lambda: self.lines(block), h=a)[1])
            busy, idle = (a, b) if busy_pid == a.proc.pid else (b, a)
            self.assertEqual(busy.proc.pid, busy_pid)
            before = idle.metrics()["hookd_store_notifications_total"]
            self.assertEqual(busy.trigger("quick", key=key, method="GET")[0], 200)
            wait_for("the idle instance woken", lambda: idle.metrics()[
                "hookd_store_notifications_total"] > before, h=idle)
            ran = wait_for("the new work run", lambda: self.lines(quick), h=idle)
            self.assertEqual(ran, [str(idle.proc.pid)], "run by the idle instance")
            self.assertEqual(self.lines(block), ["S", str(busy_pid)], "still blocking")
            open(release, "w").close()
            busy.wait_delivery(lambda d: d["state"] == "done" and d["applet"] == "block")
            for h in (a, b):
                self.assertEqual(h.stop(), 0, h.log())
        finally:
            open(release, "w").close()
            a.cleanup()
            b.cleanup()

    def test_postgresql_restart(self):
        # as in a failover: the server goes away (immediate: as a crash), comes back; hookd
        # answers 503 meanwhile (never a 200 it could not store), then reconnects by itself,
        # and the other instance's workers go on delivering
        url = self.pg.createdb()
        out = os.path.join(self.pg.tmp, "restart.jsonl")
        cfg = {"admin_password": PASSWORD, "deliveries": {"workers": 2},
               "applets": [{"name": "f", "event": "after", "action": "file",
                            "fields": {"path": out}}]}
        a, b = Hookd(cfg, store=url), Hookd(cfg, store=url)
        try:
            a.start()
            b.start()
            key = a.key()
            self.assertEqual(a.trigger("before", key=key, method="GET")[0], 200)
            self.pg.server_stop("immediate")
            try:
                st = a.trigger("lost", key=key, method="GET")[0]
                self.assertEqual(st, 503)
            finally:
                self.pg.server_start()
            end = time.time() + 20 * SLOW
            while time.time() < end and a.trigger("back", key=key, method="GET")[0] != 200:
                time.sleep(0.2)
            self.assertEqual(a.trigger("back", key=key, method="GET")[0], 200)
            # a is stopped so that only b's workers can run it
            a.stop()
            deadline = time.time() + 20 * SLOW
            while time.time() < deadline and b.trigger("warm", key=key, method="GET")[0] != 200:
                time.sleep(0.2)
            self.assertEqual(b.trigger("after", key=key, json_body={"value1": "x"})[0], 200)
            while time.time() < deadline and not os.path.exists(out):
                time.sleep(0.1)
            self.assertTrue(os.path.exists(out), b.log())
            names = [e["event"] for e in b.events()]
            self.assertIn("before", names)
            self.assertNotIn("lost", names)
            self.assertIn("reconnected to PostgreSQL", a.log() + b.log())
            self.assertEqual(b.stop(), 0, b.log())
        finally:
            a.cleanup()
            b.cleanup()


if __name__ == "__main__":
    unittest.main(verbosity=2)
