#!/usr/bin/env bash
# make bench: the cost of one wake cycle (press, connect, POST, sleep).
#  1. the firmware alone, on the test board with its fake clock: instructions executed in
#     one press, the chapter's wake and the fast one (callgrind), and peak memory (massif:
#     heap, which must be 0, and stack), plus its static RAM on the ESP8266 from the
#     cross-compile;
#  2. real presses of two simulated boards against hookd, one with FAST_WAKE = 0 (the
#     chapter's wake), one with FAST_WAKE = 1 (buttonhook's): per press the wake report (radio
#     steps, bytes, modeled radio time and energy on an ESP8266), the presses a pair of AA
#     cells would last, and the ratio;
#  3. hookd itself (bench/hookd.sh): its trigger endpoint next to adnanh/webhook and nginx
#     under wrk, the events it stored against the replies, and press-to-action time;
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
# Two boards on one hookd over plain HTTP, the same world: FAST_WAKE = 0 (the chapter: scan,
# association, DHCP on every press) and FAST_WAKE = 1 (buttonhook: the AP, the lease and the
# DNS answer kept in RTC memory; docs/fast-wake.md). Each is pressed PRESSES times; the first
# press of a fast board takes the full path, the others the fast one.
PRESSES=${PRESSES:-4}
sim="$build/firmware/ports/sim/simboard"
hookd="$build/hookd/hookd"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
echo '{"admin_password": "bench-password"}' >"$tmp/hookd.json"
"$hookd" --data "$tmp/hookd" --listen "127.0.0.1:$port" --config "$tmp/hookd.json" \
  2>"$tmp/hookd.log" &
hpid=$!
spids=()
stop() {
  for d in chapter buttonhook; do
    [ -d "$tmp/$d" ] && "$sim" off --state "$tmp/$d" >/dev/null 2>&1 || true
  done
  for p in "${spids[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -n "$hpid" ] && { kill "$hpid" 2>/dev/null || true; wait "$hpid" 2>/dev/null || true; }
  spids=() hpid=
}
trap 'stop; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do grep -q "listening on" "$tmp/hookd.log" 2>/dev/null && break; sleep 0.1; done
key=$("$hookd" key --data "$tmp/hookd")
# the webhook host by name, so the DNS look-up (and its cache) is part of the press
python3 - "$src/examples/world.json" "$tmp/world.json" <<'PY'
import json, sys
w = json.load(open(sys.argv[1]))
w.setdefault("hosts", {})["hookd.lan"] = "127.0.0.1"
json.dump(w, open(sys.argv[2], "w"))
PY
for d in chapter buttonhook; do
  mkdir -p "$tmp/$d/flash"
  sed "s|http://127.0.0.1:8080/trigger/button_pressed/with/key/your-key|http://hookd.lan:$port/trigger/button_pressed/with/key/$key|" \
    "$src/examples/config.py" >"$tmp/$d/flash/config.py"
  echo "FAST_WAKE = $([ $d = chapter ] && echo 0 || echo 1)" >>"$tmp/$d/flash/config.py"
  "$sim" run --state "$tmp/$d" --world "$tmp/world.json" --name "$d" </dev/null >"$tmp/$d.log" 2>&1 &
  spids+=($!)
  for _ in $(seq 100); do "$sim" state --state "$tmp/$d" >/dev/null 2>&1 && break; sleep 0.1; done
  "$sim" wait --state "$tmp/$d" --for sleeping --timeout 30
  for _ in $(seq "$PRESSES"); do
    "$sim" press --state "$tmp/$d"
    "$sim" wait --state "$tmp/$d" --for sleeping --timeout 30
  done
  n=$(grep -c '"event":"http".*"code":200' "$tmp/$d/events.jsonl" || true)
  [ "$n" -eq "$PRESSES" ] || { echo "bench: $d: $n of $PRESSES presses got hookd's 200" >&2; exit 1; }
done
python3 - "$tmp/chapter/events.jsonl" "$tmp/buttonhook/events.jsonl" <<'PY'
import json, sys
# Battery: two AA alkaline cells in series, 2000 mAh usable (7,200,000 mAs); deep sleep at
# 20 uA (the bare ESP8266EX, datasheet: 1,728 mAs a day); self-discharge and regulator ignored.
BATTERY_MAS = 2000 * 3600
SLEEP_MAS_DAY = 20e-3 * 86400
def presses(path):
    reps = [json.loads(l) for l in open(path) if '"event":"report"' in l]
    return [r for r in reps if r.get("boot", 0) > 1]   # boot 1 is power-on
rows = {"chapter": presses(sys.argv[1]), "buttonhook": presses(sys.argv[2])}
print("per press (modeled on an ESP8266; plain HTTP to hookd on the LAN, its name looked up):")
print(f"  {'board':<11}{'press':>6}{'scans':>6}{'assoc':>6}{'dhcp':>5}{'dns':>4}{'tcp':>4}"
      f"{'tx B':>6}{'rx B':>6}{'radio ms':>9}{'mAs':>7}{'presses/AA pair':>16}")
for name, reps in rows.items():
    for i, r in enumerate(reps, 1):
        print(f"  {name:<11}{i:>6}{r['scans']:>6}{r['assocs']:>6}{r['dhcp']:>5}{r['dns']:>4}"
              f"{r['tcp']:>4}{r['tx_bytes']:>6}{r['rx_bytes']:>6}{r['radio_ms']:>9}"
              f"{r['energy_mAs']:>7.1f}{BATTERY_MAS / r['energy_mAs']:>16,.0f}")
# steady state: the last press of each (a fast board's first press is a full one)
ch, bh = rows["chapter"][-1], rows["buttonhook"][-1]
print(f"steady state: chapter {ch['radio_ms']} ms / {ch['energy_mAs']:.1f} mAs a press, "
      f"buttonhook {bh['radio_ms']} ms / {bh['energy_mAs']:.1f} mAs: "
      f"{ch['energy_mAs'] / bh['energy_mAs']:.1f}x less energy a press")
print(f"battery (2000 mAh usable, sleep at 20 uA = {SLEEP_MAS_DAY:.0f} mAs a day):")
for per_day in (1, 10, 50):
    days = {k: BATTERY_MAS / (SLEEP_MAS_DAY + per_day * r["energy_mAs"])
            for k, r in (("chapter", ch), ("buttonhook", bh))}
    print(f"  {per_day:>2} presses a day: chapter {days['chapter'] / 365:.1f} years, "
          f"buttonhook {days['buttonhook'] / 365:.1f} years")
print(f"  presses alone (no sleep): chapter {BATTERY_MAS / ch['energy_mAs']:,.0f}, "
      f"buttonhook {BATTERY_MAS / bh['energy_mAs']:,.0f}")
PY
stop

echo
echo "== hookd =="
bash "$src/bench/hookd.sh" "$build"

echo
bash "$src/bench/pg.sh" "$build"
