"""MATLAB ``imresize`` (bicubic, antialiased when shrinking) along both axes, in numpy.

BRISQUE's second scale is ``imresize(img, 0.5)``; its features depend on the exact kernel, so we
follow MATLAB: Keys cubic with a = -0.5, stretched by 1/scale when shrinking (antialiasing),
output pixel ``u = x / scale + 0.5 (1 - 1 / scale)`` (1-based), taps normalised to sum one,
symmetric boundary (the edge pixel repeated), output size ``ceil(scale * size)``.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

__all__ = ["imresize"]


def _cubic(x: NDArray[np.float64]) -> NDArray[np.float64]:
    ax = np.abs(x)
    ax2 = ax * ax
    ax3 = ax2 * ax
    return (1.5 * ax3 - 2.5 * ax2 + 1.0) * (ax <= 1) + (-0.5 * ax3 + 2.5 * ax2 - 4.0 * ax + 2.0) * (
        (ax > 1) & (ax <= 2)
    )


def _contributions(in_len: int, out_len: int, scale: float) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """(indices, weights), each (out_len, taps): 0-based source rows and their weights."""
    kernel_width = 4.0
    if scale < 1:
        width = kernel_width / scale

        def kernel(x: NDArray[np.float64]) -> NDArray[np.float64]:
            return scale * _cubic(scale * x)
    else:
        width = kernel_width
        kernel = _cubic
    x = np.arange(1, out_len + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1.0 - 1.0 / scale)
    left = np.floor(u - width / 2.0)
    taps = int(math.ceil(width)) + 2
    idx = left[:, None] + np.arange(taps, dtype=np.float64)[None, :]
    w = kernel(u[:, None] - idx)
    w = w / w.sum(axis=1, keepdims=True)
    mirror = np.concatenate((np.arange(in_len), np.arange(in_len - 1, -1, -1)))
    src = mirror[np.mod(idx.astype(np.intp) - 1, 2 * in_len)]
    keep = np.any(w != 0, axis=0)
    return src[:, keep], w[:, keep]


def _resize_axis0(image: NDArray[np.float64], out_len: int, scale: float) -> NDArray[np.float64]:
    src, w = _contributions(image.shape[0], out_len, scale)
    image = np.ascontiguousarray(image)
    out = np.zeros((out_len,) + image.shape[1:], dtype=np.float64)
    for k in range(src.shape[1]):
        out += w[:, k, None] * image[src[:, k]]
    return out


def imresize(image: NDArray[np.float64], scale: float) -> NDArray[np.float64]:
    """Resize a 2-D float image by ``scale`` as MATLAB's ``imresize(image, scale)`` (bicubic).

    Parameters
    ----------
    image : ndarray of float64, shape (rows, cols)
    scale : float
        Positive scale factor, the same for both axes.

    Returns
    -------
    ndarray of float64, shape (ceil(scale * rows), ceil(scale * cols))
    """
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale!r}")
    rows, cols = image.shape
    out_r, out_c = math.ceil(scale * rows), math.ceil(scale * cols)
    tmp = _resize_axis0(np.asarray(image, dtype=np.float64), out_r, scale)  # MATLAB does rows first
    return _resize_axis0(tmp.T, out_c, scale).T
