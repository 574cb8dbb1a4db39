"""The Examples sections of the physics docstrings run as doctests."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "stmdenoise.physics.artefacts",
    "stmdenoise.physics.pairs",
    "stmdenoise.physics.terraces",
    "stmdenoise.physics.variety",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
