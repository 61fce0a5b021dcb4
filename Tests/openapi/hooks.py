"""Schemathesis hooks for OpenAPIContractTests (loaded through SCHEMATHESIS_HOOKS).

Every URL a generated request would store (a webhook's `url`, an alert destination's) is
replaced with the test's receiver on 127.0.0.1 before the request is sent: serve resolves and
later sends to those URLs, and the test must reach nothing but loopback. Requests themselves go
only to the `--url` the test gives (127.0.0.1), which `before_call` checks too.
"""
import json
import os
from urllib.parse import urlsplit

import schemathesis

RECEIVER = os.environ["HOOKRELAY_TEST_RECEIVER"]


def _local(value):
    return RECEIVER if isinstance(value, str) else value


@schemathesis.hook
def before_call(context, case, kwargs):
    body = case.body
    if isinstance(body, dict):
        if "url" in body:
            body["url"] = _local(body["url"])
        alerts = body.get("alerts")
        if isinstance(alerts, list):
            for alert in alerts:
                if isinstance(alert, dict) and "url" in alert:
                    alert["url"] = _local(alert["url"])
    base = kwargs.get("base_url") or case.operation.base_url or ""
    host = urlsplit(base).hostname
    if host is not None and host != "127.0.0.1":
        raise RuntimeError(f"the contract test sends to 127.0.0.1 only, not {host}")


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    """The document describes an NDJSON body as an array of events: one line per item. A value
    that is not an array (negative testing) has no NDJSON form; it is sent as one line holding
    it inside an array, which is no event, so that an object is not sent as a valid body."""
    if isinstance(value, list):
        return "".join(json.dumps(item) + "\n" for item in value).encode()
    return (json.dumps([value]) + "\n").encode()
