"""How the simulator writes its answers: JSON with Binance's headers, errors, HTML, faults.

Every papi answer carries ``X-MBX-USED-WEIGHT-1M``; answers of order-counting
endpoints carry ``X-MBX-ORDER-COUNT-1M`` once the account is known.  Each writer
records the status and Binance code on the :class:`~.routing.Call` (for the log).

The bodies of fault answers are listed in :mod:`.faults`; a ``drop`` aborts the
connection and answers nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson
from aiohttp import web

from ._errors import SimulatedError
from .faults import Fault
from .limits import MSG_BANNED, MSG_TOO_MANY, RateLimits, interval_suffix, seconds_until
from .routing import Call

__all__ = ["Answers"]

_JSON = "application/json"
_MSG_TIMEOUT = (
    "Timeout waiting for response from backend server. Send status unknown; "
    "execution status unknown."
)
_HTML_404 = b"<html><body><h2>404 Not found</h2></body></html>"
_HTML_405 = b"<html><body><h2>405 Method Not Allowed</h2></body></html>"
_HTML_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
_503_BODIES = {
    "unknown": (-1000, "Unknown error, please check your request or try again later."),
    "unavailable": (-1000, "Service Unavailable."),
    "internal": (-1001, "Internal error; unable to process your request. Please try again."),
}


class Answers:
    """Writes the answers of one simulator (headers from its rate-limit counters)."""

    def __init__(self, limits: RateLimits) -> None:
        self._limits = limits
        suffix = interval_suffix(limits.window_ms)  # 1M, or e.g. 5S for shorter windows
        self._weight_header = f"X-MBX-USED-WEIGHT-{suffix}"
        self._orders_header = f"X-MBX-ORDER-COUNT-{suffix}"

    def headers(self, call: Call) -> dict[str, str]:
        """The ``X-MBX-*`` headers of an answer to ``call``."""
        limits = self._limits
        headers = {self._weight_header: str(limits.ip_used)}
        route = call.route
        if route is not None and route.orders and call.account is not None:
            headers[self._orders_header] = str(limits.order_count(call.account))
        return headers

    def json(
        self,
        call: Call,
        status: int,
        body: bytes,
        code: int | None,
        extra: Mapping[str, str] | None = None,
    ) -> web.Response:
        """A JSON answer; ``code`` is the Binance error code (``None`` on success)."""
        headers = self.headers(call)
        if extra:
            headers.update(extra)
        call.status = status
        call.code = code
        return web.Response(status=status, body=body, content_type=_JSON, headers=headers)

    def error(self, call: Call, err: SimulatedError) -> web.Response:
        """A Binance error body; a 429 says when the window ends (``Retry-After``)."""
        extra: dict[str, str] | None = None
        if err.status == 429:
            retry = seconds_until(call.now, self._limits.window_end())
            extra = {"Retry-After": str(retry)}
        body = orjson.dumps({"code": err.code, "msg": err.msg})
        return self.json(call, err.status, body, err.code, extra)

    def banned(self, call: Call, until: int) -> web.Response:
        """418 -1003 "IP banned until ``until``"."""
        body = orjson.dumps({"code": -1003, "msg": MSG_BANNED.format(until=until)})
        extra = {"Retry-After": str(seconds_until(call.now, until))}
        return self.json(call, 418, body, -1003, extra)

    def html(self, call: Call, status: int, body: bytes) -> web.Response:
        """An HTML page, as the front proxy answers (no Binance code)."""
        call.status = status
        call.code = None
        return web.Response(
            status=status, body=body, content_type="text/html", headers=self.headers(call)
        )

    def not_found(self, call: Call, *, known_path: bool) -> web.Response:
        """404 for an unknown path, 405 for a known path with another method."""
        if known_path:
            return self.html(call, 405, _HTML_405)
        return self.html(call, 404, _HTML_404)

    def fault(self, request: web.Request, call: Call, fault: Fault) -> web.Response:
        """The answer of a fault that fired (a drop aborts the connection instead)."""
        kind = fault.kind
        limits = self._limits
        if kind == "drop":
            call.status = call.code = None
            transport = request.transport
            if transport is not None:
                transport.abort()
            return web.Response(status=500)  # never sent: the connection is gone
        if kind == "rate_limit":
            retry = fault.retry_after
            if retry is None:
                retry = seconds_until(call.now, limits.window_end())
            body = orjson.dumps(
                {"code": -1003, "msg": MSG_TOO_MANY.format(limit=limits.ip_weight_limit)}
            )
            return self.json(call, 429, body, -1003, {"Retry-After": str(retry)})
        if kind == "ban":
            retry = fault.retry_after if fault.retry_after is not None else limits.ban_seconds
            body = orjson.dumps(
                {"code": -1003, "msg": MSG_BANNED.format(until=call.now + retry * 1000)}
            )
            return self.json(call, 418, body, -1003, {"Retry-After": str(retry)})
        if kind in ("timeout", "late"):
            body = orjson.dumps({"code": -1007, "msg": _MSG_TIMEOUT})
            return self.json(call, fault.status, body, -1007)
        if fault.status == 502:
            return self.html(call, 502, _HTML_502)
        if fault.status == 503:
            code, msg = _503_BODIES[fault.variant]
        else:
            code, msg = -1000, "Request occur unknown error."
        return self.json(call, fault.status, orjson.dumps({"code": code, "msg": msg}), code)
