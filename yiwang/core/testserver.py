"""A small HTTP server on 127.0.0.1 for tests that fetch from "another instance" for real
(another region's status lists, its trust list): it serves ``pages`` (path → body), follows
``redirects`` (path → location) with a 302, answers 404 otherwise, and counts every request
in ``hits``. Tests must allow loopback in the fetching feature's outbound allow-list."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar


@dataclass
class LocalOrigin:
    server: ThreadingHTTPServer
    content_type: str = "application/json"
    pages: dict[str, bytes] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)
    redirects: dict[str, str] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


OriginT = TypeVar("OriginT", bound=LocalOrigin)


def serve(content_type: str = "application/json", *,
          kind: type[OriginT] = LocalOrigin,  # type: ignore[assignment]
          ) -> OriginT:
    """Start a :class:`LocalOrigin` (or a subclass, ``kind``) in a daemon thread on a free
    port."""
    origin: OriginT

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            origin.hits.append(self.path)
            if self.path in origin.redirects:
                self.send_response(302)
                self.send_header("Location", origin.redirects[self.path])
                self.end_headers()
                return
            body = origin.pages.get(self.path)
            if body is None:
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", origin.content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    origin = kind(server, content_type)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return origin
