"""The papi server the call benchmarks talk to, run in its own process on loopback.

Two kinds (``--kind``):

* ``fast`` (the default): a minimal HTTP/1.1 keep-alive server on a bare
  :class:`asyncio.Protocol`.  It verifies no signature: every
  ``POST /papi/v1/margin/repay-debt`` gets the documented repay-debt JSON;
  ``POST /papi/v1/um/order`` opens an order and answers it as Binance does
  (the request's symbol, side, type, time in force, quantity, price and client
  order id echoed, status ``NEW``, a new ``orderId``); ``DELETE /papi/v1/um/order``
  cancels it by ``orderId`` or ``origClientOrderId`` (status ``CANCELED``, or
  -2011 "Unknown order sent." for an order that is not open).  Answers carry
  Binance-like headers (``X-MBX-USED-WEIGHT-1M``, and ``X-MBX-ORDER-COUNT-1M`` on
  order-counting calls, counted in one-minute windows, so the SDK's limiter
  reconciles with real values); ``GET /papi/v1/time`` and ``/fapi/v1/time``
  answer the server time; anything else is a 404.  It costs a few tens of
  microseconds of its own CPU per request, so the client, not the server, is the
  bottleneck.
* ``sim``: the package's :class:`~binance_papi_async.testing.PapiSimulator`
  with rate limits off and an account owing a practically endless BNB debt.
  It checks every signature, timestamp and parameter: the smoke test uses it
  to prove that every benchmarked client sends valid signed calls.

``python benchmarks/papi_server.py --port 0 --cpu 1`` pins itself to CPU 1,
prints ``listening on http://127.0.0.1:PORT`` and serves until SIGTERM/SIGINT
or until its stdin closes (so it never outlives the benchmark).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email.utils
import itertools
import os
import signal
import stat
import sys
import time
from typing import Any, cast
from urllib.parse import unquote_to_bytes

import orjson

#: Credentials shared with ``bench_calls`` (fake: they only work against this server).
API_KEY = "bench-key-0123456789abcdef0123456789abcdef0123456789abcdef01234567"
API_SECRET = "bench-secret-0123456789abcdef0123456789abcdef0123456789abcdef0123"

REPAY_PATH = b"/papi/v1/margin/repay-debt"
REPAY_WEIGHT = 3000
UM_ORDER_PATH = b"/papi/v1/um/order"
_TIME_PATHS = (b"/papi/v1/time", b"/fapi/v1/time")
#: The documented example answer (the amount echoes the benchmark's request).
REPAY_BODY = orjson.dumps(
    {
        "amount": "0.00100000",
        "asset": "BNB",
        "specifyRepayAssets": ["USDT", "BTC"],
        "updateTime": 1636371437000,
        "success": True,
    }
)
_NOT_FOUND = (
    b"HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: 9\r\n"
    b"Connection: keep-alive\r\n\r\nnot found"
)
_UNKNOWN_ORDER = orjson.dumps({"code": -2011, "msg": "Unknown order sent."})


def _query(target: bytes) -> dict[str, str]:
    """The query parameters of a request target (``a=1&b=2``), percent-decoded."""
    out: dict[str, str] = {}
    for pair in target.partition(b"?")[2].split(b"&"):
        name, _, value = pair.partition(b"=")
        out[name.decode()] = unquote_to_bytes(value).decode() if b"%" in value else value.decode()
    return out


class Orders:
    """The UM orders open on this server: placed by ``POST``, cancelled by ``DELETE``."""

    __slots__ = ("by_client_id", "ids", "open")

    def __init__(self) -> None:
        self.open: dict[int, dict[str, Any]] = {}
        self.by_client_id: dict[str, int] = {}
        # Binance's UM order ids are 64-bit; start past 2**53 as the simulator does.
        self.ids = itertools.count(2**53 + 1)

    def place(self, params: dict[str, str]) -> tuple[int, bytes]:
        """Open an order from the request's parameters; (HTTP status, JSON answer)."""
        order_id = next(self.ids)
        client_id = params.get("newClientOrderId") or f"web_{order_id}"
        order = {
            "clientOrderId": client_id,
            "cumQty": "0",
            "executedQty": "0",
            "orderId": order_id,
            "origQty": params.get("quantity", "0"),
            "price": params.get("price", "0"),
            "reduceOnly": params.get("reduceOnly") == "true",
            "side": params.get("side", "BUY"),
            "positionSide": params.get("positionSide", "BOTH"),
            "status": "NEW",
            "symbol": params.get("symbol", ""),
            "timeInForce": params.get("timeInForce", "GTC"),
            "type": params.get("type", "LIMIT"),
            "selfTradePreventionMode": params.get("selfTradePreventionMode", "NONE"),
            "goodTillDate": 0,
            "updateTime": int(time.time() * 1000),
            "priceMatch": params.get("priceMatch", "NONE"),
        }
        self.open[order_id] = order
        self.by_client_id[client_id] = order_id
        return 200, orjson.dumps(order)

    def cancel(self, params: dict[str, str]) -> tuple[int, bytes]:
        """Cancel an open order by ``orderId`` or ``origClientOrderId``."""
        if "orderId" in params:
            order_id: int | None = int(params["orderId"])
        else:
            order_id = self.by_client_id.get(params.get("origClientOrderId", ""))
        order = self.open.pop(order_id, None) if order_id is not None else None
        if order is None:
            return 400, _UNKNOWN_ORDER
        del self.by_client_id[order["clientOrderId"]]
        order["status"] = "CANCELED"
        order["updateTime"] = int(time.time() * 1000)
        return 200, orjson.dumps(order)


class _Counters:
    """IP weight and order count in the current one-minute window, and the Date header."""

    __slots__ = ("date", "date_second", "orders", "weight", "window")

    def __init__(self) -> None:
        self.window = -1
        self.weight = 0
        self.orders = 0
        self.date_second = -1
        self.date = b""

    def charge(self, weight: int, orders: int) -> tuple[int, int, bytes]:
        """Count one request; return (weight, orders) of its window and the Date value."""
        now = time.time()
        second = int(now)
        if second != self.date_second:
            self.date_second = second
            self.date = email.utils.formatdate(now, usegmt=True).encode()
            window = second // 60
            if window != self.window:
                self.window = window
                self.weight = 0
                self.orders = 0
        self.weight += weight
        self.orders += orders
        return self.weight, self.orders, self.date


class _Connection(asyncio.Protocol):
    """One keep-alive connection: parse requests (pipelining-safe), answer each in turn."""

    def __init__(self, counters: _Counters, orders: Orders) -> None:
        self._counters = counters
        self._orders = orders
        self._transport: asyncio.Transport | None = None
        self._buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A cast, not an isinstance check: uvloop's transports do not subclass asyncio's.
        self._transport = cast("asyncio.Transport", transport)

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer + data if self._buffer else data
        out: list[bytes] = []
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            head = buffer[:end]
            length = 0
            pos = head.find(b"Content-Length:")
            if pos < 0:
                pos = head.lower().find(b"content-length:")
            if pos >= 0:
                stop = head.find(b"\r\n", pos)
                length = int(head[pos + 15 : stop if stop >= 0 else len(head)])
            total = end + 4 + length
            if len(buffer) < total:
                break
            out.append(self._answer(head))
            buffer = buffer[total:]
        self._buffer = buffer
        if out and self._transport is not None:
            self._transport.write(b"".join(out) if len(out) > 1 else out[0])

    def _answer(self, head: bytes) -> bytes:
        line_end = head.find(b"\r\n")
        method, _, rest = head[: line_end if line_end >= 0 else len(head)].partition(b" ")
        target = rest.partition(b" ")[0]
        path = target.partition(b"?")[0]
        if method == b"POST" and path == REPAY_PATH:
            weight, orders, date = self._counters.charge(REPAY_WEIGHT, 1)
            return b"".join(
                (
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json;charset=UTF-8\r\n"
                    b"Content-Length: %d\r\nConnection: keep-alive\r\nDate: %s\r\n"
                    b"Server: Tengine\r\nVary: Accept-Encoding\r\n"
                    b"X-MBX-USED-WEIGHT-1M: %d\r\nX-MBX-ORDER-COUNT-1M: %d\r\n"
                    b"X-Cache: Miss from cloudfront\r\n\r\n"
                    % (len(REPAY_BODY), date, weight, orders),
                    REPAY_BODY,
                )
            )
        if path == UM_ORDER_PATH and method in (b"POST", b"DELETE"):
            placing = method == b"POST"
            params = _query(target)
            status, body = (self._orders.place if placing else self._orders.cancel)(params)
            weight, orders, date = self._counters.charge(1, 1 if placing else 0)
            counted = b"X-MBX-ORDER-COUNT-1M: %d\r\n" % orders if placing else b""
            return b"".join(
                (
                    b"HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\nConnection: keep-alive\r\nDate: %s\r\n"
                    b"Server: Tengine\r\nVary: Accept-Encoding\r\n"
                    b"X-MBX-USED-WEIGHT-1M: %d\r\n%sX-Cache: Miss from cloudfront\r\n\r\n"
                    % (
                        b"200 OK" if status == 200 else b"400 Bad Request",
                        len(body),
                        date,
                        weight,
                        counted,
                    ),
                    body,
                )
            )
        if method == b"GET" and path in _TIME_PATHS:
            weight, _, date = self._counters.charge(1, 0)
            body = b'{"serverTime":%d}' % int(time.time() * 1000)
            return (
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                b"Connection: keep-alive\r\nDate: %s\r\nX-MBX-USED-WEIGHT-1M: %d\r\n\r\n%s"
                % (len(body), date, weight, body)
            )
        return _NOT_FOUND


def _stdin_is_pipe() -> bool:
    """True when stdin is a pipe (started by ``bench_calls``), not a terminal or a file."""
    try:
        return stat.S_ISFIFO(os.fstat(sys.stdin.fileno()).st_mode)
    except (OSError, ValueError):
        return False


def pin_to_cpu(cpu: int | None) -> int | None:
    """Pin this process to ``cpu`` when the platform allows it; return the CPU or None."""
    if cpu is None or not hasattr(os, "sched_setaffinity"):
        return None
    if cpu not in os.sched_getaffinity(0):
        return None
    os.sched_setaffinity(0, {cpu})
    return cpu


def sim_state_dict() -> dict[str, object]:
    """Seed of the ``sim`` server: one account owing more BNB than any benchmark repays."""
    return {
        "prices": {"BNB": "600", "USDT": "1", "BTC": "60000"},
        "accounts": {
            "main": {
                "assets": {
                    "BNB": {"free": "0", "borrowed": "1000000000"},
                    "USDT": {"free": "1000000000000"},
                    "BTC": {"free": "1000000"},
                }
            }
        },
    }


async def _serve_until_stopped(kind: str, port: int) -> None:
    """Start the server, print its URL, serve until a signal or the end of stdin."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    if kind == "fast":
        counters = _Counters()
        orders = Orders()
        server = await loop.create_server(
            lambda: _Connection(counters, orders), "127.0.0.1", port, backlog=1024
        )
        bound = server.sockets[0].getsockname()[1]
        url = f"http://127.0.0.1:{bound}"
        closer = server
    else:
        from binance_papi_async.testing import PapiSimulator, SimState

        sim = PapiSimulator(
            api_key=API_KEY,
            api_secret=API_SECRET,
            state=SimState.from_dict(sim_state_dict()),
            port=port,
            rate_limits=False,
            log_limit=0,
        )
        await sim.start()
        url = sim.url
        closer = None
    print(f"listening on {url}", flush=True)
    # Stop when stdin (a pipe from the benchmark) closes: the benchmark has gone.
    if _stdin_is_pipe():
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        stdin_closed = asyncio.ensure_future(reader.read())
        stdin_closed.add_done_callback(lambda _: stop.set())
    await stop.wait()
    if closer is not None:
        closer.close()
        await closer.wait_closed()
    else:
        await sim.close()


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, pin, serve until stopped."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--kind", choices=("fast", "sim"), default="fast")
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument("--cpu", type=int, default=None, help="pin to this CPU")
    args = parser.parse_args(argv)
    pin_to_cpu(args.cpu)
    asyncio.run(_serve_until_stopped(args.kind, args.port))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
