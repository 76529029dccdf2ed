"""The simulator's request log: every papi request as it arrived, and what it was answered.

Signatures never reach the log (their value becomes ``<redacted>``) and the API key
is masked.  The log keeps the newest ``limit`` records (``None``: all of them; 0:
none, and recording costs nothing).
"""

from __future__ import annotations

import itertools
import re
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .routing import Call

__all__ = ["RequestLog", "RequestRecord"]

_SIGNATURE_RE = re.compile(r"(?:(?<=&)|^)signature=[^&]*")
_SIGNATURE_RE_BYTES = re.compile(rb"(?:(?<=&)|^)signature=[^&]*")
_REDACTED = "signature=<redacted>"


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request as the simulator saw it, and what it answered.

    ``query`` is the raw query string and ``body`` the raw body, as received but
    with the ``signature`` value replaced by ``<redacted>`` (signatures never reach a
    log); ``headers`` are the request headers with ``X-MBX-APIKEY`` masked.  ``status``
    is ``None`` when the connection was dropped without an answer; ``code`` is the
    Binance error code (``None`` on success or for non-JSON answers).  ``applied``
    says whether a state change (a repay) was applied.  ``fault`` names the fault
    that fired, if any.
    """

    seq: int
    time: int
    method: str
    path: str
    query: str
    body: bytes
    headers: Mapping[str, str]
    account: str | None
    status: int | None
    code: int | None
    applied: bool
    fault: str | None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (``body`` decoded as UTF-8 with replacement)."""
        return {
            "seq": self.seq,
            "time": self.time,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "body": self.body.decode("utf-8", "replace"),
            "headers": dict(self.headers),
            "account": self.account,
            "status": self.status,
            "code": self.code,
            "applied": self.applied,
            "fault": self.fault,
        }


class RequestLog:
    """The newest ``limit`` requests, oldest first."""

    def __init__(self, limit: int | None) -> None:
        self._records: deque[RequestRecord] = deque(maxlen=limit)
        self.enabled = limit != 0
        self._seq = itertools.count(1)

    def __iter__(self) -> Iterator[RequestRecord]:
        return iter(self._records)

    def __len__(self) -> int:
        return len(self._records)

    def clear(self) -> None:
        """Forget every record (the sequence numbers keep counting)."""
        self._records.clear()

    def record(self, request: web.Request, call: Call) -> None:
        """Append ``call`` (redacted and masked)."""
        headers: dict[str, str] = {}
        for name, value in request.headers.items():
            if name.lower() == "x-mbx-apikey":
                value = value[:4] + "***" if len(value) > 8 else "***"
            headers[str(name)] = value
        self._records.append(
            RequestRecord(
                seq=next(self._seq),
                time=call.now,
                method=call.method,
                path=call.path,
                query=_SIGNATURE_RE.sub(_REDACTED, call.query),
                body=_SIGNATURE_RE_BYTES.sub(_REDACTED.encode(), call.body),
                headers=headers,
                account=call.account,
                status=call.status,
                code=call.code,
                applied=call.applied,
                fault=call.fault.kind if call.fault is not None else None,
            )
        )
