"""Small inputs for batch tests: a tiny model and synthetic Nanonis scans at its pixel size."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from stmdenoise.io import write_sxm
from stmdenoise.scan import Scan

PX = 0.14e-9


def synthetic_scan(rows: int = 64, cols: int = 64, *, seed: int = 0, direction: str = "forward") -> Scan:
    """A rippled, tilted surface with pixel noise (the backward look has its own noise)."""
    rng = np.random.default_rng(seed + (7 if direction == "backward" else 0))
    yy, xx = np.mgrid[0:rows, 0:cols] * PX
    z = (
        3e-11 * np.cos(2 * np.pi * np.hypot(yy - 4e-9, xx - 5e-9) / (1.5e-9 + seed * 1e-10))
        + 2e-10 * xx / 1e-8
    )
    z += 5e-12 * rng.standard_normal(z.shape)
    return Scan(z, pixel_size=(PX, PX), channel="Z", unit="m", direction=direction, bias=0.1, setpoint=1e-10)


def write_scans(folder: Path, n: int, *, rows: int = 64) -> list[Path]:
    """``n`` Nanonis files with a forward and a backward Z frame each."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for k in range(n):
        frames = [
            synthetic_scan(rows, rows, seed=k),
            synthetic_scan(rows, rows, seed=k, direction="backward"),
        ]
        out.append(write_sxm(folder / f"scan_{k:02d}.sxm", frames))
    return out


def make_tiny_model(folder: Path, pixel_size: float = PX) -> Path:
    """An untrained two-generator PDA-Net of a few hundred weights at ``pixel_size`` (default
    0.14 nm/px; fast on a CPU)."""
    import torch

    from stmdenoise.model.folder import ModelInfo, NormalizationSpec, save_model_folder
    from stmdenoise.model.pdanet import ArchConfig, build_generators, init_weights

    torch.manual_seed(0)
    arch = ArchConfig(ngf=4, n_blocks=1, ndf=4, fa_width=4)
    g_d, g_da = build_generators(arch, "pdanet")
    init_weights(g_d)
    init_weights(g_da)
    info = ModelInfo(
        arch=arch, variant="pdanet", normalization=NormalizationSpec(), pixel_size=pixel_size, name="tiny"
    )
    return save_model_folder(folder, info, g_d, g_da)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """:func:`make_tiny_model` once per session."""
    return make_tiny_model(tmp_path_factory.mktemp("model") / "tiny")
