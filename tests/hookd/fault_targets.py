"""Real delivery targets for tests/hookd/test_faults.py (the broker and subscriber for
test_system.py too) that can be stopped and started again on
the same port while hookd keeps retrying: an aiosmtpd SMTP server, an http.server receiver
that counts Idempotency-Keys, a mosquitto broker with persistence and a mosquitto_sub with a
persistent session (so a message the broker accepted before the subscriber reconnected after
a broker restart still reaches it).

aiosmtpd is Debian's python3-aiosmtpd: import this module from /usr/bin/python3 (see
test_faults.py's re-exec)."""
import email
import email.policy
import http.server
import os
import socket
import sys
import threading

from aiosmtpd.controller import Controller

import hookd_harness
from hookd_harness import free_port, mosquitto_sub, stop_sub, wait_port


class SmtpServer:
    """aiosmtpd on a fixed port; keeps every message (value1 from the body, Message-ID)."""

    def __init__(self):
        self.port = free_port()
        self.messages = []       # (Message-ID, raw bytes)
        self.lock = threading.Lock()
        self.controller = None
        self.start()

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        with self.lock:
            self.messages.append((msg["Message-ID"], raw))
        return "250 OK"

    def start(self):
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        wait_port(self.port, True)

    def stop(self):
        if self.controller:
            self.controller.stop()
            self.controller = None
            wait_port(self.port, False)

    def ids(self):
        with self.lock:
            return [m[0] for m in self.messages]


class HttpReceiver:
    """http.server on a fixed port that de-duplicates by Idempotency-Key, as a receiver should:
    every request is counted, but its effect (the body kept in `applied`) happens once per
    key. With lose_first_reply, the first request of each key is read and kept, then the
    connection is closed without an answer: the reply lost on the way back, which hookd must
    treat as a failed attempt and retry with the same key."""

    def __init__(self):
        self.port = free_port()
        self.requests = []       # (Idempotency-Key, body)
        self.applied = {}        # key -> body, the first time the key was seen
        self.lose_first_reply = False
        self.lock = threading.Lock()
        self.server = None
        self.start()

    def start(self):
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                key = self.headers.get("Idempotency-Key")
                with outer.lock:
                    outer.requests.append((key, body))
                    first = key not in outer.applied
                    if first:
                        outer.applied[key] = body
                if first and outer.lose_first_reply:
                    # applied, but the caller never hears of it
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                reply = b"ok" if first else b"duplicate, already applied"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

        class Server(http.server.ThreadingHTTPServer):
            allow_reuse_address = True
            daemon_threads = True

            def handle_error(self, request, client_address):
                # a caller killed before our reply (kill -9 tests) is expected, not news
                if not isinstance(sys.exc_info()[1], ConnectionError):
                    super().handle_error(request, client_address)

        self.server = Server(("127.0.0.1", self.port), H)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
            wait_port(self.port, False)

    def url(self, path="/hook"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def counts(self):
        """(requests, distinct keys)"""
        with self.lock:
            return len(self.requests), len(self.applied)


class Broker(hookd_harness.Broker):
    """mosquitto with persistence on (saved at SIGTERM, read at start), so that a persistent
    subscriber's session and queued messages outlive a restart."""

    def __init__(self, tmp):
        super().__init__(tmp, persistent=True, name="mosquitto")


class Subscriber:
    """mosquitto_sub with a persistent session (-c, QoS 1): it reconnects by itself after a
    broker restart, and gets what was queued for it meanwhile. Started once it has its
    SUBACK, so it cannot miss a message."""

    def __init__(self, port, topic):
        self.topic = topic.rstrip("#")
        self.messages = []
        self.lock = threading.Lock()
        self.proc = mosquitto_sub("-h", "127.0.0.1", "-p", str(port), "-t", topic, "-q", "1",
                                  "-c", "-i", "hookd-faults-%d" % os.getpid(), "-v")
        self.thread = threading.Thread(target=self.read, daemon=True)
        self.thread.start()

    def read(self):
        for raw in iter(self.proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if line.startswith(self.topic) and " " in line:
                with self.lock:
                    self.messages.append(line.split(" ", 1)[1])

    def got(self):
        with self.lock:
            return list(self.messages)

    def stop(self):
        stop_sub(self.proc)
        self.thread.join(5)
        self.proc.stdout.close()
