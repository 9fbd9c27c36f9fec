"""The firmware on a bare-metal MCU over lwIP, pressed end to end in an emulator.

Each wake is one run of QEMU's mps2-an385 (Cortex-M3, LAN9118) with the same application as
the simulated board, over lwIP 2.1.3 (scripts/mps2board.py plays the world: power, presses,
RTC memory and flash kept between runs). The board reaches a real hookd started here through
QEMU's user network (the host is 10.0.2.2), gets its lease from QEMU's DHCP server, and asks
a real DNS server (dnsmasq, started here) for hooks.test. Every QEMU run is bounded.

MPS2_BUILD   the folder scripts/mps2-build.sh built (default build/mps2): bh_mps2.elf, or
             SKIPPED with the reason it could not be built
BHFS_TOOL    the flash image tool (default build/main/firmware/bhfs-mkimage)
HOOKD        the hookd binary
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.path.insert(0, os.path.join(ROOT, "tests", "hookd"))
import mps2board  # noqa: E402
from hookd_harness import NO_LIMITS, Hookd  # noqa: E402

SKIP = 77   # CTest's SKIP_RETURN_CODE for these tests
BUILD = os.environ.get("MPS2_BUILD") or os.path.join(ROOT, "build", "mps2")
ELF = os.path.join(BUILD, "bh_mps2.elf")
TOOL = os.environ.get("BHFS_TOOL") or os.path.join(ROOT, "build", "main", "firmware",
                                                 "bhfs-mkimage")
HOST = "hooks.test"     # what dnsmasq answers: the host as the board sees it
HOST_IP = "10.0.2.2"
DNS_TTL = 300
FIGURES = {}


def skip_unless_ready():
    why = None
    if os.path.exists(os.path.join(BUILD, "SKIPPED")):
        with open(os.path.join(BUILD, "SKIPPED")) as f:
            why = f.read().strip()
    elif not os.path.exists(ELF):
        why = "no %s: run scripts/mps2-build.sh (make mps2)" % ELF
    elif not shutil.which("qemu-system-arm"):
        why = "qemu-system-arm not found (apt-get install qemu-system-arm)"
    elif not shutil.which("dnsmasq"):
        why = "dnsmasq not found (apt-get install dnsmasq-base)"
    elif not os.path.exists(TOOL):
        why = "no flash image tool at %s" % TOOL
    if why:
        print("SKIPPED: " + why)
        sys.exit(SKIP)


def free_port(kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Dns:
    """dnsmasq on 127.0.0.1 answering hooks.test with the host's address as QEMU shows it."""

    def __init__(self, tmp):
        self.log = os.path.join(tmp, "dnsmasq.log")
        self.port = free_port(socket.SOCK_DGRAM)
        self.proc = subprocess.Popen(
            ["dnsmasq", "-k", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
             "--listen-address=127.0.0.1", "--bind-interfaces", "--port=%d" % self.port,
             "--address=/%s/%s" % (HOST, HOST_IP), "--local-ttl=%d" % DNS_TTL,
             "--log-queries", "--log-facility=" + self.log, "--pid-file=", "--user=root"],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        end = time.time() + 10
        while time.time() < end and "started" not in self.text():
            time.sleep(0.05)
        if "started" not in self.text():
            raise AssertionError("dnsmasq did not start:\n" + self.text())

    def text(self):
        try:
            with open(self.log) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def queries(self):
        return len(re.findall(r"query\[A\] %s from" % re.escape(HOST), self.text()))

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


class Silent:
    """A TCP server that accepts and never answers."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        try:
            while True:
                self.conns.append(self.sock.accept()[0])
        except OSError:
            pass

    def close(self):
        self.sock.close()
        for c in self.conns:
            c.close()


def config_py(url, awake_max=20, button="mps2-button"):
    return ("# buttonhook on the mps2 board\n"
            "WIFI_SSID = 'wired'\nWIFI_PASSWORD = 'any'\n"
            "WEBHOOK_URL = '%s'\nBUTTON_ID = '%s'\nAWAKE_MAX = %d\n" % (url, button, awake_max))


class Mps2Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="mps2-test-")
        cls.dns = Dns(cls.tmp)
        cls.hookd = Hookd(config={"limits": NO_LIMITS}).start()
        cls.key = cls.hookd.key()
        cls.hookd.login()

    @classmethod
    def tearDownClass(cls):
        cls.dns.stop()
        if cls.hookd.proc:
            cls.hookd.stop()
        cls.hookd.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def url(self, key=None, port=None, host=HOST):
        return "http://%s:%d/trigger/button_pressed/with/key/%s" % (
            host, port or self.hookd.port, key or self.key)

    def board(self, name, config, net="user", awake=60, button_gpio=None):
        state = os.path.join(self.tmp, name)
        files = os.path.join(self.tmp, name + "-files")
        os.makedirs(files)
        with open(os.path.join(files, "config.py"), "w") as f:
            f.write(config)
        b = mps2board.Board(state, elf=ELF, net=net, dns="%s:%d" % (HOST_IP, self.dns.port),
                            awake=awake, button_gpio=button_gpio)
        b.flash_folder(files, TOOL)
        return b

    def one(self, wakes):
        """The single wake of a power-on or a press (no crash or reset in between)."""
        self.assertEqual([w.how for w in wakes], ["sleep"],
                         "\n".join(w.log for w in wakes))
        return wakes[0]

    def mine(self, button):
        return [e for e in self.hookd.events() if e["value1"] == button]

    def blinked(self, w):
        """The error blink: both LEDs switched on and off several times."""
        on = [g for _, g, v in w.leds if v == 0]
        return on.count(2) >= 3 and on.count(16) >= 3

    # -- the chapter's press, then the fast wake's -------------------------------------------

    def test_press_then_kept_lease_and_dns(self):
        b = self.board("b1", config_py(self.url(), button="b1"))
        w = self.one(b.power())
        self.assertEqual(w.sleep_ms, 0, "the first boot sleeps until RESET")
        self.assertEqual(self.mine("b1"), [], "power-on fires no webhook")
        q0 = self.dns.queries()

        w = self.one(b.press())
        self.assertIn("Webhook invoked", w.log)
        frames = mps2board.pcap_frames(w.pcap)
        self.assertGreaterEqual(len(mps2board.dhcp_messages(frames)), 4,
                                "a full join: DISCOVER, OFFER, REQUEST, ACK")
        self.assertEqual(self.dns.queries() - q0, 1)
        ev = self.mine("b1")
        self.assertEqual(len(ev), 1)
        self.assertEqual(ev[0]["event"], "button_pressed")
        self.assertEqual(w.sleep_ms, 0)
        first_ms = w.awake_ms

        w = self.one(b.press())
        self.assertIn("Webhook invoked", w.log)
        self.assertEqual(mps2board.dhcp_messages(mps2board.pcap_frames(w.pcap)), [],
                         "the kept lease: no DHCP on the wire")
        self.assertEqual(self.dns.queries() - q0, 1, "the kept DNS answer: no query")
        self.assertEqual(len(self.mine("b1")), 2)
        FIGURES["wake_full_ms"] = first_ms
        FIGURES["wake_kept_ms"] = w.awake_ms
        FIGURES["qemu_s"] = round(w.wall_s, 2)

    # -- no press lost: hookd down for two presses ----------------------------------------------

    def test_hookd_down_then_up(self):
        port = free_port()
        down = Hookd(config={"limits": NO_LIMITS}, args=["--listen", "127.0.0.1:%d" % port])
        try:
            down.start()
            key = down.key()
            down.stop()
            b = self.board("b2", config_py(self.url(key=key, port=port), button="b2"))
            self.one(b.power())
            for n in (1, 2):
                w = self.one(b.press())
                self.assertIn("Webhook failed", w.log)
                self.assertTrue(self.blinked(w), w.log)
            down.start()
            down.login()
            w = self.one(b.press())
            self.assertIn("Webhook invoked", w.log)
            ev = sorted(down.events(), key=lambda e: e["id"])
            self.assertEqual(len(ev), 3, ev)
            keys = [e["idempotency_key"] for e in ev]
            self.assertEqual(len(set(keys)), 3, "one event per press")
            # in the order pressed: each press's key ends in its number in the queue
            self.assertEqual(keys, sorted(keys, key=lambda k: int(k.rsplit("-", 1)[1])))
            self.assertFalse(self.blinked(w))
            FIGURES["queued_sent"] = len(ev)
        finally:
            down.stop()
            down.cleanup()

    # -- single, double and long presses (docs/press-kinds.md) ---------------------------------

    def test_double_and_long_presses(self):
        cfg = (config_py(self.url(), button="kinds") + "DOUBLE_EVENT = 'button_double'\n"
               "LONG_EVENT = 'button_long'\nBUTTON_PIN = 12\n")
        b = self.board("kinds", cfg, button_gpio=12)
        self.one(b.power())
        # RESET again while the first wake joins: the kept press becomes the double
        wakes = b.press_double()
        self.assertEqual([(w.cause, w.how) for w in wakes],
                         [(mps2board.DEEPSLEEP, "cut"), (mps2board.HARD, "sleep")],
                         "\n".join(w.log for w in wakes))
        self.assertIn("Double press", wakes[1].log)
        self.assertEqual([e["event"] for e in self.mine("kinds")], ["button_double"])
        # again once the first press's POST is under way: that press goes as a single (with
        # its key: stored once whether or not it had arrived), then a double
        wakes = b.press_double(cut_at="Invoking webhook")
        self.assertEqual([w.how for w in wakes], ["cut", "sleep"])
        ev = sorted(self.mine("kinds"), key=lambda e: e["id"])
        self.assertEqual([e["event"] for e in ev],
                         ["button_double", "button_pressed", "button_double"])
        self.assertEqual(len({e["idempotency_key"] for e in ev}), 3, "each press once")
        # held 1.5 s on BUTTON_PIN: a long press; 0.2 s: a single
        w = self.one(b.press(hold_ms=1500))
        self.assertIn("Long press", w.log)
        self.one(b.press(hold_ms=200))
        ev = sorted(self.mine("kinds"), key=lambda e: e["id"])
        self.assertEqual([e["event"] for e in ev[3:]], ["button_long", "button_pressed"])

    # -- errors: a wrong key, a silent server, no DHCP -----------------------------------------

    def test_wrong_key_blinks_and_sleeps(self):
        b = self.board("b3", config_py(self.url(key="not-the-key"), button="b3"))
        self.one(b.power())
        w = self.one(b.press())
        self.assertIn("401", w.log)
        self.assertTrue(self.blinked(w), w.log)
        self.assertEqual(self.mine("b3"), [])

    def test_silent_server_ends_within_awake_max(self):
        s = Silent()
        try:
            b = self.board("b4", config_py(self.url(port=s.port), awake_max=8, button="b4"),
                           awake=30)
            self.one(b.power())
            w = self.one(b.press())
            self.assertLessEqual(w.awake_ms, 8000, w.log)
            self.assertTrue(self.blinked(w), w.log)
            self.assertGreater(w.sleep_ms, 0, "a timed retry wake is asked for")
            FIGURES["silent_ms"] = w.awake_ms
        finally:
            s.close()

    def test_no_dhcp_answer_ends_within_awake_max(self):
        b = self.board("b5", config_py(self.url(), awake_max=6, button="b5"), net="none",
                       awake=30)
        self.one(b.power())
        w = self.one(b.press())
        self.assertIn("not connected", w.log)
        self.assertLessEqual(w.awake_ms, 6000, w.log)
        self.assertTrue(self.blinked(w), w.log)
        FIGURES["no_dhcp_ms"] = w.awake_ms

    # -- a cable standing in for Wi-Fi, seen from the console (the debug jumper in) ------------

    def test_console_on_a_cable(self):
        b = self.board("b7", config_py(self.url(), button="b7"), awake=8)
        b.set_jumper(True)
        wakes = b.power(typed="connect_wifi\nwlan sta scan\nwlan sta config mac\n"
                                 "wlan ap active\n")
        self.assertEqual([w.how for w in wakes], ["awake"], wakes[0].log)
        log = wakes[0].log
        self.assertIn("Debug mode", log)
        self.assertIn("OSError: scan failed", log)    # a cable has nothing to scan
        self.assertIn("Network config: ('10.0.2.15'", log)   # a join is DHCP on the wire
        self.assertIn("b'\\x02\\x00\\x00\\xb7\\x00\\x01'", log)   # the board's MAC, as bytes
        self.assertIn(">>> wlan ap active\nFalse\n", log)   # no access point on a cable
        self.assertEqual(self.mine("b7"), [], "connect_wifi fires no webhook")

    # -- a corrupt flash never crashes the board ------------------------------------------------

    def test_corrupt_flash_reports_and_blinks(self):
        b = self.board("b6", config_py(self.url(), button="b6"))
        with open(b.path("flash.bin"), "wb") as f:
            f.write(os.urandom(mps2board.FLASH_SIZE))
        w = self.one(b.power())
        self.assertIn("no file system in flash", w.log)
        w = self.one(b.press())
        self.assertNotIn("crash", w.log)
        self.assertIn("config.py", w.log)
        self.assertTrue(self.blinked(w), w.log)
        self.assertEqual(self.mine("b6"), [])


def tearDownModule():
    if FIGURES:
        print("figures: mps2 (Cortex-M3 + lwIP in QEMU): press with DHCP + DNS %s ms, with the "
              "kept lease and answer %s ms (board clock), QEMU run %s s; hookd down twice then "
              "up: %s events; silent server: asleep after %s ms (AWAKE_MAX 8 s); no DHCP: "
              "asleep after %s ms (AWAKE_MAX 6 s)" % (
                  FIGURES.get("wake_full_ms"), FIGURES.get("wake_kept_ms"),
                  FIGURES.get("qemu_s"), FIGURES.get("queued_sent"),
                  FIGURES.get("silent_ms"), FIGURES.get("no_dhcp_ms")))


if __name__ == "__main__":
    skip_unless_ready()
    unittest.main(verbosity=2)
