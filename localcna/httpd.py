"""A real HTTP server on 127.0.0.1 serving a :class:`~localcna.sitemap.Site`.

It logs every request (the tests' proof of what a crawl fetched) and can be
told to misbehave per path (:meth:`LocalCNA.set_fault`) for fault tests.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import re
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from localcna.sitemap import Site, build_site

ARTICLE_PATH = re.compile(r"^/news/[a-z]+/\d{12}(?:-\d+)?\.aspx", re.ASCII)
_MODIFIED_META = re.compile(rb'<meta property="article:modified_time" content="([^"]+)"')


def validators(body: bytes) -> tuple[str, str | None]:
    """An article page's ETag (its bytes) and Last-Modified (its ``article:modified_time``)."""
    etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
    match = _MODIFIED_META.search(body)
    if not match:
        return etag, None
    try:
        when = dt.datetime.fromisoformat(match.group(1).decode())
    except ValueError:
        return etag, None
    return etag, email.utils.format_datetime(when.astimezone(dt.UTC), usegmt=True)


def not_modified(headers: Any, etag: str, last_modified: str | None) -> bool:
    """RFC 9110 13.2.2: If-None-Match decides when present, else If-Modified-Since."""
    match = headers.get("If-None-Match")
    if match is not None:
        tags = {t.strip().removeprefix("W/") for t in match.split(",")}
        return "*" in tags or etag in tags
    since = headers.get("If-Modified-Since")
    if since is None or last_modified is None:
        return False
    try:
        return email.utils.parsedate_to_datetime(
            last_modified
        ) <= email.utils.parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False


@dataclass
class Fault:
    """How a path misbehaves; ``times`` faults then normal answers (None = forever)."""

    kind: str
    times: int | None = None
    params: dict[str, Any] = field(default_factory=dict)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle's algorithm the second
    # waits for the client's delayed ACK (tens of ms) on every keep-alive request.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the server keeps its own log

    def date_time_string(self, timestamp: float | None = None) -> str:
        # A site with its own clock (localcna.day) dates its answers by it.
        when = self.server.owner.site.clock() if timestamp is None else None
        if when is None:
            return super().date_time_string(timestamp)
        return email.utils.format_datetime(when.astimezone(dt.UTC), usegmt=True)

    def do_GET(self) -> None:
        self.server.owner._handle(self)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.server.owner._handle(self)

    do_HEAD = do_GET


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default listen backlog of 5 drops SYNs when a crawler opens 16
    # connections at once; each dropped SYN costs a 1 s retransmit.
    request_queue_size = 128
    owner: LocalCNA

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that hang up (timeouts, cancelled downloads) are part of the tests.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class LocalCNA:
    """Serve ``site`` on 127.0.0.1 at a free port; use as a context manager."""

    def __init__(self, site: Site | None = None, port: int = 0) -> None:
        self.site = site or build_site()
        self._lock = threading.Lock()
        self.requests: list[tuple[str, str]] = []
        self.user_agents: list[str] = []  # the User-Agent of each request, in order
        # Article pages carry ETag and Last-Modified and answer conditional requests
        # with 304; either validator can be switched off to test the other alone.
        self.send_etag = True
        self.send_last_modified = True
        self.conditional: list[tuple[str, int]] = []  # (path, status) of conditional requests
        self.faults: dict[str, Fault] = {}
        self.httpd = _Server(("127.0.0.1", port), _Handler)
        self.httpd.owner = self
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self) -> LocalCNA:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> LocalCNA:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- log and faults --------------------------------------------------------

    def clear_log(self) -> None:
        with self._lock:
            self.requests.clear()
            self.user_agents.clear()

    def article_requests(self) -> list[str]:
        """Paths of article pages requested so far."""
        with self._lock:
            return [p for _, p in self.requests if ARTICLE_PATH.match(p)]

    def set_fault(self, path: str, kind: str, times: int | None = None, **params: Any) -> None:
        """Make ``path`` misbehave: status, 429, slow, reset, truncated, empty,
        content_type, bytes, redirect or oversize (see :meth:`_fault_response`)."""
        with self._lock:
            self.faults[path] = Fault(kind, times, params)

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            fault = self.faults.get(path)
            if fault is None:
                return None
            if fault.times is not None:
                if fault.times <= 0:
                    return None
                fault.times -= 1
            return fault

    # --- serving ---------------------------------------------------------------

    def _handle(self, handler: _Handler) -> None:
        path = handler.path.split("?", 1)[0]
        with self._lock:
            self.requests.append((handler.command, handler.path))
            self.user_agents.append(handler.headers.get("User-Agent", ""))
        fault = self._take_fault(path)
        if fault is not None and self._fault_response(handler, fault):
            return
        page = self.site.get(path)
        headers: dict[str, str] = {}
        if page.status == 200 and (ARTICLE_PATH.match(path) or self.site.validate_all):
            etag, last_modified = validators(page.body)
            if self.send_etag:
                headers["ETag"] = etag
            if self.send_last_modified and last_modified:
                headers["Last-Modified"] = last_modified
            asked = {k: v for k, v in handler.headers.items() if k.lower().startswith("if-")}
            if asked:
                fresh = not_modified(
                    handler.headers,
                    etag if self.send_etag else "",
                    last_modified if self.send_last_modified else None,
                )
                with self._lock:
                    self.conditional.append((path, 304 if fresh else 200))
                if fresh:
                    self._send(handler, 304, b"", page.content_type, headers, body=False)
                    return
        self._send(handler, page.status, page.body, page.content_type, headers)

    @staticmethod
    def _send(
        handler: _Handler,
        status: int,
        content: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
        *,
        body: bool = True,
    ) -> None:
        handler.send_response(status)
        if body:
            handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(content)))
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        if handler.command != "HEAD" and content:
            handler.wfile.write(content)

    def _fault_response(self, handler: _Handler, fault: Fault) -> bool:
        """Answer as ``fault`` says; False when the normal page should follow (``slow``)."""
        p = fault.params
        kind = fault.kind
        html = "text/html; charset=utf-8"
        if kind == "status":
            self._send(
                handler, int(p.get("status", 500)), b"<html><title>error</title></html>", html
            )
        elif kind == "429":
            self._send(
                handler,
                429,
                b"slow down",
                "text/plain",
                {"Retry-After": str(p.get("retry_after", 1))},
            )
        elif kind == "slow":
            time.sleep(float(p.get("seconds", 5)))
            return False
        elif kind == "reset":
            handler.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
            )
            handler.connection.close()
            handler.close_connection = True
        elif kind == "truncated":
            page = self.site.get(handler.path)
            handler.send_response(200)
            handler.send_header("Content-Type", html)
            handler.send_header("Content-Length", str(len(page.body)))
            handler.end_headers()
            handler.wfile.write(page.body[: len(page.body) // 3])
            handler.wfile.flush()
            handler.connection.shutdown(socket.SHUT_RDWR)
            handler.close_connection = True
        elif kind == "empty":
            self._send(handler, 200, b"", html)
        elif kind == "content_type":
            page = self.site.get(handler.path)
            self._send(
                handler, 200, page.body, str(p.get("content_type", "application/octet-stream"))
            )
        elif kind == "bytes":
            self._send(
                handler,
                int(p.get("status", 200)),
                bytes(p.get("body", b"")),
                str(p.get("content_type", html)),
            )
        elif kind == "redirect":
            self._send(
                handler, int(p.get("status", 302)), b"", html, {"Location": str(p["location"])}
            )
        elif kind == "oversize":
            size = int(p.get("size", 6 * 1024 * 1024))
            self._send(handler, 200, b"<html><body>" + b"x" * size + b"</body></html>", html)
        else:
            raise ValueError(f"unknown fault kind {kind!r}")
        return True
