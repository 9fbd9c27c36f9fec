#!/usr/bin/env bash
# make bench, hookd's part: its trigger endpoint next to adnanh/webhook (Debian's `webhook`)
# and nginx answering a fixed 200 (the ceiling), with wrk on loopback, for two workloads:
#   accept-only     hookd: an event with no applet (still stored durably before the 200);
#                   webhook: a hook whose trigger-rule never matches
#   run-a-command   hookd: a command applet running /bin/true; webhook: execute-command
#                   /bin/true (both answer before the command runs, off the request path);
#                   wrk for BENCH_CMD_SECONDS (default 2), then each server's backlog is
#                   timed until it has run every command it answered
# then, after the run, the events hookd stored against wrk's count of 2xx replies, and the
# press-to-action time: sequential triggers to an event with a maildir applet, from the POST
# to the mail appearing in Maildir/new.
# Accept-only runs the three back to back BENCH_ROUNDS times (default 3) and reports medians
# and the median of each round's ratios; at the end, each of the issue's targets with its
# verdict and the ceiling (nginx's fixed 200 over webhook).
# Accept-only also runs the floor of hookd's shape: bench/fronts' minimal libmicrohttpd server
# in hookd's loop (poll()) answering each request only after a committer thread has appended
# it to a file and fdatasync()ed it, as hookd's group commit does, without any of hookd's
# work (no SQLite, no JSON): a target below that floor is out of reach of hookd's shape (its
# HTTP library, a reply after a durable write) on this machine, and the targets' verdicts
# say so.
# Then hookd alone (and nginx) on 1 and 2 cores: req/s and CPU per trigger on each core set.
# Bounded (each wrk run BENCH_SECONDS, default 8), loopback only, leaves nothing running.
# Cores (taskset lists, so that the same script measures a bigger machine):
#   BENCH_SERVER_CPUS   the servers' cores (default: all, shared with wrk)
#   BENCH_WRK_CPUS      wrk's cores (default: all)
#   BENCH_SCALE_SETS    the core sets of the scaling runs (default "0 0-1": 1 and 2 cores)
# usage: bench/hookd.sh BUILD_DIR
set -euo pipefail
build=$1
src=$(cd "$(dirname "$0")/.." && pwd)
hookd="$build/hookd/hookd"
secs=${BENCH_SECONDS:-8}
cmd_secs=${BENCH_CMD_SECONDS:-2}
conns=${BENCH_CONNECTIONS:-64}
presses=${BENCH_PRESSES:-50}
rounds=${BENCH_ROUNDS:-3}
body='{"value1":"micropython1"}'
key=benchKey_0123456789abcd

for tool in wrk webhook nginx python3 curl cc pkg-config; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] ||
    { echo "bench: $tool is missing (scripts/deps.sh check)" >&2; exit 1; }
done
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
srv=()
[ -n "${BENCH_SERVER_CPUS:-}" ] && srv=(taskset -c "$BENCH_SERVER_CPUS")
wrk=(wrk)
[ -n "${BENCH_WRK_CPUS:-}" ] && wrk=(taskset -c "$BENCH_WRK_CPUS" wrk)
scale_sets=${BENCH_SCALE_SETS:-"0 0-1"}
[ "$(nproc --all)" -ge 2 ] || scale_sets=${BENCH_SCALE_SETS:-0}

tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"


# -- the three servers -------------------------------------------------------------------
hport=$(free_port)
cat >"$tmp/hookd.json" <<EOF
{
  "key": "$key",
  "admin_password": "bench-password",
  "limits": {"per_ip": {"rate": 0, "burst": 1}, "per_key": {"rate": 0, "burst": 1}},
  "applets": [
    {"name": "bench run a command", "event": "bench_cmd", "action": "command",
     "fields": {"argv": ["/bin/true"]}},
    {"name": "bench press to action", "event": "bench_mail", "action": "maildir",
     "fields": {"path": "$tmp/Maildir"}}
  ]
}
EOF
"${srv[@]}" "$hookd" --data "$tmp/hookd" --listen "127.0.0.1:$hport" --config "$tmp/hookd.json" \
  2>"$tmp/hookd.log" &
hookd_pid=$!
pids+=("$hookd_pid")

wport=$(free_port)
wcport=$(free_port)   # a webhook of its own for run-a-command (below)
cat >"$tmp/hooks.json" <<'EOF'
[
  {"id": "accept", "execute-command": "/bin/true", "response-message": "ok",
   "trigger-rule": {"match": {"type": "value", "value": "never-matches",
                              "parameter": {"source": "payload", "name": "value1"}}}},
  {"id": "run", "execute-command": "/bin/true", "response-message": "ok"}
]
EOF
"${srv[@]}" webhook -hooks "$tmp/hooks.json" -ip 127.0.0.1 -port "$wport" >"$tmp/webhook.log" 2>&1 &
webhook_pid=$!
pids+=("$webhook_pid")

nport=$(free_port)
nginx_fixed_conf "$tmp/nginx" "$nport" auto \
  "Congratulations! You've fired the button_pressed event"
"${srv[@]}" "$nginx_bin" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -g 'daemon off;' \
  2>"$tmp/nginx/stderr" &
nginx_pid=$!
pids+=("$nginx_pid")

# the floor: bench/fronts/mhd.c in poll() mode, deferred, an fdatasync per batch
fport=$(free_port)
# shellcheck disable=SC2046
cc -O2 -std=gnu11 -pthread -DUSE_POLL -o "$tmp/floor" "$src/bench/fronts/mhd.c" \
  $(pkg-config --cflags --libs libmicrohttpd)
FRONT_FSYNC="$tmp/floor.log" "${srv[@]}" "$tmp/floor" "$fport" "$("${srv[@]}" nproc)" defer \
  2>"$tmp/floor.stderr" &
floor_pid=$!
pids+=("$floor_pid")

wait_up "http://127.0.0.1:$fport/"
wait_up "http://127.0.0.1:$hport/trigger/bench_warm/with/key/$key"
wait_up "http://127.0.0.1:$wport/hooks/accept"
wait_up "http://127.0.0.1:$nport/"

# -- wrk -----------------------------------------------------------------------------------
post_lua "$tmp/post.lua" "$body"

# CPU time (ticks) used so far by a server and its children (nginx's workers)
cpu_ticks() {   # PID
  local t=0 p
  for p in "$1" $(pgrep -P "$1" || true); do
    t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "$t"
}
declare -A rps p50 p99 ok runs cpu
us_per() {   # NAME: the server's CPU time per request over all the runs of NAME
  read -r t r <<<"${cpu[$1]}"
  awk -v t="$t" -v r="$r" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.1f", r ? t / hz * 1e6 / r : 0}'
}
run_wrk() {   # NAME URL [SERVER_PID]: one run; ok adds up the 2xx of every run of NAME;
              # with the pid, cpu[NAME] adds up the server's CPU ticks and requests
  local out t0=0 t1=0
  [ -n "${3:-}" ] && t0=$(cpu_ticks "$3")
  out=$("${wrk[@]}" -t2 -c"$conns" -d"${secs}s" --latency -s "$tmp/post.lua" "$2" 2>&1)
  [ -n "${3:-}" ] && t1=$(cpu_ticks "$3")
  echo "$out" >>"$tmp/wrk-$1.txt"
  read -r _ reqs non2xx sockerr dur_us l50 l99 <<<"$(grep '^RESULT' <<<"$out")"
  rps[$1]=$(awk -v r="$reqs" -v d="$dur_us" 'BEGIN{printf "%.0f", r / (d / 1e6)}')
  p50[$1]=$l50
  p99[$1]=$l99
  ok[$1]=$((${ok[$1]:-0} + reqs - non2xx))
  runs[$1]="${runs[$1]:-}${rps[$1]} $l50 $l99;"
  read -r ct cr <<<"${cpu[$1]:-0 0}"
  cpu[$1]="$((ct + t1 - t0)) $((cr + reqs))"
  printf '  %-22s %8s req/s  p50 %7s ms  p99 %7s ms  (%d requests, %d non-2xx, %d socket errors)\n' \
    "$1" "${rps[$1]}" "$l50" "$l99" "$reqs" "$non2xx" "$sockerr"
}

echo "== hookd's trigger endpoint vs adnanh/webhook vs nginx (fixed 200)"
echo "   wrk -t2 -c$conns -d${secs}s, POST $body, loopback, $(nproc) CPUs shared by wrk and the server" \
     "(server cores: ${BENCH_SERVER_CPUS:-all}, wrk's: ${BENCH_WRK_CPUS:-all})"
# The machine is shared and noisy: accept-only runs the three back to back, ROUNDS times,
# and takes the median of each figure and of each round's ratios.
echo "-- accept-only, $rounds rounds"
for _ in $(seq "$rounds"); do
  run_wrk hookd-accept "http://127.0.0.1:$hport/trigger/bench_accept/with/key/$key" "$hookd_pid"
  run_wrk webhook-accept "http://127.0.0.1:$wport/hooks/accept" "$webhook_pid"
  run_wrk nginx-accept "http://127.0.0.1:$nport/trigger/bench_accept/with/key/$key" "$nginx_pid"
  run_wrk floor-accept "http://127.0.0.1:$fport/trigger/bench_accept/with/key/$key" "$floor_pid"
done
ratio_floor=$(python3 - "${runs[floor-accept]}" "${runs[nginx-accept]}" <<'PY'
import statistics as st, sys
f, n = ([list(map(float, r.split())) for r in a.split(";") if r.strip()] for a in sys.argv[1:])
print("%.2f" % st.median([a[0] / b[0] for a, b in zip(f, n)]))
PY
)
# medians: NAME -> rps, p50, p99; and the per-round ratios hookd/webhook, hookd/nginx,
# nginx/webhook
read -r 'rps[hookd-accept]' 'p50[hookd-accept]' 'p99[hookd-accept]' \
        'rps[webhook-accept]' 'p50[webhook-accept]' 'p99[webhook-accept]' \
        'rps[nginx-accept]' 'p50[nginx-accept]' 'p99[nginx-accept]' \
        ratio_wh ratio_ngx ratio_ceiling <<<"$(python3 - "${runs[hookd-accept]}" \
  "${runs[webhook-accept]}" "${runs[nginx-accept]}" <<'PY'
import statistics as st, sys
h, w, n = ([list(map(float, r.split())) for r in a.split(";") if r.strip()] for a in sys.argv[1:])
med = lambda xs: st.median(xs)
out = []
for runs in (h, w, n):
    out += ["%.0f" % med([r[0] for r in runs]), "%.3f" % med([r[1] for r in runs]),
            "%.3f" % med([r[2] for r in runs])]
out += ["%.2f" % med([a[0] / b[0] for a, b in zip(h, w)]),
        "%.2f" % med([a[0] / b[0] for a, b in zip(h, n)]),
        "%.2f" % med([a[0] / b[0] for a, b in zip(n, w)])]
print(" ".join(out))
PY
)"
# -- hookd (and nginx) on 1 and 2 cores ----------------------------------------------------
# A hookd of its own (its HTTP threads follow its cores) and nginx with as many workers, each
# under taskset on one core set after the other; wrk on BENCH_WRK_CPUS.
echo "-- accept-only on core sets ${scale_sets// /, } (taskset; wrk on ${BENCH_WRK_CPUS:-all})"
for set in $scale_sets; do
  ncpu=$(taskset -c "$set" nproc)
  sport=$(free_port)
  taskset -c "$set" "$hookd" --data "$tmp/hookd-$set" --listen "127.0.0.1:$sport" \
    --config "$tmp/hookd.json" 2>"$tmp/hookd-$set.log" &
  spid=$!
  pids+=("$spid")
  snport=$(free_port)
  nginx_fixed_conf "$tmp/nginx-$set" "$snport" "$ncpu" \
    "Congratulations! You've fired the button_pressed event"
  taskset -c "$set" "$nginx_bin" -p "$tmp/nginx-$set" -c "$tmp/nginx-$set/nginx.conf" \
    -g 'daemon off;' 2>"$tmp/nginx-$set/stderr" &
  snpid=$!
  pids+=("$snpid")
  wait_up "http://127.0.0.1:$sport/trigger/bench_warm/with/key/$key"
  wait_up "http://127.0.0.1:$snport/"
  run_wrk "hookd@$set" "http://127.0.0.1:$sport/trigger/bench_accept/with/key/$key" "$spid"
  run_wrk "nginx@$set" "http://127.0.0.1:$snport/trigger/bench_accept/with/key/$key" "$snpid"
  kill -TERM "$spid" "$snpid"
  wait "$spid" "$snpid" || true
done
for set in $scale_sets; do
  printf '  cores %-5s hookd %8s req/s, %5s us CPU per trigger; nginx %8s req/s, %5s us\n' \
    "$set" "${rps[hookd@$set]}" "$(us_per "hookd@$set")" "${rps[nginx@$set]}" \
    "$(us_per "nginx@$set")"
done

# -- press-to-action (before run-a-command, whose backlog of commands would be ahead)----------------------------------------------------------------------
echo "-- press-to-action: $presses sequential triggers, POST to the mail in Maildir/new"
python3 - "$hport" "$key" "$tmp/Maildir" "$presses" "$body" <<'PY'
import http.client, math, os, sys, time
port, key, maildir, n, body = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
new = os.path.join(maildir, "new")
def count():
    try:
        return len(os.listdir(new))
    except FileNotFoundError:
        return 0
times = []
for i in range(n):
    before = count()
    t0 = time.perf_counter()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("POST", "/trigger/bench_mail/with/key/" + key, body,
              {"Content-Type": "application/json"})
    r = c.getresponse(); r.read(); c.close()
    if r.status != 200:
        sys.exit("press-to-action: trigger answered %d" % r.status)
    t_reply = time.perf_counter()
    deadline = t0 + 10
    while count() <= before:
        if time.perf_counter() > deadline:
            sys.exit("press-to-action: no mail 10 s after trigger %d" % i)
        time.sleep(0.0002)
    times.append(((time.perf_counter() - t0) * 1000, (t_reply - t0) * 1000))
act = sorted(t for t, _ in times)
rep = sorted(r for _, r in times)
pct = lambda xs, p: xs[max(0, math.ceil(p / 100 * len(xs)) - 1)]   # nearest rank
print("  trigger -> 200 reply:       p50 %6.2f ms  p99 %6.2f ms" % (pct(rep, 50), pct(rep, 99)))
print("  trigger -> mail delivered:  p50 %6.2f ms  p99 %6.2f ms  (n=%d, max %.2f ms)"
      % (pct(act, 50), pct(act, 99), len(act), act[-1]))
PY

echo "-- run-a-command (/bin/true), wrk for ${cmd_secs} s"
# Both servers answer before the command runs and go on running what they accepted after wrk
# stops: the comparison is how fast each runs its backlog once wrk has stopped (nothing else
# running then), and over the whole run. webhook's children are too short-lived to be seen
# by sampling (pgrep finds none at most instants while it still has thousands to run), so a
# webhook of its own with -verbose logs "finished handling run" after each command, and
# those lines are counted. On this VM /bin/true itself costs about 3.5 ms of CPU (exec, the
# dynamic loader, page faults), so the machine, not either server, sets the pace.
"${srv[@]}" webhook -verbose -hooks "$tmp/hooks.json" -ip 127.0.0.1 -port "$wcport" \
  >"$tmp/webhook-cmd.log" 2>&1 &
pids+=("$!")
wait_up "http://127.0.0.1:$wcport/hooks/accept"
finished() { grep -c 'finished handling run' "$tmp/webhook-cmd.log" || true; }
cmd_wrk() {   # NAME URL: run_wrk for cmd_secs
  local keep=$secs
  secs=$cmd_secs
  run_wrk "$@"
  secs=$keep
}
cmd_wrk webhook-cmd "http://127.0.0.1:$wcport/hooks/run"
t0=$(date +%s.%N); f0=$(finished); f=$f0; last=$f0; still=0
for _ in $(seq 720); do   # up to 360 s
  f=$(finished)
  [ "$f" -ge "${ok[webhook-cmd]}" ] && break
  if [ "$f" -eq "$last" ]; then still=$((still + 1)); else still=0; last=$f; fi
  [ "$still" -ge 10 ] && break   # 5 s without one more: the rest never ran
  sleep 0.5
done
wh_tail=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{print b - a}')
wh_rate=$(awk -v n="$((f - f0))" -v t="$wh_tail" 'BEGIN{printf "%.0f", (t > 0 ? n / t : 0)}')
wh_all=$(awk -v n="$f" -v t="$cmd_secs" -v x="$wh_tail" 'BEGIN{printf "%.0f", n / (t + x)}')
printf '  (webhook: %d of its %d answered commands ran while wrk ran, the other %d in the %.1f s after: %s a second; %s a second over the whole run; %d never ran)\n' \
  "$f0" "${ok[webhook-cmd]}" "$((f - f0))" "$wh_tail" "$wh_rate" "$wh_all" \
  "$(( f >= ${ok[webhook-cmd]} ? 0 : ${ok[webhook-cmd]} - f ))"
cmd_wrk hookd-cmd "http://127.0.0.1:$hport/trigger/bench_cmd/with/key/$key"
# hookd stores each trigger, answers, and its workers run the commands off the request path:
# how long its queue takes to drain after wrk stops (up to 360 s; what is left then resumes at
# the next start, as the durability lines below count).
queued() {
  curl -s "http://127.0.0.1:$hport/metrics" |
    awk '/^hookd_deliveries_(pending|running) /{n += $2} END{print n + 0}'
}
t0=$(date +%s.%N); left0=$(queued); left=$left0
for _ in $(seq 720); do
  left=$(queued); [ "$left" -eq 0 ] && break
  sleep 0.5
done
took=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{print b - a}')
drain_rate=$(awk -v n="$((left0 - left))" -v t="$took" 'BEGIN{printf "%.0f", (t > 0 ? n / t : 0)}')
hk_all=$(awk -v n="$((${ok[hookd-cmd]} - left))" -v t="$cmd_secs" -v x="$took" 'BEGIN{printf "%.0f", n / (t + x)}')
printf '  (hookd: %d of its %d answered commands ran while wrk ran, the other %d in the %.1f s after: %s a second; %s a second over the whole run; %d left)\n' \
  "$((${ok[hookd-cmd]} - left0))" "${ok[hookd-cmd]}" "$((left0 - left))" "$took" "$drain_rate" "$hk_all" "$left"


# -- stop hookd, then count what it stored ---------------------------------------------------
kill -TERM "$hookd_pid"
rc=0
wait "$hookd_pid" || rc=$?
[ "$rc" -eq 0 ] || { echo "bench: hookd exited $rc" >&2; tail -20 "$tmp/hookd.log" >&2; exit 1; }

echo
echo "== summary (req/s; latency in ms; ratios of req/s)"
printf '%-15s %9s %8s %8s %9s %8s %8s %9s %9s\n' workload "hookd" p50 p99 "webhook" p50 p99 \
  "hookd/wh" "hookd/ngx"
for w in accept cmd; do
  name=$([ "$w" = accept ] && echo accept-only || echo run-a-command)
  # nginx's fixed 200 is the ceiling for both workloads
  ngx=$(awk -v a="${rps[hookd-$w]}" -v b="${rps[nginx-accept]}" 'BEGIN{printf "%.2f", a / b}')
  wh=$(awk -v a="${rps[hookd-$w]}" -v b="${rps[webhook-$w]}" 'BEGIN{printf "%.2f", a / b}')
  [ "$w" = accept ] && ngx=$ratio_ngx wh=$ratio_wh   # medians of the rounds' ratios
  printf '%-15s %9s %8s %8s %9s %8s %8s %9s %9s\n' "$name" "${rps[hookd-$w]}" "${p50[hookd-$w]}" \
    "${p99[hookd-$w]}" "${rps[webhook-$w]}" "${p50[webhook-$w]}" "${p99[webhook-$w]}" "$wh" "$ngx"
done
echo "(accept-only: medians of $rounds rounds, each ratio taken within a round)"
# On two CPUs shared with wrk, the CPU a server spends per request bounds its throughput and
# is steadier than req/s on a busy machine; hookd's req/s are also bounded by the commit's
# fsync latency (docs/http-front.md).
echo "accept-only CPU per request (user + system): hookd $(us_per hookd-accept) us," \
     "webhook $(us_per webhook-accept) us, nginx $(us_per nginx-accept) us," \
     "the floor $(us_per floor-accept) us"
printf '%-15s %9s %8s %8s\n' "nginx (200)" "${rps[nginx-accept]}" "${p50[nginx-accept]}" "${p99[nginx-accept]}"
printf '%-15s %9s %8s %8s   (a reply after an fdatasync, nothing else; above)\n' "the floor" \
  "${rps[floor-accept]}" "${p50[floor-accept]}" "${p99[floor-accept]}"

echo
echo "== durability: events hookd stored vs 2xx replies wrk counted"
durable=0
python3 - "$tmp/hookd/hookd.db" "${ok[hookd-accept]}" "${ok[hookd-cmd]}" <<'PY' || durable=$?
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
lost = False
for name, answered in (("bench_accept", int(sys.argv[2])), ("bench_cmd", int(sys.argv[3]))):
    stored = db.execute("SELECT count(*) FROM events WHERE name = ?", (name,)).fetchone()[0]
    # wrk stops counting at the deadline: requests in flight then are stored but not counted
    verdict = "ok" if stored >= answered else "LOST %d" % (answered - stored)
    lost |= stored < answered
    print("  %-13s stored %8d   wrk 2xx %8d   %s" % (name, stored, answered, verdict))
states = dict(db.execute("SELECT state, count(*) FROM deliveries d JOIN events e "
                         "ON e.id = d.event_id WHERE e.name = 'bench_cmd' GROUP BY state"))
print("  bench_cmd deliveries at shutdown (the rest resume at the next start): %s"
      % ", ".join("%s %d" % kv for kv in sorted(states.items())))
sys.exit(1 if lost else 0)
PY

# The issue's targets, each with its verdict for this run, and the ceiling: when nginx's fixed
# 200 is itself below 3x webhook here, that target cannot be met by any server on this
# machine, and the output says so rather than hiding it. (bench/fronts/run.sh measures the
# candidate HTTP fronts the same way; docs/http-front.md.)
echo
echo "== the issue's targets, this run"
python3 - "$ratio_wh" "$ratio_ngx" "$ratio_ceiling" \
  "${p99[hookd-accept]}" "${rps[hookd-cmd]}" "${rps[webhook-cmd]}" "$durable" \
  "$(us_per hookd-accept)" "$(us_per nginx-accept)" "$drain_rate" "$wh_rate" \
  "$(us_per floor-accept)" "$ratio_floor" <<'PY'
import sys
(rw, rn, ceil, p99, hc, wc, durable, hus, nus, drain, whrate, fus,
 rf) = map(float, sys.argv[1:])
# issue 15: hookd's CPU per durable trigger against nginx's fixed 200, in the same run
line = lambda what, ok, detail: print("  %-56s %-6s %s" % (what, "met" if ok else "MISSED",
                                                          detail))
line("accept-only: hookd CPU per trigger <= 2x nginx's", hus <= 2 * nus,
     "%.2fx (%.1f us against %.1f us)" % (hus / nus if nus else 0, hus, nus))
line("accept-only: hookd >= 0.6x nginx's req/s", rn >= 0.6, "%.2fx" % rn)
line("accept-only: p99 <= 5 ms", p99 <= 5, "%.2f ms" % p99)
line("run-a-command: hookd's queue drains >= webhook's rate", drain >= whrate,
     "%.0f/s against %.0f/s" % (drain, whrate))
# the floor (a reply after an fdatasync per batch, in hookd's loop, with none of hookd's work):
# what libmicrohttpd's deferred reply after a durable write costs on this machine
print("    floor: a bare reply after an fdatasync per batch costs %.2fx nginx's CPU (%.1f us)"
      " and makes %.2fx its req/s here;" % (fus / nus if nus else 0, fus, rf))
print("    hookd's own work adds %.1f us per trigger to it" % (hus - fus))
for what, need, have in (("2x nginx's CPU", 2, fus / nus if nus else 0),
                         ("0.6x nginx's req/s", 0.6, rf)):
    if (have > need) if need == 2 else (have < need):
        print("    %s is BELOW that floor here: out of reach of libmicrohttpd's reply after"
              " a durable write on this machine" % what)
print("  earlier issues' targets:")
def line(what, ok, detail):
    print("  %-56s %-6s %s" % (what, "met" if ok else "MISSED", detail))
line("accept-only: hookd >= 3x webhook", rw >= 3, "%.2fx" % rw)
print("    ceiling: nginx's fixed 200 is %.2fx webhook here, so 3x webhook is %s" % (ceil,
      "ABOVE the ceiling: out of reach of any HTTP server on this machine" if ceil < 3
      else "within the ceiling"))
line("accept-only: hookd >= 0.5x nginx (64 connections)", rn >= 0.5, "%.2fx" % rn)
line("accept-only: p99 < 10 ms", p99 < 10, "%.2f ms" % p99)
line("every answered trigger durably stored (both workloads)", durable == 0,
     "see durability above")
line("run-a-command: hookd ahead of webhook", hc > wc, "%.2fx" % (hc / wc))
PY
exit "$durable"
