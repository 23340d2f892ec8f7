# Sourced by the HTTP load scripts: builds the release server and starts it on a free
# loopback port over a fresh demo shop, on SQLite (a temporary directory) or, given a
# PostgreSQL URL, on a new database on that server (dropped at exit). Everything it starts
# is stopped at exit, by its id.
#
#   start_server [POSTGRES_URL]   sets $api (the base URL) and $server_pid
#
# Flags in the array $server_flags go to the server too.
#
# SERVER_BIN=path runs that build of the server instead (e.g. one kept from an earlier
# commit, to compare before and after on the same machine in the same minute).

server_bin=${SERVER_BIN:-./target/release/examples/server}
work=$(mktemp -d)
pids=()
server_flags=()
bench_database=""
bench_server_url=""
stop() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  if [ -n "$bench_database" ]; then
    psql -q "$bench_server_url" -c "DROP DATABASE IF EXISTS \"$bench_database\" WITH (FORCE)" >/dev/null
  fi
  rm -rf "$work"
}
trap stop EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Starts a server process on a free loopback port over the demo shop in $work/shop, with the
# extra arguments given, its output in the file LOG: sets $launched_pid and $launched_api.
launch() {
  local log=$1 port
  shift
  port=$(free_port)
  COMMERCE_ADMIN_EMAIL=bench@shop.test COMMERCE_ADMIN_PASSWORD=bench-password \
    "$server_bin" --bind "127.0.0.1:$port" --data-dir "$work/shop" --demo \
    "$@" "${server_flags[@]}" >"$log" 2>&1 &
  launched_pid=$!
  pids+=("$launched_pid")
  launched_api="http://127.0.0.1:$port"
  for _ in $(seq 1 150); do curl -sf "$launched_api/health" >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "the server did not come up:" >&2
  cat "$log" >&2
  exit 1
}

start_server() {
  local url=${1:-}
  local database_args=()
  if [ -n "$url" ]; then
    bench_server_url=$url
    bench_database="commerce_bench_$(date +%s)_$RANDOM"
    psql -q "$url" -c "CREATE DATABASE \"$bench_database\"" >/dev/null
    database_args=(--database-url "${url%/*}/$bench_database" --database-pool "${BENCH_POOL:-16}")
  fi
  launch "$work/server.log" "${database_args[@]}"
  server_pid=$launched_pid
  api=$launched_api
}

# Another server on the same PostgreSQL database as start_server's (same data directory, so
# the same JWT secret): sets $api2 and $server2_pid.
start_another_server() {
  launch "$work/server2.log" --database-url "${bench_server_url%/*}/$bench_database" \
    --database-pool "${BENCH_POOL:-16}"
  server2_pid=$launched_pid
  api2=$launched_api
}

# The load scripts call this first: wrk comes from Debian's packages.
need_wrk() { command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }; }

# The server's peak resident memory so far, in MiB.
peak_rss() { awk '/VmHWM/ {printf "%d", $2 / 1024}' "/proc/${1:-$server_pid}/status"; }
