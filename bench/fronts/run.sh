#!/usr/bin/env bash
# bench/fronts/run.sh: the HTTP front chosen by measuring (docs/http-front.md).
# Minimal servers on each candidate Debian HTTP server library answer any request with hookd's
# success reply; wrk -t2 -c64 POSTs a trigger at each in turn, back to back, ROUNDS times,
# with nginx's fixed 200 (the ceiling) and adnanh/webhook (a never-matching hook) in every
# round, so the ratios compare like with like on a noisy shared machine.
#   now      the reply from the request callback: the front's best case
#   defer    hookd's shape: each request handed to a committer thread that appends a line per
#            request to a file in one write and fdatasync()s it once per batch, then completes the batch from its
#            own thread through the front's cross-thread mechanism (bench/fronts/common.h)
#   hookd    hookd itself, accept-only (an event with no applet), if BUILD_DIR has it;
#            hookd@N with http_threads N, hookd+epoll with event_loop "epoll"; base: another hookd binary (HOOKD_BASE) to compare
#            a change with, e.g. ONLY="hookd base" HOOKD_BASE=/tmp/old/hookd/hookd
# Each run prints req/s, p50/p99 and the server's CPU time per request (user + system, from
# /proc, with nginx's workers): on a shared machine the CPU cost is the steadier figure.
# CLOSE=1 sends each request on a new connection (Connection: close), as buttons do.
# With STRACE=1, then the system calls per request of each (strace -c -f for a short load).
# Bounded (SECS per run, default 5), loopback only, leaves nothing running.
# usage: bench/fronts/run.sh [BUILD_DIR]   (the fronts are built into a temporary folder)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-}
secs=${SECS:-5}
rounds=${ROUNDS:-3}
conns=${CONNS:-64}
threads=${THREADS:-2}
only=${ONLY:-}
key=benchKey_0123456789abcd
body='{"value1":"micropython1"}'

for tool in wrk nginx webhook python3 curl pkg-config cc; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] ||
    { echo "fronts: $tool is missing" >&2; exit 1; }
done
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
tmp=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
  rm -rf "$tmp"
}
trap cleanup EXIT
# shellcheck source=bench/lib.sh
. "$here/../lib.sh"

# -- build the fronts whose library is installed (the others are reported as missing) ------
cflags="-O2 -g -Wall -Wextra -Werror -std=gnu11 -pthread"
declare -A libs=(
  [mhd-epoll]="libmicrohttpd" [mhd-poll]="libmicrohttpd" [mhd-threads]="libmicrohttpd" [h2o]="libh2o-evloop"
  [evhttp]="libevent_pthreads" [evhtp]="evhtp libevent" [soup]="libsoup-3.0")
declare -A built
for f in mhd-epoll mhd-poll mhd-threads h2o evhttp evhtp soup; do
  src=${f%%-*}.c
  case $f in
    mhd-threads) extra=-DPER_CONNECTION ;;
    mhd-poll) extra=-DUSE_POLL ;;
    *) extra= ;;
  esac
  # shellcheck disable=SC2086
  if pkg-config --exists ${libs[$f]} 2>/dev/null &&
     cc $cflags $extra -o "$tmp/$f" "$here/$src" $(pkg-config --cflags --libs ${libs[$f]}) \
       2>"$tmp/cc-$f.log"; then
    built[$f]=1
  else
    echo "fronts: $f not built (its -dev package missing? $(head -c 200 "$tmp/cc-$f.log"))"
  fi
done


post_lua "$tmp/post.lua" "$body"
# CLOSE=1: a new connection per request, as buttons make (wrk reconnects after each reply)
[ "${CLOSE:-0}" = 1 ] && echo 'wrk.headers["Connection"] = "close"' >>"$tmp/post.lua"

# start NAME PORT: starts a candidate in the background (pid), its URL in url
start() {
  local name=$1 port=$2
  url="http://127.0.0.1:$port/trigger/x/with/key/$key"
  case $name in
    nginx)
      nginx_fixed_conf "$tmp/nginx" "$port" "$threads" "Congratulations! You've fired the x event"
      "$nginx_bin" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -g 'daemon off;' \
        2>"$tmp/nginx/stderr" &
      pid=$! ;;
    webhook)
      cat >"$tmp/hooks.json" <<'EOF'
[{"id": "accept", "execute-command": "/bin/true", "response-message": "ok",
  "trigger-rule": {"match": {"type": "value", "value": "never-matches",
                             "parameter": {"source": "payload", "name": "value1"}}}}]
EOF
      webhook -hooks "$tmp/hooks.json" -ip 127.0.0.1 -port "$port" >"$tmp/webhook.log" 2>&1 &
      pid=$!
      url="http://127.0.0.1:$port/hooks/accept" ;;
    hookd | hookd[@+]* | base | base[@+]*)   # @N: http_threads N; +LOOP: event_loop LOOP
      rm -rf "$tmp/hookd"
      local ht= exe=$build/hookd/hookd n=${name%+*}
      [[ $n == *@* ]] && ht=", \"http_threads\": ${n#*@}"
      [[ $name == *+* ]] && ht="$ht, \"event_loop\": \"${name##*+}\""
      [[ $name == base* ]] && exe=${HOOKD_BASE:?HOOKD_BASE: the hookd binary to compare with}
      cat >"$tmp/hookd.json" <<EOF
{"key": "$key", "admin_password": "bench-password",
 "limits": {"per_ip": {"rate": 0, "burst": 1}, "per_key": {"rate": 0, "burst": 1}$ht}}
EOF
      "$exe" --data "$tmp/hookd" --listen "127.0.0.1:$port" \
        --config "$tmp/hookd.json" 2>"$tmp/hookd.log" &
      pid=$! ;;
    *-now | *-defer)
      local front=${name%-*} mode=${name##*-}
      rm -f "$tmp/fsync.log"
      FRONT_FSYNC=$([ "$mode" = defer ] && echo "$tmp/fsync.log" || true) \
        "$tmp/$front" "$port" "$threads" "$mode" 2>"$tmp/$front.log" &
      pid=$! ;;
  esac
  wait_up "$url"
}
# CPU time (ticks) used so far by pid and its children (nginx's workers): on a shared machine,
# the server's CPU time per request is steadier than its req/s
cpu_ticks() {
  local t=0 p
  for p in "$pid" $(pgrep -P "$pid" || true); do
    t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "$t"
}
stop() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=
}

cands=(nginx)
for f in mhd-epoll mhd-poll mhd-threads h2o evhttp evhtp soup; do
  [ -n "${built[$f]:-}" ] && cands+=("$f-now")
done
for f in mhd-epoll mhd-poll mhd-threads h2o evhttp; do
  [ -n "${built[$f]:-}" ] && cands+=("$f-defer")
done
cands+=(webhook)
[ -n "$build" ] && [ -x "$build/hookd/hookd" ] && cands+=(hookd)
[ -n "${HOOKD_BASE:-}" ] && cands+=(base)
if [ -n "$only" ]; then read -ra cands <<<"$only"; fi

declare -A rps p99s cpus
echo "== HTTP fronts: wrk -t2 -c$conns -d${secs}s POST, loopback, $(nproc) CPUs shared by wrk and" \
     "the server, $threads server threads, $rounds rounds"
for round in $(seq "$rounds"); do
  echo "-- round $round"
  for c in "${cands[@]}"; do
    start "$c" "$(free_port)" || { stop; continue; }
    t0=$(cpu_ticks)
    out=$(wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$tmp/post.lua" "$url" 2>&1)
    t1=$(cpu_ticks)
    stop
    grep -q '^RESULT' <<<"$out" || { echo "  $c: wrk failed: $out"; continue; }
    read -r _ reqs non2xx sockerr dur l50 l99 <<<"$(grep '^RESULT' <<<"$out")"
    r=$(awk -v r="$reqs" -v d="$dur" 'BEGIN{printf "%.0f", r / (d / 1e6)}')
    us=$(awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v r="$reqs" \
      'BEGIN{printf "%.1f", t / hz * 1e6 / r}')
    rps[$c,$round]=$r
    p99s[$c,$round]=$l99
    cpus[$c,$round]=$us
    printf '  %-18s %8s req/s  p50 %6s ms  p99 %7s ms  %5s us CPU/req  (%d non-2xx, %d errors)\n' \
      "$c" "$r" "$l50" "$l99" "$us" "$non2xx" "$sockerr"
  done
done

echo
echo "== summary: median of $rounds rounds; ratios are per round (same round's nginx/webhook),"
echo "   then their median"
printf '%-18s %9s %9s %10s %10s %12s\n' candidate "req/s" "p99 ms" "x nginx" "x webhook" \
  "us CPU/req"
for c in "${cands[@]}"; do
  line=$(for round in $(seq "$rounds"); do
    echo "${rps[$c,$round]:-0} ${p99s[$c,$round]:-0} ${rps[nginx,$round]:-0}" \
         "${rps[webhook,$round]:-0} ${cpus[$c,$round]:-0}"
  done | python3 -c '
import sys, statistics as st
rows = [list(map(float, l.split())) for l in sys.stdin if l.strip()]
rows = [x for x in rows if x[0]]
med = lambda xs: st.median(xs) if xs else float("nan")
r = med([x[0] for x in rows]); p = med([x[1] for x in rows])
n = med([x[0] / x[2] for x in rows if x[2]]); w = med([x[0] / x[3] for x in rows if x[3]])
print("%9.0f %9.2f %10.2f %10.2f %12.1f" % (r, p, n, w, med([x[4] for x in rows])))')
  printf '%-18s %s\n' "$c" "$line"
done
ceil=$(for round in $(seq "$rounds"); do
  echo "${rps[nginx,$round]:-0} ${rps[webhook,$round]:-0}"; done | python3 -c '
import sys, statistics as st
rows = [list(map(float, l.split())) for l in sys.stdin if l.strip()]
rows = [x for x in rows if x[0] and x[1]]
print("%.2f" % st.median([x[0] / x[1] for x in rows]) if rows else "n/a")')
[ "$ceil" = n/a ] ||
  echo "ceiling: nginx's fixed 200 is ${ceil}x webhook on this machine; a 3x-webhook target" \
       "is $(awk -v c="$ceil" 'BEGIN{print (c < 3 ? "above" : "within")}') that ceiling"

[ "${STRACE:-0}" = 1 ] || exit 0
command -v strace >/dev/null || { echo "fronts: strace is missing" >&2; exit 1; }
echo
echo "== system calls per request (strace -c -f during wrk -c$conns -d3s; strace slows the"
echo "   server, so batching grows: read these as the shape, not exact figures)"
for c in "${cands[@]}"; do
  [ "$c" = nginx ] && continue   # nginx's master forks workers: attach to them
  start "$c" "$(free_port)" || { stop; continue; }
  strace -c -f -p "$pid" -o "$tmp/strace-$c.txt" 2>/dev/null &
  spid=$!
  sleep 0.5
  out=$(wrk -t2 -c"$conns" -d3s -s "$tmp/post.lua" "$url" 2>&1)
  kill -INT "$spid"; wait "$spid" 2>/dev/null || true
  stop
  reqs=$(grep '^RESULT' <<<"$out" | awk '{print $2}')
  [ -n "$reqs" ] || { echo "  $c: wrk failed: $out"; continue; }
  python3 - "$tmp/strace-$c.txt" "$reqs" "$c" <<'PY'
import sys
calls, per = 0, {}
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) >= 5 and f[0][0].isdigit() and f[-1] != "total":
        n = int(f[3]); calls += n; per[f[-1]] = n
reqs = max(1, int(sys.argv[2]))
top = sorted(per.items(), key=lambda kv: -kv[1])[:6]
print("  %-18s %5.1f syscalls/request  (%s)" % (sys.argv[3], calls / reqs,
      ", ".join("%s %.2f" % (k, v / reqs) for k, v in top)))
PY
done
