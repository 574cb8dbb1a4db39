"""The two-direction Wiener filter: the noise spectrum measured from the scan's other direction.

Most STM scans are recorded in both directions: the backward frame is a second look at the same
surface with its own noise, so (once registered) forward minus backward holds noise only, and
its power spectrum is the scan's own noise spectrum, coloured, anisotropic, mains lines and all.
With it a Wiener filter needs nothing learnt: each Fourier coefficient of a tile is multiplied by
``G = 1 - N / P`` (clipped to [0, 1]), N the noise power, P the frame's power at that
frequency, times a Gaussian transfer whose width (0 to 4 px,
:data:`~stmdenoise.model.two_direction_gain.SURE_SIGMAS`) minimises Stein's unbiased risk
estimate on the same P and N: on smooth scans it removes what a gain estimated from few tiles lets
through (docs/model-selection.md, candidate T; :mod:`stmdenoise.model.two_direction_gain`). It
cannot add structure that is not in the scan and works on any pixel size.

**Cross-fitted.** The rows are cut into :data:`BAND`-row bands (:data:`SMALL_BAND` rows for a
small feedback-error current, :func:`band_for`); rows of even bands are filtered with the gain
whose noise spectrum comes from the odd bands only, and the other way round. So the
filter's output at a row never depends on the backward frame's noise at that row, and judging the
output against the backward frame (:func:`stmdenoise.metrics.fidelity.pair_fidelity`, the
do-no-harm check) stays an unbiased estimate (what is put back, below, reads the look at the
row, through local averages only). Alternating bands, not two halves: a tip change or a burst of
noise part-way through a scan then falls on both sides.

**Below the tip's resolution, each strip's own noise level** (docs/model-selection.md, candidates
AM and AQ). A burst of tip or electronics noise hits a trace line and its retrace alike, so on some
scans the noise changes a hundredfold within a few dozen rows, faster than the bands can follow:
the burst's rows get the quiet bands' noise level and keep the burst. Where the caller passes the
per-strip noise levels (:func:`stmdenoise.metrics.uneven.strip_levels`, given only on such scans)
and the scan's pixel size, the Fourier coefficients at periods under :data:`RESOLUTION` (2 Å,
finer than any surface structure a tip images) get ``S / (S + c N)`` times SURE's Gaussian, row by
row within each tile (:func:`~stmdenoise.model.fourier_tiles.filter_rows`): c is the larger of the
tile's mean level (its rows' levels weighted by the window) and the row's own strip's, over that of
the bands the noise came from (weighted as their noise tiles weight the rows, candidate AX). Given
levels per band of fast-axis frequency (:class:`stmdenoise.metrics.uneven.BandedLevels`, candidate
BA), each band's levels set the gain on its own coefficients under 2 Å. The levels' helpers live in
:mod:`stmdenoise.model.fine_levels`. A loud strip's rows are filtered with their own level; a
quiet row beside a burst keeps the tile's, so below 2 Å no row is smoothed less than by the tile
mean, and every coefficient at 2 Å and more keeps the shift-invariant gain above:
nothing a surface can hold is treated differently. The level of a strip reads forward minus
backward at its own rows: the output there depends on that strip's backward noise through that one
average per band over hundreds to thousands of coefficients, which keeps the fwd/bwd estimate fair
(est / true 1.08-1.13 on simulated bursts with the truth known). Since version 2.27 (candidate
DD) a row's level is its strip's times the frame's own share of it
(:attr:`stmdenoise.metrics.uneven.BandedLevels.own`, from the two frames' own power in the
strip): a burst in one direction only is that frame's noise, not half of it in each; the noise
source's level stays the difference's, whose spectrum the noise is.

**A louder frame's own share.** Forward minus backward holds both frames' noise, and each frame
gets half of it unless the caller passes ``noise_share``: for a frame clearly noisier than its
second look (:func:`stmdenoise.metrics.noise_share.noise_share`, through
:func:`stmdenoise.pairing.denoise_pair`, only where no per-strip levels are given) its own share,
so it is not under-filtered (docs/model-selection.md, candidate BL); and where it is the clearly
louder at some frequencies of periods under 4 px only (along one axis, or at the highest
slow-axis frequencies: a burst of row noise in one frame), its share there, frequency by
frequency (``share_map``, :func:`stmdenoise.metrics.noise_share.share_surface`, per-strip levels or
not: candidates DA and DD). Likewise along the scan: a
parity of bands whose own rows hold clearly more power at 2-4 px than the bands its noise came
from gets its noise raised by that ratio (``louder_rows``, :func:`_louder_rows`; the frame alone
is read, so cross-fitting holds; candidate BP).

**No noise left where the finest octaves hold no surface** (version 2.26, candidates DB and DC).
Where a tile holds noise only, P scatters about N and ``1 - N / P`` lets a few per cent of it
through. Under 2 Å, in each radial octave where the two looks share under
:data:`~stmdenoise.processing.spectrum.SIGNAL_COHERENCE` of their power
(:func:`~stmdenoise.model.fine_levels.quiet_fine`), the gain takes
:data:`~stmdenoise.model.two_direction_gain.OVER_SUBTRACT` times the noise (spectral
subtraction's over-subtraction), with per-strip levels too. The shared power is read on the bands
the parity's noise comes from (the Welch means of the looks' sum and difference), so cross-fitting
holds.

**What one gain for the frame takes from a lone feature, put back** where the second look's
residual holds it too (:mod:`stmdenoise.model.put_back`, version 2.22; not for a feedback-error
current, ``put_back=False``, nor with per-strip levels). The output at a row then reads the look at
that row, through local averages only and only where that gate opens; the estimate stays fair
(``bench/fidelity_check.py``: est / true moved by at most 0.02).

**Nothing at periods under 2 px where 2 px is finer than a tip resolves** (version 2.29,
candidate DG): on a grid finer than half of :data:`RESOLUTION` the output's coefficients beyond
the radial Nyquist (the spectrum's corners, periods under 2 px,
:func:`~stmdenoise.model.fine_levels.without_corners`) are
removed, the premise the per-strip levels rest on. The over-subtraction above leaves them where the
two looks share line noise in the finest octave. It reads the output only: cross-fitting holds.

**The longest periods on the frame's own grid** (:mod:`stmdenoise.model.long_periods`, version
2.23): from a third of a tile to a quarter of the field, where a tile's first bins mix a surface's
long periods with the scan's long-period noise, the output is the frame's own Wiener filter on its
own grid, its noise from the other parity's bands (cross-fitting holds; not for a feedback-error current,
``coarse=False``; docs/model-selection.md, candidates CL-CN and CT). Where it runs (and without
per-strip levels) the tiles see the short periods only since version 2.24
(:func:`~stmdenoise.model.long_periods.short_periods`, their power and noise too): a strong long
period, through the tile's window, no longer fills its first bins and holds its gain up there, so
the noise next to it goes (candidate CU). The periods longer than a quarter of the field go through
the tiles on their own, with the gain the whole frame's tiles give them, floored as below (version
2.35).

**A lone feature's longest periods kept by its own tile's gain** (:mod:`stmdenoise.model.local_floor`,
version 2.24): below 5 cycles per tile each tile's gain is raised to the tile's own Wiener gain
where its power stands far above the noise, the forward frame's tile alone (no look: cross-fitting
holds), the noise put on the 64-row tile's scale; where the put-back runs (candidates CY, CZ).
Since version 2.35 the periods longer than a quarter of the field get the same floor: with the
whole frame's gain alone, slow line noise the two directions record differently swamped a lone
defect's own longest periods and left it in a moat with a ring beyond it (candidate DQ).

**Sharp periodic peaks kept out of the filter** (:mod:`stmdenoise.model.lines`, version 2.37,
candidates EA, EB and EC): a lattice's or a superstructure's peaks that stand hundreds of times above
the noise, alone in the spectrum (30x everything 2-2.5 bins around them: not a ring of standing
waves, a step's streak or a row of line noise) and shared by both looks, are fitted as sinusoids,
subtracted from the frame (and each look's own fit from the look) before everything above and
added back to the output whole: through the filters' windows they held the gain up where only noise
is. Where the looks draw a line apart (a hysteresis) it is left to the filter (candidate EC). Not
for a feedback-error current, nor without a pixel size.

For the current of a scan recorded with the Z feedback on (:mod:`stmdenoise.io.feedback`)
forward minus the stored backward frame is the feedback error, real signal: the caller passes the
backward frame *negated* when that agrees with the forward one
(:func:`stmdenoise.metrics.second_look.second_look`, through
:func:`stmdenoise.pairing.prepare_pair`), and such a current, or a quiet scan, sharing fewer than
2 x :data:`BAND` rows gets the shorter bands. Ours, not the paper's (docs/model-selection.md,
candidates K and L).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> surface = np.sin(np.arange(160)[:, None] / 5.0) + np.cos(np.arange(144)[None, :] / 7.0)
>>> fwd = surface + rng.normal(0, 0.3, surface.shape)
>>> bwd = surface + rng.normal(0, 0.3, surface.shape)
>>> out = two_direction_wiener(fwd, bwd, (0.0, 0.0))
>>> bool(np.mean((out - surface) ** 2) < 0.3 * np.mean((fwd - surface) ** 2))
True
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import gaussian_filter

from stmdenoise.model.fine_levels import (
    RESOLUTION,
    BandedLevelsLike,
    StripLevelsLike,
    band_level,
    below_resolution,
    fast_bands,
    levels_by_band,
    own_by_band,
    quiet_fine,
    relative_levels,
    without_corners,
)
from stmdenoise.model.fourier_tiles import (
    HALF,
    TILE,
    WINDOW,
    OnHalfPlane,
    filter_rows,
    filter_tiles_each,
)
from stmdenoise.model.lines import lines_both_share
from stmdenoise.model.local_floor import local_floor
from stmdenoise.model.long_periods import (
    long_periods,
    long_periods_frame,
    longest_periods,
    outside_blend,
    short_periods,
)
from stmdenoise.model.put_back import cross_spread, give_back, look_cover, look_residual
from stmdenoise.model.two_direction_gain import SMOOTH, class_gains, wiener_gain
from stmdenoise.model.two_direction_notices import (
    KIND,
    LINES_NOTICE,
    LOOK_SHRUNK_NOTICE,
    LOUDER_ROWS_NOTICE,
    NOISE_SHARE_NOTICE,
    PUT_BACK_NOTICE,
    STRIP_LEVELS_NOTICE,
    TWO_DIRECTION_NOTICE,
    describe_step,
)
from stmdenoise.model.two_direction_pair import (
    BAND,
    SMALL_BAND,
    TwoDirectionError,
    band_for,
    block_problem,
    common_block,
    frames,
    noise_bands,
    pair_problem,
    shared_rows,
    shifted,
)
from stmdenoise.model.welch_tiles import band_window, mean_spectrum, welch
from stmdenoise.processing import level_plane
from stmdenoise.processing.spectrum import UNEQUAL_NOISE, fine_octave, fine_sectors

__all__ = [
    "BAND",
    "KIND",
    "LINES_NOTICE",
    "LOOK_SHRUNK_NOTICE",
    "LOUDER_ROWS_NOTICE",
    "NOISE_SHARE_NOTICE",
    "PUT_BACK_NOTICE",
    "RESOLUTION",
    "SMALL_BAND",
    "STRIP_LEVELS_NOTICE",
    "TWO_DIRECTION_NOTICE",
    "TwoDirectionError",
    "band_for",
    "below_resolution",
    "describe_step",
    "pair_problem",
    "share_sectors",
    "shared_rows",
    "two_direction_wiener",
]

Array = NDArray[np.float64]


def _fine_power(lev: Array, rows: list[int], band: int) -> float:
    """The frame's mean Welch power (:func:`~stmdenoise.model.welch_tiles.welch`) over the annulus
    of periods 2-4 px on the ``band``-row bands starting at ``rows`` (of ``lev``); NaN without any."""
    p = welch(lev, rows, band)
    return math.nan if p is None else float(p[fine_octave((TILE, TILE))].mean())


def _louder_rows(
    lev: Array, start: int, whole: list[int], inside: list[list[int]], r0: int, band: int
) -> list[float]:
    """For each parity, its own bands' power at 2-4 px over its noise-source bands', where above
    :data:`~stmdenoise.processing.spectrum.UNEQUAL_NOISE` (else 1): the factor its noise spectrum
    is raised by (docs/model-selection.md, candidates BO, BP). Only the frame (``lev``, from row
    ``start``) is read: a parity's output still never depends on the second look's noise at its
    own rows."""
    out = []
    for p in (0, 1):
        own = [r - start for r in whole if ((r - start) // band) % 2 == p]
        src = [r0 + i - start for i in inside[p]]
        ratio = _fine_power(lev, own, band) / _fine_power(lev, src, band)
        out.append(ratio if math.isfinite(ratio) and ratio > UNEQUAL_NOISE else 1.0)
    return out


def share_sectors(surface: Array) -> tuple[float, ...]:
    """The largest share ``surface`` (a tile's spectrum, :func:`two_direction_wiener`'s
    ``share_map``) gives in each sector of the periods under 4 px
    (:func:`~stmdenoise.processing.spectrum.fine_sectors`, from the fast axis to the slow one):
    what the processing step records and the verdict names."""
    return tuple(float(surface[mask].max()) for mask in fine_sectors(surface.shape))


def two_direction_wiener(
    z: NDArray[Any],
    other: NDArray[Any],
    offset: tuple[float, float],
    *,
    band: int = BAND,
    cancel: threading.Event | None = None,
    progress: Callable[[int, int], None] | None = None,
    pixel_size: tuple[float, float] | None = None,
    strip_levels: StripLevelsLike | BandedLevelsLike | None = None,
    noise_share: float = 1.0,
    share_map: Array | None = None,
    louder_rows: bool = False,
    put_back: bool = True,
    coarse: bool = True,
    report: dict[str, Any] | None = None,
) -> Array:
    """``z`` denoised with the noise spectrum of ``z - other`` (cross-fitted, see the module).

    Parameters
    ----------
    z : array_like, shape (rows, cols)
        The frame to denoise (NaN: unmeasured; only at the start or end of the scan).
    other : array_like, same shape
        The other scan direction, mirrored to read left to right as the readers deliver it.
    offset : (float, float)
        ``(dy, dx)`` moving ``other`` onto ``z``
        (:func:`stmdenoise.metrics.registration.register_frames`).
    band : int
        Rows per cross-fitting band and height of the noise and power tiles (:func:`band_for`;
        1 to :data:`TILE`); the filter's own tiles stay TILE x TILE.
    cancel, progress
        ``cancel`` is checked between chunks of tiles; ``progress(done, 2)`` is called after each
        of the two passes (one per band parity).
    pixel_size : (float, float), optional
        ``(dy, dx)`` in metres: where the periods under :data:`RESOLUTION` lie.
    strip_levels : optional
        :class:`stmdenoise.metrics.uneven.StripLevels` (or ``BandedLevels``, one per band of
        fast-axis frequency) of ``z`` and ``other`` (given only where the
        noise is uneven): with ``pixel_size``, each row's gain below :data:`RESOLUTION` follows
        its own strip's level where that is above its tile's mean (see the module).
    noise_share : float
        ``z``'s share of the noise of ``z - other``, times two: each parity's noise spectrum is
        ``noise_share`` x half of the difference's (1: the two directions equally noisy; more for
        a frame louder than its second look, less for a quieter one, which the app never passes:
        :func:`stmdenoise.metrics.noise_share.noise_share`, docs/model-selection.md, candidates
        BJ-BL).
    share_map : ndarray, shape (TILE, TILE), optional
        ``z``'s share coefficient by coefficient on the tiles' spectrum (FFT order), in place of
        ``noise_share`` there (:func:`stmdenoise.metrics.noise_share.share_surface`); the
        frame-grid filter of the longest periods keeps ``noise_share`` (docs/model-selection.md,
        candidates DA and DD).
    louder_rows : bool
        Raise a parity's noise spectrum by its own rows' power at 2-4 px over its noise-source
        rows' where that is above 1.5x (:func:`_louder_rows`; not with per-strip
        levels). The caller leaves it off for a quiet scan, whose finest periods hold structure
        (docs/model-selection.md, candidates BO, BP).
    put_back : bool
        Give back what the filter removed where the second look's residual holds it too
        (:mod:`stmdenoise.model.put_back`); the caller turns it off for a feedback-error current, whose look's
        residual differs from the frame's by the feedback's own response (docs/model-selection.md,
        candidate CS).
    coarse : bool
        The longest periods within a quarter of the field on the frame's own grid
        (:func:`stmdenoise.model.long_periods.long_periods`).
        The caller leaves it off for a feedback-error current, whose look's strong coefficients are
        the feedback error (docs/model-selection.md, candidates CL, CM, CT).
    report : dict, optional
        Receives ``strip_levels``: whether the per-strip levels were used, ``louder_rows``: the
        two parities' factors where one is not 1, and ``put_back``: the share of the frame's pixels
        given back some of what the filter removed, where any was, and ``lines``: how many
        lines both looks share were kept out of the filter and added back
        (:mod:`stmdenoise.model.lines`), where any were.

    Returns
    -------
    ndarray
        Same shape; unmeasured rows stay NaN.

    Raises
    ------
    TwoDirectionError
        Shapes differ, unmeasured lines split the scan, or the two frames do not share a complete
        band of each parity (at least 2 x ``band`` rows and :data:`TILE` columns in common).
    """
    if not 1 <= band <= TILE:
        raise ValueError(f"band must be 1 to {TILE} rows, got {band}")
    if not (math.isfinite(noise_share) and 0.0 < noise_share < 2.0):
        raise ValueError(f"noise_share must lie in (0, 2), got {noise_share}")
    if share_map is not None:
        share_map = np.asarray(share_map, dtype=np.float64)
        if share_map.shape != (TILE, TILE) or not (np.all(share_map > 0.0) and np.all(share_map < 2.0)):
            raise ValueError(
                f"share_map must be {TILE} x {TILE} values in (0, 2), got shape {share_map.shape}"
            )
    x, b = frames(z, other)
    blk = common_block(x, b, offset)
    if problem := block_problem(blk, band):
        raise TwoDirectionError(problem)
    start, stop, r0, r1, c0, c1, sy, sx, moved = blk
    fy, fx = offset[0] - sy, offset[1] - sx
    # strong lines both looks share: out of both before the filter, back into the output after it
    # (model.lines, candidates EA-EC; not for a feedback-error current, nor without a pixel size)
    taken, on_grid = None, None  # on_grid: the levelled second look on the frame's grid, once read
    if coarse and pixel_size is not None and moved.size:
        look_lev = level_plane(moved)
        on_grid = shifted(look_lev, fy, fx)
        taken = lines_both_share(level_plane(x[r0:r1, c0:c1]), on_grid, x[start:stop], look_lev, pixel_size)
    if taken is not None:
        x = x.copy()
        x[start:stop] -= taken.frame
        moved, on_grid = moved - taken.look, None
    # bands counted from the first complete row of z; a band joins the noise estimate when all
    # its rows are in the common block
    bands, inside = noise_bands(blk, band)
    lev = level_plane(x[start:stop])
    coarse_frame = long_periods_frame(lev) if coarse else None
    fine_grid = bool(below_resolution(pixel_size).any())  # any period under the tip's resolution
    per_strip = strip_levels is not None and fine_grid
    # the tiles see the short periods only where the frame's own grid takes the long ones (CU)
    split = coarse_frame is not None and not per_strip
    lev_t = short_periods(lev, coarse_frame.lev_f) if coarse_frame is not None and split else lev
    whole = [r for r in bands if r + band <= stop]  # the bands whose power enters P
    power = welch(lev_t, [r - start for r in whole], band)
    power_all = welch(lev, [r - start for r in whole], band) if split else power
    noises, short_noises = [], []
    quiets: list[NDArray[np.bool_] | None] = []  # per parity: where its noise is over-subtracted
    differences: list[list[Array]] = []  # each parity's noise bands of forward minus backward
    for use in inside:
        # the noise for rows of parity p: the other bands only, both frames levelled with the
        # planes through those bands and each band shifted on its own (no row of a band of
        # parity p reaches it)
        fit = np.zeros(moved.shape, dtype=bool)
        for i in use:
            fit[i : i + band] = True
        x_lev, b_lev = level_plane(x[r0:r1, c0:c1], mask=fit), level_plane(moved, mask=fit)
        looks = [shifted(b_lev[i : i + band], fy, fx) for i in use]
        diffs = [x_lev[i : i + band] - look for i, look in zip(use, looks, strict=True)]
        differences.append(diffs)
        noises.append(noise := mean_spectrum([welch(d, [0], band) for d in diffs]))
        # under the tip's resolution, the octaves where these bands' two looks share no surface (DC)
        sums = [x_lev[i : i + band] + look for i, look in zip(use, looks, strict=True)] if fine_grid else []
        together = mean_spectrum([welch(a, [0], band) for a in sums])
        quiets.append(None if noise is None or together is None else quiet_fine(pixel_size, together, noise))
        # the tiles' noise from the same bands' short periods, each band on its own (cross-fitted)
        short_noises.append(
            mean_spectrum([welch(short_periods(d), [0], band) for d in diffs]) if split else None
        )
    if power is None:  # no complete band of z: block_problem has ruled it out
        raise TwoDirectionError(f"the scan has no complete {band}-row band")
    out = x.copy()
    parity = ((np.arange(start, stop) - start) // band) % 2
    given_back = 0  # pixels given back some of what the filter removed (model.put_back)
    if report is not None:
        report["strip_levels"] = per_strip
    if per_strip:  # the same for both parities: each band's levels, coefficients and mean level
        assert strip_levels is not None and pixel_size is not None
        edges, levels = levels_by_band(strip_levels)
        own = own_by_band(strip_levels)  # the frame's own share of each strip's level (DD)
        masks = fast_bands(pixel_size, edges)
        whole_level = [float(np.mean([band_level(lv, r, band) for r in whole])) for lv in own]
    # the frame's own share of the difference's noise: one number, or a map on the tiles' spectrum
    # (the frame-grid filter keeps the number)
    half: float | Array = noise_share / 2.0 if share_map is None else share_map / 2.0
    frame_half = noise_share / 2.0
    louder = (
        _louder_rows(lev, start, whole, inside, r0, band) if louder_rows and not per_strip else [1.0, 1.0]
    )
    if report is not None and louder != [1.0, 1.0]:
        report["louder_rows"] = [round(v, 3) for v in louder]
    sources = [noise * louder[p] for p, noise in enumerate(noises) if noise is not None]
    # the tiles' input lost the split's share of every coefficient: their noise is the short periods'
    tile_noise = [n * louder[p] for p, n in enumerate(short_noises) if n is not None] if split else sources
    assert len(sources) == 2  # block_problem has ruled out a parity without noise
    over = [q for q, n in zip(quiets, noises, strict=True) if n is not None]
    if not per_strip:  # one gain per parity for every tile: each tile transformed once for both
        # under the tip's resolution, where the looks share no surface, the noise is over-subtracted
        # (candidates DB, DC)
        transfers = [
            wiener_gain(noise * half, power, half_plane=False, fine=quiet)
            for noise, quiet in zip(tile_noise, over, strict=True)
        ]
        tile_gains = [t[:, :HALF] for t in transfers]
        if put_back and on_grid is None:  # the lines' search read it already where none were taken
            on_grid = shifted(level_plane(moved), fy, fx)
        look_block = on_grid if put_back else None
        if look_block is not None and split:  # its short periods, as the frame's
            look_block = short_periods(look_block)
        covered = (r0 - start, r1 - start, c0, c1)  # where the look lies on lev's grid
        band_energy = float(np.sum(band_window(band) ** 2))  # the noise tiles' window energy
        # the noise tiles are `band` rows high, the filter's TILE: their noise on its tiles' scale
        to_tile = float(np.sum(WINDOW**2)) / band_energy

        def floored(shared: list[Array], noise: list[Array]) -> list[Array | OnHalfPlane]:
            """Where a second look is read, each tile's own gain raised where it stands far above the
            noise (model.local_floor); the shared gains elsewhere."""
            if look_block is None:
                return list(shared)
            return [
                local_floor(g, gaussian_filter(n * half * to_tile, SMOOTH, mode="wrap")[:, :HALF], SMOOTH)
                for g, n in zip(shared, noise, strict=True)
            ]

        # where a second look is read (not a feedback-error current), each tile's own gain keeps a
        # lone feature's longest periods in it (model.local_floor, candidates CY, CZ)
        kept_by = filter_tiles_each(lev_t, floored(tile_gains, tile_noise), cancel)
        looked_by = [] if look_block is None else filter_tiles_each(look_block, tile_gains, cancel)
        if split:  # the longest periods: the tiles' gain as the whole frame gives it, floored as
            # the tiles' own (a lone feature's broad part is not left to the frame's noise: DQ)
            assert coarse_frame is not None and power_all is not None
            gains_all = [wiener_gain(n * half, power_all, fine=q) for n, q in zip(sources, over, strict=True)]
            longest_by = [
                outside_blend(coarse_frame, k)
                for k in filter_tiles_each(longest_periods(coarse_frame), floored(gains_all, sources), cancel)
            ]
        seen = look_cover(covered, lev.shape) if look_block is not None else None
    for p, noise in enumerate(sources):
        if per_strip:
            relative, mean_level = [], []
            for lv, mine, level in zip(levels, own, whole_level, strict=True):
                # the noise came from the difference on the other parity's rows: its level there
                source = float(np.mean([band_level(lv, r0 + i, band) for i in inside[p]]))
                relative.append(relative_levels(lev.shape, start, mine, parity == p, source))
                mean_level.append(level / source)
            gains, classes = class_gains(noise * half, power, relative, mean_level, masks, quiet=over[p])
            kept = filter_rows(lev, gains, classes, cancel)  # per-strip levels: never split
        else:
            kept = kept_by[p]
            if look_block is not None and seen is not None:
                r_b = look_residual(look_block, looked_by[p], covered, lev.shape)
                spread = cross_spread(transfers[p], tile_noise[p] * half, band_energy)
                kept, given = give_back(lev_t, kept, r_b, seen, spread)
                given_back += int(given[parity == p].sum())
        if split:
            kept = kept + longest_by[p]
        if coarse:
            kept = long_periods(coarse_frame, kept, differences[p], frame_half * louder[p], split=split)
        filtered = np.asarray(x[start:stop] - lev) + kept
        out[start:stop][parity == p] = filtered[parity == p]
        if progress is not None:
            progress(p + 1, 2)
    if report is not None and given_back:
        report["put_back"] = round(given_back / lev.size, 4)
    if taken is not None:
        out[start:stop] += taken.frame
        if report is not None:
            report["lines"] = taken.number
    out[start:stop] = without_corners(out[start:stop], pixel_size, cancel)  # the output only (DG)
    return out
