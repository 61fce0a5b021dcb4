#!/bin/sh
# Shows: a scanner's export → the high and critical findings → a webhook, signed, through a
# durable spool: a run that is interrupted, or a receiver that is down, loses nothing; the next
# run (or `hookrelay deliver --spool SPOOL --drain` from cron, see contrib/cron/hookrelay) sends
# what is left. The secret comes from the environment, never the command line.
#
# usage: HOOKRELAY_SECRET=whsec_... export-to-webhook.sh EXPORT URL [SPOOL]
#   e.g. export-to-webhook.sh scan-2025-01.ndjson https://tickets.example.com/hooks/scanner
#
# Environment: HOOKRELAY names the binary (default: hookrelay on the PATH); HOOKRELAY_DELIVER_FLAGS adds
# flags to `hookrelay deliver`, split at blanks (so no value may hold one; globbing is off), e.g.
#   HOOKRELAY_DELIVER_FLAGS="--allow-http --allow-cidr 127.0.0.1/32"
# to send to a local `hookrelay receive --listen 127.0.0.1:9000` at http://127.0.0.1:9000/hooks.
set -euf
hookrelay=${HOOKRELAY:-hookrelay}
deliver_flags=${HOOKRELAY_DELIVER_FLAGS:-}
export_file=${1:?usage: export-to-webhook.sh EXPORT URL [SPOOL]}
url=${2:?usage: export-to-webhook.sh EXPORT URL [SPOOL]}
spool=${3:-$HOME/.cache/hookrelay/spool.db}
mkdir -p "$(dirname "$spool")"

# --wait 10m: stay up to ten minutes for retries, then leave the rest pending in the spool
# (exit status 75) for the next run or the cron drain.
"$hookrelay" filter --event finding --min-severity high "$export_file" |
    "$hookrelay" deliver --url "$url" --spool "$spool" --wait 10m $deliver_flags   # split on purpose
