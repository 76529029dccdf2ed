"""A raw HTTP/1.1 server on 127.0.0.1 that answers what a test tells it to, byte for byte.

Unlike the simulator it follows no rule of papi's: it echoes the signed query into a
``Location``, a body or a message, as a misbehaving proxy in front of papi could.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

__all__ = ["HostileServer", "RawRequest", "response"]


@dataclass(frozen=True)
class RawRequest:
    """A request as it arrived: the request line's method and target, headers, body."""

    method: str
    target: str  # path and query, as on the request line
    headers: dict[str, str]
    body: bytes

    @property
    def signature(self) -> str:
        """The ``signature`` the client sent in the query."""
        (value,) = parse_qs(urlsplit(self.target).query)["signature"]
        return value


def response(status: int, headers: Sequence[tuple[str, str]] = (), body: bytes = b"") -> bytes:
    """An HTTP/1.1 response with a Content-Length, kept alive."""
    lines = [f"HTTP/1.1 {status} Hostile", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class HostileServer:
    """``async with HostileServer(answer) as server``: ``server.url`` answers every request
    with ``answer(request)`` (the raw response bytes); ``server.requests`` records them."""

    def __init__(self, answer: Callable[[RawRequest], bytes]) -> None:
        self._answer = answer
        self.requests: list[RawRequest] = []
        self._server: asyncio.Server | None = None
        self._port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    async def __aenter__(self) -> HostileServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self._port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, *header_lines = head.decode("latin-1").split("\r\n")
                method, target, _ = request_line.split(" ", 2)
                headers = dict(
                    line.split(": ", 1) for line in header_lines if line and ": " in line
                )
                length = int(headers.get("Content-Length", "0"))
                body = await reader.readexactly(length) if length else b""
                request = RawRequest(method, target, headers, body)
                self.requests.append(request)
                writer.write(self._answer(request))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
