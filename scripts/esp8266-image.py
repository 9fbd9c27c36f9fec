#!/usr/bin/env python3
"""The ESP8266's v1 flash image, written and read back without esptool (docs/esp8266.md).

  esp8266-image.py write ELF OUT      OUT/0x00000.bin (the RAM segments the ROM loads) and
                                      OUT/0x10000.bin (.irom0.text, mapped at 0x40210000)
  esp8266-image.py check IMAGE        parses 0x00000.bin back; prints its header and segments;
                                      exit 1 naming what is wrong
  esp8266-image.py budget ELF MAP     the RAM budgets from the ELF and its link map, the
                                      project's DRAM module by module; exit 1 when one is
                                      exceeded or a symbol is left undefined

The v1 format, as the ESP8266's ROM loader reads it: a header of 8 bytes (magic 0xE9, the
segment count, the flash mode, the flash size and frequency, the 32-bit entry point), then
each segment as its load address, its length (a multiple of 4) and its bytes; zero bytes up
to the last byte of a 16-byte block, which holds the checksum: 0xEF XORed with every byte of
every segment's data. Little-endian throughout.
"""
import os
import re
import struct
import subprocess
import sys

MAGIC = 0xE9
CHECKSUM_SEED = 0xEF
FLASH_MODE_DIO = 2            # what NodeMCU boards use; esptool's --flash_mode rewrites it
FLASH_SIZE_4MB_40MHZ = 0x40   # high nibble: size (4 = 4 MB), low nibble: 40 MHz
IROM_BASE = 0x40200000        # flash offset 0 as the cache maps it
IROM_FILE = 0x10000           # where 0x10000.bin goes, so .irom0.text starts at 0x40210000
# the chip's RAMs the ROM loader can fill
REGIONS = {"IRAM": (0x40100000, 0x40108000), "DRAM": (0x3FFE8000, 0x3FFFC000)}


def fail(msg):
    print(f"esp8266-image: {msg}", file=sys.stderr)
    sys.exit(1)


def elf_sections(path):
    """(name, type, flags, addr, data) of each section of a 32-bit little-endian ELF"""
    with open(path, "rb") as f:
        elf = f.read()
    if elf[:4] != b"\x7fELF" or elf[4] != 1 or elf[5] != 1:
        fail(f"{path}: not a 32-bit little-endian ELF file")
    entry, = struct.unpack_from("<I", elf, 24)
    shoff, = struct.unpack_from("<I", elf, 32)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 46)
    heads = [struct.unpack_from("<IIIIIIIIII", elf, shoff + i * shentsize) for i in range(shnum)]
    strtab = heads[shstrndx]
    out = []
    for name, typ, flags, addr, off, size, *_ in heads:
        n = elf[strtab[4] + name:elf.index(b"\0", strtab[4] + name)].decode()
        out.append((n, typ, flags, addr, elf[off:off + size] if typ != 8 else b"\0" * size))
    return entry, out


def region_of(addr, size):
    for name, (lo, hi) in REGIONS.items():
        if lo <= addr and addr + size <= hi:
            return name
    return None


def write(elf_path, out):
    entry, sections = elf_sections(elf_path)
    SHT_PROGBITS, SHF_ALLOC = 1, 2
    segs, irom = [], None
    for name, typ, flags, addr, data in sections:
        if typ != SHT_PROGBITS or not flags & SHF_ALLOC or not data:
            continue
        if name == ".irom0.text":
            irom = (addr, data)
        elif IROM_BASE <= addr < IROM_BASE + 0x100000:
            fail(f"{elf_path}: section {name} at {addr:#x} is in flash but not .irom0.text")
        else:
            if not region_of(addr, len(data)):
                fail(f"{elf_path}: section {name} at {addr:#x} ({len(data)} bytes) is outside IRAM and DRAM")
            segs.append((addr, data + b"\0" * (-len(data) % 4), name))
    if irom is None or irom[0] != IROM_BASE + IROM_FILE:
        fail(f"{elf_path}: no .irom0.text at {IROM_BASE + IROM_FILE:#x}")
    img = bytearray(struct.pack("<BBBBI", MAGIC, len(segs), FLASH_MODE_DIO, FLASH_SIZE_4MB_40MHZ, entry))
    csum = CHECKSUM_SEED
    for addr, data, _ in segs:
        img += struct.pack("<II", addr, len(data)) + data
        for b in data:
            csum ^= b
    img += b"\0" * (15 - len(img) % 16)
    img.append(csum)
    with open(os.path.join(out, "0x00000.bin"), "wb") as f:
        f.write(img)
    with open(os.path.join(out, "0x10000.bin"), "wb") as f:
        f.write(irom[1])
    print(f"esp8266 image {out}: entry {entry:#010x}")
    for addr, data, name in segs:
        print(f"  0x00000.bin segment {name:8} at {addr:#010x}: {len(data)} B")
    print(f"  0x10000.bin .irom0.text at {irom[0]:#010x}: {len(irom[1])} B")


def parse(image):
    """(header, segments, problems) of a v1 image"""
    problems = []
    if len(image) < 8:
        return None, [], ["shorter than its 8-byte header"]
    magic, count, mode, size_freq, entry = struct.unpack_from("<BBBBI", image, 0)
    if magic != MAGIC:
        problems.append(f"magic {magic:#04x}, not {MAGIC:#04x}")
    segs, off, csum = [], 8, CHECKSUM_SEED
    for i in range(count):
        if off + 8 > len(image):
            problems.append(f"segment {i}: header past the end of the file")
            break
        addr, length = struct.unpack_from("<II", image, off)
        off += 8
        if off + length > len(image):
            problems.append(f"segment {i}: {length} bytes at {addr:#x} past the end of the file")
            break
        if length % 4:
            problems.append(f"segment {i}: length {length} not a multiple of 4")
        if not region_of(addr, length):
            problems.append(f"segment {i}: {length} bytes at {addr:#x} outside the chip's IRAM and DRAM")
        for b in image[off:off + length]:
            csum ^= b
        segs.append((addr, length))
        off += length
    end = off + 15 - off % 16
    if not problems:
        if len(image) != end + 1:
            problems.append(f"file is {len(image)} bytes, {end + 1} expected (16-byte blocks, checksum last)")
        elif image[end] != csum:
            problems.append(f"checksum {image[end]:#04x}, the segments give {csum:#04x}")
        elif any(image[off:end]):
            problems.append("padding before the checksum is not zero")
    return (magic, count, mode, size_freq, entry), segs, problems


def check(path):
    with open(path, "rb") as f:
        image = f.read()
    head, segs, problems = parse(image)
    if head:
        print(f"{path}: magic {head[0]:#04x}, {head[1]} segments, flash mode {head[2]}, "
              f"size/freq {head[3]:#04x}, entry {head[4]:#010x}")
    for addr, length in segs:
        print(f"  segment at {addr:#010x} ({region_of(addr, length) or 'outside RAM'}): {length} B")
    for p in problems:
        print(f"{path}: {p}", file=sys.stderr)
    return 1 if problems else 0


IRAM_BUDGET = 32 * 1024           # the chip's whole IRAM: the SDK's share and ours
OWN_RAM_BUDGET = 16 * 1024        # the project's data + rodata in DRAM + bss, all modules
HEAP_END = REGIONS["DRAM"][1]     # the SDK's heap runs from _heap_start to the end of DRAM
FLASH_MAP = (IROM_BASE, IROM_BASE + 0x100000)   # the window the cache maps flash into


def map_inputs(map_path):
    """(section, addr, size, file) of every input section the link map places"""
    lines = open(map_path).read().split("\n")
    try:
        start = lines.index("Linker script and memory map")
    except ValueError:
        fail(f"{map_path}: not a GNU ld map file")
    pending = None
    for line in lines[start:]:
        m = re.match(r"^ (\.\S+|COMMON)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+)$", line)
        if m:
            yield m.group(1), int(m.group(2), 16), int(m.group(3), 16), m.group(4)
            pending = None
            continue
        m = re.match(r"^ (\.\S+|COMMON)$", line)   # a long name: the rest on the next line
        if m:
            pending = m.group(1)
            continue
        m = re.match(r"^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+)$", line)
        if m and pending:
            yield pending, int(m.group(1), 16), int(m.group(2), 16), m.group(3)
        pending = None

# The project's modules, told apart by the object names scripts/esp8266-build.sh gives them
# (firmware/DIR/x.c becomes DIR_x.o in libbh_esp.a): the button firmware (hal, net, app, fs,
# ports/lwip, ports/esp8266 and the veneers), and the optional components, each on its own
# line as in scripts/cross-size.sh. The image links all three (the set-up page runs at
# power-on without config.py or with the jumper in, docs/portal.md): one missing is a fault.
MODULES = [
    ("button", "the button firmware (hal, net, app, fs, ports/lwip, ports/esp8266)"),
    ("console", "the console and WebREPL (firmware/console)"),
    ("portal", "the set-up portal (firmware/portal)"),
]


def module_of(obj):
    for prefix in ("console", "portal"):
        if obj.startswith(prefix + "_"):
            return prefix
    return "button"


def own_ram(map_path):
    """{module: [data, rodata in DRAM, bss, rodata in flash, objects]} from the link map"""
    own = {m: [0, 0, 0, 0, set()] for m, _ in MODULES}
    for name, addr, size, path in map_inputs(map_path):
        m = re.search(r"libbh_esp\.a\((\w+)\.o\)$", path)
        if not size or not (m or path.endswith("veneers.o")):
            continue
        mod = own[module_of(m.group(1) if m else "veneers")]
        mod[4].add(m.group(1) if m else "veneers")
        rodata = name.startswith(".rodata")
        if region_of(addr, size) == "DRAM":
            mod[2 if name.startswith(".bss") or name == "COMMON" else 1 if rodata else 0] += size
        elif rodata and FLASH_MAP[0] <= addr < FLASH_MAP[1]:
            mod[3] += size
    return own


def budget(elf_path, map_path):
    _, sections = elf_sections(elf_path)
    iram = sum(len(d) for n, t, f, a, d in sections if f & 2 and region_of(a, len(d)) == "IRAM")
    own = own_ram(map_path)
    nm = subprocess.run(["xtensa-lx106-elf-nm", elf_path], capture_output=True, text=True, check=True).stdout
    heap = re.search(r"^([0-9a-f]+) . _heap_start$", nm, re.M)
    undefined = [l.split()[-1] for l in nm.splitlines() if l.split()[-2:-1] == ["U"]]
    bad = []
    print(f"IRAM: {iram} B of {IRAM_BUDGET}")
    if iram > IRAM_BUDGET:
        bad.append("IRAM over its 32 KB")
    # rodata in flash costs no RAM: byte loads from it trap and the port completes them
    # (ports/esp8266/loadfix.c); it is printed so that a move back to DRAM shows
    total = 0
    for mod, what in MODULES:
        data, rodata, bss, flash, objs = own[mod]
        if not objs:
            print(f"the project's own DRAM, {what}: not in this image")
            bad.append(f"{what}: not in the image (no {mod}_*.o in the link map)")
            continue
        total += data + rodata + bss
        print(f"the project's own DRAM, {what}: {data + rodata + bss} B (data {data} + rodata "
              f"{rodata} + bss {bss}; rodata in flash {flash})")
    print(f"the project's own DRAM, total: {total} B (budget {OWN_RAM_BUDGET})")
    if total > OWN_RAM_BUDGET:
        bad.append("the project's data + rodata in DRAM + bss over 16 KB")
    if not heap:
        bad.append("no _heap_start in the ELF")
    else:
        start = int(heap.group(1), 16)
        print(f"heap at user_init, at most: {HEAP_END - start} B (_heap_start {start:#x} to "
              f"{HEAP_END:#x}), less what the SDK allocates before user_init (not measurable here)")
    print(f"undefined symbols: {len(undefined)}" + (f" ({' '.join(undefined)})" if undefined else ""))
    if undefined:
        bad.append("undefined symbols")
    for p in bad:
        print(f"esp8266 budget: FAIL: {p}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "write":
        write(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "budget":
        sys.exit(budget(sys.argv[2], sys.argv[3]))
    elif len(sys.argv) == 3 and sys.argv[1] == "check":
        sys.exit(check(sys.argv[2]))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
