#!/usr/bin/env bash
# Times `hookrelay filter --event finding --min-severity high` against jq and a Python+orjson
# script on the same generated file, checks all three keep the same events, and prints
# events/s, MB/s, peak RSS and ratios. Then the same for `hookrelay filter --unique` on the file
# twice over (a scan exported twice: every finding repeated), against `jq -c` with an awk dedupe
# and a Python+orjson dedupe (bench/unique_peer.py).
#
# usage: bench/filter.sh [EVENTS]   (default 1000000; needs jq, python3 with orjson, GNU time)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

command -v jq >/dev/null || { echo "bench/filter.sh: needs jq (apt-get install jq)" >&2; exit 69; }
python3 -c 'import orjson' 2>/dev/null || { echo "bench/filter.sh: needs orjson (pip install orjson)" >&2; exit 69; }
[ -x /usr/bin/time ] || { echo "bench/filter.sh: needs GNU time (apt-get install time)" >&2; exit 69; }

. bench/lib/binary.sh
gen=${GEN_EVENTS:-../shared/bench/gen_events.py}
python3 "$gen" "$n" > "$work/events.ndjson"
bytes=$(stat -c %s "$work/events.ndjson")

jq_filter='select(.event_type == "finding" and ((.finding.severity // .severity) as $s | $s == null or ($s | type == "string" and (ascii_downcase == "high" or ascii_downcase == "critical"))))'

# run NAME COMMAND...: best wall time of 3 runs, and the peak RSS, output kept in $work/NAME.out;
# the input is $work/$input (events.ndjson unless set).
input=events.ndjson
run() {
    local name=$1; shift
    local best=""
    for _ in 1 2 3; do
        /usr/bin/time -f '%e %M' -o "$work/$name.time" "$@" < "$work/$input" > "$work/$name.out"
        read -r secs rss < "$work/$name.time"
        if [ -z "$best" ] || awk "BEGIN{exit !($secs < $best)}"; then best=$secs; fi
        peak=$rss
    done
    echo "$name $best $peak"
}

results=$(
    run hookrelay "$bin" filter --event finding --min-severity high
    run jq jq -c "$jq_filter"
    run python python3 bench/filter_peer.py
)

# Same selection: hookrelay and the Python script write the input bytes; jq re-serialises, so compare ids.
cmp -s "$work/hookrelay.out" "$work/python.out" || { echo "bench/filter.sh: hookrelay and python kept different events" >&2; exit 1; }
ids() { grep -o '"id":"[^"]*"' "$1"; }
cmp -s <(ids "$work/hookrelay.out") <(ids "$work/jq.out") || { echo "bench/filter.sh: hookrelay and jq kept different events" >&2; exit 1; }
kept=$(wc -l < "$work/hookrelay.out")

echo "events: $n ($((bytes / 1000000)) MB), kept: $kept (identical selections)"
echo "$results" | awk -v n="$n" -v bytes="$bytes" '
    { secs[$1] = $2; rss[$1] = $3; order[NR] = $1 }
    END {
        printf "%-10s %10s %12s %8s %12s\n", "tool", "seconds", "events/s", "MB/s", "peak RSS MB"
        for (i = 1; i <= NR; i++) {
            t = order[i]
            printf "%-10s %10.2f %12.0f %8.1f %12.1f\n", t, secs[t], n / secs[t], bytes / secs[t] / 1e6, rss[t] / 1024
        }
        printf "hookrelay vs jq:     %.1fx  (required >= 10x)\n", secs["jq"] / secs["hookrelay"]
        printf "hookrelay vs python: %.1fx  (required >= 2x)\n", secs["python"] / secs["hookrelay"]
        printf "hookrelay peak RSS:  %.1f MB (required < 64 MB)\n", rss["hookrelay"] / 1024
    }'

# --unique: the same events twice over; each finding comes out once, other events twice.
cat "$work/events.ndjson" "$work/events.ndjson" > "$work/twice.ndjson"
input=twice.ndjson
twice_bytes=$(stat -c %s "$work/twice.ndjson")
# jq: a key per finding (its id, else asset, title, URL, parameter and severity; a line number
# for other events, so they all pass), a tab, the event; awk keeps the first of each key.
jq_key='"\(if (.finding | type) == "object" then (.finding.id // ([.finding.asset, .finding.title, .finding.url, .finding.parameter, (.finding.severity // .severity)] | tojson)) else "line \(input_line_number)" end)\t\(tojson)"'
jq_unique() { jq -r "$jq_key" | awk -F '\t' '!seen[$1]++ { print $2 }'; }
export -f jq_unique; export jq_key
unique_results=$(
    run hookrelay "$bin" filter --unique
    run jq bash -c jq_unique
    run python python3 bench/unique_peer.py
)
cmp -s "$work/hookrelay.out" "$work/python.out" || { echo "bench/filter.sh: hookrelay --unique and python kept different events" >&2; exit 1; }
cmp -s <(ids "$work/hookrelay.out") <(ids "$work/jq.out") || { echo "bench/filter.sh: hookrelay --unique and jq kept different events" >&2; exit 1; }
unique_kept=$(wc -l < "$work/hookrelay.out")

echo
echo "--unique: events: $((2 * n)) ($((twice_bytes / 1000000)) MB, the file twice), kept: $unique_kept (identical selections)"
echo "$unique_results" | awk -v n="$((2 * n))" -v bytes="$twice_bytes" '
    { secs[$1] = $2; rss[$1] = $3; order[NR] = $1 }
    END {
        printf "%-10s %10s %12s %8s %12s\n", "tool", "seconds", "events/s", "MB/s", "peak RSS MB"
        for (i = 1; i <= NR; i++) {
            t = order[i]
            printf "%-10s %10.2f %12.0f %8.1f %12.1f\n", t, secs[t], n / secs[t], bytes / secs[t] / 1e6, rss[t] / 1024
        }
        printf "hookrelay --unique vs jq+awk: %.1fx\n", secs["jq"] / secs["hookrelay"]
        printf "hookrelay --unique vs python: %.1fx\n", secs["python"] / secs["hookrelay"]
    }'
