#!/usr/bin/env bash
# Runs one unit test built for the ESP8266's CPU on QEMU's lx106 core, bare: the test's
# output and exit code come back through semihosting (runtime.c). Run by the lx106.* tests.
# Usage: run.sh OUT NAME       runs OUT/build/NAME.elf, records OUT/results/NAME
#        run.sh OUT --figures  prints the "figures:" line of the tests run since lx106.build
# Exit: the test's own (0 passed, 1 a check failed), 3 a CPU exception, 124 a hang past
# LX106_TIMEOUT seconds, 77 skipped (why: OUT/SKIP, written by build.sh).
set -uo pipefail
out=$1 name=$2
if [ -f "$out/SKIP" ]; then
  echo "$(cat "$out/SKIP")"
  exit 77
fi

if [ "$name" = --figures ]; then
  shopt -s nullglob
  run=0 passed=0 failed=() total=0 peak=0 peak_of=-
  for f in "$out"/results/*; do
    read -r n rc ms stack < "$f"
    run=$((run + 1)) total=$((total + ms))
    if [ "$rc" = 0 ]; then passed=$((passed + 1)); else failed+=("$n"); fi
    if [ "$stack" -gt "$peak" ]; then peak=$stack peak_of=$n; fi
  done
  [ "$run" -gt 0 ] || { echo "lx106: no test ran since lx106.build"; exit 77; }
  printf 'figures: lx106 unit tests on the ESP8266 CPU (QEMU) run=%d passed=%d failed=%d time=%d.%02ds deepest-stack=%dB (%s)%s\n' \
    "$run" "$passed" "${#failed[@]}" $((total / 1000)) $((total % 1000 / 10)) "$peak" "$peak_of" \
    "${failed:+ failed: ${failed[*]}}"
  exit 0
fi

elf=$out/build/$name.elf
mkdir -p "$out/results"
[ -f "$elf" ] || { echo "lx106: $elf not built (see lx106.build)"; exit 1; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT
start=$(date +%s%N)
# -nographic with no serial port and no monitor: semihosted writes go straight to this
# process's stdout and stderr
timeout "${LX106_TIMEOUT:-60}" qemu-system-xtensa -M sim -cpu lx106 -semihosting -nographic \
  -serial none -monitor none -kernel "$elf" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
ms=$((($(date +%s%N) - start) / 1000000))
if [ "$rc" = 124 ]; then
  echo "lx106: $name did not finish within ${LX106_TIMEOUT:-60} s (a hang on the lx106?)"
fi
# a CPU exception: name the function and line of its PC, and of A0 (where the last call0
# returns to: the caller, when the PC itself is no code, as in a call through NULL)
for reg in PC A0; do
  addr=$(sed -n "s/^lx106: CPU exception.* $reg \(0x[0-9a-f]*\).*/\1/p" "$log")
  [ -n "$addr" ] && echo "lx106: $reg $addr is $(xtensa-lx106-elf-addr2line -f -p -e "$elf" "$addr")"
done
stack=$(sed -n 's/^lx106: stack peak \([0-9]*\) bytes$/\1/p' "$log")
echo "$name $rc $ms ${stack:-0}" > "$out/results/$name"
echo "lx106: $name exit $rc in ${ms} ms, stack peak ${stack:-?} bytes"
exit "$rc"
