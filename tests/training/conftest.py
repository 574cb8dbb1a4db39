"""Tiny training fixtures: small configs and experimental scans in memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from stmdenoise.scan import Scan
from stmdenoise.training import TrainConfig


def _tiny_config(tmp_path: Path, **changes: object) -> TrainConfig:
    base = dict(
        variant="pdanet",
        steps=6,
        crop=32,
        batch=2,
        ngf=8,
        blocks=2,
        ndf=8,
        fa_width=8,
        sim_pixels=48,
        sim_size=48 * 0.14e-9,
        sim_pool=4,
        real=("in-memory",),
        out=str(tmp_path / "model"),
        checkpoint_every=0,
        preview_every=0,
        seed=3,
        device="cpu",
    )
    base.update(changes)
    return TrainConfig(**base)  # type: ignore[arg-type]


@pytest.fixture
def real_scans() -> list[Scan]:
    """Two 'experimental' scans: waves, tilt and noise, at another pixel size than the simulation."""
    rng = np.random.default_rng(5)
    scans = []
    for k in range(2):
        yy, xx = np.mgrid[0:60, 0:70] * 0.1e-9
        z = 2e-11 * np.cos(2 * np.pi * (xx + 0.3 * yy) / 1.5e-9 + k) + 1e-10 * xx / 7e-9
        z = z + 5e-12 * rng.standard_normal(z.shape)
        scans.append(Scan(z, pixel_size=(0.1e-9, 0.1e-9), channel="Z", unit="m"))
    return scans


class _StandInPair:
    def __init__(self, clean: np.ndarray, noisy: np.ndarray, pixel_size: float) -> None:
        self.clean, self.noisy, self.pixel_size, self.params = clean, noisy, pixel_size, {}


def stand_in_sample_pair(
    rng: np.random.Generator, *, pixels: int = 48, size: float = 6.7e-9, preset: str = "typical"
) -> _StandInPair:
    """Tiny stand-in for stmdenoise.physics.sample_pair (used only until the simulator lands)."""
    px = size / pixels
    yy, xx = np.mgrid[0:pixels, 0:pixels] * px
    clean = np.zeros((pixels, pixels))
    for _ in range(3):
        cy, cx = rng.uniform(0, size, 2)
        r = np.hypot(yy - cy, xx - cx) + 1e-10
        clean += np.cos(2 * np.pi * r / 1.5e-9) * np.exp(-r / 3e-9)
    noisy = clean + 0.1 * rng.standard_normal(clean.shape) + 0.1 * rng.standard_normal((pixels, 1))
    return _StandInPair(clean, noisy, px)


@pytest.fixture
def sampler():  # type: ignore[no-untyped-def]
    return stand_in_sample_pair


@pytest.fixture
def tiny_config():  # type: ignore[no-untyped-def]
    """``tiny_config(tmp_path, **changes)``: a TrainConfig small enough for a 2-core CI machine."""
    return _tiny_config


@pytest.fixture(autouse=True)
def _one_torch_thread():  # type: ignore[no-untyped-def]
    """One intra-op thread: on a shared 2-core machine more threads spin and slow everyone down."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
