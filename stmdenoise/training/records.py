"""The records of a training run: :class:`TrainProgress` (yielded) and :class:`TrainResult`
(returned). Torch-free, so the app can name them without loading the training loop."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

__all__ = ["TrainProgress", "TrainResult"]

F32 = NDArray[np.float32]


@dataclass(frozen=True)
class TrainProgress:
    """One progress record of :func:`train`.

    Attributes
    ----------
    done, total : int
        Steps finished and planned.
    message : str
        Short human summary.
    losses : Mapping[str, float]
        Loss terms of the last step (``G_total``, ``D_total``, ``cycle``, ``adv_D`` ...).
    images_per_s : float
        Training throughput (images per domain per second, all processes).
    eta_s : float or None
        Estimated seconds to the end.
    preview : Mapping[str, ndarray] or None
        Every ``preview_every`` steps: 2-D float32 arrays in [-1, 1] (``noisy_sim``,
        ``denoised_sim``, ``clean_sim``, and ``experimental``, ``denoised_experimental``).
    checkpoint : str or None
        Folder of a checkpoint written at this step.
    device : str
        Device used.
    cancelled : bool
        True on the last record of a run that ``cancel`` stopped (its checkpoint was saved).
    """

    done: int
    total: int
    message: str = ""
    losses: Mapping[str, float] = field(default_factory=dict)
    images_per_s: float = 0.0
    eta_s: float | None = None
    preview: Mapping[str, F32] | None = None
    checkpoint: str | None = None
    device: str = "cpu"
    cancelled: bool = False


@dataclass(frozen=True)
class TrainResult:
    """What :func:`train` returns (the generator's return value), finished or cancelled.

    Attributes
    ----------
    model_dir : str or None
        Model folder written (None in processes other than rank 0).
    checkpoint : str or None
        Checkpoint written at the end (None on ranks other than 0).
    steps : int
        Steps done.
    cancelled : bool
        True when ``cancel`` stopped the run before ``config.run.steps`` (a rerun with ``resume``
        continues it).
    losses : Mapping[str, float]
        Loss terms of the last step (empty when no step ran).
    """

    model_dir: str | None
    checkpoint: str | None
    steps: int
    cancelled: bool
    losses: Mapping[str, float] = field(default_factory=dict)
