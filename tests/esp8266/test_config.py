#!/usr/bin/env python3
"""esp8266.config: `make esp8266 CONFIG=path/to/config.py` through scripts/esp8266-fs.sh.

A config.py the board would accept becomes a file-system image for the ESP8266's flash
region holding exactly that file, with the region's address for esptool; one the board would
refuse (a bad pin, a syntax error, over the size limit) is refused with the board's own
message, "config.py:LINE: what is wrong", and no image. Needs only the host's C compiler: the
reader is firmware/app/config.c built for the host, the image is made by firmware/fs.
"""
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "scripts", "esp8266-fs.sh")
GOOD = ('WIFI_SSID = "home"\nWIFI_PASSWORD = "secret-pw"\n'
        'WEBHOOK_URL = "http://hooks.example/trigger/press/with/key/k"\nBUTTON_ID = "door"\n')

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def run(tmp, name, text):
    path = os.path.join(tmp, name)
    with open(path, "wb") as f:
        f.write(text.encode() if isinstance(text, str) else text)
    out = os.path.join(tmp, "out-" + name)
    return subprocess.run(["bash", SCRIPT, out, path], capture_output=True, text=True), out


def main():
    esp_h = open(os.path.join(ROOT, "firmware", "ports", "esp8266", "esp.h")).read()
    addr = int(re.search(r"#define ESP_FS_ADDR (0x[0-9A-Fa-f]+)u", esp_h).group(1), 16)
    size = int(re.search(r"#define ESP_FS_SIZE (0x[0-9A-Fa-f]+)u", esp_h).group(1), 16)
    check(0x10000 + 0x5C000 <= addr and addr + size <= 0x3FB000,
          f"the region {addr:#x}+{size:#x} clears 0x10000.bin's most and the SDK's sectors at 0x3FB000")
    with tempfile.TemporaryDirectory() as tmp:
        r, out = run(tmp, "good.py", GOOD)
        check(r.returncode == 0, f"a good config.py is accepted ({r.stderr.strip()[-200:]!r})")
        check(r.stdout.strip() == f"{addr:#x} {out}/fs.bin",
              f"it prints the region's address and the image ({r.stdout.strip()!r})")
        fs = os.path.join(out, "fs.bin")
        check(os.path.getsize(fs) == size, f"fs.bin is the region's {size} bytes")
        tool = os.path.join(out, "host", "bhfs-mkimage")
        back = os.path.join(tmp, "back")
        x = subprocess.run([tool, "--extract", fs, back], capture_output=True, text=True)
        check(x.returncode == 0 and os.listdir(back) == ["config.py"],
              f"the image holds config.py alone ({os.listdir(back) if os.path.isdir(back) else x.stderr!r})")
        check(open(os.path.join(back, "config.py")).read() == GOOD, "and its bytes are the file's")

        for name, text, want in [
            ("pin.py", GOOD + "LED_PIN = 7\n", r"^config\.py:5: LED_PIN = 7 is not a usable GPIO"),
            ("syntax.py", GOOD.replace('"door"', '"door'), r"^config\.py:4: "),
            ("missing.py", GOOD.replace('BUTTON_ID = "door"\n', ""), r"^config\.py(:\d+)?: .*BUTTON_ID"),
            ("big.py", GOOD + "# " + "x" * 1600 + "\n", r"^config\.py: \d+ bytes, over the 1536-byte limit"),
        ]:
            r, out = run(tmp, name, text)
            first = r.stderr.strip().splitlines()[0] if r.stderr.strip() else ""
            check(r.returncode == 1 and re.search(want, first) is not None
                  and not os.path.exists(os.path.join(out, "fs.bin")),
                  f"{name} refused with the board's message, no image ({first!r})")
    print(f"{len(failures)} failed" if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
