"""The lazy packages (stmdenoise.lazy): names resolve from their submodules, unknown ones raise."""

from __future__ import annotations

import doctest
import importlib

import pytest

import stmdenoise.lazy


@pytest.mark.parametrize(
    ("package", "name", "submodule"),
    [
        ("stmdenoise.processing", "level_plane", "levelling"),
        ("stmdenoise.physics", "PRESETS", "artefacts"),
        ("stmdenoise.training", "TrainResult", "records"),
    ],
)
def test_names_come_from_their_submodule(package: str, name: str, submodule: str) -> None:
    pkg = importlib.import_module(package)
    value = getattr(pkg, name)
    assert value is getattr(importlib.import_module(f"{package}.{submodule}"), name)
    assert name in vars(pkg)  # kept: the next lookup does not call __getattr__
    assert sorted(pkg.__all__) == dir(pkg)
    with pytest.raises(AttributeError, match=f"module '{package}' has no attribute 'nope'"):
        pkg.nope  # noqa: B018


def test_doctest() -> None:
    result = doctest.testmod(stmdenoise.lazy)
    assert result.failed == 0 and result.attempted > 0
