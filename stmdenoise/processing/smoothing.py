"""Classical smoothing: the conservative filter the do-no-harm check falls back to."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import ndimage

from stmdenoise.processing._common import as_image, finish
from stmdenoise.processing.nan import fill_nan_nearest
from stmdenoise.scan import ProcessingStep, Scan

__all__ = ["GAUSSIAN_WIDTHS", "gaussian_smooth", "gaussian_transfer"]

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
