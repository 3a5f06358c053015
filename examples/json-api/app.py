#!/usr/bin/env python3
"""A small JSON API for the README's worked example (examples/json-api):

    GET  /api/items        200 {"items": [...]}
    POST /api/items        201 {"id": N, "name": ...} and Location: /api/items/N
    GET  /api/items/N      200 the item, or 404 {"error": "no such item"}

    app.py PORT [--faulty]

--faulty answers a POST with the wrong id and without Location, so the
test can show the scenarios fail on a broken endpoint.
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ITEMS = {}
FAULTY = "--faulty" in sys.argv


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, doc, headers=()):
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        if self.path == "/api/items":
            return self.reply(200, {"items": [ITEMS[k] for k in sorted(ITEMS)]})
        if self.path.startswith("/api/items/"):
            item = ITEMS.get(self.path.rsplit("/", 1)[1])
            if item:
                return self.reply(200, item)
        return self.reply(404, {"error": "no such item"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if self.path != "/api/items" or length > 65536:
            return self.reply(404 if self.path != "/api/items" else 413, {"error": "no"})
        try:
            doc = json.loads(self.rfile.read(length) or b"null")
            name = doc["name"]
        except (ValueError, KeyError, TypeError):
            return self.reply(400, {"error": "a JSON object with a name"})
        if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
            return self.reply(415, {"error": "application/json only"})
        n = str(len(ITEMS) + 1)
        ITEMS[n] = {"id": int(n), "name": name}
        if FAULTY:
            return self.reply(201, {"id": 0, "name": name})
        return self.reply(201, ITEMS[n], [("Location", f"/api/items/{n}")])


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
