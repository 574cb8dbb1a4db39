"""PIQE: Perception-based Image Quality Evaluator, exactly as MATLAB's ``piqe()`` computes it.

Venkatanath N, D. Praneeth, Maruthi Chandrasekhar Bh, S. S. Channappayya and S. S. Medasani,
"Blind image quality evaluation using perception based features", Twenty First National
Conference on Communications (NCC), 2015. Score in [0, 100]; lower is better.

The block loop of MATLAB's implementation is vectorised here over all 16x16 blocks at once;
every constant and every quirk that moves the score is kept:

* the image is padded to a multiple of 16 by replicating its last row / column;
* MSCN coefficients use a 7x7 Gaussian (sigma 7/6) with replicate padding and ``sigma + 1``;
* a block is *active* when the sample variance (N-1) of its MSCN values exceeds 0.1;
* *noticeable artefact*: any of the 11 six-pixel segments along any of the four block edges
  has a sample standard deviation below 0.1;
* *noise*: with ``s`` the block's standard deviation and ``r`` the ratio of the standard
  deviation of the two centre columns (8 and 9, counted from 1) to that of the "surround",
  the block is noisy when ``s > 2 |s - r| / max(s, r)``. MATLAB deletes column 8 and then
  column 9 *of what is left*, so its surround lacks the original columns 8 and 10; we do the same.
* score = 100 (sum over active blocks of [artefact] (1 - var) + [noise] var + 1) / (n_active + 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from stmdenoise.metrics._filters import gaussian_filter7
from stmdenoise.metrics._input import to_uint8

__all__ = ["piqe", "piqe_details", "PiqeResult"]

BLOCK = 16
ACTIVITY_THRESHOLD = 0.1
IMPAIRED_THRESHOLD = 0.1
SEGMENT = 6

# columns (0-based) MATLAB's centerSurDev uses: centre = columns 7, 8; surround = all but 7, 9
_CENTRE = np.array([7, 8])
_SURROUND = np.array([c for c in range(BLOCK) if c not in (7, 9)])


@dataclass(frozen=True)
class PiqeResult:
    """PIQE score and its block masks.

    Attributes
    ----------
    score : float
        PIQE in [0, 100]; lower is better.
    activity_mask, artefact_mask, noise_mask : ndarray of bool, shape (rows, cols)
        Pixels of blocks that are spatially active / show noticeable artefacts / show noise
        (MATLAB's ``ActivityMask``, ``NoticeableArtifactsMask``, ``NoiseMask``), cropped to the
        scored image.
    """

    score: float
    activity_mask: NDArray[np.bool_]
    artefact_mask: NDArray[np.bool_]
    noise_mask: NDArray[np.bool_]


def _mscn(image: NDArray[np.float64]) -> NDArray[np.float64]:
    """``(I - mu) / (sigma + 1)`` (in place where possible: this is most of PIQE's time)."""
    mu = gaussian_filter7(image, mode="nearest")
    sigma = gaussian_filter7(image * image, mode="nearest")
    sigma -= mu * mu
    np.abs(sigma, out=sigma)
    np.sqrt(sigma, out=sigma)
    sigma += 1.0
    np.subtract(image, mu, out=mu)
    mu /= sigma
    return mu


def _block_analysis(
    grey: NDArray[np.float64],
) -> tuple[float, NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_]]:
    rows, cols = grey.shape
    pad_r, pad_c = (-rows) % BLOCK, (-cols) % BLOCK
    if pad_r or pad_c:
        grey = np.pad(grey, ((0, pad_r), (0, pad_c)), mode="edge")
    norm = _mscn(grey)
    nbr, nbc = norm.shape[0] // BLOCK, norm.shape[1] // BLOCK
    blocks = norm.reshape(nbr, BLOCK, nbc, BLOCK).transpose(0, 2, 1, 3)  # (nbr, nbc, 16, 16)

    flat = blocks.reshape(nbr, nbc, BLOCK * BLOCK)
    var = flat.var(axis=-1, ddof=1)
    active = var > ACTIVITY_THRESHOLD

    # noticeable-artefact criterion: 6-pixel segments along the four edges
    edges = np.stack(
        (blocks[..., 0, :], blocks[..., :, BLOCK - 1], blocks[..., BLOCK - 1, :], blocks[..., :, 0]), axis=2
    )  # (nbr, nbc, 4, 16)
    seg_std = sliding_window_view(edges, SEGMENT, axis=-1).std(axis=-1, ddof=1)  # (nbr, nbc, 4, 11)
    impaired = (seg_std < IMPAIRED_THRESHOLD).any(axis=(-1, -2))

    # noise criterion: centre / surround standard deviation against the block's
    sigma = np.sqrt(var)
    centre = blocks[..., :, _CENTRE].reshape(nbr, nbc, -1)
    surround = blocks[..., :, _SURROUND].reshape(nbr, nbc, -1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = centre.std(axis=-1, ddof=1) / surround.std(axis=-1, ddof=1)
        ratio = np.where(np.isnan(ratio), 0.0, ratio)
        beta = np.abs(sigma - ratio) / np.maximum(sigma, ratio)
    noisy = sigma > 2.0 * beta  # NaN beta (0/0, inf/inf) compares False, as in MATLAB

    dist = np.where(active & impaired, 1.0 - var, 0.0) + np.where(active & noisy, var, 0.0)
    n_active = int(np.count_nonzero(active))
    # MATLAB accumulates block by block in row-major block order (i outer, j inner)
    score = (float(np.sum(dist.ravel())) + 1.0) / (1.0 + n_active) * 100.0

    def expand(mask: NDArray[np.bool_]) -> NDArray[np.bool_]:
        full = np.repeat(np.repeat(mask, BLOCK, axis=0), BLOCK, axis=1)
        return np.ascontiguousarray(full[:rows, :cols])

    return score, expand(active), expand(active & impaired), expand(active & noisy)


def piqe_details(image: Any) -> PiqeResult:
    """PIQE score with MATLAB's three block masks.

    Parameters
    ----------
    image : Scan or array_like, shape (rows, cols)
        See :func:`piqe`.

    Returns
    -------
    PiqeResult
    """
    grey = to_uint8(image).astype(np.float64)
    score, act, art, noise = _block_analysis(grey)
    return PiqeResult(score=score, activity_mask=act, artefact_mask=art, noise_mask=noise)


def piqe(image: Any) -> float:
    """PIQE no-reference quality score, as MATLAB's ``piqe()`` computes it (lower is better).

    Parameters
    ----------
    image : Scan or array_like, shape (rows, cols)
        ``uint8`` grey levels are scored as they are; any other dtype (an STM scan in metres)
        is min-max scaled per image to 8 bits first. Only the longest run of NaN-free rows is
        scored. For a colour photograph, convert to grey first as MATLAB's ``rgb2gray`` does
        (``0.298936 R + 0.587043 G + 0.114021 B``, rounded to ``uint8``).

    Returns
    -------
    float
        Score in [0, 100].

    Raises
    ------
    NotScorableError
        (a ``ValueError``) for images with fewer than 64 complete rows or columns, or constant
        images (MATLAB returns 100 for those; we refuse rather than report a number).

    Examples
    --------
    >>> import numpy as np
    >>> from skimage import data
    >>> photo = data.camera()                      # 512x512 uint8
    >>> noisy = np.clip(photo + np.random.default_rng(0).normal(0.0, 20.0, photo.shape), 0, 255)
    >>> piqe(photo) < piqe(noisy.round().astype(np.uint8))
    True
    """
    return piqe_details(image).score
