#!/usr/bin/env bash
# What a digest costs `serve` per event (issue 19): EVENTS generated events ingested as NDJSON
# batches of 1,000 for one webhook pointing at a local nginx answering 204, (a) sent one by one,
# (b) with `"digest":"1h"`, each folded into the digest (one transaction per fold, the digest's
# message rewritten) and settled `digested`. Each run on a fresh database; the time from the first
# batch until every delivery is final (nginx has the N requests; /metrics shows N digested).
# Rounds alternate (a) and (b), so the machine's noise falls on both; prints the medians, per
# event, and the ratio (b)/(a).
#
# usage: bench/digest.sh [EVENTS] [ROUNDS]   (defaults 10000 3; needs nginx-light, curl, python3)
# HOOKRELAY=path/to/hookrelay skips the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}
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
for tool in nginx curl python3; do
    command -v "$tool" >/dev/null || { echo "bench/digest.sh: needs $tool" >&2; exit 69; }
done
. bench/lib/binary.sh
. bench/lib/nginx.sh
. bench/lib/serve.sh
. bench/lib/median.sh
gen=${GEN_EVENTS:-../shared/bench/gen_events.py}
python3 "$gen" "$n" > "$work/events.ndjson"
split -l 1000 "$work/events.ndjson" "$work/batch."
export HOOKRELAY_TOKEN="bench-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"

# run FIELDS WAIT: a fresh serve and webhook, the batches, then WAIT until done; prints seconds.
run() {
    local fields=$1 until=$2
    start_serve "$work/serve.log" --db "$work/db-$RANDOM.db"
    server_pid=$serve_pid api=$serve_api
    curl -sf -H "Authorization: Bearer $HOOKRELAY_TOKEN" "$api/v1/webhooks" \
        -d "{\"url\":\"http://127.0.0.1:$port/hook\"$fields}" > /dev/null
    local before; before=$(requests)
    local start; start=$(date +%s.%N)
    for batch in "$work"/batch.*; do
        curl -sf -H "Authorization: Bearer $HOOKRELAY_TOKEN" -H 'content-type: application/x-ndjson' \
            --data-binary "@$batch" "$api/v1/events" > /dev/null
    done
    "$until" "$before"
    local end; end=$(date +%s.%N)
    kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
    awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", e - s }'
}
sent() { while [ $(( $(requests) - $1 - 1 )) -lt "$n" ]; do sleep 0.05; done; }
folded() {
    # Read whole, then searched: grep -q quitting early would fail curl's write under pipefail.
    until curl -s "$api/metrics" > "$work/metrics" && grep -Eq "^hookrelay_deliveries\{state=\"digested\"\} $n(\.0)?\$" "$work/metrics"; do
        sleep 0.05
    done
}

plain=() digest=()
for r in $(seq "$rounds"); do
    plain+=("$(run "" sent)")
    digest+=("$(run ',"digest":"1h"' folded)")
    echo "round $r: sent ${plain[-1]} s, folded ${digest[-1]} s" >&2
done
p=$(median "${plain[@]}")
d=$(median "${digest[@]}")
echo "events: $n for one webhook, ingested in batches of 1,000; until every delivery is final; medians of $rounds rounds"
awk -v n="$n" -v p="$p" -v d="$d" 'BEGIN {
    printf "%-28s %8s %12s\n", "", "seconds", "ms/event"
    printf "%-28s %8.2f %12.3f\n", "sent one by one (nginx 204)", p, 1000 * p / n
    printf "%-28s %8.2f %12.3f\n", "folded into a digest", d, 1000 * d / n
    printf "folding vs sending, time per event: %.2fx\n", d / p
}'
