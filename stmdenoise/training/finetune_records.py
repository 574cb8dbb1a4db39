"""The records of a fine-tune run: its request, its progress records and its result.

Kept apart from the job (:func:`stmdenoise.training.finetune.finetune`, which re-exports them) so
that the GUI and the spectral-gain path can build and read them without the training loop.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from stmdenoise.training.finetune_scans import ScanCheck
from stmdenoise.training.finetune_state import START_CHOICES

__all__ = ["FinetuneProgress", "FinetuneRequest", "FinetuneResult"]

F32 = NDArray[np.float32]


@dataclass(frozen=True)
class FinetuneRequest:
    """One fine-tune run.

    Parameters
    ----------
    scans : tuple of str
        Files and folders of the user's scans.
    base : str
        Model folder to start from.
    out : str
        New model folder (must not hold a finished model; with ``resume``, its checkpoint).
    minutes : float
        Training budget (wall clock, excluding the final evaluation); ignored when ``steps`` set.
    steps : int or None
        A fixed number of steps instead of the budget.
    device : str
        ``auto``, ``cpu``, ``cuda``, ``mps``.
    holdout : int
        Held-out scans picked automatically (when ``holdout_scans`` is empty).
    holdout_scans : tuple of str
        Held-out scans chosen by the caller (also evaluated when not among ``scans``).
    lambda_n2n, lambda_blindspot, lambda_anchor : float
        Weights of the forward/backward Noise2Noise, blind-spot and simulated-anchor terms.
    crop, batch : int
        Crop side (lowered to the smallest scan, multiple of 4) and crops per term and step.
    lr : float
        Adam learning rate.
    preview_every : int
        Steps between before/after previews of the first held-out scan (0: none).
    checkpoint_every : int
        Steps between checkpoints (0: only when cancelled).
    seed : int
    resume : bool
        Continue from ``out``'s checkpoint.
    start : {"auto", "base", "identity"}
        Starting weights: the base model's G_D as it is, or with its Up block's last layer zeroed
        (the residual skip alone); ``auto`` decides by :func:`choose_start`.
    """

    scans: tuple[str, ...]
    base: str
    out: str
    minutes: float = 5.0
    steps: int | None = None
    device: str = "auto"
    holdout: int = 1
    holdout_scans: tuple[str, ...] = ()
    lambda_n2n: float = 1.0
    lambda_blindspot: float = 0.5
    lambda_anchor: float = 1.0
    crop: int = 64
    batch: int = 4
    lr: float = 1e-4
    preview_every: int = 25
    checkpoint_every: int = 200
    seed: int = 0
    resume: bool = False
    start: str = "auto"

    def __post_init__(self) -> None:
        object.__setattr__(self, "scans", tuple(str(p) for p in self.scans))
        object.__setattr__(self, "holdout_scans", tuple(str(p) for p in self.holdout_scans))
        if not self.scans:
            raise ValueError("scans must name at least one file or folder")
        if not (isinstance(self.minutes, (int, float)) and self.minutes > 0 and math.isfinite(self.minutes)):
            raise ValueError(f"minutes must be a positive number, got {self.minutes!r}")
        if self.steps is not None and (
            isinstance(self.steps, bool) or not isinstance(self.steps, int) or self.steps < 1
        ):
            raise ValueError(f"steps must be a positive integer or None, got {self.steps!r}")
        for name in ("lambda_n2n", "lambda_blindspot", "lambda_anchor", "lr"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")
        if self.start not in START_CHOICES:
            raise ValueError(f"start must be one of {', '.join(START_CHOICES)}, got {self.start!r}")
        if self.lambda_n2n + self.lambda_blindspot <= 0:
            raise ValueError("lambda_n2n or lambda_blindspot must be > 0: nothing would learn from the scans")
        for name, lo in (
            ("crop", 32),
            ("batch", 1),
            ("holdout", 0),
            ("preview_every", 0),
            ("checkpoint_every", 0),
        ):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < lo:
                raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["scans"], d["holdout_scans"] = list(self.scans), list(self.holdout_scans)
        return d


@dataclass(frozen=True)
class FinetuneProgress:
    """One progress record of :func:`finetune`.

    ``preview`` (every ``preview_every`` steps): 2-D float32 arrays of the first held-out scan's
    forward frame in its normalised data units: ``raw``, ``base``, ``finetuned``.
    """

    done: int
    total: int | None
    message: str = ""
    stage: str = "train"
    losses: Mapping[str, float] = field(default_factory=dict)
    eta_s: float | None = None
    preview: Mapping[str, F32] | None = None
    checkpoint: str | None = None
    cancelled: bool = False


@dataclass(frozen=True)
class FinetuneResult:
    """What a fine-tune run left.

    Attributes
    ----------
    model_dir : Path or None
        The finished model folder (None when cancelled).
    checkpoint : Path or None
        The resumable checkpoint of a cancelled run.
    cancelled : bool
    steps : int
    pixel_size : float
        The new model's pixel size, metres.
    checks : tuple of ScanCheck
    train_scans, holdout_scans : tuple of Path
    rows : tuple of FidelityRow
        Held-out table rows (raw, classical filters, base, fine-tuned) per scan.
    summary : Mapping[str, float]
        Mean overall estimated error (raw = 1) over the held-out scans: ``base``, ``finetuned``,
        ``best_classical``.
    flagged : bool
        The fine-tuned model is worse than the base model or than raw on the held-out scans.
    flag_reason : str
    table : str
        The held-out table in Markdown.
    start, start_reason : str
        The starting weights used (``base`` or ``identity``) and why (:func:`choose_start`).
    """

    model_dir: Path | None
    checkpoint: Path | None
    cancelled: bool
    steps: int
    pixel_size: float
    checks: tuple[ScanCheck, ...]
    train_scans: tuple[Path, ...]
    holdout_scans: tuple[Path, ...]
    rows: tuple[Any, ...] = ()
    summary: Mapping[str, float] = field(default_factory=dict)
    flagged: bool = False
    flag_reason: str = ""
    table: str = ""
    start: str = ""
    start_reason: str = ""
