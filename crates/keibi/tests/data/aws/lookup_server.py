"""A CloudTrail event history for tests: LookupEvents as the CloudTrail API
reference documents it (moto does not implement it). awsJson1.1 POSTs with
X-Amz-Target ...CloudTrail_20131101.LookupEvents; StartTime/EndTime (epoch
seconds, inclusive), one LookupAttributes entry, MaxResults (at most 50),
NextToken; events newest first; more than 2 calls a second is a
ThrottlingException (HTTP 400).

The history is every record of every *.json file ({"Records":[...]}) in DIR,
read again at each call (a test adds events by writing a file), one event per
eventID. GET /_stats answers {"calls": N, "throttled": N}.

usage: lookup_server.py PORT DIR     (prints "Running on" once listening)
"""
import json
import os
import sys
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TARGET = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"
KEYS = {
    "EventId": lambda r: r.get("eventID"),
    "EventName": lambda r: r.get("eventName"),
    "EventSource": lambda r: r.get("eventSource"),
    "ReadOnly": lambda r: str(r.get("readOnly", "")).lower(),
    "Username": lambda r: username(r),
    "AccessKeyId": lambda r: (r.get("userIdentity") or {}).get("accessKeyId"),
}
lock = threading.Lock()
recent = []
stats = {"calls": 0, "throttled": 0}


def username(r):
    u = r.get("userIdentity") or {}
    s = (u.get("sessionContext") or {}).get("sessionIssuer") or {}
    return u.get("userName") or s.get("userName") or u.get("principalId")


def epoch(r):
    t = r.get("eventTime", "1970-01-01T00:00:00Z").replace("Z", "+00:00")
    return datetime.fromisoformat(t).timestamp()


def history(directory):
    seen = {}
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(directory, name)) as f:
            for r in json.load(f).get("Records", []):
                seen.setdefault(r["eventID"], r)
    # Newest first; within a second, the later record first.
    return sorted(seen.values(), key=lambda r: (epoch(r), r["eventID"]), reverse=True)


def item(r):
    return {
        "EventId": r["eventID"],
        "EventName": r.get("eventName"),
        "ReadOnly": str(r.get("readOnly", "false")).lower(),
        "AccessKeyId": (r.get("userIdentity") or {}).get("accessKeyId"),
        "EventTime": epoch(r),
        "EventSource": r.get("eventSource"),
        "Username": username(r),
        "Resources": [],
        "CloudTrailEvent": json.dumps(r),
    }


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def error(self, code, message):
        self.answer(400, {"__type": code, "message": message})

    def do_GET(self):
        with lock:
            self.answer(200, dict(stats))

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        now = time.monotonic()
        with lock:
            stats["calls"] += 1
            recent[:] = [t for t in recent if now - t < 1.0]
            if len(recent) >= 2:
                stats["throttled"] += 1
                return self.error("ThrottlingException", "Rate exceeded")
            recent.append(now)
        if not self.headers.get("Authorization", "").startswith("AWS4-HMAC-SHA256 "):
            return self.error("MissingAuthenticationTokenException", "unsigned")
        if self.headers.get("X-Amz-Target") != TARGET:
            return self.error("UnknownOperationException", "only LookupEvents")
        try:
            req = json.loads(body or b"{}")
        except ValueError:
            return self.error("SerializationException", "not JSON")
        events = history(DIR)
        start, end = req.get("StartTime"), req.get("EndTime")
        if start is not None:
            events = [r for r in events if epoch(r) >= start]
        if end is not None:
            events = [r for r in events if epoch(r) <= end]
        attrs = req.get("LookupAttributes") or []
        if len(attrs) > 1:
            return self.error("InvalidLookupAttributesException", "at most one")
        for a in attrs:
            get = KEYS.get(a.get("AttributeKey"))
            if get is None:
                return self.error("InvalidLookupAttributesException", "key")
            events = [r for r in events if get(r) == a.get("AttributeValue")]
        size = req.get("MaxResults", 50)
        if not isinstance(size, int) or not 1 <= size <= 50:
            return self.error("InvalidMaxResultsException", "1 to 50")
        offset = 0
        token = req.get("NextToken")
        if token is not None:
            if not str(token).startswith("tok-"):
                return self.error("InvalidNextTokenException", "bad token")
            offset = int(token[4:])
        page = events[offset : offset + size]
        out = {"Events": [item(r) for r in page]}
        if offset + size < len(events):
            out["NextToken"] = f"tok-{offset + size}"
        self.answer(200, out)


if __name__ == "__main__":
    port, DIR = int(sys.argv[1]), sys.argv[2]
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"Running on http://127.0.0.1:{port}", flush=True)
    server.serve_forever()
