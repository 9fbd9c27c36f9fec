#!/usr/bin/env bash
# Builds the unit tests for the ESP8266's CPU: configures tests/lx106 (its own CMake project,
# cross toolchain.cmake) with the source lists the host build wrote, and builds it into OUT.
# Run by the test lx106.build, the fixture of the lx106.* tests.
# Usage: build.sh OUT SOURCES_CMAKE LWIP_DIR   (LWIP_DIR in the environment wins)
# Exits 77 (skipped) with the reason when the cross toolchain, QEMU or lwIP is missing; the
# reason is kept in OUT/SKIP so that every lx106.* test reports itself skipped with it.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
out=$1 sources=$2 lwip=${LWIP_DIR:-$3}   # the environment's LWIP_DIR first, as for make mps2

mkdir -p "$out"
rm -rf "$out/results" "$out/SKIP"
mkdir -p "$out/results"
skip() { echo "lx106: skipped: $*" | tee "$out/SKIP"; exit 77; }
command -v xtensa-lx106-elf-gcc >/dev/null ||
  skip "xtensa-lx106-elf-gcc not found (apt-get install gcc-xtensa-lx106 picolibc-xtensa-lx106-elf)"
[ -f /usr/lib/xtensa-lx106-elf/picolibc.specs ] ||
  skip "picolibc for lx106 not found (apt-get install picolibc-xtensa-lx106-elf)"
command -v qemu-system-xtensa >/dev/null ||
  skip "qemu-system-xtensa not found (apt-get install qemu-system-misc)"
[ -f "$lwip/src/netif/ppp/polarssl/sha1.c" ] ||
  skip "lwIP not found at LWIP_DIR=$lwip: the test board's hal_sha1 on lx106 is lwIP's PolarSSL SHA-1 (configure with -DLWIP_DIR=...)"

cmake -S "$src/tests/lx106" -B "$out/build" -DCMAKE_TOOLCHAIN_FILE="$src/tests/lx106/toolchain.cmake" \
  -DBH_LX106_SOURCES="$sources" -DLWIP_DIR="$lwip" >/dev/null
cmake --build "$out/build" -j"${JOBS:-2}"
echo "lx106: built $(ls "$out"/build/*.elf | wc -l) test programs in $out/build"
