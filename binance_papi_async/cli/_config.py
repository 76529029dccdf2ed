"""Where the ``papi`` command gets its settings: environment, base URL, the client."""

from __future__ import annotations

import argparse
import ipaddress
from collections.abc import Mapping
from typing import Any

from yarl import URL

from .._constants import DEFAULT_BASE_URL
from ..client import PortfolioMarginClient
from ..events import EventHook
from ._exit import CommandError, ExitCode

__all__ = [
    "DEFAULT_BASE_URL",
    "ENV_KEY",
    "ENV_SECRET",
    "Credentials",
    "is_loopback_url",
    "make_client",
    "mask",
    "read_credentials",
]

ENV_KEY = "BINANCE_API_KEY"
ENV_SECRET = "BINANCE_API_SECRET"


class Credentials:
    """An API key pair read from the environment; the secret never shows in a repr."""

    __slots__ = ("api_key", "api_secret")

    def __init__(self, api_key: str | None, api_secret: str | None) -> None:
        self.api_key = api_key
        self.api_secret = api_secret

    def __repr__(self) -> str:
        key = mask(self.api_key) if self.api_key is not None else None
        return f"Credentials(api_key={key!r}, api_secret={'***' if self.api_secret else None})"


def mask(api_key: str) -> str:
    """``abcd...wxyz`` for a key of 16 characters or more, ``****`` otherwise."""
    return f"{api_key[:4]}...{api_key[-4:]}" if len(api_key) >= 16 else "****"


def read_credentials(env: Mapping[str, str], *, required: bool) -> Credentials:
    """The key pair from ``BINANCE_API_KEY`` / ``BINANCE_API_SECRET``.

    With ``required``, both must be set (a configuration error names the missing
    ones); otherwise whatever is set is used (public endpoints need neither).
    """
    key = env.get(ENV_KEY) or None
    secret = env.get(ENV_SECRET) or None
    if required and (key is None or secret is None):
        missing = [name for name, v in ((ENV_KEY, key), (ENV_SECRET, secret)) if v is None]
        raise CommandError(
            f"set {' and '.join(missing)} in the environment (the API key pair to use)",
            ExitCode.CONFIG,
        )
    return Credentials(key, secret)


def is_loopback_url(base_url: str) -> bool:
    """Whether ``base_url`` points at this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    host = URL(base_url).host
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def make_client(
    args: argparse.Namespace,
    credentials: Credentials,
    *,
    on_event: EventHook | None = None,
    **options: Any,
) -> PortfolioMarginClient:
    """A client for ``args.base_url`` with ``credentials`` (configuration errors raise)."""
    return PortfolioMarginClient(
        api_key=credentials.api_key,
        api_secret=credentials.api_secret,
        base_url=args.base_url,
        max_wait=args.max_wait,
        recv_window=args.recv_window,
        on_event=on_event,
        **options,
    )
