"""Constants shared by the client, the limiter and the simulator (no logic here)."""

from __future__ import annotations

from typing import Final

DEFAULT_BASE_URL: Final = "https://papi.binance.com"
FAPI_BASE_URL: Final = "https://fapi.binance.com"

HEADER_API_KEY: Final = "X-MBX-APIKEY"
HEADER_USED_WEIGHT_PREFIX: Final = "x-mbx-used-weight-"
HEADER_ORDER_COUNT_PREFIX: Final = "x-mbx-order-count-"
HEADER_RETRY_AFTER: Final = "Retry-After"

# recvWindow: Binance's default when omitted is 5000 ms; the maximum is 60000 ms.
MAX_RECV_WINDOW_MS: Final = 60_000
DEFAULT_RECV_WINDOW_MS: Final = 5_000

# papi "LIMITS": 6000 request weight per minute per IP, 1200 orders per minute per account.
IP_WEIGHT_LIMIT_PER_MINUTE: Final = 6_000
ORDER_LIMIT_PER_MINUTE: Final = 1_200

# Connection pool defaults (see PortfolioMarginClient docstring for the reasoning).
DEFAULT_POOL_SIZE: Final = 64
DEFAULT_KEEPALIVE_TIMEOUT_S: Final = 30.0
DEFAULT_DNS_TTL_S: Final = 60
DEFAULT_TOTAL_TIMEOUT_S: Final = 10.0
DEFAULT_CONNECT_TIMEOUT_S: Final = 3.0
# The largest response body read (bytes): papi's largest answers are well under 1 MiB
# (1000 algo orders of about 560 bytes; every UM symbol's positions or brackets).
DEFAULT_MAX_RESPONSE_SIZE: Final = 8 * 1024 * 1024

USER_AGENT: Final = "binance-papi-async"
