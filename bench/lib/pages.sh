# Sourced by bench/serve.sh: (e) the web page's pages, the API's delivery log and the admin
# commands' lists with $page_deliveries deliveries stored. The binary makes the schema (serve,
# four webhooks through the API), then sqlite3 fills it in one transaction: events stored over
# the last $page_span_hours hours, two deliveries each (every event to webhook A, one in three to
# each of B, C and D), 97 % delivered, 1 % each failed, pending (due in a day: nothing is sent)
# and skipped; then serve again, and bench/lib/pages.py times each page $page_repeats times.
# Needs $bin, $work, HOOKRELAY_TOKEN, fail and now; sets pages_pid while its server runs.
pages_bench() {
    local db=$work/pages.db log=$work/pages.log api events=$((page_deliveries / 2)) auth
    auth="Authorization: Bearer $HOOKRELAY_TOKEN"
    start_pages_server() {
        "$bin" serve --db "$1" --listen 127.0.0.1:0 --allow-http --allow-cidr 127.0.0.1/32 2> "$log" &
        pages_pid=$!
        for _ in $(seq 600); do grep -q 'listening' "$log" && break; sleep 0.1; done
        api=http://$(sed -n 's/.*listening address=\([^ ]*\).*/\1/p' "$log" | head -1)
        [ "$api" != "http://" ] || fail "(e) the server did not start: $(cat "$log")"
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
    sqlite3 "$db" > /dev/null <<SQL
PRAGMA journal_mode = WAL;
BEGIN IMMEDIATE;
INSERT INTO messages (id, webhook_id, body, created_at)
    SELECT value, 'msg_bench_' || value, '{"id":"evt_' || value || '","event_type":"finding","finding":{"severity":"high"}}',
        $now_ms - $page_span_hours * 3600000 + value * ($page_span_hours * 3600000 / $events)
    FROM generate_series(1, $events);
INSERT INTO deliveries (message_id, endpoint, status, attempts, next_attempt_at, last_http_status, last_error,
        last_latency_ms, updated_at)
    SELECT m.id, t.endpoint, m.status, m.status != 'skipped', CASE m.status WHEN 'pending' THEN $now_ms + 86400000 ELSE m.created_at END,
        CASE m.status WHEN 'delivered' THEN 204 WHEN 'failed' THEN 500 END, CASE m.status WHEN 'failed' THEN 'HTTP 500' END,
        CASE WHEN m.status IN ('delivered', 'failed') THEN 40 END, m.created_at + 1000
    FROM (SELECT id, created_at, CASE id % 100 WHEN 0 THEN 'failed' WHEN 1 THEN 'pending' WHEN 2 THEN 'skipped'
            ELSE 'delivered' END AS status FROM messages) m
    JOIN (SELECT 0 AS k, '${hooks[0]}' AS endpoint UNION ALL SELECT 1, '${hooks[1]}' UNION ALL SELECT 2, '${hooks[2]}'
          UNION ALL SELECT 3, '${hooks[3]}') t ON t.k = 0 OR t.k = 1 + m.id % 3
    ORDER BY m.id, t.k;
COMMIT;
SQL
    f1=$(now)
    local stored deep
    stored=$(sqlite3 "$db" "SELECT count(*) FROM deliveries")
    # A cursor a tenth of the way into the log from its oldest end: a deep page.
    deep=$(sqlite3 "$db" "SELECT id FROM deliveries ORDER BY id LIMIT 1 OFFSET $((stored / 10))")
    awk -v n="$stored" -v f0="$f0" -v f1="$f1" -v db="$(du -m "$db" | cut -f1)" -v h="$page_span_hours" 'BEGIN {
        printf "(e) %d deliveries stored (events over the last %d h; sqlite3, one transaction: %.1f s; database %d MB)\n", n, h, f1 - f0, db
    }'
    # PAGES_KEEP=FILE keeps a copy of the filled database (for EXPLAIN QUERY PLAN).
    [ -z "${PAGES_KEEP:-}" ] || cp "$db" "$PAGES_KEEP"
    start_pages_server "$db"
    echo "    serve on SQLite; peers: the same rows by plain SQL (Python sqlite3 in process; the sqlite3 command for the admin commands)"
    python3 bench/lib/pages.py "$api" "$db" "$bin" "${hooks[0]}" "${hooks[1]}" "$deep" "$page_repeats"
    stop_pages_server
}
