"""A/B runs of client variants against the fast papi server: interleaved, paired ratios.

Where ``bench_calls.py`` (``make bench``) compares the floor, the SDK and a hand-optimised
client, this tool answers "what does this part cost?" and "did this change help?":

* parts switched off: the SDK without its rate limiter (``sdk-nolimiter``), without
  ``observe_headers`` (``sdk-noobserve``), the transport alone with the same params
  and no typed result (``transport``), without the cache of percent-encoded strings
  (``sdk-uncached-encoding``); or one put back: aiohttp's per-request total timeout
  timer beside the client's own deadlines (``sdk-aiohttp-timeout``);
* fast paths switched off: the standard library's ``hmac`` instead of the signer's own
  HMAC-SHA256 states (``sdk-std-hmac``); the hex signature run through the
  percent-encoder (``sdk-encoded-signature``); repay-debt's params encoded by the
  transport instead of the query ``repay_debt`` builds beside them (``sdk-unencoded``);
  asset codes and lists checked by their regular expressions on every call instead of
  remembered (``sdk-unremembered-assets``); amounts checked and formatted on every call
  (``sdk-unremembered-amounts``); the result built by the dataclass's
  ``__init__`` instead of its slots filled (``sdk-init-result``);
* each request's URL left to compute its host and port itself, as yarl does for a new
  URL object (``sdk-uncached-authority``);
* a fast path the SDK does without, put back to measure what it would save: URLs from
  yarl's private ``from_parts_uncached`` (``sdk-private-url``);
* the package at another git revision (``--rev REV``: ``git archive`` of
  ``binance_papi_async`` into a temporary directory, imported under another name),
  run beside the working tree's.

Every repeat runs every variant back to back in a rotating order, each after a warm-up;
the report is the median CPU µs per call of this process, the quartiles of the ratios to
the first variant paired by repeat, and their median (pairing cancels drifts of a
shared machine).  Decide on paired ratios from many short repeats: on a noisy VM one
run of a few thousand calls moves by 1 to 2 %.  Nothing leaves 127.0.0.1.

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
from yarl import URL

from binance_papi_async import _params, signing
from binance_papi_async._decode import to_bool_or_none, to_decimal, to_str, to_strs, to_time
from binance_papi_async._http import url as http_url
from binance_papi_async.api import margin as margin_api
from binance_papi_async.endpoints import REPAY_DEBT, Budget
from binance_papi_async.models import RepayDebtResult
from binance_papi_async.ratelimit import BudgetLimit, RateLimiter, Reservation
from binance_papi_async.signing import HmacSigner

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
    per request (as the floor has), beside the client's own deadlines."""
    client = bc.SdkClient(url, 64)
    transport = client.client._transport
    timeout = aiohttp.ClientTimeout(total=60, connect=60)
    without_key, with_key = transport._send_options
    transport._send_options = (
        {**without_key, "timeout": timeout},
        {**with_key, "timeout": timeout},
    )
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


def sdk_at_revision(rev: str) -> Factory:
    """The factory of ``sdk-rev``: the SDK as it was at git revision ``rev``."""
    return _sdk_at(_package_at(rev))


def _encode_uncached(params: Any) -> str:
    """``encode_params`` without its cache: every name and value through the encoder."""
    encode = signing._encode
    return "&".join([f"{encode(k)}={encode(v)}" for k, v in params.items()])


def _sdk_uncached_encoding(url: str) -> Any:
    return _with_patches(bc.SdkClient(url, 64), (http_url, "encode_params", _encode_uncached))


class _StdHmacSigner:
    """HMAC-SHA256 through the standard library's ``hmac``: the key's ``hmac.HMAC`` object
    built once and copied per call."""

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


class _SubclassedHmacSigner(HmacSigner):
    """``HmacSigner`` under another type: ``signed_query`` percent-encodes its signature."""

    __slots__ = ()


def _sdk_encoded_signature(url: str) -> Any:
    client = bc.SdkClient(url, 64)
    client.client._transport.signer = _SubclassedHmacSigner(API_SECRET)
    return client


def _sdk_unencoded(url: str) -> Any:
    """``repay_debt``'s checks, its params then encoded by the transport (``encode_params``)
    instead of the query it builds beside them."""
    client = bc.SdkClient(url, 64)
    transport = client.client._transport
    amount, assets = Decimal(bc.AMOUNT), list(bc.REPAY_ASSETS)

    async def call() -> Any:
        params = {"asset": _params.check_asset(bc.ASSET)}
        params["amount"] = _params.positive_decimal_wire(amount, "amount")
        params["specifyRepayAssets"] = _params.check_assets(assets, "specify_repay_assets")
        return await transport.request(REPAY_DEBT, params, parse=RepayDebtResult.from_json)

    client.call = call
    return client


def _check_asset_every_time(value: object, name: str = "asset") -> str:
    if type(value) is str and _params._ASSET_RE.fullmatch(value):
        return value
    return _params.check_asset(value, name)  # raises


def _sdk_unremembered_assets(url: str) -> Any:
    return _with_patches(
        bc.SdkClient(url, 64),
        (margin_api, "check_asset", _check_asset_every_time),
        (margin_api, "check_assets", _params._check_assets),
    )


class _Forgetful(set[str]):
    """A set that remembers nothing: every amount goes through the checks."""

    def __contains__(self, item: object) -> bool:
        return False

    def add(self, item: str) -> None:
        pass


def _sdk_unremembered_amounts(url: str) -> Any:
    return _with_patches(bc.SdkClient(url, 64), (_params, "_valid_amounts", _Forgetful()))


def _result_by_init(d: Any) -> RepayDebtResult:
    """Repay-debt's parser through the dataclass's ``__init__``."""
    return RepayDebtResult(
        asset=to_str(d["asset"]),
        amount=to_decimal(d["amount"]),
        specify_repay_assets=to_strs(d.get("specifyRepayAssets")),
        update_time=to_time(d["updateTime"]),
        success=to_bool_or_none(d.get("success")) is True,
        raw=d,
    )


def _sdk_init_result(url: str) -> Any:
    return _with_patches(bc.SdkClient(url, 64), (margin_api, "_repay_debt_result", _result_by_init))


class _PrivateUrlBase(http_url.BaseUrl):
    """URLs from yarl's private ``from_parts_uncached`` instead of ``URL.build``."""

    __slots__ = ()

    def url(self, path: str, query: str) -> URL:
        from yarl._url import from_parts_uncached

        url: URL = from_parts_uncached(self.scheme, self.authority, self.path + path, query, "")
        return url


def _sdk_uncached_authority(url: str) -> Any:
    """Each request's URL computes its host and port itself (nothing copied into it)."""
    client = bc.SdkClient(url, 64)
    client.client._transport._base.cache = None
    return client


def _sdk_private_url(url: str) -> Any:
    client = bc.SdkClient(url, 64)
    client.client._transport._base = _PrivateUrlBase(url)
    return client


def _with_patches(client: Any, *patches: tuple[object, str, object]) -> Any:
    """``client``, to be measured with these module attributes set (see ``_patched``)."""
    client.patches = patches
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
    "sdk-uncached-encoding": _sdk_uncached_encoding,
    "sdk-std-hmac": _sdk_std_hmac,
    "sdk-encoded-signature": _sdk_encoded_signature,
    "sdk-unencoded": _sdk_unencoded,
    "sdk-unremembered-assets": _sdk_unremembered_assets,
    "sdk-unremembered-amounts": _sdk_unremembered_amounts,
    "sdk-init-result": _sdk_init_result,
    "sdk-private-url": _sdk_private_url,
    "sdk-uncached-authority": _sdk_uncached_authority,
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
        f"paired / {names[0]}: [quartiles] median"
    ]
    for name in names:
        ratios = [a / b for a, b in zip(samples[name], base, strict=True)]
        paired = statistics.median(ratios)
        low, _, high = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else [paired] * 3
        median = statistics.median(samples[name])
        lines.append(f"{name:<24} {median:8.1f} µs/call   [{low:.3f} {high:.3f}]  {paired:6.3f}")
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
        factories["sdk-rev"] = sdk_at_revision(args.rev)
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
