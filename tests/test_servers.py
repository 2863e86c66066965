"""course.servers: local servers that are concurrent, quiet and leave nothing behind."""

import json
import socket
import threading
import time
import urllib.request

import pytest

from course.servers import DelayServer, EchoServer

# never route 127.0.0.1 through an HTTP proxy from the environment
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def get_json(url, timeout=10):
    with OPENER.open(url, timeout=timeout) as response:
        return json.load(response)


def refused(address):
    try:
        socket.create_connection(address, timeout=2).close()
    except OSError:
        return True
    return False


def test_delay_server_answers_json():
    with DelayServer(delay=0.0) as srv:
        assert srv.url("/item/3") == f"http://127.0.0.1:{srv.port}/item/3"
        assert srv.host == "127.0.0.1" and srv.address == ("127.0.0.1", srv.port)
        body = get_json(srv.url("/item/3"))
        assert body["item"] == 3 and body["path"] == "/item/3" and isinstance(body["pid"], int)
        assert get_json(srv.url("/other"))["item"] is None


def test_delay_and_query_override():
    """The server's delay is a floor; `?delay=` overrides it (compared, not timed absolutely)."""
    with DelayServer(delay=1.0) as srv:
        start = time.perf_counter()
        body = get_json(srv.url("/item/1?delay=0.01"))
        overridden = time.perf_counter() - start
        assert body["delay"] == 0.01
        start = time.perf_counter()
        get_json(srv.url("/item/2"))
        default = time.perf_counter() - start
        assert default >= 1.0 and overridden < default


def test_hundred_concurrent_requests_take_about_one_delay():
    d = 0.5
    results, errors = [], []
    with DelayServer(delay=d) as srv:

        def client(i):
            try:
                results.append(get_json(srv.url(f"/item/{i}"))["item"])
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(100)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
    assert not errors
    assert sorted(results) == list(range(100))
    assert elapsed < 3 * d, f"100 requests of {d}s took {elapsed:.2f}s"


def test_stop_leaves_no_thread_or_socket(capfd):
    before = set(threading.enumerate())
    addresses = []
    for _ in range(5):
        srv = DelayServer(delay=0.01).start()
        get_json(srv.url("/item/1"))
        addresses.append(srv.address)
        srv.stop()
        srv.stop()  # idempotent
    # a request still sleeping when stop() is called is cut short and joined
    srv = DelayServer(delay=5).start()
    pending = threading.Thread(target=lambda: _swallow(get_json, srv.url("/slow")))
    pending.start()
    time.sleep(0.2)
    start = time.perf_counter()
    srv.stop()
    assert time.perf_counter() - start < 3
    pending.join(5)
    addresses.append(srv.address)
    assert set(threading.enumerate()) - before == set()  # no thread left behind
    assert all(refused(address) for address in addresses)
    assert capfd.readouterr().err == ""  # quiet: no request log


def _swallow(func, *args):
    try:
        func(*args)
    except Exception:
        pass


def test_echo_server_echoes_and_stops_with_open_client():
    before = set(threading.enumerate())
    with EchoServer() as echo:
        host, port = echo.address
        assert host == "127.0.0.1" and port > 0
        clients = [socket.create_connection(echo.address, timeout=5) for _ in range(3)]
        for i, c in enumerate(clients):
            c.sendall(f"hello {i}".encode())
        assert [c.recv(100) for c in clients] == [b"hello 0", b"hello 1", b"hello 2"]
        address = echo.address
    # the clients are still connected: stop() must not hang on their handlers
    assert set(threading.enumerate()) - before == set()  # no thread left behind
    assert refused(address)
    for c in clients:
        c.close()


def test_echo_server_delay():
    with EchoServer(delay=0.1) as echo:
        with socket.create_connection(echo.address, timeout=5) as c:
            start = time.perf_counter()
            c.sendall(b"x")
            assert c.recv(10) == b"x"
            assert time.perf_counter() - start >= 0.09


@pytest.mark.parametrize("server", [DelayServer, EchoServer])
def test_listen_backlog(server):
    with server() as srv:
        assert srv.request_queue_size >= 128 and srv.daemon_threads


def test_tokens_are_random_per_path_and_served():
    with DelayServer(delay=0) as srv:
        first = get_json(srv.url("/item/1?delay=0"))
        again = get_json(srv.url("/item/1"))
        other = get_json(srv.url("/item/2"))
        assert first["token"] == again["token"] == srv.token("/item/1")
        assert srv.token(srv.url("item/2")) == other["token"] != first["token"]
        assert len(first["token"]) >= 16
        # no token exists before its path is requested: nothing can learn it in advance
        assert srv.token("/item/9") is None
        assert get_json(srv.url("/item/9"))["token"] == srv.token("/item/9")
    with DelayServer(delay=0) as other_srv:  # another server: other tokens
        assert get_json(other_srv.url("/item/1"))["token"] != first["token"]


def test_stats_count_requests_peak_and_paths():
    d = 0.3
    with DelayServer(delay=d) as srv:
        assert srv.stats() == (0, 0, ())
        get_json(srv.url("/item/0"))
        assert srv.stats() == (1, 1, ("/item/0",))
        barrier = threading.Barrier(5)

        def client(i):
            barrier.wait()
            get_json(srv.url(f"/item/{i}"))

        threads = [threading.Thread(target=client, args=(i,)) for i in range(1, 6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        requests, peak, paths = srv.stats()
        # five requests of 0.3 s started together: at least two overlap even on a loaded machine
        assert requests == 6 and 2 <= peak <= 5
        assert paths[0] == "/item/0" and sorted(paths[1:]) == [f"/item/{i}" for i in range(1, 6)]
    with DelayServer(delay=0) as srv:  # back-to-back sequential requests never overlap
        for i in range(30):
            get_json(srv.url(f"/item/{i}"))
        assert srv.stats().peak == 1 and srv.stats().requests == 30


def test_readings_cannot_be_overwritten_through_the_server():
    with DelayServer(delay=0) as srv:
        get_json(srv.url("/item/1"))
        with pytest.raises(AttributeError):
            srv.stats = lambda: (100, 100, ())
        with pytest.raises(AttributeError):
            srv.token = lambda path: "forged"
        srv.__dict__["stats"] = lambda: (100, 100, ())  # ignored: a data descriptor wins
        srv.__dict__["token"] = lambda path: "forged"
        for name in ("requests", "peak", "paths", "_requests", "_peak"):
            setattr(srv, name, 100)
        stats = srv.stats()
        assert stats == (1, 1, ("/item/1",))
        assert srv.stats().requests == 1 and srv.token("/item/1") != "forged"


def test_stats_from_a_forked_client_are_the_servers():
    """Code under test in a forked child (run_isolated) cannot touch the parent's readings."""
    from course.grading import run_isolated

    with DelayServer(delay=0) as srv:

        def cheat(url):
            get_json(url)
            DelayServer.stats = lambda self: (99, 99, ())  # only in the child
            return srv.stats()

        with pytest.raises(AssertionError, match="changed the grading library"):
            run_isolated(cheat, srv.url("/item/5"), timeout=10)  # caught in the child ...
        assert srv.stats() == (1, 1, ("/item/5",))  # ... and the parent's readings are intact
