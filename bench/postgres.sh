#!/usr/bin/env bash
# The PostgreSQL backend (issue 15), against peers measured in the same run, on a throwaway
# cluster with its durability on (fsync, synchronous_commit):
#   (a) batched ingest: NDJSON batches of 1,000 into one `serve` on PostgreSQL (two webhooks:
#       every event, and high and critical findings; nginx answering 204), against Python's
#       psycopg writing the same rows (the events, a delivery per event and webhook) in the same
#       batches, one transaction each, with arrays and unnest; and beside SQLite's `serve`;
#   (b) scale-out: 16 webhooks whose receiver answers after 50 ms (latency-bound, not CPU-bound),
#       SCALE_EVENTS events spread over the instances: deliveries/s of three instances on one
#       database against one (the same settings per instance: concurrency SCALE_CONCURRENCY,
#       default 16, and 8 per webhook). The machine's CPU time busy during each run is printed:
#       at 32 per instance three instances keep 2 cores over 90 % busy, and the run measures the
#       CPU, not the scale-out;
#   (c) end to end to nginx: deliveries/s of one `serve` on PostgreSQL against one on SQLite,
#       and of two on PostgreSQL; then one of each again with per_webhook_concurrency 32 (the
#       default 8 makes the run a measure of how fast a webhook's 8 slots are freed and taken
#       again, each a store round: PostgreSQL's round is a round trip to another process).
#
# usage: bench/postgres.sh [BATCH_EVENTS] [SCALE_EVENTS] [E2E_EVENTS]   (defaults 50000 600 20000)
# needs PostgreSQL's server (Debian postgresql), nginx-light, curl, python3 with psycopg
# (pip install psycopg). HOOKRELAY=path/to/hookrelay skips the build. E2E_ARGS adds options to
# (c)'s serve instances on both databases, such as --config FILE with per_webhook_concurrency.
# PARTS=c (or any of a, b, c) runs only those parts. PG_STATS=FILE writes there the statements
# of (c)'s one instance on PostgreSQL that took the server's time (pg_stat_statements); PG_OPTS
# adds server options (such as "-c shared_preload_libraries=auto_explain -c ...").
set -euo pipefail
cd "$(dirname "$0")/.."
n_batch=${1:-50000}
n_scale=${2:-600}
n_e2e=${3:-20000}
batch_size=1000
scale_concurrency=${SCALE_CONCURRENCY:-16}
parts=${PARTS:-abc}
part() { [[ $parts == *$1* ]]; }
a_pg='' a_sqlite='' a_peer='' b_one='' b_three='' b_one_busy='' b_three_busy='' c_sqlite='' c_pg='' c_pg2='' c_sqlite32='' c_pg32=''
work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
receiver_port=$((port + 1))
pids=()
pg=""
as_owner=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null
    [ -n "$pg" ] && "${as_owner[@]}" "$pg/pg_ctl" -D "$work/pg/data" -m immediate stop >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "bench/postgres.sh: $*" >&2; exit 1; }

for tool in nginx curl python3 psql; do
    command -v "$tool" >/dev/null || fail "needs $tool (apt-get install postgresql nginx-light curl python3)"
done
python3 -c "import psycopg" 2>/dev/null || fail "needs Python's psycopg (pip install psycopg)"
pg=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$pg/pg_ctl" ] || fail "needs PostgreSQL's server (apt-get install postgresql)"

. bench/lib/binary.sh
gen=${GEN_EVENTS:-../shared/bench/gen_events.py}
python3 "$gen" "$n_batch" > "$work/batch.ndjson"
python3 "$gen" "$n_scale" 7 > "$work/scale.ndjson"
python3 "$gen" "$n_e2e" 11 > "$work/e2e.ndjson"
high() { "$bin" filter --event finding --min-severity high --count < "$1"; }

# The cluster: durable as a production one would be; a unix socket only.
mkdir -p "$work/pg"
if [ "$(id -u)" -eq 0 ]; then chmod 711 "$work"; chown postgres: "$work/pg"; as_owner=(runuser -u postgres --); fi
"${as_owner[@]}" "$pg/initdb" -D "$work/pg/data" --auth=trust -U postgres >"$work/pg/initdb.log" 2>&1 || fail "initdb: $(cat "$work/pg/initdb.log")"
"${as_owner[@]}" "$pg/pg_ctl" -D "$work/pg/data" -l "$work/pg/server.log" -w \
    -o "-c listen_addresses='' -k $work/pg -c max_connections=300 -c shared_buffers=256MB${PG_STATS:+ -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all} ${PG_OPTS:-}" start >/dev/null \
    || fail "the cluster did not start: $(cat "$work/pg/server.log")"
# A fresh database (called in $(...), so named at random); prints its URL.
database() {
    local name
    name=bench_$(od -An -N4 -tu4 /dev/urandom | tr -d " ")
    psql -h "$work/pg" -U postgres -qc "CREATE DATABASE $name" postgres >/dev/null
    echo "postgres:///$name?host=$work/pg&user=postgres"
}

. bench/lib/nginx.sh
. bench/lib/serve.sh
# The 50 ms receiver: answers 204 after 50 ms, counting requests at /count.
cat > "$work/slow.py" <<'PY'
import asyncio, sys
count = 0
async def handle(reader, writer):
    global count
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if length:
                await reader.readexactly(length)
            if head.startswith(b"GET /count"):
                body = str(count).encode()
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body))
            else:
                await asyncio.sleep(0.05)
                count += 1
                writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", int(sys.argv[1]), backlog=1024)
    async with server:
        await server.serve_forever()
asyncio.run(main())
PY
python3 "$work/slow.py" "$receiver_port" & pids+=($!)
slow_count() { curl -s "http://127.0.0.1:$receiver_port/count"; }

HOOKRELAY_TOKEN="bench-$(od -An -N16 -tx1 /dev/urandom | tr -d " \n")"
export HOOKRELAY_TOKEN
auth="Authorization: Bearer $HOOKRELAY_TOKEN"
instance=0
apis=()
# Starts a serve on DB; adds its API to apis.
serve() {
    instance=$((instance + 1))
    # Not on the caller's standard output: a $(...) would wait for the server to end.
    start_serve "$work/serve$instance.log" --db "$1" "${@:2}"
    pids+=("$serve_pid")
    apis+=("$serve_api")
}
stop_all() {
    for pid in "${pids[@]:1}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    pids=("${pids[0]}")
    apis=()
}
webhook() { curl -sS -f -H "$auth" -X POST "${apis[0]}/v1/webhooks" -d "$1" >/dev/null || fail "creating a webhook at ${apis[0]:-no API} failed"; }
two_webhooks() {
    webhook "{\"url\": \"http://127.0.0.1:$port/a\"}"
    webhook "{\"url\": \"http://127.0.0.1:$port/b\", \"events\": [\"finding\"], \"min_severity\": \"high\"}"
}
now() { date +%s.%N; }
# The other instances learn of webhooks created through the first within a second.
settle() { [ "${#apis[@]}" -eq 1 ] || sleep 1.5; }
# NDJSON batches spread over the instances' APIs, one keep-alive connection each; prints seconds.
cat > "$work/batches.py" <<'PY'
import http.client, json, os, sys, time
path, size, apis = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
lines = open(path, "rb").read().splitlines(keepends=True)
bodies = [b"".join(lines[i:i + size]) for i in range(0, len(lines), size)]
connections = [http.client.HTTPConnection(*api.removeprefix("http://").split(":")) for api in apis]
headers = {"content-type": "application/x-ndjson", "authorization": "Bearer " + os.environ["HOOKRELAY_TOKEN"]}
start = time.perf_counter()
for n, body in enumerate(bodies):
    connection = connections[n % len(connections)]
    connection.request("POST", "/v1/events", body, headers)
    response = connection.getresponse()
    answer = response.read()
    if response.status != 202 or json.loads(answer)["accepted"] != body.count(b"\n"):
        sys.exit(f"batches.py: HTTP {response.status}: {answer[:300]!r}")
print(f"{time.perf_counter() - start:.3f}")
PY
# Waits until the receiver at URL (nginx's stub_status or the 50 ms receiver's /count) has
# answered N requests more than its count BASE, polling every 10 ms on one keep-alive connection
# (a poll of nginx counts as a request of its own and is taken off); prints the seconds since T0
# (epoch seconds). In one process: forking curl, awk and date every 20 ms took a fifth of the
# machine's CPU (perf, 2026-12-04) from the runs it measured.
cat > "$work/wait.py" <<'PY'
import http.client, sys, time
url, base, n, t0 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
host, _, path = url.removeprefix("http://").partition("/")
connection = http.client.HTTPConnection(host)
def count():
    connection.request("GET", "/" + path)
    text = connection.getresponse().read().decode()
    return int(text.split("\n")[2].split()[2]) if text.startswith("Active") else int(text)
polls, last, stalled = 0, -1, time.monotonic()
while True:
    polls += 1
    got = count() - base - (polls if "nginx-status" in path else 0)
    if got >= n:
        break
    if got != last:
        last, stalled = got, time.monotonic()
    if time.monotonic() - stalled > 60:
        sys.exit(f"bench/postgres.sh: stalled at {got} of {n} deliveries")
    time.sleep(0.01)
print(f"{time.time() - t0:.3f}")
PY
wait_for() { python3 "$work/wait.py" "$@" || exit 1; }

# (a)
if part a; then
serve "$(database)"; two_webhooks
a_pg=$(python3 "$work/batches.py" "$work/batch.ndjson" "$batch_size" "${apis[0]}")
stop_all
serve "$work/sqlite.db"; two_webhooks
a_sqlite=$(python3 "$work/batches.py" "$work/batch.ndjson" "$batch_size" "${apis[0]}")
stop_all
peer_url=$(database)
a_peer=$(python3 - "$work/batch.ndjson" "$batch_size" "$work/pg" "${peer_url#postgres:///}" <<'PY'
import json, sys, time, psycopg
path, size, host, name = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4].split("?")[0]
lines = open(path, "rb").read().splitlines()
with psycopg.connect(host=host, user="postgres", dbname=name, autocommit=True) as connection:
    connection.execute("""CREATE TABLE messages (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        webhook_id text NOT NULL UNIQUE, body bytea NOT NULL, created_at bigint NOT NULL)""")
    connection.execute("""CREATE TABLE deliveries (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        message_id bigint NOT NULL REFERENCES messages(id), endpoint text NOT NULL, status text NOT NULL,
        attempts integer NOT NULL DEFAULT 0, next_attempt_at bigint NOT NULL, updated_at bigint NOT NULL,
        UNIQUE (message_id, endpoint))""")
    connection.execute("CREATE INDEX deliveries_due ON deliveries (next_attempt_at, id) WHERE status = 'pending'")
    start = time.perf_counter()
    for i in range(0, len(lines), size):
        ids, bodies, targets_id, targets = [], [], [], []
        for line in lines[i:i + size]:
            event = json.loads(line)
            ids.append(event["id"]); bodies.append(line)
            targets_id.append(event["id"]); targets.append("a")
            if event.get("event_type") == "finding" and event.get("finding", {}).get("severity") in ("critical", "high"):
                targets_id.append(event["id"]); targets.append("b")
        with connection.transaction():
            connection.execute("""INSERT INTO messages (webhook_id, body, created_at)
                SELECT w, b, 1 FROM unnest(%s::text[], %s::bytea[]) AS t(w, b) ON CONFLICT DO NOTHING""", (ids, bodies))
            connection.execute("""INSERT INTO deliveries (message_id, endpoint, status, next_attempt_at, updated_at)
                SELECT m.id, t.e, 'pending', 1, 1 FROM unnest(%s::text[], %s::text[]) AS t(w, e)
                JOIN messages m ON m.webhook_id = t.w""", (targets_id, targets))
    print(f"{time.perf_counter() - start:.3f}")
PY
)
fi

# (b) 16 webhooks at the 50 ms receiver, every event to each.
scale_run() {
    local instances=$1 url t0
    url=$(database)
    for _ in $(seq "$instances"); do serve "$url" --concurrency "$scale_concurrency"; done
    for w in $(seq 16); do webhook "{\"url\": \"http://127.0.0.1:$receiver_port/w$w\"}"; done
    settle
    local base
    base=$(slow_count)
    t0=$(now)
    python3 "$work/batches.py" "$work/scale.ndjson" 100 "${apis[@]}" >/dev/null
    wait_for "http://127.0.0.1:$receiver_port/count" "$base" $((16 * n_scale)) "$t0"
    stop_all
}
# The share of the machine's CPU time spent busy between two readings of /proc/stat.
cpu_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $5 + $6 }' /proc/stat; }
busy() { awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " "); printf "%.0f", 100 * (y[1] - x[1]) / (y[1] - x[1] + y[2] - x[2]) }'; }
if part b; then
    ticks=$(cpu_ticks); b_one=$(scale_run 1); b_one_busy=$(busy "$ticks" "$(cpu_ticks)")
    ticks=$(cpu_ticks); b_three=$(scale_run 3); b_three_busy=$(busy "$ticks" "$(cpu_ticks)")
fi

# (c) end to end to nginx.
e2e_expected=$((n_e2e + $(high "$work/e2e.ndjson")))
# CPU seconds (user and system) of the processes PIDS..., as /proc has them now.
cpu_of() { for p in "$@"; do cat "/proc/$p/stat" 2>/dev/null; done | awk -v hz="$(getconf CLK_TCK)" '{ t += $14 + $15 } END { printf "%.3f", t / hz }'; }
# Prints the seconds, and the CPU seconds the serve processes and the PostgreSQL server spent in the run.
e2e_run() {
    local db=$1 instances=$2 t0 base seconds db0 serve0
    # shellcheck disable=SC2086
    for _ in $(seq "$instances"); do serve "$db" ${E2E_ARGS:-} "${@:3}"; done
    two_webhooks
    settle
    base=$(requests)
    serve0=$(cpu_of "${pids[@]:1}")
    db0=$(cpu_of $(pgrep -x postgres))
    t0=$(now)
    python3 "$work/batches.py" "$work/e2e.ndjson" "$batch_size" "${apis[@]}" >/dev/null
    seconds=$(wait_for "http://127.0.0.1:$port/nginx-status" "$base" "$e2e_expected" "$t0")
    echo "$seconds $(awk -v a="$serve0" -v b="$(cpu_of "${pids[@]:1}")" 'BEGIN { print b - a }') \
        $(awk -v a="$db0" -v b="$(cpu_of $(pgrep -x postgres))" 'BEGIN { print b - a }')"
    stop_all
}
if part c; then
    printf 'per_webhook_concurrency = 32\n' > "$work/wide.toml"
    # Interleaved rounds (C_ROUNDS, default 3): each line below is their median, each ratio the
    # median of the rounds' ratios.
    for round in $(seq "${C_ROUNDS:-3}"); do
        c_sqlite+="$(e2e_run "$work/e2e$round.db" 1);"
        c_db=$(database)
        [ -z "${PG_STATS:-}" ] || [ "$round" -gt 1 ] || psql "$c_db" -qc "CREATE EXTENSION pg_stat_statements; SELECT pg_stat_statements_reset()" >/dev/null
        c_pg+="$(e2e_run "$c_db" 1);"
        [ -z "${PG_STATS:-}" ] || [ "$round" -gt 1 ] || psql "$c_db" -c "SELECT calls, round(mean_exec_time::numeric, 3) AS ms, rows, round(total_exec_time::numeric) AS total_ms,
            left(regexp_replace(query, '\s+', ' ', 'g'), 160) AS query FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 20" > "$PG_STATS"
        c_pg2+="$(e2e_run "$(database)" 2);"
        c_sqlite32+="$(e2e_run "$work/e2e32-$round.db" 1 --config "$work/wide.toml");"
        c_pg32+="$(e2e_run "$(database)" 1 --config "$work/wide.toml");"
    done
fi

echo "hookrelay serve on PostgreSQL $("$pg/postgres" --version | awk '{ print $3 }') (fsync and synchronous_commit on, a unix socket) and on SQLite, $(nproc) cores"
awk -v parts="$parts" -v n="$n_batch" -v pg="$a_pg" -v sq="$a_sqlite" -v peer="$a_peer" -v ns="$n_scale" -v one="$b_one" -v three="$b_three" \
    -v sc="$scale_concurrency" -v busy1="$b_one_busy" -v busy3="$b_three_busy" \
    -v ne="$e2e_expected" -v csq="$c_sqlite" -v cpg="$c_pg" -v cpg2="$c_pg2" -v csq32="$c_sqlite32" -v cpg32="$c_pg32" '
# The median of a[1..k] (the upper one of an even count).
function median(a, k,   i, j, t) {
    for (i = 2; i <= k; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    return a[int((k + 1) / 2)]
}
# The rounds of R ("seconds serve-cpu db-cpu;" each) into out[1..3], each field'"'"'s median; sets nr.
function rounds(r, out,   each_round, f, i, x, v) {
    nr = split(r, each_round, ";") - 1
    for (f = 1; f <= 3; f++) { for (i = 1; i <= nr; i++) { split(each_round[i], x, " "); v[i] = x[f] }; out[f] = median(v, nr) }
}
# The median over the rounds of A'"'"'s seconds over B'"'"'s (how many times as fast B is); sets each.
function ratio(a, b,   ra, rb, x, y, v, i, k) {
    k = split(a, ra, ";") - 1; split(b, rb, ";"); each = ""
    for (i = 1; i <= k; i++) { split(ra[i], x, " "); split(rb[i], y, " "); v[i] = x[1] / y[1]; each = each sprintf(" %.2fx", v[i]) }
    return median(v, k)
}
BEGIN {
    printf "%-64s %8s %10s\n", "", "seconds", "per s"
    if (index(parts, "a")) {
    printf "%-64s %8.2f %10.0f   %.2fx the peer (required >= 0.8x)\n", sprintf("(a) ingest, NDJSON batches of 1,000, PostgreSQL: %d events", n), pg, n / pg, peer / pg
    printf "%-64s %8.2f %10.0f\n", "    the same into SQLite", sq, n / sq
    printf "%-64s %8.2f %10.0f\n", "    peer: psycopg, the same rows, a transaction a batch", peer, n / peer
    }
    if (index(parts, "b")) {
    printf "%-64s %8.2f %10.0f   CPU %d%% busy\n", sprintf("(b) 16 webhooks answering after 50 ms, one instance: %d deliveries", 16 * ns), one, 16 * ns / one, busy1
    printf "%-64s %8.2f %10.0f   CPU %d%% busy; %.2fx one (required >= 2.5x)\n", sprintf("    three instances on one database, concurrency %d each", sc), three, 16 * ns / three, busy3, one / three
    }
    if (!index(parts, "c")) exit
    cpu = "   CPU per delivery: serve %.0f us, PostgreSQL %.0f us"
    rounds(csq, q); rounds(cpg, p); rounds(cpg2, p2); rounds(csq32, q32); rounds(cpg32, p32)
    against = ratio(csq, cpg); listed = each
    printf "%-64s %8.2f %10.0f   CPU per delivery: serve %.0f us\n", sprintf("(c) end to end to nginx, SQLite: %d deliveries", ne), q[1], ne / q[1], 1e6 * q[2] / ne
    printf "%-64s %8.2f %10.0f   %.2fx SQLite (required >= 0.5x)" cpu "\n", "    one instance on PostgreSQL", p[1], ne / p[1], against, 1e6 * p[2] / ne, 1e6 * p[3] / ne
    printf "%-64s %8.2f %10.0f   %.2fx one" cpu "\n", "    two instances on PostgreSQL", p2[1], ne / p2[1], ratio(cpg, cpg2), 1e6 * p2[2] / ne, 1e6 * p2[3] / ne
    printf "%-64s %8.2f %10.0f   CPU per delivery: serve %.0f us\n", "    SQLite, per_webhook_concurrency 32", q32[1], ne / q32[1], 1e6 * q32[2] / ne
    printf "%-64s %8.2f %10.0f   %.2fx SQLite" cpu "\n", "    one instance on PostgreSQL, per_webhook_concurrency 32", p32[1], ne / p32[1], ratio(csq32, cpg32), 1e6 * p32[2] / ne, 1e6 * p32[3] / ne
    printf "    (medians of %d interleaved rounds; one PostgreSQL instance against SQLite in each:%s)\n", nr, listed
}'
