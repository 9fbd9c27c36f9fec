#!/usr/bin/env bash
# make bench: the cost of one wake cycle (press, connect, POST, sleep).
#  1. the firmware alone, on the test board with its fake clock: instructions executed in
#     one press, the chapter's wake and the fast one (callgrind), and peak memory (massif:
#     heap, which must be 0, and stack), plus its static RAM on the ESP8266 from the
#     cross-compile;
#  2. real presses of simulated boards against hookd (bench/presses.sh): FAST_WAKE = 0 (the
#     chapter's wake) and FAST_WAKE = 1 (buttonhook's), over plain HTTP and over HTTPS (nginx
#     with TLS in front of hookd): per press the wake report (radio steps, packets, bytes,
#     modeled radio time and energy on an ESP8266), the presses a pair of AA cells would last,
#     the ratios against the issue's targets, and the instructions of the TLS handshakes;
#  3. hookd itself (bench/hookd.sh): its trigger endpoint next to adnanh/webhook, nginx and
#     the floor of its shape (a bare reply after an fdatasync) under wrk, the events it
#     stored against the replies, and press-to-action time;
#  4. hookd on SQLite vs one, two and three instances on one PostgreSQL (bench/pg.sh).
set -euo pipefail
build=$1
src=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== one wake of the firmware on the test board =="
for mode in chapter fast; do
  valgrind --tool=callgrind --toggle-collect=measured_wake --callgrind-out-file="$tmp/cg.$mode" \
    "$build/bench/bench_wake" $mode >/dev/null 2>"$tmp/cg.log"
  ir=$(grep -E '^(summary|totals):' "$tmp/cg.$mode" | head -1 | awk '{print $2}')
  echo "instructions executed in one press, $mode wake (callgrind, x86-64): $ir"
done
valgrind --tool=massif --stacks=yes --massif-out-file="$tmp/ms.out" \
  "$build/bench/bench_wake" >/dev/null 2>"$tmp/ms.log"
peak=$(grep -E '^mem_heap_B|^mem_stacks_B' "$tmp/ms.out" |
       awk -F= '/heap/{h=$2} /stacks/{s=$2; t=h+s; if (t>m) {m=t; mh=h; ms=s}} END{print m, mh, ms}')
read -r total heap stack <<<"$peak"
echo "peak memory of the whole test program (massif): ${total} bytes (heap $heap, stack $stack)"
BH_CROSS_OUT="$tmp/cross" bash -c "mkdir -p $tmp/cross && bash $src/scripts/cross-size.sh" | grep -E '^(code|console)'

echo
echo "== presses of the simulated board against hookd: the chapter's wake and buttonhook's =="
bash "$src/bench/presses.sh" "$build"

echo
echo "== hookd =="
bash "$src/bench/hookd.sh" "$build"

echo
bash "$src/bench/pg.sh" "$build"
