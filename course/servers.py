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

A ``DelayServer`` also measures what it received, on the server side, where a
client cannot fake it: every response carries a random ``"token"`` chosen by
the server for its path (``srv.token(path)``), and ``srv.stats()`` returns
``(requests, peak, paths)``.  Tests use them to prove that code really
contacted the server, concurrently, and returned what the server sent.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import socketserver
import threading
import weakref
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import NamedTuple
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


class ServerStats(NamedTuple):
    """What a :class:`DelayServer` received (a copy: changing it changes nothing).

    >>> ServerStats(2, 2, ("/item/1", "/item/2")).peak
    2
    """

    requests: int  #: GET requests received
    peak: int  #: the largest number of requests being handled at the same time
    paths: tuple[str, ...]  #: request paths (with their query) in arrival order


class _Readings:
    """The server-side counts of one DelayServer.

    They live in the module-level ``_READINGS`` table, keyed by the server, not in
    an attribute of the server, so code holding the server object cannot overwrite
    them by assigning an attribute (tests that must not trust the code under test at
    all run that code with ``run_isolated``: a forked child cannot touch the parent).
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = 0
        self.active = 0
        self.peak = 0
        self.paths: list[str] = []
        self.tokens: dict[str, str] = {}

    def served(self, path: str) -> str:
        """The token for ``path``, chosen at its first request (in the handler)."""
        key = _token_key(path)
        with self.lock:
            if key not in self.tokens:
                self.tokens[key] = secrets.token_hex(8)
            return self.tokens[key]

    def token(self, path: str) -> str | None:
        with self.lock:
            return self.tokens.get(_token_key(path))

    def arrived(self, path: str) -> None:
        with self.lock:
            self.requests += 1
            self.active += 1
            self.peak = max(self.peak, self.active)
            self.paths.append(path)

    def left(self) -> None:
        with self.lock:
            self.active -= 1

    def stats(self) -> ServerStats:
        with self.lock:
            return ServerStats(self.requests, self.peak, tuple(self.paths))


_READINGS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _token_key(path: str) -> str:
    """``/item/3`` for ``/item/3?delay=0.1``, ``item/3`` or ``http://host:port/item/3``."""
    return "/" + urlsplit(path).path.lstrip("/")


class _ReadingMethod:
    """A method that an instance attribute cannot shadow (a data descriptor):
    ``srv.stats = lambda: ...`` raises, ``srv.__dict__["stats"] = ...`` is ignored."""

    def __init__(self, func):
        self.func = func
        self.__doc__ = func.__doc__

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, owner=None):
        return self.func if obj is None else self.func.__get__(obj, owner)

    def __set__(self, obj, value):
        raise AttributeError(f"{self.name} is a server-side reading and cannot be replaced")

    def __delete__(self, obj):
        raise AttributeError(f"{self.name} is a server-side reading and cannot be deleted")


class _DelayHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def do_GET(self):
        readings = _READINGS[self.server]
        readings.arrived(self.path)
        done = []
        try:
            self._answer(readings, done)
        finally:
            if not done:
                readings.left()

    def _answer(self, readings, done):
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
                "token": readings.served(parts.path),
            }
        ).encode()
        # it stops counting as handled *before* the answer goes out: a client that sends its
        # next request as soon as it has the answer must never look concurrent with it
        readings.left()
        done.append(True)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # quiet: stderr output costs points in nbgrader
        pass


class DelayServer(_Background, ThreadingHTTPServer):
    """An HTTP server on 127.0.0.1 that answers every GET after ``delay`` seconds.

    ``GET /item/<n>`` returns ``{"item": n, "path": ..., "pid": ..., "delay": ...,
    "token": ...}``; ``?delay=0.05`` overrides the delay for one request.  One
    thread per request, so concurrent clients are served concurrently.

    ``"token"`` is a random string the server chooses for each path (the query
    does not change it), so a client cannot compute it: only a real request
    gets it.  ``srv.token(path)`` gives it to the test; ``srv.stats()`` counts
    requests, their peak overlap and their paths.  A request counts as handled
    from its arrival until its answer is ready to be sent (so strictly sequential
    requests never overlap).

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
        _READINGS[self] = _Readings()
        super().__init__((host, port), _DelayHandler)

    def url(self, path: str = "/") -> str:
        """Full URL of ``path`` on this server.

        >>> with DelayServer() as srv:
        ...     srv.url("item/2").endswith("/item/2")
        True
        """
        return f"http://{self.host}:{self.port}/{path.lstrip('/')}"

    @_ReadingMethod
    def token(self, path: str) -> str | None:
        """The random token this server sent for ``path``, or None before its first request.

        ``path`` may be a path (``"/item/3"``), carry a query or be a full URL
        from :meth:`url`; only the path part counts.  A token exists only once the
        path was requested, so nothing in memory (e.g. of a forked child running
        the code under test) can hold it beforehand.

        >>> import json, urllib.request
        >>> with DelayServer(delay=0) as srv:
        ...     body = json.load(urllib.request.urlopen(srv.url("/item/4?delay=0")))
        ...     body["token"] == srv.token("/item/4") == srv.token(srv.url("item/4"))
        ...     srv.token("/item/5") is None
        True
        True
        """
        return _READINGS[self].token(path)

    @_ReadingMethod
    def stats(self) -> ServerStats:
        """A copy of ``(requests, peak, paths)``: requests received so far, the most
        handled at the same time, and their paths in arrival order.

        >>> import urllib.request
        >>> with DelayServer(delay=0) as srv:
        ...     _ = urllib.request.urlopen(srv.url("/item/1")).read()
        ...     srv.stats()
        ServerStats(requests=1, peak=1, paths=('/item/1',))
        """
        return _READINGS[self].stats()

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
