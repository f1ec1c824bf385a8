"""A real HTTP receiver of webhooks on 127.0.0.1, in a thread, for tests.

It records every request and checks its signature the way docs/webhooks.md tells receivers
to (recompute HMAC-SHA256 over ``f"{timestamp}.{body}"``, compare in constant time, refuse
a timestamp more than five minutes away): written here again on purpose, not imported from
the forum, so the test holds the forum to the documented algorithm.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tools.serving import free_port


def signature_ok(secret: str, headers: dict[str, str], body: bytes, now: float | None = None) -> bool:
    """The receiver's check from docs/webhooks.md."""
    try:
        timestamp = int(headers["X-Forum-Timestamp"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > 300:
        return False
    expected = "sha256=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers.get("X-Forum-Signature", ""))


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """``script``: the status of each successive answer (the last one repeats); "sleep" holds
    the connection open for ``sleep_seconds`` without answering."""

    url: str
    script: list[int | str] = field(default_factory=lambda: [200])
    sleep_seconds: float = 3.0
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_answer(self) -> int | str:
        with self.lock:
            n = len(self.requests)
        return self.script[min(n - 1, len(self.script) - 1)]

    def bodies(self) -> list[Any]:
        return [r.json for r in self.requests]


@contextmanager
def receiver(script: list[int | str] | None = None, sleep_seconds: float = 3.0) -> Iterator[Receiver]:
    port = free_port()
    rec = Receiver(url=f"http://127.0.0.1:{port}/hook", script=script or [200], sleep_seconds=sleep_seconds)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with rec.lock:
                rec.requests.append(Received(self.path, dict(self.headers.items()), body))
            answer = rec.next_answer()
            if answer == "sleep":
                time.sleep(rec.sleep_seconds)
                return
            assert isinstance(answer, int)
            reply = b'{"ok": true}' if answer < 300 else b"receiver says no"
            self.send_response(answer)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()
