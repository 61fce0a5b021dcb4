# Sourced by the benchmarks: starts nginx on 127.0.0.1:$port answering 204 to everything,
# with its request counter at /nginx-status, in $work (which the caller removes).
# Defines requests: the number of requests nginx has answered (the status request counts itself).
mkdir -p "$work/logs"
cat > "$work/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/logs/error.log;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_buffer_size 64k;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$port;
        location / { return 204; }
        location = /nginx-status { stub_status; }
    }
}
CONF
nginx -c "$work/nginx.conf" -p "$work" 2>/dev/null || nginx -c "$work/nginx.conf" -p "$work"
sleep 0.3
requests() { curl -s "http://127.0.0.1:$port/nginx-status" | awk 'NR == 3 { print $3 }'; }
