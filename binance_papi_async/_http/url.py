"""The URL of a request: the base URL's checks, the query string (signed when the endpoint
is), and the URL built from parts that are encoded already.

The query is built once, as the exact bytes that are signed and sent: aiohttp gets a
``yarl.URL`` made with ``encoded=True``, so nothing is re-encoded behind the
signature's back.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable

from yarl import URL

from ..clock import Clock
from ..endpoints import EndpointSpec
from ..errors import ConfigurationError
from ..signing import Signer, encode_params, signed_query

__all__ = [
    "PATH_RE",
    "BaseUrl",
    "check_base_url",
    "check_path",
    "check_time_url",
    "is_loopback",
    "query_string",
]

#: The paths of Binance's REST families (``/papi/v1/um/order``, ``/papi/v2/um/account``,
#: ``/fapi/v1/time``): a family, a version, then segments of ASCII letters, digits, ``-``
#: and ``_``.  So no space, ``%``, ``?``, ``#``, ``.`` or ``..``, control or non-ASCII
#: character reaches a request line, and no query or fragment is lost.
PATH_RE = re.compile(r"/(?:papi|fapi|dapi|sapi|eapi|api)/v[0-9]+(?:/[A-Za-z0-9_-]+)+")
# Paths found good (a client calls few): checked once each.
_GOOD_PATHS: set[str] = set()


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


def check_path(path: object, name: str = "path") -> str:
    """``path`` if it is of papi's grammar (:data:`PATH_RE`); :class:`ConfigurationError`
    otherwise."""
    if isinstance(path, str) and (path in _GOOD_PATHS or PATH_RE.fullmatch(path)):
        if len(_GOOD_PATHS) < 1024:
            _GOOD_PATHS.add(path)
        return path
    raise ConfigurationError(
        f"{name} must look like '/papi/v1/um/order' (a Binance REST family and version, "
        f"then segments of ASCII letters, digits, '-' and '_'), got {path!r}"
    )


def _checked_url(text: object, name: str) -> URL:
    """``text`` as a URL: ``https://`` (or ``http://`` on a loopback host), with no query,
    fragment or credentials; :class:`ConfigurationError` otherwise."""
    if not isinstance(text, str):
        raise ConfigurationError(f"{name} must be a str, not {type(text).__name__}")
    try:
        url = URL(text)
    except ValueError:
        raise ConfigurationError(f"{name} is not a URL: {text!r}") from None
    if url.scheme not in ("https", "http") or not url.host:
        raise ConfigurationError(f"{name} must be an absolute http(s) URL, got {text!r}")
    if url.scheme == "http" and not is_loopback(url.host):
        raise ConfigurationError(
            f"{name} must use https:// (plain http is allowed only for a loopback host such as "
            f"127.0.0.1, e.g. the local simulator), got {text!r}"
        )
    if url.user or url.password or "?" in text or "#" in text:
        raise ConfigurationError(
            f"{name} must not carry a query, fragment or credentials: {text!r}"
        )
    return url


def check_base_url(base_url: str, name: str = "base_url") -> str:
    """``base_url`` without a trailing slash; :class:`ConfigurationError` unless it is an
    ``https://`` URL (or ``http://`` on a loopback host) with no path, query, fragment or
    credentials.

    A path is refused, not dropped or kept: the endpoints' paths (``/papi/v1/...``) are
    added per request, so ``https://papi.binance.com/papi/v1`` would send every request
    to ``/papi/v1/papi/v1/...``, and an error names the path requested as is.
    """
    url = _checked_url(base_url, name)
    if url.raw_path not in ("", "/"):
        raise ConfigurationError(
            f"{name} is scheme, host and port only (the /papi/v1/... paths are added per "
            f"request): use {str(url.origin())!r}, not {base_url!r}"
        )
    return str(url).rstrip("/")


def check_time_url(time_url: str, name: str = "TimeSync.fallback_url") -> str:
    """A full server-time URL such as ``https://fapi.binance.com/fapi/v1/time``, checked
    as :func:`check_base_url` does, with a path of papi's grammar."""
    url = _checked_url(time_url, name)
    if not PATH_RE.fullmatch(url.raw_path):  # the whole path: a base URL has none
        raise ConfigurationError(
            f"{name} must be a full URL such as 'https://fapi.binance.com/fapi/v1/time', "
            f"got {time_url!r}"
        )
    return str(url)


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
    if encoded is None:
        params.pop("timestamp", None)  # an earlier attempt's: replaced, and not encoded
        encoded = encode_params(params)
    # Taken just before the send; digits need no encoding (nor a place in its cache).
    timestamp = params["timestamp"] = str(int(clock.now_ms()))
    query = f"{encoded}&timestamp={timestamp}" if encoded else f"timestamp={timestamp}"
    return signed_query(query, signer)


def build_url(scheme: str, authority: str, path: str, query: str, fragment: str) -> URL:
    """The URL of encoded parts, as yarl's public API makes it."""
    return URL.build(
        scheme=scheme,
        authority=authority,
        path=path,
        query_string=query,
        fragment=fragment,
        encoded=True,
    )


def _pick_url_from_parts() -> Callable[[str, str, str, str, str], URL]:
    """:func:`build_url`, or yarl's ``from_parts_uncached`` where it gives the same URLs.

    ``URL.build`` checks its eleven keyword arguments in Python before it makes the same
    object: 4.6k of the SDK's 144k instructions per call (bench_icount.py sdk --stub).
    That function is not public: it is used only if it exists and gives what ``URL.build``
    gives for these samples (tests/unit/test_equivalent_paths.py checks more).
    """
    try:
        from yarl._url import from_parts_uncached
    except ImportError:  # pragma: no cover - a yarl without it
        return build_url
    samples = (
        ("https", "papi.binance.com", "/papi/v1/x", "a=1&b=%2C&signature=ab", ""),
        ("http", "127.0.0.1:8080", "/p", "", ""),
        ("http", "[::1]:8443", "/papi/v1/margin/repay-debt", "x=%20y", ""),
    )
    try:
        for parts in samples:
            fast, slow = from_parts_uncached(*parts), build_url(*parts)
            if type(fast) is not URL or not same_url(fast, slow):
                return build_url  # pragma: no cover - yarl changed
    except Exception:  # pragma: no cover - yarl changed its signature
        return build_url
    fast_path: Callable[[str, str, str, str, str], URL] = from_parts_uncached
    return fast_path


def same_url(a: URL, b: URL) -> bool:
    """Whether two URLs are the same in every part aiohttp reads, as sent."""
    return (
        a == b
        and str(a) == str(b)
        and (a.scheme, a.raw_authority, a.raw_host, a.port, a.raw_path, a.raw_query_string)
        == (b.scheme, b.raw_authority, b.raw_host, b.port, b.raw_path, b.raw_query_string)
        and a.fragment == b.fragment
    )


url_from_parts = _pick_url_from_parts()


#: The properties of a URL that depend on its scheme and authority alone, which aiohttp
#: reads for every request (the Host header, the connection's key): yarl computes each
#: once per URL object, and a request's URL is a new object every time.
AUTHORITY_PROPERTIES = (
    "explicit_port",
    "host",
    "host_port_subcomponent",
    "host_subcomponent",
    "port",
    "raw_fragment",
    "raw_host",
    "raw_password",
    "raw_user",
    "scheme",
)


def _authority_cache(scheme: str, authority: str, path: str) -> dict[str, object] | None:
    """What yarl caches of :data:`AUTHORITY_PROPERTIES` for a URL of ``scheme`` and
    ``authority`` (and no fragment), to be copied into each request's URL; None where
    yarl keeps no such per-object cache (then each URL computes its own).

    Checked here, not assumed: two URLs of other paths and queries computed afresh give
    every value (tests/unit/test_equivalent_paths.py checks more).
    """
    samples = [url_from_parts(scheme, authority, path + p, q, "") for p, q in _CACHE_SAMPLES]
    caches = []
    for url in samples:
        cache = getattr(url, "_cache", None)
        if type(cache) is not dict or cache:
            return None  # pragma: no cover - a yarl without a plain per-object cache
        values = {name: getattr(url, name) for name in AUTHORITY_PROPERTIES}
        caches.append({name: cache[name] for name in values if name in cache})
        if any(cache[name] != values[name] for name in caches[-1]):
            return None  # pragma: no cover - yarl caches something else under the name
    first = caches[0]
    return first if all(cache == first for cache in caches) else None


_CACHE_SAMPLES = (("/papi/v1/a", "x=1&signature=ab"), ("/papi/v2/b-c_d", ""))


class BaseUrl:
    """Where a client's requests go: the base URL's parts, split once.

    Each request's URL gets a copy of what yarl would compute of its scheme and host
    (:func:`_authority_cache`), so that aiohttp finds them ready.
    9,300 instr/call, 1.9 % of the floor's: bench_icount.py sdk sdk-uncached-authority
    """

    __slots__ = ("authority", "cache", "path", "scheme")

    def __init__(self, base_url: str) -> None:
        url = URL(base_url, encoded=True)
        self.scheme = url.scheme
        self.authority = url.raw_authority
        self.path = url.raw_path.rstrip("/")
        self.cache = _authority_cache(self.scheme, self.authority, self.path)

    def url(self, path: str, query: str) -> URL:
        """``base_url + path + "?" + query``; ``path`` and ``query`` are encoded already."""
        url = url_from_parts(self.scheme, self.authority, self.path + path, query, "")
        cache = self.cache
        if cache is not None:
            url._cache.update(cache)  # type: ignore[typeddict-item]
        return url
