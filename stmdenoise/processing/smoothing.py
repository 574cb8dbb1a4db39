"""Classical smoothing: the conservative filters the do-no-harm check falls back to.

:func:`gaussian_smooth` (a Gaussian of a width in pixels) and :func:`tv_smooth` (Chambolle's total
variation, scikit-image's, at a weight in units of the scan's own noise level, on the robustly
normalised image: the "Total variation" baseline of :mod:`stmdenoise.evaluation.baselines` runs
the same function, so a fallback and its baseline row are one output).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import ndimage

from stmdenoise.processing._common import as_image, finish
from stmdenoise.processing.nan import fill_nan_nearest
from stmdenoise.processing.network import NormalizationSpec, to_network
from stmdenoise.scan import ProcessingStep, Scan

__all__ = [
    "FILTER_INPUT",
    "GAUSSIAN_WIDTHS",
    "gaussian_smooth",
    "gaussian_transfer",
    "noise_sigma",
    "tv_filter",
    "tv_smooth",
]

#: Widths (pixels) of the Gaussians the real-scan path chooses among, 0 meaning none: the
#: two-direction Wiener's SURE-chosen Gaussian (:data:`stmdenoise.model.two_direction_gain.SURE_SIGMAS`)
#: and the do-no-harm fallback (:data:`stmdenoise.fallback.FALLBACK_SIGMAS`), one list for both
#: (docs/model-selection.md, candidate BS).
GAUSSIAN_WIDTHS = (0.0, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0)


def gaussian_smooth(data: ArrayLike | Scan, sigma: float) -> Any:
    """Gaussian low-pass of ``sigma`` pixels; NaN pixels stay NaN and do not spread.

    Parameters
    ----------
    data : ndarray or Scan, shape (rows, cols)
        Image; NaN marks unmeasured pixels (filled from their nearest neighbour for the
        convolution only).
    sigma : float
        Standard deviation of the Gaussian in pixels (0 returns the data unchanged).

    Returns
    -------
    ndarray or Scan
        Same kind as ``data``; a Scan gets a ``gaussian_smooth`` processing step.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.zeros((5, 5)); a[2, 2] = 1.0; a[0, 0] = np.nan
    >>> out = gaussian_smooth(a, 1.0)
    >>> bool(np.isnan(out[0, 0])), round(float(np.nansum(out)), 2)
    (True, 1.0)
    """
    if (
        isinstance(sigma, bool)
        or not isinstance(sigma, (int, float))
        or not (math.isfinite(sigma) and sigma >= 0)
    ):
        raise ValueError(f"sigma must be a non-negative number of pixels, got {sigma!r}")
    arr, scan = as_image(data)
    finite = np.isfinite(arr)
    if sigma == 0:
        out = np.array(arr, dtype=np.float64)
    else:
        filled = fill_nan_nearest(arr) if not finite.all() else arr
        out = np.asarray(ndimage.gaussian_filter(filled, float(sigma), mode="reflect"), dtype=np.float64)
        out[~finite] = np.nan
    return finish(out, scan, ProcessingStep("gaussian_smooth", {"sigma_px": float(sigma)}))


def gaussian_transfer(sigma: float, k: ArrayLike) -> Any:
    """What :func:`gaussian_smooth` of ``sigma`` pixels keeps of each frequency: its gain at radial
    frequency ``k`` (cycles per pixel), exp(-2 pi^2 sigma^2 k^2) (the truncated kernel's differs by
    under 1e-3). The do-no-harm check predicts a fallback's error from it.

    >>> [round(float(v), 3) for v in gaussian_transfer(1.0, [0.0, 0.1, 0.5])]
    [1.0, 0.821, 0.007]
    """
    return np.exp(-2.0 * math.pi**2 * float(sigma) ** 2 * np.square(np.asarray(k, dtype=np.float64)))


#: How classical filters see an image: the networks' robust normalisation (default percentiles),
#: without levelling (their inputs are levelled already) and without compression.
FILTER_INPUT = NormalizationSpec(level=False)


def noise_sigma(x: ArrayLike) -> float:
    """scikit-image's estimate of the white noise's standard deviation in ``x`` (NaN-free; the
    wavelet detail's median absolute deviation), at least 1e-6: the unit of the classical filters'
    strengths."""
    from skimage.restoration import estimate_sigma

    return max(float(estimate_sigma(np.asarray(x, dtype=np.float64))), 1e-6)


def tv_filter(x: ArrayLike, weight: float, *, sigma: float | None = None) -> Any:
    """Chambolle's total variation (:func:`skimage.restoration.denoise_tv_chambolle`) of a NaN-free
    image at ``weight`` times ``sigma`` (default: its own :func:`noise_sigma`): the filter in the
    units it is given."""
    from skimage.restoration import denoise_tv_chambolle

    a = np.asarray(x, dtype=np.float64)
    unit = noise_sigma(a) if sigma is None else float(sigma)
    return np.asarray(denoise_tv_chambolle(a, weight=float(weight) * unit))


def tv_smooth(data: ArrayLike | Scan, weight: float, *, noise_of: ArrayLike | Scan | None = None) -> Any:
    """:func:`tv_filter` of ``weight`` on the robustly normalised image (:data:`FILTER_INPUT`),
    mapped back to the data's units; NaN pixels are filled for the filter and NaN again after.

    Total variation keeps edges and flattens what lies between them: on a flat terrace with a few
    lone defects it removes the noise a filter with one gain for the frame leaves around them
    (docs/model-selection.md, candidate EM).

    Parameters
    ----------
    data : ndarray or Scan, shape (rows, cols)
    weight : float
        Strength in units of the normalised image's noise level (positive).
    noise_of : ndarray or Scan, optional
        The image whose noise level is the unit of ``weight`` and whose robust normalisation maps
        ``data`` (same shape): the raw scan, where ``data`` is an output made from it whose own
        noise level is far lower (the do-no-harm judge's refinement of the model's output,
        :func:`stmdenoise.refine.refinements`). Default: ``data`` itself.

    Returns
    -------
    ndarray or Scan
        Same kind as ``data``; a Scan gets a ``tv_smooth`` processing step.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> step = np.where(np.arange(64)[None, :] < 32, 0.0, 1.0) * np.ones((64, 1))
    >>> noisy = step + 0.1 * rng.normal(size=step.shape)
    >>> out = tv_smooth(noisy, 4.0)
    >>> bool(np.std(out - step) < 0.5 * np.std(noisy - step))
    True
    """
    if (
        isinstance(weight, bool)
        or not isinstance(weight, (int, float))
        or not (math.isfinite(weight) and weight > 0)
    ):
        raise ValueError(f"weight must be a positive number, got {weight!r}")
    arr, scan = as_image(data)
    params: dict[str, Any] = {"weight": float(weight)}
    if noise_of is None:
        y, inverse = to_network(arr, FILTER_INPUT, None, compress=False)
        sigma = None
    else:
        ref, _ = as_image(noise_of)
        if ref.shape != arr.shape:
            raise ValueError(f"noise_of has shape {ref.shape}, data {arr.shape}")
        y_ref, inverse_ref = to_network(ref, FILTER_INPUT, None, compress=False)
        y, inverse = to_network(arr, FILTER_INPUT, None, norm=inverse_ref.norm, compress=False)
        sigma = noise_sigma(y_ref)
        params["noise_of"] = "reference"
    out = np.asarray(inverse(tv_filter(y, weight, sigma=sigma)), dtype=np.float64)
    return finish(out, scan, ProcessingStep("tv_smooth", params))
