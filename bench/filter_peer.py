#!/usr/bin/env python3
"""The Python peer of bench/filter.sh: the selection of
`hookrelay filter --event finding --min-severity high`, with orjson parsing each line."""
import sys

import orjson

KEEP = {"high", "critical"}
RANKED = {"critical", "high", "medium", "low", "info"}
out = sys.stdout.buffer
for line in sys.stdin.buffer:
    if not line.strip():
        continue
    event = orjson.loads(line)
    if event.get("event_type") != "finding":
        continue
    finding = event.get("finding")
    severity = finding.get("severity") if isinstance(finding, dict) and "severity" in finding else event.get("severity")
    if severity is not None:
        if not isinstance(severity, str) or severity.lower() not in KEEP:
            continue
    out.write(line if line.endswith(b"\n") else line + b"\n")
