#!/usr/bin/env bash
# Scrapes of `GET /metrics` against ingest (issue 12). Runs `hookrelay serve` on a temporary
# database with one paused webhook (its deliveries wait, so only ingest writes), stores
# DELIVERIES events (one delivery each), then in one run:
#   (a) scrape latency with nothing else running (SCRAPES sequential scrapes, p50/p99/max),
#   (b) ingest alone for SECONDS: NDJSON batches of 1,000 over two keep-alive connections,
#   (c) the same ingest with six loops scraping as fast as they can beside it,
#   (d) deleting the webhook with every delivery pending, with ingest beside it,
# and prints events/s of (b) and (c) with their ratio (the peer is (b), measured in the same run),
# the scrape latencies during (c), the largest WAL seen in (b) and (c), and the slowest ingest
# request during (d) against the slowest of (b).
#
# usage: bench/scrape.sh [DELIVERIES] [SECONDS] [SCRAPES]   (defaults 1000000 15 200)
# needs curl, python3. HOOKRELAY=path/to/hookrelay skips the build.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
seconds=${2:-15}
scrapes=${3:-200}
work=$(mktemp -d)
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "bench/scrape.sh: $*" >&2; exit 1; }
for tool in curl python3; do
    command -v "$tool" >/dev/null || { echo "bench/scrape.sh: needs $tool" >&2; exit 69; }
done
. bench/lib/binary.sh

HOOKRELAY_TOKEN="bench-$(od -An -N16 -tx1 /dev/urandom | tr -d " \n")"
export HOOKRELAY_TOKEN
. bench/lib/serve.sh
start_serve "$work/serve.log" --db "$work/hookrelay.db"
server_pid=$serve_pid api=$serve_api
auth="Authorization: Bearer $HOOKRELAY_TOKEN"
hook=$(curl -sf -H "$auth" -X POST "$api/v1/webhooks" -d '{"url": "http://127.0.0.1:9/never"}' \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
curl -sf -H "$auth" -X POST "$api/v1/webhooks/$hook/pause" > /dev/null

python3 - "$api" "$work/hookrelay.db" "$hook" "$n" "$seconds" "$scrapes" <<'PY'
import http.client, json, os, sys, threading, time
api, db, hook, n, seconds, scrapes = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
host, port = api.removeprefix("http://").split(":")
headers = {"content-type": "application/x-ndjson", "authorization": "Bearer " + os.environ["HOOKRELAY_TOKEN"]}
counter = iter(range(10**9))
lock = threading.Lock()

def batch():
    with lock:
        start = next(counter) * 1000
    return "".join(f'{{"event_type":"finding","id":"bench-{i}"}}\n' for i in range(start, start + 1000)).encode()

def ingest(until=None, events=None, slowest=None):
    connection = http.client.HTTPConnection(host, int(port))
    sent = 0
    while (events is None or sent < events) and (until is None or time.perf_counter() < until):
        body = batch()
        started = time.perf_counter()
        connection.request("POST", "/v1/events", body, headers)
        response = connection.getresponse()
        answer = response.read()
        if response.status != 202:
            sys.exit(f"scrape.sh: HTTP {response.status}: {answer[:300]!r}")
        if slowest is not None:
            with lock:
                slowest[0] = max(slowest[0], time.perf_counter() - started)
        sent += 1000
    return sent

def parallel(functions):
    results = [None] * len(functions)
    def run(i):
        results[i] = functions[i]()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(functions))]
    for t in threads: t.start()
    for t in threads: t.join()
    return results

def scrape(connection):
    started = time.perf_counter()
    connection.request("GET", "/metrics")
    response = connection.getresponse()
    text = response.read()
    if response.status != 200:
        sys.exit(f"scrape.sh: /metrics answered {response.status}")
    return time.perf_counter() - started, text

def wal():
    try: return os.path.getsize(db + "-wal")
    except OSError: return 0

def quantile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, max(0, int(p * len(values) + 0.999) - 1))] if values else 0

ms = lambda s: f"{s * 1000:.1f} ms"
mb = lambda b: f"{b / 1048576:.0f} MB"

started = time.perf_counter()
parallel([lambda: ingest(events=n // 2), lambda: ingest(events=n - n // 2)])
print(f"stored {n} deliveries in {time.perf_counter() - started:.0f} s")

# (a)
connection = http.client.HTTPConnection(host, int(port))
alone, text = [], b""
for _ in range(scrapes):
    took, text = scrape(connection)
    alone.append(took)
depth = next((l for l in text.decode().splitlines() if l.startswith("hookrelay_queue_depth ")), "?")
print(f"(a) scrape alone at {depth}: p50 {ms(quantile(alone, .5))}, p99 {ms(quantile(alone, .99))}, max {ms(max(alone))}")

def measured(scrapers, label):
    stop = threading.Event()
    largest = [wal()]
    latencies = []
    slowest = [0.0]
    def scraper():
        c = http.client.HTTPConnection(host, int(port))
        while not stop.is_set():
            took, _ = scrape(c)
            with lock: latencies.append(took)
    def watcher():
        while not stop.is_set():
            largest[0] = max(largest[0], wal())
            time.sleep(0.05)
    helpers = [threading.Thread(target=scraper) for _ in range(scrapers)] + [threading.Thread(target=watcher)]
    for t in helpers: t.start()
    began = time.perf_counter()
    until = began + seconds
    sent = sum(parallel([lambda: ingest(until=until, slowest=slowest)] * 2))
    rate = sent / (time.perf_counter() - began)
    stop.set()
    for t in helpers: t.join()
    line = f"{label}: {rate:.0f} events/s, slowest ingest request {ms(slowest[0])}, largest WAL {mb(largest[0])}"
    if latencies:
        line += f", {len(latencies)} scrapes p50 {ms(quantile(latencies, .5))} p99 {ms(quantile(latencies, .99))} max {ms(max(latencies))}"
    print(line)
    return rate, slowest[0]

rate_alone, slowest_alone = measured(0, "(b) ingest alone")
rate_scraped, _ = measured(6, "(c) ingest with 6 scraping loops")
print(f"ratio ingest with scrapes / alone: {rate_scraped / rate_alone:.2f}")

# (d) the webhook holds every delivery stored so far, all pending.
slowest = [0.0]
result = {}
def delete():
    c = http.client.HTTPConnection(host, int(port))
    began = time.perf_counter()
    c.request("DELETE", f"/v1/webhooks/{hook}", headers={"authorization": headers["authorization"]})
    response = c.getresponse()
    result["body"] = response.read()
    result["status"] = response.status
    result["seconds"] = time.perf_counter() - began
deleting = threading.Thread(target=delete)
deleting.start()
def ingest_while_deleting():
    sent = 0
    while deleting.is_alive():
        sent += ingest(events=1000, slowest=slowest)
    return sent
parallel([ingest_while_deleting] * 2)
deleting.join()
print(f"(d) delete of the webhook: HTTP {result['status']} {result['body'][:80].decode(errors='replace')} in {result['seconds']:.1f} s; "
      f"slowest ingest request meanwhile {ms(slowest[0])} (alone {ms(slowest_alone)}, ratio {slowest[0] / slowest_alone:.1f})")
PY
