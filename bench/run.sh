#!/usr/bin/env bash
# make bench: the cost of one wake cycle (press, connect, POST, sleep).
#  1. the firmware alone, on the test board with its fake clock: instructions executed in
#     app_main() (callgrind) and peak memory (massif: heap, which must be 0, and stack), plus
#     its static RAM on the ESP8266 from the cross-compile;
#  2. a real press of the simulated board against hookd: the wake report (radio steps, bytes,
#     modeled radio time and energy on an ESP8266);
#  3. hookd itself (bench/hookd.sh): its trigger endpoint next to adnanh/webhook and nginx
#     under wrk, the events it stored against the replies, and press-to-action time.
set -euo pipefail
build=$1
src=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== one wake of the firmware on the test board =="
valgrind --tool=callgrind --toggle-collect=app_main --callgrind-out-file="$tmp/cg.out" \
  "$build/bench/bench_wake" 2>"$tmp/cg.log"
ir=$(grep -E '^(summary|totals):' "$tmp/cg.out" | head -1 | awk '{print $2}')
echo "instructions executed in app_main (callgrind, x86-64): $ir"
valgrind --tool=massif --stacks=yes --massif-out-file="$tmp/ms.out" \
  "$build/bench/bench_wake" >/dev/null 2>"$tmp/ms.log"
peak=$(grep -E '^mem_heap_B|^mem_stacks_B' "$tmp/ms.out" |
       awk -F= '/heap/{h=$2} /stacks/{s=$2; t=h+s; if (t>m) {m=t; mh=h; ms=s}} END{print m, mh, ms}')
read -r total heap stack <<<"$peak"
echo "peak memory of the whole test program (massif): ${total} bytes (heap $heap, stack $stack)"
BH_CROSS_OUT="$tmp/cross" bash -c "mkdir -p $tmp/cross && bash $src/scripts/cross-size.sh" | tail -1

echo
echo "== one press of the simulated board against hookd =="
sim="$build/firmware/ports/sim/simboard"
hookd="$build/hookd/hookd"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
echo '{"admin_password": "bench-password"}' >"$tmp/hookd.json"
"$hookd" --data "$tmp/hookd" --listen "127.0.0.1:$port" --config "$tmp/hookd.json" \
  2>"$tmp/hookd.log" &
hpid=$!
spid=
stop() {
  [ -n "$spid" ] && { "$sim" off --state "$tmp/board" >/dev/null 2>&1 || kill "$spid" 2>/dev/null || true; wait "$spid" 2>/dev/null || true; }
  [ -n "$hpid" ] && { kill "$hpid" 2>/dev/null || true; wait "$hpid" 2>/dev/null || true; }
  spid= hpid=
}
trap 'stop; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do grep -q "listening on" "$tmp/hookd.log" 2>/dev/null && break; sleep 0.1; done
key=$("$hookd" key --data "$tmp/hookd")
mkdir -p "$tmp/board/flash"
sed "s|http://127.0.0.1:8080/trigger/button_pressed/with/key/your-key|http://127.0.0.1:$port/trigger/button_pressed/with/key/$key|" \
  "$src/examples/config.py" >"$tmp/board/flash/config.py"
"$sim" run --state "$tmp/board" --world "$src/examples/world.json" --name bench </dev/null >"$tmp/board.log" 2>&1 &
spid=$!
for _ in $(seq 100); do "$sim" state --state "$tmp/board" >/dev/null 2>&1 && break; sleep 0.1; done
"$sim" wait --state "$tmp/board" --for sleeping --timeout 30
"$sim" press --state "$tmp/board"
"$sim" wait --state "$tmp/board" --for sleeping --timeout 30
python3 - "$tmp/board/events.jsonl" <<'PY'
import json, sys
reports = [json.loads(l) for l in open(sys.argv[1]) if '"report"' in l]
r = reports[-1]
keys = [k for k in r if k not in ("t", "event", "boot")]
print("wake report of the press (modeled on an ESP8266):")
for k in keys:
    print(f"  {k:>14}: {r[k]}")
PY
grep -q '"event":"http".*"code":200' "$tmp/board/events.jsonl" ||
  { echo "bench: the press did not get hookd's 200" >&2; exit 1; }
stop

echo
echo "== hookd =="
bash "$src/bench/hookd.sh" "$build"
