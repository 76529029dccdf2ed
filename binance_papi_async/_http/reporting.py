"""The events of calls: to the ``on_event`` hook, and to the ``binance_papi_async`` log."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping

from ..errors import ExecutionStatusUnknown
from ..events import Event, EventHook, OutcomeUnknown, RequestEnd
from .call import Call

__all__ = ["Reporter", "describe_cause", "log"]

log = logging.getLogger("binance_papi_async")
_DEBUG = logging.DEBUG
_QUERY = re.compile(r"\?\S*")


def describe_cause(exc: BaseException) -> str:
    """``Type: message`` of a transport exception with any query string cut out.

    aiohttp puts the full URL, signature included, into some messages ("Connection
    timeout to host http://...?...&signature=..."), so the SDK never chains them.
    """
    text = _QUERY.sub("?<query>", str(exc))[:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class Reporter:
    """Delivers events: to the hook (its exceptions logged and ignored), then to the log
    (WARNING for :class:`OutcomeUnknown`, DEBUG for the rest)."""

    __slots__ = ("hook",)

    def __init__(self, hook: EventHook | None) -> None:
        self.hook = hook

    @property
    def observing(self) -> bool:
        """Whether anybody receives routine events (building them is skipped otherwise)."""
        return self.hook is not None or log.isEnabledFor(_DEBUG)

    def emit(self, event: Event) -> None:
        hook = self.hook
        if hook is not None:
            try:
                hook(event)
            except Exception:
                log.exception("on_event hook raised; ignored")
        if isinstance(event, OutcomeUnknown):
            log.warning(
                "%s %s: execution status unknown (%s)",
                event.method,
                event.path,
                event.reason,
                extra={"papi_event": event},
            )
        elif log.isEnabledFor(_DEBUG):
            log.debug("%s", event, extra={"papi_event": event})

    def unknown(self, error: ExecutionStatusUnknown) -> ExecutionStatusUnknown:
        """Emit the :class:`OutcomeUnknown` event of ``error``; ``error``."""
        self.emit(
            OutcomeUnknown(error.method, error.path, error.reason, error.sent_at, error.params)
        )
        return error

    def end(
        self,
        call: Call,
        status: int | None,
        error: BaseException | None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Emit the :class:`RequestEnd` of ``call``'s attempt."""
        self.emit(
            RequestEnd(
                call.spec.method,
                call.spec.path,
                call.number,
                status,
                time.time() - call.sent_at,
                type(error).__name__ if error is not None else None,
                headers.get("X-MBX-USED-WEIGHT-1M") if headers is not None else None,
                headers.get("X-MBX-ORDER-COUNT-1M") if headers is not None else None,
            )
        )
