"""Wrong and right solutions for 10-io-models: a one-thread selectors echo server and an asyncio
fetch with per-request timeouts."""

from . import Alternative, Mutant

ASSIGNMENT = "10-io-models"

SERVE = """
import selectors
import threading


def serve(listener, max_clients):
{body}
"""


def serve(body: str) -> str:
    return SERVE.format(body="\n".join("    " + ln for ln in body.strip("\n").splitlines()))


def swap(text: str, old: str, new: str) -> str:
    """`text` with `old` replaced by `new` (which must be there: a silent no-op is no mutant)."""
    assert old in text, old
    return text.replace(old, new)


# A buffered server in the reference's shape, for mutants that break one of its rules.
BUFFERED = """
sel = selectors.DefaultSelector()
listener.setblocking(False)
sel.register(listener, selectors.EVENT_READ)
unsent = {}
gone = 0

def drop(conn):
    nonlocal gone
    sel.unregister(conn)
    del unsent[conn]
    conn.close()
    gone += 1

while gone < max_clients:
    for key, mask in sel.select(timeout=1.0):
        conn = key.fileobj
        if conn is listener:
            conn, _ = listener.accept()
            conn.setblocking(False)
            unsent[conn] = b""
            sel.register(conn, selectors.EVENT_READ)
            continue
        try:
            if mask & selectors.EVENT_READ:
                data = conn.recv(65536)
                if not data:
                    drop(conn)
                    continue
                unsent[conn] += data
            if mask & selectors.EVENT_WRITE:
                sent = conn.send(unsent[conn])
                unsent[conn] = unsent[conn][sent:]
        except BlockingIOError:
            pass
        except OSError:
            drop(conn)
            continue
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if unsent[conn] else 0)
        if events != key.events:
            sel.modify(conn, events)
sel.close()
"""

# The tutorial's server (and this notebook's first reference): sendall on a non-blocking socket.
SENDALL = """
with selectors.DefaultSelector() as selector:
    listener.setblocking(False)
    selector.register(listener, selectors.EVENT_READ)
    gone = 0
    while gone < max_clients:
        for key, _ in selector.select(timeout=1.0):
            sock = key.fileobj
            if sock is listener:
                client, _ = listener.accept()
                client.setblocking(False)
                selector.register(client, selectors.EVENT_READ)
            elif chunk := sock.recv(4096):
                sock.sendall(chunk)
            else:
                selector.unregister(sock)
                sock.close()
                gone += 1
"""

THREAD_PER_CLIENT = """
def handle(conn):
    with conn:
        while data := conn.recv(4096):
            conn.sendall(data)

{start}
"""

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
        expect="clients served",
    ),
    Mutant(
        "serve-solution",
        "a thread per client",
        serve(
            THREAD_PER_CLIENT.format(
                start="""
threads = []
for _ in range(max_clients):
    conn, _ = listener.accept()
    thread = threading.Thread(target=handle, args=(conn,))
    thread.start()
    threads.append(thread)
for thread in threads:
    thread.join()
"""
            )
        ),
        ("serve-tests",),
        expect="more thread(s)",
    ),
    Mutant(
        "serve-solution",
        "closes sockets without unregistering them",
        serve(swap(BUFFERED, "    sel.unregister(conn)\n", "")),
        ("serve-tests",),
        expect="is already registered",
    ),
    Mutant(
        "serve-solution",
        "sendall() on a non-blocking socket (a slow reader crashes the server)",
        serve(SENDALL),
        ("serve-tests",),
        expect="BlockingIOError",
    ),
    Mutant(
        "serve-solution",
        "buffers the output but lets a reset connection crash the server",
        serve(
            swap(
                BUFFERED,
                "        except OSError:\n            drop(conn)\n            continue\n",
                "",
            )
        ),
        ("serve-tests",),
        expect="close and forget that client",
    ),
    Mutant(
        "serve-solution",
        "ignores how many bytes send() took",
        serve(
            swap(
                BUFFERED,
                "                unsent[conn] = unsent[conn][sent:]",
                '                unsent[conn] = b""',
            )
        ),
        ("serve-tests",),
        expect="of the 300000 bytes",
    ),
    Mutant(
        "serve-solution",
        "threads started with _thread.start_new_thread (dodges a spy on Thread.start)",
        serve(
            THREAD_PER_CLIENT.format(
                start="""
import _thread

done = threading.Semaphore(0)

def run(conn):
    try:
        handle(conn)
    finally:
        done.release()

for _ in range(max_clients):
    conn, _ = listener.accept()
    _thread.start_new_thread(run, (conn,))
for _ in range(max_clients):
    done.acquire()
"""
            )
        ),
        ("serve-tests",),
        expect="more thread(s)",
        kind="cheat",
    ),
    Mutant(
        "serve-solution",
        "a thread pool serves the clients behind a selector loop",
        serve(
            THREAD_PER_CLIENT.format(
                start="""
from concurrent.futures import ThreadPoolExecutor

sel = selectors.DefaultSelector()
sel.register(listener, selectors.EVENT_READ)
with ThreadPoolExecutor(max_workers=64) as pool:
    accepted = 0
    while accepted < max_clients:
        for key, _ in sel.select(timeout=1.0):
            conn, _ = listener.accept()
            pool.submit(handle, conn)
            accepted += 1
sel.close()
"""
            )
        ),
        ("serve-tests",),
        expect="more thread(s)",
        kind="cheat",
    ),
]

ALTERNATIVES = [
    Alternative(
        "serve-solution",
        "callbacks and a connection class (the section's selector_server, buffered)",
        serve(
            """
class Connection:
    def __init__(self, sock):
        self.sock, self.out = sock, bytearray()

sel = selectors.DefaultSelector()
left = max_clients

def close(conn):
    nonlocal left
    sel.unregister(conn.sock)
    conn.sock.close()
    left -= 1

def on_accept(_, mask):
    try:
        sock, _ = listener.accept()
    except BlockingIOError:
        return
    sock.setblocking(False)
    sel.register(sock, selectors.EVENT_READ, (on_client, Connection(sock)))

def on_client(conn, mask):
    try:
        if mask & selectors.EVENT_READ:
            data = conn.sock.recv(4096)
            if not data:
                close(conn)
                return
            conn.out.extend(data)
        if mask & selectors.EVENT_WRITE:
            n = conn.sock.send(conn.out)
            del conn.out[:n]
    except (BlockingIOError, InterruptedError):
        return
    except (ConnectionError, OSError):
        close(conn)
        return
    want = selectors.EVENT_READ
    if conn.out:
        want |= selectors.EVENT_WRITE
    sel.modify(conn.sock, want, (on_client, conn))

listener.setblocking(False)
sel.register(listener, selectors.EVENT_READ, (on_accept, None))
try:
    while left > 0:
        for key, mask in sel.select(timeout=0.5):
            callback, conn = key.data
            callback(conn, mask)
finally:
    sel.close()
"""
        ),
    ),
    Alternative(
        "serve-solution",
        "send at once, register EVENT_WRITE only for what did not fit",
        serve(
            """
sel = selectors.DefaultSelector()
listener.setblocking(False)
sel.register(listener, selectors.EVENT_READ)
backlog = {}   # fd -> bytes still to send
finished = 0

def flush(sock):
    fd = sock.fileno()
    while backlog[fd]:
        try:
            n = sock.send(backlog[fd])
        except BlockingIOError:
            break
        backlog[fd] = backlog[fd][n:]
    mask = selectors.EVENT_READ | (selectors.EVENT_WRITE if backlog[fd] else 0)
    sel.modify(sock, mask)

while finished < max_clients:
    for key, mask in sel.select(timeout=1.0):
        sock = key.fileobj
        if sock is listener:
            conn, _ = listener.accept()
            conn.setblocking(False)
            backlog[conn.fileno()] = b""
            sel.register(conn, selectors.EVENT_READ)
            continue
        try:
            if mask & selectors.EVENT_READ:
                data = sock.recv(8192)
                if data == b"":
                    raise EOFError
                backlog[sock.fileno()] += data
            flush(sock)
        except (EOFError, ConnectionResetError, BrokenPipeError):
            del backlog[sock.fileno()]
            sel.unregister(sock)
            sock.close()
            finished += 1
sel.close()
"""
        ),
    ),
]

# ---------------------------------------------------------------- Exercise 2: fetch_all_async

FETCH = """
import asyncio


async def fetch_all_async(urls, timeout):
{body}
"""


def fetch(body: str) -> str:
    return FETCH.format(body="\n".join("    " + ln for ln in body.strip("\n").splitlines()))


MUTANTS += [
    Mutant(
        "fetch-all-solution",
        "sequential await loop",
        fetch(
            """
results = []
for url in urls:
    try:
        results.append(await asyncio.wait_for(fetch_json_async(url), timeout))
    except TimeoutError:
        results.append(None)
return results
"""
        ),
        ("fetch-all-tests",),
        expect="at the same time",
    ),
    Mutant(
        "fetch-all-solution",
        "no timeout",
        fetch("return await asyncio.gather(*(fetch_json_async(url) for url in urls))"),
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
        return await asyncio.gather(*(fetch_json_async(url) for url in urls))
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
        return await asyncio.wait_for(fetch_json_async(url), timeout)
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
        return await fetch_json_async(url)

return await asyncio.gather(*(fetch_one(url) for url in urls))
"""
        ),
        ("fetch-all-tests",),
        expect="TimeoutError",
    ),
    Mutant(
        "fetch-all-solution",
        "a blocking urllib call inside the coroutines",
        fetch(
            """
import json
import urllib.request

async def fetch_one(url):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:   # blocks the event loop
            return json.load(reply)
    except TimeoutError:
        return None

return await asyncio.gather(*(fetch_one(url) for url in urls))
"""
        ),
        ("fetch-all-tests",),
        expect="blocking call inside the event loop",
    ),
    Mutant(
        "fetch-all-solution",
        "answers made up from the URLs, the server never asked",
        fetch(
            """
import re

await asyncio.sleep(0.2)
answers = []
for url in urls:
    item, delay = re.search(r"/item/(\\d+)\\?delay=([\\d.]+)", url).groups()
    answers.append(None if float(delay) >= timeout else {"item": int(item), "path": url})
return answers
"""
        ),
        ("fetch-all-tests",),
        expect="server's own answer",
        kind="cheat",
    ),
    Mutant(
        "fetch-all-solution",
        "a thread pool of blocking requests behind the coroutine",
        fetch(
            """
import json
import urllib.request
from concurrent.futures import ThreadPoolExecutor

def get(url):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:
            return json.load(reply)
    except OSError:
        return None

with ThreadPoolExecutor(max_workers=len(urls) or 1) as pool:
    return await asyncio.get_running_loop().run_in_executor(None, lambda: list(pool.map(get, urls)))
"""
        ),
        ("fetch-all-tests",),
        expect="more thread(s)",
        kind="cheat",
    ),
]

ALTERNATIVES += [
    Alternative(
        "fetch-all-solution",
        "TaskGroup and wait_for",
        fetch(
            """
async def one(url):
    try:
        return await asyncio.wait_for(fetch_json_async(url), timeout=timeout)
    except asyncio.TimeoutError:
        return None

async with asyncio.TaskGroup() as group:
    tasks = [group.create_task(one(url)) for url in urls]
return [task.result() for task in tasks]
"""
        ),
    ),
    Alternative(
        "fetch-all-solution",
        "asyncio.wait with a timeout, the late ones cancelled",
        fetch(
            """
if not urls:
    return []
tasks = [asyncio.ensure_future(fetch_json_async(url)) for url in urls]
done, pending = await asyncio.wait(tasks, timeout=timeout)
for task in pending:
    task.cancel()
await asyncio.gather(*pending, return_exceptions=True)
return [task.result() if task in done else None for task in tasks]
"""
        ),
    ),
]
