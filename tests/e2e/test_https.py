"""HTTPS from the simulated board to a real nginx with a test CA: the certificate is verified
(the chapter's MicroPython verified nothing)."""
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import WORLD, Board, TempDir, free_port  # noqa: E402

PATH = "/trigger/button_pressed/with/key/b7xKq2W9-fLm_4TzR8vYpA"


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_ca(d, name):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2", "-subj",
            f"/CN={name}", cwd=d)


def make_cert(d, ca, name, host):
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
            f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={host}", cwd=d)
    with open(os.path.join(d, f"{name}.ext"), "w") as f:
        f.write(f"subjectAltName=DNS:{host}\n")
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
            "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext",
            cwd=d)


class HttpsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmpctx = TempDir()
        cls.tmp = cls.tmpctx.__enter__()
        d = cls.tmp
        make_ca(d, "testca")
        make_ca(d, "otherca")
        make_cert(d, "testca", "server", "hooks.test")
        cls.port = free_port()
        os.makedirs(os.path.join(d, "logs"), exist_ok=True)
        with open(os.path.join(d, "nginx.conf"), "w") as f:
            f.write(f"""
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/logs/error.log;
events {{ worker_connections 64; }}
http {{
  access_log {d}/logs/access.log;
  client_body_temp_path {d}/body;
  server {{
    listen 127.0.0.1:{cls.port} ssl;
    ssl_certificate {d}/server.pem;
    ssl_certificate_key {d}/server.key;
    location /trigger/ {{
      default_type "text/html; charset=utf-8";
      return 200 "Congratulations! You've fired the button_pressed event";
    }}
  }}
}}
""")
        cls.nginx = subprocess.Popen(["nginx", "-e", "stderr", "-p", d, "-c",
                                      os.path.join(d, "nginx.conf"), "-g", "daemon off;"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 10
        while time.time() < deadline:
            if os.path.exists(os.path.join(d, "nginx.pid")):
                break
            time.sleep(0.05)
        time.sleep(0.2)

    @classmethod
    def tearDownClass(cls):
        cls.nginx.terminate()
        cls.nginx.wait(timeout=10)
        cls.tmpctx.__exit__(None, None, None)

    def read(self, name):
        with open(os.path.join(self.tmp, name), "rb") as f:
            return f.read()

    def press(self, name, host="hooks.test", ca_file="ca.pem", ca=None, bundle=None):
        world = dict(WORLD, hosts={"hooks.test": "127.0.0.1"})
        if bundle:
            world["ca_bundle"] = os.path.join(self.tmp, bundle)
        cfg = {"WEBHOOK_URL": f"https://{host}:{self.port}{PATH}"}
        files = {}
        if ca_file:
            cfg["CA_FILE"] = ca_file
            files[ca_file] = self.read(ca)
        b = Board(self.tmp, name=name, world=world, config=cfg, extra_files=files)
        try:
            b.wait("sleeping")
            b.press()
            b.wait("sleeping")
            return b.wake_events(2), b.console(2)
        finally:
            b.off()

    def accesses(self):
        return self.read("logs/access.log").decode().count("POST " + PATH)

    def test_right_ca_from_config_file(self):
        before = self.accesses()
        evs, console = self.press("ok", ca="testca.pem")
        self.assertIn("Webhook invoked", console)
        self.assertEqual([e for e in evs if e["event"] == "error"], [])
        self.assertEqual(self.accesses(), before + 1)
        report = [e for e in evs if e["event"] == "report"][0]
        self.assertEqual(report["tls"], 1)

    def test_right_ca_from_board_bundle(self):
        evs, console = self.press("bundle", ca_file=None, bundle="testca.pem")
        self.assertIn("Webhook invoked", console)

    def test_wrong_ca_refused(self):
        before = self.accesses()
        evs, console = self.press("wrongca", ca="otherca.pem")
        self.assertIn("Webhook failed", console)
        self.assertIn("certificate", console)
        self.assertTrue([e for e in evs if e["event"] == "error"])
        self.assertEqual(self.accesses(), before)   # nothing was sent over an untrusted link

    def test_wrong_host_name_refused(self):
        before = self.accesses()
        evs, console = self.press("wronghost", host="localhost", ca="testca.pem")
        self.assertIn("certificate", console)
        self.assertEqual(self.accesses(), before)


if __name__ == "__main__":
    unittest.main(verbosity=2)
