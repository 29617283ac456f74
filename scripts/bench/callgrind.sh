#!/usr/bin/env bash
# Instructions per request of `axes demo --password-hasher fast` under
# callgrind: repeatable on a noisy machine, unlike time.
#
#   scripts/bench/callgrind.sh BINARY MODE [TOML]
#
# MODE is a workload of login.lua (fail, success, locked, spray); TOML is
# extra settings (default: handler = "memory"; e.g. 'enabled = false').
# Runs the demo twice under callgrind, with N1 and N2 requests, and prints
# (Ir(N2) - Ir(N1)) / (answered(N2) - answered(N1)): start-up and shut-down
# cancel out. The requests answered are counted from wrk's own tally: on a
# loaded machine a run may not reach its cap within the D seconds (default
# 60) of its wrk window, and dividing by the caps then made the figure
# swing by thousands of instructions from run to run.
set -euo pipefail
bin=$(realpath "$1"); mode=$2; extra=${3:-'handler = "memory"'}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/demo.sh"
n1=${N1:-300}; n2=${N2:-1300}; secs=${D:-60}
dir=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
demo_config "$dir" "$extra"
total() { # total N -> "Ir answered"
  # Valgrind starts slowly on a loaded machine: up to two minutes.
  demo_start "$dir" 1200 valgrind --tool=callgrind --callgrind-out-file="$dir/cg.$1" "$bin"
  if [ "$mode" = locked ]; then
    wrk -t1 -c1 -d5s -s "$here/login.lua" "http://127.0.0.1:$port" -- locked 0 12 >/dev/null
  fi
  local answered
  answered=$(wrk -t1 -c1 -d"${secs}s" -s "$here/login.lua" "http://127.0.0.1:$port" -- "$mode" 0 "$1" |
    sed -n 's/^STATUSES //p' | tr ' ' '\n' | awk -F: '{ n += $2 } END { print n + 0 }')
  kill -TERM "$pid"; wait "$pid" || true; pid=
  [ "$answered" -lt "$1" ] && echo "warning: $answered of $1 requests answered in ${secs}s" >&2
  echo "$(sed -n 's/^summary: *//p;s/^totals: *//p' "$dir/cg.$1" | head -1) $answered"
}
read -r a na <<<"$(total "$n1")"; read -r b nb <<<"$(total "$n2")"
if [ "$nb" -le "$na" ]; then
  echo "the second run answered $nb requests, the first $na: no difference to divide by" >&2
  exit 1
fi
echo "$mode [$extra]: $(( (b - a) / (nb - na) )) instructions/request ($na and $nb requests)"
