"""The training loop: every variant learns, resume is exact, cancel checkpoints, model folders load."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from stmdenoise.jobs import run_job
from stmdenoise.model.folder import load_model_folder, read_model_info
from stmdenoise.model.pdanet import VARIANTS
from stmdenoise.training import TrainProgress, TrainResult, train
from stmdenoise.training.checkpoint import checkpoint_exists


def _run_job(cfg, sampler, real_scans, **kw) -> tuple[list[TrainProgress], TrainResult]:  # type: ignore[no-untyped-def]
    recs: list[TrainProgress] = []
    result = run_job(train(cfg, sim_sampler=sampler, real_scans=real_scans, **kw), recs.append)
    assert isinstance(result, TrainResult)
    return recs, result


def _run(cfg, sampler, real_scans, **kw) -> list[TrainProgress]:  # type: ignore[no-untyped-def]
    return _run_job(cfg, sampler, real_scans, **kw)[0]


@pytest.mark.parametrize("variant", [v for v in VARIANTS if v != "paired"])
def test_each_variant_lowers_the_cycle_loss(
    variant: str, tmp_path: Path, sampler, real_scans, tiny_config
) -> None:  # type: ignore[no-untyped-def]
    # lambda_cyc 10 (CycleGAN's usual weight) makes the trend visible within 30 tiny steps
    cfg = tiny_config(tmp_path, variant=variant, steps=30, lr=1e-3, lambda_cyc=10.0, preview_every=15)
    recs, result = _run_job(cfg, sampler, real_scans)
    cyc = [r.losses["cycle"] for r in recs if r.losses]
    assert len(cyc) == 30
    assert np.mean(cyc[-5:]) < 0.85 * np.mean(cyc[:5]), cyc
    expected = {"adv_D", "adv_B", "cyc_fwd", "cyc_bwd", "D_D", "D_B"}
    if variant != "cyclegan":
        expected |= {"adv_DA", "D_DA"}
    if variant in ("pdanet", "supervised"):
        expected |= {"adv_FA", "D_FA"}
    if variant == "supervised":
        expected |= {"sup_L1"}
    assert expected <= set(recs[-2].losses)
    previews = [r.preview for r in recs if r.preview]
    assert previews and previews[0]["denoised_sim"].shape == (32, 32)
    assert result.model_dir == cfg.run.out and not result.cancelled and result.steps == 30
    assert not any(r.cancelled for r in recs)
    assert result.losses == recs[-2].losses  # the last step's
    info, g_d, g_da = load_model_folder(cfg.run.out)
    assert info.variant == variant and info.steps == 30
    assert (g_da is g_d) == (variant == "cyclegan")
    if variant in ("cyclegan+da+ws", "pdanet", "supervised"):
        assert g_da.up is g_d.up


def test_resume_equals_an_uninterrupted_run(
    tmp_path: Path, sampler, real_scans, tiny_config, stop_and_resume
) -> None:  # type: ignore[no-untyped-def]
    full = tiny_config(tmp_path / "a", steps=6)
    ref = [r.losses for r in _run(full, sampler, real_scans) if r.losses]
    part = tiny_config(tmp_path / "b", steps=6)
    got = stop_and_resume(part, 3, sim_sampler=sampler, real_scans=real_scans)
    assert len(ref) == 6
    for a, b in zip(ref, got, strict=True):
        assert a == pytest.approx(b, rel=1e-6, abs=1e-7)


def test_ema_saves_the_weight_average_and_resumes_exactly(
    tmp_path: Path, sampler, real_scans, tiny_config
) -> None:  # type: ignore[no-untyped-def]
    from stmdenoise.training import Trainer

    with pytest.raises(ValueError, match="ema"):
        tiny_config(tmp_path / "bad", ema=1.0)
    cfg = tiny_config(tmp_path / "a", variant="paired", steps=6, lr=1e-3, ema=0.5)
    t = Trainer(cfg, sim_sampler=sampler, real_scans=None, resume=False)
    assert t.ema is not None and set(t.ema.average) == {k for k in t.net.state_dict() if k.startswith("g_d.")}
    start = {k: v.clone() for k, v in t.ema.average.items()}
    for _ in range(2):
        t.train_step()
    live = {k: v.detach().clone() for k, v in t.net.state_dict().items() if k.startswith("g_d.")}
    for k, a in t.ema.average.items():  # two steps of decay 0.5: (start + w1) / 4 + w2 / 2, between the two
        assert not torch.equal(a, live[k]) or torch.equal(start[k], live[k])
    t.save_model({})
    _, g_d, _ = load_model_folder(cfg.run.out)
    for k, v in g_d.state_dict().items():
        assert torch.equal(v, t.ema.average[f"g_d.{k}"])  # the folder holds the average ...
        assert torch.equal(
            t.net.g_d.state_dict()[k], live[f"g_d.{k}"]
        )  # ... and training goes on from the live weights

    # a run cancelled after 3 steps and resumed saves the same average as an uninterrupted one
    full = tiny_config(tmp_path / "full", variant="paired", steps=6, lr=1e-3, ema=0.5)
    _run(full, sampler, None)
    part = tiny_config(tmp_path / "part", variant="paired", steps=6, lr=1e-3, ema=0.5)
    cancel = threading.Event()
    for rec in train(part, cancel=cancel, sim_sampler=sampler, real_scans=None):
        if rec.losses and rec.done == 3:
            cancel.set()
    _run(part, sampler, None, resume=True)
    a, b = load_model_folder(full.run.out)[1].state_dict(), load_model_folder(part.run.out)[1].state_dict()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=1e-6, atol=1e-7)


def test_cancel_saves_a_checkpoint_and_a_model(tmp_path: Path, sampler, real_scans, tiny_config) -> None:  # type: ignore[no-untyped-def]
    cfg = tiny_config(tmp_path, steps=50)
    cancel = threading.Event()
    recs: list[TrainProgress] = []

    def on_record(rec: TrainProgress) -> None:
        recs.append(rec)
        if rec.done == 2:
            cancel.set()

    result = run_job(train(cfg, cancel=cancel, sim_sampler=sampler, real_scans=real_scans), on_record)
    assert isinstance(result, TrainResult) and result.cancelled and result.steps == 2
    assert result.checkpoint and result.model_dir == cfg.run.out
    last = recs[-1]
    assert last.done == 2 and last.checkpoint and last.cancelled
    assert not any(r.cancelled for r in recs[:-1])
    assert checkpoint_exists(cfg.run.out)
    assert read_model_info(cfg.run.out).steps == 2


def test_periodic_checkpoints(tmp_path: Path, sampler, real_scans, tiny_config) -> None:  # type: ignore[no-untyped-def]
    cfg = tiny_config(tmp_path, steps=4, checkpoint_every=2, variant="cyclegan", real=())
    recs = _run(cfg, sampler, None)
    assert [r.done for r in recs if r.checkpoint] == [2, 4]


def test_resume_without_checkpoint_is_refused(tmp_path: Path, sampler, real_scans, tiny_config) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(FileNotFoundError):
        _run(tiny_config(tmp_path), sampler, real_scans, resume=True)


def test_experimental_scans_are_resampled_to_the_simulation_pixel_size(
    tmp_path: Path, sampler, real_scans, tiny_config, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    cfg = tiny_config(tmp_path, steps=1)
    with caplog.at_level("INFO"):
        recs = _run(cfg, sampler, real_scans)
    assert "resampled" in caplog.text
    exp = read_model_info(cfg.run.out).training["experimental"]
    # 60 x 70 px at 0.1 nm -> 43 x 50 px at 0.14 nm
    assert exp[0]["pixels"] == [43, 50]
    assert recs[0].device == "cpu"


def test_hdf5_simulated_dataset(tmp_path: Path, sampler, real_scans, tiny_config, make_dataset) -> None:  # type: ignore[no-untyped-def]
    path = make_dataset(tmp_path / "sim.h5", count=3, pixels=40)
    cfg = tiny_config(tmp_path, steps=2, sim=str(path))
    _, result = _run_job(cfg, sampler, real_scans)
    assert result.model_dir == cfg.run.out
    sim = read_model_info(cfg.run.out).training["simulated"]
    assert sim["pairs"] == 3 and sim["pixels"] == 40


def test_supervised_residual_run_with_noisy_pair_statistics(
    tmp_path: Path, sampler, real_scans, tiny_config
) -> None:  # type: ignore[no-untyped-def]
    cfg = tiny_config(
        tmp_path,
        variant="supervised",
        pair_norm="noisy",
        norm_squash=0.25,
        residual=True,
        steps=2,
        lambda_range=50.0,
    )
    _, result = _run_job(cfg, sampler, real_scans)
    assert result.model_dir and {"sup_L1", "range"} <= set(result.losses)
    info = read_model_info(cfg.run.out)
    assert info.training["config"]["sim"]["pair_norm"] == "noisy" and info.arch.residual
    _, g_d, g_da = load_model_folder(cfg.run.out)
    assert g_d.residual and g_da.residual and g_da.up is g_d.up


def test_anchor_pulls_g_da_towards_g_d_on_experimental_scans(
    tmp_path: Path, sampler, real_scans, tiny_config
) -> None:  # type: ignore[no-untyped-def]
    from stmdenoise.training import Trainer

    with pytest.raises(ValueError, match="lambda_anchor"):
        tiny_config(tmp_path / "no", variant="cyclegan", lambda_anchor=1.0)
    cfg = tiny_config(
        tmp_path, variant="supervised", residual=True, sup_space="data", steps=25, lr=1e-3,
        lambda_anchor=100.0, lambda_d=0.0, lambda_b=0.0, lambda_cyc=0.0, lambda_da=0.0, lambda_fa=0.0,
    )  # fmt: skip
    t = Trainer(cfg, sim_sampler=sampler, real_scans=real_scans, resume=False)
    anchors, totals = [], []
    for _ in range(cfg.run.steps):
        losses, g, _ = t.train_step()
        anchors.append(losses["anchor"])
        totals.append(losses["G_total"] - 10.0 * losses["sup_L1"])
        assert not g["anchor_e"].requires_grad  # G_D is a target here, not trained by the anchor
    assert totals[-1] == pytest.approx(100.0 * anchors[-1], rel=1e-4)
    assert np.mean(anchors[-5:]) < 0.5 * np.mean(anchors[:5]), anchors


def test_paired_pretraining_lowers_l1_and_starts_a_pdanet_run(
    tmp_path: Path, sampler, real_scans, tiny_config
) -> None:  # type: ignore[no-untyped-def]
    pre = tiny_config(
        tmp_path / "pre",
        variant="paired",
        residual=True,
        pair_norm="noisy",
        steps=30,
        lr=1e-3,
        lambda_range=5.0,
        lambda_ssim=2.0,
        sup_space="data",
    )
    assert pre.lambda_sup == 10.0  # the paired variant needs its L1 weight
    recs = _run(pre, sampler, real_scans=None)  # no experimental scans needed
    steps = [r.losses for r in recs if r.losses]
    assert len(steps) == 30
    sup = [s["sup_L1"] for s in steps]
    assert np.mean(sup[-5:]) < np.mean(sup[:5]), sup
    last = steps[-1]
    total = 10.0 * last["sup_L1"] + 5.0 * last["range"] + 2.0 * last["ssim"]
    assert last["G_total"] == pytest.approx(total, rel=1e-5)
    info, g_d, g_da = load_model_folder(pre.run.out)
    assert info.variant == "paired" and g_da is g_d

    # a PDA-Net run started from it: G_D and G_DA begin as the pre-trained G_D, here with a
    # low-passed skip (a setting, not a weight, so the pre-trained tensors fit)
    fine = tiny_config(
        tmp_path / "fine",
        variant="supervised",
        residual=True,
        skip_blur=0.7,
        pair_norm="noisy",
        steps=1,
        init=pre.run.out,
    )
    from stmdenoise.training import Trainer

    t = Trainer(fine, sim_sampler=sampler, real_scans=real_scans, resume=False)
    for name, p in g_d.state_dict().items():
        assert torch.equal(t.net.g_d.state_dict()[name], p)
        assert torch.equal(t.net.g_da.state_dict()[name], p)
    assert t.net.g_da.up is t.net.g_d.up
    assert t.net.g_d.skip_blur == t.net.g_da.skip_blur == 0.7 and t.net.g_b.skip_blur == 0.0
    assert _run_job(fine, sampler, real_scans)[1].model_dir == fine.run.out
    info, g_d, g_da = load_model_folder(fine.run.out)
    assert info.arch.skip_blur == 0.7 and g_d.skip_blur == g_da.skip_blur == 0.7

    wrong = tiny_config(tmp_path / "wrong", variant="supervised", ngf=4, steps=1, init=pre.run.out)
    with pytest.raises(ValueError, match="architecture"):
        Trainer(wrong, sim_sampler=sampler, real_scans=real_scans, resume=False)


def test_extreme_crops_hold_each_pairs_peak_or_core(tmp_path: Path, sampler, tiny_config) -> None:  # type: ignore[no-untyped-def]
    from stmdenoise.training import Trainer

    # 48-px simulated images, 16-px crops: a uniform crop rarely holds the image's extreme pixel
    cfg = tiny_config(tmp_path, variant="paired", crop=16, batch=8, extreme_crops=1.0, steps=1)
    t = Trainer(cfg, sim_sampler=sampler, real_scans=None, resume=False)
    pool = [t.sim.pair(i)[0] for i in t.sim.indices(0)]
    extremes = {float(c.max()) for c in pool} | {float(c.min()) for c in pool}
    s, bs, _ = t._batch()
    for crop in s[:, 0].numpy():
        assert float(crop.max()) in extremes or float(crop.min()) in extremes
    assert bs.shape == s.shape
