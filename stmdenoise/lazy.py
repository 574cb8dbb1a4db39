"""Names of a package imported on first use (PEP 562): the one mechanism behind the lazy
``__getattr__`` of :mod:`stmdenoise.processing`, :mod:`stmdenoise.physics` and
:mod:`stmdenoise.training`.

A package lists where each public name lives (``where``: name -> submodule) and imports its
submodules with plain ``from package import submodule`` statements in one function
(``submodule``), so mypy and import-linter see every import; this module does the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from types import ModuleType
from typing import Any

__all__ = ["lazy_attribute"]


def lazy_attribute(
    namespace: MutableMapping[str, Any],
    package: str,
    name: str,
    where: Mapping[str, str],
    submodule: Callable[[str], ModuleType],
) -> Any:
    """The public ``name`` of ``package``, imported from its submodule and kept in ``namespace``.

    Raises AttributeError (as a module's ``__getattr__`` must) for a name the package lacks.

    Examples
    --------
    >>> import math
    >>> ns = {}
    >>> lazy_attribute(ns, "pkg", "pi", {"pi": "math"}, lambda sub: math) == math.pi, "pi" in ns
    (True, True)
    """
    if name not in where:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    value = getattr(submodule(where[name]), name)
    namespace[name] = value  # later lookups find it without calling __getattr__
    return value
