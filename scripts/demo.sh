#!/usr/bin/env bash
# make demo: hookd with one applet (button_pressed -> an email into a Maildir), a simulated
# button whose config.py holds hookd's trigger URL and key, pressed once; then the email it
# sent and the wake report. Runs unattended, leaves nothing running, and says how to go on.
# Usage: scripts/demo.sh BUILD_DIR   (BH_DEMO_DIR: where to put it all, default build/demo;
# the demo's test sets it so that it never touches a user's build/demo)
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
sim="$build/firmware/ports/sim/simboard"
hookd="$build/hookd/hookd"
demo=${BH_DEMO_DIR:-$src/build/demo}
rm -rf "$demo"
mkdir -p "$demo/button1/flash"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$demo/hookd.json" <<EOF
{
  "listen": "127.0.0.1:$port",
  "applets": [
    {"name": "button_pressed -> email", "event": "button_pressed", "action": "maildir",
     "fields": {"path": "$demo/Maildir", "to": "you@localhost",
                "body": "What: {{EventName}}<br>\\nWhen: {{OccurredAt}}<br>\\nButton: {{Value1}}<br>"}}
  ]
}
EOF
# the admin password for hookd's page, set the way a user would (hookd password reads stdin)
password=demo-$(head -c 9 /dev/urandom | base64 | tr '+/' '-_')
printf '%s\n' "$password" | "$hookd" password --data "$demo/hookd" >/dev/null 2>"$demo/password.log" ||
  { cat "$demo/password.log" >&2; exit 1; }
(umask 077; printf '%s\n' "$password" >"$demo/admin-password")

hpid= spid=
cleanup() {
  [ -n "$spid" ] && { "$sim" off --state "$demo/button1" >/dev/null 2>&1 || kill "$spid" 2>/dev/null || true; wait "$spid" 2>/dev/null || true; }
  [ -n "$hpid" ] && { kill "$hpid" 2>/dev/null || true; wait "$hpid" 2>/dev/null || true; }
  spid= hpid=
}
trap cleanup EXIT
# Ctrl-C or a kill: stop both, then leave with the signal's status
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

echo "== starting hookd: $hookd --data $demo/hookd --config $demo/hookd.json"
"$hookd" --data "$demo/hookd" --config "$demo/hookd.json" 2>"$demo/hookd.log" &
hpid=$!
for _ in $(seq 100); do grep -q "listening on" "$demo/hookd.log" && break; sleep 0.1; done
grep -q "listening on" "$demo/hookd.log" || { cat "$demo/hookd.log" >&2; echo "demo: hookd did not start" >&2; exit 1; }
sed 's/^/   /' "$demo/hookd.log"
key=$("$hookd" key --data "$demo/hookd")
url="http://127.0.0.1:$port/trigger/button_pressed/with/key/$key"

echo
echo "== config.py on the board's flash, with the key from \`hookd key\` ($demo/button1/flash/config.py):"
sed "s|http://127.0.0.1:8080/trigger/button_pressed/with/key/your-key|$url|" \
  "$src/examples/config.py" >"$demo/button1/flash/config.py"
sed 's/^/   /' "$demo/button1/flash/config.py"

echo
echo "== powering on the simulated board (first boot: PWRON_RESET, straight to deep sleep)"
"$sim" run --state "$demo/button1" --world "$src/examples/world.json" --name button1 \
  </dev/null >"$demo/button1.log" 2>&1 &
spid=$!
for _ in $(seq 100); do "$sim" state --state "$demo/button1" >/dev/null 2>&1 && break; sleep 0.1; done
"$sim" wait --state "$demo/button1" --for sleeping --timeout 30
sed 's/^/   /' "$demo/button1.log"
lines=$(wc -l <"$demo/button1.log")

echo
echo "== pressing RESET (the board wakes with DEEPSLEEP_RESET and fires the webhook at hookd)"
hlines=$(wc -l <"$demo/hookd.log")
"$sim" press --state "$demo/button1"
"$sim" wait --state "$demo/button1" --for sleeping --timeout 40
tail -n +"$((lines + 1))" "$demo/button1.log" | sed 's/^/   /'

echo
echo "== waiting for hookd's applet to deliver the email into $demo/Maildir/new"
mail=
for _ in $(seq 150); do
  mail=$(ls "$demo/Maildir/new" 2>/dev/null | head -1)
  [ -n "$mail" ] && break
  sleep 0.1
done
tail -n +"$((hlines + 1))" "$demo/hookd.log" | sed 's/^/   /'
if [ -z "$mail" ]; then
  echo "demo: FAILED: no email in $demo/Maildir/new 15 s after the press" >&2
  exit 1
fi
got=$(ls "$demo/Maildir/new" | wc -l)
if [ "$got" -ne 1 ]; then
  echo "demo: FAILED: expected one email, the Maildir has $got" >&2
  exit 1
fi

echo
echo "== the email ($demo/Maildir/new/$mail), body decoded:"
python3 - "$demo/Maildir/new/$mail" <<'PY' | sed 's/^/   /'
import email, email.policy, sys
msg = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
for h in ("Date", "From", "To", "Subject", "Message-ID"):
    if msg[h]:
        print(f"{h}: {msg[h]}")
print()
print(msg.get_content().replace("<br>", "").rstrip())
PY

echo
echo "== the wake report of that press ($demo/button1/events.jsonl, its last \"report\"):"
grep '"event":"report"' "$demo/button1/events.jsonl" | tail -1 | sed 's/^/   /'
echo "   (what this wake would have cost on a real ESP8266: radio time and charge; docs/energy-model.md)"

echo
echo "== board state"
"$sim" state --state "$demo/button1" | sed 's/^/   /'

cleanup
trap - EXIT INT TERM
# leaves nothing running: neither hookd nor the board (nor a boot of it). /proc is read
# directly: procps (pgrep, ps) is not on every minimal system.
left=$(python3 - "$demo/" <<'PY'
import glob, os, sys
for f in glob.glob("/proc/[0-9]*/cmdline"):
    try:
        args = open(f, "rb").read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        continue
    if sys.argv[1] in args and int(f.split("/")[2]) != os.getpid():
        print(f.split("/")[2], args)
PY
)
if [ -n "$left" ]; then
  echo "demo: FAILED: still running after the demo:" >&2
  echo "$left" >&2
  exit 1
fi
demo_rel=${demo#"$src"/}
cat <<MSG

Done: one press, one webhook, one email. hookd and the board are stopped. To keep playing,
in $src, with the programs on your PATH in each terminal:
      export PATH=$build/hookd:$build/firmware/ports/sim:\$PATH

   1. start hookd again (same data, same port, same key) in a terminal of its own:
        hookd --data $demo_rel/hookd --config $demo_rel/hookd.json
      and open http://127.0.0.1:$port/ (log in with the password in $demo_rel/admin-password):
      the key, a URL builder with Test It, the applets, the activity of every event.

   2. power the board on again in another terminal, which then shows the board's log:
        simboard run --state $demo_rel/button1 --world examples/world.json
      There Enter presses RESET, j toggles the debug jumper, c types to the board's
      console, q powers it off. Or from a third one:
        simboard press --state $demo_rel/button1         # press again: one more email
        ls $demo_rel/Maildir/new
        simboard jumper on --state $demo_rel/button1     # add the D5-GND jumper and press:
        simboard press --state $demo_rel/button1         # the board stays awake, with a console
        simboard type --state $demo_rel/button1 'wlan sta ifconfig'

   3. the chapter's curl line fires the same applet:
        curl -X POST -H "Content-Type: application/json" -d '{"value1":"micropython1"}' \\
          $url
      A wrong WIFI_PASSWORD in $demo_rel/button1/flash/config.py shows the error blink.

   docs/guide.md walks the whole chapter this way, step by step.
MSG
