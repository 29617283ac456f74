# Sourced by the bench scripts: the demo's settings and its start-up, one
# copy. The lockout settings are run.py's (`ip_address+username`, limit 5).

# demo_config DIR EXTRA: writes DIR/axes.toml; `$DIR` in EXTRA becomes DIR.
demo_config() {
  printf 'failure_limit = 5\nlockout_parameters = [["ip_address", "username"]]\ntrusted_proxies = ["127.0.0.1/32"]\n%s\n' \
    "${2//\$DIR/$1}" > "$1/axes.toml"
}

# free_port: a loopback port nothing listens on.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# demo_start DIR TRIES COMMAND...: starts `COMMAND demo` (the binary, or a
# wrapper and the binary) with DIR/axes.toml on a free port and waits
# (TRIES × 0.1 s) until it answers; sets `port` and `pid`.
demo_start() {
  local dir=$1 tries=$2; shift 2
  port=$(free_port)
  "$@" --config "$dir/axes.toml" demo --listen "127.0.0.1:$port" --user alice:wonderland \
    --password-hasher fast >"$dir/log" 2>&1 &
  pid=$!
  for _ in $(seq 1 "$tries"); do
    curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && return 0
    sleep 0.1
  done
  echo "axes demo did not answer on port $port: see $dir/log" >&2
  return 1
}
