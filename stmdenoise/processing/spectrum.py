"""Fourier view of a scan: 2-D power spectrum, radial average, ring radius -> k and wavelength.

Standing waves of a surface state (Cu(111), Au(111), Ag(111)) show in the power spectrum as a
ring. Its radius ``f`` (cycles per metre) gives the modulation period ``1 / f`` and the
wavevector ``q = 2 pi f``; for standing waves ``q = 2 k_F``, so ``k_F = pi f`` and the Fermi
wavelength is ``2 / f``. Frequencies are in cycles per metre everywhere (SI); convert at the
display edge (:func:`describe_ring` gives Angstrom units).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import overload

import numpy as np
import scipy.fft as sfft
from numpy.typing import ArrayLike, NDArray

from stmdenoise.processing._common import FloatArray, as_image, finish
from stmdenoise.processing.nan import _cropped_offset
from stmdenoise.scan import ProcessingStep, Scan

__all__ = [
    "FINE_OCTAVE",
    "FINE_SECTORS",
    "PERIODIC_PEAK_RATIO",
    "RESOLUTION",
    "SIGNAL_COHERENCE",
    "UNEQUAL_NOISE",
    "fft2",
    "fine_octave",
    "fine_sectors",
    "power_spectrum",
    "radial_profile",
    "find_ring",
    "RingReadout",
    "describe_ring",
    "crop_rect",
    "NOISE_FLOOR_FROM",
    "hann_1d",
    "hann_window",
    "band_passed",
    "peaks_passed",
    "WavePeak",
    "standing_wave_peak",
]

#: The finest octave, cycles per pixel (periods of 2-4 px): where most scans hold mostly noise. The
#: two-direction filter and its verdict compare two frames' (or two sets of rows') noise there
#: (:mod:`stmdenoise.metrics.noise_share`, :mod:`stmdenoise.model.two_direction`).
FINE_OCTAVE = (0.25, 0.5)
#: Angular sectors of the periods under 4 px, degrees from the fast axis (atan2(|ky|, |kx|)): one
#: direction of a scan can be the noisier along one axis of the spectrum and not the other (CO_img_0050
#: Current's forward frame 1.78x its backward one's power at 60-90°, 0.72x at 0-30°, 0.96x over the
#: octave); the do-no-harm verdict names the sectors where the frame's share of the noise was raised
#: (:func:`stmdenoise.model.two_direction.share_sectors`; docs/model-selection.md, candidates DA, DD).
FINE_SECTORS = (0.0, 30.0, 60.0, 90.0)
#: Periods under this (metres) are finer than any surface structure an STM tip resolves (the
#: closest atomic rows of the common metal surfaces are 2.2-2.5 Å apart): the two-direction filter
#: treats each strip's noise on its own only there (docs/model-selection.md, candidates AM and AQ),
#: and no lattice is looked for there (:mod:`stmdenoise.metrics.lattice`).
RESOLUTION = 2e-10
#: Share of a band's power that must be common to two looks of one area before the band counts as
#: holding signal: the fidelity measures' rule (:mod:`stmdenoise.metrics.bands`; below it, a band's
#: error says nothing about signal changed), and the two-direction filter's test of whether its
#: finest octaves hold any surface at all (:func:`stmdenoise.model.fine_levels.quiet_fine`).
SIGNAL_COHERENCE = 0.05
#: A spectral peak this many times the median power of its ring of equal |k| is periodic detail
#: (an atomic lattice, a superstructure), not noise: white noise reaches 5-8 on 256^2 images,
#: a lattice 0.3x the noise's amplitude 180, the Ko group's Cu(111) lattice 70 000.
#: Used by :func:`stmdenoise.plan.periodic_detail_lost` and :mod:`stmdenoise.metrics.lattice`.
PERIODIC_PEAK_RATIO = 30.0
#: A power ratio in :data:`FINE_OCTAVE` beyond this factor is an imbalance of noise they follow
#: (docs/model-selection.md, candidates BL and BP): on the realdata channels the three unequally
#: noisy pairs of directions read 1.76-2.7 (or its inverse), every other one 0.85-1.14.
UNEQUAL_NOISE = 1.5


def fft2(a: ArrayLike) -> NDArray[np.complex128]:
    """``np.fft.fft2(a)`` in double precision, by SciPy's pocketfft: about 2.5x faster on a real
    frame (one real-to-complex pass; 8 ms against numpy's 20 ms at 1024² on the 2-core CPU), the
    same numbers to rounding (1e-15 of the largest coefficient). Always in double precision:
    single-precision input is promoted first (numpy 2 and SciPy would both transform it in single
    precision). The do-no-harm judge transforms every output it weighs: its metrics call this.

    >>> x = np.random.default_rng(0).normal(size=(6, 5)).astype(np.float32)
    >>> y = fft2(x)
    >>> y.dtype.name, bool(np.allclose(y, np.fft.fft2(x.astype(np.float64)), rtol=0, atol=1e-12))
    ('complex128', True)
    """
    arr = np.asarray(a)
    return np.asarray(sfft.fft2(arr.astype(np.result_type(arr, np.float64), copy=False)))


def fine_octave(shape: tuple[int, int]) -> np.ndarray:
    """Which coefficients of an FFT of ``shape`` lie in :data:`FINE_OCTAVE` (radial frequency).

    >>> int(fine_octave((8, 8)).sum())  # |k| in [0.25, 0.5) cycles per pixel on an 8 x 8 grid
    36
    """
    k = np.hypot(np.fft.fftfreq(shape[0])[:, None], np.fft.fftfreq(shape[1])[None, :])
    return np.asarray((k >= FINE_OCTAVE[0]) & (k < FINE_OCTAVE[1]))


def fine_sectors(shape: tuple[int, int]) -> list[np.ndarray]:
    """The coefficients of an FFT of ``shape`` at periods under 4 px (:data:`FINE_OCTAVE` and the
    spectrum's corners beyond it), one mask per sector of :data:`FINE_SECTORS` (the last one
    closed at 90°).

    >>> [int(m.sum()) for m in fine_sectors((8, 8))]
    [17, 21, 17]
    """
    ky = np.abs(np.fft.fftfreq(shape[0]))[:, None]
    kx = np.abs(np.fft.fftfreq(shape[1]))[None, :]
    angle = np.degrees(np.arctan2(np.broadcast_to(ky, shape), np.broadcast_to(kx, shape)))
    fine = np.hypot(ky, kx) >= FINE_OCTAVE[0]
    edges = FINE_SECTORS
    last = len(edges) - 2
    return [
        np.asarray(fine & (angle >= lo) & ((angle < hi) if i < last else (angle <= hi)))
        for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:], strict=False))
    ]


def band_passed(data: ArrayLike, ranges: Sequence[tuple[float, float]], *, column: float = 0.0) -> FloatArray:
    """What ``data`` holds at the radial frequencies of ``ranges`` (``(low, high)`` in cycles per
    pixel, ``low <= |k| < high``; the mean never), leaving out ``|kx| <= column`` (cycles per
    pixel along the rows) when ``column`` is above 0. Masked in the image's discrete cosine
    transform (type II, :func:`scipy.fft.dctn`): the Fourier transform of the image mirrored to
    twice its size along each axis, so no edge where the transform wraps, without making that
    image (coefficient ``(p, q)`` is ``(p / 2 rows, q / 2 cols)`` cycles per pixel). ``data`` must
    be finite.

    >>> n = np.arange(16) + 0.5  # cosines about the pixel edges: the mirroring keeps them pure
    >>> fine = np.cos(np.pi / 2 * n)  # period 4 px: 0.25 cycles per pixel
    >>> broad = np.cos(np.pi / 8 * n)  # period 16 px
    >>> kept = band_passed(np.tile(fine + broad, (16, 1)), [(0.2, 0.3)])
    >>> bool(np.allclose(kept, fine, atol=0.05))
    True
    """
    a = np.asarray(data, dtype=np.float64)
    if a.ndim != 2 or not np.isfinite(a).all():
        raise ValueError(f"band_passed needs a finite 2-D array, got shape {a.shape}")
    rows, cols = a.shape
    ky = (np.arange(rows) / (2 * rows))[:, None]
    kx = (np.arange(cols) / (2 * cols))[None, :]
    k = np.hypot(ky, kx)
    mask = np.zeros(k.shape, dtype=bool)
    for low, high in ranges:
        mask |= (k > 0) & (k >= low) & (k < high)
    if column > 0:
        mask &= kx > column + 1e-12
    return np.asarray(sfft.idctn(sfft.dctn(a, type=2, norm="ortho") * mask, type=2, norm="ortho"))


def _linear_weights(
    fine: int, coarse: int, block: int
) -> tuple[NDArray[np.intp], NDArray[np.intp], FloatArray]:
    """Indices and weights that interpolate ``coarse`` block means (of ``block`` px) linearly at the
    centres of ``fine`` pixels (held flat beyond the outermost block centres)."""
    pos = np.clip((np.arange(fine) + 0.5) / block - 0.5, 0, coarse - 1)
    lo = np.minimum(np.floor(pos).astype(np.intp), max(coarse - 2, 0))
    return lo, np.minimum(lo + 1, coarse - 1), pos - lo


def peaks_passed(data: ArrayLike, peaks: Sequence[tuple[float, float]], radius: float) -> FloatArray:
    """What ``data`` holds within about ``radius`` Fourier bins (of its own grid: 1 / rows and
    1 / cols cycles per pixel) of each of ``peaks`` (``(ky, kx)`` in cycles per pixel; a peak and
    its mirror image ``(-ky, -kx)`` are one real wave, so give one of them).

    Each peak is taken by demodulation (the lock-in of geometric phase analysis, Hÿtch, Snoeck &
    Kilaas 1998): ``data`` times ``exp(-2 pi i k·r)`` is smoothed by a Gaussian of
    ``min(rows, cols) / (2 pi radius)`` px, a band of that half-width around ``k`` (0.61 of the
    amplitude passed at ``radius`` bins off), and modulated back. The smoothing is done on the
    slowly varying envelope, reflected at the frame's edges, so a lattice that does not fit the
    frame a whole number of times comes back whole to its edges, where a masked Fourier or cosine
    transform leaks it over the spectrum (a cosine transform of an oblique wave keeps 0.7 of its
    amplitude within 2 bins); repeating the edge pixels instead would pass twice the noise. The
    envelope, that smooth, is smoothed on means of blocks a quarter of the Gaussian's width and
    interpolated back (linearly): at 512-2048 px 6-9x faster and 2.5x less memory than the full
    grid, within 1 % of its output. ``data`` must be finite.

    >>> y, x = np.mgrid[0:64, 0:64] + 0.5
    >>> lattice = np.cos(2 * np.pi * (x / 8.3 + y / 13.1))  # oblique, off the bins, no whole periods
    >>> ramp = np.cos(np.pi * x / 64)
    >>> kept = peaks_passed(lattice + ramp, [(round(64 / 13.1) / 64, round(64 / 8.3) / 64)], 2.0)
    >>> bool(np.sqrt(np.mean((kept - lattice) ** 2)) < 0.1)  # of 0.71; a cosine transform: 0.21
    True
    """
    from scipy.ndimage import gaussian_filter

    a = np.asarray(data, dtype=np.float64)
    if a.ndim != 2 or not np.isfinite(a).all():
        raise ValueError(f"peaks_passed needs a finite 2-D array, got shape {a.shape}")
    rows, cols = a.shape
    width = min(rows, cols) / (2 * math.pi * radius)
    block = max(1, int(width // 4))
    extra = ((0, -rows % block), (0, -cols % block))
    ys, xs = _linear_weights(rows, -(-rows // block), block), _linear_weights(cols, -(-cols // block), block)
    y = np.arange(rows, dtype=np.float64)[:, None]
    x = np.arange(cols, dtype=np.float64)[None, :]
    single = a.astype(np.float32)
    out = np.zeros_like(a)
    for ky, kx in peaks:
        along_y = np.exp(-2j * math.pi * ky * y).astype(np.complex64)
        along_x = np.exp(-2j * math.pi * kx * x).astype(np.complex64)
        shifted = np.pad(single * along_y * along_x, extra, mode="symmetric")
        means = shifted.reshape(shifted.shape[0] // block, block, shifted.shape[1] // block, block).mean(
            axis=(1, 3)
        )
        coarse = gaussian_filter(means.real, width / block, mode="reflect") + 1j * gaussian_filter(
            means.imag, width / block, mode="reflect"
        )
        (y0, y1, wy), (x0, x1, wx) = ys, xs
        tall = coarse[y0] * (1 - wy)[:, None] + coarse[y1] * wy[:, None]
        envelope = tall[:, x0] * (1 - wx)[None, :] + tall[:, x1] * wx[None, :]
        out += 2.0 * np.real(envelope * np.conj(along_y) * np.conj(along_x))
    return np.asarray(out)


#: Frequencies above which (cycles per pixel, |k|) the median power of a spectrum is taken as the
#: frame's noise floor: the spectral gain's features and the heights check read the same floor.
NOISE_FLOOR_FROM = 0.3

#: Radial bin edges (cycles per pixel, log-spaced) of :func:`standing_wave_peak`.
WAVE_BINS = np.geomspace(0.02, 0.5, 81)
#: Where :func:`standing_wave_peak` looks for the ring, cycles per pixel (periods 3.3-33 px).
WAVE_SEARCH = (0.03, 0.3)


def hann_1d(n: int) -> FloatArray:
    """Hann window of ``n`` samples with no zero at the edges (every sample counts)."""
    return np.asarray(np.hanning(n + 2)[1:-1], dtype=np.float64)


def hann_window(shape: tuple[int, int]) -> FloatArray:
    """Separable 2-D Hann window of ``shape`` (no zero at the edges: :func:`hann_1d`)."""
    return np.outer(hann_1d(shape[0]), hann_1d(shape[1]))


def power_spectrum(
    data: ArrayLike | Scan, *, pixel_size: tuple[float, float] | None = None, window: bool = True
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Centred 2-D power spectral density of an image (mean and plane removed first).

    Parameters
    ----------
    data : ndarray, shape (rows, cols), or Scan
        Image; NaN pixels are set to the mean before the transform.
    pixel_size : tuple of float, optional
        ``(dy, dx)`` in metres; taken from the Scan, required for an array and for a Scan
        without a pixel size (``(1, 1)`` gives cycles per pixel).
    window : bool
        Multiply by a 2-D Hann window to suppress the edge cross.

    Returns
    -------
    (psd, fy, fx)
        ``psd`` of shape (rows, cols) with zero frequency at ``(rows // 2, cols // 2)`` (units:
        data unit squared times square metres), and the frequencies ``fy`` (rows,) and ``fx``
        (cols,) in cycles per metre.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(64) * 1e-10
    >>> img = np.tile(np.sin(2 * np.pi * x / 8e-10), (64, 1))   # period 8 A along x
    >>> psd, fy, fx = power_spectrum(img, pixel_size=(1e-10, 1e-10))
    >>> r, c = np.unravel_index(np.argmax(psd), psd.shape)
    >>> round(float(abs(fx[c])) * 8e-10, 6), float(fy[r])
    (1.0, 0.0)
    """
    arr, scan = as_image(data)
    if pixel_size is None:
        if scan is None:
            raise ValueError("pixel_size must be given for an array (it is taken from a Scan)")
        if scan.pixel_size is None:
            raise ValueError(f"pixel_size must be given: {scan.describe()} carries none")
        pixel_size = scan.pixel_size
    dy, dx = (float(v) for v in pixel_size)
    if not (dy > 0 and dx > 0):
        raise ValueError(f"pixel_size must be two positive lengths, got {pixel_size!r}")
    finite = np.isfinite(arr)
    if not finite.any():
        raise ValueError("data has no finite pixel")
    work = np.where(finite, arr, float(arr[finite].mean()))
    # least-squares plane on the full grid: with centred coordinates the three columns are
    # orthogonal, so each coefficient is one projection (the same plane as a general solver)
    r = np.arange(work.shape[0]) - (work.shape[0] - 1) / 2.0
    c = np.arange(work.shape[1]) - (work.shape[1] - 1) / 2.0
    work = work - work.mean()
    slope_r = float(work.sum(axis=1) @ r) / (float(r @ r) * work.shape[1]) if r.size > 1 else 0.0
    slope_c = float(work.sum(axis=0) @ c) / (float(c @ c) * work.shape[0]) if c.size > 1 else 0.0
    work = work - slope_r * r[:, None] - slope_c * c[None, :]
    if window:
        work = work * np.outer(np.hanning(work.shape[0]), np.hanning(work.shape[1]))
    spec = np.fft.fftshift(np.fft.fft2(work))
    psd = np.asarray(np.abs(spec) ** 2 * dy * dx / work.size, dtype=np.float64)
    fy = np.fft.fftshift(np.fft.fftfreq(work.shape[0], d=dy))
    fx = np.fft.fftshift(np.fft.fftfreq(work.shape[1], d=dx))
    return psd, fy, fx


def radial_profile(
    psd: ArrayLike, fy: ArrayLike, fx: ArrayLike, *, bins: int | None = None
) -> tuple[FloatArray, FloatArray]:
    """Azimuthal mean of a centred power spectrum against radial frequency.

    Parameters
    ----------
    psd : ndarray, shape (rows, cols)
    fy, fx : ndarray
        Frequencies of the rows and columns (cycles per metre), as from :func:`power_spectrum`.
    bins : int, optional
        Number of radial bins up to the smaller Nyquist frequency (default half the smaller side).

    Returns
    -------
    (f, mean)
        Bin centres (cycles per metre) and the mean power in each bin (NaN for empty bins).
    """
    p = np.asarray(psd, dtype=np.float64)
    fy_a, fx_a = np.asarray(fy, dtype=np.float64), np.asarray(fx, dtype=np.float64)
    if p.shape != (fy_a.size, fx_a.size):
        raise ValueError(f"psd must have shape (len(fy), len(fx)) = {(fy_a.size, fx_a.size)}, got {p.shape}")
    f_max = min(float(np.abs(fy_a).max()), float(np.abs(fx_a).max()))
    if not f_max > 0:
        raise ValueError("fy and fx must span non-zero frequencies")
    n = bins if bins is not None else max(4, min(p.shape) // 2)
    if n < 1:
        raise ValueError(f"bins must be >= 1, got {bins}")
    r = np.hypot(*np.meshgrid(fy_a, fx_a, indexing="ij"))
    edges = np.linspace(0.0, f_max, n + 1)
    which = np.digitize(r.ravel(), edges) - 1
    ok = (which >= 0) & (which < n)
    sums = np.bincount(which[ok], weights=p.ravel()[ok], minlength=n)
    counts = np.bincount(which[ok], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return 0.5 * (edges[:-1] + edges[1:]), mean


def find_ring(
    psd: ArrayLike, fy: ArrayLike, fx: ArrayLike, *, f_min: float = 0.0, f_max: float | None = None
) -> float:
    """Radius (cycles per metre) of the brightest ring: the peak of ``f * radial mean`` in a band.

    The peak bin is refined by a parabola through it and its neighbours.

    Weighting by ``f`` favours a ring over the 1/f background near the centre; give ``f_min``
    to exclude the centre (e.g. ``1 / (field of view / 4)``).

    Examples
    --------
    >>> import numpy as np
    >>> y, x = np.mgrid[-64:64, -64:64] * 2e-10
    >>> img = np.cos(2 * np.pi * np.hypot(y, x) / 15e-10)   # circular waves, period 15 A
    >>> psd, fy, fx = power_spectrum(img, pixel_size=(2e-10, 2e-10))
    >>> f = find_ring(psd, fy, fx, f_min=1 / 60e-10)
    >>> abs(1 / f - 15e-10) < 1.5e-10
    True
    """
    f, mean = radial_profile(psd, fy, fx)
    hi = float(f[-1]) if f_max is None else float(f_max)
    band = (f >= f_min) & (f <= hi) & np.isfinite(mean)
    if not band.any():
        raise ValueError(f"f_min/f_max leave no frequency in the spectrum, got {f_min}, {f_max}")
    weighted = np.where(band, f * np.nan_to_num(mean), -np.inf)
    i = int(np.argmax(weighted))
    if 0 < i < f.size - 1 and band[i - 1] and band[i + 1]:
        # parabola through the peak bin and its neighbours: sub-bin radius
        a, b, c = weighted[i - 1], weighted[i], weighted[i + 1]
        denom = a - 2 * b + c
        if denom < 0:
            return float(f[i] + 0.5 * (a - c) / denom * (f[1] - f[0]))
    return float(f[i])


@dataclass(frozen=True)
class RingReadout:
    """What a ring of radius ``f`` in the power spectrum means, in SI units.

    Attributes
    ----------
    f : float
        Ring radius, cycles per metre.
    period : float
        Real-space period of the modulation, ``1 / f`` (m).
    q : float
        Modulation wavevector ``2 pi f`` (1/m).
    k_fermi : float
        For standing waves (``q = 2 k_F``): ``pi f`` (1/m).
    fermi_wavelength : float
        ``2 pi / k_F = 2 / f`` (m).
    """

    f: float
    period: float
    q: float
    k_fermi: float
    fermi_wavelength: float

    @classmethod
    def from_radius(cls, f: float) -> RingReadout:
        """The readout of a ring of radius ``f`` (cycles per metre, > 0)."""
        if not (math.isfinite(f) and f > 0):
            raise ValueError(f"f must be positive and finite, got {f!r}")
        return cls(f=f, period=1.0 / f, q=2 * math.pi * f, k_fermi=math.pi * f, fermi_wavelength=2.0 / f)


@dataclass(frozen=True)
class WavePeak:
    """The standing-wave ring found by :func:`standing_wave_peak`.

    Attributes
    ----------
    period : float
        Real-space period of the modulation, pixels.
    excess : float
        Natural log of the ring's power over the background line at its radius.
    """

    period: float
    excess: float


def standing_wave_peak(data: ArrayLike | Scan) -> WavePeak | None:
    """The strongest ring of an image's power spectrum above its 1/f background, in pixels.

    The power spectrum (:func:`power_spectrum`: plane removed, Hann window) without the three
    columns nearest kx = 0 (line offsets and streaks along the slow axis) and the three rows
    nearest ky = 0 (stripes straight along the slow axis: mains pick-up) is averaged in the
    log-spaced rings :data:`WAVE_BINS`; a straight line fitted to log power against log radius is
    the background, and the largest excess (smoothed over one bin) between :data:`WAVE_SEARCH`
    is the ring. Standing waves of a surface state give one, at their period (half the Fermi
    wavelength). None for an image with fewer than 8 px a side. Selection and thresholds:
    docs/model-selection.md, "The simulated path".

    >>> import numpy as np
    >>> y, x = np.mgrid[0:128, 0:128]
    >>> img = np.cos(2 * np.pi * np.hypot(y - 60, x - 70) / 12.0) / (1 + np.hypot(y - 60, x - 70) / 8)
    >>> peak = standing_wave_peak(img)
    >>> abs(peak.period - 12.0) < 1.0, peak.excess > 1.2
    (True, True)
    """
    from scipy.ndimage import gaussian_filter1d

    arr, _ = as_image(data)
    if min(arr.shape) < 8:
        return None
    psd, fy, fx = power_spectrum(arr, pixel_size=(1.0, 1.0))
    ky, kx = np.meshgrid(fy, fx, indexing="ij")
    use = (np.abs(kx) > 1.5 / arr.shape[1]) & (np.abs(ky) > 1.5 / arr.shape[0])
    which = np.digitize(np.hypot(ky, kx)[use], WAVE_BINS) - 1
    inside = (which >= 0) & (which < WAVE_BINS.size - 1)
    n = WAVE_BINS.size - 1
    sums = np.bincount(which[inside], weights=psd[use][inside], minlength=n)
    counts = np.bincount(which[inside], minlength=n)
    good = (counts > 0) & (sums > 0)
    if good.sum() < 3:
        return None
    log_f = np.log(np.sqrt(WAVE_BINS[1:] * WAVE_BINS[:-1]))
    log_p = np.log(np.where(good, sums / np.maximum(counts, 1), 1.0))
    design = np.column_stack([log_f, np.ones_like(log_f)])
    coef = np.linalg.lstsq(design[good], log_p[good], rcond=None)[0]
    excess = gaussian_filter1d(np.where(good, log_p - design @ coef, 0.0), 1.0)
    search = (log_f > math.log(WAVE_SEARCH[0])) & (log_f < math.log(WAVE_SEARCH[1]))
    i = int(np.argmax(np.where(search, excess, -np.inf)))
    return WavePeak(period=float(math.exp(-log_f[i])), excess=float(excess[i]))


def describe_ring(f: float) -> str:
    """One line for a ring of radius ``f`` (cycles per metre) in Angstrom units.

    Examples
    --------
    >>> describe_ring(1 / 15e-10)
    'q = 0.4189 Å⁻¹ (period 15 Å); standing waves: k_F = 0.2094 Å⁻¹, λ_F = 30 Å'
    """
    r = RingReadout.from_radius(f)
    return (
        f"q = {r.q * 1e-10:.4g} Å⁻¹ (period {r.period * 1e10:.4g} Å); "
        f"standing waves: k_F = {r.k_fermi * 1e-10:.4g} Å⁻¹, λ_F = {r.fermi_wavelength * 1e10:.4g} Å"
    )


@overload
def crop_rect(data: Scan, *, rows: tuple[int, int], cols: tuple[int, int]) -> Scan: ...
@overload
def crop_rect(data: ArrayLike, *, rows: tuple[int, int], cols: tuple[int, int]) -> FloatArray: ...
def crop_rect(data: ArrayLike | Scan, *, rows: tuple[int, int], cols: tuple[int, int]) -> FloatArray | Scan:
    """The part ``[rows[0]:rows[1], cols[0]:cols[1]]`` of an image.

    A Scan keeps its pixel size; its ``offset`` (frame centre) moves to the centre of the crop,
    in the instrument's frame as :func:`~stmdenoise.processing.crop_nan` does it (``scan.angle``
    positive clockwise); a ``crop_rect`` step records the bounds.

    Raises
    ------
    ValueError
        Bounds outside the image or empty.

    Examples
    --------
    >>> import numpy as np
    >>> crop_rect(np.arange(12.0).reshape(3, 4), rows=(1, 3), cols=(0, 2)).tolist()
    [[4.0, 5.0], [8.0, 9.0]]
    """
    arr, scan = as_image(data)
    (r0, r1), (c0, c1) = (tuple(int(v) for v in rows), tuple(int(v) for v in cols))
    if not (0 <= r0 < r1 <= arr.shape[0]):
        raise ValueError(f"rows must satisfy 0 <= start < stop <= {arr.shape[0]}, got {rows!r}")
    if not (0 <= c0 < c1 <= arr.shape[1]):
        raise ValueError(f"cols must satisfy 0 <= start < stop <= {arr.shape[1]}, got {cols!r}")
    out = np.array(arr[r0:r1, c0:c1], dtype=np.float64)
    step = ProcessingStep("crop_rect", {"rows": [r0, r1], "cols": [c0, c1]})
    if scan is None:
        return out
    # the same frame geometry as crop_nan (angle positive clockwise, the Nanonis convention)
    return finish(out, scan, step, offset=_cropped_offset(scan, slice(r0, r1), slice(c0, c1)))
