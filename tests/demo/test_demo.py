"""`make demo`'s script against this build: it exits 0, shows the email hookd delivered for the
press and the wake report, leaves nothing running, and the "keep playing" lines it prints work
as printed (hookd and the board started again, pressed again, the jumper, the console, curl).

Env: BH_BUILD (the build folder), BH_SOURCE (the source tree)."""
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

BUILD = os.environ["BH_BUILD"]
SOURCE = os.environ.get("BH_SOURCE", os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from procs import running_with  # noqa: E402


def wait_for(what, cond, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class Demo(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="bh-demo-")
        self.demo = os.path.join(self.tmp, "demo")
        self.procs = []
        self.files = []

    def tearDown(self):
        for f in self.files:
            f.close()
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def mails(self):
        d = os.path.join(self.demo, "Maildir", "new")
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def test_demo_then_keep_playing(self):
        env = dict(os.environ, BH_DEMO_DIR=self.demo)
        r = subprocess.run(["bash", os.path.join(SOURCE, "scripts", "demo.sh"), BUILD],
                           cwd=SOURCE, env=env, capture_output=True, text=True, timeout=180)
        out = r.stdout
        print(out)
        self.assertEqual(r.returncode, 0, out + r.stderr)

        # what the user reads: the board's two boots, the email, the wake report
        self.assertIn("boot 1: PWRON_RESET", out)
        self.assertIn("boot 2: DEEPSLEEP_RESET", out)
        self.assertIn("| Webhook invoked", out)
        self.assertIn('Subject: The event named "button_pressed" occurred on the Maker '
                      'Webhooks service', out)
        self.assertIn("To: you@localhost", out)
        self.assertRegex(out, r"\n   What: button_pressed\n   When: \w+ \d+, \d{4} at "
                              r"\d\d:\d\d[AP]M\n   Button: micropython1\n")
        report = re.search(r'^   (\{"t":\d+,"boot":2,"event":"report".*\})$', out, re.M)
        self.assertTrue(report, "no wake report of boot 2 in the output")
        report = json.loads(report.group(1))
        self.assertEqual(report["end"], "sleep")
        self.assertEqual((report["assocs"], report["tcp"]), (1, 1))
        self.assertGreater(report["energy_mAs"], 0)
        # one email, on disk as the output says
        self.assertEqual(len(self.mails()), 1)
        with open(os.path.join(self.demo, "Maildir", "new", self.mails()[0])) as f:
            self.assertIn("Button: micropython1", f.read())
        # nothing left running
        self.assertEqual(running_with(self.demo), [])

        # The "keep playing" lines, run as printed, from the source folder.
        path = re.search(r"^ +export PATH=(\S+):\$PATH$", out, re.M).group(1)
        env = dict(os.environ, PATH=path + ":" + os.environ["PATH"])
        hookd_cmd = re.search(r"^ +(hookd --data .*)$", out, re.M).group(1)
        run_cmd = re.search(r"^ +(simboard run .*)$", out, re.M).group(1)
        lines = {}
        for verb in ("press", "jumper on", "type"):
            lines[verb] = re.search(rf"^ +(simboard {verb} --state .*?)(?: +#.*)?$",
                                    out, re.M).group(1)
        curl = re.search(r"^ +(curl .*) \\\n +(\S+)$", out, re.M)
        page = re.search(r"open (http://127\.0\.0\.1:\d+/)", out).group(1)

        def start(cmd, log):
            f = open(os.path.join(self.tmp, log), "w+")
            self.files.append(f)
            p = subprocess.Popen(shlex.split(cmd), cwd=SOURCE, env=env,
                                 stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT)
            self.procs.append(p)
            return f

        def sh(cmd):
            return subprocess.run(shlex.split(cmd), cwd=SOURCE, env=env, capture_output=True,
                                  text=True, timeout=60)

        hlog = start(hookd_cmd, "hookd.log")
        def hookd_log():
            with open(hlog.name) as f:
                return f.read()
        wait_for("hookd listening", lambda: "listening on " + page[:-1] in hookd_log())
        # the page is there
        r = subprocess.run(["curl", "-s", page], capture_output=True, text=True, timeout=10)
        self.assertIn("<title>", r.stdout)
        state = shlex.split(run_cmd)[shlex.split(run_cmd).index("--state") + 1]
        start(run_cmd, "board.log")
        wait_for("the board", lambda: sh(f"simboard state --state {state}").returncode == 0)
        self.assertEqual(sh(f"simboard wait --state {state} --for sleeping").returncode, 0)

        # press again: one more email
        self.assertEqual(sh(lines["press"]).returncode, 0)
        wait_for("a second email", lambda: len(self.mails()) == 2)
        # the jumper, a press: the board stays awake with its console
        self.assertEqual(sh(lines["jumper on"]).returncode, 0)
        self.assertEqual(sh(lines["press"]).returncode, 0)
        self.assertEqual(sh(f"simboard wait --state {state} --for idle").returncode, 0)
        wait_for("a third email", lambda: len(self.mails()) == 3)
        self.assertEqual(sh(lines["type"]).returncode, 0)
        events = os.path.join(state, "events.jsonl")
        def console_text():
            with open(events) as f:
                return "\n".join(e.get("text", "") for e in map(json.loads, f)
                                 if e["event"] == "console")
        wait_for("the console's answer", lambda: re.search(
            r"\('192\.168\.0\.\d+', '255\.255\.255\.0', '192\.168\.0\.1', '192\.168\.0\.1'\)",
            console_text()))
        # the chapter's curl line
        r = subprocess.run(shlex.split(curl.group(1)) + [curl.group(2)], capture_output=True,
                           text=True, timeout=10)
        self.assertEqual(r.stdout, "Congratulations! You've fired the button_pressed event")
        wait_for("a fourth email", lambda: len(self.mails()) == 4)

        self.assertEqual(sh(f"simboard off --state {state}").returncode, 0)
        for p in self.procs:
            p.send_signal(signal.SIGTERM)
            self.assertEqual(p.wait(30), 0)
        self.assertEqual(running_with(self.demo), [])
        # collected by `make check` with the other tests' figures
        print(f"\nfigures: demo emails={len(self.mails())} (1 from the demo, 3 from its "
              f"keep-playing lines) left_running={len(running_with(self.demo))}")


if __name__ == "__main__":
    unittest.main()
