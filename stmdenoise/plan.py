"""What the network will do to a scan, decided before it runs (numpy only; no torch, no Qt).

The network works at its model's pixel size, so a scan is resampled onto that grid first, unless
the model declares a native pixel-size range (a fully convolutional model trained on scans of
several pixel sizes) and both of the scan's pixel sides lie in it: then it works on the scan's
own grid.
:func:`plan_denoise` says by how much, how many pixels that makes and roughly how long it takes,
and refuses what the model cannot serve faithfully (see :mod:`stmdenoise.safety` for the policy
that then decides what is delivered instead); :func:`periodic_detail_lost` finds a lattice finer
than the model's grid can hold, which resampling would erase.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from stmdenoise.physics.constants import CU111_WAVE_PERIOD
from stmdenoise.processing.resample import resampled_shape, same_pixel_size
from stmdenoise.processing.spectrum import PERIODIC_PEAK_RATIO, standing_wave_peak
from stmdenoise.scan import Scan

__all__ = [
    "ANY_PIXEL_SIZE",
    "MAX_WORK_PIXELS",
    "MAX_ZOOM",
    "MIN_MODEL_PIXELS",
    "PERIODIC_PEAK_RATIO",
    "SECONDS_PER_MEGAPIXEL",
    "WAVE_MAX_ZOOM",
    "WAVE_MIN_EXCESS",
    "WAVE_TOLERANCE",
    "DenoisePlan",
    "periodic_detail_lost",
    "plan_denoise",
    "wave_matched_pixel_size",
    "wave_matched_view",
]

#: Fewest pixels per side, on the model's grid, that a scan must have. The networks downsample
#: by 4 and were trained on crops of 64-128 px; a much smaller image comes back with blobs that
#: are not in it.
MIN_MODEL_PIXELS = 32

#: Largest enlargement or reduction onto the model's grid. Shrinking by more loses detail the
#: network can never give back (atoms of a 22 pm/px scan at 0.14 nm/px); enlarging by more
#: feeds it interpolated pixels whose "noise" is smooth and whose features are far larger than
#: anything it was trained on.
MAX_ZOOM = 2.0

#: Most pixels the network may work on in one scan (memory stays bounded whatever the header
#: claims: a 5 µm scan at 0.14 nm/px would be 35 000 x 35 000 px).
MAX_WORK_PIXELS = 4096 * 4096
#: Seconds per million working pixels and pass, by device type, before a Denoiser has measured
#: its own speed: 512^2 in 0.25 s with ONNX Runtime on the 2-core development CPU and 0.013 s
#: on an H200 (``python bench/bench_model.py --model models/cu111-default``).
SECONDS_PER_MEGAPIXEL = {"cpu": 1.0, "cuda": 0.05, "mps": 0.3}
#: Native range (metres) of a denoiser that works on every grid: a model folder's spectral gain
#: (:mod:`stmdenoise.model.spectral_gain`), whose features are in cycles per pixel and relative
#: to the scan's own noise floor. Plans with it say so instead of quoting the range.
ANY_PIXEL_SIZE = (1e-15, 1.0)


@dataclass(frozen=True)
class DenoisePlan:
    """How the network would see a scan, decided before it runs.

    Attributes
    ----------
    scan_pixel_size : (float, float) or None
        ``(dy, dx)`` of the scan, metres; None for a scan without calibration (never run).
    model_pixel_size : float
        Pixel size the network works at, metres.
    zoom : (float, float)
        Model pixels per scan pixel along rows and columns (> 1: enlarged, < 1: shrunk); NaN
        when the scan has no pixel size.
    work_shape : (int, int)
        The scan's size on the model's grid.
    seconds : float
        Rough time for the network passes on ``device``.
    refusal : str
        Why the model will not be run ("" when it will).
    native : bool
        The scan's pixel sides lie in the model's native range: the network works on the scan's
        own grid (zoom 1, no resampling).
    native_range : (float, float) or None
        The model's native pixel-size range, metres (None: it works at ``model_pixel_size`` only).
    wave_period : float or None
        A simulated image gridded by its standing waves (:func:`wave_matched_pixel_size`): their
        period, pixels; ``scan_pixel_size`` is then the size at which they have Cu(111)'s.
    """

    scan_shape: tuple[int, int]
    scan_pixel_size: tuple[float, float] | None
    model_pixel_size: float
    zoom: tuple[float, float]
    work_shape: tuple[int, int]
    seconds: float
    refusal: str = ""
    native: bool = False
    native_range: tuple[float, float] | None = None
    wave_period: float | None = None

    @property
    def runs(self) -> bool:
        """True when the model will be run."""
        return not self.refusal

    @property
    def resampled(self) -> bool:
        """True when the scan is resampled onto another grid."""
        if self.scan_pixel_size is None:
            return True  # no pixel size: never run, and never on a grid of its own
        if self.native:
            return False
        return not same_pixel_size(self.scan_pixel_size, self.model_pixel_size)

    @property
    def work_pixel_size(self) -> float | None:
        """The pixel size to resample the scan to (``to_network``'s argument); None: its own grid."""
        return None if self.native else self.model_pixel_size

    def describe(self) -> str:
        """One plain sentence for the app and the CLI."""
        if self.refusal:
            return f"model not run: {self.refusal}"
        mp = self.model_pixel_size * 1e9
        if self.native and self.native_range == ANY_PIXEL_SIZE:
            own = "" if self.scan_pixel_size is None else f" {self.scan_pixel_size[1] * 1e9:.3g} nm/px"
            head = (
                f"the real-scan filter works on the scan's own{own} grid (any pixel size; not resampled; "
                "it only scales the scan's Fourier coefficients, never above 1)"
            )
        elif self.native and self.scan_pixel_size is not None and self.native_range is not None:
            lo, hi = (v * 1e9 for v in self.native_range)
            head = (
                f"the network works on the scan's own {self.scan_pixel_size[1] * 1e9:.3g} nm/px grid "
                f"(within the model's native range {lo:.3g}-{hi:.3g} nm/px; not resampled)"
            )
        elif not self.resampled or self.scan_pixel_size is None:
            head = f"the network works at the scan's own {mp:.3g} nm/px"
        else:
            z = math.sqrt(self.zoom[0] * self.zoom[1])
            f = z if z > 1 else 1 / z
            amount = f"{f:.3f}" if f < 1.05 else f"{f:.2g}"
            how = f"enlarged {amount}x" if z > 1 else f"shrunk {amount}x"
            size = f"{self.work_shape[1]} x {self.work_shape[0]} px"
            if self.wave_period is not None:
                cu = CU111_WAVE_PERIOD / self.model_pixel_size
                head = (
                    f"the network works where standing waves have Cu(111)'s period ({cu:.3g} px): "
                    f"this image's are {self.wave_period:.3g} px apart, so it is {how} to {size}"
                )
            else:
                head = (
                    f"the network works at {mp:.3g} nm/px: the scan's "
                    f"{self.scan_pixel_size[1] * 1e9:.3g} nm/px grid is {how} to {size}"
                )
        return f"{head}; {_fmt_seconds(self.seconds)}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (provenance)."""
        return {
            "model_pixel_size_m": self.model_pixel_size,
            "zoom": [z if math.isfinite(z) else None for z in self.zoom],
            "work_shape": list(self.work_shape),
            "seconds_estimate": self.seconds,
            "refusal": self.refusal,
            "native": self.native,
            "native_pixel_size_range_m": None if self.native_range is None else list(self.native_range),
            "wave_period_px": self.wave_period,
        }


def _fmt_seconds(s: float) -> str:
    if s < 1:
        return "under a second"
    if s < 90:
        return f"about {s:.0f} s"
    return f"about {s / 60:.0f} min"


def plan_denoise(
    shape: tuple[int, int],
    pixel_size: tuple[float, float] | None,
    model_pixel_size: float,
    *,
    passes: int = 1,
    device: str = "cpu",
    seconds_per_megapixel: float | None = None,
    max_zoom: float = MAX_ZOOM,
    max_pixels: int = MAX_WORK_PIXELS,
    native_range: tuple[float, float] | None = None,
) -> DenoisePlan:
    """Decide the working grid of a scan of ``shape`` x ``pixel_size`` for a model at ``model_pixel_size``.

    Parameters
    ----------
    shape : (int, int)
        Rows and columns of the scan.
    pixel_size : (float, float) or None
        ``(dy, dx)`` in metres; None (a scan without calibration) is refused with the reason.
    model_pixel_size : float
        The model's pixel size, metres.
    passes : int
        Network passes (time scales with it).
    device : str
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``: picks the default speed.
    seconds_per_megapixel : float, optional
        Measured speed (overrides the default of :data:`SECONDS_PER_MEGAPIXEL`).
    max_zoom : float
        Largest enlargement or reduction accepted (``inf`` accepts any).
    max_pixels : int
        Largest working image accepted, pixels.
    native_range : (float, float), optional
        The model's native pixel-size range ``(lo, hi)``, metres (its ``config.json``'s
        ``native_pixel_size_range_m``): when both of the scan's pixel sides lie in it, the network
        works on the scan's own grid (no resampling, zoom 1, no zoom refusal). None: always the
        model's pixel size. :data:`ANY_PIXEL_SIZE` (the spectral gain): every scan on its own
        grid, a scan without a pixel size included.

    Returns
    -------
    DenoisePlan

    Examples
    --------
    >>> p = plan_denoise((512, 512), (3.9e-11, 3.9e-11), 1.406e-10)
    >>> p.runs, p.work_shape
    (False, (142, 142))
    >>> plan_denoise((256, 256), (1e-10, 1e-10), 1.406e-10).runs
    True
    >>> plan_denoise((256, 256), None, 1.406e-10).refusal[:30]
    'the scan carries no pixel size'
    >>> p = plan_denoise((256, 256), (2.7e-11, 2.7e-11), 3.3e-11, native_range=(2e-11, 6e-11))
    >>> p.native, p.zoom, p.work_shape, p.work_pixel_size
    (True, (1.0, 1.0), (256, 256), None)
    """
    rows, cols = (int(v) for v in shape)
    mp = float(model_pixel_size)
    if pixel_size is None and native_range == ANY_PIXEL_SIZE:
        pixel_size = (mp, mp)  # a denoiser that needs no calibration: any stand-in is the scan's own grid
    if pixel_size is None:
        if not (mp > 0 and math.isfinite(mp)):
            raise ValueError(f"model_pixel_size must be a positive finite length, got {model_pixel_size!r}")
        refusal = (
            "the scan carries no pixel size (a plain picture), so the model cannot see its features at "
            f"the scale it was trained on ({mp * 1e9:.3g} nm/px): give one (--nm-per-px)"
        )
        return DenoisePlan((rows, cols), None, mp, (math.nan, math.nan), (rows, cols), 0.0, refusal)
    dy, dx = (float(v) for v in pixel_size)
    if not all(v > 0 and math.isfinite(v) for v in (dy, dx, mp)):
        raise ValueError(
            f"pixel sizes must be positive finite lengths, got {pixel_size!r} and {model_pixel_size!r}"
        )
    if not (max_zoom >= 1):
        raise ValueError(f"max_zoom must be >= 1, got {max_zoom!r}")
    if isinstance(max_pixels, bool) or not isinstance(max_pixels, int) or max_pixels < 1:
        raise ValueError(f"max_pixels must be a positive integer, got {max_pixels!r}")
    if native_range is not None:
        lo, hi = (float(v) for v in native_range)
        if not (0 < lo <= hi and math.isfinite(hi)):
            raise ValueError(f"native_range must be two positive lengths lo <= hi, got {native_range!r}")
        native_range = (lo, hi)
    native = native_range is not None and all(native_range[0] <= v <= native_range[1] for v in (dy, dx))
    zoom = (1.0, 1.0) if native else (dy / mp, dx / mp)
    same = native or same_pixel_size((dy, dx), mp)
    work = (rows, cols) if same else resampled_shape((rows, cols), (dy, dx), (mp, mp))
    rate = seconds_per_megapixel
    if rate is None:
        rate = SECONDS_PER_MEGAPIXEL.get(device.split(":")[0], SECONDS_PER_MEGAPIXEL["cpu"])
    seconds = rate * work[0] * work[1] / 1e6 * max(1, int(passes))
    refusal = ""
    mpx = mp * 1e9
    where = "on its own grid" if native else f"at the model's {mpx:.3g} nm/px"
    if native:
        pass  # the scan's own grid: no zoom to refuse (size limits below still apply)
    elif max(zoom) > max_zoom:
        refusal = (
            f"the scan's {max(dy, dx) * 1e9:.3g} nm pixels would be enlarged {max(zoom):.3g}x to the "
            f"model's {mpx:.3g} nm/px (at most {max_zoom:g}x is faithful): the network would see smooth "
            "interpolated pixels unlike anything it was trained on"
        )
    elif min(zoom) < 1 / max_zoom:
        refusal = (
            f"the scan's {min(dy, dx) * 1e12:.3g} pm pixels would be shrunk {1 / min(zoom):.3g}x to the "
            f"model's {mpx:.3g} nm/px (at most {max_zoom:g}x is faithful): detail finer than "
            f"{2 * mpx:.2g} nm would be lost"
        )
    size = "" if native else f" ({MIN_MODEL_PIXELS * mpx:.2g} nm)"
    if refusal:
        pass
    elif min(work) < MIN_MODEL_PIXELS:
        refusal = (
            f"{where} the scan is only {work[1]} x {work[0]} px; the model needs "
            f"at least {MIN_MODEL_PIXELS} px per side{size} and would invent features on a smaller image"
        )
    elif work[0] * work[1] > max_pixels:
        refusal = (
            f"{where} the scan would be {work[1]} x {work[0]} px, more than the "
            f"limit of {max_pixels:,} px: denoise a crop, or raise the limit (--max-pixels)"
        )
    return DenoisePlan((rows, cols), (dy, dx), mp, zoom, work, seconds, refusal, native, native_range)


def periodic_detail_lost(scan: Scan, model_pixel_size: float) -> tuple[float, float] | None:
    """Periodic detail of ``scan`` finer than the model's grid can hold, as ``(period_m, peak_ratio)``.

    A model working at ``model_pixel_size`` can represent periods down to twice that; a scan
    with finer pixels may hold a lattice between its own limit and the model's, which
    resampling onto the model's grid erases. Detected as the strongest spectral peak, relative
    to the median power of its ring of equal spatial frequency, in that band (above
    :data:`PERIODIC_PEAK_RATIO`); None when there is no such band or no such peak.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = np.arange(256)[None, :] * np.ones((256, 1))
    >>> lattice = Scan(np.sin(2 * np.pi * x / 4.4) + rng.normal(size=(256, 256)), pixel_size=(5e-11, 5e-11))
    >>> period, ratio = periodic_detail_lost(lattice, 1.4e-10)
    >>> round(period * 1e10, 1), ratio > 100
    (2.2, True)
    >>> periodic_detail_lost(lattice.with_data(rng.normal(size=(256, 256))), 1.4e-10) is None
    True
    """
    from scipy import ndimage

    from stmdenoise.metrics._input import NotScorableError, scored_rows
    from stmdenoise.metrics.bands import radial_frequency, radial_period
    from stmdenoise.metrics.registration import windowed_power

    if scan.pixel_size is None:  # no length scale: no period to compare with the model's
        return None
    px = math.sqrt(scan.pixel_size[0] * scan.pixel_size[1])
    if px * 1.05 >= model_pixel_size:
        return None
    try:
        z = np.asarray(scan.data[scored_rows(scan.data)], dtype=np.float64)
    except NotScorableError:
        return None
    if min(z.shape) < MIN_MODEL_PIXELS or not np.ptp(z) > 0:
        return None
    power = ndimage.uniform_filter(windowed_power(z), 3, mode="wrap")
    k, period = radial_frequency(z.shape), radial_period(z.shape, px)
    band = (period < 2 * model_pixel_size) & (period >= 2.1 * px)
    if band.sum() < 50:
        return None
    ring = np.round(k * min(z.shape)).astype(np.intp)
    median = np.asarray(ndimage.median(power, labels=ring, index=np.arange(int(ring.max()) + 1)))
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(band & (median[ring] > 0), power / np.where(median[ring] > 0, median[ring], 1.0), 0.0)
    i = int(np.argmax(rel))
    ratio = float(rel.ravel()[i])
    return (float(period.ravel()[i]), ratio) if ratio >= PERIODIC_PEAK_RATIO else None


#: Least excess of the standing-wave ring (log power over the background: e^1.2 = 3.3x) for
#: :func:`wave_matched_pixel_size` to trust its period.
WAVE_MIN_EXCESS = 1.2
#: The grid is matched only when the waves' period is further than this ratio from Cu(111)'s.
WAVE_TOLERANCE = 1.15
#: Largest enlargement or reduction the matching asks for.
WAVE_MAX_ZOOM = 3.0


def wave_matched_pixel_size(scan: Scan) -> tuple[float, float] | None:
    """For a simulated image: ``(pixel size, period in px)`` at which its standing waves have
    Cu(111)'s period (:data:`~stmdenoise.physics.constants.CU111_WAVE_PERIOD`), or None to keep
    its own (no pixel size, no ring of :data:`WAVE_MIN_EXCESS`, or a period within
    :data:`WAVE_TOLERANCE`).

    G_D was trained on Cu(111)'s waves only; on the simulator's other surface states (the same
    scene on a field that many times larger) it redraws the waves at its own period, and worked
    on a grid where the period is Cu(111)'s it does not (docs/model-selection.md, "The simulated
    path"). The factor is at most :data:`WAVE_MAX_ZOOM` either way.

    >>> import numpy as np
    >>> y, x = np.mgrid[0:256, 0:256]
    >>> waves = Scan(np.cos(2 * np.pi * np.hypot(y - 120, x - 130) / 21.1), pixel_size=(1.4e-10, 1.4e-10))
    >>> size, period = wave_matched_pixel_size(waves)   # waves twice Cu(111)'s period
    >>> round(size / 1.4e-10, 1), round(period)
    (0.5, 20)
    """
    if scan.pixel_size is None:  # a plain picture: the plan asks for a pixel size instead
        return None
    own = scan.pixel_size[1]
    peak = standing_wave_peak(scan.data)
    if peak is None or peak.excess < WAVE_MIN_EXCESS:
        return None
    size = CU111_WAVE_PERIOD / peak.period
    if abs(math.log(size / own)) <= math.log(WAVE_TOLERANCE):
        return None
    return min(max(size, own / WAVE_MAX_ZOOM), own * WAVE_MAX_ZOOM), peak.period


def wave_matched_view(scan: Scan) -> tuple[Scan, float | None]:
    """``scan`` with the pixel size of :func:`wave_matched_pixel_size` and its waves' period
    (pixels), or ``scan`` itself and None when its grid stays."""
    matched = wave_matched_pixel_size(scan)
    if matched is None:
        return scan, None
    return replace(scan, pixel_size=(matched[0], matched[0])), matched[1]
