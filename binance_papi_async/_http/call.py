"""One call across its attempts: what it sends, which attempt is on, where its retries stand."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from ..endpoints import EndpointSpec
from ..errors import RateLimitError
from ..retry import RetryPolicy

if TYPE_CHECKING:  # pragma: no cover
    from yarl import URL

__all__ = ["Call"]


class Call:
    """The state of one call of the transport, shared by the steps of each attempt.

    The attempt's URL, its signed query included, lives here and in no local variable of
    the request path: a traceback rendered with its frames' locals (an error tracker's
    view) shows this object's repr, which leaves it out.
    """

    __slots__ = (
        "account",
        "encoded",
        "last_429",
        "max_wait",
        "number",
        "observing",
        "options",
        "params",
        "policy",
        "resynced",
        "sent_at",
        "spec",
        "started",
        "urgent",
        "url",
        "wait_bound",
    )

    url: URL  # of the attempt on, signed; set when it is prepared (never in a local)
    options: dict[str, Any]  # what aiohttp gets with it, the API key among them (likewise)

    def __init__(
        self,
        spec: EndpointSpec,
        params: dict[str, str],
        policy: RetryPolicy,
        max_wait: float | None,
        urgent: bool = False,
        account: str | None = None,
        encoded: str | None = None,
    ) -> None:
        self.spec = spec
        self.params = params  # wire strings; a signed attempt adds recvWindow and timestamp
        self.encoded = encoded  # encode_params(params), if the endpoint built it
        self.policy = policy
        self.max_wait = max_wait
        self.number = 1  # of the attempt on
        self.observing = False  # the attempt's events are wanted (an on_event hook, DEBUG log)
        self.sent_at = 0.0  # epoch seconds when the attempt was handed to aiohttp
        self.started = time.monotonic()
        self.resynced = False  # the one resend after a -1021 is spent
        self.wait_bound = max_wait  # how long the next attempt may wait for rate budget
        self.last_429: RateLimitError | None = None
        # Admitted before normal waiters, from a window's reserve (cancels, clock reads,
        # listen-key keep-alives: EndpointSpec.urgent; or priority="high").
        self.urgent = urgent
        self.account = account  # the limiter's account scope of the order budget

    def __repr__(self) -> str:
        return f"<Call {self.spec.method} {self.spec.path} attempt {self.number}>"

    def after_429(self, error: RateLimitError) -> None:
        """The next attempt waits for budget no longer than the policy has time left."""
        self.last_429 = error
        left = max(0.0, self.policy.max_elapsed - (time.monotonic() - self.started))
        self.wait_bound = left if self.max_wait is None else min(self.max_wait, left)
