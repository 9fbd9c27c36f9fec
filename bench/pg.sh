#!/usr/bin/env bash
# make bench, hookd on PostgreSQL: what PostgreSQL costs and what more instances buy.
# The same workload (wrk POSTs JSON triggers to an event with one file applet: each trigger
# is stored durably, then delivered once by some instance; the applet appends a line without
# its own fsync, so that the store is measured, not the action's disk) against
#   sqlite-1   one hookd on SQLite (the embedded default)
#   pg-1/2/3   one, two, three hookd instances sharing one PostgreSQL (a real server from
#              Debian's postgresql, fsync and synchronous_commit on, unix socket)
# each behind the same nginx (round robin, keepalive), as docs/postgresql.md deploys them,
# so that every row pays the same proxy. Then the events stored against wrk's 2xx count and
# the deliveries done, and the CPU time per trigger of the hookd instances plus PostgreSQL's
# (all its processes, exited backends included; nginx not counted), so that what more
# instances cost shows even where the cores are too few for throughput to grow. Everything runs on this machine's $(nproc) cores: wrk, nginx, every
# hookd and PostgreSQL share them, so more instances cannot add cores, only contention.
# Bounded (each wrk run BENCH_SECONDS, default 8), loopback only, leaves nothing running.
# usage: bench/pg.sh BUILD_DIR   (BENCH_PG_ROWS="1 3": only those rows; "sqlite" for SQLite's)
set -euo pipefail
build=$1
src=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${HOOKD_TEST_STORE:-}" ]; then
  # a PostgreSQL server for the duration of this script (pg_harness.py starts and stops it)
  exec python3 "$src/tests/hookd/pg_harness.py" --fsync bash "$0" "$@"
fi
hookd="$build/hookd/hookd"
secs=${BENCH_SECONDS:-8}
conns=${BENCH_CONNECTIONS:-64}
key=benchKey_0123456789abcd
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
for tool in wrk python3 curl; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (scripts/deps.sh check)" >&2; exit 1; }
done

tmp=$(mktemp -d)
pids=()
stop_all() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
trap 'stop_all; rm -rf "$tmp"' EXIT
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

new_db() {   # a new empty database on the server: its URL
  python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import pg_harness; print(pg_harness.new_database(sys.argv[2]))' \
    "$src/tests/hookd" "$HOOKD_TEST_STORE"
}

post_lua "$tmp/post.lua" '{"value1":"micropython1"}'

# PostgreSQL's postmaster: the first line of its socket's lock file (for SQLite, none)
pg_pid() {
  python3 -c 'import sys, urllib.parse as u
q = u.parse_qs(u.urlsplit(sys.argv[1]).query)
print(open("%s/.s.PGSQL.%s.lock" % (q["host"][0], q["port"][0])).readline().strip())' \
    "$HOOKD_TEST_STORE" 2>/dev/null || true
}
# CPU ticks of processes and their children, the exited ones they waited for included
tree_ticks() {   # PID...
  local t=0 p c
  for p in "$@"; do
    t=$((t + $(awk '{print $14 + $15 + $16 + $17}' "/proc/$p/stat" 2>/dev/null || echo 0)))
    for c in $(pgrep -P "$p" || true); do
      t=$((t + $(awk '{print $14 + $15}' "/proc/$c/stat" 2>/dev/null || echo 0)))
    done
  done
  echo "$t"
}

# the instances on PORT...: "CLAIMS-FOUND-SOME CLAIMS-FOUND-NONE GROUP-COMMITS" summed
claims() {
  local p
  for p in "$@"; do curl -s "http://127.0.0.1:$p/metrics"; done |
    awk '/^hookd_claims_total\{found="some"\}/{s+=$2} /^hookd_claims_total\{found="none"\}/{n+=$2}
         /^hookd_store_commits_total /{c+=$2} END{print s+0, n+0, c+0}'
}

# run NAME STORE-ARGS-PREFIX N: N hookd instances (each: STORE args), nginx in front, wrk
run() {
  local name=$1 n=$3 store ports=() hpids=() i
  store=$2
  for i in $(seq "$n"); do
    local port
    port=$(free_port)
    ports+=("$port")
    cat >"$tmp/$name-$i.json" <<EOF
{
  "key": "$key",
  "admin_password": "bench-password",
  "limits": {"per_ip": {"rate": 0, "burst": 1}, "per_key": {"rate": 0, "burst": 1}},
  "applets": [{"name": "bench file", "event": "bench_pg", "action": "file",
               "fields": {"path": "$tmp/$name-$i.jsonl", "fsync": false}}]
}
EOF
    # shellcheck disable=SC2086
    "$hookd" $store --listen "127.0.0.1:$port" --config "$tmp/$name-$i.json" \
      2>"$tmp/$name-$i.log" &
    pids+=("$!")
    hpids+=("$!")
    wait_up "http://127.0.0.1:$port/trigger/bench_warm/with/key/$key" 300 || exit 1
  done
  local nport
  nport=$(free_port)
  mkdir -p "$tmp/nginx-$name"
  {
    [ "$(id -u)" -eq 0 ] && echo "user root;"
    echo "worker_processes 1; pid $tmp/nginx-$name/nginx.pid; error_log $tmp/nginx-$name/error.log;"
    echo "events { worker_connections 1024; }"
    echo "http { access_log off; client_body_temp_path $tmp/nginx-$name/body;"
    echo "  proxy_temp_path $tmp/nginx-$name/proxy; fastcgi_temp_path $tmp/nginx-$name/f;"
    echo "  uwsgi_temp_path $tmp/nginx-$name/u; scgi_temp_path $tmp/nginx-$name/s;"
    echo "  upstream hookd { keepalive 64;"
    for p in "${ports[@]}"; do echo "    server 127.0.0.1:$p;"; done
    echo "  }"
    echo "  server { listen 127.0.0.1:$nport;"
    echo "    location / { proxy_pass http://hookd; proxy_http_version 1.1;"
    echo "      proxy_set_header Connection \"\"; proxy_set_header X-Forwarded-For \$remote_addr; } } }"
  } >"$tmp/nginx-$name/nginx.conf"
  "$nginx_bin" -p "$tmp/nginx-$name" -c "$tmp/nginx-$name/nginx.conf" -g 'daemon off;' \
    2>"$tmp/nginx-$name/stderr" &
  pids+=("$!")
  wait_up "http://127.0.0.1:$nport/trigger/bench_warm/with/key/$key" 300 || exit 1

  local out reqs non2xx sockerr dur l50 l99 rps t0 t1 pgp=""
  [ "$name" = sqlite-1 ] || pgp=$(pg_pid)
  local h0 h1 p0=0 p1=0 c0 c1
  h0=$(tree_ticks "${hpids[@]}")
  [ -z "$pgp" ] || p0=$(tree_ticks "$pgp")
  c0=$(claims "${ports[@]}")
  out=$(wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$tmp/post.lua" \
    "http://127.0.0.1:$nport/trigger/bench_pg/with/key/$key" 2>&1)
  h1=$(tree_ticks "${hpids[@]}")
  [ -z "$pgp" ] || p1=$(tree_ticks "$pgp")
  read -r _ reqs non2xx sockerr dur l50 l99 <<<"$(grep '^RESULT' <<<"$out")"
  local us ush uspg
  per_trigger() { awk -v t="$1" -v r="$reqs" -v hz="$(getconf CLK_TCK)" \
    'BEGIN{printf "%.1f", r ? t / hz * 1e6 / r : 0}'; }
  us=$(per_trigger "$((h1 - h0 + p1 - p0))")
  ush=$(per_trigger "$((h1 - h0))")
  uspg=$(per_trigger "$((p1 - p0))")
  rps=$(awk -v r="$reqs" -v d="$dur" 'BEGIN{printf "%.0f", r / (d / 1e6)}')
  # let the deliveries drain (30 s at most), then stop everything: "delivered" is what was
  # done by then (the rest would resume at the next start)
  for _ in $(seq 300); do
    local m
    m=$(curl -s "http://127.0.0.1:${ports[0]}/metrics" | awk '/^hookd_deliveries_(pending|running) /{s+=$2} END{print s+0}')
    [ "$m" = 0 ] && break
    sleep 0.1
  done
  local stored delivered
  c1=$(claims "${ports[@]}")
  stop_all
  if [ "$name" = sqlite-1 ]; then
    stored=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from events where name=\"bench_pg\"").fetchone()[0])' "$tmp/sqlite/hookd.db")
  else
    stored=$(python3 -c 'import sys,subprocess,urllib.parse as u
url=sys.argv[1]; p=u.urlsplit(url); q=u.parse_qs(p.query)
print(subprocess.run(["psql","-X","-A","-t","-h",q["host"][0],"-p",q["port"][0],"-U","postgres","-d",p.path[1:],"-c","select count(*) from events where name = '"'"'bench_pg'"'"'"],capture_output=True,text=True,check=True).stdout.strip())' "${store#--store }")
  fi
  delivered=$(cat "$tmp/$name"-*.jsonl 2>/dev/null | wc -l)
  printf '  %-9s %8s req/s  p50 %7s ms  p99 %7s ms  %7d 2xx  %6d non-2xx  %4d socket errors  stored %7d  delivered %7d  %6s us CPU/trigger (hookd %s%s)  claims/trigger %s\n' \
    "$name" "$rps" "$l50" "$l99" "$((reqs - non2xx))" "$non2xx" "$sockerr" "$stored" "$delivered" \
    "$us" "$ush" "$([ -n "$pgp" ] && echo " + PostgreSQL $uspg")" \
    "$(awk -v a="$c0" -v b="$c1" -v r="$stored" 'BEGIN{split(a, x); split(b, y)
      printf "%.3f (%.3f found none), group commits/trigger %.3f", r ? (y[1] + y[2] - x[1] - x[2]) / r : 0,
        r ? (y[2] - x[2]) / r : 0, r ? (y[3] - x[3]) / r : 0}')"
  if [ "$stored" -lt "$((reqs - non2xx))" ]; then
    echo "bench: $name: LOST $((reqs - non2xx - stored)) acknowledged triggers" >&2
    exit 1
  fi
}

echo "== hookd on SQLite vs on PostgreSQL with 1, 2, 3 instances (behind nginx)"
echo "   wrk -t2 -c$conns -d${secs}s, POST JSON to an event with a file applet, loopback,"
echo "   $(nproc) CPUs shared by wrk, nginx, every hookd and PostgreSQL (fsync on)"
# BENCH_PG_ROWS: the rows to run (default all: "sqlite 1 2 3")
rows=${BENCH_PG_ROWS:-sqlite 1 2 3}
[[ " $rows " != *" sqlite "* ]] || run sqlite-1 "--data $tmp/sqlite" 1
for n in $rows; do
  [ "$n" != sqlite ] || continue
  run "pg-$n" "--store $(new_db)" "$n"
done
