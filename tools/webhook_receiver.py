"""A webhook receiver to try the forum's webhooks with (docs/api.md, docs/webhooks.md).

    WEBHOOK_SECRET=whsec_... python tools/webhook_receiver.py --port 9000 [--count 1]

Listens on 127.0.0.1, checks each delivery's signature the way docs/webhooks.md tells a
receiver to (HMAC-SHA256 over ``f"{timestamp}.{body}"`` with the endpoint's secret, compared in
constant time, timestamps at most five minutes away), answers 204 for a good one and 401 for a
bad one, and prints one line per delivery: the event, whether the signature holds, and the
body. ``--count N`` exits after N good deliveries (for scripts). Standard library only, so it
runs anywhere; not part of the forum.
"""
from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

TOLERANCE_SECONDS = 300


def signature_ok(secret: str, timestamp: str | None, signature: str | None, body: bytes) -> bool:
    """The check from docs/webhooks.md: a fresh timestamp and a matching HMAC."""
    try:
        sent_at = int(timestamp or "")
    except ValueError:
        return False
    if abs(time.time() - sent_at) > TOLERANCE_SECONDS:
        return False
    expected = "sha256=" + hmac.new(secret.encode(), f"{sent_at}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature or "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--count", type=int, default=0, help="Exit after this many good deliveries (0: never).")
    args = parser.parse_args(argv)
    secret = os.environ.get("WEBHOOK_SECRET", "")
    if not secret:
        parser.error("set WEBHOOK_SECRET to the endpoint's secret (flask webhooks add prints it)")
    good = 0

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            nonlocal good
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            ok = signature_ok(secret, self.headers.get("X-Forum-Timestamp"), self.headers.get("X-Forum-Signature"), body)
            self.send_response(204 if ok else 401)
            self.end_headers()
            try:
                shown: Any = json.loads(body)
            except ValueError:
                shown = body[:200].decode(errors="replace")
            verdict = "signature ok" if ok else "BAD SIGNATURE"
            print(f"{self.headers.get('X-Forum-Event')}: {verdict}: {json.dumps(shown, sort_keys=True)}", flush=True)
            good += ok

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", args.port), Handler)
    print(f"listening on http://127.0.0.1:{args.port}/", flush=True)
    try:
        while not args.count or good < args.count:
            server.handle_request()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
