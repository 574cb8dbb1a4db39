"""Shared fixtures: paths to ../shared material (skipping with a reason when absent), the simulator."""

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


@pytest.fixture
def sampler():  # type: ignore[no-untyped-def]
    """The real on-the-fly simulator (tiny sizes in the tests)."""
    from stmdenoise.physics import sample_pair

    return sample_pair


def _make_dataset(path: Path, *, count: int = 3, pixels: int = 40, seed: int = 0) -> Path:
    from stmdenoise.physics import simulate_dataset

    for _ in simulate_dataset(path, count=count, pixels=pixels, size=pixels * 0.14e-9, seed=seed, workers=1):
        pass
    return path


@pytest.fixture
def make_dataset():  # type: ignore[no-untyped-def]
    """``make_dataset(path, count=3, pixels=40)``: a tiny HDF5 written by the real simulator."""
    return _make_dataset
