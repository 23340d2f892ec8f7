#!/usr/bin/env bash
# HTTP read throughput of the public catalog against the yardstick: for each endpoint, a bare
# Poem server (examples/bare_poem.rs) answering with the very bytes the API sent, then the API
# itself, one after the other with wrk on loopback. Prints a Markdown table with the ratio and
# each process's CPU time per request.
#
#   benches/http_reads.sh [SECONDS] [CONNECTIONS] [POSTGRES_URL]
#
# Needs wrk (apt-get install wrk). Starts its own two processes on free loopback ports over a
# fresh demo shop (on SQLite in a temporary directory, or in a new database on the PostgreSQL
# server POSTGRES_URL names), and stops only those, by their ids.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-8}
connections=${2:-64}
source benches/server.sh
need_wrk

cargo build --quiet --release --example server --example bare_poem --features full
start_server "${3:-}"
bare_port=$(free_port)

page=$(curl -sf "$api/api/products?limit=20")
product=$(echo "$page" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
category=$(curl -sf "$api/api/categories" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
endpoints=(
  "/api/products?limit=20"
  "/api/products/$product"
  "/api/categories/$category/products?limit=20"
  "/api/products/search?q=lamp"
  "/api/categories"
)

# Requests/s, and the serving process's CPU time per request in µs: steadier than requests/s
# on a VM whose neighbours come and go.
measure() {
  local pid=$1 url=$2 before out
  before=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  out=$(wrk -t2 -c"$connections" -d"${seconds}s" "$url")
  echo "$out" | awk -v before="$before" -v after="$(awk '{print $14 + $15}' "/proc/$pid/stat")" \
    -v hz="$(getconf CLK_TCK)" '
      /requests in/ {n = $1} /Requests\/sec/ {rps = $2}
      END {printf "%d %d\n", rps, (after - before) * 1e6 / hz / n}'
}

echo "| endpoint | bytes | bare Poem, same bytes | the API | ratio | CPU µs/req: bare Poem | the API |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for path in "${endpoints[@]}"; do
  curl -sf "$api$path" >"$work/body"
  ./target/release/examples/bare_poem "127.0.0.1:$bare_port" "$work/body" >/dev/null 2>&1 &
  bare_pid=$!
  for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$bare_port/" >/dev/null 2>&1 && break; sleep 0.1; done
  read -r bare bare_cpu < <(measure "$bare_pid" "http://127.0.0.1:$bare_port/")
  kill "$bare_pid"; wait "$bare_pid" 2>/dev/null || true
  read -r ours ours_cpu < <(measure "$server_pid" "$api$path")
  shown=${path//$product/{id\}}
  shown=${shown//$category/{id\}}
  printf '| `GET %s` | %s | %s | %s | %s | %s | %s |\n' "$shown" "$(wc -c <"$work/body")" "$bare" "$ours" \
    "$(python3 -c "print(f'{$ours/$bare:.2f}')")" "$bare_cpu" "$ours_cpu"
done
