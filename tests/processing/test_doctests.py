"""The Examples sections of the processing docstrings run as doctests."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "stmdenoise.processing.levelling",
    "stmdenoise.processing.nan",
    "stmdenoise.processing.normalize",
    "stmdenoise.processing.tiling",
    "stmdenoise.processing.resample",
    "stmdenoise.processing.spectrum",
    "stmdenoise.processing.smoothing",
    "stmdenoise.processing.network",
    "stmdenoise.processing.shift",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
