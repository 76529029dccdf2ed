"""``papi call METHOD PATH NAME=VALUE ...``: any papi endpoint.

A route of the endpoint table is called through ``client.call`` with its declared
spec (security type, charges, weight rules); any other route through
``client.request`` with ``--security`` / ``--weight``.  Either way the client
signs, rate-limits and classifies errors as for the typed methods.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..endpoints import EndpointSpec, HttpMethod, Security
from ._config import is_loopback_url, mask, read_credentials
from ._context import IO, Context, confirm
from ._exit import CommandError, ExitCode
from ._output import dumps, generic

__all__ = ["CallPlan", "find_spec", "parse_params", "prepare_call", "run_call"]

_METHODS: dict[str, HttpMethod] = {"GET": "GET", "POST": "POST", "PUT": "PUT", "DELETE": "DELETE"}
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_ADDED_BY_CLIENT = frozenset({"timestamp", "signature"})


def parse_params(items: list[str]) -> dict[str, str]:
    """``NAME=VALUE`` words as a dict (values may contain ``=``; names only once)."""
    params: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not _NAME.fullmatch(name):
            raise CommandError(
                f"parameters are NAME=VALUE with a Binance parameter name, got {item!r}",
                ExitCode.USAGE,
            )
        if name in _ADDED_BY_CLIENT:
            raise CommandError(f"{name} is added by the client: leave it out", ExitCode.USAGE)
        if name in params:
            raise CommandError(f"parameter {name} given twice", ExitCode.USAGE)
        params[name] = value
    return params


def find_spec(method: str, path: str) -> EndpointSpec | None:
    """The endpoint table's spec of ``METHOD PATH``, if papi documents that route."""
    from ..endpoints._table import TABLE

    for spec in TABLE:
        if spec.method == method and spec.path == path:
            return spec
    return None


@dataclass(frozen=True, slots=True)
class CallPlan:
    """What ``papi call`` will send: the declared ``spec``, or ``security`` and ``weight``."""

    method: HttpMethod
    path: str
    params: Mapping[str, str]
    spec: EndpointSpec | None
    security: Security
    weight: int


def _plan(args: argparse.Namespace) -> CallPlan:
    method = _METHODS.get(args.method.upper())
    if method is None:
        raise CommandError(
            f"METHOD must be GET, POST, PUT or DELETE, got {args.method!r}", ExitCode.USAGE
        )
    path = args.path
    if not path.startswith("/") or "?" in path or "#" in path:
        raise CommandError(
            f"PATH must start with '/' and carry no query (give NAME=VALUE), got {path!r}",
            ExitCode.USAGE,
        )
    if args.weight is not None and args.weight < 0:
        raise CommandError("--weight must be >= 0", ExitCode.USAGE)
    params = parse_params(args.params)
    spec = find_spec(method, path) if args.security is None and args.weight is None else None
    if spec is not None:
        security, weight = spec.security, spec.weight
    else:
        security = Security(args.security or "USER_DATA")
        weight = 1 if args.weight is None else args.weight
    return CallPlan(method, path, params, spec, security, weight)


def prepare_call(args: argparse.Namespace, io: IO, env: Mapping[str, str]) -> CallPlan:
    """Check the arguments; a write against a remote base URL is confirmed first."""
    plan = _plan(args)
    credentials = read_credentials(env, required=plan.security.signed)
    if plan.security.needs_key and credentials.api_key is None:
        raise CommandError(
            f"{plan.method} {plan.path} ({plan.security.value}) needs BINANCE_API_KEY",
            ExitCode.CONFIG,
        )
    if plan.method != "GET" and not args.yes and not is_loopback_url(args.base_url):
        query = " ".join(f"{k}={v}" for k, v in plan.params.items()) or "(no parameters)"
        key = mask(credentials.api_key) if credentials.api_key else "none"
        confirm(
            io,
            f"About to send {plan.method} {plan.path} {query}\n"
            f"  to {args.base_url} with API key {key} ({plan.security.value}, weight "
            f"{plan.weight}); it may change the account",
        )
    return plan


async def run_call(ctx: Context, plan: CallPlan) -> int:
    credentials = read_credentials(ctx.env, required=plan.security.signed)
    async with ctx.client(credentials) as client:
        call: Any
        if plan.spec is not None:
            call = client.request(plan.spec, plan.params)
        else:
            call = client.request(
                plan.method, plan.path, plan.params, security=plan.security, weight=plan.weight
            )
        data = await ctx.progress.run(call, f"{plan.method} {plan.path}")
    ctx.out(dumps(data) if ctx.json else generic(data))
    return ExitCode.OK
