"""``--lambda-teacher`` (ours, not the paper's): the starting model's G_D, frozen, answering on a
stream of simulated scenes of its own.

A fine-tune toward a new world (e.g. ``--sim-world biases``) also matches, each step, the starting
model's answers on noisy crops of ``--teacher-world``, so it keeps what that model did on the
scenes it was trained for (Learning without Forgetting, Li and Hoiem, ECCV 2016). The loss itself
is the training loop's paired losses with the teacher's answer as the target
(:meth:`stmdenoise.training.loop.Trainer._teacher_terms`); candidates GT, GT2 and GT3 of
docs/model-selection.md are its ablation.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from stmdenoise.model.folder import load_model_folder
from stmdenoise.training.data import F32, OnTheFlySim, crop_and_augment

__all__ = ["TEACHER_STREAM", "Teacher"]

#: The seed tag of the teacher's scenes (the training pairs use OnTheFlySim's default).
TEACHER_STREAM = 0x7EAC


class Teacher:
    """The G_D of model folder ``folder``, frozen, on ``device``, and ``sim``, its scenes (drawn
    with :data:`TEACHER_STREAM`), which must share the training pairs' grid ``pixel_size``."""

    def __init__(self, folder: Path, sim: OnTheFlySim, *, pixel_size: float, device: torch.device) -> None:
        if abs(sim.pixel_size - pixel_size) > 1e-3 * pixel_size:
            raise ValueError(
                f"--lambda-teacher: its scenes are drawn at {sim.pixel_size * 1e12:.4g} pm/px and the "
                f"training pairs are at {pixel_size * 1e12:.4g} pm/px; they must share a grid"
            )
        self.g_d = load_model_folder(folder, device=device)[1].requires_grad_(False)
        self.sim = sim

    def crops(self, step: int, crop: int, batch: int, rng: np.random.Generator) -> list[F32]:
        """``batch`` noisy crops of the scenes in the pool of ``step``, drawn with ``rng``."""
        pool = self.sim.indices(step)
        return [
            crop_and_augment(self.sim.pair(pool[int(rng.integers(len(pool)))])[1], crop, rng)
            for _ in range(batch)
        ]

    def __call__(self, noisy: torch.Tensor) -> torch.Tensor:
        """The starting model's answer on ``noisy`` (no gradient)."""
        with torch.no_grad():
            out: torch.Tensor = self.g_d(noisy)
        return out
