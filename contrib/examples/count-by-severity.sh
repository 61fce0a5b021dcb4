#!/bin/sh
# Shows: counting findings per severity with a loop of `hookrelay filter --count`, and
# chaining two filters. Findings without a severity pass every severity filter, so they are
# counted once (the ones that pass both --severity critical and --severity info) and taken
# out of each line; findings whose severity is not one of the five names pass none.
#
# usage: count-by-severity.sh EVENTS
#
# Environment: HOOKRELAY names the binary (default: hookrelay on the PATH); HOOKRELAY_FILTER_FLAGS adds
# flags to each `hookrelay filter` that reads EVENTS, split at blanks (so no value may hold one; globbing is off), e.g.
#   HOOKRELAY_FILTER_FLAGS="--asset app1*.example.com"
set -euf
hookrelay=${HOOKRELAY:-hookrelay}
filter_flags=${HOOKRELAY_FILTER_FLAGS:-}
file=${1:?usage: count-by-severity.sh EVENTS}

# This first pass also validates the file: on invalid records hookrelay reports them and
# exits 65, and `set -e` stops here rather than print counts of a damaged file.
total=$("$hookrelay" filter --event finding --count $filter_flags "$file")   # split on purpose
none=$("$hookrelay" filter --event finding --severity critical $filter_flags "$file" |
    "$hookrelay" filter --severity info --count)

named=0
for severity in critical high medium low info; do
    n=$(($("$hookrelay" filter --event finding --severity "$severity" --count $filter_flags "$file") - none))
    named=$((named + n))
    printf '%-8s %8d\n' "$severity" "$n"
done
printf '%-8s %8d\n' none "$none" unknown $((total - named - none)) total "$total"
