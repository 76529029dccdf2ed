"""The simulator's user data stream: listen keys, ``/pm/ws/<listenKey>`` and the events.

Available as ``sim.stream`` (a :class:`StreamHub`).  Rules, following papi where it is
documented (``spec/papi/USER_STREAM.md``) and the simulator's choices where not:

* **Listen keys**, one per account, valid 60 minutes on the simulator's clock:
  ``POST /papi/v1/listenKey`` returns the active key and extends it, or creates a new
  64-character key; ``PUT`` extends it (-1125 "This listenKey does not exist." when
  there is none: expired or deleted); ``DELETE`` invalidates it (``{}`` even when there
  is none: the simulator's choice) and closes the connections using it (undocumented
  on papi: the simulator's choice).
* **Expiry**: when a key's 60 minutes run out, every connection using it receives
  ``{"e": "listenKeyExpired", "E": <ms>}`` (the PM shape: no ``listenKey`` field) and
  then nothing more; the socket stays open, as on Binance.
* **Connections**: ``GET /pm/ws/<listenKey>`` upgrades to a WebSocket for a valid key
  (an unknown or expired key is refused with HTTP 400 and the -1125 body: the
  simulator's choice); the server answers pings (unless muted), sends each event as
  one JSON text frame, and closes a connection 24 hours after it opened.
* **Events**: a repay-debt produces, with the same ``E``, a ``liabilityChange`` for the
  debt asset (``t="REPAY"``: only ``BORROW`` is documented; ``p``/``i`` the principal
  and interest repaid, ``l`` the liability left: the doc does not say whether
  ``p``/``i`` are amounts of the transaction or totals), then an
  ``outboundAccountPosition`` with the absolute ``free``/``locked`` of every asset the
  repay touched (the debt asset first).  No ``balanceUpdate``: Binance documents it
  for deposits, withdrawals and transfers, and a repay is none of these.
  :meth:`StreamHub.push` sends any payload (unknown event types included), and
  :meth:`StreamHub.push_unimmr_drop` a ``uniMMRDrop`` (Portfolio Margin Pro) to an
  account whose uniMMR drop notifications are on (``POST /papi/v1/unimmr/notification``,
  see :mod:`.trading.unimmr`).
* **Faults** (Python, or ``POST /_sim/faults``): :meth:`StreamHub.drop` (abort the
  connections: ``{"kind": "stream_drop"}``), :meth:`StreamHub.expire_key` (expire the
  key now, with or without the ``listenKeyExpired`` event: ``{"kind":
  "stream_expire", "notify": true}``) and :meth:`StreamHub.mute` (stop answering pings
  and sending events on the open connections: ``{"kind": "stream_mute"}``).  Each takes
  an optional ``account``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

import orjson
from aiohttp import WSMsgType, web

from ..clock import Clock, TimerHandle
from ._errors import SimulatedError
from .routing import Call, Handler, RouteKey
from .state import Account, RepayRecord, SimState, fmt8

__all__ = ["LISTEN_KEY_VALIDITY_S", "MAX_CONNECTION_AGE_S", "StreamHub"]

#: A listen key lives this long after its creation or last keepalive.
LISTEN_KEY_VALIDITY_S = 3600.0
#: Connections are closed by the server this long after they opened.
MAX_CONNECTION_AGE_S = 86_400.0

_INVALID_CODE = -1125
_INVALID_MSG = "This listenKey does not exist."
_INVALID_KEY: dict[str, Any] = {"code": _INVALID_CODE, "msg": _INVALID_MSG}
_STREAM_FAULTS = frozenset({"stream_drop", "stream_expire", "stream_mute"})


@dataclass(slots=True)
class _ListenKey:
    key: str
    account: str
    expires_at: float
    timer: TimerHandle | None = None


@dataclass(slots=True, eq=False)
class _Conn:
    key: str
    account: str
    ws: web.WebSocketResponse
    request: web.Request
    queue: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)
    muted: bool = False
    dead: bool = False  # its key expired: nothing more is sent
    timer: TimerHandle | None = None


class Host(Protocol):
    """What the stream needs of the simulator: its clock and its live state."""

    @property
    def clock(self) -> Clock: ...

    @property
    def state(self) -> SimState: ...

    def server_time_ms(self) -> int: ...


class StreamHub:
    """Listen keys, stream connections and event fan-out of one simulator."""

    def __init__(self, sim: Host) -> None:
        self._sim = sim
        self._keys: dict[str, _ListenKey] = {}  # listen key -> state
        self._by_account: dict[str, str] = {}  # account -> its active listen key
        self._conns: set[_Conn] = set()
        self._update_ids = itertools.count(1_027_053_479_517)
        self._tx_ids = itertools.count(1_352_286_576_452_864_727)
        self._closed = False

    # -- listen keys (the REST side) ----------------------------------------------------------

    def routes(self) -> dict[RouteKey, Handler]:
        """The listen-key routes (``POST``, ``PUT``, ``DELETE /papi/v1/listenKey``)."""
        return {
            ("POST", "/papi/v1/listenKey"): self._start_handler,
            ("PUT", "/papi/v1/listenKey"): self._keepalive_handler,
            ("DELETE", "/papi/v1/listenKey"): self._close_handler,
        }

    def _start_handler(self, call: Call, account: Account | None, params: dict[str, str]) -> Any:
        assert call.account is not None
        return {"listenKey": self.create_key(call.account)}

    def _keepalive_handler(
        self, call: Call, account: Account | None, params: dict[str, str]
    ) -> Any:
        assert call.account is not None
        self.keepalive(call.account)
        return {}

    def _close_handler(self, call: Call, account: Account | None, params: dict[str, str]) -> Any:
        assert call.account is not None
        self.delete(call.account)
        return {}

    def _now(self) -> float:
        return self._sim.clock.time()

    def create_key(self, account: str) -> str:
        """``POST``: the account's active key (extended), or a new one."""
        active = self._active(account)
        if active is not None:
            self._extend(active)
            return active.key
        key = secrets.token_hex(32)  # 64 characters, like Binance's
        state = _ListenKey(key, account, 0.0)
        self._keys[key] = state
        self._by_account[account] = key
        self._extend(state)
        return key

    def keepalive(self, account: str) -> None:
        """``PUT``: extend the active key; ``SimulatedError`` -1125 when there is none."""
        active = self._active(account)
        if active is None:
            raise SimulatedError(400, _INVALID_CODE, _INVALID_MSG)
        self._extend(active)

    def delete(self, account: str) -> None:
        """``DELETE``: invalidate the account's key and close its connections."""
        active = self._active(account)
        if active is None:
            return
        self._forget(active)
        for conn in self._conns_of(key=active.key):
            conn.queue.put_nowait(None)

    def listen_key(self, account: str = "main") -> str | None:
        """The active listen key of ``account`` (for tests), or ``None``."""
        active = self._active(account)
        return active.key if active is not None else None

    def _active(self, account: str) -> _ListenKey | None:
        key = self._by_account.get(account)
        return self._keys.get(key) if key is not None else None

    def _extend(self, state: _ListenKey) -> None:
        if state.timer is not None:
            state.timer.cancel()
        state.expires_at = self._now() + LISTEN_KEY_VALIDITY_S
        state.timer = self._sim.clock.call_at(state.expires_at, lambda: self._expire(state, True))

    def _forget(self, state: _ListenKey) -> None:
        if state.timer is not None:
            state.timer.cancel()
            state.timer = None
        self._keys.pop(state.key, None)
        if self._by_account.get(state.account) == state.key:
            del self._by_account[state.account]

    def _expire(self, state: _ListenKey, notify: bool) -> None:
        if self._closed or self._keys.get(state.key) is not state:
            return
        self._forget(state)
        event = {"e": "listenKeyExpired", "E": self._sim.server_time_ms()}
        for conn in self._conns_of(key=state.key):
            if notify:
                self._send(conn, event)
            conn.dead = True

    # -- events ------------------------------------------------------------------------------

    def _conns_of(self, *, key: str | None = None, account: str | None = None) -> list[_Conn]:
        return [
            c
            for c in self._conns
            if (key is None or c.key == key) and (account is None or c.account == account)
        ]

    def _send(self, conn: _Conn, event: Mapping[str, Any]) -> None:
        if not conn.dead and not conn.muted:
            conn.queue.put_nowait(orjson.dumps(event).decode())

    def push(self, event: Mapping[str, Any], *, account: str = "main") -> int:
        """Send ``event`` (any JSON object) to the live connections of ``account``.

        Returns how many connections it was queued on.
        """
        conns = [c for c in self._conns_of(account=account) if not c.dead and not c.muted]
        for conn in conns:
            self._send(conn, event)
        return len(conns)

    def push_unimmr_drop(
        self, *, account: str = "main", fields: Mapping[str, Any] | None = None
    ) -> int:
        """Send ``uniMMRDrop`` to ``account`` if its uniMMR drop notifications are on.

        Binance pushes the event (Portfolio Margin Pro) when uniMMR falls more than 5%
        below its reference value, and only to an account that turned the notifications
        on (``POST /papi/v1/unimmr/notification``; off by default), on its Portfolio
        Margin Pro stream; the simulator has one stream and sends it there.  The simulator
        has no uniMMR model, so a test says when: the event is ``{"e": "uniMMRDrop", "E":
        <server ms>}`` plus ``fields`` (the payload beyond ``e``/``E`` is on no available
        page: give the fields the test expects).  Returns how many connections it was
        queued on: 0 when the account's notifications are off.
        """
        state = self._sim.state.accounts.get(account)
        if state is None or not state.unimmr_notification:
            return 0
        event = {"e": "uniMMRDrop", "E": self._sim.server_time_ms(), **(fields or {})}
        return self.push(event, account=account)

    def _account_name(self, account: Account) -> str | None:
        for name, candidate in self._sim.state.accounts.items():
            if candidate is account:
                return name
        return None

    def repay_events(self, account: Account, record: RepayRecord) -> list[dict[str, Any]]:
        """The events a repay-debt produces (see the module documentation)."""
        debt = account.assets[record.asset]
        now = record.update_time
        touched = [record.asset, *(a for a in record.used if a != record.asset)]
        balances = []
        for name in touched:
            st = account.assets.get(name)
            free = st.free if st is not None else Decimal(0)
            locked = st.locked if st is not None else Decimal(0)
            balances.append({"a": name, "f": fmt8(free), "l": fmt8(locked)})
        return [
            {
                "e": "liabilityChange",
                "E": now,
                "a": record.asset,
                "t": "REPAY",
                "T": next(self._tx_ids),
                "p": fmt8(record.principal_paid),
                "i": fmt8(record.interest_paid),
                "l": fmt8(debt.debt),
            },
            {
                "e": "outboundAccountPosition",
                "E": now,
                "u": now,
                "U": next(self._update_ids),
                "B": balances,
            },
        ]

    def on_repay(self, account: Account, record: RepayRecord) -> None:
        """Called by the simulator after a repay was applied: stream its events."""
        name = self._account_name(account)
        if name is None or not self._conns:
            return
        for event in self.repay_events(account, record):
            self.push(event, account=name)

    # -- faults ------------------------------------------------------------------------------

    def drop(self, *, account: str | None = None) -> int:
        """Abort the open stream connections (of ``account``, or all): no close frame."""
        conns = self._conns_of(account=account)
        for conn in conns:
            transport = conn.request.transport
            if transport is not None:
                transport.abort()
        return len(conns)

    def expire_key(self, *, account: str = "main", notify: bool = True) -> bool:
        """Expire ``account``'s key now; with ``notify`` its connections get
        ``listenKeyExpired``.  Returns whether there was a key."""
        active = self._active(account)
        if active is None:
            return False
        self._expire(active, notify)
        return True

    def mute(self, *, account: str | None = None) -> int:
        """The open connections stop answering pings and sending events (a silent
        connection); new connections are not affected."""
        conns = self._conns_of(account=account)
        for conn in conns:
            conn.muted = True
        return len(conns)

    def apply_fault(self, data: Mapping[str, Any]) -> dict[str, Any] | None:
        """A stream fault from ``POST /_sim/faults`` JSON; ``None`` if not a stream kind."""
        kind = data.get("kind")
        if kind not in _STREAM_FAULTS:
            return None
        unknown = set(data) - {"kind", "account", "notify"}
        if unknown:
            raise ValueError(f"unknown fault fields {sorted(unknown)}")
        account = data.get("account")
        if account is not None and not isinstance(account, str):
            raise ValueError("account must be a string")
        if kind == "stream_drop":
            return {"kind": kind, "connections": self.drop(account=account)}
        if kind == "stream_mute":
            return {"kind": kind, "connections": self.mute(account=account)}
        notify = data.get("notify", True)
        if not isinstance(notify, bool):
            raise ValueError("notify must be a boolean")
        expired = self.expire_key(account=account or "main", notify=notify)
        return {"kind": kind, "expired": expired}

    @staticmethod
    def is_stream_fault(data: Mapping[str, Any]) -> bool:
        """Whether ``data`` describes a stream fault."""
        return data.get("kind") in _STREAM_FAULTS

    # -- the WebSocket route -----------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """``GET /pm/ws/{listenKey}``."""
        key = request.match_info.get("listen_key", "")
        state = self._keys.get(key)
        if self._closed or state is None:
            return web.json_response(_INVALID_KEY, status=400, dumps=_dumps)
        ws = web.WebSocketResponse(autoping=False)
        await ws.prepare(request)
        conn = _Conn(key, state.account, ws, request)
        self._conns.add(conn)
        conn.timer = self._sim.clock.call_at(
            self._now() + MAX_CONNECTION_AGE_S, lambda: conn.queue.put_nowait(None)
        )
        sender = asyncio.get_running_loop().create_task(self._sender(conn))
        try:
            async for msg in ws:
                if msg.type == WSMsgType.PING and not conn.muted:
                    await ws.pong(msg.data)
        finally:
            self._conns.discard(conn)
            if conn.timer is not None:
                conn.timer.cancel()
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await sender
        return ws

    @staticmethod
    async def _sender(conn: _Conn) -> None:
        while True:
            text = await conn.queue.get()
            if text is None:
                await conn.ws.close()
                return
            if not conn.muted:
                await conn.ws.send_str(text)

    async def close(self) -> None:
        """Close every connection and cancel the key timers (the simulator is stopping)."""
        self._closed = True
        for state in list(self._keys.values()):
            if state.timer is not None:
                state.timer.cancel()
        for conn in list(self._conns):
            if conn.timer is not None:
                conn.timer.cancel()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.ws.close(code=1001), 1.0)

    def connections(self, account: str | None = None) -> int:
        """Open stream connections (of ``account``, or all)."""
        return len(self._conns_of(account=account))


def _dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()
