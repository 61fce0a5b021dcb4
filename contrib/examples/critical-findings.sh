#!/bin/sh
# Shows: picking the critical findings out of a scanner's NDJSON export file, optionally only
# for assets matching a shell glob, with invalid records put aside in EXPORT.rejects (and
# reported on stderr) instead of failing the run, and a read/matched/invalid summary at the end.
#
# usage: critical-findings.sh EXPORT [ASSET-GLOB] > critical.ndjson
#   e.g. critical-findings.sh scan-2025-01.ndjson '*.prod.example.com'
#
# Environment: HOOKRELAY names the binary (default: hookrelay on the PATH); HOOKRELAY_FILTER_FLAGS adds
# flags to `hookrelay filter`, split at blanks (so no value may hold one; globbing is off), e.g.
#   HOOKRELAY_FILTER_FLAGS="--max-record-size 1M"
set -euf
hookrelay=${HOOKRELAY:-hookrelay}
filter_flags=${HOOKRELAY_FILTER_FLAGS:-}
export_file=${1:?usage: critical-findings.sh EXPORT [ASSET-GLOB]}

# ${2:+...} adds `--asset GLOB` only when a glob is given: --asset drops events without an asset.
exec "$hookrelay" filter --event finding --severity critical ${2:+--asset} ${2:+"$2"} \
    --invalid "$export_file.rejects" --summary $filter_flags "$export_file"   # split on purpose
