"""The Examples in the metrics docstrings run and hold."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "stmdenoise.metrics._input",
    "stmdenoise.metrics.piqe",
    "stmdenoise.metrics.brisque",
    "stmdenoise.metrics.reference",
    "stmdenoise.metrics.stm",
    "stmdenoise.metrics.fidelity",
    "stmdenoise.metrics.bands",
    "stmdenoise.metrics.registration",
    "stmdenoise.plan",
    "stmdenoise.fallback",
    "stmdenoise.metrics.contrast",
    "stmdenoise.metrics.second_look",
    "stmdenoise.metrics.noise_share",
    "stmdenoise.metrics.line_noise",
    "stmdenoise.metrics.hysteresis",
    "stmdenoise.metrics.heights",
    "stmdenoise.metrics.scars",
    "stmdenoise.model.two_direction",
    "stmdenoise.model.fine_levels",
    "stmdenoise.model.fourier_tiles",
    "stmdenoise.model.spectral_gain",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
