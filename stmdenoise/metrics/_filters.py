"""Small separable filters shared by the metrics (MATLAB's Gaussian windows, in numpy/scipy)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

__all__ = ["gaussian_taps", "gaussian_filter7", "brisque_local_mean"]


def gaussian_taps(size: int = 7, sigma: float = 7.0 / 6.0) -> NDArray[np.float64]:
    """Normalised 1-D Gaussian taps as MATLAB's ``fspecial``/``imgaussfilt`` build them.

    ``fspecial('gaussian', 7, 7/6)`` is the outer product of these taps (both normalise the
    sum to one, and no tap is small enough for fspecial's ``eps`` cut-off).
    """
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    h = np.exp(-(x * x) / (2.0 * sigma * sigma))
    return h / h.sum()


_TAPS7 = gaussian_taps()


def gaussian_filter7(image: NDArray[np.float64], *, mode: str) -> NDArray[np.float64]:
    """7x7 Gaussian (sigma 7/6) local mean, separable.

    ``mode="constant"`` reproduces ``filter2(window, x, 'same')`` (zero padding, the LIVE
    BRISQUE code); ``mode="nearest"`` reproduces ``imgaussfilt(..., 'Padding', 'replicate')``
    (MATLAB's PIQE).
    """
    tmp = ndimage.correlate1d(image, _TAPS7, axis=0, mode=mode, cval=0.0)
    return ndimage.correlate1d(tmp, _TAPS7, axis=1, mode=mode, cval=0.0)


# ``filter2(window, x, 'same')`` with BRISQUE's window (fspecial('gaussian', 7, 7/6), normalised
# twice as brisque_feature.m does) runs as a separable conv2 with taps from the SVD of the
# window. The taps below are that SVD's, frozen to the last bit so that the result does not
# depend on the LAPACK build. Why it matters: in perfectly flat image areas the MSCN coefficient
# is (I - mu) = round-off noise whose *sign* decides whether a pixel counts in the left or right
# AGGD half, which moves BRISQUE by up to several points on images with flat patches. We sum the
# taps in one fixed order (rows first, last tap first), the order that reproduces the LIVE
# reference scores (docs/metrics.md).
_BRISQUE_COL_TAPS = np.array(
    [
        float.fromhex(h)
        for h in (
            "0x1.9b92991f24884p-7",
            "0x1.42e11ca517a60p-4",
            "0x1.e5fb7c557fad0p-3",
            "0x1.5edacbc602378p-2",
            "0x1.e5fb7c557fad0p-3",
            "0x1.42e11ca517a60p-4",
            "0x1.9b92991f24881p-7",
        )
    ]
)
_BRISQUE_ROW_TAPS = np.array(
    [
        float.fromhex(h)
        for h in (
            "0x1.9b92991f2487fp-7",
            "0x1.42e11ca517a5fp-4",
            "0x1.e5fb7c557facep-3",
            "0x1.5edacbc602378p-2",
            "0x1.e5fb7c557facep-3",
            "0x1.42e11ca517a5fp-4",
            "0x1.9b92991f24881p-7",
        )
    ]
)


def _sequential_pass(image: NDArray[np.float64], taps: NDArray[np.float64], axis: int) -> NDArray[np.float64]:
    """Zero-padded 'same' correlation along ``axis``, accumulated from the last tap to the first."""
    half = taps.size // 2
    n = image.shape[axis]
    shape = list(image.shape)
    shape[axis] += 2 * half
    padded = np.zeros(shape)
    if axis == 0:
        padded[half : half + n, :] = image
    else:
        padded[:, half : half + n] = image

    def shifted(k: int) -> NDArray[np.float64]:
        return padded[k : k + n, :] if axis == 0 else padded[:, k : k + n]

    out = np.multiply(shifted(taps.size - 1), taps[-1])
    tmp = np.empty_like(out)
    for k in range(taps.size - 2, -1, -1):
        np.multiply(shifted(k), taps[k], out=tmp)
        np.add(out, tmp, out=out)
    return out


def brisque_local_mean(image: NDArray[np.float64]) -> NDArray[np.float64]:
    """BRISQUE's local mean ``filter2(window, image, 'same')`` (zero padding), bit-stable."""
    return _sequential_pass(_sequential_pass(image, _BRISQUE_ROW_TAPS, axis=1), _BRISQUE_COL_TAPS, axis=0)
