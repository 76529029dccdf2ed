"""Golden signing vectors and the percent-encoding rules."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import quote, unquote

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from hypothesis import given
from hypothesis import strategies as st

from binance_papi_async import ConfigurationError, Ed25519Signer, HmacSigner, RsaSigner, signing
from binance_papi_async.signing import (
    encode_params,
    load_private_key,
    mask_key,
    percent_encode,
    signed_query,
)

BINANCE_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
BINANCE_PAYLOAD = (
    "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
    "&recvWindow=5000&timestamp=1499827319559"
)
BINANCE_SIGNATURE = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"


def test_binance_public_hmac_example() -> None:
    assert HmacSigner(BINANCE_SECRET).sign(BINANCE_PAYLOAD.encode()) == BINANCE_SIGNATURE


def test_binance_example_rebuilt_from_params_is_byte_identical() -> None:
    params = {
        "symbol": "LTCBTC",
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "1",
        "price": "0.1",
        "recvWindow": "5000",
        "timestamp": "1499827319559",
    }
    query = encode_params(params)
    assert query == BINANCE_PAYLOAD
    assert signed_query(query, HmacSigner(BINANCE_SECRET)) == (
        f"{BINANCE_PAYLOAD}&signature={BINANCE_SIGNATURE}"
    )


def test_hmac_key_state_is_reused_without_mixing_calls() -> None:
    signer = HmacSigner(BINANCE_SECRET)
    first = signer.sign(b"a=1")
    assert signer.sign(BINANCE_PAYLOAD.encode()) == BINANCE_SIGNATURE
    assert signer.sign(b"a=1") == first


@given(st.binary(min_size=1, max_size=150), st.binary(max_size=300))
def test_hmac_signer_is_rfc_2104_hmac_sha256(secret: bytes, payload: bytes) -> None:
    # Keys longer than SHA-256's 64-byte block are hashed first: covered by max_size=150.
    expected = hmac.new(secret, payload, hashlib.sha256).hexdigest()
    assert HmacSigner(secret).sign(payload) == expected


def test_signature_covers_query_then_body_concatenated() -> None:
    signer = HmacSigner("s")
    expected = hmac.new(b"s", b"a=1b=2", hashlib.sha256).hexdigest()
    assert signed_query("a=1", signer, body="b=2") == f"a=1&signature={expected}"


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [
        ("USDT,BTC", "USDT%2CBTC"),
        ("a b", "a%20b"),
        ("1+1", "1%2B1"),
        ("me@x", "me%40x"),
        ("a*b", "a%2Ab"),
        ("100%", "100%25"),
        ("a&b=c", "a%26b%3Dc"),
        ("这是测试币456", "%E8%BF%99%E6%98%AF%E6%B5%8B%E8%AF%95%E5%B8%81456"),
        ("Az09-_.~", "Az09-_.~"),
        ("/?#[]!$'()", "%2F%3F%23%5B%5D%21%24%27%28%29"),
    ],
)
def test_percent_encoding_rfc3986(raw: str, encoded: str) -> None:
    assert percent_encode(raw) == encoded


@given(st.lists(st.text(max_size=140), max_size=8))
def test_encodings_from_the_cache_equal_the_encoder(values: list[str]) -> None:
    for value in values * 2:  # the second time round, from the cache where it was kept
        assert percent_encode(value) == quote(value, safe="")
        assert encode_params({value: value}) == f"{quote(value, safe='')}={quote(value, safe='')}"


def test_the_encoding_cache_is_bounded() -> None:
    signing._encoded.clear()
    long = "x" * (signing._CACHE_MAX_LEN + 1)
    assert percent_encode(long) == long and long not in signing._encoded
    for i in range(signing._CACHE_SIZE + 1):
        percent_encode(f"v{i}")
    assert 0 < len(signing._encoded) <= signing._CACHE_SIZE  # emptied when full, then refilled


def test_an_api_key_shows_its_ends_only() -> None:
    assert mask_key("abcd0123456789wxyz") == "abcd...wxyz"
    assert mask_key("short-key") == "****"


def test_signature_is_over_the_encoded_bytes() -> None:
    signer = HmacSigner(BINANCE_SECRET)
    query = encode_params({"asset": "BNB", "specifyRepayAssets": "USDT,BTC", "memo": "a b+@*%&="})
    assert query == "asset=BNB&specifyRepayAssets=USDT%2CBTC&memo=a%20b%2B%40%2A%25%26%3D"
    expected = hmac.new(BINANCE_SECRET.encode(), query.encode(), hashlib.sha256).hexdigest()
    assert signed_query(query, signer).endswith(f"&signature={expected}")


@given(st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=20), max_size=6))
def test_encoding_round_trips_and_only_unreserved_stay(params: dict[str, str]) -> None:
    query = encode_params(params)
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~%=&")
    assert set(query) <= allowed
    pairs = [p.split("=") for p in query.split("&")] if params else []
    assert {unquote(k): unquote(v) for k, v in pairs} == params


def test_ed25519_signature_verifies_with_public_key() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    signer = load_private_key(pem)
    assert isinstance(signer, Ed25519Signer)
    sig = signer.sign(BINANCE_PAYLOAD.encode())
    key.public_key().verify(base64.b64decode(sig), BINANCE_PAYLOAD.encode())
    # base64 characters + / = are percent-encoded when appended.
    assert "+" not in signed_query("a=1", signer).split("signature=")[1]


def test_rsa_signature_verifies_with_public_key() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw"),
    )
    signer = load_private_key(pem.decode(), password="pw")
    assert isinstance(signer, RsaSigner)
    sig = signer.sign(BINANCE_PAYLOAD.encode())
    key.public_key().verify(
        base64.b64decode(sig), BINANCE_PAYLOAD.encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    assert "key=<hidden>" in repr(signer)


def test_bad_pem_is_a_configuration_error_without_key_material() -> None:
    secret_looking = "-----BEGIN PRIVATE KEY-----\nTOPSECRETMATERIAL\n-----END PRIVATE KEY-----\n"
    with pytest.raises(ConfigurationError) as info:
        load_private_key(secret_looking)
    assert "TOPSECRET" not in str(info.value)


def test_unsupported_key_type_refused() -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(ConfigurationError, match="RSA or Ed25519"):
        load_private_key(pem)


def test_hmac_signer_hides_secret_and_refuses_empty() -> None:
    assert BINANCE_SECRET not in repr(HmacSigner(BINANCE_SECRET))
    with pytest.raises(ConfigurationError):
        HmacSigner("")
