"""hookd's actions against real components started here: aiosmtpd (Debian's python3-aiosmtpd)
as the SMTP server, with STARTTLS, SMTPS and AUTH; a mosquitto broker; Python's http.server;
real programs for the command action; Maildir and JSON-lines files checked byte by byte.

Each action runs in tests/hookd/action_driver.c (HOOKD_ACTION_DRIVER), which links the action
sources without the rest of hookd. HOOKD_VALGRIND=1 runs every driver under valgrind.
"""
import email
import email.policy
import http.server
import json
import logging
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import warnings

from hookd_harness import PasswordBroker, free_port, mosquitto_sub, system_python  # noqa: E402

system_python("aiosmtpd")   # Debian's python3-aiosmtpd

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

logging.getLogger("mail.log").setLevel(logging.CRITICAL)   # refused handshakes are expected

HERE = os.path.dirname(os.path.abspath(__file__))
DRIVER = os.environ.get("HOOKD_ACTION_DRIVER", "action_driver")
VALGRIND = os.environ.get("HOOKD_VALGRIND") == "1"
KEY = "dlv-42-attempt-stable"
EVENT = {"name": "button_pressed", "value1": "micropython1", "occurred_at": 1566603900}
WHEN = "August 23, 2019 at 11:45PM"   # 1566603900 with TZ=UTC
os.environ["TZ"] = "UTC"


def drive(action, fields, event=None, *opts, timeout=60):
    """Runs the driver; returns (exit status, [(status, result), ...])."""
    cmd = [DRIVER, "--key", KEY, *opts, action, json.dumps(fields), json.dumps(event or EVENT)]
    if VALGRIND:
        cmd = ["valgrind", "-q", "--error-exitcode=99", "--leak-check=full",
               "--errors-for-leak-kinds=definite", "--trace-children=no"] + cmd
    r = subprocess.run(cmd, capture_output=True, timeout=timeout, env=dict(os.environ, TZ="UTC"))
    out = r.stdout.decode("utf-8", "replace")
    # valgrind's findings are "==pid==" lines (its "--pid-- WARNING"s about syscalls it does
    # not know, like pidfd_open, are not)
    if r.returncode not in (0, 1, 2, 3) or VALGRIND and re.search(rb"^==\d+==", r.stderr, re.M):
        raise AssertionError(f"driver exit {r.returncode}: {out}\n{r.stderr.decode()}")
    lines = [tuple(line.split("\t", 1)) for line in out.splitlines() if "\t" in line]
    if r.returncode == 3:
        lines = [("INVALID", out.strip())]
    return r.returncode, lines


def one(action, fields, event=None, *opts, **kw):
    rc, lines = drive(action, fields, event, *opts, **kw)
    assert len(lines) == 1, lines
    return lines[0]


def make_cert(folder):
    """A self-signed certificate for 127.0.0.1 and localhost."""
    key, crt = os.path.join(folder, "key.pem"), os.path.join(folder, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", crt, "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    return key, crt


# --------------------------------------------------------------------------- SMTP

class Sink:
    """aiosmtpd handler that keeps what it receives; rcpt_reply forces an answer to RCPT."""

    def __init__(self):
        self.messages = []
        self.rcpt_reply = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        auth = session.auth_data
        self.messages.append({
            "mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos),
            "data": envelope.original_content,
            "tls": server.transport.get_extra_info("ssl_object") is not None,
            "login": auth.login if session.authenticated else None})
        return "250 Message accepted for delivery"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == b"hookd" and auth_data.password == b"s3cret pass"
    return AuthResult(success=ok, handled=False, auth_data=auth_data)


def slurp(path):
    with open(path, "rb") as f:
        return f.read()


class TlsController(Controller):
    """For implicit TLS (smtps), where AUTH without STARTTLS is right: no warning about it on
    every connection."""

    def factory(self):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
            return super().factory()


def parse_mail(raw):
    return email.message_from_bytes(raw, policy=email.policy.default)


def content(msg):
    """The decoded body with the wire's CRLF line ends as \n."""
    return msg.get_content().replace("\r\n", "\n")


class TestEmail(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="hookd-email-")
        key, crt = make_cert(cls.tmp)
        cls.ca = crt
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(crt, key)
        cls.plain, cls.tls, cls.smtps = Sink(), Sink(), Sink()
        cls.servers = []
        cls.p_plain = free_port()
        c = Controller(cls.plain, hostname="127.0.0.1", port=cls.p_plain)
        c.start()
        cls.servers.append(c)
        cls.p_tls = free_port()
        c = Controller(cls.tls, hostname="127.0.0.1", port=cls.p_tls, tls_context=ctx,
                       require_starttls=True, auth_require_tls=True, auth_required=True,
                       authenticator=authenticator)
        c.start()
        cls.servers.append(c)
        cls.p_smtps = free_port()
        # aiosmtpd only knows about STARTTLS, so it is told that AUTH is fine here
        c = TlsController(cls.smtps, hostname="127.0.0.1", port=cls.p_smtps, ssl_context=ctx,
                          server_hostname="localhost", authenticator=authenticator,
                          auth_required=True, auth_require_tls=False)
        c.start()
        cls.servers.append(c)

    @classmethod
    def tearDownClass(cls):
        for c in cls.servers:
            c.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def base(self, port, **kw):
        f = {"url": f"smtp://127.0.0.1:{port}", "from": "hookd <hookd@example.test>",
             "to": "me@example.test", "timeout": 10}
        f.update(kw)
        return f

    def test_default_template(self):
        """No subject or body: IFTTT's default mail, a proper RFC 5322 message."""
        n = len(self.plain.messages)
        st, res = one("email", self.base(self.p_plain))
        self.assertEqual(st, "OK", res)
        self.assertIn("sent to 1 recipient", res)
        m = self.plain.messages[n]
        self.assertEqual(m["mail_from"], "hookd@example.test")
        self.assertEqual(m["rcpt_tos"], ["me@example.test"])
        msg = parse_mail(m["data"])
        self.assertEqual(msg["Subject"],
                         'The event named "button_pressed" occurred on the Maker Webhooks service')
        self.assertEqual(msg["From"], "hookd <hookd@example.test>")
        self.assertEqual(msg["To"], "me@example.test")
        self.assertEqual(msg["Message-ID"], f"<hookd.{KEY}@example.test>")
        self.assertIsNotNone(msg["Date"].datetime)   # parses as an RFC 5322 date
        self.assertEqual(msg["MIME-Version"], "1.0")
        self.assertEqual(msg.get_content_type(), "text/html")
        self.assertEqual(msg.get_content_charset(), "utf-8")
        self.assertEqual(content(msg),
                         "What: button_pressed<br>\n"
                         f"When: {WHEN}<br>\n"
                         "Extra Data: micropython1, , <br>\n")
        # every line of the raw message within RFC 5322's limit, CRLF endings
        for line in m["data"].split(b"\r\n"):
            self.assertLessEqual(len(line), 78)

    def test_templates_escaping_and_headers(self):
        """Templated subject (non-ASCII, encoded), HTML-escaped body, two recipients, and a
        CR/LF in a value cannot add a header or a recipient."""
        n = len(self.plain.messages)
        ev = {"name": "door", "value1": "<b>Grüße</b> & \"you\"\r\nBcc: evil@example.test",
              "value2": "\u2603 snow", "occurred_at": 1566603900}
        f = self.base(self.p_plain, to=["a@example.test", "Bé <b@example.test>"],
                      subject="{{EventName}}: {{Value2}} {{Value1}}",
                      body="<p>{{Value1}}</p><p>{{OccurredAt}}</p>")
        st, res = one("email", f, ev)
        self.assertEqual(st, "OK", res)
        m = self.plain.messages[n]
        self.assertEqual(sorted(m["rcpt_tos"]), ["a@example.test", "b@example.test"])
        msg = parse_mail(m["data"])
        self.assertIsNone(msg["Bcc"])
        self.assertEqual(msg["Subject"],
                         'door: \u2603 snow <b>Grüße</b> & "you"  Bcc: evil@example.test')
        self.assertIn(b"=?UTF-8?B?", m["data"])
        self.assertEqual(msg["To"].addresses[1].display_name, "Bé")
        # the value's CR LF is a line break of the body, like any other
        self.assertEqual(content(msg),
                         "<p>&lt;b&gt;Grüße&lt;/b&gt; &amp; &quot;you&quot;\nBcc: "
                         f"evil@example.test</p><p>{WHEN}</p>\n")

    def test_plain_text_and_long_lines(self):
        n = len(self.plain.messages)
        long = "x" * 3000 + " é " + ".dot"
        f = self.base(self.p_plain, html=False, body="{{Value1}}\n.{{Value1}}\n",
                      subject="s " + "y" * 200)
        st, res = one("email", f, {"name": "e", "value1": long})
        self.assertEqual(st, "OK", res)
        m = self.plain.messages[n]
        msg = parse_mail(m["data"])
        self.assertEqual(msg.get_content_type(), "text/plain")
        self.assertEqual(content(msg), f"{long}\n.{long}\n")
        self.assertEqual(msg["Subject"], "s " + "y" * 200)
        for line in m["data"].split(b"\r\n"):
            self.assertLessEqual(len(line), 78)

    def test_starttls_auth(self):
        n = len(self.tls.messages)
        f = self.base(self.p_tls, starttls=True, username="hookd", password="s3cret pass",
                      ca_file=self.ca)
        st, res = one("email", f)
        self.assertEqual(st, "OK", res)
        m = self.tls.messages[n]
        self.assertTrue(m["tls"])
        self.assertEqual(m["login"], b"hookd")

    def test_starttls_wrong_password_fails(self):
        f = self.base(self.p_tls, starttls=True, username="hookd", password="wrong",
                      ca_file=self.ca)
        st, res = one("email", f)
        self.assertEqual(st, "FAIL", res)
        self.assertIn("535", res)

    def test_starttls_untrusted_certificate_fails(self):
        f = self.base(self.p_tls, starttls=True, username="hookd", password="s3cret pass")
        st, res = one("email", f)
        self.assertEqual(st, "FAIL", res)
        self.assertIn("certificate", res.lower())

    def test_no_starttls_when_server_requires_it(self):
        st, res = one("email", self.base(self.p_tls))
        self.assertEqual(st, "FAIL", res)   # 530 Must issue a STARTTLS command first

    def test_smtps(self):
        n = len(self.smtps.messages)
        f = self.base(self.p_smtps, url=f"smtps://127.0.0.1:{self.p_smtps}", username="hookd",
                      password="s3cret pass", ca_file=self.ca)
        st, res = one("email", f)
        self.assertEqual(st, "OK", res)
        self.assertTrue(self.smtps.messages[n]["tls"])

    def test_rcpt_4xx_retries_5xx_fails(self):
        try:
            self.plain.rcpt_reply = "450 Mailbox busy, try later"
            st, res = one("email", self.base(self.p_plain))
            self.assertEqual(st, "RETRY", res)
            self.assertIn("450", res)
            self.plain.rcpt_reply = "550 No such user"
            st, res = one("email", self.base(self.p_plain))
            self.assertEqual(st, "FAIL", res)
        finally:
            self.plain.rcpt_reply = None

    def test_server_down_retries(self):
        st, res = one("email", self.base(free_port()))
        self.assertEqual(st, "RETRY", res)

    def test_message_id_stable_across_retries(self):
        n = len(self.plain.messages)
        one("email", self.base(self.p_plain))
        one("email", self.base(self.p_plain))
        a, b = (parse_mail(m["data"])["Message-ID"] for m in self.plain.messages[n:n + 2])
        self.assertEqual(a, b)

    def test_validate(self):
        st, res = one("email", self.base(self.p_plain, subject="{{Subject}}"))
        self.assertEqual(st, "INVALID")
        self.assertIn('field "subject": unknown ingredient {{Subject}} at offset 0', res)


# --------------------------------------------------------------------------- Maildir

MAILDIR_NAME = re.compile(r"^\d+\.M\d+P\d+Q\d+\.[^/:]+$")


class TestMaildir(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="hookd-maildir-")
        self.md = os.path.join(self.tmp, "mail", "Maildir")   # created by the action

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def delivered(self):
        return sorted(os.listdir(os.path.join(self.md, "new")))

    def test_default_mail(self):
        st, res = one("maildir", {"path": self.md})
        self.assertEqual(st, "OK", res)
        for sub in ("tmp", "new", "cur"):
            self.assertTrue(os.path.isdir(os.path.join(self.md, sub)))
        self.assertEqual(os.listdir(os.path.join(self.md, "tmp")), [])
        names = self.delivered()
        self.assertEqual(len(names), 1)
        self.assertRegex(names[0], MAILDIR_NAME)
        self.assertIn(names[0], res)
        raw = slurp(os.path.join(self.md, "new", names[0]))
        self.assertNotIn(b"\r\n", raw)   # a Maildir file has local line ends
        msg = parse_mail(raw)
        self.assertEqual(msg["Subject"],
                         'The event named "button_pressed" occurred on the Maker Webhooks service')
        self.assertEqual(msg["From"], "hookd <hookd@localhost>")
        self.assertIsNone(msg["To"])
        self.assertEqual(msg["Message-ID"], f"<hookd.{KEY}@localhost>")
        self.assertEqual(content(msg),
                         f"What: button_pressed<br>\nWhen: {WHEN}<br>\n"
                         "Extra Data: micropython1, , <br>\n")
        self.assertEqual(os.stat(os.path.join(self.md, "new", names[0])).st_mode & 0o777, 0o600)

    def test_the_chapters_body(self):
        """The chapter edits the extra-data line to read "Button: {{Value1}}"."""
        body = "What: {{EventName}}<br>\nWhen: {{OccurredAt}}<br>\nButton: {{Value1}}<br>\n"
        st, res = one("maildir", {"path": self.md, "to": "me@example.test", "body": body})
        self.assertEqual(st, "OK", res)
        msg = parse_mail(slurp(os.path.join(self.md, "new", self.delivered()[0])))
        self.assertEqual(msg["To"], "me@example.test")
        self.assertIn("Button: micropython1<br>", msg.get_content())

    def test_unicode_subject_and_invalid_utf8(self):
        ev = {"name": "temp", "value1_hex": "ff3c3e", "value2": "Zürich \U0001F321" * 8}
        st, res = one("maildir", {"path": self.md, "subject": "{{Value2}} {{Value1}}",
                                  "body": "{{Value1}}"}, ev)
        self.assertEqual(st, "OK", res)
        msg = parse_mail(slurp(os.path.join(self.md, "new", self.delivered()[0])))
        self.assertEqual(msg["Subject"], "Zürich \U0001F321" * 8 + " \ufffd<>")
        self.assertEqual(content(msg), "\ufffd&lt;&gt;\n")

    def test_concurrent_deliveries_get_unique_names(self):
        rc, lines = drive("maildir", {"path": self.md}, None, "-j", "12")
        self.assertEqual(rc, 0, lines)
        names = self.delivered()
        self.assertEqual(len(names), 12)
        ids = {parse_mail(slurp(os.path.join(self.md, "new", n)))["Message-ID"]
               for n in names}
        self.assertEqual(len(ids), 12)   # one delivery key each

    def test_unwritable_fails(self):
        os.makedirs(self.tmp + "/ro")
        os.chmod(self.tmp + "/ro", 0o500)
        try:
            st, res = one("maildir", {"path": self.tmp + "/ro/Maildir"})
            if os.geteuid() == 0:   # root writes anywhere; a file in the way still stops it
                open(self.tmp + "/file", "w").close()
                st, res = one("maildir", {"path": self.tmp + "/file/Maildir"})
            self.assertEqual(st, "FAIL", res)
            self.assertIn("cannot create the folders", res)
        finally:
            os.chmod(self.tmp + "/ro", 0o700)

    def test_relative_path_invalid(self):
        st, res = one("maildir", {"path": "Maildir"})
        self.assertEqual(st, "INVALID")
        self.assertIn('field "path"', res)


# --------------------------------------------------------------------------- HTTP

class Receiver(http.server.ThreadingHTTPServer):
    daemon_threads = True


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def handle_one(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        self.server.requests.append({"method": self.command, "path": self.path,
                                     "headers": dict(self.headers.items()), "body": body})
        status = 200
        m = re.match(r"^/status/(\d+)", self.path)
        if m:
            status = int(m.group(1))
        if self.path.startswith("/slow"):
            time.sleep(3)
        reply = b'{"ok":true}\n' if status < 300 else b"no\nthanks"
        self.send_response(status)
        if 300 <= status < 400:
            self.send_header("Location", "/elsewhere")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        if self.command != "HEAD":
            try:
                self.wfile.write(reply)
            except (BrokenPipeError, ConnectionResetError):
                pass   # the client gave up (the timeout test)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = handle_one


class TestHttp(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Receiver(("127.0.0.1", 0), Handler)
        cls.srv.requests = []
        cls.base = f"http://127.0.0.1:{cls.srv.server_address[1]}"
        threading.Thread(target=cls.srv.serve_forever, daemon=True).start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.shutdown()
        cls.srv.server_close()

    def last(self):
        return self.srv.requests[-1]

    def test_json_body_stays_valid(self):
        ev = {"name": "button_pressed", "value1": 'quote " backslash \\ newline \n tab \t',
              "value2_hex": "41ff42c3", "value3": "42", "payload": {"nested": [1, "two"]},
              "occurred_at": 1566603900}
        body = ('{"event": "{{EventName}}", "v1": "{{Value1}}", "v2": "{{Value2}}", '
                '"n": {{Value3}}, "raw": {{Value1}}, "payload": {{JsonPayload}}, '
                '"when": "{{OccurredAt}}"}')
        f = {"url": self.base + "/hook/{{EventName}}?v={{Value1}}", "body": body,
             "headers": {"X-Event": "{{EventName}}", "Authorization": "Bearer t0k"}}
        st, res = one("http", f, ev)
        self.assertEqual(st, "OK", res)
        self.assertIn("-> 200", res)
        self.assertNotIn("?v=", res)   # queries (secrets) stay out of results
        r = self.last()
        self.assertEqual(r["method"], "POST")
        self.assertEqual(r["path"], "/hook/button_pressed?v=quote%20%22%20backslash%20%5C%20"
                                    "newline%20%0A%20tab%20%09")
        self.assertEqual(r["headers"]["Idempotency-Key"], KEY)
        self.assertEqual(r["headers"]["Content-Type"], "application/json")
        self.assertEqual(r["headers"]["X-Event"], "button_pressed")
        self.assertEqual(r["headers"]["Authorization"], "Bearer t0k")
        got = json.loads(r["body"].decode("utf-8"))
        self.assertEqual(got, {"event": "button_pressed", "v1": ev["value1"],
                               "v2": "A\ufffdB\ufffd", "n": 42, "raw": ev["value1"],
                               "payload": {"nested": [1, "two"]}, "when": WHEN})

    def test_content_type_decides_escaping(self):
        ev = {"name": "e", "value1": "a b&c=d"}
        f = {"url": self.base + "/form", "body": "x={{Value1}}&y=1",
             "headers": {"Content-Type": "application/x-www-form-urlencoded"}}
        self.assertEqual(one("http", f, ev)[0], "OK")
        self.assertEqual(self.last()["body"], b"x=a%20b%26c%3Dd&y=1")
        f = {"url": self.base + "/text", "method": "PUT", "body": "v={{Value1}} \"as is\""}
        self.assertEqual(one("http", f, ev)[0], "OK")
        r = self.last()
        self.assertEqual((r["method"], r["body"]), ("PUT", b'v=a b&c=d "as is"'))
        self.assertEqual(r["headers"]["Content-Type"], "text/plain; charset=utf-8")
        f = {"url": self.base + "/vnd", "body": '["{{Value1}}"]',
             "headers": {"Content-Type": "application/vnd.api+json"}}
        ev2 = {"name": "e", "value1": 'say "x"'}
        self.assertEqual(one("http", f, ev2)[0], "OK")
        self.assertEqual(json.loads(self.last()["body"]), ['say "x"'])

    def test_get_and_header_injection(self):
        ev = {"name": "e", "value1": "v\r\nX-Injected: 1"}
        f = {"url": self.base + "/get", "method": "GET", "headers": {"X-V": "{{Value1}}"}}
        st, res = one("http", f, ev)
        self.assertEqual(st, "OK", res)
        r = self.last()
        self.assertEqual(r["method"], "GET")
        self.assertNotIn("X-Injected", r["headers"])
        self.assertEqual(r["headers"]["X-V"], "v  X-Injected: 1")

    def test_status_mapping(self):
        for code, want in [(201, "OK"), (204, "OK"), (408, "RETRY"), (429, "RETRY"),
                           (500, "RETRY"), (503, "RETRY"), (400, "FAIL"), (401, "FAIL"),
                           (404, "FAIL"), (302, "FAIL")]:
            st, res = one("http", {"url": f"{self.base}/status/{code}", "body": "{}"})
            self.assertEqual(st, want, f"{code}: {res}")
            self.assertIn(f"-> {code}", res)
        st, res = one("http", {"url": f"{self.base}/status/503", "body": "{}"})
        self.assertIn('"no\\nthanks"', res)   # the reply is quoted on one line
        st, res = one("http", {"url": f"{self.base}/status/302", "body": "{}"})
        self.assertIn("/elsewhere not followed", res)

    def test_timeout_retries(self):
        t = time.time()
        st, res = one("http", {"url": self.base + "/slow", "timeout": 1, "body": "{}"})
        self.assertEqual(st, "RETRY", res)
        self.assertLess(time.time() - t, 2.9)

    def test_down_retries(self):
        st, res = one("http", {"url": f"http://127.0.0.1:{free_port()}/x", "body": "{}"})
        self.assertEqual(st, "RETRY", res)
        self.assertIn("connect", res.lower())

    def test_same_key_on_retry(self):
        one("http", {"url": self.base + "/status/500", "body": "{}"})
        one("http", {"url": self.base + "/status/500", "body": "{}"})
        a, b = self.srv.requests[-2:]
        self.assertEqual(a["headers"]["Idempotency-Key"], b["headers"]["Idempotency-Key"])

    def test_only_http_urls(self):
        st, res = one("http", {"url": "file:///etc/passwd"})
        self.assertEqual(st, "INVALID")
        # a value cannot switch the scheme: it is percent-encoded
        st, res = one("http", {"url": self.base + "/{{Value1}}"},
                      {"name": "e", "value1": "../../x?y#z"})
        self.assertEqual(st, "OK", res)
        self.assertEqual(self.last()["path"], "/..%2F..%2Fx%3Fy%23z")


# --------------------------------------------------------------------------- MQTT

class TestMqtt(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="hookd-mqtt-")
        try:
            cls.broker = PasswordBroker(cls.tmp, "hookd", "pa55")
        except BaseException:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise
        cls.port, cls.auth_port = cls.broker.port, cls.broker.auth_port

    @classmethod
    def tearDownClass(cls):
        cls.broker.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def subscribe(self, topic, port=None, extra=()):
        """A mosquitto_sub that has its SUBACK (so it cannot miss the message)."""
        return mosquitto_sub("-h", "127.0.0.1", "-p", str(port or self.port), "-t", topic,
                             "-C", "1", "-v", "-W", "15", *extra)

    def received(self, p):
        """The first message (topic, payload) the subscriber prints. Read line by line from
        the same buffered reader as subscribe(): communicate() would skip its buffer."""
        seen = []
        for raw in iter(p.stdout.readline, b""):
            line = raw.decode().rstrip("\n")
            seen.append(line)
            if line and not line.startswith(("Client ", "Subscribed ")) and " " in line:
                p.wait(10)
                p.stdout.close()
                topic, payload = line.split(" ", 1)
                return topic, payload
        p.wait(10)
        p.stdout.close()
        raise AssertionError("no message: " + "\n".join(seen))

    def test_default_payload_qos1(self):
        sub = self.subscribe("hookd/test1")
        st, res = one("mqtt", {"host": "127.0.0.1", "port": self.port, "topic": "hookd/test1",
                               "qos": 1})
        self.assertEqual(st, "OK", res)
        topic, payload = self.received(sub)
        self.assertEqual(topic, "hookd/test1")
        self.assertEqual(json.loads(payload), {"event": "button_pressed", "value1": "micropython1",
                                               "value2": "", "value3": "", "occurred_at": WHEN})

    def test_templated_topic_and_json_payload_qos2(self):
        sub = self.subscribe("buttons/#")
        ev = {"name": "door", "value1": 'he said "open"\n', "value2": "7"}
        f = {"host": "127.0.0.1", "port": self.port, "topic": "buttons/{{EventName}}",
             "payload": '{"v": "{{Value1}}", "n": {{Value2}}}', "qos": 2}
        st, res = one("mqtt", f, ev)
        self.assertEqual(st, "OK", res)
        topic, payload = self.received(sub)   # one line: the newline is escaped
        self.assertEqual(topic, "buttons/door")
        self.assertEqual(json.loads(payload), {"v": 'he said "open"\n', "n": 7})

    def test_retained(self):
        st, res = one("mqtt", {"host": "127.0.0.1", "port": self.port, "topic": "hookd/retained",
                               "payload": "last: {{Value1}}", "retain": True})
        self.assertEqual(st, "OK", res)
        self.assertIn("retained", res)
        # a subscriber that comes later still gets it
        r = subprocess.run(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(self.port), "-t",
                            "hookd/retained", "-C", "1", "-W", "5"], capture_output=True, timeout=10)
        self.assertEqual(r.stdout.decode().strip(), "last: micropython1")

    def test_auth(self):
        sub = self.subscribe("hookd/auth", self.auth_port, ("-u", "hookd", "-P", "pa55"))
        f = {"host": "127.0.0.1", "port": self.auth_port, "topic": "hookd/auth",
             "username": "hookd", "password": "pa55", "payload": "{{EventName}}"}
        st, res = one("mqtt", f)
        self.assertEqual(st, "OK", res)
        self.assertEqual(self.received(sub), ("hookd/auth", "button_pressed"))
        f["password"] = "wrong"
        st, res = one("mqtt", f)
        self.assertEqual(st, "FAIL", res)
        self.assertIn("refused", res)

    def test_broker_down_retries(self):
        st, res = one("mqtt", {"host": "127.0.0.1", "port": free_port(), "topic": "t"})
        self.assertEqual(st, "RETRY", res)

    def test_silent_broker_times_out(self):
        with socket.socket() as s:   # accepts TCP, never answers CONNECT
            s.bind(("127.0.0.1", 0))
            s.listen(1)
            t = time.time()
            st, res = one("mqtt", {"host": "127.0.0.1", "port": s.getsockname()[1],
                                   "topic": "t", "timeout": 1})
            self.assertEqual(st, "RETRY", res)
            self.assertLess(time.time() - t, 5)

    def test_wildcard_from_a_value_fails(self):
        st, res = one("mqtt", {"host": "127.0.0.1", "port": self.port, "topic": "x/{{Value1}}"},
                      {"name": "e", "value1": "a/#"})
        self.assertEqual(st, "FAIL", res)


# --------------------------------------------------------------------------- command

PY = sys.executable
RECORD = r"""
import json, os, sys
out = {"argv": sys.argv[1:], "stdin": sys.stdin.read(),
       "env": {k: v for k, v in os.environ.items() if k.startswith("HOOKD_")},
       "pgid_is_own": os.getpgid(0) == os.getpid(), "fds": sorted(os.listdir("/proc/self/fd"))}
with open(os.environ["RECORD_TO"], "w") as f:
    json.dump(out, f)
print("recorded", len(out["stdin"]), "bytes"); print("to stderr", file=sys.stderr)
"""


class TestCommand(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="hookd-cmd-")
        self.rec = os.path.join(self.tmp, "record.json")
        os.environ["RECORD_TO"] = self.rec

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_argv_env_stdin_output(self):
        ev = {"name": "button_pressed", "value1": "$(touch pwned) ; `id` | x",
              "value2": "two words", "occurred_at": 1566603900}
        argv = [PY, "-c", RECORD, "{{Value1}}", "{{Value2}}", "--event={{EventName}}"]
        st, res = one("command", {"argv": argv}, ev)
        self.assertEqual(st, "OK", res)
        self.assertRegex(res, r'output: "recorded \d+ bytes\\nto stderr\\n"$')
        r = json.loads(slurp(self.rec))
        self.assertEqual(r["argv"], [ev["value1"], "two words", "--event=button_pressed"])
        self.assertFalse(os.path.exists("pwned"))
        self.assertEqual(json.loads(r["stdin"]),
                         {"value1": ev["value1"], "value2": "two words", "value3": ""})
        self.assertEqual(r["env"], {
            "HOOKD_EVENT": "button_pressed", "HOOKD_VALUE1": ev["value1"],
            "HOOKD_VALUE2": "two words", "HOOKD_VALUE3": "", "HOOKD_OCCURRED_AT": WHEN,
            "HOOKD_PAYLOAD": r["stdin"], "HOOKD_IDEMPOTENCY_KEY": KEY})
        self.assertTrue(r["pgid_is_own"])
        self.assertEqual(r["fds"], ["0", "1", "2", "3"])   # 3: listdir's own

    def test_json_payload_on_stdin(self):
        big = {"data": "z" * 100_000, "n": [1, 2]}
        st, res = one("command", {"argv": [PY, "-c", RECORD]},
                      {"name": "sensor", "payload": big})
        self.assertEqual(st, "OK", res)
        r = json.loads(slurp(self.rec))
        self.assertEqual(json.loads(r["stdin"]), big)
        self.assertEqual(r["env"]["HOOKD_PAYLOAD"], "")   # too big for the environment

    def test_program_that_ignores_stdin(self):
        st, res = one("command", {"argv": ["/bin/true"]},
                      {"name": "sensor", "payload": {"data": "z" * 100_000}})
        self.assertEqual(st, "OK", res)

    def test_exit_status(self):
        argv = ["/bin/sh", "-c", "echo oops >&2; exit 3"]
        st, res = one("command", {"argv": argv})
        self.assertEqual(st, "FAIL", res)
        self.assertIn('exited 3; output: "oops\\n"', res)
        st, res = one("command", {"argv": argv, "retry_on_failure": True})
        self.assertEqual(st, "RETRY", res)
        st, res = one("command", {"argv": ["/bin/sh", "-c", "kill -SEGV $$"]})
        self.assertEqual(st, "FAIL", res)
        self.assertIn("signal 11", res)

    def test_output_is_capped(self):
        st, res = one("command", {"argv": [PY, "-c", "print('x' * 100000)"]})
        self.assertEqual(st, "OK", res)
        self.assertIn("output (start)", res)
        self.assertLess(len(res), 4096 + 200)

    def test_not_found_fails(self):
        st, res = one("command", {"argv": ["/nonexistent/program"]})
        self.assertEqual(st, "FAIL", res)
        # valgrind turns posix_spawn into fork + exec, where a failed exec is exit 127
        self.assertRegex(res, "exited 127" if VALGRIND else "No such file")
        st, res = one("command", {"argv": ["no-such-program-in-path"]})
        self.assertEqual(st, "FAIL", res)

    def test_path_lookup(self):
        st, res = one("command", {"argv": ["true"]})
        self.assertEqual(st, "OK", res)

    def test_timeout_kills_the_group(self):
        pidfile = os.path.join(self.tmp, "bg.pid")
        argv = ["/bin/sh", "-c", f"sleep 60 & echo $! > {pidfile}; sleep 60"]
        t = time.time()
        st, res = one("command", {"argv": argv, "timeout": 1})
        took = time.time() - t
        self.assertEqual(st, "RETRY", res)
        self.assertIn("timed out after 1 s", res)
        self.assertLess(took, 4)
        bg = int(slurp(pidfile))
        time.sleep(0.2)
        self.assertFalse(alive(bg), "the background child survived")

    def test_timeout_sigkill_when_term_is_ignored(self):
        argv = ["/bin/sh", "-c", "trap '' TERM; sleep 60 & wait; sleep 60"]
        t = time.time()
        st, res = one("command", {"argv": argv, "timeout": 1})
        self.assertEqual(st, "RETRY", res)
        self.assertIn("killed", res)
        self.assertLess(time.time() - t, 6)

    def test_background_child_does_not_hold_the_delivery(self):
        argv = ["/bin/sh", "-c", "sleep 5 & echo started"]
        t = time.time()
        st, res = one("command", {"argv": argv, "timeout": 10})
        self.assertEqual(st, "OK", res)
        self.assertLess(time.time() - t, 2)

    def test_concurrency_cap(self):
        log = os.path.join(self.tmp, "spans")
        script = ("import os, sys, time\n"
                  "a = time.time(); time.sleep(0.4); b = time.time()\n"
                  f"fd = os.open({log!r}, os.O_WRONLY | os.O_APPEND | os.O_CREAT)\n"
                  "os.write(fd, f'{a} {b}\\n'.encode())\n")
        t = time.time()
        rc, lines = drive("command", {"argv": [PY, "-c", script]}, None, "-j", "6",
                          "--max-concurrent", "2")
        took = time.time() - t
        self.assertEqual(rc, 0, lines)
        spans = [tuple(map(float, s.split())) for s in slurp(log).decode().split("\n") if s]
        self.assertEqual(len(spans), 6)
        most = max(sum(1 for a, b in spans if a <= t0 < b) for t0, _ in spans)
        self.assertEqual(most, 2)
        self.assertGreater(took, 1.2)

    def test_validate(self):
        st, res = one("command", {"argv": "/bin/true"})
        self.assertEqual(st, "INVALID")
        self.assertIn('field "argv"', res)


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] not in "ZX"
    except FileNotFoundError:
        return False


# --------------------------------------------------------------------------- file

class TestFile(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="hookd-file-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_one_line(self):
        path = os.path.join(self.tmp, "events.jsonl")
        st, res = one("file", {"path": path})
        self.assertEqual(st, "OK", res)
        self.assertEqual(slurp(path),
                         b'{"event":"button_pressed","value1":"micropython1","value2":"",'
                         b'"value3":"","occurred_at":"' + WHEN.encode() + b'"}\n')
        st, res = one("file", {"path": path}, {"name": "j", "payload": {"a": [1]},
                                              "value1_hex": "ff"})
        self.assertEqual(st, "OK", res)
        last = json.loads(slurp(path).splitlines()[1])
        self.assertEqual(last["payload"], {"a": [1]})
        self.assertEqual(last["value1"], "\ufffd")

    def test_concurrent_appends_never_interleave(self):
        path = os.path.join(self.tmp, "big.jsonl")
        ev = {"name": "e", "value1": "v" * 60000, "value2": "\n\"" * 100}
        procs = [subprocess.Popen([DRIVER, "-j", "16", "--key", f"p{i}", "file",
                                   json.dumps({"path": path}), json.dumps(ev)],
                                  stdout=subprocess.PIPE) for i in range(3)]
        for p in procs:
            p.communicate(timeout=60)
            self.assertEqual(p.returncode, 0)
        lines = slurp(path).split(b"\n")
        self.assertEqual(lines[-1], b"")
        self.assertEqual(len(lines) - 1, 48)
        for line in lines[:-1]:
            d = json.loads(line)
            self.assertEqual((d["value1"], d["value2"]), (ev["value1"], ev["value2"]))

    def test_templated_path_cannot_climb(self):
        f = {"path": self.tmp + "/{{EventName}}.jsonl"}
        st, res = one("file", f, {"name": "door"})
        self.assertEqual(st, "OK", res)
        self.assertTrue(os.path.exists(self.tmp + "/door.jsonl"))
        st, res = one("file", f, {"name": "../../etc/evil"})
        self.assertEqual(st, "FAIL", res)
        self.assertIn('".."', res)

    def test_missing_folder_fails(self):
        st, res = one("file", {"path": self.tmp + "/no/such/dir/x.jsonl"})
        self.assertEqual(st, "FAIL", res)


class TestExpand(unittest.TestCase):
    """The driver's --expand, as used by hand and by other tests."""

    def test_expand(self):
        r = subprocess.run([DRIVER, "--expand", "json", '{"a":"{{Value1}}"}',
                            json.dumps({"value1": 'x"y'})], capture_output=True)
        self.assertEqual(r.stdout, b'{"a":"x\\"y"}')
        r = subprocess.run([DRIVER, "--expand", "none", "{{Valeu1}}", "{}"],
                           capture_output=True)
        self.assertEqual(r.returncode, 3)
        self.assertIn(b"did you mean {{Value1}}?", r.stdout)


if __name__ == "__main__":
    if not os.path.isabs(DRIVER) and not shutil.which(DRIVER):
        sys.exit("set HOOKD_ACTION_DRIVER to the action_driver program")
    unittest.main(verbosity=2)
