"""Request signing: HMAC-SHA256, RSA (PKCS#1 v1.5 / SHA-256) and Ed25519.

Binance signs ``totalParams``: the query string concatenated directly with the
request body.  Since 2026-01 Binance expects the *percent-encoded* payload to be
signed (RFC 3986, UTF-8, only ``A-Z a-z 0-9 - _ . ~`` left as is), so the SDK
builds the exact bytes it sends with :func:`encode_params` and signs those
bytes; the signature is appended last as ``&signature=...``.

A signer is any object with ``sign(payload: bytes) -> str`` (see :class:`Signer`).
Signers never reveal their key material in ``repr``.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol, runtime_checkable
from urllib.parse import quote

from .errors import ConfigurationError

if TYPE_CHECKING:  # pragma: no cover
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

__all__ = [
    "Ed25519Signer",
    "HmacSigner",
    "RsaSigner",
    "Signer",
    "encode_params",
    "encode_signature",
    "load_private_key",
    "percent_encode",
    "signed_query",
]

_UNRESERVED = re.compile(r"[A-Za-z0-9\-_.~]*")

# Parameter names and most values (assets, amounts, sides, symbols) repeat from call to
# call: their encodings are remembered.  Bounded: at most _CACHE_SIZE strings of at most
# _CACHE_MAX_LEN characters; the cache is emptied when full.  Signatures and timestamps,
# new on every call, never go through it (see encode_signature and _http.url).
# 4.7 % of the floor's CPU per call, c=32: bench_ab.py floor sdk sdk-uncached-encoding --repeats 30
_CACHE_SIZE = 4096
_CACHE_MAX_LEN = 128
_encoded: dict[str, str] = {}


def _encode(value: str) -> str:
    if _UNRESERVED.fullmatch(value):  # most values (assets, numbers) need no encoding
        return value
    return quote(value, safe="")


def percent_encode(value: str) -> str:
    """Percent-encode ``value`` as UTF-8 per RFC 3986: only ``A-Z a-z 0-9 - _ . ~`` stay as is."""
    encoded = _encoded.get(value)
    if encoded is None:
        encoded = _encode(value)
        if len(value) <= _CACHE_MAX_LEN:
            if len(_encoded) >= _CACHE_SIZE:
                _encoded.clear()
            _encoded[value] = encoded
    return encoded


def encode_params(params: Mapping[str, str]) -> str:
    """``k1=v1&k2=v2`` in the mapping's order, names and values percent-encoded."""
    cached = _encoded.get
    pairs = []
    for k, v in params.items():  # a loop, not a comprehension: no frame of its own
        pairs.append(f"{cached(k) or percent_encode(k)}={cached(v) or percent_encode(v)}")
    return "&".join(pairs)


def encode_signature(signature: str) -> str:
    """A signature as it goes in the query: hex as is, base64 percent-encoded (never cached)."""
    return _encode(signature)


@runtime_checkable
class Signer(Protocol):
    """Signs the exact payload bytes and returns the signature as sent (before URL-encoding)."""

    def sign(self, payload: bytes) -> str: ...


# HMAC (RFC 2104) over SHA-256 from hashlib's states: the inner and outer SHA-256 states
# (key XOR ipad, key XOR opad) are computed once and copied per call, which is all HMAC
# does per message, without the Python methods of an ``hmac.HMAC`` copy around them.
# 40,400 instr/call, 8 % of the floor's (bench_icount.py --stub sdk sdk-std-hmac),
# most of them OpenSSL copying an HMAC context; in time 1.7 µs per call against 2.9 (timeit).
_BLOCK_SIZE = 64  # SHA-256's block size in bytes
_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))


class HmacSigner:
    """HMAC-SHA256, hex digest: ``hmac.new(secret, payload, sha256).hexdigest()``, with the
    key's inner and outer SHA-256 states built once and copied per call."""

    __slots__ = ("_inner", "_outer")

    def __init__(self, secret: str | bytes) -> None:
        key = _hmac_key(secret)
        if len(key) > _BLOCK_SIZE:
            key = hashlib.sha256(key).digest()
        key = key.ljust(_BLOCK_SIZE, b"\0")
        self._inner = hashlib.sha256(key.translate(_IPAD))
        self._outer = hashlib.sha256(key.translate(_OPAD))

    def sign(self, payload: bytes) -> str:
        inner = self._inner.copy()
        inner.update(payload)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    def __repr__(self) -> str:
        return "HmacSigner(secret=<hidden>)"


def _hmac_key(secret: object) -> bytes:
    """The key bytes of an HMAC secret; :class:`ConfigurationError` for what cannot be one.

    A ``str`` is a secret as Binance shows it: a PEM block (an RSA or Ed25519 key, which
    signs as ``private_key=``) is refused, and so is surrounding whitespace (a newline
    read with it from a file), like the API key's.  ``bytes`` are the key itself, taken
    as given.  The messages never hold the secret.
    """
    if isinstance(secret, bytes):
        key = secret
    elif not isinstance(secret, str):
        raise ConfigurationError(f"api_secret must be a str, not {type(secret).__name__}")
    elif "-----BEGIN " in secret:
        raise ConfigurationError(
            "api_secret is a PEM key: pass an RSA or Ed25519 private key as private_key= "
            "(with its API key as api_key=); api_secret is the HMAC secret"
        )
    elif secret != secret.strip():
        raise ConfigurationError(
            "api_secret (or BINANCE_API_SECRET) has leading or trailing whitespace "
            "(a newline read with it from a file?): pass the secret exactly"
        )
    else:
        try:
            key = secret.encode()
        except UnicodeEncodeError:
            raise ConfigurationError("api_secret holds a character UTF-8 cannot encode") from None
    if not key:
        raise ConfigurationError("api_secret must not be empty")
    return key


class RsaSigner:
    """RSASSA-PKCS1-v1_5 with SHA-256, base64 (needs the ``crypto`` extra)."""

    __slots__ = ("_key",)

    def __init__(self, key: RSAPrivateKey) -> None:
        self._key = key

    def sign(self, payload: bytes) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        return base64.b64encode(
            self._key.sign(payload, padding.PKCS1v15(), hashes.SHA256())
        ).decode()

    def __repr__(self) -> str:
        return f"RsaSigner(key_size={self._key.key_size}, key=<hidden>)"


class Ed25519Signer:
    """Ed25519, base64 (needs the ``crypto`` extra)."""

    __slots__ = ("_key",)

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key

    def sign(self, payload: bytes) -> str:
        return base64.b64encode(self._key.sign(payload)).decode()

    def __repr__(self) -> str:
        return "Ed25519Signer(key=<hidden>)"


def load_private_key(pem: str | bytes, password: str | bytes | None = None) -> Signer:
    """A signer for an RSA or Ed25519 private key in PEM (PKCS#8 or traditional)."""
    try:
        from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
        from cryptography.hazmat.primitives.serialization import load_pem_private_key
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ConfigurationError(
            "RSA/Ed25519 keys need the 'cryptography' package: "
            "pip install 'binance-papi-async[crypto]'"
        ) from exc
    data = pem.encode() if isinstance(pem, str) else pem
    pwd = password.encode() if isinstance(password, str) else password
    try:
        key = load_pem_private_key(data, password=pwd)
    except (ValueError, TypeError) as exc:
        # The exception text from cryptography does not contain key material.
        raise ConfigurationError(f"cannot load private key: {type(exc).__name__}") from None
    if isinstance(key, rsa.RSAPrivateKey):
        return RsaSigner(key)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return Ed25519Signer(key)
    raise ConfigurationError(
        f"unsupported private key type {type(key).__name__}: use RSA or Ed25519"
    )


def signed_query(query: str, signer: Signer, body: str = "") -> str:
    """``query`` with ``&signature=...`` appended, computed over ``query + body`` as sent.

    The one signing path: the client's requests and any hand-built request sign here.
    """
    signature = signer.sign((query + body).encode())
    if type(signer) is not HmacSigner:  # a hex digest needs no percent-encoding; base64 does
        # 3,400 instr/call, 0.7 % of the floor's: bench_icount.py --stub sdk sdk-encoded-signature
        signature = encode_signature(signature)
    return f"{query}&signature={signature}" if query else f"signature={signature}"


def mask_key(key: str) -> str:
    """An API key as it may be shown: ``abcd...wxyz`` for a long key, ``****`` otherwise."""
    return f"{key[:4]}...{key[-4:]}" if len(key) >= 16 else "****"
