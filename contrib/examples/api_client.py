#!/usr/bin/env python3
"""A client of serve's /v1 API in Python's standard library only, written from docs/openapi.yaml.

Usage: HOOKRELAY_API=http://127.0.0.1:8080 HOOKRELAY_TOKEN=... python3 api_client.py WEBHOOK_URL [EVENTS.ndjson]

Reads the contract (GET /v1/openapi.json, no token), creates a webhook for WEBHOOK_URL
(createWebhook), sends the events of EVENTS.ndjson as one NDJSON request (ingestEvents), then
pages through the webhook's delivery log with `limit` and `next_cursor` (listWebhookDeliveries)
and deletes the webhook (deleteWebhook). An error answer's `error.message` is printed as it is.
"""
import json
import os
import sys
import urllib.error
import urllib.request

API = os.environ.get("HOOKRELAY_API", "http://127.0.0.1:8080")
TOKEN = os.environ["HOOKRELAY_TOKEN"]


def call(method, path, body=None, content_type="application/json", token=True):
    """One request; returns (status, decoded JSON). Errors are {"error": {"message": ...}}."""
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    request = urllib.request.Request(API + path, data=data, method=method)
    if data is not None:
        request.add_header("content-type", content_type)
    if token:
        request.add_header("authorization", "Bearer " + TOKEN)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def main():
    url = sys.argv[1]
    events = sys.argv[2] if len(sys.argv) > 2 else "contrib/examples/events.ndjson"
    _, contract = call("GET", "/v1/openapi.json", token=False)
    print(f"{contract['info']['title']}: OpenAPI {contract['openapi']}, {len(contract['paths'])} paths")

    status, webhook = call("POST", "/v1/webhooks", {"url": url, "events": ["finding"], "min_severity": "high"})
    if status != 201:
        sys.exit(f"create webhook: {status} {webhook['error']['message']}")
    print(f"webhook {webhook['id']} ({webhook['state']}), secret shown once: {webhook['secret'][:10]}…")

    with open(events, "rb") as file:
        status, accepted = call("POST", "/v1/events", file.read(), content_type="application/x-ndjson")
    print(f"events: {status} accepted {accepted['accepted']}, duplicates {accepted['duplicates']}")

    status, refused = call("GET", "/v1/deliveries?limit=0")
    print(f"a bad page size: {status} {refused['error']['message']}")

    deliveries, cursor = 0, None
    while True:
        query = "?limit=10" + (f"&cursor={cursor}" if cursor else "")
        _, page = call("GET", f"/v1/webhooks/{webhook['id']}/deliveries{query}")
        deliveries += len(page["deliveries"])
        cursor = page.get("next_cursor")
        if cursor is None:
            break
    print(f"deliveries of the webhook: {deliveries}")

    _, deleted = call("DELETE", f"/v1/webhooks/{webhook['id']}")
    print(f"deleted {deleted['deleted']}, discarded {deleted['discarded_deliveries']} pending deliveries")


if __name__ == "__main__":
    main()
