#!/usr/bin/env bash
# bench/presses.sh BUILD: real presses of simulated boards against a local hookd, for
# `make bench` (bench/run.sh). Four boards on one hookd, the same world:
#   chapter    FAST_WAKE = 0: scan, association, DHCP, DNS look-up and, over HTTPS, a full TLS
#              handshake on every press, as the chapter's button does
#   buttonhook FAST_WAKE = 1: the AP, the lease, the DNS answer and the TLS session kept in
#              RTC memory (docs/fast-wake.md)
# each over plain HTTP to hookd and over HTTPS to nginx (TLS 1.2 for the board, session
# tickets as nginx's defaults; a test CA made here) proxying to the same hookd. Each board is
# pressed PRESSES times; a buttonhook board's first press takes the full path.
# Printed per press: the radio steps, packets and bytes, the modeled radio-on time and energy
# on an ESP8266 (docs/energy-model.md) and the presses a pair of AA cells would last; then the
# x86-64 instructions of the TLS handshakes (callgrind), full and resumed.
set -euo pipefail
build=$1
src=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
PRESSES=${PRESSES:-4}
sim="$build/firmware/ports/sim/simboard"
hookd="$build/hookd/hookd"
boards=()
spids=()
hpid=
npid=
stop() {
  for d in "${boards[@]}"; do
    "$sim" off --state "$tmp/$d" >/dev/null 2>&1 || true
  done
  for p in "${spids[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -n "$npid" ] && { kill "$npid" 2>/dev/null || true; wait "$npid" 2>/dev/null || true; }
  [ -n "$hpid" ] && { kill "$hpid" 2>/dev/null || true; wait "$hpid" 2>/dev/null || true; }
  boards=() spids=() hpid= npid=
}
trap 'stop; rm -rf "$tmp"' EXIT
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

port=$(free_port)
tls_port=$(free_port)
echo '{"admin_password": "bench-password"}' >"$tmp/hookd.json"
"$hookd" --data "$tmp/hookd" --listen "127.0.0.1:$port" --config "$tmp/hookd.json" \
  2>"$tmp/hookd.log" &
hpid=$!
for _ in $(seq 100); do grep -q "listening on" "$tmp/hookd.log" 2>/dev/null && break; sleep 0.1; done
key=$("$hookd" key --data "$tmp/hookd")

# nginx with TLS in front of hookd, with a certificate for hookd.lan from a CA of our own
mkdir -p "$tmp/nginx/logs"
(
  cd "$tmp/nginx"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
    -out ca.pem -days 2 -subj /CN=bench-ca 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key \
    -out server.csr -subj /CN=hookd.lan 2>/dev/null
  echo "subjectAltName=DNS:hookd.lan" >server.ext
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem \
    -days 2 -extfile server.ext 2>/dev/null
)
cat >"$tmp/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/logs/error.log;
events { worker_connections 64; }
http {
  log_format bh '\$request \$status \$ssl_session_reused';
  access_log $tmp/nginx/logs/access.log bh;
  client_body_temp_path $tmp/nginx/body;
  proxy_temp_path $tmp/nginx/proxy;
  server {
    listen 127.0.0.1:$tls_port ssl;
    ssl_certificate $tmp/nginx/server.pem;
    ssl_certificate_key $tmp/nginx/server.key;
    ssl_session_timeout 1d;   # nginx's default, 5 minutes, outlives no real button's sleep
    location / {
      proxy_pass http://127.0.0.1:$port;
      proxy_http_version 1.1;
      proxy_set_header Host \$host;
    }
  }
}
EOF
nginx -e stderr -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -g "daemon off;" \
  2>"$tmp/nginx/stderr.log" &
npid=$!
for _ in $(seq 100); do
  python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $tls_port), 1)" \
    2>/dev/null && break
  sleep 0.1
done

# the webhook host by name, so the DNS look-up (and its cache) is part of the press
python3 - "$src/examples/world.json" "$tmp/world.json" <<'PY'
import json, sys
w = json.load(open(sys.argv[1]))
w.setdefault("hosts", {})["hookd.lan"] = "127.0.0.1"
json.dump(w, open(sys.argv[2], "w"))
PY

# board NAME PROTO FAST [VALGRIND...]: power a board on and press it PRESSES times
board() {
  local d=$1 proto=$2 fast=$3
  shift 3
  mkdir -p "$tmp/$d/flash"
  local url="http://hookd.lan:$port/trigger/button_pressed/with/key/$key"
  [ "$proto" = https ] && url="https://hookd.lan:$tls_port/trigger/button_pressed/with/key/$key"
  sed "s|http://127.0.0.1:8080/trigger/button_pressed/with/key/your-key|$url|" \
    "$src/examples/config.py" >"$tmp/$d/flash/config.py"
  echo "FAST_WAKE = $fast" >>"$tmp/$d/flash/config.py"
  if [ "$proto" = https ]; then
    cp "$tmp/nginx/ca.pem" "$tmp/$d/flash/ca.pem"
    echo "CA_FILE = 'ca.pem'" >>"$tmp/$d/flash/config.py"
  fi
  "$@" "$sim" run --state "$tmp/$d" --world "$tmp/world.json" --name "$d" </dev/null \
    >"$tmp/$d.log" 2>&1 &
  spids+=($!)
  boards+=("$d")
  for _ in $(seq 300); do "$sim" state --state "$tmp/$d" >/dev/null 2>&1 && break; sleep 0.1; done
  "$sim" wait --state "$tmp/$d" --for sleeping --timeout 60
  for _ in $(seq "$PRESSES"); do
    "$sim" press --state "$tmp/$d"
    "$sim" wait --state "$tmp/$d" --for sleeping --timeout 60
  done
  local n
  n=$(grep -c '"event":"http".*"code":200' "$tmp/$d/events.jsonl" || true)
  [ "$n" -eq "$PRESSES" ] || { echo "bench: $d: $n of $PRESSES presses got hookd's 200" >&2; exit 1; }
}

for proto in http https; do
  board "chapter-$proto" $proto 0
  board "buttonhook-$proto" $proto 1
done
python3 - "$tmp" "$PRESSES" <<'PY'
import json, sys
tmp, presses = sys.argv[1], int(sys.argv[2])
# Battery: two AA alkaline cells in series, 2000 mAh usable (7,200,000 mAs); deep sleep at
# 20 uA (the bare ESP8266EX, datasheet: 1,728 mAs a day); self-discharge and regulator ignored.
BATTERY_MAS = 2000 * 3600
SLEEP_MAS_DAY = 20e-3 * 86400
def reports(name):
    reps = [json.loads(l) for l in open(f"{tmp}/{name}/events.jsonl") if '"event":"report"' in l]
    return [r for r in reps if r.get("boot", 0) > 1]   # boot 1 is power-on
print("per press, modeled on an ESP8266 (docs/energy-model.md); hookd on the LAN by name:")
print(f"  {'board':<18}{'press':>5}{'scan':>5}{'assoc':>6}{'dhcp':>5}{'dns':>4}{'tcp':>4}"
      f"{'tls':>4}{'resumed':>8}{'tx pkts':>8}{'tx B':>6}{'rx B':>6}{'radio ms':>9}{'mAs':>7}"
      f"{'presses/AA pair':>16}")
rows = {}
for proto in ("http", "https"):
    for fw in ("chapter", "buttonhook"):
        name = f"{fw}-{proto}"
        rows[name] = reports(name)
        for i, r in enumerate(rows[name], 1):
            print(f"  {name:<18}{i:>5}{r['scans']:>5}{r['assocs']:>6}{r['dhcp']:>5}{r['dns']:>4}"
                  f"{r['tcp']:>4}{r['tls']:>4}{r['tls_resumed']:>8}{r['tx_packets']:>8}"
                  f"{r['tx_bytes']:>6}{r['rx_bytes']:>6}{r['radio_ms']:>9}{r['energy_mAs']:>7.1f}"
                  f"{BATTERY_MAS / r['energy_mAs']:>16,.0f}")
# steady state: the median press after the first (a buttonhook board's first press is a full
# one), so that one press slowed by a busy machine does not decide
def steady(reps):
    rest = sorted(reps[1:] or reps, key=lambda r: r["radio_ms"])
    return rest[(len(rest) - 1) // 2]
print("steady state (each board's median press after its first) against the issue's targets:")
target = {"http": 400, "https": 600}
for proto in ("http", "https"):
    ch, bh = steady(rows[f"chapter-{proto}"]), steady(rows[f"buttonhook-{proto}"])
    ratio = ch["energy_mAs"] / bh["energy_mAs"]
    t = target[proto]
    print(f"  {proto:<5}: chapter {ch['radio_ms']} ms / {ch['energy_mAs']:.1f} mAs, buttonhook "
          f"{bh['radio_ms']} ms / {bh['energy_mAs']:.1f} mAs ({bh['tx_packets']} packets sent, "
          f"{bh['tx_bytes'] + bh['rx_bytes']} bytes both ways): {ratio:.1f}x less energy a press")
    print(f"         radio-on at most {t} ms: "
          + ("met" if bh["radio_ms"] <= t else f"MISSED by {bh['radio_ms'] - t} ms")
          + f"; at least 5x less energy: " + ("met" if ratio >= 5 else f"MISSED ({ratio:.1f}x)"))
print("  (the model assumes a deep-sleep wake without a full RF calibration, 113 ms to the first")
print("  instruction, and an association that reuses the SDK's cached key, 160 ms; a full RF")
print("  calibration on every wake would add about 200 ms a press: docs/energy-model.md)")
print(f"battery (2000 mAh usable, sleep at 20 uA = {SLEEP_MAS_DAY:.0f} mAs a day):")
for proto in ("http", "https"):
    ch, bh = steady(rows[f"chapter-{proto}"]), steady(rows[f"buttonhook-{proto}"])
    for per_day in (1, 10, 50):
        y = {k: BATTERY_MAS / (SLEEP_MAS_DAY + per_day * r["energy_mAs"]) / 365
             for k, r in (("chapter", ch), ("buttonhook", bh))}
        print(f"  {proto:<5} {per_day:>2} presses a day: chapter {y['chapter']:.1f} years, "
              f"buttonhook {y['buttonhook']:.1f} years")
    print(f"  {proto:<5} presses alone (no sleep): chapter {BATTERY_MAS / ch['energy_mAs']:,.0f}, "
          f"buttonhook {BATTERY_MAS / bh['energy_mAs']:,.0f}")
PY
reused=$(grep -c ' 200 r$' "$tmp/nginx/logs/access.log" || true)
echo "nginx saw $reused of $((2 * PRESSES)) HTTPS presses on a resumed session (\$ssl_session_reused)"

# The CPU work of the handshakes: callgrind on two more HTTPS boards, counting only inside
# hal_tls_start() (mbedTLS, the CA file, the kept session), one file per wake. Under valgrind
# the wakes are slow, so their radio figures above are not taken from these boards.
if command -v valgrind >/dev/null; then
  mkdir -p "$tmp/cg"
  for fw in chapter buttonhook; do
    fast=0
    [ $fw = buttonhook ] && fast=1
    PRESSES=3 board "cg-$fw" https $fast valgrind --tool=callgrind --toggle-collect=hal_tls_start \
      --callgrind-out-file="$tmp/cg/$fw.%p"
    "$sim" off --state "$tmp/cg-$fw" >/dev/null 2>&1 || true
    # one file per wake, in the order the wakes forked; power-on made no handshake
    irs=$(for f in $(ls "$tmp/cg/$fw".* | sort -t. -k2 -n); do
            grep -E '^(summary|totals):' "$f" | head -1 | awk '{print $2}'
          done | awk '$1 > 0' | tr '\n' ' ')
    echo "instructions in hal_tls_start() per HTTPS press, $fw (callgrind, x86-64): $irs"
  done
fi
stop
