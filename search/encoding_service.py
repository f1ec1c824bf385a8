"""The embedding model in one process per host: an HTTP endpoint that encodes texts, and its client.

A loaded all-MiniLM-L6-v2 costs each process that holds it about 250 MiB. Web workers that all
loaded their own copy multiplied that by the number of workers; with an encoding service they
hold none: `RemoteEncoder.encode` sends the texts to the one process that holds the model and
gets back the very float32 rows `search.embedding.Encoder.encode` gives in-process.

Server: `create_app` is a WSGI app served by gunicorn (one worker, a few threads;
`gunicorn_command` builds the command line, ``flask semantic serve`` runs it). It loads the model when the worker starts and
answers two requests, both carrying ``Authorization: Bearer <key>``:

* ``GET /model``: ``{"name", "dim", "source", "licence", "sha256"}`` of the loaded model;
* ``POST /encode`` with a JSON list of at most `MAX_TEXTS` strings: the rows as little-endian
  float32 bytes (``X-Rows`` and ``X-Dim`` headers give the shape).

Addresses are gunicorn's: ``unix:/run/forum/encoder.sock`` (or an absolute path) or
``127.0.0.1:8765``.

Client: `RemoteEncoder` opens one short connection per request with a timeout (2 s by default)
for connecting and for each read. When the service is unreachable, slow or answers an error it
raises `EncoderUnavailable` (a `SearchError`), logs one warning, and for `retry_after` seconds
raises at once without trying, so a dead service costs searches nothing but the meaning; the
first success afterwards is logged too.

The client needs only the standard library (its rows are `Vector`s, not numpy arrays: a web
worker that imports numpy grows by 21 MiB); the server needs `search.embedding` (the `semantic`
extra) and gunicorn. Background writers use a client with a longer timeout (`BULK_TIMEOUT`), since encoding a
batch of posts takes seconds.
"""

from __future__ import annotations

import hmac
import http.client
import json
import logging
import os
import socket
import sys
import threading
import time
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from hashlib import sha256
from typing import TYPE_CHECKING, Any

from search.errors import SearchError

if TYPE_CHECKING:  # pragma: no cover
    from search.embedding import Encoder

    _FloatArray = array[float]
else:  # array is not subscriptable at run time before Python 3.12
    _FloatArray = array

__all__ = [
    "BULK_TIMEOUT",
    "DEFAULT_TIMEOUT",
    "ENV_KEY",
    "EncoderUnavailable",
    "MAX_TEXTS",
    "RemoteEncoder",
    "ServedModel",
    "Vector",
    "create_app",
    "gunicorn_command",
    "service_key",
]

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 2.0
#: Seconds a client stops trying after a failure (searches degrade at once meanwhile).
DEFAULT_RETRY_AFTER = 10.0
#: Seconds for each request of a background writer (vectors of new posts; `flask search check`,
#: 64 posts a request): sixty-four 256-token texts take about 15 s on one busy core; nobody waits.
BULK_TIMEOUT = 120.0
#: Texts per request the service accepts. A caller's list goes in one request up to this many:
#: the model's output depends (in the last bits) on which texts share a padded batch, so only the
#: same list encoded in one call gives the in-process rows bit for bit.
MAX_TEXTS = 256
MAX_BODY = 8 * 1024 * 1024  # 256 texts the forum cuts to 2,000 characters are ~2 MB at worst in JSON
ENV_KEY = "FORUM_EMBEDDING_SERVICE_KEY"
ENV_MODEL = "FORUM_EMBEDDING_MODEL"
ENV_THREADS = "FORUM_EMBEDDING_THREADS"
_KEY_CONTEXT = b"forum embedding service v1"


class EncoderUnavailable(SearchError):
    """The encoding service did not answer in time, refused the request, or answered nonsense."""


def service_key(secret: str) -> str:
    """The shared key of the service and its clients, derived from the app's SECRET_KEY (so one
    setting fewer to keep equal on every host); an HMAC, so the key reveals nothing of the secret."""
    return hmac.new(secret.encode("utf-8"), _KEY_CONTEXT, sha256).hexdigest()


def _target(address: str) -> tuple[str, int] | str:
    """``(host, port)`` or a Unix socket path from a gunicorn-style address.

    Raises:
        ValueError: neither ``unix:PATH``, an absolute path, nor ``HOST:PORT``.
    """
    address = address.strip()
    if address.startswith("unix:"):
        return address[len("unix:"):]
    if address.startswith("/"):
        return address
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"an encoding service address is unix:/path/to.sock or host:port, not {address!r}")
    return host.strip("[]"), int(port)


@dataclass(frozen=True)
class ServedModel:
    """What the service says of its model (`name` goes into the vectors' fingerprints)."""

    name: str
    dim: int
    source: str = ""
    licence: str = ""


class Vector(_FloatArray):
    """One encoded row as float32 values: the part of a numpy row the forum reads (`tolist`, and
    ``astype("<f4").tobytes()`` for storage), so that web workers never import numpy (21 MiB each)."""

    @classmethod
    def from_le_bytes(cls, data: bytes) -> Vector:
        """The row of little-endian float32 bytes (the wire format, and what the index stores)."""
        row = cls("f")
        row.frombytes(data)
        if sys.byteorder != "little":  # pragma: no cover
            row.byteswap()
        return row

    def astype(self, dtype: str) -> Vector:
        """This row as ``"<f4"`` (little-endian float32), ready for `tobytes`.

        Raises:
            TypeError: any other dtype (nothing in the forum asks for one).
        """
        if dtype != "<f4":
            raise TypeError(f"an encoded row converts to '<f4' only, not {dtype!r}")
        if sys.byteorder == "little":
            return self
        swapped = Vector("f", self)  # pragma: no cover
        swapped.byteswap()  # pragma: no cover
        return swapped  # pragma: no cover


class _UnixConnection(http.client.HTTPConnection):
    """HTTP over a Unix socket (http.client speaks TCP only); the timeout covers the connect."""

    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.path)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


class RemoteEncoder:
    """`search.embedding.Encoder`'s `encode` and `manifest`, computed by the encoding service.

    Thread-safe: every request opens its own connection.
    """

    def __init__(self, address: str, key: str, *, timeout: float = DEFAULT_TIMEOUT,
                 retry_after: float = DEFAULT_RETRY_AFTER, chunk: int = MAX_TEXTS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """A client of the service at `address`: `timeout` seconds for connecting and for each read
        of one request of at most `chunk` texts (longer lists are split); no request for
        `retry_after` s after a failure.

        Raises:
            ValueError: an address that is neither ``unix:PATH`` nor ``HOST:PORT``; `chunk` outside
                1..MAX_TEXTS.
        """
        if not 1 <= chunk <= MAX_TEXTS:
            raise ValueError(f"chunk must be between 1 and {MAX_TEXTS}")
        self.address = address
        self.chunk = chunk
        self._target = _target(address)
        self._key = key
        self.timeout = timeout
        self.retry_after = retry_after
        self._clock = clock
        self._lock = threading.Lock()
        self._down_until = 0.0
        self._down = False
        self._model: ServedModel | None = None

    def __repr__(self) -> str:
        return f"RemoteEncoder({self.address!r})"

    @property
    def manifest(self) -> ServedModel:
        """The served model's name and width, asked once.

        Raises:
            EncoderUnavailable: the service cannot be reached or answered an error.
        """
        if self._model is None:
            raw = json.loads(self._request("GET", "/model")[0])
            try:
                self._model = ServedModel(name=str(raw["name"]), dim=int(raw["dim"]),
                                          source=str(raw.get("source", "")), licence=str(raw.get("licence", "")))
            except (KeyError, TypeError, ValueError) as error:
                raise self._failed(f"an unreadable /model answer: {error!r}") from error
        return self._model

    @property
    def dim(self) -> int:
        """Width of a vector (asks the service once; raises `EncoderUnavailable` like `manifest`)."""
        return self.manifest.dim

    def encode(self, texts: Sequence[str]) -> list[Vector]:
        """One unit-length float32 row per text, bit for bit the rows the in-process encoder gives
        for the same list (the forum never sends more than `chunk` texts at once; a longer list
        goes `chunk` at a time, equal to encoding those parts in-process).

        Raises:
            EncoderUnavailable: the service cannot be reached, is slower than the timeout, refuses
                the key, or answers rows of the wrong shape; also at once for `retry_after`
                seconds after such a failure.
        """
        texts = [str(t) for t in texts]
        rows: list[Vector] = []
        for start in range(0, len(texts), self.chunk):
            rows += self._encode_part(texts[start:start + self.chunk])
        return rows

    def _encode_part(self, texts: list[str]) -> list[Vector]:
        body, headers = self._request("POST", "/encode", json.dumps(texts).encode("utf-8"))
        try:
            rows, dim = int(headers.get("X-Rows", "-1")), int(headers.get("X-Dim", "-1"))
        except ValueError:
            rows = dim = -1
        if rows != len(texts) or dim < 1 or len(body) != rows * dim * 4:
            raise self._failed(f"{len(texts)} texts sent, {rows} x {dim} rows in {len(body)} bytes answered")
        return [Vector.from_le_bytes(body[i * dim * 4:(i + 1) * dim * 4]) for i in range(rows)]

    def _request(self, method: str, path: str, body: bytes | None = None) -> tuple[bytes, dict[str, str]]:
        """One request on a fresh connection; the answer's body and headers.

        Raises:
            EncoderUnavailable: see `encode`.
        """
        with self._lock:
            if self._down and self._clock() < self._down_until:
                raise EncoderUnavailable(f"the encoding service at {self.address} failed less than "
                                         f"{self.retry_after:g} s ago")
        target = self._target
        conn = (_UnixConnection(target, self.timeout) if isinstance(target, str)
                else http.client.HTTPConnection(*target, timeout=self.timeout))
        try:
            headers = {"Authorization": f"Bearer {self._key}", "Connection": "close"}
            if body is not None:
                headers["Content-Type"] = "application/json"
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            status, answer = response.status, {k: v for k, v in response.getheaders()}
        except (OSError, http.client.HTTPException) as error:  # refused, missing socket, timeout, reset
            raise self._failed(f"{type(error).__name__}: {error}") from error
        finally:
            conn.close()
        if status != 200:
            raise self._failed(f"HTTP {status}: {data[:200].decode('utf-8', 'replace')}")
        with self._lock:
            if self._down:
                self._down = False
                log.warning("the encoding service at %s answers again", self.address)
        return data, answer

    def _failed(self, reason: str) -> EncoderUnavailable:
        """Note a failure (no request for `retry_after` seconds) and log it once per outage."""
        with self._lock:
            first = not self._down
            self._down, self._down_until = True, self._clock() + self.retry_after
        if first:
            log.warning("the encoding service at %s failed (%s): searches use BM25F alone and vector "
                        "writes wait until it answers; next try in %g s", self.address, reason, self.retry_after)
        return EncoderUnavailable(f"the encoding service at {self.address} failed: {reason}")


# --- the server ----------------------------------------------------------------------------

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def create_app(encoder: Encoder | None = None, key: str | None = None) -> WSGIApp:
    """The WSGI app of the service (gunicorn: ``search.encoding_service:create_app()``).

    `encoder` defaults to `search.semantic.shared_encoder` (model and threads from
    ``FORUM_EMBEDDING_MODEL`` / ``FORUM_EMBEDDING_THREADS``), `key` to ``FORUM_EMBEDDING_SERVICE_KEY``.

    Raises:
        RuntimeError: no key, or no model (the extra or the packaged model is not installed).
        search.embedding.EmbeddingError: the model cannot be loaded or verified.
    """
    key = key if key is not None else os.environ.get(ENV_KEY, "")
    if not key:
        raise RuntimeError(f"the encoding service needs a key ({ENV_KEY}; `flask semantic serve` sets it)")
    if encoder is None:
        from search import semantic

        encoder = semantic.shared_encoder()
        if encoder is None:
            raise RuntimeError("no embedding model: install the `semantic` extra and its packaged model, "
                               "or set FORUM_EMBEDDING_MODEL")
    loaded: Encoder = encoder
    from threadpoolctl import threadpool_limits

    # For the whole process, not per call: `Encoder.encode` bounds BLAS's threads for each call
    # and restores the previous bound after it, so with two requests at once one call could
    # restore the default (all cores) in the middle of the other, whose rows would then differ
    # from the in-process ones in their last bits (BLAS sums in another order).
    threadpool_limits(limits=loaded.threads, user_api="blas")
    model = json.dumps({"name": loaded.manifest.name, "dim": loaded.dim, "source": loaded.manifest.source,
                        "licence": loaded.manifest.licence, "sha256": dict(loaded.manifest.sha256)}).encode()
    expected = f"Bearer {key}".encode()

    def answer(start: StartResponse, status: str, body: bytes, content_type: str = "text/plain",
               extra: Sequence[tuple[str, str]] = ()) -> list[bytes]:
        start(status, [("Content-Type", content_type), ("Content-Length", str(len(body))), *extra])
        return [body]

    def app(environ: dict[str, Any], start: StartResponse) -> Iterable[bytes]:
        given = str(environ.get("HTTP_AUTHORIZATION", "")).encode("latin-1", "replace")
        if not hmac.compare_digest(given, expected):
            return answer(start, "401 Unauthorized", b"wrong or missing key\n")
        method, path = environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "")
        if path == "/model" and method == "GET":
            return answer(start, "200 OK", model, "application/json")
        if path != "/encode":
            return answer(start, "404 Not Found", b"GET /model or POST /encode\n")
        if method != "POST":
            return answer(start, "405 Method Not Allowed", b"POST /encode\n", extra=[("Allow", "POST")])
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if not 0 < length <= MAX_BODY:
            return answer(start, "413 Content Too Large", f"a body of 1..{MAX_BODY} bytes\n".encode())
        try:
            texts = json.loads(environ["wsgi.input"].read(length))
        except ValueError:
            texts = None
        if not (isinstance(texts, list) and len(texts) <= MAX_TEXTS and all(isinstance(t, str) for t in texts)):
            return answer(start, "400 Bad Request", f"a JSON list of at most {MAX_TEXTS} strings\n".encode())
        rows = loaded.encode(texts)
        return answer(start, "200 OK", rows.astype("<f4").tobytes(), "application/octet-stream",
                      [("X-Rows", str(rows.shape[0])), ("X-Dim", str(rows.shape[1]))])

    return app


def gunicorn_command(address: str, *, threads: int = 4, python: str = sys.executable) -> list[str]:
    """The command that serves the model at `address`: gunicorn, one worker (the one copy of the
    model), `threads` requests at a time. The key, model and BLAS threads come from the
    environment (`ENV_KEY`, ``FORUM_EMBEDDING_MODEL``, ``FORUM_EMBEDDING_THREADS``), never argv.

    Raises:
        ValueError: `address` is not ``unix:PATH``, an absolute path or ``HOST:PORT``; `threads` < 1.
    """
    target = _target(address)
    if threads < 1:
        raise ValueError("threads must be at least 1")
    bind = f"unix:{target}" if isinstance(target, str) else f"{target[0]}:{target[1]}"
    # Without --preload the model is loaded in the worker only: the master stays small, and a
    # worker that dies is replaced by one that loads the model afresh.
    return [python, "-m", "gunicorn", "--workers", "1", "--worker-class", "gthread", "--threads", str(threads),
            "--bind", bind, "--timeout", "60", "--graceful-timeout", "5", "--keep-alive", "0",
            "--umask", "0o007", "--log-level", "warning", "--name", "forum-encoder", "search.encoding_service:create_app()"]
