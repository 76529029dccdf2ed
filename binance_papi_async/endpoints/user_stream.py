"""User data stream endpoints: the listen-key lifecycle (``/papi/v1/listenKey``).

All three are ``USER_STREAM`` security: the ``X-MBX-APIKEY`` header and no
``timestamp``/``signature`` (what the official SDKs send; the zh-CN General-Info page
agrees, the EN page says "API-Key and signature").  None takes a parameter: the key is
identified by the account of the API key.  Weight 1 (IP) each.
"""

from __future__ import annotations

from ._spec import EndpointSpec, Security

__all__ = ["CLOSE_USER_DATA_STREAM", "KEEPALIVE_USER_DATA_STREAM", "START_USER_DATA_STREAM"]

# Returns {"listenKey": "<64 chars>"}; while a key is active it returns the same key and
# extends it by 60 minutes.
START_USER_DATA_STREAM = EndpointSpec(
    name="start_user_data_stream",
    method="POST",
    path="/papi/v1/listenKey",
    security=Security.USER_STREAM,
    weight=1,
    summary="Start User Data Stream",
)

# Returns {}; the key is valid for 60 minutes from now.  -1125 when it expired or was deleted.
KEEPALIVE_USER_DATA_STREAM = EndpointSpec(
    name="keepalive_user_data_stream",
    method="PUT",
    path="/papi/v1/listenKey",
    security=Security.USER_STREAM,
    weight=1,
    summary="Keepalive User Data Stream",
)

# Returns {}; invalidates the account's key (and with it every stream using it).
CLOSE_USER_DATA_STREAM = EndpointSpec(
    name="close_user_data_stream",
    method="DELETE",
    path="/papi/v1/listenKey",
    security=Security.USER_STREAM,
    weight=1,
    summary="Close User Data Stream",
)
