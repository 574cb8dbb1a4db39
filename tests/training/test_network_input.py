"""Training and inference feed the networks the same input for the same scan (array-equal).

The inference side is what the Denoiser actually hands its generator (a forward pre-hook on the
network); the training side is what the training data pipeline builds for the same scan.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from stmdenoise.denoise import Denoiser
from stmdenoise.model.folder import ModelInfo, save_model_folder
from stmdenoise.model.pdanet import ArchConfig, build_generators, init_weights
from stmdenoise.processing import NormalizationSpec
from stmdenoise.scan import Scan
from stmdenoise.training.data import _Norm, _PairNorm, prepare_real

PX = 0.14e-9


def _denoiser(folder: Path, spec: NormalizationSpec, pixel_size: float = PX) -> Denoiser:
    torch.manual_seed(0)
    arch = ArchConfig(ngf=4, n_blocks=1, ndf=4, fa_width=4)
    g_d, g_da = build_generators(arch, "pdanet")
    init_weights(g_d)
    init_weights(g_da)
    info = ModelInfo(arch=arch, variant="pdanet", normalization=spec, pixel_size=pixel_size, name="tiny")
    return Denoiser.from_folder(save_model_folder(folder, info, g_d, g_da), device="cpu", backend="torch")


def _network_input(den: Denoiser, scan: Scan) -> np.ndarray:
    """The array the Denoiser passes to its generator for ``scan`` (one pass, one tile)."""
    seen: list[np.ndarray] = []
    _, gen = den.generator_for(scan)
    hook = gen.register_forward_pre_hook(lambda _m, args: seen.append(args[0][0, 0].cpu().numpy().copy()))
    try:
        den.denoise(scan)
    finally:
        hook.remove()
    assert len(seen) == 1, "expected one untiled network pass"
    return seen[0]


def _training_norm(spec: NormalizationSpec) -> _Norm:
    """The training loop's normaliser for a model saved with ``spec`` (same numbers)."""
    return _Norm(spec.low_pct, spec.high_pct, spec.scale, spec.squash)


def _synthetic(px: float, seed: int) -> Scan:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:90, 0:70] * px
    z = 3e-11 * np.cos(2 * np.pi * np.hypot(yy - 4e-9, xx - 5e-9) / 1.5e-9) + 2e-10 * xx / 1e-8
    return Scan(z + 5e-12 * rng.standard_normal(z.shape), pixel_size=(px, px), channel="Z", unit="m")


SPECS = [NormalizationSpec(), NormalizationSpec(low_pct=1.0, high_pct=98.0, level=False, squash=0.0)]


@pytest.mark.parametrize("spec", SPECS, ids=["default", "linear-unlevelled"])
@pytest.mark.parametrize("px", [PX, 0.7 * PX, 1.6 * PX], ids=["same-grid", "finer", "coarser"])
def test_experimental_scan_reaches_the_network_as_in_training(
    tmp_path: Path, spec: NormalizationSpec, px: float
) -> None:
    den = _denoiser(tmp_path / "m", spec)
    scan = _synthetic(px, seed=1)
    inference = _network_input(den, scan)
    training = prepare_real(scan, pixel_size=den.pixel_size, level=spec.level, normalise=_training_norm(spec))
    assert training.dtype == np.float32 and training.shape == inference.shape
    assert np.array_equal(training, inference)


@pytest.mark.parametrize("spec", SPECS, ids=["default", "linear-unlevelled"])
def test_simulated_noisy_image_reaches_the_network_as_in_training(
    tmp_path: Path, spec: NormalizationSpec
) -> None:
    den = _denoiser(tmp_path / "m", spec)
    noisy = _synthetic(PX, seed=2)
    clean = _synthetic(PX, seed=3)
    scan = Scan(noisy.data, pixel_size=(PX, PX), header={"simulated": True})
    inference = _network_input(den, scan)
    _, training = _PairNorm(spec.low_pct, spec.high_pct, spec.scale, spec.squash, spec.level)(
        clean.data, noisy.data
    )
    assert np.array_equal(training, inference)


@pytest.mark.realdata
def test_real_scan_reaches_the_network_as_in_training(tmp_path: Path, realdata_dir: Path) -> None:
    from stmdenoise.io import read_scan

    scan = read_scan(realdata_dir / "nanonis" / "Au_mica_2023_Y_A_diPAMY_195.sxm")  # 4 nm, 256 px
    assert np.isfinite(scan.data).all()
    den = _denoiser(tmp_path / "m", NormalizationSpec(), pixel_size=0.02e-9)  # resampled to 200 px
    inference = _network_input(den, scan)
    training = prepare_real(
        scan, pixel_size=den.pixel_size, level=True, normalise=_training_norm(NormalizationSpec())
    )
    assert np.array_equal(training, inference)
