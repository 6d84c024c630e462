"""A TCP proxy for outage tests: forwards loopback Kafka traffic and cuts chosen clients.

It reads the client id from the first request header of each connection, so a test can
cut the reader under test while a producer keeps writing through the same proxy (the
broker advertises the proxy's address, so every client goes through it).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator


def free_port() -> int:
    """Return a loopback port that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class TcpProxy:
    """Forwards 127.0.0.1:port to an upstream port on its own thread and event loop."""

    def __init__(self, upstream_port: int, port: int | None = None) -> None:
        self.upstream_port = upstream_port
        self.port = port or free_port()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._clients: dict[asyncio.StreamWriter, tuple[str, asyncio.StreamWriter]] = {}
        self._blocked: set[str] = set()

    def start(self) -> None:
        """Start forwarding."""
        self._thread.start()
        self._call(self._listen())

    def cut(self, client_id: str) -> None:
        """Close the connections of ``client_id`` and refuse its new ones until ``restore``."""
        self._call(self._cut_client(client_id))

    def restore(self, client_id: str) -> None:
        """Let ``client_id`` connect again."""
        self._blocked.discard(client_id)

    def stop(self) -> None:
        """Cut everything and stop the proxy's thread."""
        self._call(self._cut())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    def _call(self, coro: object) -> None:
        """Run a coroutine on the proxy's loop and wait for it."""
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)  # type: ignore[arg-type]

    async def _listen(self) -> None:
        """Open the listening socket."""
        if self._server is None:
            self._server = await asyncio.start_server(
                self._on_client, "127.0.0.1", self.port, reuse_address=True
            )

    async def _cut(self) -> None:
        """Close the listener and every open connection."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer, (_client, upstream) in list(self._clients.items()):
            writer.transport.abort()
            upstream.transport.abort()
        self._clients.clear()

    async def _cut_client(self, client_id: str) -> None:
        """Block a client and abort its open connections."""
        self._blocked.add(client_id)
        for writer, (client, upstream) in list(self._clients.items()):
            if client == client_id:
                writer.transport.abort()
                upstream.transport.abort()

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Pipe one client to the upstream and back, unless its client id is blocked."""
        try:
            # Request: int32 size, int16 api key, int16 version, int32 correlation id,
            # int16 client id length, client id.
            head = await reader.readexactly(14)
            length = int.from_bytes(head[12:14], "big", signed=True)
            client = (await reader.readexactly(length)).decode() if length > 0 else ""
        except (asyncio.IncompleteReadError, ConnectionError, UnicodeDecodeError):
            writer.transport.abort()
            return
        if client in self._blocked:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            writer.transport.abort()
            return
        up_writer.write(head + client.encode())
        self._clients[writer] = (client, up_writer)
        await asyncio.gather(
            self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
        )
        self._clients.pop(writer, None)

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Copy bytes until either side closes."""
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.transport.abort()


@contextlib.contextmanager
def running_proxy(upstream_port: int, port: int | None = None) -> Iterator[TcpProxy]:
    """Run a proxy for the duration of a with-block."""
    proxy = TcpProxy(upstream_port, port)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()
