"""Full-reference metrics on the 0-255 scale the PDA-Net paper uses (its eq. 12-14).

Both images go through the one conversion of :mod:`stmdenoise.metrics` (``uint8`` kept, any
other dtype min-max scaled *per image* to 8 bits), after both are cropped to the rows that are
complete in both. So ``mse(clean, denoised)`` of two float height maps compares their 8-bit
renderings, as MATLAB does when it reads the PNGs of the paper's figures.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from skimage.metrics import structural_similarity

from stmdenoise.metrics._input import _as_array, joint_rows, to_uint8

__all__ = ["mse", "psnr", "ssim", "prepare_pair"]

#: SSIM settings (Wang, Bovik, Sheikh, Simoncelli 2004): 11x11 Gaussian window, sigma 1.5.
SSIM_PARAMS: dict[str, Any] = {
    "data_range": 255,
    "gaussian_weights": True,
    "sigma": 1.5,
    "use_sample_covariance": False,
    "K1": 0.01,
    "K2": 0.03,
}


def prepare_pair(ref: Any, test: Any) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
    """Crop two images to the rows complete in both and convert each to 8 bits.

    Parameters
    ----------
    ref, test : Scan or array_like, shape (rows, cols)
        Same shape; any units (each is min-max scaled on its own unless it is ``uint8``).

    Returns
    -------
    tuple of ndarray of uint8, each shape (rows', cols)

    Raises
    ------
    ValueError
        Shapes differ.
    NotScorableError
        Fewer than 64 jointly complete rows, or either image constant.
    """
    a = _as_array(ref, "ref")
    b = _as_array(test, "test")
    rows = joint_rows(a, b, names=("ref", "test"))
    return to_uint8(a[rows], name="ref"), to_uint8(b[rows], name="test")


def mse(ref: Any, test: Any) -> float:
    """Mean squared error between two images on the 0-255 scale.

    Parameters
    ----------
    ref, test : Scan or array_like, shape (rows, cols)
        Reference (e.g. the clean simulated map) and test image (e.g. the denoised one).

    Returns
    -------
    float
        ``mean((ref8 - test8)**2)`` in squared grey levels.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.arange(64 * 64, dtype=float).reshape(64, 64)
    >>> mse(a, a)
    0.0
    """
    a, b = prepare_pair(ref, test)
    d = a.astype(np.float64) - b.astype(np.float64)
    return float(np.mean(d * d))


def psnr(ref: Any, test: Any) -> float:
    """Peak signal-to-noise ratio in dB, ``10 log10(255^2 / MSE)``; ``inf`` for identical images.

    Parameters
    ----------
    ref, test : Scan or array_like, shape (rows, cols)
        See :func:`mse`.

    Returns
    -------
    float
        PSNR in decibels.
    """
    m = mse(ref, test)
    if m == 0.0:
        return float("inf")
    return float(10.0 * np.log10(255.0**2 / m))


def ssim(ref: Any, test: Any) -> float:
    """Structural similarity (mean SSIM) on the 0-255 scale.

    Computed with :func:`skimage.metrics.structural_similarity` and the parameters of Wang et
    al. 2004 (:data:`SSIM_PARAMS`: Gaussian window sigma 1.5, K1 0.01, K2 0.03, population
    covariance, data range 255). scikit-image averages over the image minus a 5-pixel border;
    MATLAB's ``ssim`` pads by replication and averages over every pixel, so the two can differ
    in the third decimal.

    Parameters
    ----------
    ref, test : Scan or array_like, shape (rows, cols)
        See :func:`mse`.

    Returns
    -------
    float
        Mean SSIM in [-1, 1]; 1 for identical images.
    """
    a, b = prepare_pair(ref, test)
    return float(structural_similarity(a.astype(np.float64), b.astype(np.float64), **SSIM_PARAMS))
