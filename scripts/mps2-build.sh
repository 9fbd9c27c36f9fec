#!/usr/bin/env bash
# Builds the firmware for the bare-metal lwIP board, QEMU's mps2-an385 (make mps2; make check
# runs it too): the portable firmware unchanged, the lwIP glue (firmware/ports/lwip), the
# flash file system (firmware/fs), the board (firmware/ports/mps2) and lwIP 2.1.3's sources
# from LWIP_DIR, into OUT/bh_mps2.elf. Prints the code and static RAM of each part, lwIP's
# share apart.
#
#   scripts/mps2-build.sh [OUT]      (default build/mps2)
#   LWIP_DIR=/path/to/lwip-2.1.3     (default ../shared/lwip-2.1.3 beside the checkout)
#
# When something is missing it says what and how to get it, writes the reason to OUT/SKIPPED
# (the tests that need the image report themselves skipped with it) and exits 0; a build
# that fails is an error.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$src/build/mps2}
mkdir -p "$out"
rm -f "$out/SKIPPED"
LWIP_DIR=${LWIP_DIR:-$src/../shared/lwip-2.1.3}

skip() {
  echo "mps2: skipped: $*"
  echo "$*" > "$out/SKIPPED"
  exit 0
}

command -v arm-none-eabi-gcc >/dev/null ||
  skip "arm-none-eabi-gcc not found (apt-get install gcc-arm-none-eabi picolibc-arm-none-eabi)"
[ -f /usr/lib/picolibc/arm-none-eabi/picolibc.specs ] || [ -n "$(arm-none-eabi-gcc --specs=picolibc.specs -print-file-name=picolibc.ld 2>/dev/null | grep /)" ] ||
  skip "picolibc for arm-none-eabi not found (apt-get install picolibc-arm-none-eabi)"
init_h=$LWIP_DIR/src/include/lwip/init.h
version() { sed -n "s/^#define LWIP_VERSION_$1 *(\?\([0-9]*\)U\?)\?.*/\1/p" "$init_h" 2>/dev/null | head -1; }
if [ ! -f "$LWIP_DIR/src/core/tcp.c" ] || [ "$(version MAJOR).$(version MINOR).$(version REVISION)" != 2.1.3 ]; then
  skip "lwIP 2.1.3 not found at LWIP_DIR=$LWIP_DIR (looked for src/core/tcp.c, and version 2.1.3 in src/include/lwip/init.h). Get it with 'apt-get source lwip' (Debian's 2.1.3+dfsg1, after adding a deb-src line for bookworm) or lwIP's tag STABLE-2_1_3_RELEASE, and give its folder as LWIP_DIR=... (docs/ports.md)"
fi
LWIP_DIR=$(cd "$LWIP_DIR" && pwd)
L=$LWIP_DIR/src

sources=()
for d in hal net app console; do sources+=("$src"/firmware/$d/*.c); done
sources+=("$src"/firmware/fs/fs.c "$src"/firmware/fs/fs_hal.c)
sources+=("$src"/firmware/ports/lwip/*.c "$src"/firmware/ports/mps2/tls_none.c)
for f in init def dns inet_chksum ip mem memp netif pbuf raw stats sys tcp tcp_in tcp_out \
         timeouts udp; do sources+=("$L/core/$f.c"); done
for f in dhcp etharp icmp ip4 ip4_addr ip4_frag; do sources+=("$L/core/ipv4/$f.c"); done
sources+=("$L/netif/ethernet.c")
join() { local IFS=';'; echo "$*"; }

cmake -S "$src/firmware/ports/mps2" -B "$out" \
  -DCMAKE_TOOLCHAIN_FILE="$src/firmware/ports/mps2/toolchain.cmake" \
  -DBH_MPS2_FIRMWARE_SOURCES="$(join "${sources[@]}")" \
  -DBH_MPS2_FIRMWARE_INCLUDES="$(join "$src/firmware" "$src/firmware/ports/lwip" "$L/include")" \
  >/dev/null
cmake --build "$out" -j"${JOBS:-2}" >/dev/null

# Sizes per part, from the objects linked (before --gc-sections drops what nothing calls)
objdir="$out/CMakeFiles/bh_mps2.elf.dir"
sum() { # prints "text ram" of the objects given
  if [ $# -eq 0 ]; then echo "0 0"; return; fi
  arm-none-eabi-size -t "$@" | tail -1 | awk '{print $1, $2 + $3}'
}
mapfile -t all < <(find "$objdir" "$out/CMakeFiles/bh_mps2_board.dir" \( -name '*.o' -o -name '*.obj' \) | sort)
lwip=() board=() glue=() fw=()
for o in "${all[@]}"; do
  case "$o" in
    *"/ports/lwip/"*) glue+=("$o") ;;
    *"/ports/mps2/"*|*bh_mps2_board.dir*) board+=("$o") ;;
    *"/core/"*|*"/netif/ethernet"*) lwip+=("$o") ;;
    *) fw+=("$o") ;;
  esac
done
echo "mps2-an385 (Cortex-M3) image $out/bh_mps2.elf:"
arm-none-eabi-size "$out/bh_mps2.elf" | sed 's/^/  /'
read -r t r < <(sum "${fw[@]}");    echo "  portable firmware (hal, net, app, console, fs): code $t B, static RAM $r B"
read -r t r < <(sum "${glue[@]}");  echo "  lwIP glue (ports/lwip): code $t B, static RAM $r B"
read -r t r < <(sum "${board[@]}"); echo "  board (ports/mps2): code $t B, static RAM $r B (of which 262144 B are the flash region, which QEMU's board keeps in RAM)"
read -r t r < <(sum "${lwip[@]}");  echo "  lwIP 2.1.3 (from LWIP_DIR): code $t B, static RAM $r B"
