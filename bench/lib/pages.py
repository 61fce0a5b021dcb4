# Times the web page's pages, the API's delivery log and the admin commands' lists against a
# filled database (bench/lib/pages.sh), each beside a peer: the plain SQL of the same rows in
# Python's sqlite3 (or psycopg, for a postgres:// DB) for the pages (in process), the sqlite3
# command (or psql) for the admin commands (a process each, as the commands are).
#
# usage: pages.py API DB HOOKRELAY WEBHOOK_A WEBHOOK_B DEEP_ID REPEATS   (HOOKRELAY_TOKEN set)
import http.client, os, sqlite3, statistics, subprocess, sys, time, urllib.parse

api, db, binary, hook_a, hook_b, deep, repeats = sys.argv[1:8]
deep, repeats = int(deep), int(repeats)
token = os.environ["HOOKRELAY_TOKEN"]
host, port = api.removeprefix("http://").split(":")
connection = http.client.HTTPConnection(host, int(port))


def request(method, path, body=None, headers={}):
    """One request on the kept connection, made again on a new one if the server closed it
    (its idle_timeout passes while a slow peer runs)."""
    global connection
    for retry in (False, True):
        try:
            connection.request(method, path, body, headers)
            return connection.getresponse()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            if retry:
                raise
            connection.close()
            connection = http.client.HTTPConnection(host, int(port))

answer = request("POST", "/ui/login", urllib.parse.urlencode({"token": token}),
                 {"content-type": "application/x-www-form-urlencoded"})
answer.read()
cookie = (answer.getheader("set-cookie") or "").split(";")[0]
if answer.status != 303 and answer.status != 302 or not cookie:
    sys.exit(f"pages.py: the login answered {answer.status} without a session cookie")


def timed(run):
    """Median and p95 (ms) of `repeats` runs after one warm-up."""
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))]


def get(path, ui):
    headers = {"cookie": cookie} if ui else {"authorization": "Bearer " + token}
    def run():
        response = request("GET", path, headers=headers)
        body = response.read()
        if response.status != 200:
            sys.exit(f"pages.py: GET {path}: HTTP {response.status}: {body[:300]!r}")
    return run


postgres = db.startswith(("postgres://", "postgresql://"))
if postgres:
    import psycopg
    peer_db = psycopg.connect(db, autocommit=True)
else:
    peer_db = sqlite3.connect(f"file:{db}?mode=ro", uri=True, isolation_level=None)
ROW = """SELECT d.id, m.webhook_id, d.endpoint, d.status, d.attempts, d.last_http_status, d.last_error,
    d.last_latency_ms, d.next_attempt_at, m.created_at, d.updated_at FROM deliveries d JOIN messages m ON m.id = d.message_id"""
DAY = 24 * 3600 * 1000
now = int(time.time() * 1000)


def sql(*queries):
    def run():
        for query, arguments in queries:
            peer_db.execute(query.replace("?", "%s") if postgres else query, arguments).fetchall()
    return run


def log(where, arguments, limit):
    return (f"{ROW} WHERE {where} ORDER BY d.id DESC LIMIT {limit}", arguments)


# The chart's rows: from the hourly counts where the schema keeps them (SQLite's schema 11,
# PostgreSQL's migration 8, summed over its slots), else grouped.
if postgres or peer_db.execute("SELECT 1 FROM sqlite_schema WHERE name = 'delivery_hours'").fetchone():
    chart = ("""SELECT hour, sum(CASE status WHEN 'delivered' THEN n END), sum(CASE status WHEN 'failed' THEN n END)
        FROM delivery_hours WHERE endpoint = ? AND hour >= ? GROUP BY hour""", (hook_a, (now - DAY) // 3600000))
else:
    chart = ("""SELECT updated_at / 3600000, sum(status = 'delivered'), sum(status = 'failed') FROM deliveries
        WHERE endpoint = ? AND status IN ('delivered', 'failed') AND updated_at >= ? GROUP BY 1""", (hook_a, now - DAY))
# Pending from SQLite's counts table (schema 5); PostgreSQL has none and counts the rows.
pending = ("SELECT count(*) FROM deliveries WHERE endpoint = ? AND status = 'pending'" if postgres
           else "SELECT n FROM delivery_counts WHERE endpoint = ? AND status = 'pending'")
webhooks = ("SELECT * FROM webhooks ORDER BY created_at", ())
activity = [q for hook in (hook_a, hook_b) for q in (
    ("SELECT updated_at FROM deliveries WHERE endpoint = ? AND status = 'delivered' ORDER BY id DESC LIMIT 1", (hook,)),
    (pending, (hook,)),
    ("SELECT count(*) FROM deliveries WHERE endpoint = ? AND status = 'failed' AND updated_at >= ?", (hook, now - DAY)))]
a = f"/ui/webhooks/{hook_a}"
v1 = f"/v1/webhooks/{hook_a}/deliveries"
pages = [
    ("/ui: webhooks with activity", get("/ui", True), sql(webhooks, *activity)),
    ("/ui/webhooks/A: chart + 25 deliveries", get(a, True), sql(chart, log("d.endpoint = ?", (hook_a,), 26))),
    ("  ?status=failed", get(a + "?status=failed", True), sql(chart, log("d.endpoint = ? AND d.status = 'failed'", (hook_a,), 26))),
    ("  ?status=pending&cursor=DEEP", get(f"{a}?status=pending&cursor={deep}", True),
     sql(chart, log("d.endpoint = ? AND d.status = 'pending' AND d.id < ?", (hook_a, deep), 26))),
    ("  ?cursor=DEEP", get(f"{a}?cursor={deep}", True), sql(chart, log("d.endpoint = ? AND d.id < ?", (hook_a, deep), 26))),
    (f"{v1.replace(hook_a, 'A')}", get(v1, False), sql(log("d.endpoint = ?", (hook_a,), 100))),
    ("  ?status=failed&cursor=DEEP", get(f"{v1}?status=failed&cursor={deep}", False),
     sql(log("d.endpoint = ? AND d.status = 'failed' AND d.id < ?", (hook_a, deep), 100))),
    ("  ?since=1h", get(f"{v1}?since=1h", False),
     sql(log("d.endpoint = ? AND m.created_at >= ?", (hook_a, now - 3600 * 1000), 100))),
    ("/v1/deliveries", get("/v1/deliveries", False), sql(log("TRUE", (), 100))),
    ("  ?status=failed", get("/v1/deliveries?status=failed", False), sql(log("d.status = 'failed'", (), 100))),
    ("  ?status=pending&cursor=DEEP", get(f"/v1/deliveries?status=pending&cursor={deep}", False),
     sql(log("d.status = 'pending' AND d.id < ?", (deep,), 100))),
    ("  ?status=skipped&since=1h", get("/v1/deliveries?status=skipped&since=1h", False),
     sql(log("d.status = 'skipped' AND m.created_at >= ?", (now - 3600 * 1000,), 100))),
]


def process(arguments):
    def run():
        subprocess.run(arguments, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return run


def sqlite_cli(query):
    return process(["psql", "-Atqc", query, db] if postgres else ["sqlite3", "-readonly", db, query])


commands = [
    ("(process start alone: hookrelay --version)", ["--version"], process(["psql" if postgres else "sqlite3", "--version"])),
    ("deliveries list", ["deliveries", "list"], sqlite_cli(f"{ROW} ORDER BY d.id DESC LIMIT 50")),
    ("deliveries list --webhook A --status failed", ["deliveries", "list", "--webhook", hook_a, "--status", "failed"],
     sqlite_cli(f"{ROW} WHERE d.endpoint = '{hook_a}' AND d.status = 'failed' ORDER BY d.id DESC LIMIT 50")),
    ("deliveries list --status pending --cursor DEEP", ["deliveries", "list", "--status", "pending", "--cursor", str(deep)],
     sqlite_cli(f"{ROW} WHERE d.status = 'pending' AND d.id < {deep} ORDER BY d.id DESC LIMIT 50")),
    ("webhooks list", ["webhooks", "list"], sqlite_cli("SELECT * FROM webhooks")),
    ("webhooks show A", ["webhooks", "show", hook_a], sqlite_cli(f"SELECT * FROM webhooks WHERE id = '{hook_a}'")),
]

print(f"{'':50} {'median':>8} {'p95':>8} {'p95 vs':>8} {'peer':>8} {'vs peer':>8}")
print(f"{'':50} {'ms':>8} {'ms':>8} {'100 ms':>8} {'ms':>8} {'median':>8}")
over = 0
runs = [(n, process([binary] + c + ([] if c == ["--version"] else ["--db", db])), p) for n, c, p in commands]
for name, run, peer in pages + runs:
    median, p95 = timed(run)
    peer_median, _ = timed(peer)
    over += p95 > 100 and not name.startswith("(")
    print(f"{name:50} {median:8.1f} {p95:8.1f} {p95 / 100:7.2f}x {peer_median:8.1f} {median / max(peer_median, 0.01):7.1f}x")
print(f"{over} of {len(pages) + len(commands) - 1} over 100 ms at p95 (required: none); the admin commands' times include starting the process")
