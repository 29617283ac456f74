#!/usr/bin/env bash
# Instructions per request of `axes demo --password-hasher fast` under
# callgrind: repeatable on a noisy machine, unlike time.
#
#   scripts/bench/callgrind.sh BINARY MODE [TOML]
#
# MODE is a workload of login.lua (fail, success, locked, spray); TOML is
# extra settings (default: handler = "memory"; e.g. 'enabled = false').
# Runs the demo twice under callgrind, with N1 and N2 requests, and prints
# (Ir(N2) - Ir(N1)) / (N2 - N1): start-up and shut-down cancel out.
set -euo pipefail
bin=$(realpath "$1"); mode=$2; extra=${3:-'handler = "memory"'}
here=$(cd "$(dirname "$0")" && pwd)
n1=${N1:-300}; n2=${N2:-1300}
dir=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
printf 'failure_limit = 5\nlockout_parameters = [["ip_address", "username"]]\ntrusted_proxies = ["127.0.0.1/32"]\n%s\n' "$extra" > "$dir/axes.toml"
total() { # total N -> Ir
  local port; port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  valgrind --tool=callgrind --callgrind-out-file="$dir/cg.$1" \
    "$bin" --config "$dir/axes.toml" demo --listen "127.0.0.1:$port" \
    --user alice:wonderland --password-hasher fast >"$dir/log" 2>&1 &
  pid=$!
  for _ in $(seq 1 300); do curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.1; done
  if [ "$mode" = locked ]; then
    wrk -t1 -c1 -d5s -s "$here/login.lua" "http://127.0.0.1:$port" -- locked 0 12 >/dev/null
  fi
  wrk -t1 -c1 -d20s -s "$here/login.lua" "http://127.0.0.1:$port" -- "$mode" 0 "$1" >/dev/null
  kill -TERM "$pid"; wait "$pid" || true; pid=
  sed -n 's/^summary: *//p;s/^totals: *//p' "$dir/cg.$1" | head -1
}
a=$(total "$n1"); b=$(total "$n2")
echo "$mode [$extra]: $(( (b - a) / (n2 - n1) )) instructions/request"
