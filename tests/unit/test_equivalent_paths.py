"""Each shortcut of the request path gives what the general path gives.

The shortcuts kept for their measured gain (the figure sits beside each in the code):
the signer's own HMAC-SHA256 states, the hex signature appended without the
percent-encoder, repay-debt's query built beside its params, the remembered asset codes,
lists and amounts, the result's slots filled without ``__init__``, URLs made from their
encoded parts by yarl's ``from_parts_uncached`` with their host and port copied in, and
the connection gate's release with nobody waiting.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import string
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from binance_papi_async import FakeClock, PortfolioMarginClient, TimeSync, ValidationError
from binance_papi_async._http.gate import Gate
from binance_papi_async._http.url import (
    AUTHORITY_PROPERTIES,
    BaseUrl,
    build_url,
    query_string,
    same_url,
    url_from_parts,
)
from binance_papi_async._params import (
    _ASSET_RE,
    _check_assets,
    _valid_amounts,
    check_asset,
    check_assets,
    positive_decimal_wire,
)
from binance_papi_async.endpoints import REPAY_DEBT
from binance_papi_async.models import RepayDebtResult
from binance_papi_async.signing import (
    HmacSigner,
    encode_params,
    encode_signature,
    percent_encode,
    signed_query,
)

ASSET_CODES = st.text(string.ascii_uppercase + string.digits, min_size=1, max_size=8)
# Mostly asset codes, sometimes not: lower case, commas, spaces, empty, other types.
MAYBE_ASSETS = st.one_of(
    ASSET_CODES, st.text(string.ascii_letters + string.digits + ", ", max_size=6), st.integers()
)


SECRETS = st.one_of(
    st.binary(min_size=1, max_size=200),  # taken as given, longer than a block or not
    st.text(string.ascii_letters + string.digits + "-_+/=", min_size=1, max_size=100),
)


@given(secret=SECRETS)
@settings(max_examples=200)
def test_hmac_signer_equals_the_standard_library(secret: str | bytes) -> None:
    key = secret.encode() if isinstance(secret, str) else secret
    signer = HmacSigner(secret)
    for payload in (b"", b"timestamp=1", key, b"x" * 200):
        assert signer.sign(payload) == hmac.new(key, payload, hashlib.sha256).hexdigest()


@given(query=st.text(min_size=0, max_size=60), body=st.text(max_size=20))
def test_hmac_signature_is_appended_as_the_percent_encoder_would(query: str, body: str) -> None:
    signer = HmacSigner("equivalence-secret")
    signature = encode_signature(signer.sign((query + body).encode()))
    expected = f"{query}&signature={signature}" if query else f"signature={signature}"
    assert signed_query(query, signer, body) == expected


def _checked(check: Any, *args: Any) -> tuple[str, Any]:
    try:
        return "ok", check(*args)
    except ValidationError as exc:
        return "error", str(exc)


def _check_asset_every_time(value: object) -> str:
    if type(value) is str and _ASSET_RE.fullmatch(value):
        return value
    raise ValidationError(
        f"asset must be an asset code of uppercase letters and digits, got {value!r}",
        param="asset",
    )


@given(value=MAYBE_ASSETS)
def test_remembered_asset_codes_check_as_the_regular_expression(value: object) -> None:
    expected = _checked(_check_asset_every_time, value)
    assert _checked(check_asset, value) == expected
    assert _checked(check_asset, value) == expected  # remembered the second time


@given(
    items=st.lists(MAYBE_ASSETS, max_size=4),
    kind=st.sampled_from([list, tuple]),
)
def test_remembered_asset_lists_check_as_the_general_path(items: list[object], kind: type) -> None:
    value = kind(items)
    expected = _checked(_check_assets, value, "assets")
    assert _checked(check_assets, value, "assets") == expected
    assert _checked(check_assets, value, "assets") == expected  # remembered the second time


def test_an_unhashable_item_is_refused_as_by_the_general_path() -> None:
    expected = _checked(_check_assets, ["BTC", ["USDT"]], "assets")
    assert expected[0] == "error"
    assert _checked(check_assets, ["BTC", ["USDT"]], "assets") == expected


DECIMALS = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True),
    st.decimals(min_value=Decimal("1e-20"), max_value=Decimal("1e20")),
    st.sampled_from(["1E-8", "1E+2", "0.10", "100", "-1", "0", "0E-30", "1E-19", "1E+18"]).map(
        Decimal
    ),
)


@given(value=DECIMALS)
def test_remembered_amounts_check_as_the_general_path(value: Decimal) -> None:
    _valid_amounts.clear()
    general = _checked(positive_decimal_wire, value, "amount")
    again = _checked(positive_decimal_wire, Decimal(str(value)), "amount")  # remembered
    assert again == general
    if general[0] == "ok":
        assert str(value) not in _valid_amounts or general[1] == str(value)


class _Answer:
    status = 200
    closed = True
    headers = CIMultiDictProxy(CIMultiDict({"Content-Type": "application/json"}))

    def __init__(self, body: bytes) -> None:
        self._body = body
        self.content_length = len(body)

    async def read(self) -> bytes:
        return self._body

    def release(self) -> None:  # pragma: no cover - the answer is read to the end
        pass


class _RecordingSession:
    """Records the URL of each request; answers a repay-debt body."""

    closed = False

    def __init__(self) -> None:
        self.urls: list[Any] = []

    async def request(self, method: str, url: Any, **options: Any) -> _Answer:
        self.urls.append(url)
        body = {"asset": "BNB", "amount": "1", "updateTime": 1, "success": True}
        return _Answer(orjson.dumps(body))

    async def close(self) -> None:
        self.closed = True


AMOUNTS = st.one_of(
    st.decimals(min_value=Decimal("1e-8"), max_value=Decimal("1e12"), places=8),
    st.integers(min_value=1, max_value=10**12),
    st.decimals(min_value=Decimal("0.001"), max_value=Decimal(10**6), places=3).map(str),
)


@given(
    asset=ASSET_CODES,
    amount=AMOUNTS,
    assets=st.none() | st.lists(ASSET_CODES, min_size=1, max_size=3, unique=True),
    recv_window=st.none() | st.integers(min_value=1, max_value=60_000),
    client_recv_window=st.none() | st.integers(min_value=1, max_value=60_000),
)
@settings(max_examples=150, deadline=None)
def test_repay_debts_own_query_is_what_the_transport_would_encode(
    asset: str,
    amount: Decimal | int | str,
    assets: list[str] | None,
    recv_window: int | None,
    client_recv_window: int | None,
) -> None:
    clock = FakeClock(1_700_000_000.5)

    async def run() -> tuple[str, dict[str, str]]:
        client = PortfolioMarginClient(
            api_key="equivalence-key",
            api_secret="equivalence-secret",
            base_url="http://127.0.0.1:9",
            clock=clock,
            limiter=False,
            time_sync=TimeSync(enabled=False),
            recv_window=client_recv_window,
        )
        session = _RecordingSession()
        transport = client._transport
        transport._session = session  # type: ignore[assignment]
        sent: dict[str, dict[str, str]] = {}
        request = transport.request

        async def recording(spec: Any, params: dict[str, str], **options: Any) -> Any:
            sent["params"] = params
            return await request(spec, params, **options)

        transport.request = recording  # type: ignore[method-assign]
        async with client:
            await client.margin.repay_debt(
                asset, amount, specify_repay_assets=assets, recv_window=recv_window
            )
        return session.urls[0].raw_query_string, sent["params"]

    query, params = asyncio.run(run())
    general = {k: v for k, v in params.items() if k != "timestamp"}
    window = None if client_recv_window is None else str(client_recv_window)
    expected = query_string(REPAY_DEBT, general, HmacSigner("equivalence-secret"), clock, window)
    assert query == expected
    assert encode_params(general) == "&".join(
        f"{percent_encode(k)}={percent_encode(v)}" for k, v in general.items()
    )


TIMES = st.integers(min_value=1, max_value=253_402_300_799_999)


@given(
    asset=st.one_of(ASSET_CODES, st.integers(min_value=0, max_value=10**6)),
    amount=st.one_of(
        st.decimals(allow_nan=False, allow_infinity=False, places=8).map(str), st.integers()
    ),
    assets=st.none() | st.lists(ASSET_CODES, max_size=3),
    update_time=st.one_of(TIMES, TIMES.map(str)),
    success=st.sampled_from([True, False, None, "", "true", "false"]),
)
def test_repay_result_slots_filled_equal_the_dataclass_init(
    asset: object, amount: object, assets: object, update_time: object, success: object
) -> None:
    body: dict[str, Any] = {"asset": asset, "amount": amount, "updateTime": update_time}
    if assets is not None:
        body["specifyRepayAssets"] = assets
    if success is not None:
        body["success"] = success

    class Subclassed(RepayDebtResult):  # the general path: the dataclass's own __init__
        __slots__ = ()

    try:
        general = Subclassed.from_json(body)
    except (ValueError, TypeError) as exc:
        with pytest.raises(type(exc)):
            RepayDebtResult.from_json(body)
        return
    fast = RepayDebtResult.from_json(body)
    assert type(fast) is RepayDebtResult
    assert type(general) is Subclassed
    rebuilt = RepayDebtResult(**{n: getattr(general, n) for n in RepayDebtResult.__slots__})
    for name in RepayDebtResult.__slots__:
        assert getattr(fast, name) is getattr(rebuilt, name) or (
            getattr(fast, name) == getattr(rebuilt, name)
        )
    assert fast == rebuilt
    assert repr(fast) == repr(rebuilt)
    assert isinstance(fast.update_time, datetime)
    with pytest.raises(AttributeError):
        fast.asset = "X"  # type: ignore[misc]  # frozen like the general path's


# Encoded parts as the transport has them: a base URL's scheme and authority (a host name,
# IPv4 or IPv6 address, a port or none), a papi path, a query of unreserved characters,
# percent-escapes and separators (what encode_params and the signature produce).
AUTHORITIES = st.one_of(
    st.sampled_from(["papi.binance.com", "127.0.0.1", "localhost", "[::1]", "[2001:db8::7]"]),
    st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?(\.[a-z]{2,6}){0,2}", fullmatch=True),
).flatmap(lambda host: st.sampled_from([host, f"{host}:8080", f"{host}:443", f"{host}:1"]))
PATHS = st.from_regex(r"(/[A-Za-z0-9_-]{1,12}){1,5}", fullmatch=True)
QUERIES = st.lists(
    st.sampled_from(["a", "Z", "0", "-", "_", ".", "~", "%2C", "%20", "%25", "=", "&", "+"]),
    max_size=40,
).map("".join)


@given(scheme=st.sampled_from(["https", "http"]), authority=AUTHORITIES, path=PATHS, query=QUERIES)
@settings(max_examples=300)
def test_a_url_from_parts_is_what_url_build_makes(
    scheme: str, authority: str, path: str, query: str
) -> None:
    fast = url_from_parts(scheme, authority, path, query, "")
    slow = build_url(scheme, authority, path, query, "")
    assert same_url(fast, slow)
    text = f"{scheme}://{authority}{path}" + (f"?{query}" if query else "")
    assert same_url(fast, URL(text, encoded=True))
    assert fast.raw_query_string == query  # exactly the bytes that were signed


@given(scheme=st.sampled_from(["https", "http"]), authority=AUTHORITIES, path=PATHS, query=QUERIES)
@settings(max_examples=300)
def test_a_url_with_its_host_copied_in_is_what_yarl_computes(
    scheme: str, authority: str, path: str, query: str
) -> None:
    base = BaseUrl(f"{scheme}://{authority}")
    assert base.cache is not None  # yarl keeps a per-URL cache: the copy is in use
    fast = base.url(path, query)
    fresh = URL(f"{scheme}://{authority}{path}" + (f"?{query}" if query else ""), encoded=True)
    for name in AUTHORITY_PROPERTIES:
        assert getattr(fast, name) == getattr(fresh, name), name
    assert same_url(fast, fresh)


async def test_gate_release_with_nobody_waiting_is_the_semaphores() -> None:
    gate, semaphore = Gate(2), asyncio.Semaphore(2)
    for lock in (gate, semaphore):
        await lock.acquire()
        lock.release()
        lock.release()  # more than taken: a Semaphore's count simply grows
    assert gate._value == semaphore._value == 3
    assert gate.locked() is semaphore.locked() is False


async def test_gate_release_wakes_the_first_waiter_as_the_semaphores() -> None:
    order: dict[str, list[int]] = {}
    for name, lock in (("gate", Gate(1)), ("semaphore", asyncio.Semaphore(1))):
        woken: list[int] = []

        async def waiter(n: int, lock: asyncio.Semaphore = lock, woken: list[int] = woken) -> None:
            await lock.acquire()
            woken.append(n)

        await lock.acquire()
        tasks = [asyncio.create_task(waiter(n)) for n in range(3)]
        await asyncio.sleep(0)
        for _ in range(3):
            lock.release()
            await asyncio.sleep(0)
        await asyncio.gather(*tasks)
        order[name] = woken
        assert lock._value == 0
    assert order["gate"] == order["semaphore"] == [0, 1, 2]
