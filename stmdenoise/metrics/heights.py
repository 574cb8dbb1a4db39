"""Apparent heights: does an output keep the features that stand far above the noise?

STM users measure heights on their images (a step, a molecule, an adatom's apparent height). A
filter that removes noise has no reason to touch a Fourier component standing hundreds of times
above the noise: the Wiener gain there is 1 - N / P, within 1e-5 of 1 at :data:`STRONG` times the
noise floor. :func:`strong_contrast` measures how much of those components an output keeps (the
least-squares factor of the output's on the raw scan's), on one frame, no second look needed; the
do-no-harm verdict (:func:`stmdenoise.safety.judge`) says so where the delivered output keeps less
than 1 - :data:`HEIGHT_LOSS` of them: heights measured on it read that much low.

Only broad features count: components at periods of 4 px or more whose 5 x 5 neighbourhood's
median power is at least :data:`BROAD` of their own (a molecule, a step, a grain). A sharp peak is
a lattice (:mod:`stmdenoise.metrics.lattice` checks those) or interference that a filter may
rightly remove: the Ko Cu(111) frames' strongest components are such peaks, at 1.8-3.0 Å along one
direction, one of them with the same phase in all three frames unregistered (fixed to the pixel
grid, not the drifting surface). A perfectly straight step puts its longest-period components on
one line of the spectrum, and those count as sharp: a constructed straight 2.08 Å step on 256²
pixels is measured under 0.03 Å of white noise and not under 0.1 Å (at 20° to the rows, under
0.1 Å and not under 0.4 Å); the real Createc step (``createc_scan_step_20nm.dat``, bent and rough)
is, on 1700-1800 components.

Seen on the shared scans (`python bench/heights.py`; docs/model-selection.md, candidates CF and
DE): the single-frame spectral gain's last layer is a sigmoid, which never reaches 1, and kept
95.6-99.7 % of the strongest broad components; since program 0.2.27 the gain is raised to a
Wiener gain where the network keeps a coefficient
(:func:`stmdenoise.model.spectral_gain.kept_whole`), and it keeps 99.7-100 %. The two-direction
filter keeps 99.9 % or more where its second look shows the same surface, less where it does not
(``pySPM_test.sxm`` Z, whose piezo lag blurs the grains' edges differently in each direction,
92-93 %; feedback-error currents). The noise floor
is the median power at frequencies above 0.3 cycles per pixel (as the spectral gain reads it:
:data:`~stmdenoise.processing.spectrum.NOISE_FLOOR_FROM`).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> yy, xx = np.mgrid[0:96, 0:96]
>>> surface = 100 * np.exp(-((yy - 48.0) ** 2 + (xx - 48.0) ** 2) / 50.0)
>>> raw = surface + rng.normal(size=surface.shape)
>>> round(strong_contrast(raw, 0.97 * raw).kept, 3)
0.97
>>> notice_for(strong_contrast(raw, raw)) is None
True
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from stmdenoise.metrics.bands import radial_frequency
from stmdenoise.processing import level_plane
from stmdenoise.processing.spectrum import NOISE_FLOOR_FROM, hann_window

__all__ = [
    "BROAD",
    "HEIGHT_LOSS",
    "HEIGHT_NOTICE",
    "MIN_COMPONENTS",
    "STRONG",
    "StrongContrast",
    "notice_for",
    "strong_contrast",
]

#: Power over the noise floor from which a Fourier component counts as standing far above the
#: noise (amplitude about 316x).
STRONG = 1e5
#: Fewest such components for a measure (a flat or noise-only scan has none).
MIN_COMPONENTS = 8
#: Share of the strong components' amplitude an output may lose before the verdict says so.
HEIGHT_LOSS = 0.01
#: A strong component counts only where the median power of its :data:`_AROUND` x :data:`_AROUND`
#: neighbourhood is at least this share of its own: part of a broad feature (a molecule, a step, a
#: grain), not a sharp peak (a lattice, or interference such as mains pickup; a Hann-windowed peak's
#: neighbourhood median is under 1e-3 of it).
BROAD = 0.01
_AROUND = 5
#: Strong components whose neighbourhoods are read at once (memory stays bounded on any image).
_CHUNK = 65536
#: Highest frequency (cycles per pixel) of a broad feature's components: periods of 4 px or more.
_BROAD_UP_TO = 0.25

HEIGHT_NOTICE = (
    "Broad features standing far above the noise (molecules, steps, grains: {count} Fourier "
    "components over 300x its amplitude) come out {loss:.1f} % weaker than in the raw scan, where "
    "removing noise alone would keep them whole: heights measured on this output read that much "
    "low. Measure them on the raw scan."
)


@dataclass(frozen=True)
class StrongContrast:
    """How much of the components standing :data:`STRONG` times above the noise floor an output keeps.

    Attributes
    ----------
    kept : float
        Least-squares factor of the output's components on the raw scan's (1: kept whole).
    components : int
        How many components it is measured on.
    """

    kept: float
    components: int


@functools.lru_cache(maxsize=8)
def _radius(h: int, w: int) -> NDArray[np.float64]:
    """|k| (cycles per pixel) of an ``h`` x ``w`` image's half-plane spectrum (``rfft2`` layout):
    the first ``w // 2 + 1`` columns of :func:`~stmdenoise.metrics.bands.radial_frequency`'s."""
    k = np.ascontiguousarray(radial_frequency((h, w))[:, : w // 2 + 1])
    k.setflags(write=False)
    return k


def strong_contrast(raw: ArrayLike, out: ArrayLike) -> StrongContrast | None:
    """What ``out`` keeps of ``raw``'s broad components standing :data:`STRONG` times above its
    noise floor (periods of 4 px or more, not sharp peaks: :data:`BROAD`), on the rows complete in
    both (each with its own plane taken off; a Hann window); None with fewer than
    :data:`MIN_COMPONENTS` such components, fewer than 8 rows or no noise floor."""
    x, y = np.asarray(raw, dtype=np.float64), np.asarray(out, dtype=np.float64)
    if x.ndim != 2 or x.shape != y.shape:
        raise ValueError(f"raw and out must be 2-D images of one shape, got {x.shape} and {y.shape}")
    rows = np.isfinite(x).all(axis=1) & np.isfinite(y).all(axis=1)
    x, y = x[rows], y[rows]
    if x.shape[0] < 8 or x.shape[1] < 8:
        return None
    window = hann_window(x.shape)
    # half-plane spectra (rfft2): a real image's other half is their mirror image, conjugated
    fx = np.fft.rfft2(level_plane(x) * window)
    fy = np.fft.rfft2(level_plane(y) * window)
    h, w = x.shape
    k = _radius(h, w)
    power = np.abs(fx) ** 2
    floor = float(np.median(power[::2][k[::2] > NOISE_FLOOR_FROM]))  # every other row: as good, 4x faster
    if not floor > 0:  # no noise to stand above (a synthetic or quantised-flat image)
        return None
    strong = (power >= STRONG * floor) & (k > 0) & (k <= _BROAD_UP_TO)
    # broad features only: a sharp peak (a lattice, which metrics.lattice checks, or interference a
    # filter may rightly remove) stands far above the median of its 5 x 5 neighbourhood (read at the
    # strong components only, a chunk at a time; a neighbour across kx = 0 at its mirror image)
    i, j = np.nonzero(strong)
    steps = np.arange(_AROUND) - _AROUND // 2
    for start in range(0, len(i), _CHUNK):
        ci, cj = i[start : start + _CHUNK], j[start : start + _CHUNK]
        ni = np.broadcast_to(ci[:, None, None] + steps[None, :, None], (len(ci), _AROUND, _AROUND))
        nj = np.broadcast_to((cj[:, None, None] + steps[None, None, :]) % w, ni.shape)
        mirror = nj > w // 2
        ni = np.where(mirror, -ni, ni) % h
        nj = np.where(mirror, w - nj, nj)
        around = np.median(power[ni, nj].reshape(len(ci), _AROUND * _AROUND), axis=1)
        sharp = around < BROAD * power[ci, cj]
        strong[ci[sharp], cj[sharp]] = False
    # an inner column stands for itself and its mirror image; kx = 0 (and Nyquist) hold both already
    weight = np.full(power.shape[1], 2.0)
    weight[0] = 1.0
    if w % 2 == 0:
        weight[-1] = 1.0
    wt = np.broadcast_to(weight[None, :], power.shape)[strong]
    n = int(round(float(wt.sum())))
    if n < MIN_COMPONENTS:
        return None
    cross = np.real(fy[strong] * np.conj(fx[strong]))
    kept = float(np.sum(wt * cross) / np.sum(wt * power[strong]))
    return StrongContrast(kept, n)


def notice_for(m: StrongContrast | None) -> str | None:
    """:data:`HEIGHT_NOTICE` for a measure that keeps less than 1 - :data:`HEIGHT_LOSS`, else None."""
    if m is None or m.kept >= 1.0 - HEIGHT_LOSS:
        return None
    return HEIGHT_NOTICE.format(count=m.components, loss=100.0 * (1.0 - m.kept))
