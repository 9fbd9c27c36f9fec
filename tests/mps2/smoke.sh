#!/usr/bin/env bash
# The mps2-an385 board (firmware/ports/mps2) in QEMU: builds bh_mps2_smoke.elf with the cross
# toolchain into BUILD (first argument) and runs it as the harness will run the firmware,
# one QEMU run per wake in a state folder, checking what a user of the board would see:
# boot parameters, LED lines with times, RTC memory kept across a deep sleep but not a power
# cut, flash kept across both (NOR semantics), the LAN9118 sending a DHCP DISCOVER and
# receiving QEMU's OFFER, the console, and the exit status of each way a wake ends.
# Exits 77 (skipped) when the cross compiler or QEMU is missing.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)

for tool in arm-none-eabi-gcc qemu-system-arm; do
  if ! command -v $tool >/dev/null; then
    echo "SKIP: $tool not found (apt-get install gcc-arm-none-eabi picolibc-arm-none-eabi qemu-system-arm)"
    exit 77
  fi
done
build=${1:?usage: smoke.sh BUILD_DIR}
mkdir -p "$build" && build=$(cd "$build" && pwd)

cmake -S "$src/firmware/ports/mps2" -B "$build" \
  -DCMAKE_TOOLCHAIN_FILE="$src/firmware/ports/mps2/toolchain.cmake" >/dev/null
cmake --build "$build" --target bh_mps2_smoke.elf -j2 >/dev/null
elf="$build/bh_mps2_smoke.elf"
arm-none-eabi-size "$elf"

state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT
cd "$state"
fails=0
out=""
rc=0

# boot ARGS... [stdin text]: one wake; sets $out and $rc
boot() {
  local input=$1
  shift
  local args=bh
  for a in "$@"; do args="$args,arg=$a"; done
  set +e
  out=$(printf '%s' "$input" | timeout 20 qemu-system-arm -M mps2-an385 -nographic \
    -monitor none -serial stdio -semihosting-config "enable=on,target=native,arg=$args" \
    -nic user,model=lan9118 -kernel "$elf" 2>&1)
  rc=$?
  set -e
  echo "--- boot $* -> exit $rc"
  echo "$out"
}
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
expect_rc() { [ "$rc" = "$1" ] || fail "exit status $rc, expected $1"; }
has() { grep -qF -- "$1" <<<"$out" || fail "no line with '$1'"; }
seed() { od -An -tx1 -N16 /dev/urandom | tr -d ' \n'; }
random_of() { sed -n 's/^smoke: random //p' <<<"$out"; }

# power on: fresh state
boot "" cause=0 "seed=$(seed)"
expect_rc 3
has "boot: PWRON_RESET (cause=0)"
has "smoke: cause 0 slept -17"        # slept_ms unknown: BH_ERR_UNSUPPORTED
has "smoke: gpio14 1 valid6 0"        # pulled up, no jumper; GPIO6 is the flash's
has "smoke: rtc boots 0"
has "smoke: flash boots 0"
has "smoke: flash nor 0x30 then 0xff" # 0xF0 programmed over by 0x3C; erased again
has "smoke: flash range -1"           # a read past the region: BH_ERR_ARG
has "smoke: eth init 0 link 1"
has "smoke: dhcp offer 10.0.2.15 from 10.0.2.2"
has "smoke: sha1 -17"
grep -qE '^\[report\] [0-9]+ info smoke 0 done$' <<<"$out" || fail "no report line"
has "deep sleep 5000 ms"
[ "$(cat sleep)" = 5000 ] || fail "the file 'sleep' holds '$(cat sleep)', not 5000"
[ "$(stat -c %s rtc.bin)" = 492 ] || fail "rtc.bin is not 492 bytes"
[ "$(stat -c %s flash.bin)" = 262144 ] || fail "flash.bin is not 256 KB"
# the blink, in order, D4 lit for at least the 100 ms the program waited
leds=$(sed -n 's/^\[board\] \([0-9]*\) GPIO\([0-9]*\) -> \([01]\) (LED \(on\|off\))$/\1 \2 \4/p' <<<"$out")
[ "$(awk '{print $2 $3}' <<<"$leds" | tr '\n' ' ')" = "2on 2off 2on 2off 16on 16off " ] ||
  fail "LED lines: $leds"
awk 'NR % 2 == 1 { t = $1 } NR % 2 == 0 && $2 == 2 && $1 - t < 100 { exit 1 }' <<<"$leds" ||
  fail "D4 lit for less than 100 ms: $leds"
r1=$(random_of)

# the timer wakes it: RTC memory and flash kept
boot "" cause=5 slept_ms=5000 "seed=$(seed)"
expect_rc 3
has "boot: DEEPSLEEP_RESET (cause=5)"
has "smoke: cause 5 slept 5000"
has "smoke: rtc boots 1"
has "smoke: flash boots 1"
has "smoke: dhcp offer 10.0.2.15"
[ -n "$r1" ] && [ "$(random_of)" != "$r1" ] || fail "the same random bytes on two boots"

# power cut: the harness drops RTC memory, flash stays
rm -f rtc.bin
boot "" cause=0
expect_rc 3
has "smoke: rtc boots 0"
has "smoke: flash boots 2"
has "no seed: hal_random is predictable"

# the D5 jumper in, and a crash from the console: the fault and its PC on the UART
boot c cause=0 jumper=1
expect_rc 2
has "smoke: gpio14 0"
grep -qE '^\[board\] [0-9]+ crash: UsageFault \(6\) at pc 0x[0-9a-f]{8}' <<<"$out" ||
  fail "no crash line"

# a stuck loop: the watchdog ends the wake
boot h cause=0 wdt=300
expect_rc 5
has "watchdog: not fed for"

boot r cause=0
expect_rc 4
grep -qE '^\[board\] [0-9]+ reset$' <<<"$out" || fail "no reset line"

# bad boot parameters are named
boot "" cause=0 bogus=1
expect_rc 6
has "unknown boot parameter 'bogus'"
boot "" cause=9
expect_rc 6
has "bad value in 'cause=9'"

# a wrong-sized rtc.bin starts as zeros; a short flash.bin reads as erased after its end
printf 'xx' >rtc.bin
printf '\0\0\0' >flash.bin
boot "" cause=5
expect_rc 3
has "rtc.bin is not 492 bytes"
has "smoke: rtc boots 0"
has "flash.bin has 3 bytes, not 262144"
has "smoke: flash boots 3"
[ "$(stat -c %s flash.bin)" = 262144 ] || fail "flash.bin not rewritten at 256 KB"

if [ $fails -gt 0 ]; then
  echo "mps2 smoke: $fails failures"
  exit 1
fi
echo "mps2 smoke: all passed"
