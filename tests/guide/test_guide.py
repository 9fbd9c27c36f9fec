"""docs/guide.md, run: every session in it is replayed against a simulated board and a hookd,
and what they print is compared with what the guide says they print.

The guide's checked blocks are fenced ```console:

- `$ command` (with `> ` continuation lines, as bash shows a here-document) runs in one bash
  session, from the source folder; the lines up to the next input are its output (stdout and
  stderr).
- `>>> command` is typed at the board's console (`simboard type`); the lines after it are the
  console's answer. An answer to one of the chapter's webrepl_setup questions is written after
  its prompt (`> E`, `New password (4-9 chars): s3cret`) and typed the same way.
- ```console board (and ```console hookd): that program's own terminal. A `$ ` line there
  starts it (in the background here); the other lines must appear in its output, in that
  order and contiguous, after what the guide showed of it before. Time stamps at the start
  of a line (`[  0.510]`, `2026-11-26T01:36:25.695Z`) are not compared.
- `«anything»` in an expected line stands for text that differs from run to run or machine to
  machine (addresses, keys, times).

Folders: the guide keeps everything in /tmp/bh, which is a fresh temporary folder here;
127.0.0.1:8080 (hookd) and 127.0.0.1:8266 (the board's WebREPL) are free ports chosen here;
examples/world.json is a copy that maps the board's port 8266 to that free port. Output is
compared with those names put back.

Env: BH_BUILD (the build folder), BH_SOURCE (the source tree). `--show` prints what each step
printed instead of comparing (to write the guide from real runs)."""
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

BUILD = os.environ["BH_BUILD"]
SOURCE = os.path.realpath(os.environ.get("BH_SOURCE",
                                         os.path.join(os.path.dirname(__file__), "..", "..")))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from procs import alive, running_with  # noqa: E402

GUIDE = os.environ.get("BH_GUIDE", os.path.join(SOURCE, "docs", "guide.md"))
SHOW = "--show" in sys.argv
WAIT_S = 40   # how long a step may take to print what the guide shows

# the chapter's webrepl_setup questions: what follows one on a line is typed
PROMPTS = (">>> ", "> ", "New password (4-9 chars): ", "Confirm password: ",
           "Would you like to reboot now? (y/n) ", "Would you like to change WebREPL password? (y/n) ")
STAMP = re.compile(r"^(\[\s*\d+\.\d+\]|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z) ")
CONSOLE = re.compile(r"^\[\s*\d+\.\d+\] \| ?(.*)$")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def pattern(expected):
    """An expected line as a regex: «...» is any text; a leading time stamp is any stamp."""
    line = expected.rstrip()
    stamp = ""
    m = STAMP.match(line)
    if m:
        stamp = r"(\[\s*\d+\.\d+\]|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z) "
        line = line[m.end():]
    out, seen = "", set()
    for k, part in enumerate(re.split(r"«([^»]*)»", line)):
        if k % 2 == 0:
            out += re.escape(part)
        elif part.isidentifier() and part not in seen:
            seen.add(part)
            out += f"(?P<{part}>.+?)"   # remembered: a later input may use «part»
        else:
            out += ".+?"
    return re.compile("^" + stamp + out + "$")


def match_lines(got, expected):
    """The matches of got against expected, where a line `…` stands for any number of lines;
    None if they differ."""
    if not expected:
        return [] if not got else None
    if expected[0].strip() == "…":
        for skip in range(len(got) + 1):
            rest = match_lines(got[skip:], expected[1:])
            if rest is not None:
                return rest
        return None
    if not got:
        return None
    m = pattern(expected[0]).match(got[0].rstrip())
    if not m:
        return None
    rest = match_lines(got[1:], expected[1:])
    return None if rest is None else [m] + rest


def parse(path):
    """The guide's ```console blocks as (line number, terminal, [lines])."""
    blocks, cur = [], None
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if cur is None:
                m = re.match(r"^```console(?: (\w+))?\s*$", line)
                if m:
                    cur = (n, m.group(1) or "shell", [])
            elif line.startswith("```"):
                blocks.append(cur)
                cur = None
            else:
                cur[2].append(line)
    return blocks


class Mismatch(AssertionError):
    pass


class Guide:
    def __init__(self, tmp):
        self.tmp = tmp
        self.hookd_port, self.ws_port = free_port(), free_port()
        with open(os.path.join(SOURCE, "examples", "world.json")) as f:
            world = json.load(f)
        world["ports"] = {"8266": self.ws_port}
        self.world = os.path.join(tmp, "world.json")
        with open(self.world, "w") as f:
            json.dump(world, f)
        self.bh = os.path.join(tmp, "bh")
        # guide -> here, in commands; here -> guide, in output
        self.subs = [("/tmp/bh", self.bh), ("127.0.0.1:8080", f"127.0.0.1:{self.hookd_port}"),
                     ("127.0.0.1:8266", f"127.0.0.1:{self.ws_port}"),
                     ('"8266":8266', f'"8266":{self.ws_port}'),
                     ("examples/world.json", self.world),
                     ("$PWD/build/main", BUILD)]
        self.shell = subprocess.Popen(["bash", "--noprofile", "--norc"], cwd=SOURCE,
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True,
                                      env=dict(os.environ, TERM="dumb", LC_ALL="C.UTF-8"))
        # curl shows a progress meter when its output is not a terminal; the reader's is
        self.sh("curl() { command curl --no-progress-meter \"$@\"; }", "setup")
        self.logs = {}      # terminal -> log file
        self.cursor = {}    # terminal -> lines of its log already accounted for
        self.last_echo = -1
        self.state = None   # the board's state folder
        self.pids = []
        self.steps = 0
        self.vars = {}      # «name» -> what it stood for in the output that showed it

    def fill(self, line):
        """An input line with the «name»s of earlier output put in."""
        return re.sub(r"«([^»]*)»", lambda m: self.vars.get(m.group(1), m.group(0)), line)

    # ---- text
    def to_real(self, text):
        for g, r in self.subs:
            text = text.replace(g, r)
        return text

    def to_guide(self, text):
        for g, r in self.subs:
            if g != "$PWD/build/main":
                text = text.replace(r, g)
        return text

    def check_lines(self, where, got, expected):
        if SHOW:
            print(f"--- {where}")
            print("\n".join(got))
            return
        matches = match_lines(got, expected)
        if matches is not None:
            for m in matches:
                self.vars.update(m.groupdict())
        else:
            raise Mismatch(f"{where}: the guide says\n  " + "\n  ".join(expected) +
                           "\nbut it printed\n  " + "\n  ".join(got))

    # ---- the shell
    def sh(self, cmd, where, raw=""):
        marker = f"__guide_{time.time_ns()}__"
        self.shell.stdin.write("{\n" + self.to_real(cmd) + raw + "\n} </dev/null 2>&1\n"
                               f"echo {marker} $?\n")
        self.shell.stdin.flush()
        # read the pipe raw: a buffered reader could hold the marker while select() waits
        fd, data = self.shell.stdout.fileno(), b""
        deadline = time.time() + 120
        while marker.encode() not in data or not data.endswith(b"\n"):
            r, _, _ = select.select([fd], [], [], max(0, deadline - time.time()))
            if not r:
                raise Mismatch(f"{where}: `{cmd}` did not finish in 120 s")
            chunk = os.read(fd, 65536)
            if not chunk:
                raise Mismatch(f"{where}: the shell exited")
            data += chunk
        head, _, tail = data.decode(errors="replace").partition(marker)
        rc = int(tail.split()[0])
        # the marker follows the output's last line, or ends a last line with no newline
        out = head.split("\n")
        if out[-1] == "":
            out.pop()
        return rc, [self.to_guide(line) for line in out]

    # ---- terminals: the board's and hookd's own output
    def log_lines(self, term):
        try:
            with open(self.logs[term], errors="replace") as f:
                return [self.to_guide(line.rstrip("\n")) for line in f]
        except FileNotFoundError:   # the background shell has not opened it yet
            return []

    def start(self, term, cmd, where):
        log = os.path.join(self.tmp, term + ".log")
        self.logs[term], self.cursor[term] = log, 0
        rc, out = self.sh(cmd, where, f" </dev/null >{log} 2>&1 &\necho $!")
        self.pids.append(int(out[-1]))
        if term == "board":
            self.state = self.to_real(re.search(r"--state (\S+)", cmd).group(1))
            self.wait(where, lambda: subprocess.run(
                ["simboard", "state", "--state", self.state], env=self.env(),
                capture_output=True).returncode == 0 or None, "the board to power on")

    def env(self):
        return dict(os.environ, PATH=f"{BUILD}/hookd:{BUILD}/firmware/ports/sim:"
                    + os.environ["PATH"])

    def wait(self, where, cond, what):
        deadline = time.time() + WAIT_S
        while True:
            v = cond()
            if v is not None:
                return v
            if time.time() > deadline:
                raise Mismatch(f"{where}: waited {WAIT_S} s for {what}")
            time.sleep(0.05)

    def terminal(self, term, expected, where):
        """The expected lines, contiguous, somewhere after the cursor of term's output; a line
        `…` stands for any number of lines (the board's own lines and the firmware's console
        lines come from two processes, so their order is not always the same)."""
        segments, seg = [], []
        for e in expected:
            if e.strip() == "…":
                segments.append(seg)
                seg = []
            else:
                seg.append(pattern(e))
        segments = [x for x in segments + [seg] if x]

        def find():
            lines, at = self.log_lines(term), self.cursor[term]
            for pats in segments:
                for i in range(at, len(lines) - len(pats) + 1):
                    if all(p.match(lines[i + k].rstrip()) for k, p in enumerate(pats)):
                        at = i + len(pats)
                        break
                else:
                    return None
            return at
        if SHOW:
            time.sleep(4)
            lines = self.log_lines(term)
            self.check_lines(where, lines[self.cursor[term]:], expected)
            self.cursor[term] = len(lines)
            return
        try:
            end = self.wait(where, find, "the lines the guide shows")
        except Mismatch:
            lines = self.log_lines(term)[self.cursor[term]:]
            raise Mismatch(f"{where}: the guide shows this in {term}'s terminal\n  " +
                           "\n  ".join(expected) + "\nbut it printed\n  " + "\n  ".join(lines))
        if os.environ.get("BH_GUIDE_DUMP"):
            print(f"--- {where} ({term})\n" + "\n".join(self.log_lines(term)[self.cursor[term]:end]))
        self.cursor[term] = end

    # ---- the board's console, read from the board's terminal
    def console_lines(self):
        """(index in the log, text) of the console's lines."""
        out = []
        for i, line in enumerate(self.log_lines("board")):
            m = CONSOLE.match(line)
            if m:
                out.append((i, m.group(1).rstrip()))
        return out

    def next_console(self, where, what):
        def find():
            for i, text in self.console_lines():
                if i >= self.cursor["board"]:
                    return i, text
            return None
        i, text = self.wait(where, find, what)
        self.cursor["board"] = i + 1
        return text

    def console_input(self, prompt, answer, where):
        p = prompt.rstrip()

        def ready():
            cl = self.console_lines()
            after = [(i, t) for i, t in cl if i >= self.cursor["board"]]
            # console lines the guide does not show may come first (WebREPL's announcements)
            at = next((i for i, t in after if t == p), None)
            if at is not None:
                self.cursor["board"] = at + 1
                return True
            # the prompt came before what the guide last showed (a line printed while the
            # console waited): still waiting for its answer if nothing was typed since
            before = [(i, t) for i, t in cl if self.last_echo < i < self.cursor["board"]
                      and t in (q.rstrip() for q in PROMPTS)]
            if before and before[-1][1] == p:
                return True
            return None
        self.wait(where, ready, f"the prompt {prompt!r}")
        # a person types slower than the station joins (0.3 s here): before the next command,
        # a join in progress ends, as it would have for the reader
        def joined():
            r = subprocess.run(["simboard", "state", "--state", self.state], env=self.env(),
                               capture_output=True, text=True)
            return None if r.returncode == 0 and json.loads(r.stdout).get("link") == \
                "CONNECTING" else True
        self.wait(where, joined, "the station to finish joining")
        r = subprocess.run(["simboard", "type", "--state", self.state, self.to_real(answer)],
                           env=self.env(), capture_output=True, text=True)
        if r.returncode != 0:
            raise Mismatch(f"{where}: simboard type failed: {r.stderr}")

        def echo():
            for i, t in self.console_lines():
                if i >= self.cursor["board"] and t == answer.rstrip():
                    return i
            return None
        i = self.wait(where, echo, f"the console to echo {answer!r}")
        self.cursor["board"] = i + 1
        self.last_echo = i

    # ---- a block
    def run_block(self, start, term, lines):
        i = 0
        if SHOW and term != "shell" and not any(x.startswith("$ ") for x in lines):
            self.terminal(term, [], f"docs/guide.md:{start}")
            return
        while i < len(lines):
            where = f"docs/guide.md:{start + 1 + i}"
            line = lines[i]
            if line.startswith("$ "):
                cmd, i = [line[2:]], i + 1
                while i < len(lines) and lines[i].startswith("> "):
                    cmd.append(lines[i][2:])
                    i += 1
                out_start = i
                while i < len(lines) and not self.is_input(lines[i]):
                    i += 1
                expected = lines[out_start:i]
                self.steps += 1
                if term != "shell":
                    self.start(term, "\n".join(cmd), where)
                    if expected or SHOW:
                        self.terminal(term, expected, where)
                    continue
                rc, out = self.sh(self.fill("\n".join(cmd)), where)
                if rc != 0 and not SHOW:
                    raise Mismatch(f"{where}: `{cmd[0]}` exited {rc}:\n  " + "\n  ".join(out))
                self.check_lines(where, out, expected)
            elif term != "shell":
                self.terminal(term, lines[i:], where)
                return
            else:
                prompt = next(p for p in PROMPTS if line.startswith(p) or line == p.rstrip())
                self.steps += 1
                self.console_input(prompt, self.fill(line[len(prompt):]), where)
                i += 1
                got, expected = [], []
                while i < len(lines) and not self.is_input(lines[i]):
                    expected.append(lines[i])
                    i += 1
                if SHOW:
                    time.sleep(1.5)
                    cl = [t for j, t in self.console_lines() if j >= self.cursor["board"]]
                    nxt = next((k for k, t in enumerate(cl) if t in
                                [q.rstrip() for q in PROMPTS]), len(cl))
                    expected = cl[:nxt]
                for k in range(len(expected)):
                    got.append(self.next_console(where, f"line {k + 1} of the answer"))
                self.check_lines(where, got, lines[i - len(expected):i] if not SHOW else got)

    def is_input(self, line):
        return line.startswith("$ ") or (line.startswith(PROMPTS) or line == ">>>")

    def close(self):
        if self.state:
            subprocess.run(["simboard", "off", "--state", self.state], env=self.env(),
                           capture_output=True)
        for pid in self.pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for pid in self.pids:
            deadline = time.time() + 15
            while time.time() < deadline and alive(pid):
                time.sleep(0.05)
        self.shell.stdin.close()
        self.shell.wait(10)
        self.shell.stdout.close()


def sweep(text):
    """Stop the processes this test started that are still running: those whose command line
    names its own temporary folder."""
    pids = [pid for pid, _ in running_with(text)]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.time() + 10
        while time.time() < deadline and any(alive(p) for p in pids):
            time.sleep(0.05)


class GuideTest(unittest.TestCase):
    def test_guide(self):
        tmp = tempfile.mkdtemp(prefix="guide-")
        g = Guide(tmp)
        blocks = parse(GUIDE)
        self.assertGreater(len(blocks), 0)
        try:
            for start, term, lines in blocks:
                g.run_block(start, term, lines)
        finally:
            g.close()
            left = running_with(tmp)
            sweep(tmp)   # whatever a failed step left (a board started but never told off)
            if SHOW:
                print("guide: kept " + tmp)
            else:
                shutil.rmtree(tmp, ignore_errors=True)
        self.assertEqual(left, [], "the guide's programs stopped")
        # collected by `make check` with the other tests' figures
        print(f"\nfigures: guide blocks={len(blocks)} commands={g.steps} mismatches=0 "
              f"left_running={len(left)}")


if __name__ == "__main__":
    unittest.main(argv=[a for a in sys.argv if a != "--show"])
