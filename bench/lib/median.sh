# Sourced by the benchmarks that interleave rounds: median VALUES… prints their median (the
# upper one of an even count).
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
