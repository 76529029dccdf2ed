"""Market data / connectivity endpoints."""

from __future__ import annotations

from ._spec import EndpointSpec, Security
from ._table import TEST_CONNECTIVITY as PING

__all__ = ["PING", "SERVER_TIME"]

# Undocumented but served by papi (see spec/papi/GENERAL.md section 7):
# returns {"serverTime": <ms>} and costs 1 IP weight.  Not in endpoints.json,
# so not in the generated table.
SERVER_TIME = EndpointSpec(
    name="check_server_time",
    method="GET",
    path="/papi/v1/time",
    security=Security.NONE,
    weight=1,
    summary="Check Server Time (undocumented on papi)",
)
