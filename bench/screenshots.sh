#!/usr/bin/env bash
# Screenshots of serve's web page (/ui) at desktop and phone width into docs/screenshots/:
# starts `hookrelay serve` on a temporary database and a local receiver that fails one event in
# three, adds webhooks and events through the API, then has headless Chromium (Selenium) take
# the pictures. Needs chromium, chromium-driver and python3 with selenium.
# usage: bench/screenshots.sh   (HOOKRELAY=path/to/hookrelay skips the build)
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
out=docs/screenshots
server_pid=""; receiver_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
    [ -n "$receiver_pid" ] && kill "$receiver_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
. bench/lib/binary.sh
export SE_OFFLINE=true
receiver_port=$((20000 + RANDOM % 20000))
python3 - "$receiver_port" <<'PY' &
import http.server, sys
count = 0
class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        global count
        count += 1
        self.rfile.read(int(self.headers.get("content-length", 0)))
        status = 500 if count % 3 == 0 else 204
        self.send_response(status)
        body = b"upstream unavailable" if status == 500 else b""
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
PY
receiver_pid=$!
export HOOKRELAY_TOKEN="screens-$(od -An -N16 -tx1 /dev/urandom | tr -d " \n")"
printf 'retry_schedule = ["1s", "1s"]\n' > "$work/serve.toml"
. bench/lib/serve.sh
start_serve "$work/serve.log" --db "$work/h.db" --config "$work/serve.toml"
server_pid=$serve_pid api=$serve_api
auth="Authorization: Bearer $HOOKRELAY_TOKEN"
hook() { curl -sf -H "$auth" "$api/v1/webhooks" -d "$1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])'; }
soc=$(hook "{\"url\":\"http://127.0.0.1:$receiver_port/soc\",\"events\":[\"finding\"],\"min_severity\":\"high\",\"description\":\"SOC on-call\"}")
hook "{\"url\":\"http://127.0.0.1:$receiver_port/audit\",\"description\":\"Audit log\",\"template\":\"raw\"}" >/dev/null
hook "{\"url\":\"http://127.0.0.1:$receiver_port/chat\",\"events\":[\"finding\"],\"severities\":[\"critical\"],\"template\":\"slack\",\"description\":\"#security channel\"}" >/dev/null
python3 ../shared/bench/gen_events.py 300 | curl -sf -H "$auth" -H 'content-type: application/x-ndjson' --data-binary @- "$api/v1/events" >/dev/null
sleep 5
delivery=$(curl -sf -H "$auth" "$api/v1/webhooks/$soc/deliveries?status=failed&limit=1" |
    python3 -c 'import json, sys; d = json.load(sys.stdin)["deliveries"]; print(d[0]["id"] if d else 1)')
mkdir -p "$out"
python3 bench/screenshots.py "$api" "$HOOKRELAY_TOKEN" "$out" "$soc" "$delivery"
