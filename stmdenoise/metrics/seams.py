"""Seams: band boundaries where the two-direction Wiener's output jumps and the raw scan does not.

The two-direction Wiener (:mod:`stmdenoise.model.two_direction`) takes each band of rows from the
frame filtered with the noise of the other parity's bands (cross-fitting, which keeps the fwd/bwd
estimate fair). Where the noise differs between the parities' bands (a burst in some of them),
the two gains differ and the output can step at a boundary: a horizontal line that is not on the
surface (model card, known limits; docs/model-selection.md, candidate DP). The do-no-harm verdict
names such a row (:func:`seams_of`), so it is not read as structure.

At a row ``r`` the *ratio* is the RMS difference between rows ``r - 1`` and ``r`` over the mean of
the same for the four row pairs around it (1: the row changes as its neighbours do). A boundary is
a seam where the output's ratio is above :data:`SEAM_RATIO` and the raw scan's there is under
:data:`RAW_CALM` (the scan itself does not change there: not a step edge along the lines, not a
tip change). Ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from stmdenoise.metrics._input import _as_array

__all__ = ["RAW_CALM", "SEAMS_NOTICE", "SEAM_RATIO", "Seam", "boundary_ratios", "row_ratios", "seams_of"]

Array = NDArray[np.float64]

#: An output's ratio at a band boundary above which the boundary is a seam.
SEAM_RATIO = 3.0
#: The raw scan's ratio there must stay under this (it does not change at that row itself).
RAW_CALM = 1.5

#: The verdict's notice (:func:`seams_of`), formatted by :meth:`Seam.notice`.
SEAMS_NOTICE = (
    "The model's two-direction output jumps between rows {rows} ({ratio:.1f}x the differences "
    "between the rows around {it}; the raw scan there {raw:.1f}x): the filter takes each {band}-row "
    "band from the frame filtered with the other bands' noise, and where that noise differs "
    "between the bands the output steps at their boundary. A horizontal line there is the "
    "filter's, not the surface's."
)


def row_ratios(data: Any) -> Array:
    """Each complete row's ratio against the row before it (index ``r - 1`` of the result is row
    ``r`` of the complete rows), NaN where fewer than two rows lie on either side; rows with an
    unmeasured pixel are left out first."""
    a = np.asarray(_as_array(data, "data"), dtype=np.float64)
    a = a[np.isfinite(a).all(axis=1)]
    out = np.full(max(a.shape[0] - 1, 0), np.nan)
    if a.shape[0] < 6:
        return out
    d = np.sqrt(np.mean(np.diff(a, axis=0) ** 2, axis=1))  # d[r - 1]: row r against row r - 1
    # rows r = 3 .. n - 3: d[r - 1] over the mean of d[r - 3], d[r - 2], d[r], d[r + 1]
    around = (d[:-4] + d[1:-3] + d[3:-1] + d[4:]) / 4.0
    with np.errstate(divide="ignore", invalid="ignore"):
        out[2:-2] = np.where(around > 0, d[2:-2] / around, np.nan)
    return out


def boundary_ratios(data: Any, band: int) -> list[tuple[int, float]]:
    """``(row, ratio)`` at each internal boundary of ``band``-row bands counted from the first
    complete row (rows numbered among the complete rows)."""
    if band < 1:
        raise ValueError(f"band must be at least 1 row, got {band}")
    ratios = row_ratios(data)
    return [
        (r, float(ratios[r - 1])) for r in range(band, ratios.size + 1, band) if np.isfinite(ratios[r - 1])
    ]


@dataclass(frozen=True)
class Seam:
    """A band boundary where the output jumps (:func:`seams_of`): the first row of the band below
    it (among the complete rows), the output's ratio there and the raw scan's."""

    row: int
    ratio: float
    raw: float

    @staticmethod
    def notice(seams: list[Seam], band: int) -> str:
        """:data:`SEAMS_NOTICE` for ``seams`` (the strongest one's figures)."""
        worst = max(seams, key=lambda s: s.ratio)
        rows = ", ".join(f"{s.row - 1} and {s.row}" for s in seams)
        return SEAMS_NOTICE.format(
            rows=rows, ratio=worst.ratio, raw=worst.raw, band=band, it="it" if len(seams) == 1 else "each"
        )


def seams_of(raw: Any, out: Any, band: int) -> list[Seam]:
    """The boundaries of ``band``-row bands where ``out`` (made from ``raw``, same shape) jumps
    above :data:`SEAM_RATIO` and ``raw`` stays under :data:`RAW_CALM`.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> raw = np.sin(np.arange(128)[None, :] / 5.0) + 0.05 * rng.standard_normal((192, 128))
    >>> out = np.sin(np.arange(128)[None, :] / 5.0) + np.zeros((192, 1))
    >>> out[64:128] += 0.001 * np.arange(64)[:, None] + 0.2   # one band lifted: two steps
    >>> [s.row for s in seams_of(raw, out, 64)]
    [64, 128]
    """
    r = np.asarray(_as_array(raw, "raw"), dtype=np.float64)
    o = np.asarray(_as_array(out, "out"), dtype=np.float64)
    if r.shape != o.shape:
        raise ValueError(f"raw and out must have one shape, got {r.shape} and {o.shape}")
    both = np.isfinite(r).all(axis=1) & np.isfinite(o).all(axis=1)
    raw_at = dict(boundary_ratios(r[both], band))
    return [
        Seam(row, ratio, raw_at[row])
        for row, ratio in boundary_ratios(o[both], band)
        if ratio > SEAM_RATIO and row in raw_at and raw_at[row] < RAW_CALM
    ]
