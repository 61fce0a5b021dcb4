#!/usr/bin/env python3
"""How much `hookrelay serve` does when there is nothing to do, and how fast it acts when there is.

For each binary given (the peer first when two are: a build of an earlier commit), in turn:
  (1) 100 webhooks and nothing due: serve's CPU time over IDLE_SECONDS, as % of one core;
  (2) 10,000 webhooks each holding one retry due in an hour (written into the database before
      serve starts), plus one healthy webhook: CPU over IDLE_SECONDS, then the time from posting
      an event for the healthy webhook until its receiver has it (20 events, one at a time), and
      the time to create a webhook (20 creations).
CPU time is read from /proc/PID/stat (utime + stime). Prints one table, and the ratios of the
second binary to the first when there are two.

usage: bench/idle.py BIN [PEER_BIN]   (bench/idle.sh builds and runs it)
"""
import http.server
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

IDLE_SECONDS = int(os.environ.get("IDLE_SECONDS", "60"))
TICKS = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sink:
    """A receiver answering 204 that notes when each event id arrived."""

    def __init__(self):
        arrivals = self.arrivals = {}
        cond = self.cond = threading.Condition()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                ident = self.headers.get("webhook-id", "")
                with cond:
                    arrivals[ident] = time.monotonic()
                    cond.notify_all()
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, ident, timeout=10):
        deadline = time.monotonic() + timeout
        with self.cond:
            while ident not in self.arrivals and time.monotonic() < deadline:
                self.cond.wait(0.05)
            return self.arrivals.get(ident)


class Serve:
    def __init__(self, binary, db, token):
        self.port = free_port()
        self.token = token
        self.api = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, HOOKRELAY_TOKEN=token)
        self.process = subprocess.Popen(
            [binary, "serve", "--db", db, "--listen", f"127.0.0.1:{self.port}", "--allow-http", "--allow-cidr", "127.0.0.1/32"],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(600):
            try:
                urllib.request.urlopen(self.api + "/healthz", timeout=1).read()
                return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("bench/idle.py: serve did not start")

    def call(self, method, path, body=None, content_type="application/json"):
        request = urllib.request.Request(self.api + path, method=method, data=body, headers={
            "Authorization": "Bearer " + self.token, "content-type": content_type})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def webhook(self, url, events):
        return self.call("POST", "/v1/webhooks", json.dumps({"url": url, "events": events}).encode())["id"]

    def cpu_seconds(self):
        with open(f"/proc/{self.process.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS

    def idle_cpu_percent(self, seconds):
        time.sleep(3)
        start, started = self.cpu_seconds(), time.monotonic()
        time.sleep(seconds)
        return 100 * (self.cpu_seconds() - start) / (time.monotonic() - started)

    def stop(self):
        self.process.terminate()
        self.process.wait(30)


def fill(db, count, url):
    """`count` webhooks for asset_changed events, each with one delivery due in an hour."""
    now = int(time.time() * 1000)
    with sqlite3.connect(db) as c:
        c.execute("INSERT INTO messages (webhook_id, body, created_at) VALUES ('bench-old', '{}', ?)", (now,))
        message = c.execute("SELECT id FROM messages WHERE webhook_id = 'bench-old'").fetchone()[0]
        for i in range(count):
            ident = f"wh_bench{i:06d}"
            c.execute(
                "INSERT INTO webhooks (id, url, events, secret, created_at, updated_at) VALUES (?, ?, '[\"asset_changed\"]', ?, ?, ?)",
                (ident, url, "whsec_" + "A" * 43 + "=", now, now))
            c.execute(
                "INSERT INTO deliveries (message_id, endpoint, status, attempts, next_attempt_at, updated_at) VALUES (?, ?, 'pending', 1, ?, ?)",
                (message, ident, now + 3_600_000, now))
        c.execute("UPDATE meta SET value = value + 1 WHERE key = 'webhooks_version'")


def run(binary):
    sink = Sink()
    url = f"http://127.0.0.1:{sink.port}/hook"
    result = {}
    with tempfile.TemporaryDirectory() as work:
        db = os.path.join(work, "idle.db")
        serve = Serve(binary, db, "bench-idle-token-0123456789")
        for _ in range(100):
            serve.webhook(url, ["asset_changed"])
        result["idle_100"] = serve.idle_cpu_percent(IDLE_SECONDS)
        serve.stop()

        db = os.path.join(work, "many.db")
        serve = Serve(binary, db, "bench-idle-token-0123456789")
        serve.stop()
        fill(db, 10_000, url)
        serve = Serve(binary, db, "bench-idle-token-0123456789")
        serve.webhook(url, ["finding"])
        result["idle_10k"] = serve.idle_cpu_percent(IDLE_SECONDS)
        latencies = []
        for i in range(20):
            ident = f"evt_latency_{i}"
            sent = time.monotonic()
            serve.call("POST", "/v1/events", json.dumps({"event_type": "finding", "id": ident}).encode())
            arrived = sink.wait(ident)
            latencies.append(1000 * (arrived - sent) if arrived else float("inf"))
            time.sleep(0.2)
        result["latency_p50"] = statistics.median(latencies)
        result["latency_max"] = max(latencies)
        creates = []
        for _ in range(20):
            started = time.monotonic()
            serve.webhook(url, ["scan_completed"])
            creates.append(1000 * (time.monotonic() - started))
        result["create_ms"] = statistics.mean(creates)
        serve.stop()
    sink.server.shutdown()
    return result


def main():
    binaries = sys.argv[1:]
    if not binaries:
        raise SystemExit(__doc__)
    results = [run(b) for b in binaries]
    rows = [
        ("idle, 100 webhooks, % of a core", "idle_100", "{:.2f}"),
        ("idle, 10,000 webhooks with a retry in an hour, % of a core", "idle_10k", "{:.2f}"),
        ("new event to a healthy webhook, p50 ms", "latency_p50", "{:.1f}"),
        ("new event to a healthy webhook, max ms", "latency_max", "{:.1f}"),
        ("create a webhook at 10,000, mean ms", "create_ms", "{:.1f}"),
    ]
    print("| measure | " + " | ".join(binaries) + (" | ratio |" if len(binaries) == 2 else " |"))
    print("|---|" + "---|" * len(binaries) + ("---|" if len(binaries) == 2 else ""))
    for label, key, fmt in rows:
        cells = [fmt.format(r[key]) for r in results]
        ratio = ""
        if len(results) == 2:
            ratio = " | " + ("{:.2f}".format(results[1][key] / results[0][key]) if results[0][key] else "-")
        print(f"| {label} | " + " | ".join(cells) + ratio + " |")


if __name__ == "__main__":
    main()
