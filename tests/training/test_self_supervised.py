"""Self-supervised real-data terms: alignment, blind-spot masking, test-scene refusal, train hook."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import ndimage

from stmdenoise.model.folder import NormalizationSpec
from stmdenoise.training.config import TrainConfig
from stmdenoise.training.real_pairs import (
    TestSceneError,
    align_pair,
    load_real_pairs,
    refuse_test_scene,
    to_network,
)
from stmdenoise.training.self_supervised import blindspot_mask, n2n_loss

SPEC = NormalizationSpec(squash=0.5)
KO = Path(__file__).resolve().parents[3] / "shared" / "reference" / "cu111_ko_group" / "experimental"


def _looks(rng: np.random.Generator, shift: tuple[float, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    clean = ndimage.gaussian_filter(rng.normal(size=(150, 150)), 3) * 10
    moved = ndimage.shift(clean, shift, order=3)
    a = clean[10:138, 10:138] + 0.05 * rng.normal(size=(128, 128))
    b = moved[10:138, 10:138] + 0.05 * rng.normal(size=(128, 128))
    return clean, a, b


def test_align_pair_recovers_the_shift_and_leaves_the_target_uninterpolated(rng: np.random.Generator) -> None:
    _, a, b = _looks(rng, (2.3, -1.6))
    p = align_pair(a, b, SPEC)
    assert p.shift == pytest.approx((-2.3, 1.6), abs=0.1)
    # the aligned input, back in data units, matches the target up to the two looks' noise
    y = np.arctanh(p.input.astype(np.float64)) / SPEC.squash
    assert np.std(y - p.target) < 0.15 * np.std(p.target)
    # the target is a crop of b, only levelled and scaled (never resampled): exact correlation 1
    h, w = p.target.shape
    best = max(
        abs(np.corrcoef(p.target.ravel(), b[r : r + h, c : c + w].ravel())[0, 1])
        for r in range(b.shape[0] - h + 1)
        for c in range(b.shape[1] - w + 1)
    )
    assert best == pytest.approx(1.0, abs=1e-3)


def test_an_unaligned_pair_is_a_worse_target(rng: np.random.Generator) -> None:
    _, a, b = _looks(rng, (0.0, 3.0))
    p = align_pair(a, b, SPEC)
    y = np.arctanh(p.input.astype(np.float64)) / SPEC.squash
    x_raw, norm = to_network(a[2:-2, 2:-2], SPEC)
    naive = norm.apply(b[2:-2, 2:-2] - b.mean())
    assert np.std(y - p.target) < 0.5 * np.std(np.arctanh(x_raw) / SPEC.squash - naive)


def test_blindspot_replaces_masked_pixels_by_a_neighbour_only() -> None:
    x = torch.arange(2 * 32 * 32, dtype=torch.float32).view(2, 1, 32, 32)
    masked, mask = blindspot_mask(x, 0.1, torch.Generator().manual_seed(0))
    assert mask.any(dim=(1, 2, 3)).all()
    assert torch.equal(masked[~mask], x[~mask])
    assert (masked[mask] != x[mask]).all()  # never the pixel's own value
    # each replacement comes from the same image within the 5 x 5 window
    for n, _, r, c in mask.nonzero().tolist():
        v = int(masked[n, 0, r, c])
        rr, cc = divmod(v - n * 1024, 32)
        assert 0 <= v - n * 1024 < 1024 and abs(rr - r) <= 2 and abs(cc - c) <= 2


def test_n2n_loss_is_zero_for_a_perfect_denoiser_and_rejects_shape_mismatch() -> None:
    t = torch.zeros(1, 1, 8, 8) + 0.3
    inp = torch.tanh(0.5 * t)
    assert float(n2n_loss(torch.nn.Identity(), inp, t, squash=0.5)) == pytest.approx(0.0, abs=1e-5)
    with pytest.raises(ValueError, match="one shape"):
        n2n_loss(torch.nn.Identity(), inp, t[..., :4], squash=0.5)


def test_the_ko_frames_are_refused_by_path_and_by_hash(tmp_path: Path) -> None:
    if not KO.is_dir():
        pytest.skip(f"{KO} is absent: this test needs the team's ../shared folder")
    frame = sorted(KO.glob("*.jpg"))[0]
    with pytest.raises(TestSceneError, match="test scene"):
        refuse_test_scene(frame)
    renamed = tmp_path / "my_scan.jpg"
    shutil.copyfile(frame, renamed)
    with pytest.raises(TestSceneError, match="SHA-256"):
        refuse_test_scene(renamed)
    with pytest.raises(TestSceneError):
        TrainConfig.from_dict(dict(variant="paired", lambda_n2n=1.0, real_pairs=(str(tmp_path),)))


def test_config_checks_the_self_supervised_block() -> None:
    with pytest.raises(ValueError, match="lambda_n2n needs"):
        TrainConfig.from_dict(dict(variant="paired", lambda_n2n=1.0))
    with pytest.raises(ValueError, match="blindspot_fraction"):
        TrainConfig.from_dict(dict(variant="paired", blindspot_fraction=0.9))
    cfg = TrainConfig.from_dict(dict(variant="paired", lambda_n2n=0.5, real_pairs=("a.sxm",)))
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg


def test_real_scans_give_aligned_pairs_and_train_runs_with_the_terms(
    realdata_dir: Path, tmp_path: Path
) -> None:
    scans = [
        realdata_dir / "nanonis" / n for n in ("CO_img_0050.sxm", "TR_img_0249.sxm", "TR_dIdV_00006.dat")
    ]
    pairs, singles, skipped = load_real_pairs(scans, pixel_size=35e-12, spec=SPEC)
    assert len(pairs) == 4 and len(singles) == 2
    assert [p.name for p, _ in skipped] == ["TR_dIdV_00006.dat"]  # a spectrum: no frame
    for p in pairs:
        assert p.input.shape == p.target.shape and min(p.input.shape) >= 100
        assert abs(p.shift[0]) < 3 and abs(p.shift[1]) < 4

    from stmdenoise.training import train

    cfg = TrainConfig.from_dict(dict(
        variant="paired", steps=2, crop=32, batch=2, ngf=8, blocks=1, sim_pixels=64, sim_size=2.2e-9,
        sim_pool=2, out=str(tmp_path / "m"), device="cpu", lambda_n2n=1.0, lambda_blindspot=0.5,
        real_pairs=tuple(str(s) for s in scans[:2]), preview_every=0, checkpoint_every=0,
    ))  # fmt: skip
    records = list(train(cfg))
    assert {"n2n", "blindspot"} <= set(records[-2].losses)
    assert all(np.isfinite(list(records[-2].losses.values())))
