#!/usr/bin/env bash
# Instructions the server runs per public read, counted by valgrind's callgrind: the same
# count for the same build and requests whatever else the machine is doing, so two builds
# compare on a shared VM where requests/s moves by a quarter between runs. (It counts
# instructions, not time: a `rep movsb` copy counts per byte, and the kernel's share of a
# request, its system calls and wake-ups, is not in it. Confirm a gain with
# benches/http_reads.sh.)
#
#   benches/read_instructions.sh [REQUESTS]
#
# Starts the release server under callgrind over a fresh demo shop on SQLite (a loopback
# port, a temporary directory), reads each endpoint 300 times to warm it, then REQUESTS times
# [2000] on one keep-alive connection, and prints instructions per request. Needs valgrind
# (apt-get install valgrind). SERVER_BIN=path measures that build instead.
set -euo pipefail
cd "$(dirname "$0")/.."
requests=${1:-2000}
source benches/server.sh
command -v valgrind >/dev/null || { echo "valgrind is missing: apt-get install valgrind" >&2; exit 1; }
[ -n "${SERVER_BIN:-}" ] || cargo build --quiet --release --example server --features full

port=$(free_port)
COMMERCE_ADMIN_EMAIL=bench@shop.test COMMERCE_ADMIN_PASSWORD=bench-password \
  valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out" \
  "$server_bin" --bind "127.0.0.1:$port" --data-dir "$work/shop" --demo >"$work/server.log" 2>&1 &
server_pid=$!
pids+=("$server_pid")
# Under valgrind the server starts some fifty times slower.
for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 0.5; done
curl -sf "http://127.0.0.1:$port/health" >/dev/null || { cat "$work/server.log" >&2; exit 1; }

echo "| endpoint | instructions per request |"
echo "|---|---:|"
python3 - "$port" "$requests" "$work" <<'PY'
import glob, http.client, json, os, subprocess, sys

port, requests, work = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

def get(path):
    conn.request("GET", path)
    reply = conn.getresponse()
    body = reply.read()
    if reply.status != 200:
        sys.exit(f"GET {path} answered {reply.status}")
    return body

product = json.loads(get("/api/products?limit=20"))["items"][0]["id"]
category = json.loads(get("/api/categories"))[0]["id"]
endpoints = [
    ("/api/products?limit=20", "/api/products?limit=20"),
    (f"/api/products/{product}", "/api/products/{id}"),
    (f"/api/categories/{category}/products?limit=20", "/api/categories/{id}/products?limit=20"),
    ("/api/products/search?q=lamp", "/api/products/search?q=lamp"),
    ("/api/categories", "/api/categories"),
]

def control(*args):
    subprocess.run(["callgrind_control", *args], check=True, capture_output=True)

def totals_of(name):
    # The dump written for `name`: its events line gives the instructions counted since zero.
    for path in glob.glob(os.path.join(work, "callgrind.out*")):
        with open(path, errors="replace") as f:
            text = f.read()
        if f"desc: Trigger: Client Request: {name}" in text or f"Trigger: dump {name}" in text:
            for line in text.splitlines():
                if line.startswith(("summary:", "totals:")):
                    return int(line.split()[1])
    sys.exit(f"no callgrind dump for {name}")

for n, (path, shown) in enumerate(endpoints):
    for _ in range(300):
        get(path)
    control("--zero")
    for _ in range(requests):
        get(path)
    name = f"endpoint{n}"
    control(f"--dump={name}")
    print(f"| `GET {shown}` | {totals_of(name) // requests:,} |")
PY
