"""Attributes a package loads from its submodules on first access (PEP 562).

A package declares where each of its public names lives; :func:`lazy_attributes` gives
the module ``__getattr__`` and ``__dir__`` that import the submodule on the first access
of a name and then store the name in the package, so later accesses are plain lookups.
Type checkers see the same names through ``if TYPE_CHECKING:`` imports beside it (the
``__getattr__`` is defined under ``if not TYPE_CHECKING:``, so a misspelt name is still
an error for them).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping

__all__ = ["lazy_attributes"]


def lazy_attributes(
    package: str,
    homes: Mapping[str, str],
    computed: Mapping[str, Callable[[], object]] | None = None,
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package`` (its ``__name__``).

    ``homes`` maps a name to the submodule defining it, relative to the package (e.g.
    ``{"PortfolioMarginClient": ".client"}``); ``computed`` maps a name to a function
    giving its value (e.g. ``__version__``).
    """
    made = dict(computed or {})

    def __getattr__(name: str) -> object:
        home = homes.get(name)
        if home is not None:
            value = getattr(importlib.import_module(home, package), name)
        elif name in made:
            value = made[name]()
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *homes, *made})

    return __getattr__, __dir__
