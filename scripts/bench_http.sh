#!/usr/bin/env bash
# End-to-end HTTP benchmark on django-axes' reference workload (see
# ../shared/reference/anchor-bench.md): POST /login with form fields, the
# client IP in X-Forwarded-For from a trusted proxy, failure_limit 5,
# lockout_parameters ip_address,username, wrk -t1 -c4 for 10 s after a 3 s
# warm-up. Prints Markdown rows: req/s, latency, server CPU per request
# (utime+stime of the server process from /proc), statuses.
#
# Usage: scripts/bench_http.sh [SECONDS]   (needs wrk: apt-get install wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
port=8702
cargo build --release -q -p axes-axum --example bench_server
bin=target/release/examples/bench_server
tick=$(getconf CLK_TCK)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

run() { # run CONFIG MODE ENV...
  local config=$1 mode=$2; shift 2
  local dir; dir=$(mktemp -d)
  ( cd "$dir" && env -i PATH="$PATH" HOME="$HOME" "$@" \
      AXES_TRUSTED_PROXIES=127.0.0.1 AXES_FAILURE_LIMIT=5 \
      AXES_LOCKOUT_PARAMETERS=ip_address,username \
      AXES_DATABASE_URL="sqlite://$dir/axes.db" \
      "$OLDPWD/$bin" "127.0.0.1:$port" >/dev/null 2>&1 ) &
  local pid=$!
  for _ in $(seq 1 100); do
    curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1
  done
  local server; server=$(pgrep -P "$pid" -f bench_server || echo "$pid")
  if [ "$mode" = locked ]; then
    # Lock the client out first.
    wrk -t1 -c1 -d1s -s scripts/login.lua "http://127.0.0.1:$port" -- locked >/dev/null
  fi
  wrk -t1 -c4 -d3s -s scripts/login.lua "http://127.0.0.1:$port" -- "$mode" >/dev/null
  local before; before=$(cpu_ticks "$server")
  local out; out=$(wrk -t1 -c4 -d"${secs}s" --timeout 10s -s scripts/login.lua \
      "http://127.0.0.1:$port" -- "$mode")
  local after; after=$(cpu_ticks "$server")
  kill "$server" "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$dir"
  local reqs dur p50 p99 statuses
  reqs=$(sed -n 's/^TOTAL requests:\([0-9]*\).*/\1/p' <<<"$out")
  dur=$(sed -n 's/.*duration_us:\([0-9]*\).*/\1/p' <<<"$out")
  p50=$(sed -n 's/^LATENCY p50_us:\([0-9]*\).*/\1/p' <<<"$out")
  p99=$(sed -n 's/.*p99_us:\([0-9]*\).*/\1/p' <<<"$out")
  statuses=$(sed -n 's/^STATUSES //p' <<<"$out")
  awk -v c="$config" -v m="$mode" -v r="$reqs" -v d="$dur" -v a="$p50" -v b="$p99" \
      -v t="$((after - before))" -v hz="$tick" -v s="$statuses" 'BEGIN {
    printf "| %s | %s | %.0f | %.2f | %.2f | %.0f | %s |\n",
      c, m, r / (d / 1e6), a / 1000, b / 1000, (t / hz) * 1e6 / r, s }'
}

echo "| config | scenario | req/s | p50 ms | p99 ms | server CPU µs/req | statuses |"
echo "|---|---|---|---|---|---|---|"
for mode in fail success locked; do
  run "no axes" "$mode" AXES_ENABLED=false
  run "axes, SQLite" "$mode" AXES_HANDLER=database
  run "axes, memory" "$mode" AXES_HANDLER=memory
done
