"""A/B runs of client variants against the fast papi server: interleaved, paired ratios.

Where ``bench_calls.py`` (``make bench``) reports the three clients of issue 7, this
tool answers "what does this part cost?" and "did this change help?":

* parts switched off: the SDK without its rate limiter (``sdk-nolimiter``), without
  ``observe_headers`` (``sdk-noobserve``), the transport alone with the same params
  and no typed result (``transport``); or one put back: aiohttp's per-request total
  timeout timer (``sdk-aiohttp-timeout``);
* the package at another git revision (``--rev REV``: ``git archive`` of
  ``binance_papi_async`` into a temporary directory, imported under another name),
  run beside the working tree's.

Every repeat runs every variant back to back in a rotating order, each after a warm-up;
the report is the median CPU µs per call of this process and the median of the ratios
to the first variant, paired by repeat (which cancels drifts of a shared machine).
Decide on paired ratios from many short repeats: on a noisy VM one run of a few
thousand calls moves by 1 to 2 %.  Nothing leaves 127.0.0.1.

    python benchmarks/bench_ab.py                                # floor sdk handopt
    python benchmarks/bench_ab.py floor sdk sdk-nolimiter --repeats 24
    python benchmarks/bench_ab.py floor sdk-rev sdk --rev 3b40fc4 --repeats 16
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import functools
import hashlib
import hmac
import importlib
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import aiohttp
import bench_calls as bc
from papi_server import API_KEY, API_SECRET, pin_to_cpu

from binance_papi_async import _transport, signing
from binance_papi_async._params import (
    check_asset,
    check_assets,
    check_assets_encoded,
    positive_decimal_wire,
)
from binance_papi_async.endpoints import REPAY_DEBT, Budget
from binance_papi_async.models import RepayDebtResult
from binance_papi_async.ratelimit import BudgetLimit, RateLimiter, Reservation

ROOT = Path(__file__).resolve().parent.parent
Factory = Callable[[str], Any]  # base URL -> a client with start(), call(), close()


def _sdk_nolimiter(url: str) -> Any:
    return bc.SdkClient(url, 64, limiter=False)


class _NoObserveLimiter(RateLimiter):
    """A limiter that commits on a response but does not read its headers."""

    __slots__ = ()

    def observe_headers(self, headers: Any, *, reservation: Reservation | None = None) -> None:
        if reservation is not None:
            reservation.commit()


def _sdk_noobserve(url: str) -> Any:
    limiter = _NoObserveLimiter(
        [BudgetLimit(Budget.REQUEST_WEIGHT, bc.HUGE), BudgetLimit(Budget.ORDERS, bc.HUGE)]
    )
    return bc.SdkClient(url, 64, limiter=limiter)


def _sdk_aiohttp_timeout(url: str) -> Any:
    """The SDK with aiohttp's own total timeout too: a loop timer scheduled and cancelled
    per request, as before the client enforced ``total`` itself (and as the floor has)."""
    client = bc.SdkClient(url, 64)
    client.client._transport._request_timeout = aiohttp.ClientTimeout(total=60, connect=60)
    return client


def _transport_only(url: str) -> Any:
    client = bc.SdkClient(url, 64)
    transport = client.client._transport
    wire = {"asset": bc.ASSET, "amount": bc.AMOUNT, "specifyRepayAssets": ",".join(bc.REPAY_ASSETS)}

    async def call() -> Any:
        return await transport.request(REPAY_DEBT, dict(wire))

    client.call = call
    return client


def _package_at(rev: str) -> ModuleType:
    """``binance_papi_async`` as it was at ``rev``, importable as ``papi_at_rev``."""
    target = Path(tempfile.mkdtemp(prefix="papi-ab-"))
    atexit.register(shutil.rmtree, target, ignore_errors=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "binance_papi_async"],
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    shutil.move(str(target / "binance_papi_async"), str(target / "papi_at_rev"))
    sys.path.insert(0, str(target))
    return importlib.import_module("papi_at_rev")


def _sdk_at(package: ModuleType) -> Factory:
    def factory(url: str) -> Any:
        ratelimit = importlib.import_module("papi_at_rev.ratelimit")
        endpoints = importlib.import_module("papi_at_rev.endpoints")
        client = bc.SdkClient.__new__(bc.SdkClient)
        client.client = package.PortfolioMarginClient(
            api_key=API_KEY,
            api_secret=API_SECRET,
            base_url=url,
            pool_size=64,
            time_sync=package.TimeSync(enabled=False),
            timeouts=package.Timeouts(total=60, connect=60),
            rate_limits=[
                ratelimit.BudgetLimit(endpoints.Budget.REQUEST_WEIGHT, bc.HUGE),
                ratelimit.BudgetLimit(endpoints.Budget.ORDERS, bc.HUGE),
            ],
        )
        client.call = functools.partial(
            client.client.margin.repay_debt,
            bc.ASSET,
            Decimal(bc.AMOUNT),
            specify_repay_assets=list(bc.REPAY_ASSETS),
        )
        return client

    return factory


class _StdHmacSigner:
    """HMAC-SHA256 through the standard library: the key state built once, copied per call."""

    def __init__(self, secret: str) -> None:
        self._mac = hmac.new(secret.encode(), digestmod=hashlib.sha256)

    def sign(self, payload: bytes) -> str:
        mac = self._mac.copy()
        mac.update(payload)
        return mac.hexdigest()


def _sdk_std_hmac(url: str) -> Any:
    client = bc.SdkClient(url, 64)
    client.client._transport.signer = _StdHmacSigner(API_SECRET)
    return client


def _sdk_general_request(url: str) -> Any:
    """Every call through the general ``session.request`` branch (all keywords passed)."""
    client = bc.SdkClient(url, 64)
    transport = client.client._transport
    transport._owns_session = False  # the general branch; close() closes the session
    session = transport._ensure_session()

    async def close() -> None:
        await client.client.aclose()
        await session.close()

    client.close = close  # type: ignore[method-assign]
    return client


def _sdk_hex_encoded(url: str) -> Any:
    client = bc.SdkClient(url, 64)
    client.client._transport._hex_signer = False  # the signature goes through encode_signature
    return client


def _unencoded(client: Any) -> Any:
    transport = client.client._transport
    request = transport.request

    def without_encoded(spec: Any, params: Any, **kwargs: Any) -> Any:
        kwargs.pop("encoded", None)
        return request(spec, params, **kwargs)

    transport.request = without_encoded
    return client


def _sdk_unencoded(url: str) -> Any:
    """repay_debt's query encoded by the transport (encode_params), not passed in."""
    return _unencoded(bc.SdkClient(url, 64))


def _encode_uncached(params: Any) -> str:
    enc = signing._encode
    return "&".join([f"{enc(k)}={enc(v)}" for k, v in params.items()])


def _sdk_unencoded_uncached(url: str) -> Any:
    """As sdk-unencoded, and encode_params without its cache of encoded strings."""
    client = _unencoded(bc.SdkClient(url, 64))
    client.patches = [(_transport, "encode_params", _encode_uncached)]
    return client


def _repay_copy(url: str, *, encoded: bool) -> Any:
    """``margin.repay_debt`` as it is (``encoded=True``: the query built beside the params and
    passed in) or without the pre-encoded query (the transport encodes the params)."""
    client = bc.SdkClient(url, 64)
    transport = client.client._transport
    amount, assets = Decimal(bc.AMOUNT), list(bc.REPAY_ASSETS)

    async def call() -> Any:
        checked = check_asset(bc.ASSET)
        params = {"asset": checked}
        wire = params["amount"] = positive_decimal_wire(amount, "amount")
        if encoded:
            query = f"asset={checked}&amount={wire}"
            wire, quoted = check_assets_encoded(assets, "specify_repay_assets")
            params["specifyRepayAssets"] = wire
            query = f"{query}&specifyRepayAssets={quoted}"
            return await transport.request(
                REPAY_DEBT, params, parse=RepayDebtResult.from_json, encoded=query
            )
        params["specifyRepayAssets"] = check_assets(assets, "specify_repay_assets")
        return await transport.request(REPAY_DEBT, params, parse=RepayDebtResult.from_json)

    client.call = call
    return client


def _repay_uncached(url: str) -> Any:
    client = _repay_copy(url, encoded=False)
    client.patches = [(_transport, "encode_params", _encode_uncached)]
    return client


def _sdk_url_build(url: str) -> Any:
    """URLs from ``yarl.URL.build(encoded=True)`` instead of yarl's private constructor."""
    client = bc.SdkClient(url, 64)
    client.patches = [  # type: ignore[attr-defined]
        (_transport, "_url_from_parts", _transport._build_url)
    ]
    return client


@contextlib.contextmanager
def _patched(client: Any) -> Any:
    """The module attributes ``client.patches`` names, set for the span of a measurement."""
    saved = []
    for owner, name, value in getattr(client, "patches", ()):
        saved.append((owner, name, getattr(owner, name)))
        setattr(owner, name, value)
    try:
        yield
    finally:
        for owner, name, value in reversed(saved):
            setattr(owner, name, value)


VARIANTS: dict[str, Factory] = {
    "floor": lambda url: bc.FloorClient(url, 64),
    "sdk": lambda url: bc.SdkClient(url, 64),
    "handopt": lambda url: bc.HandOptClient(url, 64),
    "sdk-nolimiter": _sdk_nolimiter,
    "sdk-noobserve": _sdk_noobserve,
    "sdk-aiohttp-timeout": _sdk_aiohttp_timeout,
    "transport": _transport_only,
    "sdk-std-hmac": _sdk_std_hmac,
    "sdk-general-request": _sdk_general_request,
    "sdk-hex-encoded": _sdk_hex_encoded,
    "sdk-unencoded": _sdk_unencoded,
    "sdk-unencoded-uncached": _sdk_unencoded_uncached,
    "sdk-url-build": _sdk_url_build,
    "repay-encoded": functools.partial(_repay_copy, encoded=True),
    "repay-plain": functools.partial(_repay_copy, encoded=False),
    "repay-plain-uncached": _repay_uncached,
}


async def run(
    url: str,
    names: Sequence[str],
    factories: dict[str, Factory],
    calls: int,
    repeats: int,
    concurrency: int,
) -> list[str]:
    """Interleave the variants; the report's lines."""
    clients = {name: factories[name](url) for name in names}
    samples: dict[str, list[float]] = {name: [] for name in names}
    try:
        for client in clients.values():
            await client.start()
            with _patched(client):
                await client.call()
        for repeat in range(repeats):
            shift = repeat % len(names)
            for name in [*names[shift:], *names[:shift]]:
                with _patched(clients[name]):
                    measured = await bc.measure(
                        name, clients[name].call, calls, concurrency, repeat
                    )
                samples[name].append(measured.cpu_us_per_call)
    finally:
        for client in clients.values():
            await client.close()
    base = samples[names[0]]
    lines = [
        f"{calls:,} calls x {repeats} repeats, concurrency {concurrency}; "
        f"paired / {names[0]} (median, and its quartiles)"
    ]
    for name in names:
        ratios = [a / b for a, b in zip(samples[name], base, strict=True)]
        paired = statistics.median(ratios)
        low, _, high = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else [paired] * 3
        median = statistics.median(samples[name])
        lines.append(f"{name:<24} {median:8.1f} µs/call   {paired:6.3f}  [{low:6.3f} {high:6.3f}]")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="*", default=["floor", "sdk", "handopt"])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=12)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rev", help="also run the package at this git revision as sdk-rev")
    parser.add_argument("--no-pin", action="store_true")
    args = parser.parse_args(argv)
    factories = dict(VARIANTS)
    if args.rev:
        factories["sdk-rev"] = _sdk_at(_package_at(args.rev))
    unknown = [name for name in args.variants if name not in factories]
    if unknown:
        parser.error(f"unknown variants {unknown}; known: {sorted(factories)}")
    placement = bc.plan_cpus(not args.no_pin)
    if placement.client_cpu is not None:
        pin_to_cpu(placement.client_cpu)
    with bc.server_process("fast", placement.server_cpu) as url:
        lines = asyncio.run(
            run(url, args.variants, factories, args.calls, args.repeats, args.concurrency)
        )
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
