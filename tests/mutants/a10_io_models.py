from . import Mutant

ASSIGNMENT = "10-io-models"

SERVE = """
import selectors
import threading


def serve(listener, max_clients):
{body}
"""


def serve(body: str) -> str:
    return SERVE.format(body="\n".join("    " + ln for ln in body.strip("\n").splitlines()))


FETCH = """
import asyncio


async def fetch_all(urls, timeout):
{body}
"""


def fetch(body: str) -> str:
    return FETCH.format(body="\n".join("    " + ln for ln in body.strip("\n").splitlines()))


MUTANTS = [
    Mutant(
        "serve-solution",
        "one client to completion before accepting the next",
        serve(
            """
for _ in range(max_clients):
    conn, _ = listener.accept()
    with conn:
        while data := conn.recv(4096):
            conn.sendall(data)
"""
        ),
        ("serve-tests",),
        expect="clients were not served",
    ),
    Mutant(
        "serve-solution",
        "a thread per client",
        serve(
            """
def handle(conn):
    with conn:
        while data := conn.recv(4096):
            conn.sendall(data)

threads = []
for _ in range(max_clients):
    conn, _ = listener.accept()
    thread = threading.Thread(target=handle, args=(conn,))
    thread.start()
    threads.append(thread)
for thread in threads:
    thread.join()
"""
        ),
        ("serve-tests",),
        expect="started 3 thread(s)",
    ),
    Mutant(
        "serve-solution",
        "blocking recv right after accept, in the selector loop",
        serve(
            """
sel = selectors.DefaultSelector()
finished = 0

def on_accept(sock):
    conn, _ = sock.accept()
    data = conn.recv(4096)          # the new client may not have sent anything yet
    conn.sendall(data)
    conn.setblocking(False)
    sel.register(conn, selectors.EVENT_READ, on_read)

def on_read(conn):
    nonlocal finished
    data = conn.recv(4096)
    if data:
        conn.sendall(data)
    else:
        sel.unregister(conn)
        conn.close()
        finished += 1

listener.setblocking(False)
sel.register(listener, selectors.EVENT_READ, on_accept)
while finished < max_clients:
    for key, _ in sel.select(timeout=1.0):
        key.data(key.fileobj)
"""
        ),
        ("serve-tests",),
        expect="clients were not served",
    ),
    Mutant(
        "serve-solution",
        "recv on every connection, ready or not",
        serve(
            """
sel = selectors.DefaultSelector()
sel.register(listener, selectors.EVENT_READ)
conns = []
finished = 0
while finished < max_clients:
    for key, _ in sel.select(timeout=0.05):
        conn, _ = listener.accept()
        conns.append(conn)
    for conn in list(conns):  # every connection, ready or not
        data = conn.recv(4096)
        if data:
            conn.sendall(data)
        else:
            conns.remove(conn)
            conn.close()
            finished += 1
"""
        ),
        ("serve-tests",),
        expect="clients were not served",
    ),
    Mutant(
        "serve-solution",
        "closes sockets without unregistering them",
        serve(
            """
sel = selectors.DefaultSelector()
finished = 0

def on_accept(sock):
    conn, _ = sock.accept()
    conn.setblocking(False)
    sel.register(conn, selectors.EVENT_READ, on_read)

def on_read(conn):
    nonlocal finished
    data = conn.recv(4096)
    if data:
        conn.sendall(data)
    else:
        conn.close()
        finished += 1

listener.setblocking(False)
sel.register(listener, selectors.EVENT_READ, on_accept)
while finished < max_clients:
    for key, _ in sel.select(timeout=1.0):
        key.data(key.fileobj)
"""
        ),
        ("serve-tests",),
        expect="is already registered",
    ),
    Mutant(
        "fetch-all-solution",
        "sequential await loop",
        fetch(
            """
results = []
for url in urls:
    try:
        results.append(await asyncio.wait_for(fetch_json(url), timeout))
    except TimeoutError:
        results.append(None)
return results
"""
        ),
        ("fetch-all-tests",),
        expect="every request must start before any finishes",
    ),
    Mutant(
        "fetch-all-solution",
        "no timeout",
        fetch("return await asyncio.gather(*(fetch_json(url) for url in urls))"),
        ("fetch-all-tests",),
        expect="None = timed out",
    ),
    Mutant(
        "fetch-all-solution",
        "one timeout for the whole batch",
        fetch(
            """
try:
    async with asyncio.timeout(timeout):
        return await asyncio.gather(*(fetch_json(url) for url in urls))
except TimeoutError:
    return [None] * len(urls)
"""
        ),
        ("fetch-all-tests",),
        expect="None = timed out",
    ),
    Mutant(
        "fetch-all-solution",
        "results in completion order",
        fetch(
            """
async def fetch_one(url):
    try:
        return await asyncio.wait_for(fetch_json(url), timeout)
    except TimeoutError:
        return None

return [await done for done in asyncio.as_completed([fetch_one(url) for url in urls])]
"""
        ),
        ("fetch-all-tests",),
        expect="None = timed out",
    ),
    Mutant(
        "fetch-all-solution",
        "timeout error not caught",
        fetch(
            """
async def fetch_one(url):
    async with asyncio.timeout(timeout):
        return await fetch_json(url)

return await asyncio.gather(*(fetch_one(url) for url in urls))
"""
        ),
        ("fetch-all-tests",),
        expect="TimeoutError",
    ),
]
