"""The URL of a request: the base URL's checks, the query string (signed when the endpoint
is), and the URL built from parts that are encoded already.

The query is built once, as the exact bytes that are signed and sent: aiohttp gets a
``yarl.URL`` made with ``encoded=True``, so nothing is re-encoded behind the
signature's back.
"""

from __future__ import annotations

import ipaddress

from yarl import URL

from ..clock import Clock
from ..endpoints import EndpointSpec
from ..errors import ConfigurationError
from ..signing import Signer, encode_params, signed_query

__all__ = ["BaseUrl", "check_base_url", "is_loopback", "query_string"]


def is_loopback(host: str | None) -> bool:
    """``localhost`` or a loopback IP address (``127.0.0.1``, ``[::1]``)."""
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_base_url(base_url: str) -> str:
    """``base_url`` without a trailing slash; :class:`ConfigurationError` unless it is an
    ``https://`` URL (or ``http://`` on a loopback host) with no query, fragment or
    credentials."""
    url = URL(base_url)
    if url.scheme not in ("https", "http") or not url.host:
        raise ConfigurationError(f"base_url must be an absolute http(s) URL, got {base_url!r}")
    if url.scheme == "http" and not is_loopback(url.host):
        raise ConfigurationError(
            f"base_url must use https:// (plain http is allowed only for a loopback host such as "
            f"127.0.0.1, e.g. the local simulator), got {base_url!r}"
        )
    if url.query_string or url.fragment or url.user or url.password:
        raise ConfigurationError(
            f"base_url must not carry a query, fragment or credentials: {base_url!r}"
        )
    return str(url).rstrip("/")


def query_string(
    spec: EndpointSpec,
    params: dict[str, str],
    signer: Signer | None,
    clock: Clock,
    recv_window: str | None,
    encoded: str | None = None,
) -> str:
    """The query string of one attempt, percent-encoded, and signed when ``spec`` is.

    A signed call gets ``recvWindow`` (unless ``params`` has one, or ``recv_window`` is
    None), then a fresh ``timestamp`` and the signature over the query as sent, last.
    ``recvWindow`` and ``timestamp`` are written into ``params`` too, so that an error
    tells what was sent (a ``timestamp`` given in ``params`` is replaced).  ``encoded``,
    if given, is ``encode_params(params)`` with that ``recvWindow``, without ``timestamp``.
    """
    if not spec.signed:
        return encode_params(params) if encoded is None else encoded
    if signer is None:
        raise ConfigurationError(f"{spec.method} {spec.path} is signed: the client has no signer")
    if recv_window is not None:
        params.setdefault("recvWindow", recv_window)
    params.pop("timestamp", None)
    query = encode_params(params) if encoded is None else encoded
    # Taken just before the send; digits need no encoding (nor a place in its cache).
    timestamp = params["timestamp"] = str(int(clock.now_ms()))
    query = f"{query}&timestamp={timestamp}" if query else f"timestamp={timestamp}"
    return signed_query(query, signer)


class BaseUrl:
    """Where a client's requests go: the base URL's parts, split once."""

    __slots__ = ("authority", "path", "scheme")

    def __init__(self, base_url: str) -> None:
        url = URL(base_url, encoded=True)
        self.scheme = url.scheme
        self.authority = url.raw_authority
        self.path = url.raw_path.rstrip("/")

    def url(self, path: str, query: str) -> URL:
        """``base_url + path + "?" + query``; ``path`` and ``query`` are encoded already."""
        return URL.build(
            scheme=self.scheme,
            authority=self.authority,
            path=self.path + path,
            query_string=query,
            encoded=True,
        )
