"""Fixtures for the catalog tests: a loopback HTTP server that serves a folder (and mimics the Hub)."""

from __future__ import annotations

import hashlib
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

#: A fake commit sha for the Hub's X-Repo-Commit header.
COMMIT = "0123456789abcdef0123456789abcdef01234567"


class FolderServer:
    """Serves ``root`` on 127.0.0.1 with ETags; also answers the Hub's ``resolve`` URLs.

    ``requests`` records ``(method, path, status)``; ``etags = False`` serves without ETag
    or Last-Modified headers (a server that cannot answer conditional requests).
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.requests: list[tuple[str, str, int]] = []
        self.etags = True
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_HEAD(self) -> None:
                self._serve(body=False)

            def do_GET(self) -> None:
                self._serve(body=True)

            def _serve(self, *, body: bool) -> None:
                path = self.path.split("?", 1)[0]
                hub = path.startswith("/datasets/")
                if hub:  # /datasets/ORG/NAME/resolve/REV/FILE -> ROOT/FILE
                    parts = path.split("/")
                    path = "/" + "/".join(parts[6:])
                file = (server.root / path.lstrip("/")).resolve()
                if server.root.resolve() not in file.parents or not file.is_file():
                    server.requests.append((self.command, self.path, 404))
                    self.send_response(404)
                    if hub:  # as the Hub: the commit it looked in, so clients cache the miss
                        self.send_header("X-Error-Code", "EntryNotFound")
                        self.send_header("X-Repo-Commit", COMMIT)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data = file.read_bytes()
                etag = '"' + hashlib.sha256(data).hexdigest() + '"'
                if server.etags and self.headers.get("If-None-Match") == etag:
                    server.requests.append((self.command, self.path, 304))
                    self.send_response(304)
                    self.end_headers()
                    return
                server.requests.append((self.command, self.path, 200))
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                if server.etags or hub:
                    self.send_header("ETag", etag)
                if hub:
                    self.send_header("X-Repo-Commit", COMMIT)
                self.end_headers()
                if body:
                    self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def downloads(self) -> list[str]:
        """Paths fetched with a full body (status 200 GET)."""
        return [p for m, p, s in self.requests if m == "GET" and s == 200]

    def __enter__(self) -> FolderServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def serve() -> Iterator:
    """``serve(folder)`` starts a :class:`FolderServer`; every server stops after the test."""
    servers: list[FolderServer] = []

    def start(root: Path) -> FolderServer:
        server = FolderServer(root).__enter__()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.__exit__()


@pytest.fixture
def closed_port() -> int:
    """A loopback port with nothing listening on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
