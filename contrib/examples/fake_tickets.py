#!/usr/bin/env python3
"""A local fake of the Jira and GitHub issue APIs, to try hookrelay's tickets without a tracker
(README, "Tickets and digests"), and for its tests. Needs the jsonschema package.

    python3 fake_tickets.py PORT

Listens on 127.0.0.1:PORT (0: any free port), prints the port, and answers like the two services for the calls hookrelay makes,
checking each request body against the shape the service documents (JSON Schema, below):

  Jira REST API 2 (https://developer.atlassian.com/cloud/jira/platform/rest/v2/):
    POST /rest/api/2/issue                      201 {"id", "key": "SEC-N", "self"}
    POST /rest/api/2/issue/{key}/comment        201 {"id", "body", ...}
    POST /rest/api/2/issue/{key}/transitions    204
  GitHub REST API (https://docs.github.com/rest/issues):
    POST  /repos/{owner}/{repo}/issues                   201 the issue ({"number": N, ...})
    POST  /repos/{owner}/{repo}/issues/{number}/comments 201 the comment
    PATCH /repos/{owner}/{repo}/issues/{number}          200 the issue

A body that does not fit is answered as the service does (Jira 400 with errors, GitHub 422
"Validation Failed") and recorded as rejected; an unknown ticket is 404. A request without an
Authorization header is 401. Test controls, not part of either API:
    GET  /_fake/state   {"issues": {...}, "requests": [...], "rejected": [...]}
    POST /_fake/fail    {"count": N, "status": S, "method": M}: the next N API requests (of method M
                        only, when given) answer S and do nothing
"""
import json
import re
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jsonschema

# Jira: the create-issue body (fields.project by key or id, fields.issuetype by name or id,
# fields.summary at most 255 characters), a comment ({"body": wiki text}), a transition.
JIRA_CREATE = {
    "type": "object", "required": ["fields"],
    "properties": {"fields": {
        "type": "object", "required": ["project", "issuetype", "summary"],
        "properties": {
            "project": {"type": "object", "anyOf": [{"required": ["key"]}, {"required": ["id"]}],
                        "properties": {"key": {"type": "string", "minLength": 1}, "id": {"type": "string"}}},
            "issuetype": {"type": "object", "anyOf": [{"required": ["name"]}, {"required": ["id"]}],
                          "properties": {"name": {"type": "string", "minLength": 1}, "id": {"type": "string"}}},
            "summary": {"type": "string", "minLength": 1, "maxLength": 255},
            "description": {"type": "string", "maxLength": 32767},
            "labels": {"type": "array", "items": {"type": "string", "pattern": "^[^ ]+$"}},
        }}},
}
JIRA_COMMENT = {
    "type": "object", "required": ["body"],
    "properties": {"body": {"type": "string", "minLength": 1, "maxLength": 32767}},
}
JIRA_TRANSITION = {
    "type": "object", "required": ["transition"],
    "properties": {
        "transition": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string", "pattern": "^[0-9]+$"}}},
        "update": {"type": "object", "properties": {"comment": {
            "type": "array", "items": {"type": "object", "required": ["add"], "properties": {"add": JIRA_COMMENT}}}}},
    },
}
# GitHub: create an issue (title required), comment (body required), update (state, state_reason).
GITHUB_CREATE = {
    "type": "object", "required": ["title"],
    "properties": {
        "title": {"type": ["string", "integer"], "minLength": 1, "maxLength": 256},
        "body": {"type": ["string", "null"], "maxLength": 65536},
        "labels": {"type": "array", "items": {"type": "string"}},
        "assignees": {"type": "array", "items": {"type": "string"}},
    },
}
GITHUB_COMMENT = {"type": "object", "required": ["body"], "properties": {"body": {"type": "string", "minLength": 1, "maxLength": 65536}}}
GITHUB_UPDATE = {
    "type": "object",
    "properties": {
        "state": {"enum": ["open", "closed"]},
        "state_reason": {"enum": ["completed", "not_planned", "reopened", None]},
        "title": {"type": "string"}, "body": {"type": "string"},
    },
}

JIRA_ISSUE = re.compile(r"^/rest/api/2/issue/([A-Z][A-Z0-9_]*-[0-9]+)/(comment|transitions)$")
GITHUB_ISSUES = re.compile(r"^/repos/([^/]+)/([^/]+)/issues$")
GITHUB_ISSUE = re.compile(r"^/repos/([^/]+)/([^/]+)/issues/([0-9]+)(/comments)?$")

lock = threading.Lock()
state = {"issues": {}, "requests": [], "rejected": [], "fail": {"count": 0, "status": 503}, "next": 1}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body=None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/_fake/state":
            with lock:
                self.answer(200, {k: state[k] for k in ("issues", "requests", "rejected")})
        else:
            self.answer(404, {"message": "Not Found"})

    def do_POST(self):
        self.handle_api("POST")

    def do_PATCH(self):
        self.handle_api("PATCH")

    def handle_api(self, method):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path == "/_fake/fail":
            with lock:
                state["fail"] = json.loads(raw)
            return self.answer(204)
        with lock:
            state["requests"].append({"method": method, "path": self.path})
            fail = state["fail"]
            if fail["count"] > 0 and fail.get("method", method) == method:
                fail["count"] -= 1
                return self.answer(fail["status"], {"message": "injected failure"})
            if not self.headers.get("Authorization"):
                return self.answer(401, {"message": "Requires authentication"})
            try:
                body = json.loads(raw)
            except ValueError:
                return self.reject(method, "the body is not JSON")
            return self.route(method, body)

    def reject(self, method, why):
        state["rejected"].append({"method": method, "path": self.path, "why": why})
        if self.path.startswith("/rest/"):
            return self.answer(400, {"errorMessages": [why], "errors": {}})
        return self.answer(422, {"message": "Validation Failed", "errors": [{"message": why}]})

    def valid(self, method, body, schema):
        try:
            jsonschema.validate(body, schema)
            return True
        except jsonschema.ValidationError as error:
            self.reject(method, error.message)
            return False

    def route(self, method, body):
        issues = state["issues"]
        if method == "POST" and self.path == "/rest/api/2/issue":
            if not self.valid(method, body, JIRA_CREATE):
                return None
            key = "%s-%d" % (body["fields"]["project"].get("key", "P"), state["next"])
            state["next"] += 1
            issues[key] = {"summary": body["fields"]["summary"], "status": "open", "comments": []}
            return self.answer(201, {"id": str(10000 + len(issues)), "key": key, "self": "http://127.0.0.1/rest/api/2/issue/" + key})
        match = JIRA_ISSUE.match(self.path)
        if method == "POST" and match:
            key, action = match.groups()
            if key not in issues:
                return self.answer(404, {"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}})
            if not self.valid(method, body, JIRA_COMMENT if action == "comment" else JIRA_TRANSITION):
                return None
            if action == "comment":
                issues[key]["comments"].append(body["body"])
                return self.answer(201, {"id": str(len(issues[key]["comments"])), "body": body["body"]})
            for item in body.get("update", {}).get("comment", []):
                issues[key]["comments"].append(item["add"]["body"])
            issues[key]["status"] = "transition " + body["transition"]["id"]
            return self.answer(204)
        match = GITHUB_ISSUES.match(self.path)
        if method == "POST" and match:
            if not self.valid(method, body, GITHUB_CREATE):
                return None
            number = state["next"]
            state["next"] += 1
            issues[str(number)] = {"summary": body["title"], "status": "open", "comments": []}
            # GitHub's issue object is long, `number` after the URLs and ids; a padding field
            # makes the answer longer than the 4 KiB hookrelay keeps, as a real one can be.
            owner, repo = match.groups()
            base = "https://api.github.com/repos/%s/%s/issues/%d" % (owner, repo, number)
            return self.answer(201, {
                "url": base, "repository_url": base.rsplit("/issues", 1)[0], "labels_url": base + "/labels{/name}",
                "comments_url": base + "/comments", "events_url": base + "/events", "html_url": base.replace("api.", ""),
                "id": 900000 + number, "node_id": "I_kw", "number": number, "title": body["title"], "state": "open",
                "user": {"login": "hookrelay", "id": 1, "padding": "x" * 5000}, "body": body.get("body")})
        match = GITHUB_ISSUE.match(self.path)
        if match:
            number, comments = match.group(3), match.group(4)
            if number not in issues:
                return self.answer(404, {"message": "Not Found"})
            if method == "POST" and comments:
                if not self.valid(method, body, GITHUB_COMMENT):
                    return None
                issues[number]["comments"].append(body["body"])
                return self.answer(201, {"id": len(issues[number]["comments"]), "body": body["body"]})
            if method == "PATCH" and not comments:
                if not self.valid(method, body, GITHUB_UPDATE):
                    return None
                issues[number]["status"] = body.get("state", issues[number]["status"])
                return self.answer(200, {"number": int(number), "state": issues[number]["status"]})
        return self.answer(404, {"message": "Not Found"})


if __name__ == "__main__":
    # `kill` ends it even where SIGTERM came ignored from the parent (a test runner's children).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()
