"""``stmdenoise train`` as a job: :func:`train` runs a :class:`~stmdenoise.training.loop.Trainer`.

A generator of :class:`TrainProgress` records (after setup, after every step, once more after the
files were written) returning a :class:`TrainResult`; it checks ``cancel`` between steps, writes
checkpoints every ``checkpoint_every`` steps and when cancelled, and writes the model folder at
the end. Split from :mod:`stmdenoise.training.loop` (the run's state, one step at a time), which
had grown past the house style's ~600 lines.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Generator, Mapping, Sequence

import numpy as np
import torch

from stmdenoise.scan import Scan
from stmdenoise.training.config import TrainConfig
from stmdenoise.training.data import F32, PairSampler
from stmdenoise.training.loop import Trainer
from stmdenoise.training.records import TrainProgress, TrainResult

__all__ = ["train"]


def _preview(g: Mapping[str, torch.Tensor], reals: tuple[torch.Tensor, ...]) -> dict[str, F32]:
    def im(t: torch.Tensor) -> F32:
        return t[0, 0].detach().float().cpu().numpy().astype(np.float32)

    out = {"noisy_sim": im(reals[1]), "denoised_sim": im(g["fake_s"]), "clean_sim": im(reals[0])}
    if len(reals) > 2 and "fake_e" in g:
        out["experimental"] = im(reals[2])
        out["denoised_experimental"] = im(g["fake_e"])
    return out


def train(
    config: TrainConfig,
    *,
    cancel: threading.Event | None = None,
    resume: bool = False,
    sim_sampler: PairSampler | None = None,
    real_scans: Sequence[Scan] | None = None,
) -> Generator[TrainProgress, None, TrainResult]:
    """Train PDA-Net; yields a :class:`TrainProgress` after setup and every step.

    A job (see :mod:`stmdenoise.jobs`): iterate it to run it; its return value is the
    :class:`TrainResult`.

    Parameters
    ----------
    config : TrainConfig
        The run (variant, sizes, data, output folder, seed ...).
    cancel : threading.Event, optional
        Set it to stop after the current step; a checkpoint and the model folder are written.
    resume : bool
        Continue from ``config.run.out/checkpoint`` (networks, optimizers, RNG states, step).
    sim_sampler : callable, optional
        Replaces :func:`stmdenoise.physics.sample_pair` for on-the-fly simulation.
    real_scans : sequence of Scan, optional
        Experimental scans in memory, instead of reading ``config.run.real``.

    Yields
    ------
    TrainProgress
        After setup, after every step, and once more after the files were written.

    Returns
    -------
    TrainResult
        The model folder, the last checkpoint, the steps done and whether the run was cancelled.
    """
    trainer = Trainer(config, sim_sampler=sim_sampler, real_scans=real_scans, resume=resume)
    cfg = config
    dev = str(trainer.device)
    losses: dict[str, float] = {}
    try:
        yield TrainProgress(
            done=trainer.step,
            total=cfg.run.steps,
            message=f"{cfg.variant} on {dev}" + (f" x{trainer.world}" if trainer.world > 1 else ""),
            device=dev,
        )
        t0 = time.perf_counter()
        start = trainer.step
        cancelled = False
        while trainer.step < cfg.run.steps:
            if cancel is not None and cancel.is_set():
                cancelled = True
                break
            losses, g, reals = trainer.train_step()
            if not all(math.isfinite(v) for v in losses.values()):
                raise FloatingPointError(f"training diverged at step {trainer.step}: losses {losses}")
            elapsed = time.perf_counter() - t0
            rate = (trainer.step - start) * cfg.run.batch * trainer.world / max(elapsed, 1e-9)
            eta = (cfg.run.steps - trainer.step) * cfg.run.batch * trainer.world / rate if rate > 0 else None
            ckpt = None
            if (
                cfg.run.checkpoint_every
                and trainer.step % cfg.run.checkpoint_every == 0
                and trainer.step < cfg.run.steps
            ):
                ckpt = trainer.save_checkpoint()
            preview = None
            if cfg.run.preview_every and (trainer.step % cfg.run.preview_every == 0 or trainer.step == 1):
                preview = _preview(g, reals)
            yield TrainProgress(
                done=trainer.step,
                total=cfg.run.steps,
                message=f"G {losses['G_total']:.3f} D {losses['D_total']:.3f} cyc {losses['cycle']:.3f}",
                losses=losses,
                images_per_s=rate,
                eta_s=eta,
                preview=preview,
                checkpoint=ckpt,
                device=dev,
            )
        ckpt = trainer.save_checkpoint() if cancelled or trainer.step >= cfg.run.steps else None
        model_dir = trainer.save_model(losses)
        yield TrainProgress(
            done=trainer.step,
            total=cfg.run.steps,
            message=("cancelled; checkpoint saved" if cancelled else "finished")
            + (f": {model_dir}" if model_dir else ""),
            checkpoint=ckpt,
            device=dev,
            cancelled=cancelled,
        )
        return TrainResult(model_dir, ckpt, trainer.step, cancelled, losses)
    finally:
        trainer.close()
