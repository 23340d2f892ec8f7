#!/usr/bin/env bash
# Instructions the server runs per direct guest order (POST /api/orders, two lines: pricing,
# stock taken, the order written, its events told), counted by valgrind's callgrind: within
# a few per cent for the same build whatever else the machine is doing (the event relay's
# rounds and the events' batching follow timing), where requests/s on this VM moves by half
# within the hour. The server's own instructions only: PostgreSQL's work, the kernel's and
# the waits are not in it (confirm a gain with benches/http_writes.sh).
#
#   benches/order_instructions.sh [ORDERS] [POSTGRES_URL]
#
# Starts the release server under callgrind over a fresh demo shop (SQLite, or a new
# database, with POSTGRES_URL's parameters, on the PostgreSQL server it names; dropped at the
# end), makes 20 products, places 200 orders to warm it, then ORDERS [1000] one after another
# on one keep-alive connection, and prints instructions per order. The event relay's rounds
# are in the count: one order at a time gives it a round per order, more than under load.
# Needs valgrind (apt-get install valgrind). SERVER_BIN=path measures that build instead.
set -euo pipefail
cd "$(dirname "$0")/.."
orders=${1:-1000}
postgres=${2:-}
source benches/server.sh
command -v valgrind >/dev/null || { echo "valgrind is missing: apt-get install valgrind" >&2; exit 1; }
[ -n "${SERVER_BIN:-}" ] || cargo build --quiet --release --example server --features full

database_args=()
if [ -n "$postgres" ]; then
  bench_server_url=$postgres
  bench_database="commerce_bench_$(date +%s)_$RANDOM"
  psql -q "$postgres" -c "CREATE DATABASE \"$bench_database\"" >/dev/null
  # Parameters after the database's name (`?sslmode=disable`) go with the new database.
  address=${postgres%%\?*}
  database_args=(--database-url "${address%/*}/$bench_database${postgres#"$address"}")
fi
port=$(free_port)
COMMERCE_ADMIN_EMAIL=bench@shop.test COMMERCE_ADMIN_PASSWORD=bench-password \
  valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out" \
  "$server_bin" --bind "127.0.0.1:$port" --data-dir "$work/shop" --demo "${database_args[@]}" \
  >"$work/server.log" 2>&1 &
server_pid=$!
pids+=("$server_pid")
# Under valgrind the server starts some fifty times slower.
for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 0.5; done
curl -sf "http://127.0.0.1:$port/health" >/dev/null || { cat "$work/server.log" >&2; exit 1; }

python3 - "$port" "$orders" "$work" <<'PY'
import glob, http.client, json, os, subprocess, sys, time

port, orders, work = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)

def post(path, body, headers=None):
    conn.request("POST", path, body=json.dumps(body),
                 headers={"content-type": "application/json", **(headers or {})})
    reply = conn.getresponse()
    answer = reply.read()
    if reply.status >= 300:
        sys.exit(f"POST {path} answered {reply.status}: {answer[:300]!r}")
    return json.loads(answer)

token = post("/api/auth/login", {"email": "bench@shop.test", "password": "bench-password"})["access_token"]
products = [
    post("/api/products", {"name": f"Bench item {i}", "description": "For load",
                           "price": f"{i + 4}.99", "inventory_count": 1000000000},
         {"authorization": "Bearer " + token})["id"]
    for i in range(1, 21)
]
n = 0

def order():
    global n
    n += 1
    post("/api/orders", {
        "items": [{"product_id": products[n % 20], "quantity": 1},
                  {"product_id": products[(n + 7) % 20], "quantity": 2}],
        "email": f"guest-{n}@example.com",
        "shipping_address": {"full_name": "Ana Lima", "line1": "1 Main St", "city": "Austin",
                             "region": "TX", "postal_code": "78701", "country": "US"},
    })

def control(*args):
    subprocess.run(["callgrind_control", *args], check=True, capture_output=True)

for _ in range(200):
    order()
control("--zero")
for _ in range(orders):
    order()
# What the orders set going after their answers (events told, the relay's round) ends here.
time.sleep(1)
control("--dump=orders")
for path in glob.glob(os.path.join(work, "callgrind.out*")):
    with open(path, errors="replace") as f:
        text = f.read()
    if "Trigger: dump orders" in text or "Client Request: orders" in text:
        for line in text.splitlines():
            if line.startswith(("summary:", "totals:")):
                print(f"{int(line.split()[1]) // orders:,} instructions per order")
                sys.exit(0)
sys.exit("no callgrind dump for the orders")
PY
