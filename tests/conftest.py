"""Shared fixtures: paths to ../shared material (skipping with a reason when absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
REALDATA = SHARED / "realdata"


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is absent: this test needs the team's ../shared folder beside the checkout")
    return path


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` beside the checkout (skips when absent)."""
    return _require(SHARED)


@pytest.fixture(scope="session")
def realdata_dir() -> Path:
    """``../shared/realdata`` (skips when absent)."""
    return _require(REALDATA)


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator: tests are deterministic."""
    return np.random.default_rng(20261125)


@pytest.fixture(autouse=True)
def _isolated_user_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch the real user data folder from a test."""
    monkeypatch.setenv("STMDENOISE_USER_DIR", str(tmp_path_factory.mktemp("userdir")))
