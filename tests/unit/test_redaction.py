"""What an error keeps of a server's answer: URL queries and signatures redacted."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from binance_papi_async import BadRequestError, ExecutionStatusUnknown
from binance_papi_async.errors import from_response, redact_body, redact_text

SIG = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("https://h:1/papi/v1/order?timestamp=1&signature=ab", "https://h:1/papi/v1/order?<redacted>"),
        ("/papi/v1/order?timestamp=1", "/papi/v1/order?<redacted>"),
        ("//proxy/papi?x=1 then", "//proxy/papi?<redacted> then"),
        ("0; url=/p?q=1", "0; url=/p?<redacted>"),
        ("<http://h/p?q=1>; rel=next", "<http://h/p?<redacted>>; rel=next"),
        ("a=1&signature=ab12&b=2", "a=1&signature=<redacted>&b=2"),
        ("SIGNATURE%3Dab12", "SIGNATURE%3D<redacted>"),
        ('{"signature": "ab/+="}', '{"signature": "<redacted>"}'),
        ("Parameter 'signature' was not sent.", "Parameter 'signature' was not sent."),
        ("text/html; charset=utf-8", "text/html; charset=utf-8"),
        ("Is it? Yes", "Is it? Yes"),
    ],
)  # fmt: skip
def test_redact_text_hides_queries_and_signatures_only(text: str, shown: str) -> None:
    assert redact_text(text) == shown


@given(st.text(max_size=40), st.text(max_size=40))
def test_no_signature_survives_redaction(before: str, after: str) -> None:
    text = f"{before}signature={SIG}{after}"
    assert SIG not in redact_text(text)
    assert SIG.encode() not in redact_body(text.encode("utf-8", "surrogatepass"))


def test_a_redirect_error_keeps_its_headers_redacted() -> None:
    location = f"https://evil.example/papi/v1/order?timestamp=1&signature={SIG}"
    for method in ("GET", "POST"):
        error = from_response(
            status=302,
            headers={"Location": location, "Server": "nginx"},
            body=f'<a href="{location}">moved</a>'.encode(),
            method=method,
            path="/papi/v1/order",
            params={"symbol": "BTCUSDT", "signature": SIG},
            sent_at=0.0,
        )
        shown = f"{error} {error!r} {vars(error)}"
        assert SIG not in shown
        assert getattr(error, "headers", None) == {
            "Location": "https://evil.example/papi/v1/order?<redacted>",
            "Server": "nginx",
        }
        if isinstance(error, ExecutionStatusUnknown):
            assert error.params == {"symbol": "BTCUSDT"}


def test_a_binance_error_body_is_kept_as_sent() -> None:
    body = b'{"code":-2010,"msg":"Account has insufficient balance for requested action."}'
    error = BadRequestError(
        status=400, code=-2010, msg="Account has insufficient balance for requested action.",
        method="POST", path="/papi/v1/um/order", headers={}, body=body,
    )  # fmt: skip
    assert error.body is body or error.body == body
    assert error.msg == "Account has insufficient balance for requested action."
