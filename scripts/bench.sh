#!/usr/bin/env bash
# Runs every benchmark and writes BENCHMARKS.md.
#   scripts/bench.sh            (needs wrk; the store URLs below for the
#                                PostgreSQL, MySQL and Redis rows)
set -euo pipefail
cd "$(dirname "$0")/.."
export AXES_TEST_POSTGRES_URL=${AXES_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
export AXES_TEST_MYSQL_URL=${AXES_TEST_MYSQL_URL:-mysql://root@127.0.0.1:3306/test}
export AXES_TEST_REDIS_URL=${AXES_TEST_REDIS_URL:-redis://127.0.0.1:6379}

engine=$(cargo bench -q -p axes-core --bench engine 2>/dev/null | grep '^|')
stores=$(cargo bench -q -p axes-cli --bench store_attempt 2>/dev/null | grep '^|')
http=$(scripts/bench_http.sh 10 2>/tmp/bench_http.err | grep '^|')
machine="$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem:/ {print $2}') GiB, $(rustc --version)"

cat > BENCHMARKS.md <<MD
# Benchmarks

Measured on $(date -u +%Y-%m-%d) by \`scripts/bench.sh\` on $machine;
release builds; servers (PostgreSQL 15, MariaDB 10.11, Redis 7) on the same
machine. The machine is shared and noisy: compare rows of one run, and prefer
CPU per request to requests per second.

## The engine on the memory store

\`cargo bench -p axes-core --bench engine\`: \`Axes::authenticate\` (or
\`check\`) in a loop on one thread, no HTTP.

$engine

## One attempt per store

\`cargo bench -p axes-cli --bench store_attempt\`: \`Axes::authenticate\` with a
wrong password (reservation and outcome: one store round trip), 1000
sequential attempts after a warm-up.

$stores

## End to end over HTTP, against django-axes

\`scripts/bench_http.sh\`: django-axes' reference workload
(\`../shared/reference/anchor-bench.md\`) — \`POST /login\` with form fields,
the client IP in \`X-Forwarded-For\` from a trusted proxy, \`failure_limit = 5\`,
\`lockout_parameters = ip_address,username\`, \`wrk -t1 -c4\` for 10 s after a
3 s warm-up — against \`crates/axes-axum/examples/bench_server.rs\` (axum,
\`AxesLayer\`, a plain password comparison). *fail*: wrong password, a new
username and IP every request; *success*: right password, new client every
request; *locked*: one locked-out client. Server CPU is user+system time of
the server process per request.

$http

django-axes 8.3.1 on the same workload (from the reference measurement, on a
machine of the same kind; gunicorn with 2 workers, SQLite, MD5 hasher):

| config | scenario | req/s | server CPU µs/req |
|---|---|---|---|
| no axes (Django) | fail | 2372 | 750 |
| axes_db | fail | 681 | 2614 |
| axes_db | success | 1373 | 1315 |
| axes_db | locked (1st 10 s) | 412 | 3616 |
| axes_locmem (per-process counts) | fail | 1672 | 1089 |
| axes_locmem | success | 1968 | 920 |
| axes_redis | fail | 891 | 1820 + 151 in Redis |

## Reading the figures

- Per attempt, the engine's own work is a few microseconds; what an attempt
  costs is the store round trip.
- One reservation is one atomic store operation: on SQLite a `BEGIN
  IMMEDIATE` transaction of about five statements, each a hop to sqlx's
  SQLite worker thread — most of the SQLite CPU per request. On PostgreSQL
  and MariaDB the synchronous commit to disk dominates.
- The layer refuses or admits with that single reservation (no separate
  read before it); a right password costs one more statement to give the
  slot back.
- Against django-axes, compare CPU per request (stable on this noisy
  machine) rather than requests per second (which swing by 2× from minute to
  minute here).
MD
echo "wrote BENCHMARKS.md"
