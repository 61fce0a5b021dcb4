#!/usr/bin/env bash
# Delivers generated events to a local nginx answering 204, with hookrelay (signed, concurrency
# 64) and with `curl --parallel --parallel-max 64` posting the same events, and prints events/s
# and the ratios, without and with --spool; then the peak RSS of hookrelay for a large input.
#
# usage: bench/deliver.sh [EVENTS] [RSS_EVENTS]   (defaults 20000 and 1000000; needs nginx-light, curl, GNU time)
# HOOKRELAY=path/to/hookrelay skips the build (to compare builds of two commits).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20000}
rss_n=${2:-1000000}
work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
cleanup() { [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

for tool in nginx curl /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "bench/deliver.sh: needs $tool (apt-get install nginx-light curl time)" >&2; exit 69; }
done

. bench/lib/binary.sh
gen=${GEN_EVENTS:-../shared/bench/gen_events.py}
python3 "$gen" "$n" > "$work/events.ndjson"

. bench/lib/nginx.sh
url="http://127.0.0.1:$port/hook"

# One curl config entry per event: the same bytes, content type and URL.
python3 - "$work/events.ndjson" "$url" > "$work/curl.cfg" <<'PY'
import sys
url = sys.argv[2]
entries = []
for line in open(sys.argv[1], encoding="utf-8"):
    body = line.rstrip("\n").replace("\\", "\\\\").replace('"', '\\"')
    entries.append(f'url = "{url}"\noutput = "/dev/null"\nheader = "content-type: application/json"\ndata-binary = "{body}"')
print("\nnext\n".join(entries))
PY

export HOOKRELAY_SECRET="whsec_$(head -c 32 /dev/urandom | base64)"
# once NAME COMMAND...: one timed run (wall seconds), checking nginx answered n requests.
# "@SPOOL@" in the command becomes a fresh spool file (a spool never sends an event twice).
once() {
    local name=$1; shift
    local args=("${@//@SPOOL@/$work/spool-$RANDOM$RANDOM.db}")
    local before; before=$(requests)
    local start end
    start=$(date +%s.%N)
    "${args[@]}" < "$work/events.ndjson" > /dev/null
    end=$(date +%s.%N)
    local got=$(( $(requests) - before - 1 ))
    [ "$got" -eq "$n" ] || { echo "bench/deliver.sh: $name made $got requests, expected $n" >&2; exit 1; }
    awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", e - s }'
}

# Rounds of one run each, interleaved so drifting load on the shared machine hits all three
# alike; the best time of each counts.
deliver=("$bin" deliver --url "$url" --allow-http --allow-cidr 127.0.0.1/32 --concurrency 64 --quiet)
rounds=${ROUNDS:-5}
best() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b < a) ? b : a }'; }
curl_s=""; hr_s=""; spool_s=""
for _ in $(seq "$rounds"); do
    curl_s=$(best "$curl_s" "$(once curl curl --silent --no-progress-meter --parallel --parallel-max 64 --config "$work/curl.cfg")")
    hr_s=$(best "$hr_s" "$(once hookrelay "${deliver[@]}")")
    spool_s=$(best "$spool_s" "$(once spool "${deliver[@]}" --spool @SPOOL@)")
done

echo "events: $n to nginx on 127.0.0.1 (204), concurrency 64, signed; best of $rounds interleaved rounds"
awk -v n="$n" -v c="$curl_s" -v h="$hr_s" -v s="$spool_s" 'BEGIN {
    printf "%-22s %8s %10s\n", "tool", "seconds", "events/s"
    printf "%-22s %8.2f %10.0f\n", "curl --parallel", c, n / c
    printf "%-22s %8.2f %10.0f\n", "hookrelay", h, n / h
    printf "%-22s %8.2f %10.0f\n", "hookrelay --spool", s, n / s
    printf "hookrelay vs curl:          %.2fx  (required >= 1.5x)\n", c / h
    printf "hookrelay --spool vs curl:  %.2fx  (required >= 0.7x)\n", c / s
}'

if [ "$rss_n" -gt 0 ]; then
    python3 "$gen" "$rss_n" > "$work/big.ndjson"
    /usr/bin/time -f '%M %e' -o "$work/rss" "${deliver[@]}" < "$work/big.ndjson"
    read -r rss secs < "$work/rss"
    awk -v k="$rss" -v n="$rss_n" -v s="$secs" 'BEGIN { printf "hookrelay peak RSS for %d events: %.1f MB in %.1fs (required < 100 MB)\n", n, k / 1024, s }'
fi
