"""Classical denoising baselines: Gaussian, median, non-local means, total variation, wavelet, BM3D.

Each baseline has one strength parameter (Gaussian sigma px, median size px, and multiples of the
estimated noise sigma for the others), searched over a grid. Filters run on the robustly
normalised image (:func:`stmdenoise.processing.to_network` without compression), so their
parameters are scale-free, and at the model's pixel size on experimental scans, as the models
see them.

The wavelet baseline needs PyWavelets and BM3D the ``bm3d`` package: the optional extra
``pip install 'stmdenoise[baselines]'``. They are imported when the filter runs; without them it
raises :class:`MissingBaselineError` naming the extra, and :func:`available_baselines` leaves
them out.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from stmdenoise.processing import crop_nan, level_plane, to_network
from stmdenoise.processing.smoothing import FILTER_INPUT, noise_sigma, tv_filter
from stmdenoise.scan import Scan

__all__ = [
    "BASELINES",
    "EXTRA",
    "Baseline",
    "MissingBaselineError",
    "apply_baseline",
    "available_baselines",
    "filter_normalised",
    "real_input",
]

Array = NDArray[np.float64]

#: The optional dependency group that installs the baselines' third-party packages.
EXTRA = "baselines"


class MissingBaselineError(ImportError):
    """A baseline's package is not installed (it comes with ``stmdenoise[baselines]``)."""


@dataclass(frozen=True)
class Baseline:
    """A classical filter with one strength parameter searched over ``grid``.

    ``requires``: import names of the optional packages the filter needs (the ``baselines`` extra).
    """

    name: str
    label: str
    grid: tuple[float, ...]
    apply: Callable[[Array, float], Array]
    requires: tuple[str, ...] = ()

    @property
    def available(self) -> bool:
        """True when every package in ``requires`` is installed."""
        return all(importlib.util.find_spec(m) is not None for m in self.requires)


def _optional(module: str, baseline: str) -> ModuleType:
    """Import an optional package of a baseline, or raise :class:`MissingBaselineError` naming the extra."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingBaselineError(
            f"the {baseline} baseline needs the package {module!r}, which is not installed: "
            f"pip install 'stmdenoise[{EXTRA}]' (or leave {baseline} out of the baselines)"
        ) from exc


def _gaussian(x: Array, s: float) -> Array:
    return np.asarray(ndimage.gaussian_filter(x, s, mode="reflect"))


def _median(x: Array, s: float) -> Array:
    return np.asarray(ndimage.median_filter(x, size=int(s), mode="reflect"))


def _nlmeans(x: Array, f: float) -> Array:
    from skimage.restoration import denoise_nl_means

    sig = noise_sigma(x)
    return np.asarray(
        denoise_nl_means(x, h=f * sig, sigma=sig, patch_size=5, patch_distance=6, fast_mode=True)
    )


def _tv(x: Array, w: float) -> Array:
    return np.asarray(tv_filter(x, w))  # the do-no-harm fallback's too (processing.smoothing)


def _wavelet(x: Array, f: float) -> Array:
    _optional("pywt", "wavelet")  # scikit-image's wavelet denoiser imports PyWavelets
    from skimage.restoration import denoise_wavelet

    return np.asarray(
        denoise_wavelet(x, sigma=f * noise_sigma(x), wavelet="db2", mode="soft", rescale_sigma=True)
    )


def _bm3d(x: Array, f: float) -> Array:
    bm3d: Any = _optional("bm3d", "bm3d")
    return np.asarray(bm3d.bm3d(x, sigma_psd=f * noise_sigma(x)))


#: The classical baselines, in table order (parameters: Gaussian sigma px, median size px,
#: and multiples of the estimated noise sigma for the others).
BASELINES: dict[str, Baseline] = {
    b.name: b
    for b in (
        Baseline("gaussian", "Gaussian", (0.5, 0.75, 1.0, 1.5, 2.0, 3.0), _gaussian),
        Baseline("median", "Median", (3.0, 5.0, 7.0), _median),
        Baseline("nlmeans", "Non-local means", (0.6, 0.8, 1.0, 1.3), _nlmeans),
        Baseline("tv", "Total variation", (0.5, 1.0, 2.0, 4.0), _tv),
        Baseline("wavelet", "Wavelet", (0.5, 1.0, 1.5, 2.0), _wavelet, requires=("pywt",)),
        Baseline("bm3d", "BM3D", (0.5, 1.0, 1.5, 2.0), _bm3d, requires=("bm3d",)),
    )
}


def available_baselines() -> tuple[str, ...]:
    """Names of the baselines whose packages are installed, in table order."""
    return tuple(name for name, b in BASELINES.items() if b.available)


def filter_normalised(
    fn: Callable[[Array, float], Array], param: float, data: Array | Scan, pixel_size: float | None = None
) -> Array:
    """Run a filter ``fn(image, param)`` on the robustly normalised image and map the result back.

    Parameters
    ----------
    fn : callable
        A filter of a NaN-free image in normalised units and one strength parameter.
    param : float
        The strength.
    data : ndarray, shape (rows, cols), or Scan
        The image; unmeasured (NaN) pixels are filled for the filter and NaN again after.
    pixel_size : float, optional
        Run the filter on this grid (metres; ``data`` must be a Scan) and resample back.

    Returns
    -------
    ndarray of float64, the shape of ``data``, in its units
    """
    y, inverse = to_network(data, FILTER_INPUT, pixel_size, compress=False)
    return inverse(fn(y, param))


def apply_baseline(b: Baseline, param: float, data: Array | Scan, pixel_size: float | None = None) -> Array:
    """:func:`filter_normalised` with a baseline's filter (parameters become scale-free)."""
    return filter_normalised(b.apply, param, data, pixel_size)


def real_input(scan: Scan) -> Scan:
    """The scan every method of Table II sees: NaN cropped away, plane removed."""
    if not np.isfinite(scan.data).all():
        scan = crop_nan(scan)
    return level_plane(scan)
