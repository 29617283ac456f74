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
. "$here/demo.sh"
dir=$(mktemp -d)
pid=; tracer=
cleanup() { [ -n "$tracer" ] && kill -INT "$tracer" 2>/dev/null; [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
demo_config "$dir" "$extra"
demo_start "$dir" 300 "$bin"
strace -c -f -p "$pid" -o "$dir/counts" 2>/dev/null &
tracer=$!
sleep 1
wrk -t1 -c4 -d120s -s "$here/login.lua" "http://127.0.0.1:$port" -- "$mode" "$RANDOM$RANDOM" "$n" >/dev/null
kill -INT "$tracer"; wait "$tracer" || true; tracer=
awk -v n="$n" 'NR > 2 && $NF != "total" && $4 ~ /^[0-9]+$/ { printf "%-16s %8.2f per request\n", $NF, $4 / n }' \
  "$dir/counts" | sort -k2 -g -r
