#!/usr/bin/env python3
"""mps2board: the firmware on an emulated bare-metal board (QEMU's mps2-an385, Cortex-M3,
LAN9118 Ethernet, lwIP), driven like the simulated board.

A wake is one QEMU run. This script plays the world around the chip: it powers the board,
sees it ask for deep sleep (QEMU exits with status 3 and the board wrote the file `sleep`),
and on a press boots it again as a deep-sleep wake. What survives deep sleep on the chip
survives here, in the state folder: RTC memory (`rtc.bin`, 492 bytes) and flash (`flash.bin`);
RAM does not. docs/ports.md tells the whole story.

    mps2board.py flash  --state DIR FOLDER     write FOLDER's files (config.py, ...) to flash
    mps2board.py power  --state DIR [options]  power on: the first boot
    mps2board.py press  --state DIR            press RESET while it sleeps: a deep-sleep wake
    mps2board.py press  --state DIR --double   ... and again once that wake printed
                        [--cut-at TEXT]        TEXT (default "Connecting to WiFi..."): the
                                               first run is cut, a HARD_RESET wake follows
    mps2board.py press  --state DIR --hold S   the button, also wired to --button-gpio, held
                                               S seconds: that GPIO reads 0 until then
    mps2board.py timer  --state DIR            the timed wake the board asked for
    mps2board.py jumper on|off --state DIR     the D5 debug jumper (for the next boots)
    mps2board.py state  --state DIR            what the board is doing, as JSON

power's options (kept for the next wakes): --elf FILE (default build/mps2/bh_mps2.elf),
--net user|none (none: a cable to a switch with nothing else on it), --dns IP:PORT (a DNS
server instead of the one DHCP names, reached from the board: 10.0.2.2 is the host),
--awake S (the longest a wake may take before the run is cut off; default 60),
--button-gpio N (the RESET button also wired to GPIO N, for press --hold; docs/press-kinds.md).

Every wake's serial output goes to DIR/wake-N.log (and is printed), its Ethernet frames to
DIR/wake-N.pcap; DIR/serial.log has all of them.
"""
import argparse
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT_ELF = os.path.join(ROOT, "build", "mps2", "bh_mps2.elf")
FLASH_SIZE = 256 * 1024
FLASH_SECTOR = 4096

# hal_reset_cause_t (firmware/hal/hal.h)
PWRON, WDT, EXCEPTION, SOFT_WDT, SOFT, DEEPSLEEP, HARD = 0, 1, 2, 3, 4, 5, 6
# QEMU's exit status for each way a wake ends (firmware/ports/mps2/mps2.h)
EXIT = {2: "crash", 3: "sleep", 4: "reset", 5: "watchdog", 6: "bad boot parameters"}
# the next boot's cause after a wake that did not end in deep sleep
NEXT_CAUSE = {"crash": EXCEPTION, "reset": SOFT, "watchdog": SOFT_WDT}
MAX_CHAIN = 4   # reboots in a row without sleeping before the harness gives up (a crash loop)

LED_RE = re.compile(r"^\[board\] (\d+) GPIO(\d+) -> (\d)")
SLEEP_RE = re.compile(r"^\[board\] (\d+) deep sleep (\d+) ms")


class Wake:
    """What one QEMU run did."""

    def __init__(self, n, cause, status, how, log, pcap, wall_s):
        self.n, self.cause, self.status, self.how = n, cause, status, how
        self.log, self.pcap, self.wall_s = log, pcap, wall_s
        self.lines = log.splitlines()
        self.leds = [(int(m.group(1)), int(m.group(2)), int(m.group(3)))
                     for m in map(LED_RE.match, self.lines) if m]
        m = next((m for m in map(SLEEP_RE.match, self.lines) if m), None)
        self.sleep_ms = int(m.group(2)) if m else None
        self.awake_ms = int(m.group(1)) if m else None   # the board's own clock at sleep

    def __repr__(self):
        return "<wake %d cause=%d %s>" % (self.n, self.cause, self.how)


class Board:
    def __init__(self, state, elf=None, net=None, dns=None, awake=None, button_gpio=None,
                 qemu="qemu-system-arm"):
        self.state = os.path.abspath(state)
        os.makedirs(self.state, exist_ok=True)
        self.qemu = qemu
        self.s = self._load()
        for k, v in (("elf", elf), ("net", net), ("dns", dns), ("awake", awake),
                     ("button_gpio", button_gpio)):
            if v is not None:
                self.s[k] = v
        self.s.setdefault("elf", DEFAULT_ELF)
        self.s["elf"] = os.path.abspath(self.s["elf"])
        self.s.setdefault("net", "user")
        self.s.setdefault("dns", None)
        self.s.setdefault("awake", 60)
        self.s.setdefault("button_gpio", None)
        self._save()

    # -- the state folder ---------------------------------------------------------------------

    def path(self, name):
        return os.path.join(self.state, name)

    def _load(self):
        try:
            with open(self.path("board.json")) as f:
                return json.load(f)
        except FileNotFoundError:
            return {"jumper": False, "wakes": 0, "asleep": False, "sleep_ms": None,
                    "asleep_since": None, "last": None, "mac": "02:00:00:b7:00:01"}

    def _save(self):
        tmp = self.path("board.json.tmp")
        with open(tmp, "w") as f:
            json.dump(self.s, f, indent=1)
        os.replace(tmp, self.path("board.json"))

    def flash_folder(self, folder, tool):
        """Builds flash.bin from a folder's files with the project's image tool."""
        out = self.path("flash.bin")
        if not os.path.exists(tool):
            raise RuntimeError("no flash image tool at %s (make builds bhfs-mkimage; or --tool)"
                               % tool)
        subprocess.run([tool, "--size", str(FLASH_SIZE), "--sector", str(FLASH_SECTOR),
                        "-o", out, folder], check=True)

    def set_jumper(self, on):
        self.s["jumper"] = bool(on)
        self._save()

    def state_json(self):
        s = dict(self.s)
        s["state"] = "sleeping" if s["asleep"] else "off"
        return s

    # -- wakes --------------------------------------------------------------------------------

    def power(self, typed=None):
        """Power on: RTC memory is lost (flash stays). typed: console input for the wake."""
        try:
            os.remove(self.path("rtc.bin"))
        except FileNotFoundError:
            pass
        return self._run(PWRON, None, typed)

    def press(self, typed=None, hold_ms=None):
        """RESET pressed while the board sleeps: a deep-sleep wake, told how long it slept.
        hold_ms: the button held that long, read on the board's button GPIO (a long press)."""
        if not self.s["asleep"]:
            raise RuntimeError("the board is not asleep: power it on first")
        hold = None
        if hold_ms is not None:
            if self.s["button_gpio"] is None:
                raise RuntimeError("the board's button is wired to RST only: power it on with "
                                   "--button-gpio N to hold it (docs/press-kinds.md)")
            hold = "hold=%d:%d" % (self.s["button_gpio"], hold_ms)
        return self._run(DEEPSLEEP, self._slept(), typed, hold)

    def press_double(self, cut_at="Connecting to WiFi..."):
        """RESET pressed while the board sleeps, and again once that wake printed cut_at: the
        chip restarts there (QEMU's run is ended; RTC memory and flash are written through,
        so they hold what the wake had kept), and the next wake is a HARD_RESET. A wake that
        ends before it prints cut_at is not cut: the second press is then an ordinary one."""
        if not self.s["asleep"]:
            raise RuntimeError("the board is not asleep: power it on first")
        first = self._one(DEEPSLEEP, self._slept(), cut_at=cut_at)
        if first.how != "cut":
            return [first] + self.press()
        return [first] + self._run(HARD, None)

    def timer(self):
        """The timed wake the board asked for when it went to sleep."""
        if not self.s["asleep"] or not self.s["sleep_ms"]:
            raise RuntimeError("the board did not ask for a timed wake")
        return self._run(DEEPSLEEP, self._slept())

    def _slept(self):
        return int((time.time() - self.s["asleep_since"]) * 1000)

    def _run(self, cause, slept_ms, typed=None, extra=None):
        wakes = []
        for _ in range(MAX_CHAIN):
            w = self._one(cause, slept_ms, typed, extra=extra)
            typed = extra = None
            wakes.append(w)
            nxt = NEXT_CAUSE.get(w.how)
            if nxt is None:
                break
            cause, slept_ms = nxt, None
        return wakes

    def qemu_cmd(self, cause, slept_ms, n, extra=None):
        args = ["bh", "cause=%d" % cause, "mac=" + self.s["mac"],
                "seed=" + os.urandom(16).hex(), "jumper=%d" % self.s["jumper"]]
        if extra:
            args.append(extra)
        if slept_ms is not None:
            args.append("slept_ms=%d" % slept_ms)
        if self.s["dns"]:
            args.append("dns=" + self.s["dns"])
        cmd = [self.qemu, "-M", "mps2-an385", "-nographic", "-monitor", "none",
               "-serial", "stdio", "-semihosting-config",
               "enable=on,target=native," + ",".join("arg=" + a for a in args)]
        if self.s["net"] == "none":
            cmd += ["-nic", "none"]
        else:
            cmd += ["-netdev", "user,id=net0", "-net", "nic,netdev=net0",
                    "-object", "filter-dump,id=dump0,netdev=net0,file=wake-%d.pcap" % n]
        return cmd + ["-kernel", os.path.abspath(self.s["elf"])]

    def _one(self, cause, slept_ms, typed=None, extra=None, cut_at=None):
        if not os.path.exists(self.s["elf"]):
            raise RuntimeError("no firmware image %s (make mps2 builds it)" % self.s["elf"])
        self.s["wakes"] += 1
        n = self.s["wakes"]
        try:
            os.remove(self.path("sleep"))
        except FileNotFoundError:
            pass
        cmd = self.qemu_cmd(cause, slept_ms, n, extra)
        t0 = time.time()
        # the console's input, typed on the serial port (the UART takes it as it reads)
        p = subprocess.Popen(cmd, cwd=self.state, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT,
                             stdin=subprocess.PIPE if typed else subprocess.DEVNULL)
        cut = False
        if cut_at:
            # read as the board prints, and end the run (RESET pressed) at cut_at
            expired = threading.Event()
            timer = threading.Timer(self.s["awake"], lambda: (expired.set(), p.kill()))
            timer.start()
            out = b""
            for line in iter(p.stdout.readline, b""):
                out += line
                if cut_at.encode() in line:
                    p.kill()
                    cut = True
                    break
            out += p.communicate()[0]
            timer.cancel()
            status = None if cut or expired.is_set() else p.returncode
        else:
            try:
                out, _ = p.communicate(typed.encode() if typed else None,
                                       timeout=self.s["awake"])
                status = p.returncode
            except subprocess.TimeoutExpired:
                p.kill()
                out, _ = p.communicate()
                status = None
        wall = time.time() - t0
        log = out.decode("utf-8", "replace").replace("\r\n", "\n")
        if cut:
            how = "cut"
        elif status is None:
            how = "awake" if self.s["jumper"] else "hung"
        else:
            how = EXIT.get(status, "exit %d" % status)
        with open(self.path("wake-%d.log" % n), "w") as f:
            f.write(log)
        with open(self.path("serial.log"), "a") as f:
            f.write("=== wake %d (cause %d): %s after %.1f s\n" % (n, cause, how, wall))
            f.write(log)
        w = Wake(n, cause, status, how, log, self.path("wake-%d.pcap" % n), wall)
        self.s["asleep"] = how == "sleep"
        self.s["sleep_ms"] = w.sleep_ms
        self.s["asleep_since"] = time.time() if how == "sleep" else None
        self.s["last"] = how
        self._save()
        return w


# -- reading a wake's frames (pcap, as QEMU's filter-dump writes them) --------------------------

def pcap_frames(path):
    """The Ethernet frames of a wake, in order."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return []
    if len(data) < 24:
        return []
    endian = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
    off, frames = 24, []
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        frames.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return frames


def udp_packets(frames):
    """(src port, dst port, payload) of each IPv4 UDP packet among the frames."""
    out = []
    for f in frames:
        if len(f) < 42 or f[12:14] != b"\x08\x00" or f[23] != 17:
            continue
        ihl = (f[14] & 0x0F) * 4
        u = 14 + ihl
        sport, dport = struct.unpack(">HH", f[u:u + 4])
        out.append((sport, dport, f[u + 8:]))
    return out


def dhcp_messages(frames):
    """The DHCP messages on the wire (either direction)."""
    return [p for s, d, p in udp_packets(frames) if {s, d} == {67, 68}]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("cmd", choices=["flash", "power", "press", "timer", "jumper", "state"])
    ap.add_argument("arg", nargs="?")
    ap.add_argument("--state", required=True)
    ap.add_argument("--elf")
    ap.add_argument("--net", choices=["user", "none"])
    ap.add_argument("--dns")
    ap.add_argument("--awake", type=int)
    ap.add_argument("--button-gpio", type=int)
    ap.add_argument("--double", action="store_true")
    ap.add_argument("--cut-at", default="Connecting to WiFi...")
    ap.add_argument("--hold", type=float, help="press: seconds the button is held")
    ap.add_argument("--type", help="console input for the wake, e.g. 'wlan sta ifconfig\\n'")
    ap.add_argument("--tool", default=os.environ.get("BHFS_TOOL") or shutil.which("bhfs-mkimage")
                    or os.path.join(ROOT, "build", "main", "firmware", "bhfs-mkimage"))
    a = ap.parse_intermixed_args()
    b = Board(a.state, elf=a.elf, net=a.net, dns=a.dns, awake=a.awake, button_gpio=a.button_gpio)
    if (a.double or a.hold is not None) and a.cmd != "press":
        ap.error("--double and --hold are for press")
    if a.double and a.hold is not None:
        ap.error("press --double or --hold, not both")
    if a.cmd == "flash":
        if not a.arg:
            ap.error("flash: give the folder whose files go to flash")
        try:
            b.flash_folder(a.arg, a.tool)
        except (RuntimeError, subprocess.CalledProcessError) as e:
            print("mps2board: %s" % e, file=sys.stderr)
            return 1
        print("flash.bin written from %s" % a.arg)
        return 0
    if a.cmd == "jumper":
        if a.arg not in ("on", "off"):
            ap.error("jumper: on or off")
        b.set_jumper(a.arg == "on")
        return 0
    if a.cmd == "state":
        print(json.dumps(b.state_json(), indent=1))
        return 0
    try:
        typed = a.type.encode().decode("unicode_escape") if a.type else None
        if a.cmd == "press" and a.double:
            wakes = b.press_double(a.cut_at)
        elif a.cmd == "press" and a.hold is not None:
            wakes = b.press(typed, hold_ms=int(a.hold * 1000))
        else:
            wakes = (b.timer() if a.cmd == "timer" else
                     {"power": b.power, "press": b.press}[a.cmd](typed))
    except RuntimeError as e:
        print("mps2board: %s" % e, file=sys.stderr)
        return 1
    for w in wakes:
        sys.stdout.write(w.log)
        print("mps2board: wake %d: %s after %.1f s%s" % (
            w.n, w.how, w.wall_s,
            "" if w.sleep_ms is None else " (sleep %s)" % (
                "until RESET" if w.sleep_ms == 0 else "%d ms" % w.sleep_ms)))
    return 0 if wakes[-1].how in ("sleep", "awake") else 1


if __name__ == "__main__":
    sys.exit(main())
