#!/bin/sh
# Shows: following a growing event log with `tail -F` (which survives log rotation) and
# passing on each high or critical finding as soon as it is appended: filter flushes its
# output whenever its input pauses, so nothing waits in a buffer. Runs until interrupted.
#
# usage: follow-log.sh LOG [ASSET-GLOB]
#   e.g. follow-log.sh /var/log/scanner/events.ndjson '*.prod.example.com' |
#            jq --unbuffered -r '[.finding.severity, .finding.asset, .finding.title] | @tsv'
#
# Environment: HOOKRELAY names the binary (default: hookrelay on the PATH); HOOKRELAY_FILTER_FLAGS adds
# flags to `hookrelay filter`, split at blanks (so no value may hold one; globbing is off), e.g.
#   HOOKRELAY_FILTER_FLAGS="--max-record-size 1M"
set -euf
hookrelay=${HOOKRELAY:-hookrelay}
filter_flags=${HOOKRELAY_FILTER_FLAGS:-}
log=${1:?usage: follow-log.sh LOG [ASSET-GLOB]}

# -n 0: only events appended from now on. Invalid lines are reported on stderr and skipped.
tail -n 0 -F "$log" |
    "$hookrelay" filter --event finding --min-severity high ${2:+--asset} ${2:+"$2"} $filter_flags   # split on purpose
