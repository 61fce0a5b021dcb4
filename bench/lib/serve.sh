# Sourced by the benchmarks: start_serve LOG ARGS… starts `"$bin" serve ARGS…` in the background
# on a free loopback port (plain http to 127.0.0.1 allowed), its log in LOG, and waits until it
# listens (serve_wait seconds, default 20): sets serve_pid and serve_api (http://127.0.0.1:PORT), or
# exits 1 with the log.
start_serve() {
    local log=$1
    shift
    # Emptied here, not only by the redirection in the child: a log left by an earlier server
    # (the same name, from a subshell's count) would otherwise be read before the child opens it.
    : > "$log"
    "$bin" serve --listen 127.0.0.1:0 --allow-http --allow-cidr 127.0.0.1/32 "$@" > /dev/null 2> "$log" &
    serve_pid=$!
    serve_api=""
    for _ in $(seq $((${serve_wait:-20} * 10))); do
        serve_api=$(grep -m1 -o 'listening address=[^ ]*' "$log" | sed 's/^listening address=/http:\/\//') || true
        [ -n "$serve_api" ] && return 0
        kill -0 "$serve_pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "$0: serve did not start: $(cat "$log")" >&2
    exit 1
}
