#!/usr/bin/env bash
# Installs the Debian packages buttonhook needs, or prints the exact command when not root.
# Usage: scripts/deps.sh [build|check|demo]   (check = build + everything the tests use)
set -euo pipefail
what=${1:-check}

build_pkgs=(build-essential cmake pkg-config libmbedtls-dev libjansson-dev python3
            libmicrohttpd-dev libsqlite3-dev libpq-dev libcurl4-openssl-dev libmosquitto-dev)
check_pkgs=(clang libclang-rt-14-dev gcc-xtensa-lx106 picolibc-xtensa-lx106-elf qemu-system-misc
            nginx-light openssl valgrind curl util-linux mount
            mosquitto mosquitto-clients python3-aiosmtpd python3-websocket wrk webhook chromium
            nodejs postgresql jq man-db groff-base
            qemu-system-arm gcc-arm-none-eabi picolibc-arm-none-eabi dnsmasq-base)
# the mps2-an385 board in QEMU (firmware/ports/mps2, tests/mps2)
check_pkgs+=(gcc-arm-none-eabi picolibc-arm-none-eabi qemu-system-arm)

pkgs=("${build_pkgs[@]}")
[ "$what" = check ] && pkgs+=("${check_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  # an ":amd64"-qualified name and the plain one are both fine
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "deps: missing Debian packages. Install them with:" >&2
  echo "  sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
