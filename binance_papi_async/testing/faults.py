"""Faults the simulator injects on demand: latency, 5xx, -1007, dropped connections, 429/418.

A :class:`Fault` targets one papi path (``path=None``: every papi path; the
``/_sim/`` control endpoints are never affected) and fires ``count`` times
(``None``: until cleared).  Faults are kept in a :class:`FaultPlan`
(``sim.faults``) in the order they were added.

When a request arrives:

1. every matching ``latency`` fault adds its ``seconds`` (they add up);
2. the first matching fault of another kind fires (one count is used):

   * "before" faults answer at once, without checking or charging the request
     and without changing state: ``drop`` with ``after_apply=False`` (the
     connection is aborted), ``error`` / ``timeout`` with ``apply=False``,
     ``rate_limit`` (a 429 -1003) and ``ban`` (a 418 -1003);
   * "after" faults let the request be processed normally (checked, charged,
     and applied when valid) and then replace the answer: ``drop`` with
     ``after_apply=True`` (the default: it happened, the client sees a
     disconnect) and ``error`` / ``timeout`` with ``apply=True``.

Two faults test the edges of resolving an unknown outcome by client id
(``client.resolve``):

* ``late`` checks the request (key, signature, timestamp, parameters) and answers
  the -1007 timeout at once, but runs it ``seconds`` later on the simulator's clock:
  an order stalled inside the matching engine that executes after the client gave up;
* ``query_lag`` is not terminal (like ``latency`` it fires beside another fault):
  what a matching write creates is invisible to reads for ``seconds`` on the
  simulator's clock (a query by its id answers "does not exist", lists leave it out).

Clock faults are not counted: :meth:`FaultPlan.skew` moves the simulator's
server clock by ``ms`` until changed or cleared, and :meth:`FaultPlan.time_delay`
delays every request to the server-time paths (``/papi/v1/time``,
``/fapi/v1/time``) by ``seconds`` on its way in only (a one-way delay: the
answer reports the time of its late arrival and comes back at once), so a
client's offset estimate is off by about half of it.  With a
:class:`~binance_papi_async.FakeClock` the delay moves that clock (no sleeping);
otherwise it sleeps.

Response bodies:

* ``error(500)``: ``{"code": -1000, "msg": "Request occur unknown error."}``;
* ``error(502)``: an nginx-style HTML "502 Bad Gateway" page (a proxy answered);
* ``error(503)``: ``{"code": -1000, "msg": "Unknown error, please check your request or
  try again later."}`` (execution status unknown; ``variant="unavailable"`` gives
  ``"Service Unavailable."`` and ``variant="internal"`` gives -1001 ``"Internal error;
  unable to process your request. Please try again."``);
* ``timeout()``: ``{"code": -1007, "msg": "Timeout waiting for response from backend
  server. Send status unknown; execution status unknown."}`` with HTTP 503 by
  default (Binance's docs put -1007 among the 5xx answers; pass ``status=408``
  to try the other variant seen in the wild).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

__all__ = ["Fault", "FaultKind", "FaultPlan"]

FaultKind = Literal["latency", "error", "timeout", "drop", "rate_limit", "ban", "late", "query_lag"]
_KINDS: frozenset[str] = frozenset(
    {"latency", "error", "timeout", "drop", "rate_limit", "ban", "late", "query_lag"}
)
_ERROR_STATUSES = frozenset({500, 502, 503})
_VARIANTS_503 = frozenset({"unknown", "unavailable", "internal"})


@dataclass(slots=True)
class Fault:
    """One injected fault.  ``remaining`` is ``None`` for "until cleared".

    Fields used per kind: ``seconds`` (latency, late, query_lag), ``status`` (error: 500/502/503;
    timeout: HTTP status of the -1007 answer), ``variant`` (503 message),
    ``apply`` (error/timeout: process and apply the request first), ``after_apply``
    (drop), ``retry_after`` (rate_limit/ban: the ``Retry-After`` seconds; default
    the end of the current window / the configured ban length).
    """

    kind: FaultKind
    path: str | None = None
    remaining: int | None = 1
    seconds: float = 0.0
    status: int = 0
    variant: str = "unknown"
    apply: bool = False
    after_apply: bool = True
    retry_after: int | None = None
    id: int = 0
    fired: int = 0

    @property
    def after(self) -> bool:
        """True when the request is processed (and possibly applied) before the fault fires
        (``late``: checked before, applied later)."""
        if self.kind == "drop":
            return self.after_apply
        if self.kind in ("error", "timeout"):
            return self.apply
        return False

    def matches(self, path: str) -> bool:
        """Whether this fault targets ``path`` and still has counts left."""
        return (self.path is None or self.path == path) and (
            self.remaining is None or self.remaining > 0
        )

    def use(self) -> None:
        """Consume one count."""
        self.fired += 1
        if self.remaining is not None:
            self.remaining -= 1

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description (as returned by ``GET /_sim/faults``)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "path": self.path,
            "count": self.remaining,
            "fired": self.fired,
            "seconds": self.seconds,
            "status": self.status,
            "variant": self.variant,
            "apply": self.apply,
            "after_apply": self.after_apply,
            "retry_after": self.retry_after,
        }


@dataclass(slots=True)
class FaultPlan:
    """The faults a simulator will inject, plus its clock skew and the one-way delay of its
    server-time paths.  Available as ``sim.faults``."""

    faults: list[Fault] = field(default_factory=list)
    skew_ms: int = 0
    time_delay_s: float = 0.0
    _ids: itertools.count[int] = field(
        default_factory=lambda: itertools.count(1), init=False, repr=False
    )

    def add(self, fault: Fault) -> Fault:
        """Add ``fault`` (validated) and return it."""
        if fault.kind not in _KINDS:
            raise ValueError(f"unknown fault kind {fault.kind!r}")
        if fault.remaining is not None and fault.remaining < 1:
            raise ValueError("count must be >= 1 or None (until cleared)")
        if fault.kind in ("latency", "late", "query_lag") and not fault.seconds >= 0:
            raise ValueError(f"{fault.kind} seconds must be >= 0")
        if fault.kind == "error":
            if fault.status not in _ERROR_STATUSES:
                raise ValueError("error status must be 500, 502 or 503")
            if fault.variant not in _VARIANTS_503:
                raise ValueError(f"503 variant must be one of {sorted(_VARIANTS_503)}")
        if fault.kind in ("timeout", "late") and fault.status == 0:
            fault.status = 503
        if fault.path is not None and not fault.path.startswith("/"):
            raise ValueError("path must start with '/'")
        fault.id = next(self._ids)
        self.faults.append(fault)
        return fault

    def latency(self, seconds: float, *, path: str | None = None, count: int | None = 1) -> Fault:
        """Delay matching requests by ``seconds`` (real time) before handling them."""
        return self.add(Fault("latency", path, count, seconds=seconds))

    def error(
        self,
        status: int,
        *,
        path: str | None = None,
        count: int | None = 1,
        variant: str = "unknown",
        apply: bool = False,
    ) -> Fault:
        """Answer HTTP ``status`` (500, 502 or 503).  ``apply=True``: apply the request first."""
        return self.add(Fault("error", path, count, status=status, variant=variant, apply=apply))

    def timeout(
        self,
        *,
        path: str | None = None,
        count: int | None = 1,
        status: int = 503,
        apply: bool = False,
    ) -> Fault:
        """Answer the -1007 "Timeout waiting for response from backend server" body."""
        return self.add(Fault("timeout", path, count, status=status, apply=apply))

    def drop(
        self, *, after_apply: bool = True, path: str | None = None, count: int | None = 1
    ) -> Fault:
        """Abort the connection without an answer, after (default) or before applying."""
        return self.add(Fault("drop", path, count, after_apply=after_apply))

    def rate_limit(
        self, *, path: str | None = None, count: int | None = 1, retry_after: int | None = None
    ) -> Fault:
        """Answer a 429 -1003 (the limiter's counters are not touched)."""
        return self.add(Fault("rate_limit", path, count, retry_after=retry_after))

    def ban(
        self, *, path: str | None = None, count: int | None = 1, retry_after: int | None = None
    ) -> Fault:
        """Answer a 418 -1003 "IP banned until ..." (no real ban is recorded)."""
        return self.add(Fault("ban", path, count, retry_after=retry_after))

    def late(self, seconds: float, *, path: str | None = None, count: int | None = 1) -> Fault:
        """Check the request, answer the -1007 timeout, and run it ``seconds`` later on the
        simulator's clock (a :class:`~binance_papi_async.clock.FakeClock` runs it when
        advanced past that time).  A request the check refuses is answered its error."""
        return self.add(Fault("late", path, count, seconds=seconds, status=503))

    def query_lag(self, seconds: float, *, path: str | None = None, count: int | None = 1) -> Fault:
        """What a matching write creates stays invisible to reads for ``seconds`` on the
        simulator's clock.  Fires beside the request's other fault, if any (e.g. a drop
        after apply): the order exists, its queries do not find it yet."""
        return self.add(Fault("query_lag", path, count, seconds=seconds))

    def skew(self, ms: int) -> None:
        """Set the server clock skew: server time = simulator clock + ``ms``."""
        self.skew_ms = int(ms)

    def time_delay(self, seconds: float) -> None:
        """Delay requests to the server-time paths by ``seconds`` on their way in only."""
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not seconds >= 0:
            raise ValueError("time delay seconds must be a number >= 0")
        self.time_delay_s = float(seconds)

    def clear(self) -> None:
        """Remove every fault and reset the skew and the time delay to 0."""
        self.faults.clear()
        self.skew_ms = 0
        self.time_delay_s = 0.0

    @property
    def active(self) -> bool:
        """Whether any fault is still pending (a cheap check on the request path)."""
        return bool(self.faults) or self.time_delay_s > 0

    def take(self, path: str) -> tuple[float, Fault | None]:
        """Consume the faults for one request: total latency and the terminal fault, if any."""
        delay, terminal, _ = self.take_all(path)
        return delay, terminal

    def take_all(self, path: str) -> tuple[float, Fault | None, Fault | None]:
        """Consume the faults for one request: total latency, the terminal fault and the
        query-lag fault, if any."""
        delay = 0.0
        terminal: Fault | None = None
        lag: Fault | None = None
        for fault in self.faults:
            if not fault.matches(path):
                continue
            if fault.kind == "latency":
                delay += fault.seconds
                fault.use()
            elif fault.kind == "query_lag":
                if lag is None:
                    lag = fault
                    fault.use()
            elif terminal is None:
                terminal = fault
                fault.use()
        self.faults[:] = [f for f in self.faults if f.remaining is None or f.remaining > 0]
        return delay, terminal, lag

    def add_from_json(self, data: Mapping[str, Any]) -> Fault | None:
        """Add a fault described by JSON (the ``POST /_sim/faults`` body).

        ``{"kind": "latency", "seconds": 0.2, "path": "/papi/v1/balance", "count": 2}``;
        ``{"kind": "error", "status": 503}``; ``{"kind": "timeout"}``;
        ``{"kind": "drop", "after_apply": true}``; ``{"kind": "rate_limit"}``;
        ``{"kind": "ban", "retry_after": 60}``; ``{"kind": "late", "seconds": 2}``;
        ``{"kind": "query_lag", "seconds": 1}``; ``{"kind": "skew", "ms": -3000}`` and
        ``{"kind": "time_delay", "seconds": 0.02}`` (return ``None``).  ``count`` may be
        ``null`` for "until cleared".
        """
        kind = data.get("kind")
        allowed = {
            "kind", "path", "count", "seconds", "status", "variant", "apply",
            "after_apply", "retry_after", "ms",
        }  # fmt: skip
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown fault fields {sorted(unknown)}")
        if kind == "skew":
            ms = data.get("ms")
            if not isinstance(ms, int) or isinstance(ms, bool):
                raise ValueError("skew needs an integer 'ms'")
            self.skew(ms)
            return None
        if kind == "time_delay":
            self.time_delay(data.get("seconds", 0.0))
            return None
        if not isinstance(kind, str) or kind not in _KINDS:
            raise ValueError(f"unknown fault kind {kind!r}")
        count = data.get("count", 1)
        if count is not None and (not isinstance(count, int) or isinstance(count, bool)):
            raise ValueError("count must be an integer or null")
        path = data.get("path")
        if path is not None and not isinstance(path, str):
            raise ValueError("path must be a string or null")
        seconds = data.get("seconds", 0.0)
        if not isinstance(seconds, int | float) or isinstance(seconds, bool):
            raise ValueError("seconds must be a number")
        retry_after = data.get("retry_after")
        if retry_after is not None and not isinstance(retry_after, int):
            raise ValueError("retry_after must be an integer")
        status = data.get("status", 503 if kind in ("timeout", "late") else 0)
        if not isinstance(status, int):
            raise ValueError("status must be an integer")
        return self.add(
            Fault(
                cast(FaultKind, kind),  # checked against _KINDS above
                path,
                count,
                seconds=float(seconds),
                status=status,
                variant=str(data.get("variant", "unknown")),
                apply=bool(data.get("apply", False)),
                after_apply=bool(data.get("after_apply", True)),
                retry_after=retry_after,
            )
        )
