#!/usr/bin/env bash
# What many watchers of order event streams cost: opens N streams (GET /api/orders/{id}/events)
# on the release server over a fresh demo shop, then reads the server's resident memory and the
# CPU it uses while they sit idle, and how long one status change takes to reach all of them.
#
#   benches/order_streams.sh [STREAMS] [IDLE_SECONDS] [POSTGRES_URL]
#
# Starts its own server on a free loopback port and stops only it, by its id.
set -euo pipefail
cd "$(dirname "$0")/.."
streams=${1:-1000}
idle=${2:-10}
source benches/server.sh

cargo build --quiet --release --example server --features full
ulimit -n 65536 2>/dev/null || true
start_server "${3:-}"

token=$(curl -sf "$api/api/auth/login" -H 'content-type: application/json' \
  -d '{"email": "bench@shop.test", "password": "bench-password"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
product=$(curl -sf "$api/api/products" -H "authorization: Bearer $token" -H 'content-type: application/json' \
  -d '{"name": "Watched", "description": "x", "price": "9.99", "inventory_count": 1000}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
order=$(curl -sf "$api/api/orders" -H "authorization: Bearer $token" -H 'content-type: application/json' \
  -d "{\"items\": [{\"product_id\": \"$product\", \"quantity\": 1}], \"shipping_address\": {\"full_name\": \"A\", \"line1\": \"1 Main St\", \"city\": \"Austin\", \"region\": \"TX\", \"postal_code\": \"78701\", \"country\": \"US\"}}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

STREAMS=$streams IDLE=$idle API=$api TOKEN=$token ORDER=$order PID=$server_pid python3 - <<'PY'
import asyncio, os, time, urllib.parse, urllib.request, json

streams, idle = int(os.environ["STREAMS"]), int(os.environ["IDLE"])
api, token, order, pid = os.environ["API"], os.environ["TOKEN"], os.environ["ORDER"], os.environ["PID"]
host, port = urllib.parse.urlparse(api).hostname, urllib.parse.urlparse(api).port

def rss_mib():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024

def cpu_seconds():
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

async def watch(ready, changed):
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(f"GET /api/orders/{order}/events HTTP/1.1\r\nHost: {host}\r\n"
                 f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n".encode())
    await writer.drain()
    seen = b""
    while b'"pending"' not in seen:
        seen += await reader.read(4096)
    ready.append(1)
    while b'"cancelled"' not in seen:
        chunk = await reader.read(4096)
        if not chunk:
            break
        seen += chunk
    changed.append(time.monotonic())
    writer.close()

async def main():
    before = rss_mib()
    ready, changed = [], []
    tasks = [asyncio.create_task(watch(ready, changed)) for _ in range(streams)]
    while len(ready) < streams:
        await asyncio.sleep(0.05)
    opened = rss_mib()
    cpu0 = cpu_seconds()
    await asyncio.sleep(idle)
    cpu1 = cpu_seconds()
    request = urllib.request.Request(f"{api}/api/admin/orders/{order}/status", method="PUT",
        data=json.dumps({"status": "cancelled"}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    sent = time.monotonic()
    await asyncio.get_running_loop().run_in_executor(None, lambda: urllib.request.urlopen(request).read())
    await asyncio.gather(*tasks)
    slowest = max(changed) - sent
    print(f"| {streams} | {before:.0f} | {opened:.0f} | {(opened - before) * 1024 / streams:.1f} | "
          f"{(cpu1 - cpu0) / idle * 100:.2f} % | {slowest * 1000:.0f} ms |")

print("| streams | server RSS before (MiB) | with the streams open (MiB) | per stream (KiB) | server CPU while idle | one change reaches all |")
print("|---:|---:|---:|---:|---:|---:|")
asyncio.run(main())
PY
