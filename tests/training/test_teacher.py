"""`stmdenoise train --lambda-teacher`: a fine-tune keeps the starting G_D's answers on scenes of
``--teacher-world`` (ours; Learning without Forgetting)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from stmdenoise.model.folder import load_model_folder
from stmdenoise.training import TrainConfig, Trainer, train

TINY: dict[str, Any] = {
    "variant": "paired", "crop": 32, "batch": 2, "ngf": 8, "blocks": 1, "sim_pixels": 48,
    "sim_size": 4e-9, "sim_pool": 2, "device": "cpu", "preview_every": 0, "checkpoint_every": 0,
    "seed": 3,
}  # fmt: skip


def _trainer(tmp_path: Path, name: str, **settings: Any) -> Trainer:
    cfg = TrainConfig.from_dict({**TINY, "out": str(tmp_path / name), **settings})
    return Trainer(cfg, sim_sampler=None, real_scans=None, resume=False)


@pytest.fixture(scope="module")
def start(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small model folder to fine-tune from (a few paired steps at a high rate)."""
    folder = tmp_path_factory.mktemp("teacher")
    trainer = _trainer(folder, "start", steps=3, lr=1e-2)
    try:
        for _ in range(3):
            losses, _, _ = trainer.train_step()
        trainer.save_model(losses)
    finally:
        trainer.close()
    return folder / "start"


def test_the_term_needs_a_starting_model_and_paired_losses() -> None:
    with pytest.raises(ValueError, match="lambda_teacher keeps the starting model's answers"):
        TrainConfig.from_dict({"variant": "paired", "lambda_teacher": 1.0})
    with pytest.raises(ValueError, match="lambda_teacher weighs the paired losses"):
        TrainConfig.from_dict({"variant": "cyclegan", "lambda_teacher": 1.0, "init": "m"})


def test_the_teacher_is_the_starting_g_d_on_scenes_of_their_own(tmp_path: Path, start: Path) -> None:
    trainer = _trainer(tmp_path, "t", steps=1, init=str(start), sim_world="biases", lambda_teacher=1.0)
    try:
        assert trainer.teacher is not None
        source = trainer.teacher.sim.description()["source"]
        assert source.startswith("on the fly (stmdenoise.physics") and source.endswith(".sample_pair)")
        # its own stream: the teacher's scene k is not the training stream's scene k
        ours = trainer.sim._raw(0).noisy  # type: ignore[attr-defined]
        theirs = trainer.teacher.sim._raw(0).noisy
        assert np.abs(ours - theirs).max() > 0.1 * np.abs(ours).max()
        # before the first step the student is the teacher: the term is zero
        terms: dict[str, torch.Tensor] = {}
        total = trainer._teacher_terms(terms)
        assert isinstance(total, torch.Tensor) and float(total.detach()) == pytest.approx(0.0, abs=1e-6)
        assert float(terms["teacher_sup_L1"].detach()) == pytest.approx(0.0, abs=1e-6)
        losses, _, _ = trainer.train_step()
        assert "teacher_sup_L1" in losses
    finally:
        trainer.close()
    _, g_d, _ = load_model_folder(start)
    assert all(not p.requires_grad for p in trainer.teacher.g_d.parameters())
    for a, b in zip(g_d.state_dict().values(), trainer.teacher.g_d.state_dict().values(), strict=True):
        assert torch.equal(a, b)  # the teacher never moved


def _drift(tmp_path: Path, start: Path, name: str, weight: float) -> float:
    """Mean |G_D - start's G_D| on fixed paper-world crops after 12 steps of a biases fine-tune."""
    trainer = _trainer(
        tmp_path, name, steps=12, lr=3e-3, init=str(start), sim_world="biases", lambda_teacher=weight
    )
    probe = _trainer(tmp_path, name + "-probe", steps=1, init=str(start), lambda_teacher=1.0)
    try:
        for _ in range(12):
            trainer.train_step()
        assert probe.teacher is not None
        crops = [probe.teacher.sim.pair(k)[1][:32, :32] for k in range(2)]
        x = probe._tensor(crops)
        with torch.no_grad():
            return float((trainer.net.g_d(x) - probe.teacher(x)).abs().mean())
    finally:
        trainer.close()
        probe.close()


def test_the_term_holds_the_fine_tune_near_the_start_on_the_teachers_scenes(
    tmp_path: Path, start: Path
) -> None:
    # the control draws the same crops (a weight of 1e-9 keeps the term, and so the data stream)
    free = _drift(tmp_path, start, "free", 1e-9)
    held = _drift(tmp_path, start, "held", 20.0)
    assert held < 0.7 * free


def test_a_run_with_the_teacher_resumes_exactly(tmp_path: Path, start: Path, stop_and_resume: Any) -> None:
    def cfg(name: str) -> TrainConfig:
        settings = {"steps": 6, "lr": 1e-3, "init": str(start), "sim_world": "biases", "lambda_teacher": 1.0}
        return TrainConfig.from_dict({**TINY, "out": str(tmp_path / name), **settings})

    ref = [dict(r.losses) for r in train(cfg("whole"), sim_sampler=None, real_scans=None) if r.losses]
    got = stop_and_resume(cfg("part"), 3, sim_sampler=None, real_scans=None)
    assert len(ref) == 6 and all(r["teacher_sup_L1"] > 0 for r in ref[1:])
    for a, b in zip(ref, got, strict=True):
        assert a == pytest.approx(b, rel=1e-6, abs=1e-7)
