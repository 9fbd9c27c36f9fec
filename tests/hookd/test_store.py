"""hookd's key and durable store: persistence, rotation, kill -9 after a 200, 503 when the store
cannot write, group commit under concurrent load, SIGTERM. On SQLite, or on PostgreSQL with
HOOKD_TEST_STORE (CTest's hookd.pg.test_store)."""
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hookd_harness import NO_LIMITS, PG, SLOW, Hookd, raw_socket, recv_all  # noqa: E402

KEY_RE = re.compile(r"^[A-Za-z0-9_-]{22}$")


class Key(unittest.TestCase):
    def test_made_once_and_kept(self):
        with Hookd() as h:
            key = h.key()
            self.assertRegex(key, KEY_RE)
            self.assertIn("made a new key %s\u2026" % key[:4], h.log())
            self.assertNotIn(key, h.log())
            h.restart()
            self.assertEqual(h.key(), key)
            self.assertNotIn("made a new key", h.log())
            self.assertEqual(h.trigger(key=key)[0], 200)
            if not PG:
                self.assertEqual(oct(os.stat(h.data).st_mode & 0o777), "0o700")
                db = os.path.join(h.data, "hookd.db")
                self.assertEqual(oct(os.stat(db).st_mode & 0o777), "0o600")

    def test_keys_differ(self):
        a, b = Hookd(), Hookd()
        try:
            # the CLI makes none (a mistyped --data must not make a store): each start does
            for h in (a, b):
                h.start()
                h.stop()
            ka, kb = a.key(), b.key()
            self.assertRegex(ka, KEY_RE)
            self.assertNotEqual(ka, kb)
        finally:
            a.cleanup()
            b.cleanup()

    def test_rotate_with_cli_while_running(self):
        with Hookd() as h:
            old = h.key()
            r = h.cli("key", "--rotate")
            self.assertEqual(r.returncode, 0, r.stderr)
            new = r.stdout.strip()
            self.assertRegex(new, KEY_RE)
            self.assertNotEqual(new, old)
            self.assertEqual(h.key(), new)
            # the running server reads it within 2 s
            end = time.time() + 10 * SLOW
            while time.time() < end and h.trigger(key=new, method="GET")[0] != 200:
                time.sleep(0.2)
            self.assertEqual(h.trigger(key=new, method="GET")[0], 200)
            self.assertEqual(h.trigger(key=old, method="GET")[0], 401)

    def test_rotate_with_api(self):
        with Hookd() as h:
            old = h.key()
            st, j = h.api("GET", "/api/key")
            self.assertEqual((st, j["key"]), (200, old))
            st, j = h.api("POST", "/api/key/rotate")
            self.assertEqual(st, 200)
            new = j["key"]
            self.assertRegex(new, KEY_RE)
            self.assertEqual(h.trigger(key=old)[0], 401)
            self.assertEqual(h.trigger(key=new)[0], 200)
            h.restart()
            self.assertEqual(h.key(), new)
            self.assertNotIn(new, h.log())

    def test_pinned_key(self):
        pinned = "Pinned_key-0123456789ab"
        with Hookd({"key": pinned}) as h:
            self.assertEqual(h.key(), pinned)
            self.assertEqual(h.trigger(key=pinned)[0], 200)
            self.assertEqual(h.api("POST", "/api/key/rotate")[0], 409)


class Durability(unittest.TestCase):
    def test_kill9_right_after_200(self):
        h = Hookd()
        try:
            h.start()
            key = h.key()
            st, _, _ = h.trigger(key=key, json_body={"value1": "survivor"})
            self.assertEqual(st, 200)
            h.kill9()
            h.start()
            e = h.events(limit=1)[0]
            self.assertEqual((e["event"], e["value1"]), ("button_pressed", "survivor"))
        finally:
            h.cleanup()

    def test_kill9_under_load(self):
        # many clients at once; kill -9 in the middle; every 200 must be there after
        h = Hookd({"limits": NO_LIMITS})
        try:
            h.start()
            key = h.key()
            acked, lock, stop = [], threading.Lock(), threading.Event()

            def client(n):
                i = 0
                while not stop.is_set():
                    v = "c%d-%d" % (n, i)
                    i += 1
                    try:
                        st, _, _ = h.trigger(key=key, method="GET", query="value1=" + v)
                    except OSError:
                        return
                    if st == 200:
                        with lock:
                            acked.append(v)
            ts = [threading.Thread(target=client, args=(n,)) for n in range(8)]
            [t.start() for t in ts]
            time.sleep(1.0)
            h.kill9()
            stop.set()
            [t.join() for t in ts]
            self.assertGreater(len(acked), 20)
            h.start()
            stored, before = set(), 0
            while True:
                page = h.events(limit=500, **({"before": before} if before else {}))
                stored |= {e["value1"] for e in page}
                if len(page) < 500:
                    break
                before = page[-1]["id"]
            missing = [v for v in acked if v not in stored]
            self.assertEqual(missing, [], "acknowledged but lost")
        finally:
            h.cleanup()

    def test_group_commit_batches(self):
        with Hookd({"limits": NO_LIMITS}) as h:
            key = h.key()
            results = []

            def client():
                for _ in range(25):
                    results.append(h.trigger(key=key, method="GET")[0])
            ts = [threading.Thread(target=client) for _ in range(16)]
            [t.start() for t in ts]
            [t.join() for t in ts]
            self.assertEqual(results, [200] * 400)
            m = h.metrics()
            self.assertEqual(m["hookd_store_committed_requests_total"], 400)
            # concurrent requests shared transactions
            self.assertLess(m["hookd_store_commits_total"], 400)

    @unittest.skipIf(PG, "PostgreSQL keeps its own write-ahead log")
    def test_wal_stays_bounded_under_a_long_burst(self):
        # hookd checkpoints SQLite's WAL from a thread of its own while commits go on (and
        # the writer itself past 4000 frames, should that thread fall behind): under a burst
        # of 2000 commits, each of at least 3 pages (the event, its two indexes), the WAL
        # file never grows past 4000 frames and a batch, and hookd.db grows meanwhile
        with Hookd({"limits": NO_LIMITS}) as h:
            key = h.key()
            wal = os.path.join(h.data, "hookd.db-wal")
            db = os.path.join(h.data, "hookd.db")
            frame = 4096 + 24
            bound = 32 + (4000 + 200) * frame
            db_before = os.path.getsize(db)
            stop, statuses, biggest = threading.Event(), [], [0]

            def client():
                while not stop.is_set():
                    statuses.append(h.trigger(key=key, method="GET")[0])
            ts = [threading.Thread(target=client) for _ in range(16)]
            [t.start() for t in ts]
            end = time.time() + 120 * SLOW
            try:
                while time.time() < end:
                    biggest[0] = max(biggest[0], os.path.getsize(wal))
                    if h.metrics()["hookd_store_commits_total"] >= 2000:
                        break
                    time.sleep(0.05)
            finally:
                stop.set()
                [t.join() for t in ts]
            biggest[0] = max(biggest[0], os.path.getsize(wal))
            m = h.metrics()
            self.assertGreaterEqual(m["hookd_store_commits_total"], 2000, "the burst was short")
            self.assertEqual(set(statuses), {200})
            self.assertLessEqual(biggest[0], bound, "the WAL grew to %d frames" %
                                 ((biggest[0] - 32) // frame))
            self.assertGreater(os.path.getsize(db), db_before, "no checkpoint while serving")
            self.assertNotIn("checkpoint", h.log())

    @unittest.skipIf(PG, "PostgreSQL's server writes, not hookd (its files have no limit here)")
    def test_503_when_the_store_cannot_write(self):
        with Hookd() as h:
            key = h.key()
            self.assertEqual(h.trigger(key=key)[0], 200)
            pid = str(h.proc.pid)
            # a file size limit of 0: every write to a file fails (EFBIG), as on a full disk
            subprocess.run(["prlimit", "--pid", pid, "--fsize=0:unlimited"], check=True)
            try:
                st, hdr, body = h.trigger(key=key, json_body={"value1": "lost?"})
                self.assertEqual(st, 503, body)
                self.assertIn(b"could not be stored durably", body)
                self.assertIn("retry-after", hdr)
            finally:
                subprocess.run(["prlimit", "--pid", pid, "--fsize=unlimited"], check=True)
            self.assertEqual(h.trigger(key=key, json_body={"value1": "back"})[0], 200)
            values = [e["value1"] for e in h.events()]
            self.assertIn("back", values)
            self.assertNotIn("lost?", values)
            self.assertEqual(h.metrics()['hookd_triggers_total{result="unavailable"}'], 1)

    def test_sigterm_exits_cleanly(self):
        h = Hookd()
        try:
            h.start()
            self.assertEqual(h.trigger()[0], 200)
            self.assertEqual(h.stop(signal.SIGTERM), 0)
            self.assertRegex(h.log(), r"stopping: .*\n.*stopped")
            h.start()
            self.assertEqual(h.stop(signal.SIGINT), 0)
        finally:
            h.cleanup()

    def test_sigterm_finishes_requests_in_flight(self):
        h = Hookd()
        try:
            h.start()
            key = h.key()
            body = b'{"value1":"in flight"}'
            s = raw_socket(h.port)
            s.sendall(b"POST /trigger/late/with/key/%s HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                      % (key.encode(), len(body), body[:5]))
            time.sleep(0.3)
            h.proc.send_signal(signal.SIGTERM)
            h.wait_log("stopping")
            with self.assertRaises(OSError):   # no new connections
                socket.create_connection(("127.0.0.1", h.port), timeout=2).close()
            s.sendall(body[5:])
            reply = recv_all(s)
            s.close()
            self.assertTrue(reply.startswith(b"HTTP/1.1 200 OK\r\n"), reply)
            self.assertTrue(reply.endswith(b"You've fired the late event"), reply)
            self.assertEqual(h.stop(), 0)
            h.start()
            self.assertEqual(h.events(limit=1)[0]["value1"], "in flight")
        finally:
            h.cleanup()

    @unittest.skipIf(PG, "several instances share one PostgreSQL: test_pg_cluster.py")
    def test_one_server_per_data_folder(self):
        with Hookd() as a:
            b = Hookd(data=a.data)
            try:
                with self.assertRaises(AssertionError):
                    b.start(timeout=5)
                self.assertIn("another hookd serves", b.log())
            finally:
                b.cleanup()


class StoreOption(unittest.TestCase):
    def run_hookd(self, *args):
        from hookd_harness import HOOKD, WRAPPER
        return subprocess.run(WRAPPER + [HOOKD] + list(args), capture_output=True, text=True,
                              timeout=60 * SLOW, stdin=subprocess.DEVNULL)

    def test_bad_store_arguments(self):
        r = self.run_hookd("--store", "mysql://db/hookd")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--store mysql://db/hookd: expected postgresql://... or sqlite:DIR",
                      r.stderr)
        r = self.run_hookd("--data", "/tmp/x", "--store", "postgresql:///x")
        self.assertEqual(r.returncode, 2)
        self.assertIn("not both", r.stderr)

    def test_unreachable_postgresql_is_named_without_its_password(self):
        r = self.run_hookd("key", "--store",
                           "postgresql://hookd:s3cret-pw@/hookd?host=/nonexistent-socket-dir")
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot connect to PostgreSQL", r.stderr)
        self.assertNotIn("s3cret-pw", r.stderr)

    def test_sqlite_prefix_is_the_data_folder(self):
        with Hookd() as h:
            if PG:
                self.skipTest("this one is about the data folder")
            key = h.key()
            r = self.run_hookd("key", "--store", "sqlite:" + h.data)
            self.assertEqual((r.returncode, r.stdout.strip()), (0, key), r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
