#!/usr/bin/env python3
"""A small local webhook receiver for `make demo`, until hookd replaces it: answers IFTTT's
Maker Webhooks trigger URLs the way IFTTT does and prints each webhook as it arrives.

usage: receiver.py PORT [LOGFILE]"""
import http.server
import json
import re
import sys
import time

TRIGGER = re.compile(r"^/trigger/([^/]+)/(json/)?with/key/([A-Za-z0-9_-]+)$")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, ctype="text/html; charset=utf-8"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        m = TRIGGER.match(self.path.split("?")[0])
        if not m or not m.group(1):
            return self.reply(404, "Not found")
        event, is_json = m.group(1), bool(m.group(2))
        try:
            values = json.loads(body) if body else {}
        except ValueError:
            values = {"raw": body.decode(errors="replace")}
        line = {"time": time.strftime("%H:%M:%S"), "event": event, "values": values,
                "from": self.client_address[0]}
        print(f"receiver: webhook {event!r} arrived: {json.dumps(values)}", flush=True)
        if len(sys.argv) > 2:
            with open(sys.argv[2], "a") as f:
                f.write(json.dumps(line) + "\n")
        suffix = " JSON" if is_json else ""
        self.reply(200, f"Congratulations! You've fired the {event}{suffix} event")

    do_GET = do_POST


if __name__ == "__main__":
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    print(f"receiver: listening on http://127.0.0.1:{srv.server_address[1]}", flush=True)
    srv.serve_forever()
