"""Which of the user's scans can serve fine-tuning, which are held out, and at what pixel size.

Part of :mod:`stmdenoise.training.finetune` (split for size): :func:`check_scans` says for each
file whether it is usable and why, :func:`pick_holdout` chooses the held-out scans and
:func:`working_pixel_size` (with :func:`native_pixel_size_range`) is the one rule for the grid
the new model trains and works on.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stmdenoise.plan import MIN_MODEL_PIXELS
from stmdenoise.training.real_pairs import (
    TestSceneError,
    expand_paths,
    file_sha256,
    primary_channel,
    refuse_test_scene,
    working_frame,
)

__all__ = [
    "MIN_MEASURED_SHARE",
    "NATIVE_MARGIN",
    "NATIVE_SPAN",
    "SAME_PIXEL_TOLERANCE",
    "ScanCheck",
    "check_scans",
    "native_pixel_size_range",
    "pick_holdout",
    "working_pixel_size",
]

#: Least share of measured (finite) pixels a usable scan has.
MIN_MEASURED_SHARE = 0.25
#: Relative pixel-size difference under which the base model's pixel size is kept.
SAME_PIXEL_TOLERANCE = 0.01
#: Largest ratio of the training scans' largest to smallest pixel size for which the model trains
#: on each scan's own grid (see :func:`native_pixel_size_range`).
NATIVE_SPAN = 2.0
#: Factor beyond the training scans' smallest and largest pixel sizes still served on a scan's
#: own grid (see :func:`native_pixel_size_range`).
NATIVE_MARGIN = 1.5


@dataclass(frozen=True)
class ScanCheck:
    """Whether one file can serve fine-tuning, and why.

    Attributes
    ----------
    path : Path
    usable : bool
    reason : str
        Why not, or what it gives (``forward + backward: Noise2Noise and blind-spot``, ``no
        backward frame: blind-spot only``).
    pixel_size : float or None
        Metres (mean of the two axes).
    shape : (int, int) or None
        Measured block of the primary channel, pixels.
    frames : int
        Frames of the primary channel (2 with a backward frame).
    channel : str
    sha256 : str
    """

    path: Path
    usable: bool
    reason: str
    pixel_size: float | None = None
    shape: tuple[int, int] | None = None
    frames: int = 0
    channel: str = ""
    sha256: str = ""

    @property
    def has_backward(self) -> bool:
        return self.frames >= 2

    def line(self) -> str:
        """One line for a listing: name, usable or not, why, size."""
        size = ""
        if self.shape and self.pixel_size:
            size = f", {self.shape[1]} x {self.shape[0]} px at {self.pixel_size * 1e12:.3g} pm/px"
        verdict = "usable" if self.usable else "NOT usable"
        return f"{self.path.name} [{self.channel or '-'}]: {verdict} ({self.reason}{size})"


def _check_one(path: Path) -> ScanCheck:
    from stmdenoise.io import read_all
    from stmdenoise.safety import partner_of

    try:
        refuse_test_scene(path)
    except TestSceneError as exc:
        return ScanCheck(path, False, f"the project's Cu(111) test scene: {exc}")
    digest = file_sha256(path)
    try:
        frames = read_all(path)
    except (OSError, ValueError) as exc:
        return ScanCheck(path, False, f"unreadable: {exc}", sha256=digest)
    ch = primary_channel(frames)
    if ch is None:
        return ScanCheck(
            path, False, "no image channel with contrast (a spectrum or a constant map)", sha256=digest
        )
    fwd = next(s for s in frames if s.channel == ch and s.direction == "forward")
    bwd = partner_of(fwd, frames)
    n = 2 if bwd is not None else 1
    if fwd.pixel_size is None:
        return ScanCheck(path, False, "no pixel-size calibration", frames=n, channel=ch, sha256=digest)
    px = float(np.mean(fwd.pixel_size))
    base = {"pixel_size": px, "frames": n, "channel": ch, "sha256": digest}
    share = float(np.isfinite(fwd.data).mean())
    if share < MIN_MEASURED_SHARE:
        return ScanCheck(path, False, f"mostly NaN ({100 * (1 - share):.0f} % unmeasured)", **base)  # type: ignore[arg-type]
    a, _ = working_frame(fwd, px, bwd)
    shape = (int(a.shape[0]), int(a.shape[1]))
    if min(shape) < MIN_MODEL_PIXELS:
        return ScanCheck(
            path,
            False,
            f"too small: {shape[1]} x {shape[0]} measured px (need {MIN_MODEL_PIXELS})",
            shape=shape,
            **base,  # type: ignore[arg-type]
        )
    why = (
        "forward + backward: Noise2Noise and blind-spot"
        if bwd is not None
        else "no backward frame: blind-spot only"
    )
    return ScanCheck(path, True, why, shape=shape, **base)  # type: ignore[arg-type]


def check_scans(paths: Sequence[str | Path]) -> list[ScanCheck]:
    """Check every file of ``paths`` (folders searched recursively) for fine-tuning."""
    return [_check_one(f) for f in expand_paths(paths)]


def pick_holdout(checks: Sequence[ScanCheck], n: int = 1) -> list[Path]:
    """The held-out scans: the last ``n`` usable two-direction scans by file name.

    At least one usable scan is always left for training (``n`` is lowered when needed); only
    two-direction scans can be judged (their backward frame is the second look).
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be an integer >= 0, got {n!r}")
    usable = [c for c in checks if c.usable]
    judged = sorted((c for c in usable if c.has_backward), key=lambda c: (c.path.name, str(c.path)))
    n = min(n, len(judged), max(len(usable) - 1, 0))
    return [c.path for c in judged[len(judged) - n :]] if n else []


def working_pixel_size(train: Sequence[ScanCheck], base_pixel_size: float) -> float:
    """The new model's pixel size: the median of the training scans' (the base's within 1 %).

    The grid rule has two parts, this one and :func:`native_pixel_size_range`. The median is
    the model's ``pixel_size``: the grid of the anchor's simulated pairs (they stay at this one
    pixel size, the simulator draws one grid per model) and of every scan outside the native
    range. When the training scans span at most :data:`NATIVE_SPAN`, the real scans train on
    their own grids instead and the model declares a native range (no resampling there).
    """
    sizes = [c.pixel_size for c in train if c.usable and c.pixel_size]
    if not sizes:
        raise ValueError("no usable training scan with a calibrated pixel size")
    med = float(statistics.median(sizes))
    return base_pixel_size if abs(med - base_pixel_size) <= SAME_PIXEL_TOLERANCE * base_pixel_size else med


def native_pixel_size_range(train: Sequence[ScanCheck]) -> tuple[float, float] | None:
    """Pixel sizes the new model serves on a scan's own grid; None: resample to the median.

    The second half of the grid rule (with :func:`working_pixel_size`). The networks are fully
    convolutional, so a model trained on scans of several pixel sizes needs no resampling for
    scans like them; the resampling round trip is what harms nearly noise-free scans (an
    untrained identity network scored 1.81 and 2.79x raw error on two 27.3 pm scans resampled to
    33.5 pm and back: docs/finetune.md). When the usable training scans' pixel sizes span at
    most :data:`NATIVE_SPAN` (2x: within the plan's ``MAX_ZOOM``, the spread the resampling rule
    already accepts), each trains on its own grid and the model works natively on
    ``[min / NATIVE_MARGIN, max * NATIVE_MARGIN]``: 1.5x beyond what it saw, less than the 2x
    the plan accepts for resampling, since features 1.5x larger or smaller than in any training
    scan are still within the range of scales one scan's crops hold. A wider spread (one model
    for atoms and for terraces) keeps the median rule: every scan resampled to the median.
    """
    sizes = [c.pixel_size for c in train if c.usable and c.pixel_size]
    if not sizes:
        raise ValueError("no usable training scan with a calibrated pixel size")
    lo, hi = float(min(sizes)), float(max(sizes))
    if hi > NATIVE_SPAN * lo:
        return None
    return lo / NATIVE_MARGIN, hi * NATIVE_MARGIN
