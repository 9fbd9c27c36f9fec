#!/usr/bin/env bash
# The flash file-system image of `make esp8266 CONFIG=path/to/config.py`: config.py checked
# by the board's own reader (firmware/app/config.c, built for the host as config-check), then
# put into an image of the ESP8266's file-system region with bhfs-mkimage (firmware/fs: the
# board's own fs.c writes it). Both tools are built here with the host's cc, into OUT/host.
#
#   scripts/esp8266-fs.sh OUT CONFIG    writes OUT/fs.bin; prints "ADDRESS OUT/fs.bin"
#
# A config.py the board would refuse is refused here with the board's messages
# ("config.py:LINE: what is wrong"), and the script exits 1.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
out=$1 config=$2
[ -f "$config" ] || { echo "esp8266: CONFIG=$config: no such file" >&2; exit 1; }
host=$out/host
mkdir -p "$host"
HOSTCC=${HOSTCC:-cc}
flags=(-std=c11 -O2 -Wall -Wextra -Werror -I"$src/firmware")
f=$src/firmware
$HOSTCC "${flags[@]}" "$f/ports/esp8266/tool/config-check.c" "$f/app/config.c" "$f/net/url.c" \
  "$f/app/placeholders.c" "$f/hal/err.c" -o "$host/config-check"
$HOSTCC "${flags[@]}" "$f/fs/tool/bhfs-mkimage.c" "$f/fs/fs.c" "$f/fs/fs_hal.c" "$f/hal/err.c" \
  -o "$host/bhfs-mkimage"
if ! "$host/config-check" "$config"; then
  echo "esp8266: $config refused (as the board would refuse it): nothing flashed is built from it" >&2
  exit 1
fi
addr=$(sed -n 's/^#define ESP_FS_ADDR \(0x[0-9A-Fa-f]*\)u.*/\1/p' "$f/ports/esp8266/esp.h")
size=$(sed -n 's/^#define ESP_FS_SIZE \(0x[0-9A-Fa-f]*\)u.*/\1/p' "$f/ports/esp8266/esp.h")
files=$out/fs-files
rm -rf "$files"
mkdir -p "$files"
cp "$config" "$files/config.py"
"$host/bhfs-mkimage" --size $((size)) --sector 4096 -o "$out/fs.bin" "$files" >&2
echo "$addr $out/fs.bin"
