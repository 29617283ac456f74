#!/usr/bin/env bash
# System calls per request of `axes demo --password-hasher fast`:
# `strace -f -c` over N requests of a login.lua workload (wrk -c4), divided
# by N. strace slows the server many times over, so groups of SQLite writes
# are larger than at full speed: compare builds with each other, not with
# the wrk figures.
#
#   scripts/bench/syscalls.sh BINARY MODE [TOML] [N]
set -euo pipefail
bin=$1; mode=$2; extra=${3:-'handler = "memory"'}; n=${4:-3000}
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
pid=; tracer=
cleanup() { [ -n "$tracer" ] && kill -INT "$tracer" 2>/dev/null; [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
printf 'failure_limit = 5\nlockout_parameters = [["ip_address", "username"]]\ntrusted_proxies = ["127.0.0.1/32"]\n%s\n' \
  "${extra//\$DIR/$dir}" > "$dir/axes.toml"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" --config "$dir/axes.toml" demo --listen "127.0.0.1:$port" --user alice:wonderland \
  --password-hasher fast >"$dir/log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.05; done
strace -c -f -p "$pid" -o "$dir/counts" 2>/dev/null &
tracer=$!
sleep 1
wrk -t1 -c4 -d120s -s "$here/login.lua" "http://127.0.0.1:$port" -- "$mode" "$RANDOM$RANDOM" "$n" >/dev/null
kill -INT "$tracer"; wait "$tracer" || true; tracer=
awk -v n="$n" 'NR > 2 && $NF != "total" && $4 ~ /^[0-9]+$/ { printf "%-16s %8.2f per request\n", $NF, $4 / n }' \
  "$dir/counts" | sort -k2 -g -r
