"""An asyncio echo server and three clients in one script, started with asyncio.run().

Run it with `python asyncio_echo.py`. In a notebook the kernel already runs an event loop,
so there we use top-level `await` instead; a script has no loop until asyncio.run() makes one.
"""

import asyncio
import time


async def handle_echo(reader, writer):
    """Serve one connection: send back every chunk until the client hangs up."""
    while data := await reader.read(1024):
        writer.write(data)
        await writer.drain()
    writer.close()
    await writer.wait_closed()


async def client(port, name, messages=3, pause=0.05):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    replies = []
    for k in range(messages):
        writer.write(f"{name} #{k}".encode())
        await writer.drain()
        replies.append((await reader.read(1024)).decode())
        await asyncio.sleep(pause)
    writer.close()
    await writer.wait_closed()
    return replies


async def main():
    loop = asyncio.get_running_loop()
    print("event loop:", type(loop).__name__)
    server = await asyncio.start_server(handle_echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        start = time.perf_counter()
        results = await asyncio.gather(*(client(port, f"client-{i}") for i in range(3)))
        elapsed = time.perf_counter() - start
    for replies in results:
        print(replies)
    print(f"3 clients x 3 messages with 50 ms pauses: {elapsed:.2f} s")


if __name__ == "__main__":
    asyncio.run(main())
