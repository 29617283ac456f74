#!/usr/bin/env bash
# Quick wall-clock A/B of `axes demo` builds: requests/s and server CPU per
# request for one login.lua workload, each build on a fresh store.
#
#   scripts/bench/ab.sh MODE SECS TOML BINARY...
#
# MODE is a workload of login.lua (fail, success, locked, spray); TOML is
# extra settings, e.g. 'handler = "memory"' or 'enabled = false' (a
# `database_url` of `sqlite://$DIR/x.db` gets a fresh file per run: $DIR is
# the run's scratch directory). CPU is the server's utime+stime from /proc
# before and after the wrk window. For figures to keep, use run.py; this
# is for trying a change (alternate the builds, run it twice: the machine
# is noisy).
set -euo pipefail
mode=$1; secs=$2; extra=$3; shift 3
here=$(cd "$(dirname "$0")" && pwd)
. "$here/demo.sh"
hz=$(getconf CLK_TCK)
for bin in "$@"; do
  dir=$(mktemp -d)
  demo_config "$dir" "$extra"
  demo_start "$dir" 300 "$bin"
  t0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  out=$(wrk -t1 -c4 -d"${secs}s" -s "$here/login.lua" "http://127.0.0.1:$port" -- "$mode" "$RANDOM$RANDOM" 0)
  t1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  kill "$pid"; wait "$pid" 2>/dev/null || true; rm -rf "$dir"
  n=$(sed -n 's/^STATUSES //p' <<<"$out" | tr ' ' '\n' | awk -F: '{ n += $2 } END { print n + 0 }')
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  echo "$bin $mode: $rps requests/s, $(( (t1 - t0) * 1000000 / hz / (n > 0 ? n : 1) )) µs CPU/request ($n answered)"
done
