#!/usr/bin/env python3
"""esp8266.image: the flashable ESP8266 image that scripts/esp8266-build.sh wrote, read back.

What a user flashing it depends on: the ROM loader's header (magic, segment count, entry),
segments only in the chip's IRAM and DRAM, a checksum the ROM accepts, the entry point the
linker chose (call_user_start1 per nm), the segments being the program's own bytes, the
project's code and read-only data in flash (0x10000.bin) rather than RAM, the handler that
completes byte loads from that flash in IRAM and installed first, and the budgets. A damaged
image must be refused by the same reader. Nothing here runs the image: no emulator boots an
ESP8266, and QEMU's lx106 does not trap byte loads from flash as the chip does.

ESP8266_BUILD: the folder scripts/esp8266-build.sh built (its SKIPPED file, when present,
says why nothing was built: the test then exits 77, which CTest reports as skipped).
"""
import importlib.util
import os
import re
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.path.join(ROOT, "scripts", "esp8266-image.py")
BUILD = os.environ.get("ESP8266_BUILD", os.path.join(ROOT, "build", "esp8266"))
BUILD_SCRIPT = os.path.join(ROOT, "scripts", "esp8266-build.sh")

spec = importlib.util.spec_from_file_location("esp8266_image", TOOL)
img = importlib.util.module_from_spec(spec)
spec.loader.exec_module(img)

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def main():
    skipped = os.path.join(BUILD, "SKIPPED")
    if os.path.exists(skipped):
        print("skipped: " + open(skipped).read().strip())
        return 77
    elf = os.path.join(BUILD, "buttonhook.elf")
    if not os.path.exists(elf):
        print(f"no {elf}: run scripts/esp8266-build.sh {BUILD} first (make check does)")
        return 1
    boot = open(os.path.join(BUILD, "0x00000.bin"), "rb").read()
    irom = open(os.path.join(BUILD, "0x10000.bin"), "rb").read()
    syms = {}
    for line in subprocess.run(["xtensa-lx106-elf-nm", elf], capture_output=True, text=True,
                               check=True).stdout.splitlines():
        parts = line.split()
        if len(parts) == 3:
            syms[parts[2]] = int(parts[0], 16)

    head, segs, problems = img.parse(boot)
    check(not problems, "0x00000.bin parses with no problem" + (f": {problems}" if problems else ""))
    check(head[0] == 0xE9, f"magic 0xE9 (got {head[0]:#04x})")
    check(head[1] == len(segs) >= 2, f"segment count {head[1]} matches the segments read")
    check(all(img.region_of(a, n) for a, n in segs), "every segment inside IRAM or DRAM")
    check(head[4] == syms.get("call_user_start1"),
          f"entry {head[4]:#x} is call_user_start1 ({syms.get('call_user_start1', 0):#x} per nm)")
    csum, off = 0xEF, 8
    for addr, length in segs:   # computed here too, not only by the tool under test
        for b in boot[off + 8:off + 8 + length]:
            csum ^= b
        off += 8 + length
    check(boot[-1] == csum, f"checksum byte {boot[-1]:#04x} is 0xEF XOR the segments' bytes ({csum:#04x})")
    check(len(boot) % 16 == 0, f"0x00000.bin is whole 16-byte blocks ({len(boot)} bytes)")

    # the segments are the ELF's own bytes, and 0x10000.bin its .irom0.text
    entry, sections = img.elf_sections(elf)
    by_addr = {a: d for n, t, f, a, d in sections if t == 1 and f & 2 and d}
    off = 8
    for addr, length in segs:
        data = boot[off + 8:off + 8 + length]
        want = by_addr.get(addr, b"")
        check(data[:len(want)] == want and len(want) <= length,
              f"segment at {addr:#x} holds the ELF section at that address ({len(want)} B)")
        off += 8 + length
    text = [d for n, t, f, a, d in sections if n == ".irom0.text"]
    check(text and irom == text[0], f"0x10000.bin is .irom0.text ({len(irom)} B)")
    flash = range(0x40210000, 0x40210000 + len(irom))
    for name in ("user_init", "app_main", "hal_tcp_connect", "fs_mount", "snprintf"):
        check(syms.get(name) in flash, f"{name} is in flash (0x10000.bin), not IRAM")
    check(0x40100000 <= syms.get("ets_post", 0) < 0x40108000,
          "ets_post (called from interrupts) is in IRAM")

    # from the link map: the project's read-only data in flash (it costs no RAM there), but
    # for the files whose code runs in IRAM (KEEP_RODATA in the build script: the interrupt
    # path and the handler itself); nobody else's read-only data in flash; in IRAM only what
    # the port marked for it
    keep = re.search(r'^KEEP_RODATA="([^"]*)"', open(BUILD_SCRIPT).read(), re.M)
    keep = set(o[:-2] for o in keep.group(1).split()) if keep else set()
    check({"esp_taskq", "esp_narrow", "esp_loadfix"} <= keep,
          f"the build keeps the IRAM files' read-only data in RAM ({sorted(keep)})")
    own_in_ram, kept_in_flash, others_in_flash, in_iram, own_in_flash = [], [], [], [], 0
    for name, addr, size, path in img.map_inputs(os.path.join(BUILD, "buttonhook.map")):
        if not size:
            continue
        m = re.search(r"libbh_esp\.a\((\w+)\.o\)$", path)
        if name.startswith(".rodata"):
            where = f"{name} of {os.path.basename(path)}"
            if addr in flash and not m:
                others_in_flash.append(where)
            elif addr in flash and m.group(1) in keep:
                kept_in_flash.append(where)
            elif addr in flash:
                own_in_flash += size
            elif m and m.group(1) not in keep and img.region_of(addr, size) == "DRAM":
                own_in_ram.append(where)
        if img.region_of(addr, size) == "IRAM" and ("libbh_esp.a" in path or "libc_bh.a" in path) \
                and not name.startswith(".iram"):
            in_iram.append(f"{name} of {os.path.basename(path)}")
    check(own_in_flash > 4096 and not own_in_ram,
          f"the project's read-only data in flash ({own_in_flash} B), none left in RAM ({own_in_ram[:3]})")
    check(not kept_in_flash, f"the IRAM files' read-only data in RAM ({kept_in_flash[:3]})")
    check(not others_in_flash, f"no other read-only data in flash ({others_in_flash[:3]})")
    check(not in_iram, f"the project's and the C library's code in IRAM only where marked ({in_iram[:3]})")

    # the handler that makes byte loads from that flash work: in IRAM, and installed by the
    # first call of user_pre_init (the SDK calls it before anything of the project's runs)
    for name in ("on_load_store_error", "esp_narrow_fix", "esp_narrow_decode", "esp_narrow_extract"):
        check(0x40100000 <= syms.get(name, 0) < 0x40108000, f"{name} (the cause-3 handler) is in IRAM")
    start = syms.get("user_pre_init", 0)
    dis = subprocess.run(["xtensa-lx106-elf-objdump", "-d", elf, f"--start-address={start:#x}",
                          f"--stop-address={start + 64:#x}"], capture_output=True, text=True).stdout
    # a long call (l32r of the address, callx0) or one the linker relaxed (call0 <name>)
    calls = [a or b for a, b in re.findall(r"<(\w+)>\)\s*\n[^\n]*callx0|call0\s+\w+ <(\w+)>", dis)]
    check(calls[:1] == ["esp_loadfix_install"],
          f"user_pre_init installs the handler first (calls {calls[:2]})")
    probe = syms.get("probe_word", 0)
    check(probe in flash, f"the boot's check of flash loads reads from flash (probe_word at {probe:#x})")

    # damaged images are refused, naming what is wrong
    with tempfile.TemporaryDirectory() as tmp:
        def refused(data, what, needle):
            path = os.path.join(tmp, "bad.bin")
            open(path, "wb").write(data)
            r = subprocess.run([sys.executable, TOOL, "check", path], capture_output=True, text=True)
            check(r.returncode == 1 and needle in r.stderr, f"{what} refused ({r.stderr.strip()!r})")
        flipped = bytearray(boot)
        flipped[8 + 8 + 3] ^= 0x01
        refused(bytes(flipped), "one bit flipped in a segment", "checksum")
        refused(b"\xe8" + boot[1:], "a wrong magic", "magic 0xe8")
        refused(boot[:len(boot) // 2], "a truncated image", "past the end")
        moved = bytearray(boot)
        struct.pack_into("<I", moved, 8, 0x3FF00000)
        refused(bytes(moved), "a segment outside RAM", "outside the chip's IRAM and DRAM")

    r = subprocess.run([sys.executable, TOOL, "budget", elf, os.path.join(BUILD, "buttonhook.map")],
                       capture_output=True, text=True)
    print(r.stdout + r.stderr, end="")
    check(r.returncode == 0, "the budgets: IRAM <= 32 KB, the project's DRAM <= 16 KB with every module "
          "in, no undefined symbols")
    fig = {l.split(":")[0]: l.split(":")[1].split()[0] for l in r.stdout.splitlines() if ":" in l}
    for mod in ("button firmware", "console and WebREPL", "set-up portal"):
        size = next((v for k, v in fig.items() if mod in k), None)
        check(size is not None and size.isdigit(),
              f"the {mod} is in the image, on a budget line of its own ({size} B)")
    # the set-up page runs at power-on (firmware/app/main.c calls app_setup): the port's start()
    # sets app_setup to portal_run, whose address is then a literal in the code (the link keeps
    # only what is referenced, --gc-sections)
    portal = syms.get("portal_run", 0)
    check(portal in flash and "app_setup" in syms and struct.pack("<I", portal) in irom,
          f"portal_run in flash ({portal:#x}), its address taken in the code for app_setup")
    total = fig.get("the project's own DRAM, total")
    print(f"figures: esp8266 IRAM {fig.get('IRAM')} B, project DRAM {total} B (button firmware "
          f"{fig.get(next((k for k in fig if 'button firmware' in k), ''))} B), "
          f"heap at user_init at most {fig.get('heap at user_init, at most')} B, "
          f"0x10000.bin {len(irom)} B")
    print(f"{len(failures)} failed" if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
