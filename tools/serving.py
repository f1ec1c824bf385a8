"""A free port for a server, waiting for a server started as a child process (gunicorn, the
encoding service) to answer, and stopping it.

Shared by the benchmark (``tools.bench.run``) and the tests that start real servers
(tests/support_http.py, tests/services/test_encoding_service.py, tests/mailserver.py, ...).
"""
from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: What a GET of a server that is not listening yet raises.
HTTP_NOT_YET: tuple[type[Exception], ...] = (urllib.error.URLError, ConnectionError, TimeoutError)


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on at the moment of asking."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_until_answering(process: subprocess.Popen[Any], probe: Callable[[], object], *, what: str,
                         log: Path | None, timeout: float, interval: float = 0.2,
                         not_yet: tuple[type[Exception], ...] = HTTP_NOT_YET) -> None:
    """Call ``probe`` every ``interval`` seconds until it returns without raising one of ``not_yet``.

    Raises RuntimeError("<what> did not start", then the last 3000 characters of ``log``, the
    server's output) as soon as ``process`` has exited, or once ``timeout`` seconds have passed.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            probe()
            return
        except not_yet as error:
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-3000:] if log is not None and log.exists() else ""
                raise RuntimeError(f"{what} did not start:\n{tail}") from error
            time.sleep(interval)


def wait_for_http(process: subprocess.Popen[Any], url: str, *, what: str, log: Path | None, timeout: float,
                  request_timeout: float = 5) -> None:
    """``wait_until_answering`` with a GET of ``url`` as the probe: redirects are followed, and an
    error status counts as not answering yet (urllib's HTTPError is a URLError)."""
    wait_until_answering(process, lambda: urllib.request.urlopen(url, timeout=request_timeout).read(),
                         what=what, log=log, timeout=timeout)


def stop(process: subprocess.Popen[Any], *, timeout: float, kill_timeout: float = 5) -> None:
    """Ask ``process`` to end (SIGTERM) and wait up to ``timeout`` seconds for it; if it has not
    ended by then, kill it (SIGKILL) and wait up to ``kill_timeout`` seconds more."""
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(kill_timeout)
