#!/usr/bin/env bash
# Builds the ESP8266 image (make esp8266): the portable firmware, the flash file system, the
# lwIP glue (firmware/ports/lwip: sockets and DNS over the SDK's lwIP 1.4 through
# firmware/ports/esp8266/lwip14_compat.h), the port (firmware/ports/esp8266) and Espressif's
# NONOS SDK libraries, linked into OUT/buttonhook.elf and written as a v1 image
# (OUT/0x00000.bin, OUT/0x10000.bin) by scripts/esp8266-image.py. Prints the sizes, the
# budgets (the project's data RAM module by module) and the esptool command that flashes it.
# The project's read-only data is placed in flash, where byte loads trap and the port's
# handler completes them (below; docs/esp8266.md).
#
#   scripts/esp8266-build.sh [OUT]      (default build/esp8266)
#   ESP8266_SDK=/path/to/ESP8266_NONOS_SDK   (default ../shared/esp8266-sdk beside the checkout)
#   CONFIG=path/to/config.py             (also a file-system image holding it, OUT/fs.bin)
#
# The SDK is never copied into the repository: its linker script is copied into OUT at build
# time and edited there (project code and the C library to flash), and its libraries are
# linked from where they are. When the SDK or the toolchain is missing it says what and how
# to get it, writes the reason to OUT/SKIPPED (the tests report themselves skipped with it)
# and exits 0; a build that fails is an error. Nothing built here has run on a chip
# (docs/esp8266.md).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$src/build/esp8266}
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out/SKIPPED"
SDK=${ESP8266_SDK:-$src/../shared/esp8266-sdk}

skip() {
  echo "esp8266: skipped: $*"
  echo "$*" > "$out/SKIPPED"
  exit 0
}

# config.py first: a file the board would refuse stops the build before anything is compiled
fs_line=
rm -f "$out/fs.bin"
if [ -n "${CONFIG:-}" ]; then
  fs=$(bash "$src/scripts/esp8266-fs.sh" "$out" "$CONFIG")
  fs_line=" ${fs}"
fi

CC=xtensa-lx106-elf-gcc
command -v $CC >/dev/null ||
  skip "$CC not found (apt-get install gcc-xtensa-lx106 picolibc-xtensa-lx106-elf)"
PICO=/usr/lib/xtensa-lx106-elf
[ -f "$PICO/lib/libc.a" ] && [ -f "$PICO/picolibc.specs" ] ||
  skip "picolibc for xtensa-lx106 not found in $PICO (apt-get install picolibc-xtensa-lx106-elf)"
if [ ! -f "$SDK/ld/eagle.app.v6.ld" ] || [ ! -f "$SDK/lib/libmain.a" ] || [ ! -f "$SDK/include/user_interface.h" ]; then
  skip "the ESP8266 NONOS SDK not found at ESP8266_SDK=$SDK (looked for ld/eagle.app.v6.ld, lib/libmain.a, include/user_interface.h). Get it with 'git clone --branch v3.0.6 https://github.com/espressif/ESP8266_NONOS_SDK' and give its folder as ESP8266_SDK=... (docs/esp8266.md)"
fi
SDK=$(cd "$SDK" && pwd)

obj=$out/obj
rm -rf "$obj"
mkdir -p "$obj"
base=(-mlongcalls -Os -g -ffunction-sections -fdata-sections -std=c11 -Wall -Wextra -Werror
      -DPICOLIBC_INTEGER_PRINTF_SCANF --specs="$PICO/picolibc.specs" -I"$src/firmware")
# the SDK's headers: system headers (they do not build warning-free), lwIP 1.4's first so
# that its arch/cc.h wins over ports/lwip's (which is for lwIP 2.1)
sdkinc=(-D__ets__ -DICACHE_FLASH -isystem "$SDK/third_party/include" -isystem "$SDK/include"
        -include "$src/firmware/ports/esp8266/lwip14_compat.h")
cc() { # cc SRC OBJ [extra flags]
  local c=$1 o=$2; shift 2
  $CC "${base[@]}" "$@" -c "$c" -o "$o"
}
portable=() glue=() port=()
# objects are named DIR_file.o: esp8266-image.py's budget tells the modules apart by it
# (console_*.o, portal_*.o, the rest the button firmware's)
for d in hal net app console portal; do
  for c in "$src"/firmware/$d/*.c; do o=$obj/${d}_$(basename "${c%.c}").o; cc "$c" "$o"; portable+=("$o"); done
done
for c in "$src"/firmware/fs/fs.c "$src"/firmware/fs/fs_hal.c; do
  o=$obj/fs_$(basename "${c%.c}").o; cc "$c" "$o"; portable+=("$o")
done
for f in common sock dns dns_msg; do
  o=$obj/lwip_$f.o; cc "$src/firmware/ports/lwip/$f.c" "$o" "${sdkinc[@]}"; glue+=("$o")
done
for f in main taskq board wifi wordio tls_none narrow loadfix loadprobe; do
  # the port's own files get the portable firmware's extra warnings (firmware/CMakeLists.txt)
  o=$obj/esp_$f.o; cc "$src/firmware/ports/esp8266/$f.c" "$o" "${sdkinc[@]}" -Wshadow \
    -Wstrict-prototypes -Wconversion -Wno-sign-conversion; port+=("$o")
done
veneers=$obj/veneers.o
cc "$src/firmware/ports/esp8266/veneers.c" "$veneers" -fno-builtin
rm -f "$out/libbh_esp.a"
xtensa-lx106-elf-ar rcs "$out/libbh_esp.a" "${portable[@]}" "${glue[@]}" "${port[@]}"

# picolibc, for flash: its calls to the ROM's functions renamed to the veneers, and its own
# copies of what the ROM has dropped (the ROM's are used: they cost no flash).
VENEERS="memset memcpy memmove memcmp strlen strcmp strncmp strcpy strncpy strstr __divsi3 __modsi3 __udivsi3 __umodsi3 __divdi3 __udivdi3 __umoddi3 __muldi3"
cp "$PICO/lib/libc.a" "$out/libc_bh.a"
chmod u+w "$out/libc_bh.a"
drop=$(xtensa-lx106-elf-ar t "$out/libc_bh.a" | grep -E '^libc_(machine_xtensa|string)_(memset|memcpy|memmove|memcmp|strlen|strcmp|strncmp|strcpy|strncpy|strstr)\.(S|c)\.o$' || true)
# shellcheck disable=SC2086
[ -z "$drop" ] || xtensa-lx106-elf-ar d "$out/libc_bh.a" $drop
redef=()
for s in $VENEERS; do redef+=(--redefine-sym "$s=bh_v_$s"); done
xtensa-lx106-elf-objcopy "${redef[@]}" "$out/libc_bh.a"

# The SDK's linker script, copied and edited: the project's archive and the C library go to
# flash (.irom0.text) with the SDK's own libraries, functions marked for IRAM (.iram.text)
# stay in IRAM, and the ROM's addresses are included from the SDK's folder.
# The project's read-only data goes to flash too (after its code in .irom0.text), not to
# the data RAM the SDK's script puts .rodata in: flash answers only 32-bit loads, and the
# byte and halfword loads from it trap and are completed by the port's handler
# (ports/esp8266/loadfix.c, narrow.c; docs/esp8266.md). The files whose code runs in IRAM
# keep theirs in data RAM (KEEP_RODATA): ets_post may run from an interrupt while a flash
# write has the cache off, and the handler must not trap inside itself.
KEEP_RODATA="esp_taskq.o esp_narrow.o esp_loadfix.o"
keep=
for o in $KEEP_RODATA; do keep+="*libbh_esp.a:$o(.rodata .rodata.*) "; done
ld=$out/eagle.app.v6.bh.ld
sed -e "s|^\(\s*\)\*libat.a:(.literal.\* .text.\*)|\1*libbh_esp.a:(.literal .text .literal.* .text.*)\n\1*libbh_esp.a:(.rodata .rodata.*)\n\1*libc_bh.a:(.literal .text .literal.* .text.*)\n&|" \
    -e "s|^\(\s*\)\*(.rodata)\$|\1$keep\n\1*(EXCLUDE_FILE(*libbh_esp.a:*) .rodata)|" \
    -e "s|^\(\s*\)\*(.rodata.\*)\$|\1*(EXCLUDE_FILE(*libbh_esp.a:*) .rodata.*)|" \
    -e "s|^\(\s*\)\*(.entry.text)|&\n\1*(.iram.literal .iram.text)|" \
    -e "s|INCLUDE \"../ld/eagle.rom.addr.v6.ld\"|INCLUDE \"$SDK/ld/eagle.rom.addr.v6.ld\"|" \
    "$SDK/ld/eagle.app.v6.ld" > "$ld"
grep -q 'libbh_esp.a:(.literal' "$ld" && grep -q 'libbh_esp.a:(.rodata' "$ld" &&
  [ "$(grep -c 'EXCLUDE_FILE(\*libbh_esp.a:\*)' "$ld")" = 2 ] && grep -q '.iram.text' "$ld" &&
  grep -q "$SDK/ld/eagle.rom" "$ld" ||
  { echo "esp8266: the SDK's eagle.app.v6.ld has an unexpected form: cannot place the project's code and read-only data in flash" >&2; exit 1; }

elf=$out/buttonhook.elf
$CC -nostdlib -T "$ld" -Wl,--gc-sections -Wl,-static -Wl,-Map="$out/buttonhook.map" \
  -u call_user_start1 -Wl,--defsym=vfprintf=__i_vfprintf -L"$SDK/lib" -L"$out" \
  "$veneers" -Wl,--start-group -lgcc -lhal -lphy -lpp -lnet80211 -llwip -lwpa -lcrypto -lmain \
  -ldriver -lmbedtls -lbh_esp -lc_bh -Wl,--end-group -o "$elf"

python3 "$src/scripts/esp8266-image.py" write "$elf" "$out"
# printed here; a budget exceeded fails the test esp8266.image, not the build, so that
# `make check` still runs every test
python3 "$src/scripts/esp8266-image.py" budget "$elf" "$out/buttonhook.map" ||
  echo "esp8266: over budget or a module missing (above; the test esp8266.image fails)"

# The SDK's PHY init data with byte 107 set to 255: the ADC then reads the chip's supply
# (system_get_vdd33(), hal_supply_mv(): {battery_mv}, LOW_BATTERY_MV) instead of the TOUT pin
# (0 in the SDK's default), which on a NodeMCU sits behind a divider and reads nothing here.
init=$out/esp_init_data_vdd33.bin
cp "$SDK/bin/esp_init_data_default_v08.bin" "$init"
printf '\377' | dd of="$init" bs=1 seek=107 conv=notrunc status=none
[ "$(od -An -tu1 -j107 -N1 "$init" | tr -d ' ')" = 255 ] ||
  { echo "esp8266: could not set the ADC to VCC mode in $init" >&2; exit 1; }

# esptool (PyPI: pip install esptool) writes the images at their addresses; the PHY init data
# above and the SDK's blank parameter sectors go where the partition table in
# firmware/ports/esp8266/main.c puts them (a 4 MB NodeMCU).
fs_addr=$(sed -n 's/^#define ESP_FS_ADDR \(0x[0-9A-Fa-f]*\)u.*/\1/p' "$src/firmware/ports/esp8266/esp.h")
echo "flash it (a NodeMCU on /dev/ttyUSB0; nothing here has run on a chip, docs/esp8266.md):"
echo "  esptool.py --port /dev/ttyUSB0 --baud 460800 write_flash --flash_mode dio --flash_size 4MB \\"
echo "    0x00000 $out/0x00000.bin 0x10000 $out/0x10000.bin \\"
echo "    0x3FB000 $SDK/bin/blank.bin 0x3FC000 $init \\"
echo "    0x3FD000 $SDK/bin/blank.bin 0x3FE000 $SDK/bin/blank.bin${fs_line}"
[ -n "$fs_line" ] || echo "  (make esp8266 CONFIG=path/to/config.py also builds the file system holding it, and its address here)"
