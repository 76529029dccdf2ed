"""Who may call, and what they sent: API keys, signatures, parameters and timestamps.

Binance's rules, applied by :mod:`.pipeline` in this order:

* **API key** (endpoints that need one): missing -> 401 -2014, unknown -> 401 -2015;
* **parameters**: the query string plus an ``application/x-www-form-urlencoded``
  body (the query wins on duplicates; a duplicate inside one of them -> -1101),
  decoded as UTF-8 (invalid -> -1100);
* **signature** (signed endpoints): ``signature`` must be present (-1102) and be the
  last component of the query or of the body (else -1022); it is checked over the
  **raw bytes received** (the raw query minus its ``signature`` component, then the
  raw body minus its ``signature`` component) -> -1022.  HMAC keys compare hex in
  any case; RSA (PKCS#1 v1.5, SHA-256) and Ed25519 keys take base64;
* **timestamp** (signed endpoints): ``timestamp`` mandatory (-1102); ``recvWindow``
  (default 5000) an integer in 1..60000, else 400 -1130; then ``timestamp <
  serverTime + 1000 and serverTime - timestamp <= recvWindow``, else -1021.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from .._constants import DEFAULT_RECV_WINDOW_MS, MAX_RECV_WINDOW_MS
from ..signing import HmacSigner
from ._errors import SimulatedError, invalid, mandatory
from .routing import FORM, Call
from .state import KeySpec

__all__ = ["ApiKey", "KeyRing", "check_timestamp", "read_params"]

_SIGNATURE_PREFIX = "signature="
_BAD_SIGNATURE = SimulatedError(400, -1022, "Signature for this request is not valid.")
_DUPLICATE = SimulatedError(400, -1101, "Duplicate values for a parameter detected.")
_ILLEGAL_CHARS = SimulatedError(400, -1100, "Illegal characters found in a parameter.")


@dataclass(slots=True)
class ApiKey:
    """A registered API key: its account and how it verifies signatures."""

    account: str
    hmac: HmacSigner | None
    public_key: Any  # Ed25519PublicKey | RSAPublicKey | None

    @classmethod
    def of(cls, spec: KeySpec) -> ApiKey:
        """The key ``spec`` describes (an HMAC secret or a PEM public key)."""
        if spec.secret is not None:
            return cls(spec.account, HmacSigner(spec.secret), None)
        assert spec.public_key_pem is not None
        return cls(spec.account, None, _load_public_key(spec.public_key_pem))

    def verify(self, payload: bytes, signature: str) -> bool:
        """Check ``signature`` (already percent-decoded) over ``payload``."""
        if self.hmac is not None:
            return hmac.compare_digest(self.hmac.sign(payload), signature.lower())
        return _verify_public(self.public_key, payload, signature)


class KeyRing:
    """The API keys a simulator knows, by key string."""

    def __init__(self) -> None:
        self._keys: dict[str, ApiKey] = {}

    def add(self, spec: KeySpec) -> ApiKey:
        """Register ``spec`` (replacing a key of the same string) and return it."""
        key = self._keys[spec.api_key] = ApiKey.of(spec)
        return key

    def get(self, api_key: str) -> ApiKey | None:
        """The key registered as ``api_key``, or ``None``."""
        return self._keys.get(api_key)

    def require(self, api_key: str | None) -> ApiKey:
        """The key of the ``X-MBX-APIKEY`` header: -2014 if missing, -2015 if unknown."""
        if not api_key:
            raise SimulatedError(401, -2014, "API-key format invalid.")
        key = self._keys.get(api_key)
        if key is None:
            raise SimulatedError(401, -2015, "Invalid API-key, IP, or permissions for action.")
        return key

    def accounts(self) -> list[str]:
        """The account of every key (in registration order, with repeats)."""
        return [key.account for key in self._keys.values()]

    def __bool__(self) -> bool:
        return bool(self._keys)


def read_params(call: Call, content_type: str, signer: ApiKey | None) -> dict[str, str]:
    """The decoded parameters of ``call``; with ``signer``, its signature checked first."""
    query = call.query
    body_text = ""
    if call.body and call.method != "GET":
        try:
            body_text = call.body.decode("utf-8")
        except UnicodeDecodeError:
            raise _ILLEGAL_CHARS from None
        if content_type != FORM:
            body_text = ""  # not form-encoded: not parameters (still part of the payload)
    if signer is not None:
        _check_signature(signer, query, body_text, call.body)
    params = _parse_params(body_text) if body_text else {}
    if query:
        params.update(_parse_params(query))  # the query wins on duplicates
    return params


def _check_signature(key: ApiKey, query: str, body_text: str, body: bytes) -> None:
    q_rest, q_sig = _split_signature(query)
    b_rest, b_sig = _split_signature(body_text) if body_text else ("", None)
    if q_sig is not None and b_sig is not None:
        raise _DUPLICATE
    raw_sig = q_sig if q_sig is not None else b_sig
    if raw_sig is None or not raw_sig:
        raise mandatory("signature")
    payload = q_rest.encode("utf-8", "surrogateescape")
    if body:
        payload += b_rest.encode() if body_text else body
    if not key.verify(payload, unquote_plus(raw_sig)):
        raise _BAD_SIGNATURE


def check_timestamp(now: int, params: dict[str, str]) -> None:
    """``timestamp`` / ``recvWindow`` against the server time ``now`` (ms)."""
    raw_ts = params.get("timestamp")
    if not raw_ts or not _is_digits(raw_ts):
        raise mandatory("timestamp")
    timestamp = int(raw_ts)
    raw_rw = params.get("recvWindow")
    if raw_rw is None:
        recv_window = DEFAULT_RECV_WINDOW_MS
    else:
        if not _is_digits(raw_rw):
            raise invalid("recvWindow")
        recv_window = int(raw_rw)
        if not 0 < recv_window <= MAX_RECV_WINDOW_MS:
            raise invalid("recvWindow")
    if timestamp >= now + 1000:
        raise SimulatedError(
            400, -1021, "Timestamp for this request was 1000ms ahead of the server's time."
        )
    if now - timestamp > recv_window:
        raise SimulatedError(400, -1021, "Timestamp for this request is outside of the recvWindow.")


def _is_digits(value: str) -> bool:
    """ASCII digits only (``int()`` would also take signs, spaces and underscores)."""
    return value.isascii() and value.isdigit()


def _split_signature(raw: str) -> tuple[str, str | None]:
    """``raw`` minus a trailing ``signature=`` component, and that component's raw value.

    Raises -1022 if ``signature`` is present but not the last component, -1101 if twice.
    """
    if _SIGNATURE_PREFIX not in raw:
        return raw, None
    parts = raw.split("&")
    found = [i for i, p in enumerate(parts) if p.startswith(_SIGNATURE_PREFIX)]
    if not found:
        return raw, None
    if len(found) > 1:
        raise _DUPLICATE
    if found[0] != len(parts) - 1:
        raise _BAD_SIGNATURE
    return "&".join(parts[:-1]), parts[-1][len(_SIGNATURE_PREFIX) :]


def _parse_params(raw: str) -> dict[str, str]:
    """Percent-decode ``k=v&...`` (UTF-8, ``+`` is a space); duplicates -> -1101."""
    params: dict[str, str] = {}
    if not raw:
        return params
    for part in raw.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        try:
            key = unquote_plus(name, errors="strict")
            val = unquote_plus(value, errors="strict")
        except UnicodeDecodeError:
            raise _ILLEGAL_CHARS from None
        if key in params:
            raise _DUPLICATE
        params[key] = val
    return params


def _verify_public(key: Any, payload: bytes, signature: str) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return False
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(raw, payload)
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(raw, payload, padding.PKCS1v15(), hashes.SHA256())
        else:  # pragma: no cover - KeyRing.add only accepts the two types
            return False
    except InvalidSignature:
        return False
    return True


def _load_public_key(pem: str | bytes) -> Any:
    try:
        from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
        from cryptography.hazmat.primitives.serialization import load_pem_public_key
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError("public-key API keys need the 'cryptography' package") from exc
    key = load_pem_public_key(pem.encode() if isinstance(pem, str) else pem)
    if not isinstance(key, ed25519.Ed25519PublicKey | rsa.RSAPublicKey):
        raise ValueError(f"unsupported public key type {type(key).__name__}: use RSA or Ed25519")
    return key
