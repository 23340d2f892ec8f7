#!/usr/bin/env bash
# HTTP write throughput: adding to guest carts (POST /api/cart/items, cycling over 512 carts
# and 20 products) and guest orders (POST /api/orders: pricing, stock taken, order written),
# with wrk on loopback against the release server on a fresh demo shop. Prints a Markdown
# table: requests/s, latency percentiles, errors and the server's peak memory.
#
#   benches/http_writes.sh [SECONDS] [CONNECTIONS] [POSTGRES_URL]
#
# Without POSTGRES_URL the shop is on SQLite; with one (e.g. postgres://postgres@127.0.0.1/test)
# a new database on that server, dropped at the end. Needs wrk (apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-64}
postgres=${3:-}
source benches/server.sh

[ -n "${SERVER_BIN:-}" ] || cargo build --quiet --release --example server --features full
start_server "$postgres"

token=$(curl -sf "$api/api/auth/login" -H 'content-type: application/json' \
  -d '{"email": "bench@shop.test", "password": "bench-password"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
# Products with stock enough for any run, so that no request is refused for stock.
products=""
for i in $(seq 1 20); do
  id=$(curl -sf "$api/api/products" -H "authorization: Bearer $token" -H 'content-type: application/json' \
    -d "{\"name\": \"Bench item $i\", \"description\": \"For load\", \"price\": \"$((i + 4)).99\", \"inventory_count\": 1000000000}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  products="$products${products:+,}$id"
done

cat >"$work/add_to_cart.lua" <<'LUA'
local products, tokens, n = {}, {}, 0
function init(args)
  for id in string.gmatch(args[1], "[^,]+") do table.insert(products, id) end
end
function request()
  n = n + 1
  local headers = { ["Content-Type"] = "application/json" }
  -- The first requests make carts; then each goes to one of them, in turn.
  if #tokens >= 256 then headers["X-Cart-Token"] = tokens[(n % #tokens) + 1] end
  local body = '{"product_id": "' .. products[(n % #products) + 1] .. '", "quantity": 1}'
  return wrk.format("POST", "/api/cart/items", headers, body)
end
function response(status, headers, body)
  local t = headers["x-cart-token"] or headers["X-Cart-Token"]
  if t and #tokens < 256 then table.insert(tokens, t) end
end
LUA

cat >"$work/order.lua" <<'LUA'
local products, n = {}, 0
function init(args)
  for id in string.gmatch(args[1], "[^,]+") do table.insert(products, id) end
end
function request()
  n = n + 1
  local a, b = products[(n % #products) + 1], products[((n + 7) % #products) + 1]
  local body = '{"items": [{"product_id": "' .. a .. '", "quantity": 1}, {"product_id": "' .. b ..
    '", "quantity": 2}], "email": "guest@example.com", "shipping_address": {"full_name": "Ana Lima", ' ..
    '"line1": "1 Main St", "city": "Austin", "region": "TX", "postal_code": "78701", "country": "US"}}'
  return wrk.format("POST", "/api/orders", { ["Content-Type"] = "application/json" }, body)
end
LUA

run() {
  local script=$1 out
  out=$(wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$work/$script" "$api" -- "$products")
  local rps p50 p99 errors
  rps=$(echo "$out" | awk '/Requests\/sec/ {printf "%d", $2}')
  p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  errors=$(echo "$out" | awk '/Non-2xx/ {print $5}')
  printf '| %s | %s | %s | %s | %s | %s |\n' "$2" "$rps" "$p50" "$p99" "${errors:-0}" "$(peak_rss)"
}

backend=SQLite
[ -n "$postgres" ] && backend=PostgreSQL
echo "$backend, $connections connections, ${seconds} s each"
echo
echo "| operation | requests/s | p50 | p99 | non-2xx | peak RSS (MiB) |"
echo "|---|---:|---:|---:|---:|---:|"
run add_to_cart.lua '`POST /api/cart/items` (guest carts)'
run order.lua '`POST /api/orders` (guest, 2 lines)'
