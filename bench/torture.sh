#!/usr/bin/env bash
# The long run of the torture suite (issue 7; Tests/EndToEndTests/Torture*.swift): serve and
# deliver --spool killed with SIGKILL 60 and 12 times under load, frozen workers, a long reader
# beside 50,000 ingests, hostile endpoints, hostile input (1,000,000 records in one request) and
# the SSRF spellings. `swift test` runs the same tests short; this runs them long and prints the
# `torture:` line of each test. Everything stays on 127.0.0.1.
#
# usage: bench/torture.sh [SWIFT TEST ARGUMENTS...]   (needs python3; takes about 10 minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT

swift build --build-tests >&2
started=$(date +%s)
status=0
HOOKRELAY_TORTURE=long swift test --skip-build --filter Torture "$@" 2>&1 | tee "$log" >&2 || status=$?
echo "# bash bench/torture.sh, $(date -u +%Y-%m-%d), $(( $(date +%s) - started )) s, exit status $status"
grep '^torture:' "$log" | sort
grep -E '✘ Test .* failed' "$log" || true
exit "$status"
