"""Client order ids: made by the SDK when the caller gives none, found again in errors.

An id is ``prefix`` + the time in milliseconds (11 hex digits) + a per-process random
nonce (6 base-62 characters, drawn again in a forked child) + a per-process counter
(5 hex digits): unique across the clients of a process (the counter), across
processes (the nonce) and across restarts (the time).  Every character is one of
``[A-Za-z0-9]``, which every papi order endpoint accepts; the default prefix makes a
24-character id, within the 32 that UM and CM orders allow.  Hex digits are what
``format`` writes in C: an id costs about a microsecond.
"""

from __future__ import annotations

import itertools
import os
import re
import secrets
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the endpoint table loads with the API namespaces, not with the errors
    from .endpoints import ClientId

__all__ = ["DEFAULT_PREFIX", "client_id_of", "fill_client_ids", "new_client_order_id"]

DEFAULT_PREFIX = "pm"
_PREFIX_RE = re.compile(r"[A-Za-z0-9_-]{0,16}")
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_COUNTER_SPAN = 16**5
_counter = itertools.count(secrets.randbelow(_COUNTER_SPAN))
_nonce = ""

#: The parameters that carry an order's client id, in the order they are looked for:
#: a placement's own id first, then the id of the order a cancel or modification names.
_NEW_ID_PARAMS = ("newClientOrderId", "clientAlgoId", "newClientStrategyId", "listClientOrderId")
_ORIG_ID_PARAMS = ("origClientOrderId", "listClientOrderId", "clientAlgoId", "newClientStrategyId")


def _new_nonce() -> None:
    global _nonce
    _nonce = "".join(secrets.choice(_B62) for _ in range(6))


_new_nonce()
if hasattr(os, "register_at_fork"):  # a forked child must not repeat its parent's ids
    os.register_at_fork(after_in_child=_new_nonce)


def new_client_order_id(prefix: str = DEFAULT_PREFIX, *, max_length: int = 32) -> str:
    """A new client order id, unique across clients and restarts (see the module).

    ``prefix`` (up to 16 of ``[A-Za-z0-9_-]``) tags the ids of an engine or a strategy;
    the id is ``len(prefix) + 22`` characters and must fit ``max_length`` (32 for UM and
    CM orders, 36 for algo, conditional, margin and OCO ids).  Persist it before sending
    the order, pass it as ``new_client_order_id=`` (``client_algo_id=``, ...), and after a
    crash ``client.resolve_client_order`` tells whether that order was placed.
    """
    if not isinstance(prefix, str) or not _PREFIX_RE.fullmatch(prefix):
        raise ValueError("prefix must be at most 16 of A-Z, a-z, 0-9, '_' and '-'")
    if len(prefix) + 22 > max_length:
        raise ValueError(f"prefix {prefix!r} makes ids longer than {max_length} characters")
    return f"{prefix}{time.time_ns() // 1_000_000:011x}{_nonce}{next(_counter) % _COUNTER_SPAN:05x}"


def fill_client_ids(client_ids: tuple[ClientId, ...], params: dict[str, str]) -> None:
    """Give ``params`` a new id for each of ``client_ids`` the caller did not set."""
    for cid in client_ids:
        if cid.name not in params:
            params[cid.name] = new_client_order_id(max_length=cid.max_length)


def client_id_of(method: str, params: Mapping[str, str]) -> str | None:
    """The client id of the order a call with ``params`` placed (POST) or named (a cancel,
    a modification or a query), if it carries one."""
    for name in _NEW_ID_PARAMS if method == "POST" else _ORIG_ID_PARAMS:
        value = params.get(name)
        if value:
            return value
    return None
