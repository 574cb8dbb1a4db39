"""Scars: pieces of one scan line pulled off the surface in one direction only, found against the
second look, so the do-no-harm verdict can name them.

A tip that jumps for part of a line, a burst of tunnelling-current instability or a feedback
glitch leaves a *scar*: a few to a few dozen pixels of one line (rarely two or three) offset from
the lines on either side, often by many times the noise. The scan's other direction is recorded a
moment later and seldom holds the same scar. A filter of the whole frame keeps most of one (one
gain per tile spectrum takes it for a little extra broadband noise), and it stretches a viewer's min-max
colour scale, so the verdict says where they are (:func:`scars_of`; ours), and the two-direction
Wiener fills them from the lines around them before it filters (:mod:`stmdenoise.pairing`;
docs/model-selection.md, candidates DI, DJ and DO). Gwyddion's "Remove Scars" (and TopoStats'
port of it) marks lines from one frame's shape alone, with thresholds on the image's RMS, which
also takes thin horizontal structure; here the second look decides.

A block of ``w`` lines (1 to :data:`MAX_WIDTH`) at a column is a scar where, averaged over
:data:`MIN_LENGTH` pixels along the line, with ``r`` the frame minus the registered look:

* every line of the block stands off the mean of the lines just above and below it in ``r``, with
  one sign, by more than :data:`THRESHOLD` times the robust spread of that one-line excursion over
  the whole frame;
* the look's own excursion there is under half of it (the look does not hold it: not surface);
* the excursion is a steady offset along the line, its mean at least :data:`STEADY` of its RMS
  (a burst of noise swings about zero);
* it stands more than :data:`ABOVE_NEIGHBOURS` times above the differences between the lines
  around it (a scar sits on quiet lines; rows of a noise burst differ from each other as much);
* it is the column's strongest such excursion within :data:`MAX_WIDTH` lines (the lines beside a
  scar read as half a scar of the other sign).

The run's averaging leaves up to 2 px at each end of a scar unmarked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from stmdenoise.metrics._input import _as_array

__all__ = [
    "ABOVE_NEIGHBOURS",
    "MAX_WIDTH",
    "MIN_LENGTH",
    "SCARS_FILLED_NOTICE",
    "SCARS_NOTICE",
    "STEADY",
    "THRESHOLD",
    "Scars",
    "find_scars",
    "scars_of",
]

Array = NDArray[np.float64]

#: Most lines a scar spans (Gwyddion's default maximum width is 4).
MAX_WIDTH = 3
#: Fewest pixels along the line a scar spans, and the run its excursion is averaged over.
MIN_LENGTH = 8
#: A line's excursion over its run, in robust standard deviations of that run-averaged excursion.
THRESHOLD = 5.0
#: The run's mean excursion over its RMS: at least this for a steady offset.
STEADY = 0.8
#: The excursion over the RMS difference between the two lines on each side of the block.
ABOVE_NEIGHBOURS = 3.0


def _along(a: Array) -> Array:
    """``a`` averaged over :data:`MIN_LENGTH` pixels along each line (last axis)."""
    return np.asarray(ndimage.uniform_filter1d(a, MIN_LENGTH, axis=-1, mode="nearest"))


def _whole(measured: Array) -> NDArray[np.bool_]:
    """Where every pixel of the run along the line is measured (``measured``: 1 where it is, else 0)."""
    return np.asarray(_along(measured) > 1.0 - 1e-9)


def find_scars(frame: Array, look: Array) -> NDArray[np.bool_]:
    """The pixels of ``frame`` on a scar that ``look`` (the other direction, already registered
    onto ``frame``'s grid, same shape) does not hold (see the module). NaN in either: not judged
    (a block needs its two lines above and below measured too).

    >>> import numpy as np
    >>> from scipy import ndimage
    >>> rng = np.random.default_rng(0)
    >>> surface = ndimage.gaussian_filter(rng.normal(size=(64, 96)), 3) * 10
    >>> fwd = surface + 0.1 * rng.normal(size=surface.shape)
    >>> bwd = surface + 0.1 * rng.normal(size=surface.shape)
    >>> fwd[30, 20:50] += 2.0   # 30 px of line 30 pulled up in the forward direction only
    >>> m = find_scars(fwd, bwd)
    >>> bool(m[30, 22:48].all()), int(m.sum()) <= 30
    (True, True)
    """
    z = np.asarray(frame, dtype=np.float64)
    lk = np.asarray(look, dtype=np.float64)
    if z.shape != lk.shape or z.ndim != 2:
        raise ValueError(f"frame and look must be 2-D of one shape, got {z.shape} and {lk.shape}")
    rows, cols = z.shape
    ok = np.isfinite(z) & np.isfinite(lk)
    r = np.where(ok, z - lk, 0.0)
    lz = np.where(ok, lk, 0.0)
    score = np.zeros(z.shape)
    if rows < MAX_WIDTH + 4 or cols < MIN_LENGTH:
        return score > 0
    okf = ok.astype(np.float64)
    # measured over a whole run: the three lines' pixels all measured along it
    three = _whole(okf[:-2] * okf[1:-1] * okf[2:])
    one = _along(r[1:-1] - 0.5 * (r[:-2] + r[2:]))[three]
    if one.size == 0:
        return score > 0
    spread = 1.4826 * float(np.median(np.abs(one - np.median(one))))
    if not spread > 0:
        return score > 0
    for w in range(1, MAX_WIDTH + 1):
        i = np.arange(2, rows - w - 1)  # the block's first line; two lines either side
        if i.size == 0:
            continue
        outer = 0.5 * (r[i - 1] + r[i + w])
        # first each line's run-averaged excursion, line by line (a 4096² frame holds a few
        # frame-sized arrays at a time, not w of each): most blocks fail here and go
        low = np.full(outer.shape, np.inf)  # the smallest run-averaged excursion of its lines
        up = np.ones(outer.shape, dtype=bool)
        down = np.ones(outer.shape, dtype=bool)
        for k in range(w):
            run = _along(r[i + k] - outer)
            low = np.minimum(low, np.abs(run))
            up &= run > 0
            down &= run < 0
        strong = (up | down) & (low > THRESHOLD * spread)  # every line off, one sign
        keep = np.flatnonzero(strong.any(axis=1))
        if keep.size == 0:
            continue
        i, strong = i[keep], strong[keep]
        above, below = r[i - 1], r[i + w]
        pixel = sum(r[i + k] for k in range(w)) / w - 0.5 * (above + below)  # the block's excursion
        mean = _along(pixel)
        held = sum(lz[i + k] for k in range(w)) / w  # the look's own block
        look_off = _along(held - 0.5 * (lz[i - 1] + lz[i + w]))
        steady_rms = np.sqrt(np.maximum(_along(pixel**2), 0.0))
        sides = 0.5 * ((above - r[i - 2]) ** 2 + (r[i + w + 1] - below) ** 2)
        neighbours = np.sqrt(np.maximum(_along(sides), 0.0))
        measured = np.prod([okf[i + k] for k in range(-2, w + 2)], axis=0)
        hit = (
            _whole(measured)
            & strong
            & (np.abs(look_off) < 0.5 * np.abs(mean))
            & (np.abs(mean) >= STEADY * steady_rms)
            & (np.abs(mean) > ABOVE_NEIGHBOURS * neighbours)
        )
        hit = ndimage.binary_opening(hit, structure=np.ones((1, MIN_LENGTH), dtype=bool))
        strength = np.where(hit, np.abs(mean), 0.0)
        for k in range(w):
            score[i + k] = np.maximum(score[i + k], strength)
    # the lines beside a scar read as half a scar of the other sign: the column's strongest only
    return (score > 0) & (score >= ndimage.maximum_filter(score, size=(2 * MAX_WIDTH + 1, 1)))


#: The do-no-harm verdict's notice of a frame with scars (:func:`scars_of`), formatted there.
SCARS_NOTICE = (
    "This frame holds {count} scar{s} ({pixels} pixels; rows {rows}): pieces of a scan line pulled "
    "off the surface in this direction only, not in the {look}. The denoised result keeps most of "
    "{them} (a filter of the whole frame takes a scar for a little extra noise); the {look} shows "
    "those lines without {them}."
)
#: The same where the two-direction filter filled them first (``stmdenoise.pairing``).
SCARS_FILLED_NOTICE = (
    "This frame holds {count} scar{s} ({pixels} pixels; rows {rows}): pieces of a scan line pulled "
    "off the surface in this direction only, not in the {look}. The model's two-direction output "
    "has {them} filled from the lines above and below ({filled} pixels) before denoising; the raw "
    "scan and a classical fallback keep {them}."
)


@dataclass(frozen=True)
class Scars:
    """The scars :func:`scars_of` found: their ``mask`` on the frame's grid, how many (runs of
    marked pixels connected along and across the lines) and the rows they lie on."""

    mask: NDArray[np.bool_]
    count: int
    rows: tuple[int, ...]

    @property
    def pixels(self) -> int:
        """Marked pixels."""
        return int(self.mask.sum())

    def notice(self, look: str, filled: int = 0) -> str:
        """:data:`SCARS_NOTICE` for these scars, the second look called ``look`` (rows listed up to
        eight, then how many more); :data:`SCARS_FILLED_NOTICE` where the two-direction filter
        filled ``filled`` pixels of them."""
        shown = ", ".join(str(r) for r in self.rows[:8])
        if len(self.rows) > 8:
            shown += f" and {len(self.rows) - 8} more"
        one = self.count == 1
        return (SCARS_FILLED_NOTICE if filled else SCARS_NOTICE).format(
            count=self.count, s="" if one else "s", pixels=self.pixels, rows=shown, look=look,
            them="it" if one else "them", filled=filled,
        )  # fmt: skip


def scars_of(frame: Any, look: Any, offset: tuple[float, float]) -> Scars:
    """The scars of ``frame`` (a Scan or array) that its second look ``look`` (same shape, as
    read) does not hold, ``offset`` ``(dy, dx)`` moving the look onto the frame
    (:func:`stmdenoise.metrics.registration.register_frames`): the look is shifted there (cubic
    spline; pixels within two of an unmeasured one or the edge are not judged) and
    :func:`find_scars` marks them."""
    z = np.asarray(_as_array(frame, "frame"), dtype=np.float64)
    lk = np.asarray(_as_array(look, "look"), dtype=np.float64)
    if z.shape != lk.shape:
        raise ValueError(f"frame and look must have one shape, got {z.shape} and {lk.shape}")
    measured = np.isfinite(lk)
    dy, dx = (float(v) for v in offset)
    moved = ndimage.shift(np.where(measured, lk, 0.0), (dy, dx), order=3, mode="constant", cval=0.0)
    cover = ndimage.shift(measured.astype(np.float64), (dy, dx), order=0, mode="constant", cval=0.0)
    inside = ndimage.binary_erosion(cover > 0.5, structure=np.ones((5, 5), dtype=bool))
    mask = find_scars(z, np.where(inside, moved, np.nan))
    _labels, count = ndimage.label(mask, structure=np.ones((3, 3), dtype=bool))
    rows = tuple(int(r) for r in np.flatnonzero(mask.any(axis=1)))
    return Scars(mask, int(count), rows)
