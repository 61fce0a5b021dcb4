#!/usr/bin/env bash
# Idle cost and wake-up latency of `hookrelay serve` (issue 14): CPU with 100 webhooks and
# nothing due, CPU with 10,000 webhooks each holding a retry due in an hour, the time from posting
# an event until a healthy webhook's receiver has it, and the time to create a webhook at 10,000.
#
# usage: bench/idle.sh            (builds the release binary)
#   HOOKRELAY=path/to/hookrelay   skips the build
#   HOOKRELAY_PEER=path/to/older  runs that binary first (a build of an earlier commit) and prints
#                                 the ratios; IDLE_SECONDS=60 how long each idle reading lasts.
# needs python3.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib/binary.sh
if [ -n "${HOOKRELAY_PEER:-}" ]; then
    exec python3 bench/idle.py "$HOOKRELAY_PEER" "$bin"
fi
exec python3 bench/idle.py "$bin"
