#!/usr/bin/env bash
# make demo: a simulated button, pressed once, firing a webhook at a local receiver.
# Runs unattended, shows what happened, and leaves nothing running.
set -euo pipefail
build=$1
src=$(cd "$(dirname "$0")/.." && pwd)
sim="$build/firmware/ports/sim/simboard"
demo="$src/build/demo"
rm -rf "$demo"
mkdir -p "$demo/button1/flash"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
key=demo-$(head -c 12 /dev/urandom | base64 | tr '+/' '-_' | head -c 17)
url="http://127.0.0.1:$port/trigger/button_pressed/with/key/$key"

python3 "$src/tools/receiver.py" "$port" "$demo/webhooks.jsonl" >"$demo/receiver.log" 2>&1 &
rpid=$!
spid=
cleanup() {
  [ -n "$spid" ] && { "$sim" off --state "$demo/button1" >/dev/null 2>&1 || kill "$spid" 2>/dev/null || true; wait "$spid" 2>/dev/null || true; }
  kill "$rpid" 2>/dev/null || true
  wait "$rpid" 2>/dev/null || true
}
trap cleanup EXIT

sed "s|http://127.0.0.1:8080/trigger/button_pressed/with/key/your-key|$url|" \
  "$src/examples/config.py" >"$demo/button1/flash/config.py"
echo "== config.py on the board's flash ($demo/button1/flash/config.py):"
sed 's/^/   /' "$demo/button1/flash/config.py"

echo
echo "== powering on the simulated board (first boot: PWRON_RESET, straight to deep sleep)"
"$sim" run --state "$demo/button1" --world "$src/examples/world.json" --name button1 \
  </dev/null >"$demo/button1.log" 2>&1 &
spid=$!
for _ in $(seq 100); do "$sim" state --state "$demo/button1" >/dev/null 2>&1 && break; sleep 0.1; done
"$sim" wait --state "$demo/button1" --for sleeping --timeout 30
sed 's/^/   /' "$demo/button1.log"
: >"$demo/button1.log.mark"
lines=$(wc -l <"$demo/button1.log")

echo
echo "== pressing RESET (the board wakes with DEEPSLEEP_RESET and fires the webhook)"
"$sim" press --state "$demo/button1"
"$sim" wait --state "$demo/button1" --for sleeping --timeout 40
tail -n +"$((lines + 1))" "$demo/button1.log" | sed 's/^/   /'

echo
echo "== what the receiver got"
sed 's/^/   /' "$demo/receiver.log"
got=$(grep -c . "$demo/webhooks.jsonl" 2>/dev/null || true)
if [ "${got:-0}" -ne 1 ]; then
  echo "demo: FAILED: expected one webhook, the receiver got ${got:-0}" >&2
  exit 1
fi

echo
echo "== board state"
"$sim" state --state "$demo/button1" | sed 's/^/   /'
cat <<MSG

Done: one press, one webhook. To keep playing:
   $sim run --state $demo/button1 --world $src/examples/world.json
   then press Enter for RESET, j for the debug jumper (D5 to GND), q to power off,
   with a receiver listening:  python3 tools/receiver.py $port
   Every boot, LED change and request is in $demo/button1/events.jsonl.
   Try a wrong WIFI_PASSWORD in $demo/button1/flash/config.py to see the error blink.
MSG
