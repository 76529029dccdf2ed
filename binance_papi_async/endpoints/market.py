"""Market data / connectivity endpoints."""

from __future__ import annotations

from ._spec import EndpointSpec, Security

PING = EndpointSpec(
    name="test_connectivity",
    method="GET",
    path="/papi/v1/ping",
    security=Security.NONE,
    weight=1,
    summary="Test Connectivity",
)

# Undocumented but served by papi (see ../shared/papi/GENERAL.md section 7):
# returns {"serverTime": <ms>} and costs 1 IP weight.
SERVER_TIME = EndpointSpec(
    name="check_server_time",
    method="GET",
    path="/papi/v1/time",
    security=Security.NONE,
    weight=1,
    summary="Check Server Time (undocumented on papi)",
)
