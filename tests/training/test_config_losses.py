"""TrainConfig validation and JSON round trip; the loss functions."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from stmdenoise.training import TrainConfig
from stmdenoise.training.losses import discriminator_loss, gan_loss, l1


def test_config_round_trips_through_json(tmp_path: Path) -> None:
    cfg = TrainConfig.from_dict({"variant": "pdanet", "real": ["a", "b"], "steps": 10, "crop": 64})
    cfg.save(tmp_path / "c.json")
    assert TrainConfig.load(tmp_path / "c.json") == cfg
    saved = json.loads((tmp_path / "c.json").read_text())
    assert set(saved) == {"variant", "arch", "norm", "sim", "losses", "run"} and saved["run"]["steps"] == 10
    losses = cfg.losses
    assert (
        losses.lambda_fa == 0.1
        and losses.lambda_d == losses.lambda_b == losses.lambda_cyc == losses.lambda_da == 1.0
    )
    assert (cfg.run.lr, cfg.run.beta1) == (2e-4, 0.5) and cfg.run.real == ("a", "b")
    assert TrainConfig.from_dict(cfg.to_flat()) == cfg  # the flat keys name every setting


@pytest.mark.parametrize(
    "changes",
    [
        {"variant": "unet"},
        {"crop": 30},
        {"steps": 0},
        {"gan_mode": "wgan"},
        {"lambda_fa": -1.0},
        {"device": "tpu"},
        {"variant": "pdanet", "real": ()},
        {"norm_scale": 0.0},
    ],
)
def test_bad_settings_raise(changes: dict[str, object]) -> None:
    base = {"variant": "cyclegan"}
    base.update(changes)
    with pytest.raises(ValueError):
        TrainConfig.from_dict(base)


def test_unknown_keys_are_named(tmp_path: Path) -> None:
    (tmp_path / "c.json").write_text('{"variant": "cyclegan", "stepz": 3}')
    with pytest.raises(ValueError, match="stepz"):
        TrainConfig.load(tmp_path / "c.json")


def test_supervised_gets_a_paired_weight_unless_the_user_gave_one() -> None:
    assert TrainConfig.from_dict({"variant": "supervised", "real": ["x"]}).lambda_sup == 10.0
    paired = TrainConfig.from_dict({"variant": "paired"})
    assert paired.lambda_sup == 10.0 and paired.losses.lambda_sup is None  # resolved on use, not stored
    assert paired.replace(variant="cyclegan").lambda_sup == 0.0  # so it follows the variant
    assert TrainConfig.from_dict({"variant": "pdanet", "real": ["x"]}).lambda_sup == 0.0
    # an explicit 0 stays 0 (it used to be replaced by 10 without a word)
    explicit = TrainConfig.from_dict({"variant": "supervised", "real": ["x"], "lambda_sup": 0})
    assert explicit.losses.lambda_sup == 0.0 and explicit.lambda_sup == 0.0
    assert TrainConfig.from_dict(explicit.to_dict()).lambda_sup == 0.0
    with pytest.raises(
        ValueError, match="paired L1 alone"
    ):  # paired has no other loss: refused, not replaced
        TrainConfig.from_dict({"variant": "paired", "lambda_sup": 0})


def test_losses() -> None:
    big = torch.full((2, 1, 3, 3), 20.0)
    assert float(gan_loss(big, True)) < 1e-6
    assert float(gan_loss(big, False)) > 10
    assert float(gan_loss(torch.ones(4), True, mode="lsgan")) == 0.0
    assert float(discriminator_loss(big, -big)) < 1e-6
    assert float(l1(torch.zeros(3), torch.ones(3))) == 1.0
    with pytest.raises(ValueError):
        gan_loss(big, True, mode="hinge")


def test_unsquash_inverts_the_tanh_map_and_weighs_errors_in_data_units() -> None:
    import torch

    from stmdenoise.model.folder import NormalizationSpec
    from stmdenoise.training.losses import l1, unsquash

    y = torch.tensor([-3.0, -0.5, 0.0, 0.7, 2.5], dtype=torch.float64)
    spec = NormalizationSpec(squash=0.5)
    x = torch.as_tensor(spec.forward(y.numpy()))
    assert torch.allclose(unsquash(x, 0.5), y, atol=1e-9)
    assert torch.equal(unsquash(x, 0.0), x)  # the linear map needs no inverse
    # the same 0.2 data-unit error at a core (y = -3) and in the background (y = 0)
    core = torch.as_tensor(spec.forward(np.array([-3.2])))
    back = torch.as_tensor(spec.forward(np.array([0.2])))
    assert float(l1(unsquash(core, 0.5), y[:1])) == pytest.approx(
        float(l1(unsquash(back, 0.5), y[2:3])), rel=1e-6
    )
    assert l1(core, x[:1]) < 0.25 * l1(back, x[2:3])  # in the squashed range the core's error nearly vanishes


def test_sup_space_is_validated(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from stmdenoise.training import TrainConfig

    cfg = TrainConfig.from_dict({"variant": "paired", "sup_space": "data", "out": str(tmp_path / "m")})
    assert cfg.losses.sup_space == "data"
    with pytest.raises(ValueError, match="sup_space"):
        TrainConfig.from_dict({"variant": "paired", "sup_space": "pixels", "out": str(tmp_path / "m")})


def test_range_mse_scores_the_min_max_rendering() -> None:
    from stmdenoise.metrics import mse, to_uint8
    from stmdenoise.training.losses import range_mse

    rng = np.random.default_rng(0)
    clean = rng.normal(size=(2, 1, 64, 64))
    clean[:, :, 5, 5] = 6.0  # an adsorbate peak sets the top of the scale
    # affine changes of either image cost nothing: the metric rescales them away
    a, b = torch.as_tensor(clean), torch.as_tensor(3.0 * clean - 7.0)
    assert float(range_mse(b, a)) < 1e-12
    # the same image with only its peak 30 % too low: every pixel moves in the 8-bit rendering
    low = clean.copy()
    low[:, :, 5, 5] = 4.2
    loss = float(range_mse(torch.as_tensor(low), a))
    assert loss > 1e-3
    assert float(l1(torch.as_tensor(low), a)) < 0.01  # while the L1 hardly sees one pixel
    # it is the 8-bit MSE (before rounding) divided by 255**2
    eight_bit = np.mean([mse(clean[i, 0], low[i, 0]) for i in range(2)]) / 255**2
    assert loss == pytest.approx(eight_bit, rel=0.05)
    assert to_uint8(low[0, 0]).max() == 255
    # gradients reach the extreme pixel
    t = torch.as_tensor(low).clone().requires_grad_(True)
    range_mse(t, a).backward()
    assert t.grad is not None and float(t.grad[0, 0, 5, 5]) < 0  # raise the peak


def test_ssim_loss_is_scikit_images_ssim_on_the_clean_crops_scale() -> None:
    from skimage.metrics import structural_similarity

    from stmdenoise.metrics.reference import SSIM_PARAMS
    from stmdenoise.training.losses import ssim_loss

    rng = np.random.default_rng(3)
    clean = rng.normal(size=(3, 1, 48, 40)).cumsum(axis=-1)  # some structure, not white noise
    noisy = clean + rng.normal(scale=0.8, size=clean.shape)
    got = float(ssim_loss(torch.as_tensor(noisy), torch.as_tensor(clean)))
    params = {**SSIM_PARAMS, "data_range": 1.0}
    want = []
    for i in range(3):
        c, n = clean[i, 0], noisy[i, 0]
        lo, span = c.min(), c.max() - c.min()
        want.append(1.0 - structural_similarity((c - lo) / span, (n - lo) / span, **params))
    assert got == pytest.approx(float(np.mean(want)), rel=1e-4)
    assert float(ssim_loss(torch.as_tensor(clean), torch.as_tensor(clean))) == pytest.approx(0.0, abs=1e-6)
    # the clean crop sets the scale: stretching the output's range is penalised, not rescaled away
    assert float(ssim_loss(torch.as_tensor(3.0 * clean), torch.as_tensor(clean))) > 0.05
    # gradients flow to the output
    t = torch.as_tensor(noisy).clone().requires_grad_(True)
    ssim_loss(t, torch.as_tensor(clean)).backward()
    assert t.grad is not None and float(t.grad.abs().sum()) > 0


def test_range_loss_needs_paired_crops(tmp_path: Path) -> None:
    cfg = TrainConfig.from_dict({"variant": "paired", "lambda_range": 300.0, "out": str(tmp_path / "m")})
    assert cfg.losses.lambda_range == 300.0
    with pytest.raises(ValueError, match="lambda_range"):
        TrainConfig.from_dict({"variant": "cyclegan", "lambda_range": 300.0})
    with pytest.raises(ValueError, match="lambda_range"):
        TrainConfig.from_dict({"variant": "paired", "lambda_range": -1.0})
    with pytest.raises(ValueError, match="lambda_ssim"):
        TrainConfig.from_dict({"variant": "cyclegan", "lambda_ssim": 10.0})
    with pytest.raises(ValueError, match="lambda_ssim"):
        TrainConfig.from_dict({"variant": "paired", "lambda_ssim": -1.0})
