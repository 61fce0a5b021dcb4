#!/usr/bin/env bash
# Runs `hookrelay serve` on a temporary database with two webhooks (every event; findings of
# high severity and above) pointing at a local nginx answering 204, then in one run:
#   (a) ingests BATCH_EVENTS generated events as NDJSON batches of 1,000 (one keep-alive client),
#   (b) ingests SINGLE_EVENTS more, one per request, over 64 connections (wrk),
#   (c) waits until nginx has received every delivery,
# and prints events/s for (a) and (b), deliveries/s end to end, and the server's peak RSS; and,
# as the peers, `sqlite3` inserting the events of (b) into the same tables one transaction each
# (WAL, synchronous=FULL, as hookrelay's ingest) and ../shared/bench/sqlite_batch_peer.py writing
# the batches of (a) one transaction each (BATCH_PEER=path elsewhere), with the ratios. Then (d) two webhooks whose
# receiver never answers get QUEUED_EVENTS more events each, and the server's RSS is read with
# 2 × QUEUED_EVENTS deliveries queued. Then (e) (bench/lib/pages.sh) fills another database with
# PAGE_DELIVERIES deliveries and prints the median and p95 time of the web page's pages, the
# API's delivery log pages and the admin commands' lists, against the 100 ms target and a peer
# (the same rows by plain SQL).
#
# usage: bench/serve.sh [BATCH_EVENTS] [SINGLE_EVENTS] [QUEUED_EVENTS] [PAGE_DELIVERIES]
#        (defaults 100000 20000 500000 1000000; QUEUED_EVENTS 0 skips (d), PAGE_DELIVERIES 0 skips (e))
#        bench/serve.sh pages [PAGE_DELIVERIES]   runs (e) alone
#        PAGE_SPAN_HOURS (24: every event within the chart's day) and PAGE_REPEATS (20) change (e).
#        PAGES_POSTGRES=URL runs (e) on PostgreSQL (psql and Python's psycopg then needed), e.g.
#        bash .ci/postgres bash -c 'PAGES_POSTGRES=$HOOKRELAY_TEST_POSTGRES bash bench/serve.sh pages'
# needs nginx-light, curl, wrk, sqlite3, python3. HOOKRELAY=path/to/hookrelay skips the build;
# SERVE_ARGS="--config FILE" runs the server with other settings.
set -euo pipefail
cd "$(dirname "$0")/.."
pages_only=""
if [ "${1:-}" = pages ]; then pages_only=1; shift; set -- 0 0 0 "${1:-1000000}"; fi
n_batch=${1:-100000}
n_single=${2:-20000}
n_queued=${3:-500000}
page_deliveries=${4:-1000000}
page_span_hours=${PAGE_SPAN_HOURS:-24}
page_repeats=${PAGE_REPEATS:-20}
batch_size=1000
connections=64
wrk_threads=2
work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
server_pid=""
sink_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
    [ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null
    [ -n "${pages_pid:-}" ] && kill "$pages_pid" 2>/dev/null
    [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "bench/serve.sh: $*" >&2; exit 1; }

for tool in nginx curl wrk sqlite3 python3; do
    command -v "$tool" >/dev/null || { echo "bench/serve.sh: needs $tool (apt-get install nginx-light curl wrk sqlite3 python3)" >&2; exit 69; }
done

. bench/lib/binary.sh
. bench/lib/serve.sh
. bench/lib/pages.sh
now() { date +%s.%N; }
HOOKRELAY_TOKEN="bench-$(od -An -N16 -tx1 /dev/urandom | tr -d " \n")"
export HOOKRELAY_TOKEN
if [ -n "$pages_only" ]; then
    pages_bench
    exit 0
fi
gen=${GEN_EVENTS:-../shared/bench/gen_events.py}
# One generation, sliced: the generator numbers ids from 0, and a repeated id is a duplicate.
python3 "$gen" $((n_batch + n_single + n_queued)) > "$work/all.ndjson"
head -n "$n_batch" "$work/all.ndjson" > "$work/batch.ndjson"
sed -n "$((n_batch + 1)),$((n_batch + n_single))p" "$work/all.ndjson" > "$work/single.ndjson"
tail -n +"$((n_batch + n_single + 1))" "$work/all.ndjson" > "$work/queued.ndjson"
head -n "$((n_batch + n_single))" "$work/all.ndjson" > "$work/delivered.ndjson"
# Deliveries of (a) and (b): every event to webhook a, high and critical findings to webhook b.
expected=$(( n_batch + n_single + $("$bin" filter --event finding --min-severity high --count < "$work/delivered.ndjson") ))

. bench/lib/nginx.sh

# The server, on a free port it reports in its first log line, with the run's API token.
# SERVE_ARGS adds options, such as --config FILE to try other settings.
# shellcheck disable=SC2086
start_serve "$work/serve.log" --db "$work/hookrelay.db" ${SERVE_ARGS:-}
server_pid=$serve_pid api=$serve_api
auth="Authorization: Bearer $HOOKRELAY_TOKEN"
webhook() { curl -sf -H "$auth" -X POST "$api/v1/webhooks" -d "$1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])'; }
hook_a=$(webhook "{\"url\": \"http://127.0.0.1:$port/a\", \"description\": \"every event\"}")
hook_b=$(webhook "{\"url\": \"http://127.0.0.1:$port/b\", \"events\": [\"finding\"], \"min_severity\": \"high\"}")
rss() { awk -v k="$1:" '$1 == k { printf "%.1f", $2 / 1024 }' "/proc/$server_pid/status"; }

# NDJSON batches over one keep-alive connection; prints the seconds, checks every 202.
cat > "$work/batches.py" <<'PY'
import http.client, json, os, sys, time
api, path, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
lines = open(path, "rb").read().splitlines(keepends=True)
bodies = [b"".join(lines[i:i + size]) for i in range(0, len(lines), size)]
host, port = api.removeprefix("http://").split(":")
connection = http.client.HTTPConnection(host, int(port))
headers = {"content-type": "application/x-ndjson", "authorization": "Bearer " + os.environ["HOOKRELAY_TOKEN"]}
start = time.perf_counter()
for body in bodies:
    connection.request("POST", "/v1/events", body, headers)
    response = connection.getresponse()
    answer = response.read()
    if response.status != 202:
        sys.exit(f"batches.py: HTTP {response.status}: {answer[:300]!r}")
    if json.loads(answer)["accepted"] != body.count(b"\n"):
        sys.exit(f"batches.py: not every event accepted: {answer[:300]!r}")
print(f"{time.perf_counter() - start:.3f}")
PY

# wrk: thread t of T posts the events whose line number is t modulo T, one per request, over and
# over, until it is stopped; once it has seen each of them accepted (not as a duplicate) it writes
# a file with that count and the count of answers other than 202. (wrk calls request() once more
# than it sends, to check the script, so counting requests sent would miss an event.)
cat > "$work/single.lua" <<'LUA'
local next_thread = 0
function setup(thread)
    thread:set("tid", next_thread)
    next_thread = next_thread + 1
end
function init(args)
    local threads, done = tonumber(args[2]), args[3]
    local auth = "Bearer " .. os.getenv("HOOKRELAY_TOKEN")
    requests = {}
    local line_number = 0
    for line in io.lines(args[1]) do
        if line_number % threads == tid then
            requests[#requests + 1] = wrk.format("POST", "/v1/events", { ["content-type"] = "application/json", ["authorization"] = auth }, line)
        end
        line_number = line_number + 1
    end
    marker = done .. "/done." .. tid
    sent, accepted, other, written = 0, 0, 0, false
end
function request()
    sent = sent % #requests + 1
    return requests[sent]
end
function response(status, headers, body)
    if status ~= 202 then
        other = other + 1
    elseif body:find('"accepted":1,', 1, true) then
        accepted = accepted + 1
    end
    if not written and accepted >= #requests then
        written = true
        local file = io.open(marker, "w")
        file:write(accepted, " ", other, "\n")
        file:close()
    end
end
LUA

base=$(requests)
polls=0
# Sets got to the deliveries nginx has received (not in $(...): polls must be counted here).
delivered() { polls=$((polls + 1)); got=$(( $(requests) - base - polls )); }

# (a)
t0=$(now)
batch_s=$(python3 "$work/batches.py" "$api" "$work/batch.ndjson" "$batch_size")
# (b)
mkdir -p "$work/done"
t1=$(now)
wrk -t "$wrk_threads" -c "$connections" -d 600s -T 60s -s "$work/single.lua" "$api" \
    "$work/single.ndjson" "$wrk_threads" "$work/done" > "$work/wrk.out" 2>&1 &
wrk_pid=$!
while [ "$(ls "$work/done" | wc -l)" -lt "$wrk_threads" ]; do
    kill -0 "$wrk_pid" 2>/dev/null || fail "wrk ended early: $(cat "$work/wrk.out")"
    sleep 0.005
done
t2=$(now)
kill -INT "$wrk_pid"; wait "$wrk_pid" || true
read -r ok other < <(cat "$work"/done/done.* | awk '{ a += $1; o += $2 } END { print a, o }')
[ "$ok" -eq "$n_single" ] && [ "$other" -eq 0 ] || fail "(b) got $ok answers 202 and $other others for $n_single events"
delivered; at_ingest_end=$got
# (c)
last=-1; stalled=$(now)
while true; do
    delivered
    [ "$got" -ge "$expected" ] && break
    if [ "$got" -ne "$last" ]; then last=$got; stalled=$(now); fi
    awk -v s="$stalled" -v n="$(now)" 'BEGIN { exit !(n - s > 60) }' && fail "(c) stalled at $got of $expected deliveries"
    sleep 0.02
done
t3=$(now)
[ "$got" -eq "$expected" ] || fail "(c) nginx received $got requests, expected $expected"
peak_e2e=$(rss VmHWM)
# nginx may answer a moment before the server records the answer.
for _ in $(seq 100); do
    states=$(sqlite3 "$work/hookrelay.db" "SELECT status || ' ' || count(*) FROM deliveries GROUP BY status" | paste -sd, -)
    [ "$states" = "delivered $expected" ] && break
    sleep 0.1
done
[ "$states" = "delivered $expected" ] || fail "(c) deliveries in the database: $states, expected delivered $expected"

# The peer: the events of (b) and their deliveries, one transaction each, into the same tables.
python3 - "$work/single.ndjson" "$hook_a" "$hook_b" > "$work/peer.sql" <<'PY'
import json, sys
path, hook_a, hook_b = sys.argv[1:4]
print("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;")
print("""CREATE TABLE messages (id INTEGER PRIMARY KEY, webhook_id TEXT NOT NULL UNIQUE, body BLOB NOT NULL,
    created_at INTEGER NOT NULL);
CREATE TABLE deliveries (id INTEGER PRIMARY KEY, message_id INTEGER NOT NULL REFERENCES messages(id),
    endpoint TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, UNIQUE (message_id, endpoint));
CREATE INDEX deliveries_due ON deliveries (next_attempt_at, id) WHERE status = 'pending';""")
for line in open(path, encoding="utf-8"):
    event = json.loads(line)
    body = line.rstrip("\n").replace("'", "''")
    hooks = [hook_a]
    if event.get("event_type") == "finding" and event.get("finding", {}).get("severity") in ("critical", "high"):
        hooks.append(hook_b)
    print(f"BEGIN IMMEDIATE; INSERT INTO messages(webhook_id, body, created_at) VALUES ('{event['id']}', '{body}', 1);")
    for hook in hooks:
        print(f"INSERT INTO deliveries(message_id, endpoint, status, next_attempt_at, updated_at) "
              f"VALUES (last_insert_rowid(), '{hook}', 'pending', 1, 1);")
    print("COMMIT;")
PY
p0=$(now)
sqlite3 "$work/peer.db" < "$work/peer.sql" > /dev/null
p1=$(now)
[ "$(sqlite3 "$work/peer.db" 'SELECT count(*) FROM messages')" -eq "$n_single" ] || fail "the sqlite3 peer did not insert every event"
# The batched peer for (a): Python's sqlite3 writing the same batches of 1,000 events and a delivery
# per event and webhook, one transaction a batch (WAL, synchronous=FULL), on the same disk.
batch_peer=${BATCH_PEER:-../shared/bench/sqlite_batch_peer.py}
batch_peer_rate=$(python3 "$batch_peer" "$work/batch.ndjson" "$work/batch-peer.db" "$batch_size" 2)

echo "hookrelay serve on 127.0.0.1, ${SERVE_ARGS:-default settings (concurrency 32, 8 per webhook)}; webhooks: every"
echo "event, and high+critical findings; receiver nginx (204); database on $(df --output=source "$work" | tail -1)"
awk -v na="$n_batch" -v nb="$n_single" -v a="$batch_s" -v t1="$t1" -v t2="$t2" -v t0="$t0" -v t3="$t3" \
    -v p0="$p0" -v p1="$p1" -v d="$expected" -v early="$at_ingest_end" -v rss="$peak_e2e" -v c="$connections" \
    -v bp="$batch_peer_rate" 'BEGIN {
    b = t2 - t1; e = t3 - t0; p = p1 - p0
    printf "%-52s %8s %10s %8s\n", "", "seconds", "per s", "vs peer"
    printf "%-52s %8.2f %10.0f %7.2fx  (required >= 50,000/s)\n", sprintf("(a) ingest, NDJSON batches of 1,000: %d events", na), a, na / a, (na / a) / (nb / p)
    printf "%-52s %8.2f %10.0f %7.2fx  (required >= 5,000/s)\n", sprintf("(b) ingest, 1 event a request, %d conns: %d", c, nb), b, nb / b, (nb / b) / (nb / p)
    printf "%-52s %8.2f %10.0f %7s   (required >= 5,000/s)\n", sprintf("(c) end to end: %d deliveries", d), e, d / e, ""
    printf "%-52s %8.2f %10.0f %7s\n", "    of which after the last event was acknowledged", t3 - t2, (d - early) / (t3 - t2), ""
    printf "%-52s %8.2f %10.0f %7.2fx\n", sprintf("peer: sqlite3, 1 transaction an event: %d", nb), p, nb / p, 1
    printf "%-52s %8s %10.0f %7s   (a) is %.2fx of it (required >= 1.0x)\n", "batch peer: Python sqlite3, 1 transaction a batch", "", bp, "", (na / a) / bp
    printf "server peak RSS (VmHWM) after (c): %.1f MB (required < 150 MB)\n", rss
}'

# (d) deliveries queued: two webhooks whose receiver accepts connections and never answers.
if [ "$n_queued" -gt 0 ]; then
    sink_port=$((port + 1))
    python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); time.sleep(86400)' "$sink_port" &
    sink_pid=$!
    sleep 0.3
    curl -sf -H "$auth" -X DELETE "$api/v1/webhooks/$hook_a" > /dev/null
    curl -sf -H "$auth" -X DELETE "$api/v1/webhooks/$hook_b" > /dev/null
    webhook "{\"url\": \"http://127.0.0.1:$sink_port/c\"}" > /dev/null
    webhook "{\"url\": \"http://127.0.0.1:$sink_port/d\"}" > /dev/null
    queued_s=$(python3 "$work/batches.py" "$api" "$work/queued.ndjson" "$batch_size")
    pending=$(sqlite3 "$work/hookrelay.db" "SELECT count(*) FROM deliveries WHERE status = 'pending'")
    awk -v n="$n_queued" -v s="$queued_s" -v q="$pending" -v hwm="$(rss VmHWM)" -v now="$(rss VmRSS)" \
        -v anon="$(rss RssAnon)" -v file="$(rss RssFile)" -v db="$(du -m "$work/hookrelay.db" | cut -f1)" 'BEGIN {
        printf "(d) %d events to 2 webhooks that never answer, NDJSON batches: %.2f s, %.0f events/s\n", n, s, n / s
        printf "    %d deliveries pending; server RSS %.1f MB (anonymous %.1f, file-backed %.1f; database %d MB),\n", q, now, anon, file, db
        printf "    peak %.1f MB (required < 150 MB with 1,000,000 queued)\n", hwm
    }'
fi

s0=$(now)
kill -TERM "$server_pid"
status=0; wait "$server_pid" || status=$?
server_pid=""
awk -v s="$s0" -v e="$(now)" -v st="$status" 'BEGIN { printf "SIGTERM: stopped in %.2f s, exit status %d\n", e - s, st }'

if [ "$page_deliveries" -gt 0 ]; then
    pages_bench
fi
