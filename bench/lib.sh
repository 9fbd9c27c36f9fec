# Shared by the bench scripts (sourced): ports, waiting for a server, wrk's POST script and
# nginx answering a fixed 200 (the ceiling every HTTP server here is compared with).

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_up() {   # URL [TRIES]: until something answers a POST there (TRIES x 50 ms, default 200)
  for _ in $(seq "${2:-200}"); do
    curl -s -o /dev/null -X POST "$1" && return 0
    sleep 0.05
  done
  echo "bench: nothing answers at $1" >&2
  return 1
}

post_lua() {   # FILE BODY: a wrk script POSTing BODY as JSON that prints one RESULT line:
               # requests, non-2xx, socket errors, duration (us), p50 and p99 (ms)
  cat >"$1" <<LUA
wrk.method = "POST"
wrk.body = '$2'
wrk.headers["Content-Type"] = "application/json"
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %.3f %.3f\n", summary.requests, e.status,
    e.connect + e.read + e.write + e.timeout, summary.duration,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
LUA
}

nginx_fixed_conf() {   # DIR PORT WORKERS TEXT: DIR/nginx.conf answering every request 200 TEXT
  mkdir -p "$1"
  {
    [ "$(id -u)" -eq 0 ] && echo "user root;"
    cat <<CONF
worker_processes $3;
pid $1/nginx.pid;
error_log $1/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $1/body;
  proxy_temp_path $1/proxy;
  fastcgi_temp_path $1/fastcgi;
  uwsgi_temp_path $1/uwsgi;
  scgi_temp_path $1/scgi;
  server {
    listen 127.0.0.1:$2;
    location / {
      default_type "text/html; charset=utf-8";
      return 200 "$4";
    }
  }
}
CONF
  } >"$1/nginx.conf"
}
