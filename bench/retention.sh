#!/usr/bin/env bash
# Retention (issue 17): SECONDS of continuous ingest and delivery into one `serve` on SQLite
# with `retention = "60s"`: the database's size (file, write-ahead log, both) every 10 s, and
# whether it stays within +-20 % of its size at 120 s from then on (pruning starts at 60 s, and
# by 120 s the log holds a steady minute). Then the same load with `retention = "off"`, the
# peer: ingest latency p50/p99 after 120 s with pruning and without, and their ratio.
#
# The load: RATE events a second, as NDJSON requests of 10 events every 10/RATE s on one
# keep-alive connection, to two webhooks (every event; high and critical findings) at nginx
# answering 204, so deliveries keep up and finish.
#
# usage: bench/retention.sh [SECONDS] [RATE]   (defaults 300 500)
# needs nginx-light, curl, python3. HOOKRELAY=path/to/hookrelay skips the build.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
rate=${2:-500}
[ "$seconds" -ge 150 ] || { echo "bench/retention.sh: SECONDS must be at least 150 (pruning starts at 60 s, the check at 120 s)" >&2; exit 64; }
work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "bench/retention.sh: $*" >&2; exit 1; }
for tool in nginx curl python3; do command -v "$tool" >/dev/null || fail "needs $tool"; done

. bench/lib/binary.sh
. bench/lib/nginx.sh
. bench/lib/serve.sh
HOOKRELAY_TOKEN="bench-$(od -An -N16 -tx1 /dev/urandom | tr -d " \n")"
export HOOKRELAY_TOKEN

cat > "$work/load.py" <<'PY'
import http.client, json, os, sys, time
api, db, seconds, rate, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
host, port = api.removeprefix("http://").split(":")
connection = http.client.HTTPConnection(host, int(port))
headers = {"content-type": "application/x-ndjson", "authorization": "Bearer " + os.environ["HOOKRELAY_TOKEN"]}
severities = ["critical", "high", "medium", "low", "info"]
pad = "x" * 300
def size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0
interval = 10 / rate
start = time.perf_counter()
latencies, sizes, n, next_sample = [], [], 0, 0
while True:
    now = time.perf_counter() - start
    if now >= seconds:
        break
    if now >= next_sample:
        sizes.append((round(now), size(db), size(db + "-wal")))
        next_sample += 10
    lines = []
    for _ in range(10):
        n += 1
        lines.append(json.dumps({"event_type": "finding", "id": f"evt-{n}", "finding": {
            "title": f"Finding {n}", "severity": severities[n % 5], "asset": "app.example.com",
            "url": "https://app.example.com/search", "parameter": "q", "description": pad}}))
    body = ("\n".join(lines) + "\n").encode()
    sent = time.perf_counter()
    connection.request("POST", "/v1/events", body, headers)
    response = connection.getresponse()
    answer = response.read()
    if response.status != 202:
        sys.exit(f"load.py: HTTP {response.status}: {answer[:300]!r}")
    latencies.append((sent - start, time.perf_counter() - sent))
    pause = start + n / rate - time.perf_counter()
    if pause > 0:
        time.sleep(pause)
json.dump({"latencies": latencies, "sizes": sizes, "events": n}, open(out, "w"))
PY

# One run: serve with RETENTION, the load, stop; leaves $work/RUN.json.
run() {
    local name=$1 retention=$2 log="$work/$1.log" db="$work/$1.db"
    printf 'retention = "%s"\n' "$retention" > "$work/$name.toml"
    start_serve "$log" --db "$db" --config "$work/$name.toml"
    local pid=$serve_pid api=$serve_api
    pids+=("$pid")
    curl -sf -H "Authorization: Bearer $HOOKRELAY_TOKEN" -X POST "$api/v1/webhooks" -d "{\"url\": \"http://127.0.0.1:$port/a\"}" >/dev/null
    curl -sf -H "Authorization: Bearer $HOOKRELAY_TOKEN" -X POST "$api/v1/webhooks" \
        -d "{\"url\": \"http://127.0.0.1:$port/b\", \"events\": [\"finding\"], \"min_severity\": \"high\"}" >/dev/null
    python3 "$work/load.py" "$api" "$db" "$seconds" "$rate" "$work/$name.json"
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    grep -c 'pruned what is older' "$log" > "$work/$name.passes" || true
}
run pruning 60s
run peer off

python3 - "$work" "$seconds" "$rate" "$(nproc)" <<'PY'
import json, sys
work, seconds, rate, cores = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
pruning, peer = (json.load(open(f"{work}/{name}.json")) for name in ("pruning", "peer"))
passes = open(f"{work}/pruning.passes").read().strip()
print(f"hookrelay serve on SQLite, {rate} events/s for {seconds} s (NDJSON requests of 10), two webhooks at nginx, {cores} cores")
print(f"{'s':>5} {'file MB':>9} {'WAL MB':>8} {'total MB':>9}   (retention = \"60s\")")
for t, db, wal in pruning["sizes"]:
    print(f"{t:>5} {db / 1e6:>9.1f} {wal / 1e6:>8.1f} {(db + wal) / 1e6:>9.1f}")
late = [(t, db, wal) for t, db, wal in pruning["sizes"] if t >= 120]
for label, pick in (("file", lambda s: s[1]), ("file and WAL", lambda s: s[1] + s[2])):
    reference = pick(late[0])
    low, high = min(map(pick, late)) / reference, max(map(pick, late)) / reference
    verdict = "within" if low >= 0.8 and high <= 1.2 else "NOT within"
    print(f"{label}: from {late[0][0]} s on {low:.2f}x to {high:.2f}x its size at {late[0][0]} s: {verdict} +-20 % (required)")
final_peer = peer["sizes"][-1]
print(f"without pruning (retention = \"off\") the file and WAL reached {(final_peer[1] + final_peer[2]) / 1e6:.1f} MB at {final_peer[0]} s")
print(f"passes that pruned something: {passes}")
def percentiles(run):
    values = sorted(latency * 1000 for at, latency in run["latencies"] if at >= 120)
    return values[len(values) // 2], values[int(len(values) * 0.99)], len(values)
p50, p99, count = percentiles(pruning)
q50, q99, peer_count = percentiles(peer)
print(f"ingest latency after 120 s, ms:  with pruning p50 {p50:.2f} p99 {p99:.2f} ({count} requests)   "
      f"without p50 {q50:.2f} p99 {q99:.2f} ({peer_count})   p99 ratio {p99 / q99:.2f}x")
PY
