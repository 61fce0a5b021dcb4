#!/usr/bin/env python3
"""The Python peer of `hookrelay filter --unique` in bench/filter.sh: orjson parses each line;
a finding's key is its finding.id, else its asset (trimmed, lowercased), title, URL and
parameter (trimmed), with its severity; events without any of them pass. The generated events
need no more of hookrelay's normalisation than that, and the window never fills."""
import sys

import orjson

FIELDS = ("asset", "title", "url", "parameter")
out = sys.stdout.buffer
seen = set()
for line in sys.stdin.buffer:
    if not line.strip():
        continue
    event = orjson.loads(line)
    finding = event.get("finding")
    key = None
    if isinstance(finding, dict):
        severity = finding.get("severity", event.get("severity"))
        if finding.get("id") not in (None, ""):
            key = ("id", str(finding["id"]).strip(), severity)
        else:
            values = tuple(v.strip() if isinstance(v, str) else v for v in (finding.get(f) for f in FIELDS))
            if any(v not in (None, "") for v in values):
                key = ("fields", values[0].lower() if isinstance(values[0], str) else values[0]) + values[1:] + (severity,)
    if key is not None:
        if key in seen:
            continue
        seen.add(key)
    out.write(line if line.endswith(b"\n") else line + b"\n")
