"""Tiny training fixtures: small configs and experimental scans in memory."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from stmdenoise.scan import Scan
from stmdenoise.training import TrainConfig, train
from stmdenoise.training.checkpoint import checkpoint_exists

#: Network and simulation sizes small enough for a shared 2-core CI machine (also the GUI's training tests).
TINY_SIZES: dict[str, object] = dict(
    ngf=8, blocks=2, ndf=8, fa_width=8, sim_pixels=48, sim_size=48 * 0.14e-9, sim_pool=4
)


def _tiny_config(tmp_path: Path, **changes: object) -> TrainConfig:
    base = dict(
        variant="pdanet",
        steps=6,
        crop=32,
        batch=2,
        **TINY_SIZES,
        real=("in-memory",),
        out=str(tmp_path / "model"),
        checkpoint_every=0,
        preview_every=0,
        seed=3,
        device="cpu",
    )
    base.update(changes)
    return TrainConfig.from_dict(base)  # flat keys, the CLI flag names


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


@pytest.fixture
def tiny_config():  # type: ignore[no-untyped-def]
    """``tiny_config(tmp_path, **changes)``: a TrainConfig small enough for a 2-core CI machine."""
    return _tiny_config


def _stop_and_resume(cfg: TrainConfig, after: int, **kw: Any) -> list[dict[str, float]]:
    losses: list[dict[str, float]] = []
    cancel = threading.Event()
    for rec in train(cfg, cancel=cancel, **kw):
        if rec.losses:
            losses.append(dict(rec.losses))
            if len(losses) == after:
                cancel.set()
    assert len(losses) == after and checkpoint_exists(cfg.run.out)
    losses += [dict(rec.losses) for rec in train(cfg, resume=True, **kw) if rec.losses]
    return losses


@pytest.fixture
def stop_and_resume():  # type: ignore[no-untyped-def]
    """``stop_and_resume(cfg, after, **train_kw)``: the step losses of a run cancelled after ``after``
    steps (its checkpoint checked) followed by those of its resumption."""
    return _stop_and_resume


@pytest.fixture(autouse=True)
def _one_torch_thread():  # type: ignore[no-untyped-def]
    """One intra-op thread: on a shared 2-core machine more threads spin and slow everyone down."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
