"""A scan and its other scan direction, as the two-direction Wiener takes them.

One place decides, for a scan and its other direction (:func:`stmdenoise.safety.partner_of`),
what :func:`stmdenoise.model.two_direction.two_direction_wiener` measures the noise from: the
second look the do-no-harm judge uses (:func:`stmdenoise.metrics.second_look.second_look`: for a
current recorded with the Z feedback on, the other direction negated), the offset registering it
and the band height (:func:`~stmdenoise.model.two_direction.band_for`: 16-row bands for a small
feedback-error current or a quiet scan); where the look shows the surface at a clearly higher
contrast than the scan, the look shrunk to the scan's (:func:`_at_frame_contrast`); and the scan's
own share of the noise where it is the clearly louder direction
(:func:`~stmdenoise.metrics.noise_share.noise_share`); and the scan's scars, pieces of a line its
look does not hold, filled from the lines around them before the filter runs
(:func:`_without_scars`). :class:`stmdenoise.denoise.Denoiser` asks it
whether the filter can serve a pair (its plan no longer declines a quiet scan that the filter can serve) and
runs the filter through it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from stmdenoise.io.feedback import feedback_error_channel
from stmdenoise.metrics import NotScorableError
from stmdenoise.metrics.contrast import at_contrast, contrast_mismatch
from stmdenoise.metrics.noise_share import louder_shares
from stmdenoise.metrics.scars import scars_of
from stmdenoise.metrics.second_look import second_look
from stmdenoise.metrics.uneven import BandedLevels, StripLevels, banded_strip_levels
from stmdenoise.model.fourier_tiles import TILE
from stmdenoise.model.two_direction import (
    RESOLUTION,
    TwoDirectionError,
    band_for,
    below_resolution,
    pair_problem,
    share_sectors,
    shared_rows,
    two_direction_wiener,
)
from stmdenoise.processing.nan import fill_along_columns
from stmdenoise.scan import Scan

__all__ = ["TwoDirectionPair", "denoise_pair", "filter_levels", "prepare_pair", "two_direction_denoise"]


@dataclass(frozen=True)
class TwoDirectionPair:
    """What the filter reads besides the scan: the second look's data on the scan's grid as read,
    the offset ``(dy, dx)`` moving it onto the scan, the cross-fitting band (rows), the scan's
    share of their difference's noise (:func:`~stmdenoise.metrics.noise_share.noise_share`; 1:
    the two directions equally noisy) and the contrast the look was shrunk from
    (:func:`_at_frame_contrast`)."""

    look: NDArray[np.float64]
    offset: tuple[float, float]
    band: int
    share: float = 1.0
    #: the look's contrast over the scan's where it was shrunk to the scan's (1: not shrunk)
    shrunk_from: float = 1.0
    #: the plan found the scan quiet: its finest periods hold structure (no louder-rows factor)
    quiet: bool = False
    #: the scan's share frequency by frequency on the filter's tile spectrum
    #: (:func:`~stmdenoise.metrics.noise_share.share_surface`; None: not measurable)
    share_map: NDArray[np.float64] | None = None


def prepare_pair(scan: Scan, partner: Scan, *, quiet: bool = False) -> TwoDirectionPair:
    """The second look, offset and band of ``scan`` and its other direction ``partner``; ``quiet``:
    the plan found the scan quiet (short bands allowed, as for a feedback-error current).

    Raises
    ------
    ValueError
        With the reason the filter cannot serve the pair: shapes differ, nothing to register on
        (NotScorableError), a feedback-error current whose negated other direction does not agree
        with it, too few complete rows or columns in common (TwoDirectionError).
    """
    z = np.asarray(scan.data, dtype=np.float64)
    if z.shape != partner.shape:
        raise TwoDirectionError(f"the other direction has shape {partner.shape}, not {z.shape}")
    found = second_look(scan, partner)  # the judge's rule: a feedback-error current's is negated
    if found is None:
        raise TwoDirectionError("a feedback-error current whose other direction, negated, is no second look")
    offset, look, coherence = found
    b, shrunk_from = _at_frame_contrast(z, np.asarray(look.data, dtype=np.float64), offset)
    band = band_for(shared_rows(z, b, offset), short=coherence is not None or quiet)
    if problem := pair_problem(z, b, offset, band):
        raise TwoDirectionError(problem)
    share, surface = louder_shares(z, b, (TILE, TILE))
    return TwoDirectionPair(b, offset, band, share, shrunk_from, quiet, surface)


def _at_frame_contrast(
    z: NDArray[np.float64], b: NDArray[np.float64], offset: tuple[float, float]
) -> tuple[NDArray[np.float64], float]:
    """The second look ``b`` shrunk about its mean to ``z``'s contrast where it shows the surface
    at a clearly higher one (:func:`~stmdenoise.metrics.contrast.contrast_mismatch` named, ratio
    above 1): forward minus backward then holds noise, not the surface's excess contrast, and the
    look's noise shrinks with it. A look at a *lower* contrast is left as it is: scaling it up
    would amplify its noise, which the filter would then take for the frame's
    (docs/model-selection.md, candidates BH and BM). Unregistrable pairs are left to
    :func:`pair_problem`. Returns the look the filter reads and the contrast ratio it was shrunk
    from (1.0: left as it is)."""
    try:
        m = contrast_mismatch(z, b, offset)
    except NotScorableError:  # nothing to compare; pair_problem says why the filter cannot run
        return b, 1.0
    if not (m.named and m.ratio > 1.0):
        return b, 1.0
    return at_contrast(b, m.ratio), float(m.ratio)


def filter_levels(
    z: Any, look: Any, offset: tuple[float, float], pixel_size: tuple[float, float] | None
) -> BandedLevels | StripLevels | None:
    """The per-strip noise levels the two-direction Wiener reads (``strip_levels=``) for ``z``
    and its second look: None unless the grid holds periods under
    :data:`~stmdenoise.model.two_direction.RESOLUTION` (the only place the filter uses them) and
    the noise is uneven enough (:func:`~stmdenoise.metrics.uneven.strip_levels`' gate); measured
    where they act, at the two-dimensional periods under it, per third of the fast-axis
    frequencies, on 8-row strips (:func:`~stmdenoise.metrics.uneven.banded_strip_levels`;
    docs/model-selection.md, candidates AM, AV, BA, BB).

    ``pixel_size`` is ``(dy, dx)`` in metres."""
    if pixel_size is None or not below_resolution(pixel_size).any():
        return None
    dy, dx = (float(v) for v in pixel_size)
    return banded_strip_levels(z, look, offset, (RESOLUTION / dy, RESOLUTION / dx))


def denoise_pair(
    scan: Scan,
    pair: TwoDirectionPair,
    *,
    cancel: threading.Event | None = None,
    progress: Callable[[int, int], None] | None = None,
    report: dict[str, Any] | None = None,
) -> NDArray[np.float64]:
    """``scan`` denoised by :func:`~stmdenoise.model.two_direction.two_direction_wiener` with the
    noise of ``pair`` (:func:`prepare_pair`), its scars filled first where the look is a plain
    one (:func:`_without_scars`; not for a feedback-error current): where that noise is uneven
    from strip to strip (:func:`filter_levels`), each strip's own levels at periods finer than a
    tip resolves; elsewhere, where one direction is clearly noisier, the scan's own share of it;
    and at the periods under 4 px where it is clearly the noisier, its share there frequency by
    frequency (:func:`~stmdenoise.metrics.noise_share.share_surface`, with the strip levels
    too). ``report`` receives the scar pixels filled where any, whether the strip levels were
    used, the share where it is not 1, the largest share of the map in each sector
    (:func:`share_sectors`) where the map is used and the contrast the look was shrunk from where
    it was."""
    z = np.asarray(scan.data, dtype=np.float64)
    # a feedback-error current's look differs from it by the feedback's own response: neither the
    # put-back (candidate CS), the frame-grid long periods (CT) nor the scar check reads it
    plain_look = not feedback_error_channel(scan)
    if plain_look:
        z = _without_scars(z, pair, report)
    levels = filter_levels(z, pair.look, pair.offset, scan.pixel_size)
    # where the noise changes strip by strip, a whole-frame imbalance is the bursts', which the
    # strip levels follow: the share only on evenly noisy frames (docs/model-selection.md, BK)
    share = pair.share if levels is None else 1.0
    # where the scan is clearly the louder direction at some frequencies under 4 px, its share there
    # (never below the frame's number; with per-strip levels the map alone, candidates DA and DD)
    surface = None if pair.share_map is None else np.maximum(pair.share_map, share)
    by_map = surface if surface is not None and bool(np.any(surface != share)) else None
    result = two_direction_wiener(
        z, pair.look, pair.offset, band=pair.band, cancel=cancel, progress=progress,
        pixel_size=scan.pixel_size, strip_levels=levels, noise_share=share, share_map=by_map,
        louder_rows=not pair.quiet,
        put_back=plain_look, coarse=plain_look, report=report,
    )  # fmt: skip
    if report is not None and share != 1.0:
        report["noise_share"] = round(share, 4)
    if report is not None and by_map is not None:
        report["sector_shares"] = [round(s, 4) for s in share_sectors(by_map)]
    if report is not None and pair.shrunk_from != 1.0:
        report["look_shrunk_from"] = round(pair.shrunk_from, 4)
    if not np.isfinite(result[np.isfinite(z)]).all():
        raise ValueError(f"{scan.describe()}: the two-direction filter produced non-finite values")
    return result


def _without_scars(
    z: NDArray[np.float64], pair: TwoDirectionPair, report: dict[str, Any] | None
) -> NDArray[np.float64]:
    """``z`` with its scars (:func:`~stmdenoise.metrics.scars.scars_of`: pieces of a line pulled
    off the surface in this direction only, which the look does not hold) filled along the
    columns from the lines around them (:func:`~stmdenoise.processing.nan.fill_along_columns`),
    as the filter then reads it; ``report["scars_filled"]`` the pixels filled, where any
    (docs/model-selection.md, candidates DI and DO)."""
    found = scars_of(z, pair.look, pair.offset)
    if not found.pixels:
        return z
    if report is not None:
        report["scars_filled"] = found.pixels
    return fill_along_columns(z, found.mask)


def two_direction_denoise(
    scan: Scan,
    partner: Scan,
    *,
    quiet: bool = False,
    cancel: threading.Event | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> NDArray[np.float64]:
    """``scan`` denoised with the noise spectrum of its two directions: :func:`prepare_pair`, then
    :func:`denoise_pair`. Raises ValueError with the reason it cannot serve the pair."""
    return denoise_pair(scan, prepare_pair(scan, partner, quiet=quiet), cancel=cancel, progress=progress)
