"""The real-world gevent crawler: monkey.patch_all() first, then plain `requests`.

Run it as a script, never inside a Jupyter kernel (patching a running kernel hangs it):

    python crawler_script.py http://127.0.0.1:PORT 10

It fetches /item/0 ... /item/N-1 from the course's DelayServer twice, first one after the
other, then one greenlet per URL, and prints how long each way took.
"""

from gevent import monkey

monkey.patch_all()  # must run before anything imports socket, ssl, threading, requests ...

import sys  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402
import requests  # noqa: E402


def fetch(url):
    """GET one URL with requests; after patch_all its socket is a gevent socket."""
    return requests.get(url, timeout=10).json()


def main(base, n):
    urls = [f"{base}/item/{i}" for i in range(n)]

    start = time.perf_counter()
    sequential = [fetch(url) for url in urls]
    print(f"one after the other: {time.perf_counter() - start:.2f} s")

    start = time.perf_counter()
    jobs = [gevent.spawn(fetch, url) for url in urls]
    gevent.joinall(jobs, raise_error=True)
    print(f"one greenlet per URL: {time.perf_counter() - start:.2f} s")

    concurrent = [job.value for job in jobs]
    print("same answers, same order:", sequential == concurrent)


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"), int(sys.argv[2]) if len(sys.argv) > 2 else 10)
