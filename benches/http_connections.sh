#!/usr/bin/env bash
# Many open connections: wrk holds CONNECTIONS keep-alive connections (default 10,000) to the
# release server on a fresh demo shop and reads one product through all of them. Prints
# requests/s, socket errors and the server's peak memory. Starts its own server on a free
# loopback port and stops only that, by its id.
#
#   benches/http_connections.sh [CONNECTIONS] [SECONDS]
#
# Needs wrk (apt-get install wrk) and a file limit above CONNECTIONS (raised here if allowed).
set -euo pipefail
cd "$(dirname "$0")/.."
connections=${1:-10000}
seconds=${2:-10}
ulimit -n $((connections + 4096)) 2>/dev/null || ulimit -n "$(ulimit -Hn)"
source benches/server.sh
need_wrk

[ -n "${SERVER_BIN:-}" ] || cargo build --quiet --release --example server --features full
start_server ""
id=$(curl -sf "$api/api/products?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
idle_rss=$(awk '/VmRSS/ {printf "%d", $2 / 1024}' "/proc/$server_pid/status")
out=$(wrk -t2 -c"$connections" -d"${seconds}s" --timeout 10s "$api/api/products/$id")
echo "$out" | grep -E 'Requests/sec|Socket errors|Non-2xx' || true
echo "server RSS: $idle_rss MiB idle, $(peak_rss) MiB peak with $connections connections"
