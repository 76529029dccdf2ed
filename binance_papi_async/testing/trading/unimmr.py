"""uniMMR drop notifications (Portfolio Margin Pro): the on/off switch of each account.

Serves ``POST /papi/v1/unimmr/notification`` (set the switch) and ``GET
/papi/v1/unimmr/notification`` (read it), with the security type, parameters and
charges of their specs.  The switch is ``Account.unimmr_notification``, off by default
as on Binance; :meth:`~..stream.StreamHub.push_unimmr_drop` sends the ``uniMMRDrop``
event only to an account whose switch is on.

Binance's change log (2026-10-22) is the only source for these endpoints: it names
neither the parameter that turns the notifications on or off nor the answers.  The
simulator's stand-ins, until the endpoint page is available:

* the switch is the parameter :data:`UNIMMR_SWITCH_PARAM` (``"enabled"``), ``true`` or
  ``false`` (-1102 when missing, -1130 for another value); the client sends it with
  ``client.account.set_unimmr_drop_notification_status(extra_params={"enabled": True})``;
* both answers are ``{"enabled": <the switch>}``.

The simulator does not tell classic and Pro accounts apart: every account may call
them (Binance refuses a classic Portfolio Margin account, with an error the docs do not
give).
"""

from __future__ import annotations

from typing import Any

from .._errors import invalid, mandatory
from ..routing import Call, Handler, RouteKey
from ..state import Account

__all__ = ["UNIMMR_PATH", "UNIMMR_SWITCH_PARAM", "UniMMRNotifications"]

UNIMMR_PATH = "/papi/v1/unimmr/notification"
#: The simulator's name for the on/off parameter (Binance's is on no available page).
UNIMMR_SWITCH_PARAM = "enabled"


class UniMMRNotifications:
    """The uniMMR drop notification switch (see the module documentation)."""

    def routes(self) -> dict[RouteKey, Handler]:
        """``POST`` and ``GET /papi/v1/unimmr/notification``."""
        return {("POST", UNIMMR_PATH): self.set_status, ("GET", UNIMMR_PATH): self.status}

    @staticmethod
    def extra_params() -> dict[RouteKey, tuple[str, ...]]:
        """The parameters the routes read beyond their specs' (the stand-in switch)."""
        return {("POST", UNIMMR_PATH): (UNIMMR_SWITCH_PARAM,)}

    @staticmethod
    def set_status(call: Call, account: Account | None, params: dict[str, str]) -> Any:
        """``POST``: turn the account's notifications on (``true``) or off (``false``)."""
        assert account is not None  # a signed route
        value = params.get(UNIMMR_SWITCH_PARAM)
        if not value:
            raise mandatory(UNIMMR_SWITCH_PARAM)
        if value not in ("true", "false"):
            raise invalid(UNIMMR_SWITCH_PARAM)
        account.unimmr_notification = value == "true"
        call.applied = True
        return {UNIMMR_SWITCH_PARAM: account.unimmr_notification}

    @staticmethod
    def status(call: Call, account: Account | None, params: dict[str, str]) -> Any:
        """``GET``: whether the account's notifications are on."""
        assert account is not None  # a signed route
        return {UNIMMR_SWITCH_PARAM: account.unimmr_notification}
