"""The set-up page (firmware/portal/, docs/portal.md) on the simulated board, over plain HTTP:
when it starts (power-on without config.py, or with the jumper in; never at a press), what it
fills in, what it answers to requests a browser would not send, and its messages for bad input.
The browser's whole path, against hookd, is tests/e2e/browser/test_portal.js."""
import json
import os
import re
import socket
import time
import unittest
import urllib.parse
import urllib.request

from harness import WORLD, BoardTestCase

PWORLD = dict(WORLD, ports={"80": 0})


class PortalTest(BoardTestCase):
    def page_port(self, b, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            port = b.state_json().get("listening", {}).get("80")
            if port:
                return int(port)
            time.sleep(0.05)
        self.fail(f"no set-up page: {b.state_json()}\n{b.output()}")

    def get(self, port, path="/"):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as r:
            return r.status, r.read().decode()

    def save(self, port, **fields):
        data = urllib.parse.urlencode(fields).encode()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/save", data=data, timeout=60) as r:
            return r.read().decode()

    def raw(self, port, data):
        """bytes sent as they are; the status line answered"""
        with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
            s.sendall(data)
            got = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                got += chunk
        return got.split(b"\r\n", 1)[0].decode()

    @staticmethod
    def msg(page):
        m = re.search(r'<p id=msg class=(\w+)>(.*?)</p>', page)
        return (m.group(1), m.group(2).replace("&#39;", "'")) if m else None

    def test_jumper_at_power_on_sets_up_again(self):
        r = self.receiver()
        b = self.board(world=PWORLD, run_args=("--jumper",),
                       config={"WEBHOOK_URL": r.url("/trigger/old/with/key/k"), "BUTTON_ID": "b1"})
        port = self.page_port(b)
        status, page = self.get(port)
        self.assertEqual(status, 200)
        # what config.py holds is filled in, but never its password
        self.assertIn('<option value="home-net" selected>', page)
        self.assertIn(f'value="{r.url("/trigger/old/with/key/k")}"', page)
        self.assertIn('value="b1"', page)
        self.assertNotIn("correct horse", page)
        self.assertIn("Set-up: join the Wi-Fi network 'MicroPython-", b.console())
        # hookd's address, event and key in place of a URL
        page = self.save(port, ssid="home-net", pw="correct horse", id="renamed", url="",
                         hookd=f"127.0.0.1:{r.port}", event="new", key="k")
        self.assertEqual(self.msg(page)[0], "ok", page)
        self.assertEqual(len(r.requests), 1)
        self.assertEqual(r.requests[0]["path"], "/trigger/new/with/key/k")
        self.assertEqual(json.loads(r.requests[0]["body"]), {"value1": "renamed"})
        with open(os.path.join(b.state, "flash", "config.py")) as f:
            text = f.read()
        self.assertIn("BUTTON_ID = 'renamed'\n", text)
        # the jumper is still in: the chapter's debug mode, awake with the console
        b.wait("idle")
        self.assertNotIn("80", b.state_json().get("listening", {}))

    def test_a_press_with_the_jumper_is_the_chapters_debug_session(self):
        b = self.board(world=PWORLD)
        b.wait("sleeping")
        self.assertNotIn("Set-up", b.console())   # config.py there, no jumper: no page
        b.jumper(True)
        b.press()
        b.wait("idle")
        self.assertNotIn("80", b.state_json().get("listening", {}))
        self.assertNotIn("Set-up", b.console())

    @staticmethod
    def networks(page):
        """the page's list of networks: (name, dBm) in its order"""
        return [(n, int(d)) for n, d in
                re.findall(r'<option value="([^"]*)"[^>]*>[^<]*\((-?\d+) dBm\)</option>', page)]

    def test_the_list_of_networks(self):
        # 15 APs in the order a radio might give them: a name twice (its weaker AP first), a
        # hidden one, and 13 names for 12 places on the page
        names = [(f"net-{i:02}", rssi) for i, rssi in enumerate(
            (-40, -75, -52, -88, -61, -47, -83, -56, -66, -79, -44, -91), 1)]
        aps = [("home-net", -70, False), ("secret", -30, True)] + \
              [(n, r, False) for n, r in names] + [("home-net", -50, False)]
        world = dict(PWORLD, aps=[
            {"ssid": n, "bssid": f"02:00:00:00:00:{i:02x}", "channel": 1 + i % 11, "rssi": r,
             "auth": "WPA2_PSK", "password": "correct horse", "hidden": h}
            for i, (n, r, h) in enumerate(aps)])
        b = self.board(world=world, config=False)
        port = self.page_port(b)
        # each name once at its strongest, strongest first, the hidden one not at all, and
        # the 12 strongest of the 13 names (net-12 at -91 dBm left out)
        want = sorted(names[:11] + [("home-net", -50)], key=lambda x: -x[1])
        self.assertEqual(self.networks(self.get(port)[1]), want)
        # after a test press that failed (its answer in the buffer the scan uses), the page
        # lists them again, the network picked selected
        page = self.save(port, ssid="net-01", pw="wrong", url="http://127.0.0.1:9/x", id="b1")
        self.assertEqual(self.msg(page), ("bad", "Wrong password for the network 'net-01'."))
        self.assertEqual(self.networks(page), want)
        self.assertIn('<option value="net-01" selected>', page)

    def test_bad_input(self):
        r = self.receiver()
        b = self.board(world=PWORLD, config=False)
        port = self.page_port(b)
        cfg = os.path.join(b.state, "flash", "config.py")
        good = dict(ssid="home-net", pw="correct horse", url=r.url(), id="b1")
        cases = [
            (dict(good, ssid="", other=""),
             "Pick a Wi-Fi network, or type the name of one not listed."),
            (dict(good, url="http://127.0.0.1:99999/x"),
             "The webhook URL is not usable: bad port '99999' (1-65535)."),
            (dict(good, id=""), "Type the button id (sent as value1)."),
            (dict(good, url=""), "Type the webhook URL, or hookd's address and key."),
            (dict(good, url="", hookd="127.0.0.1:8080"), "Type hookd's key (`hookd key` prints it)."),
            (dict(good, url="", hookd="127.0.0.1:8080", event="a/b", key="k"),
             "The event and the key may not hold / ? or #."),
            (dict(good, pw="x" * 65), "The password is too long (64 bytes at most)."),
            (dict(good, url="http://127.0.0.1:9/x"),
             "The webhook URL did not answer: POST http://127.0.0.1:9/x: connect: connection refused."),
        ]
        for fields, want in cases:
            self.assertEqual(self.msg(self.save(port, **fields)), ("bad", want), fields)
        # a %-escape that is not one: said, not saved as typed
        data = b"ssid=home-net&pw=100%zz&url=" + urllib.parse.quote(r.url(), safe="").encode() + b"&id=b1"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/save", data=data, timeout=30) as resp:
            self.assertEqual(self.msg(resp.read().decode()),
                             ("bad", "The password: the form's data is malformed (a bad %-escape)."))
        self.assertFalse(os.path.exists(cfg))
        self.assertEqual(r.requests, [])   # no test press got as far as the URL
        # requests a browser does not send
        self.assertEqual(self.raw(port, b"HELLO\r\n\r\n"), "HTTP/1.1 400 Bad Request")
        self.assertEqual(self.raw(port, b"GET /nothing HTTP/1.1\r\n\r\n"), "HTTP/1.1 404 Not Found")
        self.assertEqual(self.raw(port, b"PUT / HTTP/1.1\r\n\r\n"), "HTTP/1.1 405 Method Not Allowed")
        self.assertEqual(self.raw(port, b"POST /save HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
                         "HTTP/1.1 501 Not Implemented")
        self.assertEqual(self.raw(port, b"POST /save HTTP/1.1\r\nContent-Length: 5000\r\n\r\n"),
                         "HTTP/1.1 413 Content Too Large")
        self.assertEqual(self.raw(port, b"GET / HTTP/1.1\r\nX: " + b"y" * 3000 + b"\r\n\r\n"),
                         "HTTP/1.1 431 Request Header Fields Too Large")
        # a form posted from another site's page, in the same browser
        body = b"ssid=home-net&pw=correct+horse&url=http%3A%2F%2F127.0.0.1%3A9%2Fx&id=b1&force=on"
        self.assertEqual(self.raw(port, b"POST /save HTTP/1.1\r\nHost: 192.168.4.1\r\n"
                                  b"Origin: http://evil.example\r\n"
                                  b"Content-Type: application/x-www-form-urlencoded\r\n"
                                  b"Content-Length: %d\r\n\r\n%s" % (len(body), body)),
                         "HTTP/1.1 403 Forbidden")
        self.assertFalse(os.path.exists(cfg))
        # and the page still works, and saves anyway when asked
        page = self.save(port, **dict(good, url="http://127.0.0.1:9/x", force="on"))
        self.assertEqual(self.msg(page)[0], "bad")
        self.assertIn("Saved anyway, as asked: config.py is written", page)
        with open(cfg) as f:
            self.assertIn("WEBHOOK_URL = 'http://127.0.0.1:9/x'\n", f.read())
        b.wait("sleeping")


if __name__ == "__main__":
    unittest.main(verbosity=2)
