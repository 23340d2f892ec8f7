#!/usr/bin/env bash
# HTTP write throughput: adding to guest carts (POST /api/cart/items, cycling over 256 carts
# and 20 products), checking guest carts out (POST /api/cart/checkout, each cart made by the
# add-to-cart run with one line of two units) and guest orders (POST /api/orders: pricing,
# stock taken, order written), each checkout and order from a guest email of its own, with
# wrk on loopback against the release server on a fresh demo shop. Prints a Markdown table:
# requests/s, latency percentiles, errors, CPU time per request (the server's; on PostgreSQL
# also every postgres process's on this machine, so run nothing else against it meanwhile)
# and the server's peak memory; then checks that stock and orders reconcile (no unit sold
# twice).
#
#   benches/http_writes.sh [SECONDS] [CONNECTIONS] [POSTGRES_URL]
#
# Without POSTGRES_URL the shop is on SQLite; with one (e.g. postgres://postgres@127.0.0.1/test)
# a new database on that server, dropped at the end. Needs wrk (apt-get install wrk).
# BENCH_SERVERS=2 (PostgreSQL only) starts a second server process on the same database and
# splits the connections between the two (a wrk per server, at once): requests/s is the sum,
# latencies, CPU and memory are given per server ("a / b"), PostgreSQL's CPU is the total.
# BENCH_WEBHOOK=1 subscribes one webhook endpoint to every event (a receiver on loopback,
# examples/webhook_receiver), so the relay delivers the outbox while the load runs.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-64}
postgres=${3:-}
source benches/server.sh
need_wrk

[ -n "${SERVER_BIN:-}" ] || cargo build --quiet --release --example server --features full
if [ "${BENCH_WEBHOOK:-}" = 1 ]; then
  cargo build --quiet --release --example webhook_receiver
  receiver_port=$(free_port)
  ./target/release/examples/webhook_receiver "127.0.0.1:$receiver_port" 2>/dev/null &
  pids+=($!)
  server_flags+=(--webhooks-allow-private)
fi
start_server "$postgres"
apis=("$api")
server_pids=("$server_pid")
if [ "${BENCH_SERVERS:-1}" = 2 ]; then
  [ -n "$postgres" ] || { echo "BENCH_SERVERS=2 needs a PostgreSQL URL" >&2; exit 1; }
  start_another_server
  apis+=("$api2")
  server_pids+=("$server2_pid")
fi

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
if [ "${BENCH_WEBHOOK:-}" = 1 ]; then
  curl -sf "$api/api/admin/webhooks" -H "authorization: Bearer $token" -H 'content-type: application/json' \
    -d "{\"url\": \"http://127.0.0.1:$receiver_port/hooks\", \"events\": [\"*\"]}" >/dev/null
fi

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
-- Each order from a guest of its own, as in a shop: one address for every order would make
-- them all wait on that customer's count of promotion uses.
function guest_email() return "guest-" .. n .. "-" .. math.random(1000000000) .. "@example.com" end
function init(args)
  for id in string.gmatch(args[1], "[^,]+") do table.insert(products, id) end
end
function request()
  n = n + 1
  local a, b = products[(n % #products) + 1], products[((n + 7) % #products) + 1]
  local body = '{"items": [{"product_id": "' .. a .. '", "quantity": 1}, {"product_id": "' .. b ..
    '", "quantity": 2}], "email": "' .. guest_email() .. '", "shipping_address": {"full_name": "Ana Lima", ' ..
    '"line1": "1 Main St", "city": "Austin", "region": "TX", "postal_code": "78701", "country": "US"}}'
  return wrk.format("POST", "/api/orders", { ["Content-Type"] = "application/json" }, body)
end
LUA

# Carts to check out: each new guest cart gets one line; its token goes to a file per
# wrk thread.
cat >"$work/make_carts.lua" <<'LUA'
local products, n, out = {}, 0, nil
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end
function init(args)
  for id in string.gmatch(args[1], "[^,]+") do table.insert(products, id) end
  out = io.open(args[2] .. "/tokens." .. id, "w")
end
function request()
  n = n + 1
  local body = '{"product_id": "' .. products[(n % #products) + 1] .. '", "quantity": 2}'
  return wrk.format("POST", "/api/cart/items", { ["Content-Type"] = "application/json" }, body)
end
function response(status, headers, body)
  local t = headers["x-cart-token"] or headers["X-Cart-Token"]
  if status == 201 and t then out:write(t, "\n"); out:flush() end
end
LUA

cat >"$work/checkout.lua" <<'LUA'
local tokens, n = {}, 0
function guest_email() return "guest-" .. n .. "-" .. math.random(1000000000) .. "@example.com" end
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end
function init(args)
  for t in io.lines(args[2] .. "/tokens." .. id) do table.insert(tokens, t) end
end
function request()
  n = n + 1
  -- Past the last cart, a token again: its cart is empty, and the answer (422) counts as
  -- an error in the table rather than passing unseen.
  local token = tokens[((n - 1) % #tokens) + 1]
  local body = '{"email": "' .. guest_email() .. '", "shipping_address": {"full_name": "Ana Lima", ' ..
    '"line1": "1 Main St", "city": "Austin", "region": "TX", "postal_code": "78701", "country": "US"}}'
  return wrk.format("POST", "/api/cart/checkout",
    { ["Content-Type"] = "application/json", ["X-Cart-Token"] = token }, body)
end
LUA

# CPU time (clock ticks) of the server, and of every PostgreSQL process on this machine:
# per request, steadier than requests/s on a machine whose neighbours come and go.
server_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
postgres_ticks() {
  local total=0 pid
  for pid in $(pgrep -x postgres || true); do
    total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}
per_request() { # ticks requests -> microseconds per request
  awk -v t="$1" -v n="$2" -v hz="$(getconf CLK_TCK)" 'BEGIN { if (n > 0) printf "%d", t * 1e6 / hz / n; else print "-" }'
}
# "a / b" from one value per server.
each() { local IFS=/; echo "$*" | sed 's|/| / |g'; }

run() {
  local script=$1 i n=${#apis[@]} loads=() server_before=() postgres_before
  for i in "${!apis[@]}"; do server_before+=("$(server_ticks "${server_pids[$i]}")"); done
  postgres_before=$(postgres_ticks)
  for i in "${!apis[@]}"; do
    mkdir -p "$work/load$i"
    wrk -t2 -c$((connections / n)) -d"${3:-$seconds}s" --latency -s "$work/$script" "${apis[$i]}" \
      -- "$products" "$work/load$i" >"$work/load$i/out" &
    loads+=($!)
  done
  wait "${loads[@]}"
  local rps=0 requests=0 errors=0 p50=() p99=() server_cpu=() rss=() postgres_cpu=- out r
  for i in "${!apis[@]}"; do
    out=$(cat "$work/load$i/out")
    rps=$((rps + $(echo "$out" | awk '/Requests\/sec/ {printf "%d", $2}')))
    r=$(echo "$out" | awk '/requests in/ {print $1}')
    requests=$((requests + r))
    errors=$((errors + $(echo "$out" | awk '/Non-2xx/ {n = $5} END {print n + 0}')))
    p50+=("$(echo "$out" | awk '$1 == "50%" {print $2}')")
    p99+=("$(echo "$out" | awk '$1 == "99%" {print $2}')")
    server_cpu+=("$(per_request $(($(server_ticks "${server_pids[$i]}") - server_before[i])) "$r")")
    rss+=("$(peak_rss "${server_pids[$i]}")")
  done
  [ -n "$postgres" ] && postgres_cpu=$(per_request $(($(postgres_ticks) - postgres_before)) "$requests")
  printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$2" "$rps" "$(each "${p50[@]}")" \
    "$(each "${p99[@]}")" "$errors" "$(each "${server_cpu[@]}")" "$postgres_cpu" "$(each "${rss[@]}")"
}

backend=SQLite
[ -n "$postgres" ] && backend=PostgreSQL
hooked=""
[ "${BENCH_WEBHOOK:-}" = 1 ] && hooked=", one webhook endpoint hearing every event"
processes=""
[ "${#apis[@]}" = 2 ] && processes=", two server processes (half the connections each)"
echo "$backend$processes, $connections connections, ${seconds} s each$hooked"
echo
echo "| operation | requests/s | p50 | p99 | non-2xx | server CPU µs/req | PostgreSQL CPU µs/req | peak RSS (MiB) |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
run add_to_cart.lua '`POST /api/cart/items` (guest carts)'
# Twice the time: checkout outpaces making carts, and every checkout needs a cart of its own.
run make_carts.lua '`POST /api/cart/items` (new guest carts, for checkout)' $((seconds * 2))
run checkout.lua '`POST /api/cart/checkout` (guest, 1 line)'
run order.lua '`POST /api/orders` (guest, 2 lines)'

# Every unit that left stock is in an order, and no more: no oversell under the load.
echo
python3 - "$api" "$token" "$products" <<'PY'
import json, sys, urllib.request
api, token, products = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
def get(path):
    req = urllib.request.Request(api + path, headers={"authorization": "Bearer " + token})
    with urllib.request.urlopen(req) as r:
        return json.load(r)
ordered, orders, cursor = {}, 0, None
while True:
    page = get("/api/admin/orders?limit=100" + (f"&cursor={cursor}" if cursor else ""))
    for order in page["items"]:
        orders += 1
        for line in order["items"]:
            ordered[line["product_id"]] = ordered.get(line["product_id"], 0) + line["quantity"]
    cursor = page.get("next_cursor")
    if not cursor:
        break
taken = {p: 1_000_000_000 - get(f"/api/products/{p}")["inventory_count"] for p in products}
wrong = {p: (taken[p], ordered.get(p, 0)) for p in products if taken[p] != ordered.get(p, 0)}
if wrong:
    sys.exit(f"stock and orders disagree (taken, ordered) per product: {wrong}")
print(f"Stock reconciles with {orders} orders: {sum(taken.values())} units taken, as many ordered.")
PY
if [ "${BENCH_WEBHOOK:-}" = 1 ]; then
  # The relay catches up after the load: how many deliveries had arrived by then, and after.
  echo "Webhook deliveries received by the end of the load: $(curl -sf "http://127.0.0.1:$receiver_port/count")"
  sleep 5
  echo "... and 5 s later: $(curl -sf "http://127.0.0.1:$receiver_port/count")"
fi
