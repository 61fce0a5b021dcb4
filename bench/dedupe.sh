#!/usr/bin/env bash
# The cost of de-duplication (issue 19) on `serve`'s delivery throughput: a fresh `serve` per
# round with one webhook to a local nginx answering 204, EVENTS generated findings ingested in
# NDJSON batches of 1,000, timed from the first batch until every delivery is finished (sent, or
# suppressed as a duplicate); rounds alternate `dedupe_window` off and 30d (interleaved, so the
# machine's noise falls on both), and the ratio of the medians is printed.
#
# usage: bench/dedupe.sh [EVENTS] [ROUNDS]   (defaults 20000 3: three rounds of each)
# needs nginx-light, curl, python3. HOOKRELAY=path/to/hookrelay skips the (release) build.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20000}
rounds=${2:-3}
work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
    [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "bench/dedupe.sh: $*" >&2; exit 1; }
for tool in nginx curl python3; do
    command -v "$tool" >/dev/null || { echo "bench/dedupe.sh: needs $tool" >&2; exit 69; }
done
. bench/lib/binary.sh
HOOKRELAY_TOKEN="bench-$(od -An -N16 -tx1 /dev/urandom | tr -d " \n")"
export HOOKRELAY_TOKEN
python3 "${GEN_EVENTS:-../shared/bench/gen_events.py}" "$n" > "$work/events.ndjson"
# The findings whose fingerprint and severity repeat are suppressed: the rest is sent.
distinct=$("$bin" filter --unique --count < "$work/events.ndjson")
. bench/lib/nginx.sh
. bench/lib/serve.sh
. bench/lib/median.sh

# One round: prints the deliveries finished per second with dedupe_window $1.
round() {
    rm -f "$work"/hookrelay.db*
    start_serve "$work/serve.log" --db "$work/hookrelay.db"
    server_pid=$serve_pid api=$serve_api
    auth="Authorization: Bearer $HOOKRELAY_TOKEN"
    curl -sf -H "$auth" -X POST "$api/v1/webhooks" -d "{\"url\": \"http://127.0.0.1:$port/a\", \"dedupe_window\": \"$1\"}" > /dev/null
    local expected=$n
    [ "$1" = off ] || expected=$distinct
    local before
    before=$(requests)
    python3 - "$api" "$work/events.ndjson" "$expected" "$before" "$port" <<'PY'
import http.client, json, os, sys, time, urllib.request
api, path, expected, before, port = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
lines = open(path, "rb").read().splitlines(keepends=True)
host, api_port = api.removeprefix("http://").split(":")
connection = http.client.HTTPConnection(host, int(api_port))
headers = {"content-type": "application/x-ndjson", "authorization": "Bearer " + os.environ["HOOKRELAY_TOKEN"]}
start = time.perf_counter()
for i in range(0, len(lines), 1000):
    connection.request("POST", "/v1/events", b"".join(lines[i:i + 1000]), headers)
    response = connection.getresponse()
    if response.status != 202:
        sys.exit(f"HTTP {response.status}: {response.read()[:300]!r}")
    response.read()
def pending():
    connection.request("GET", "/metrics", headers=headers)
    text = connection.getresponse().read().decode()
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith('hookrelay_deliveries{') and 'state="pending"' in line)
def sent():
    status = urllib.request.urlopen(f"http://127.0.0.1:{port}/nginx-status").read().decode().splitlines()
    return int(status[2].split()[2]) - before - 1
while sent() < expected or pending() > 0:
    time.sleep(0.02)
print(f"{len(lines) / (time.perf_counter() - start):.0f}")
PY
    kill "$server_pid"
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
}

off=() on=()
for r in $(seq "$rounds"); do
    off+=("$(round off)")
    on+=("$(round 30d)")
    echo "round $r: off ${off[-1]}/s, 30d ${on[-1]}/s" >&2
done
m_off=$(median "${off[@]}")
m_on=$(median "${on[@]}")
echo "events $n (distinct by fingerprint and severity: $distinct), rounds $rounds"
echo "deliveries finished/s, dedupe_window off: $m_off; 30d: $m_on; ratio 30d/off: $(python3 -c "print(f'{$m_on / $m_off:.2f}')")"
