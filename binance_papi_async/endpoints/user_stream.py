"""User data stream endpoints: the listen-key lifecycle (``/papi/v1/listenKey``).

All three are ``USER_STREAM`` security: the ``X-MBX-APIKEY`` header and no
``timestamp``/``signature`` (what the official SDKs send; the zh-CN General-Info page
agrees, the EN page says "API-Key and signature").  None takes a parameter: the key is
identified by the account of the API key.  Weight 1 (IP) each.

* ``START_USER_DATA_STREAM`` (POST) returns ``{"listenKey": "<64 chars>"}``; while a key is
  active it returns the same key and extends it by 60 minutes;
* ``KEEPALIVE_USER_DATA_STREAM`` (PUT) returns ``{}``; the key is valid for 60 minutes from
  now; -1125 when it expired or was deleted;
* ``CLOSE_USER_DATA_STREAM`` (DELETE) returns ``{}``; it invalidates the account's key (and
  with it every stream using it).

The specs are the generated ones (``_table``); this module names them for the stream.
"""

from __future__ import annotations

from ._table import CLOSE_USER_DATA_STREAM, KEEPALIVE_USER_DATA_STREAM, START_USER_DATA_STREAM

__all__ = ["CLOSE_USER_DATA_STREAM", "KEEPALIVE_USER_DATA_STREAM", "START_USER_DATA_STREAM"]
