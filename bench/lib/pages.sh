# Sourced by bench/serve.sh: (e) the web page's pages, the API's delivery log and the admin
# commands' lists with $page_deliveries deliveries stored. The binary makes the schema (serve,
# four webhooks through the API), then sqlite3 (or psql) fills it in one transaction: events
# stored over the last $page_span_hours hours, two deliveries each (every event to webhook A, one
# in three to each of B, C and D), 97 % delivered, 1 % each failed, pending (due in a day:
# nothing is sent) and skipped; then serve again, and bench/lib/pages.py times each page
# $page_repeats times. With PAGES_POSTGRES set to the URL of a PostgreSQL server's database as a
# superuser (as .ci/postgres sets HOOKRELAY_TEST_POSTGRES) the same runs on a new database there,
# filled by psql with the triggers off and the chart's counts made as migration 8 makes them.
# Needs $bin, $work, HOOKRELAY_TOKEN, fail, now and start_serve (bench/lib/serve.sh); sets pages_pid while its server runs.
pages_bench() {
    local db=$work/pages.db log=$work/pages.log api events=$((page_deliveries / 2)) auth backend=SQLite
    auth="Authorization: Bearer $HOOKRELAY_TOKEN"
    if [ -n "${PAGES_POSTGRES:-}" ]; then
        local name=pages_$(od -An -N4 -tu4 /dev/urandom | tr -d " ")
        psql -qc "CREATE DATABASE $name" "$PAGES_POSTGRES" > /dev/null || fail "(e) could not create a database at PAGES_POSTGRES"
        db=$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(f"{p.scheme}://{p.netloc}/{sys.argv[2]}?{p.query}")' \
            "$PAGES_POSTGRES" "$name")
        backend=PostgreSQL
    fi
    start_pages_server() {
        serve_wait=60 start_serve "$log" --db "$1"
        pages_pid=$serve_pid api=$serve_api
    }
    stop_pages_server() { kill -TERM "$pages_pid"; wait "$pages_pid" || true; pages_pid=""; }
    start_pages_server "$db"
    local hooks=()
    for name in a b c d; do
        hooks+=("$(curl -sf -H "$auth" -X POST "$api/v1/webhooks" -d "{\"url\": \"http://127.0.0.1:9/$name\"}" |
            python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')")
    done
    stop_pages_server
    local f0 f1 now_ms
    now_ms=$(date +%s%3N)
    f0=$(now)
    local span=$((page_span_hours * 3600000)) status="CASE id % 100 WHEN 0 THEN 'failed' WHEN 1 THEN 'pending' WHEN 2 THEN 'skipped' ELSE 'delivered' END"
    local targets="SELECT 0 AS k, '${hooks[0]}' AS endpoint UNION ALL SELECT 1, '${hooks[1]}' UNION ALL SELECT 2, '${hooks[2]}' UNION ALL SELECT 3, '${hooks[3]}'"
    local columns="m.id, t.endpoint, m.status, CASE m.status WHEN 'skipped' THEN 0 ELSE 1 END,
        CASE m.status WHEN 'pending' THEN $now_ms + 86400000 ELSE m.created_at END,
        CASE m.status WHEN 'delivered' THEN 204 WHEN 'failed' THEN 500 END, CASE m.status WHEN 'failed' THEN 'HTTP 500' END,
        CASE WHEN m.status IN ('delivered', 'failed') THEN 40 END, m.created_at + 1000"
    local body="'{\"id\":\"evt_' || g || '\",\"event_type\":\"finding\",\"finding\":{\"severity\":\"high\"}}'"
    local stored deep size
    if [ "$backend" = SQLite ]; then
        sqlite3 "$db" > /dev/null <<SQL
PRAGMA journal_mode = WAL;
BEGIN IMMEDIATE;
INSERT INTO messages (id, webhook_id, body, created_at)
    SELECT value, 'msg_bench_' || value, $(sed 's/|| g ||/|| value ||/' <<< "$body"), $now_ms - $span + value * ($span / $events)
    FROM generate_series(1, $events);
INSERT INTO deliveries (message_id, endpoint, status, attempts, next_attempt_at, last_http_status, last_error, last_latency_ms, updated_at)
    SELECT $columns
    FROM (SELECT id, created_at, $status AS status FROM messages) m JOIN ($targets) t ON t.k = 0 OR t.k = 1 + m.id % 3
    ORDER BY m.id, t.k;
COMMIT;
SQL
        stored=$(sqlite3 "$db" "SELECT count(*) FROM deliveries")
        # A cursor a tenth of the way into the log from its oldest end: a deep page.
        deep=$(sqlite3 "$db" "SELECT id FROM deliveries ORDER BY id LIMIT 1 OFFSET $((stored / 10))")
        size=$(du -m "$db" | cut -f1)
    else
        # Triggers off for the load (replica role), then the chart's counts as migration 8 makes them.
        psql -q -v ON_ERROR_STOP=1 "$db" > /dev/null <<SQL
BEGIN;
SET LOCAL session_replication_role = replica;
INSERT INTO messages (webhook_id, body, created_at)
    SELECT 'msg_bench_' || g, convert_to($body, 'UTF8'), $now_ms - $span + g * ($span / $events)
    FROM generate_series(1, $events) g ORDER BY g;
INSERT INTO deliveries (message_id, endpoint, status, attempts, next_attempt_at, last_http_status, last_error, last_latency_ms, updated_at)
    SELECT $columns
    FROM (SELECT id, created_at, $status AS status FROM messages) m JOIN ($targets) t ON t.k = 0 OR t.k = 1 + m.id % 3
    ORDER BY m.id, t.k;
INSERT INTO delivery_hours (endpoint, hour, status, slot, n)
    SELECT endpoint, updated_at / 3600000, status, 0, count(*) FROM deliveries WHERE status IN ('delivered', 'failed') GROUP BY 1, 2, 3;
COMMIT;
VACUUM ANALYZE;
SQL
        stored=$(psql -Atc "SELECT count(*) FROM deliveries" "$db")
        deep=$(psql -Atc "SELECT id FROM deliveries ORDER BY id LIMIT 1 OFFSET $((stored / 10))" "$db")
        size=$(psql -Atc "SELECT pg_database_size(current_database()) / 1048576" "$db")
    fi
    f1=$(now)
    awk -v n="$stored" -v f0="$f0" -v f1="$f1" -v db="$size" -v h="$page_span_hours" -v b="$backend" 'BEGIN {
        printf "(e) %d deliveries stored in %s (events over the last %d h; one transaction: %.1f s; database %d MB)\n", n, b, h, f1 - f0, db
    }'
    # PAGES_KEEP=FILE keeps a copy of the filled SQLite database (for EXPLAIN QUERY PLAN).
    [ -z "${PAGES_KEEP:-}" ] || [ "$backend" != SQLite ] || cp "$db" "$PAGES_KEEP"
    start_pages_server "$db"
    if [ "$backend" = SQLite ]; then
        echo "    serve on SQLite; peers: the same rows by plain SQL (Python sqlite3 in process; the sqlite3 command for the admin commands)"
    else
        echo "    serve on PostgreSQL; peers: the same rows by plain SQL (Python psycopg in process; psql for the admin commands)"
    fi
    python3 bench/lib/pages.py "$api" "$db" "$bin" "${hooks[0]}" "${hooks[1]}" "$deep" "$page_repeats"
    stop_pages_server
}
