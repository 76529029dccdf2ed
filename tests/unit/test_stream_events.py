"""User-stream events parsed from JSON (the examples of spec/papi/USER_STREAM.md, the
variants Binance sends, malformed events), the listen-key endpoints and the stream URL;
no sockets."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import pytest

from binance_papi_async.endpoints import BY_ROUTE, Security
from binance_papi_async.stream import DEFAULT_STREAM_URL, stream_base_url
from binance_papi_async.stream_events import (
    AccountConfigUpdate,
    AccountUpdate,
    AlgoUpdate,
    BalanceUpdate,
    ConditionalOrderTradeUpdate,
    ExecutionReport,
    LiabilityChange,
    ListenKeyExpired,
    OpenOrderLoss,
    OrderTradeUpdate,
    OutboundAccountPosition,
    RiskLevelChange,
    UnknownEvent,
    parse_event,
)

LISTEN = "/papi/v1/listenKey"

# -- parsers: the examples of spec/papi/USER_STREAM.md ---------------------------------

ORDER_TRADE_UPDATE: dict[str, Any] = {
    "e": "ORDER_TRADE_UPDATE", "fs": "UM", "E": 1568879465651, "T": 1568879465650, "i": "",
    "o": {"s": "BTCUSDT", "c": "TEST", "S": "SELL", "o": "MARKET", "f": "GTC", "q": "0.001",
          "p": "0", "ap": "0", "sp": "0", "x": "NEW", "X": "NEW", "i": 8886774, "l": "0",
          "z": "0", "L": "0", "N": "USDT", "n": "0", "T": 1568879465650, "t": 0, "b": "0",
          "a": "9.91", "m": False, "R": False, "ps": "LONG", "rp": "0", "st": "C_TAKE_PROFIT",
          "si": 12893, "V": "EXPIRE_TAKER", "gtd": 0},
}  # fmt: skip
CONDITIONAL: dict[str, Any] = {
    "e": "CONDITIONAL_ORDER_TRADE_UPDATE", "T": 1669262908216, "E": 1669262908218, "fs": "UM",
    "so": {"s": "BTCUSDT", "c": "TEST", "si": 176057039, "S": "SELL",
           "st": "TRAILING_STOP_MARKET", "f": "GTC", "q": "0.001", "p": "0", "sp": "7103.04",
           "os": "NEW", "T": 1568879465650, "ut": 1669262908216, "R": False, "wt": "MARK_PRICE",
           "ps": "LONG", "cp": False, "AP": "7476.89", "cr": "5.0", "i": 8886774,
           "V": "EXPIRE_TAKER", "gtd": 0},
}  # fmt: skip
ALGO: dict[str, Any] = {
    "e": "ALGO_UPDATE", "T": 1750515742297, "E": 1750515742303, "fs": "UM",
    "ao": {"caid": "Q5xaq5EG", "aid": 2148719, "at": "CONDITIONAL", "o": "TAKE_PROFIT",
           "s": "BNBUSDT", "S": "SELL", "ps": "BOTH", "f": "GTC", "q": "0.01", "X": "CANCELED",
           "ai": "", "ap": "0", "aq": "0", "act": "0", "tp": "750", "p": "750",
           "V": "EXPIRE_MAKER", "wt": "CONTRACT_PRICE", "pm": "NONE", "cp": False, "pP": False,
           "R": False, "tt": 0, "gtd": 0, "rm": "", "ia": False},
}  # fmt: skip
ACCOUNT_UPDATE: dict[str, Any] = {
    "e": "ACCOUNT_UPDATE", "fs": "UM", "E": 1564745798939, "T": 1564745798938, "i": "",
    "a": {"m": "ORDER",
          "B": [{"a": "USDT", "wb": "122624.12345678", "cw": "100.12345678",
                 "bc": "50.12345678"}],
          "P": [{"s": "BTCUSDT", "pa": "20", "ep": "6563.66500", "cr": "0", "up": "2850.21200",
                 "ps": "LONG", "bep": "0.00000"}]},
}  # fmt: skip
ACCOUNT_CONFIG: dict[str, Any] = {
    "e": "ACCOUNT_CONFIG_UPDATE", "fs": "UM", "E": 1611646737479, "T": 1611646737476,
    "ac": {"s": "BTCUSDT", "l": 25},
}  # fmt: skip
EXECUTION_REPORT: dict[str, Any] = {
    "e": "executionReport", "E": 1499405658658, "s": "ETHBTC", "c": "mUvoqJxF", "S": "BUY",
    "o": "LIMIT", "f": "GTC", "q": "1.00000000", "p": "0.10264410", "P": "0.00000000",
    "F": "0.00000000", "g": -1, "C": "", "x": "NEW", "X": "NEW", "r": "NONE", "i": 4293153,
    "l": "0.00000000", "z": "0.00000000", "L": "0.00000000", "n": "0", "N": None,
    "T": 1499405658657, "t": -1, "I": 8641984, "w": True, "m": False, "O": 1499405658657,
    "Z": "0.00000000", "Y": "0.00000000", "Q": "0.00000000", "W": 1499405658657, "V": "NONE",
}  # fmt: skip
OUTBOUND: dict[str, Any] = {
    "e": "outboundAccountPosition", "E": 1564034571105, "u": 1564034571073, "U": 1027053479517,
    "B": [{"a": "ETH", "f": "10000.000000", "l": "0.000000"}],
}  # fmt: skip
BALANCE_UPDATE: dict[str, Any] = {
    "e": "balanceUpdate", "E": 1573200697110, "a": "BTC", "d": "100.00000000",
    "U": 1027053479517, "T": 1573200697068,
}  # fmt: skip
LIABILITY: dict[str, Any] = {
    "e": "liabilityChange", "E": 1573200697110, "a": "BTC", "t": "BORROW",
    "T": 1352286576452864727, "p": "1.03453430", "i": "0", "l": "1.03476851",
}  # fmt: skip
OPEN_ORDER_LOSS: dict[str, Any] = {
    "e": "openOrderLoss", "E": 1678710578788,
    "O": [{"a": "BUSD", "o": "-0.1232313"}, {"a": "BNB", "o": "-12.1232313"}],
}  # fmt: skip
RISK: dict[str, Any] = {
    "e": "riskLevelChange", "E": 1587727187525, "u": "1.99999999", "s": "MARGIN_CALL",
    "eq": "30.23416728", "ae": "30.23416728", "m": "15.11708371",
}  # fmt: skip
EXPIRED: dict[str, Any] = {"e": "listenKeyExpired", "E": 1576653824250}

DOC_EXAMPLES: list[tuple[dict[str, Any], type]] = [
    (ORDER_TRADE_UPDATE, OrderTradeUpdate),
    (CONDITIONAL, ConditionalOrderTradeUpdate),
    (ALGO, AlgoUpdate),
    (ACCOUNT_UPDATE, AccountUpdate),
    (ACCOUNT_CONFIG, AccountConfigUpdate),
    (EXECUTION_REPORT, ExecutionReport),
    (OUTBOUND, OutboundAccountPosition),
    (BALANCE_UPDATE, BalanceUpdate),
    (LIABILITY, LiabilityChange),
    (OPEN_ORDER_LOSS, OpenOrderLoss),
    (RISK, RiskLevelChange),
    (EXPIRED, ListenKeyExpired),
]


def ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=timezone.utc)


@pytest.mark.parametrize(("data", "cls"), DOC_EXAMPLES, ids=[c.__name__ for _, c in DOC_EXAMPLES])
def test_every_doc_example_parses_to_its_class(data: dict[str, Any], cls: type) -> None:
    event = parse_event(data)
    assert type(event) is cls
    assert event.raw is data
    assert event.event_type == data["e"]
    assert event.event_time == ms(data["E"]) and event.event_time.tzinfo is not None
    with pytest.raises(AttributeError):
        event.event_type = "x"  # type: ignore[misc]  # frozen
    assert not hasattr(event, "__dict__")  # slotted


def test_order_trade_update_fields() -> None:
    event = parse_event(ORDER_TRADE_UPDATE)
    assert isinstance(event, OrderTradeUpdate)
    assert (event.business_line, event.symbol, event.side, event.status) == (
        "UM",
        "BTCUSDT",
        "SELL",
        "NEW",
    )
    assert event.quantity == Decimal("0.001") and isinstance(event.asks_notional, Decimal)
    assert event.asks_notional == Decimal("9.91")
    assert (event.order_id, event.trade_id, event.strategy_id) == (8886774, 0, 12893)
    assert event.commission_asset == "USDT" and event.commission == 0
    assert event.good_till is None  # gtd 0: not GTD
    assert event.modify_id is None
    # Commission fields are absent when there is no commission.
    order: dict[str, Any] = dict(ORDER_TRADE_UPDATE["o"])
    del order["N"], order["n"]
    no_fee = {**ORDER_TRADE_UPDATE, "o": order}
    parsed = parse_event(no_fee)
    assert isinstance(parsed, OrderTradeUpdate) and parsed.commission is None


def test_money_is_decimal_and_ids_are_int() -> None:
    liability = parse_event(LIABILITY)
    assert isinstance(liability, LiabilityChange)
    assert liability.transaction_id == 1352286576452864727  # 19 digits, exact
    assert (liability.principal, liability.interest, liability.total_liability) == (
        Decimal("1.03453430"),
        Decimal("0"),
        Decimal("1.03476851"),
    )
    update = parse_event(ACCOUNT_UPDATE)
    assert isinstance(update, AccountUpdate)
    assert update.balances[0].wallet_balance == Decimal("122624.12345678")
    assert update.balances[0].balance_change == Decimal("50.12345678")
    assert update.positions[0].position_amount == Decimal("20")
    report = parse_event(EXECUTION_REPORT)
    assert isinstance(report, ExecutionReport)
    assert report.commission_asset is None and report.trade_id == -1 and report.is_on_book
    outbound = parse_event(OUTBOUND)
    assert isinstance(outbound, OutboundAccountPosition)
    assert outbound.balances[0].free == Decimal("10000") and outbound.update_id == 1027053479517
    loss = parse_event(OPEN_ORDER_LOSS)
    assert isinstance(loss, OpenOrderLoss)
    assert [e.amount for e in loss.entries] == [Decimal("-0.1232313"), Decimal("-12.1232313")]
    config = parse_event(ACCOUNT_CONFIG)
    assert isinstance(config, AccountConfigUpdate) and config.leverage == 25
    delta = parse_event(BALANCE_UPDATE)
    assert isinstance(delta, BalanceUpdate) and delta.delta == Decimal("100")


def test_variants_binance_uses() -> None:
    algo_fapi_shape = {**ALGO, "o": ALGO["ao"]}
    del algo_fapi_shape["ao"]
    algo = parse_event(algo_fapi_shape)
    assert isinstance(algo, AlgoUpdate) and algo.algo_id == 2148719
    assert algo.actual_order_id == ""  # a string, empty until triggered
    risk = parse_event({**RISK, "e": "RISK_LEVEL_CHANGE"})  # the doc heading's spelling
    assert isinstance(risk, RiskLevelChange) and risk.uni_mmr == Decimal("1.99999999")
    expired = parse_event({"e": "listenKeyExpired", "E": "1576653824250", "listenKey": "k" * 64})
    assert isinstance(expired, ListenKeyExpired)  # E as a string is accepted too
    assert expired.listen_key == "k" * 64 and "k" * 64 not in repr(expired)


def test_unknown_and_malformed_events_never_raise() -> None:
    unknown = parse_event({"e": "TRADE_LITE", "E": 1, "x": 1})
    assert isinstance(unknown, UnknownEvent)
    assert (unknown.event_type, unknown.error, unknown.raw["x"]) == ("TRADE_LITE", None, 1)
    assert isinstance(parse_event({}), UnknownEvent)
    broken = parse_event({"e": "balanceUpdate", "E": 1, "a": "BTC", "d": "not a number"})
    assert isinstance(broken, UnknownEvent)
    assert broken.event_type == "balanceUpdate" and broken.error is not None
    assert isinstance(parse_event({"e": "liabilityChange", "E": "x"}), UnknownEvent)


# -- the listen-key endpoints and the stream URL -------------------------------------------


def test_listen_key_endpoints_are_key_only_weight_one() -> None:
    for method in ("POST", "PUT", "DELETE"):
        spec = BY_ROUTE[(method, LISTEN)]
        assert spec.security is Security.USER_STREAM and not spec.signed
        assert spec.weight == 1


def test_stream_url_for_real_and_loopback_hosts() -> None:
    assert stream_base_url("https://papi.binance.com") == DEFAULT_STREAM_URL
    assert stream_base_url("http://127.0.0.1:8765") == "ws://127.0.0.1:8765/pm"
