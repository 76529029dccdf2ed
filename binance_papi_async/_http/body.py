"""Read a response body within the client's bound (``max_response_size``).

A body whose ``Content-Length`` is within the bound, and which is not compressed, is
read by aiohttp as is (it reads no byte past the length).  Any other (without a length:
chunked, or until the server closes; over the bound; or compressed, where the length is
not the size decompressed) is read here piece by piece as aiohttp decompresses it, and
refused as soon as it would pass the bound: at most the bound is ever held, the error
keeps the first :data:`PREFIX` bytes, and the connection is closed, never handed back to
the pool with the rest of the body in it.
"""

from __future__ import annotations

import aiohttp

from ..errors import BinancePapiError
from .call import Call
from .classify import Answer, too_large
from .reporting import Reporter

__all__ = ["PREFIX", "read_bounded"]

#: Bytes of a refused body kept for the error.
PREFIX = 1024


async def read_bounded(
    call: Call, response: aiohttp.ClientResponse, limit: int, reporter: Reporter
) -> Answer | BinancePapiError:
    """The answer of a response without a usable ``Content-Length``, read to its end if
    its body stays within ``limit`` bytes.

    A body over ``limit`` is refused: a 2xx becomes :func:`too_large`'s error; an error
    status stays an answer (classified by its status, as any), with the body's prefix.
    """
    content = response.content
    length = response.content_length
    if length is not None and length > limit:  # refused without reading the rest
        return _refused(call, response, await content.read(PREFIX), limit, reporter)
    chunks: list[bytes] = []
    size = 0
    while chunk := await content.readany():
        size += len(chunk)
        if size > limit:
            chunks.append(chunk)
            return _refused(call, response, b"".join(chunks)[:PREFIX], limit, reporter)
        chunks.append(chunk)
    return Answer(response.status, response.headers, b"".join(chunks))


def _refused(
    call: Call, response: aiohttp.ClientResponse, prefix: bytes, limit: int, reporter: Reporter
) -> Answer | BinancePapiError:
    response.close()  # the rest of the body stays unread: the connection cannot be reused
    answer = Answer(response.status, response.headers, prefix[:PREFIX])
    if answer.status >= 300:
        return answer
    return too_large(call, answer, limit, reporter)
