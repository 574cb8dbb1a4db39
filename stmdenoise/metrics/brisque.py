"""BRISQUE with the LIVE-trained SVR, as the original LIVE release (``brisquescore.m``) computes it.

A. Mittal, A. K. Moorthy and A. C. Bovik, "No-Reference Image Quality Assessment in the Spatial
Domain", IEEE Transactions on Image Processing 21(12), 4695-4708, 2012; and "BRISQUE Software
Release", http://live.ece.utexas.edu/research/quality/BRISQUE_release.zip, 2011.

Features (36, at two scales; ``brisque_feature.m``):

* MSCN coefficients ``(I - mu) / (sigma + 1)`` with a 7x7 Gaussian window (sigma 7/6), zero
  padding (``filter2(..., 'same')``), on grey levels 0-255;
* a generalised Gaussian fit (shape, variance) of the MSCN coefficients (moment matching on the
  grid 0.2:0.001:10);
* for the four neighbour products (horizontal, vertical, two diagonals; ``circshift``, so the
  image wraps around) an asymmetric generalised Gaussian fit: shape, mean, left and right
  variance;
* the same on the image shrunk by ``imresize(I, 0.5)`` (bicubic, antialiased).

Features are scaled to [-1, 1] with the LIVE ``allrange`` limits and scored with the LIVE
``allmodel`` epsilon-SVR (RBF kernel, gamma 0.05). The model's numbers ship in
``data/brisque_live.npz`` (see ``data/NOTICE.txt`` for licence and citation).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.special import gamma as gamma_fn

from stmdenoise.metrics._filters import brisque_local_mean
from stmdenoise.metrics._imresize import imresize
from stmdenoise.metrics._input import to_uint8

__all__ = ["brisque", "brisque_features", "BrisqueModel", "live_model"]

# moment-ratio look-up tables on MATLAB's grid 0.2:0.001:10 (9801 shapes)
_GAM = 0.2 + 0.001 * np.arange(9801, dtype=np.float64)
# GGD: E[x^2] / E[|x|]^2, decreasing in the shape
_R_GGD = gamma_fn(1.0 / _GAM) * gamma_fn(3.0 / _GAM) / gamma_fn(2.0 / _GAM) ** 2
# AGGD: E[|x|]^2 / E[x^2], increasing in the shape
_R_AGGD = gamma_fn(2.0 / _GAM) ** 2 / (gamma_fn(1.0 / _GAM) * gamma_fn(3.0 / _GAM))

# circshift offsets (rows, cols) of the LIVE code: [0 1; 1 0; 1 1; -1 1]
_SHIFTS = ((0, 1), (1, 0), (1, 1), (-1, 1))


def _nearest_index(table: NDArray[np.float64], value: float) -> int:
    """Index of the table entry nearest ``value`` (first on ties), for a monotone table.

    Equivalent to MATLAB's ``[~, i] = min(abs(value - table))`` but O(log n); a NaN value
    gives index 0, as MATLAB's ``min`` over an all-NaN vector does.
    """
    if not np.isfinite(value):
        return 0
    increasing = table[-1] > table[0]
    t = table if increasing else table[::-1]
    n = t.size
    pos = int(np.searchsorted(t, value))
    cands = [i for i in (pos - 1, pos) if 0 <= i < n]
    # map back to the original order; min over (distance, original index) picks the first tie
    best = min(cands, key=lambda i: (abs(value - t[i]), i if increasing else n - 1 - i))
    return best if increasing else n - 1 - best


def _ggd_fit(vec: NDArray[np.float64]) -> tuple[float, float]:
    """(shape, variance) of a zero-mean generalised Gaussian (``estimateggdparam.m``)."""
    sigma_sq = float(np.mean(vec * vec))
    e_abs = float(np.mean(np.abs(vec)))
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = sigma_sq / e_abs**2
    return float(_GAM[_nearest_index(_R_GGD, rho)]), sigma_sq


def _aggd_fit(vec: NDArray[np.float64]) -> tuple[float, float, float, float]:
    """(shape, mean, left variance, right variance) of an asymmetric GGD (``estimateaggdparam.m``)."""
    # one pass of elementwise ops instead of boolean-mask copies: neg = min(v, 0), pos = max(v, 0)
    neg = np.minimum(vec, 0.0)
    pos = vec - neg
    n_neg = int(np.count_nonzero(neg))
    n_pos = int(np.count_nonzero(pos))
    neg_sq = float(np.dot(neg, neg))
    pos_sq = float(np.dot(pos, pos))
    with np.errstate(divide="ignore", invalid="ignore"):
        left_var = neg_sq / n_neg if n_neg else float("nan")
        right_var = pos_sq / n_pos if n_pos else float("nan")
        left_std, right_std = np.sqrt(left_var), np.sqrt(right_var)
        gammahat = left_std / right_std
        mean_abs = (float(pos.sum()) - float(neg.sum())) / vec.size
        rhat = mean_abs**2 / ((neg_sq + pos_sq) / vec.size)
        rhatnorm = rhat * (gammahat**3 + 1) * (gammahat + 1) / (gammahat**2 + 1) ** 2
    alpha = float(_GAM[_nearest_index(_R_AGGD, float(rhatnorm))])
    const = np.sqrt(gamma_fn(1.0 / alpha)) / np.sqrt(gamma_fn(3.0 / alpha))
    mean = float((right_std - left_std) * (gamma_fn(2.0 / alpha) / gamma_fn(1.0 / alpha)) * const)
    return alpha, mean, left_var, right_var


def _scale_features(image: NDArray[np.float64]) -> list[float]:
    mu = brisque_local_mean(image)
    sigma = np.sqrt(np.abs(brisque_local_mean(image * image) - mu * mu))
    mscn = (image - mu) / (sigma + 1.0)
    feats = list(_ggd_fit(mscn.ravel()))
    for shift in _SHIFTS:
        pair = mscn * np.roll(mscn, shift, axis=(0, 1))
        feats.extend(_aggd_fit(pair.ravel()))
    return feats


def brisque_features(image: Any) -> NDArray[np.float64]:
    """The 36 BRISQUE features of an image (``brisque_feature.m`` of the LIVE release).

    Parameters
    ----------
    image : Scan or array_like, shape (rows, cols)
        ``uint8`` grey levels, or any other dtype min-max scaled per image to 8 bits (see
        :func:`stmdenoise.metrics.to_uint8`); only complete (NaN-free) rows are used.

    Returns
    -------
    ndarray of float64, shape (36,)
        Per scale: GGD shape and variance, then for each of the four neighbour products the
        AGGD shape, mean, left variance and right variance.
    """
    grey = to_uint8(image).astype(np.float64)
    return np.array(_scale_features(grey) + _scale_features(imresize(grey, 0.5)))


@dataclass(frozen=True)
class BrisqueModel:
    """An RBF epsilon-SVR on [-1, 1]-scaled BRISQUE features (libsvm conventions).

    ``score = sum_i dual_coef[i] exp(-gamma |x - sv_i|^2) - rho`` with
    ``x = lower + (upper - lower) (f - feature_min) / feature_range``.

    Attributes
    ----------
    support_vectors : ndarray, shape (n_sv, 36)
    dual_coef : ndarray, shape (n_sv,)
    gamma, rho : float
    feature_min, feature_range : ndarray, shape (36,)
    lower, upper : float
        Target range of the feature scaling.
    name : str
        Label shown next to scores made with this model.
    """

    support_vectors: NDArray[np.float64]
    dual_coef: NDArray[np.float64]
    gamma: float
    rho: float
    feature_min: NDArray[np.float64]
    feature_range: NDArray[np.float64]
    lower: float = -1.0
    upper: float = 1.0
    name: str = "LIVE"

    def __post_init__(self) -> None:
        sv = np.asarray(self.support_vectors, dtype=np.float64)
        if sv.ndim != 2 or sv.shape[1] != 36:
            raise ValueError(f"support_vectors must have shape (n, 36), got {sv.shape}")
        coef = np.asarray(self.dual_coef, dtype=np.float64).ravel()
        if coef.shape != (sv.shape[0],):
            raise ValueError(f"dual_coef must have {sv.shape[0]} entries, got {coef.shape}")
        for field_name in ("feature_min", "feature_range"):
            arr = np.asarray(getattr(self, field_name), dtype=np.float64).ravel()
            if arr.shape != (36,):
                raise ValueError(f"{field_name} must have 36 entries, got {arr.shape}")
            object.__setattr__(self, field_name, arr)
        if not float(self.gamma) > 0:
            raise ValueError(f"gamma must be positive, got {self.gamma!r}")
        object.__setattr__(self, "support_vectors", sv)
        object.__setattr__(self, "dual_coef", coef)
        object.__setattr__(self, "gamma", float(self.gamma))
        object.__setattr__(self, "rho", float(self.rho))
        # |sv|^2 once, for the expanded squared distance
        object.__setattr__(self, "_sv_sq", np.einsum("ij,ij->i", sv, sv))

    def scale(self, features: NDArray[np.float64]) -> NDArray[np.float64]:
        """Features scaled as libsvm's ``svm-scale -r range`` does (no clipping)."""
        f = np.asarray(features, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            unit = (f - self.feature_min) / self.feature_range
        return self.lower + (self.upper - self.lower) * unit

    def predict(self, features: NDArray[np.float64]) -> float:
        """SVR output for one feature vector of shape (36,)."""
        x = self.scale(features)
        d2 = self._sv_sq - 2.0 * (self.support_vectors @ x) + float(x @ x)  # type: ignore[attr-defined]
        return float(self.dual_coef @ np.exp(-self.gamma * np.maximum(d2, 0.0)) - self.rho)

    @classmethod
    def from_npz(cls, path: str | Path, *, name: str = "LIVE") -> BrisqueModel:
        """Load a model saved with the keys of ``data/brisque_live.npz``."""
        with np.load(path) as d:
            return cls(
                support_vectors=d["support_vectors"],
                dual_coef=d["dual_coef"],
                gamma=float(d["gamma"]),
                rho=float(d["rho"]),
                feature_min=d["feature_min"],
                feature_range=d["feature_range"],
                lower=float(d["scale_lower"]),
                upper=float(d["scale_upper"]),
                name=name,
            )


@functools.lru_cache(maxsize=1)
def live_model() -> BrisqueModel:
    """The LIVE-trained BRISQUE model shipped with the package (774 support vectors)."""
    ref = resources.files("stmdenoise.metrics").joinpath("data", "brisque_live.npz")
    with resources.as_file(ref) as path:
        return BrisqueModel.from_npz(path, name="LIVE")


def brisque(image: Any, *, model: BrisqueModel | None = None) -> float:
    """BRISQUE no-reference quality score with the LIVE-trained model (lower is better).

    Parameters
    ----------
    image : Scan or array_like, shape (rows, cols)
        ``uint8`` grey levels are scored as they are; any other dtype (an STM scan in metres)
        is min-max scaled per image to 8 bits first. Only the longest run of NaN-free rows is
        scored. For a colour photograph, convert to grey as MATLAB's ``rgb2gray`` does.
    model : BrisqueModel, optional
        SVR to score with; default the LIVE model (:func:`live_model`), which reproduces the
        LIVE release's ``brisquescore.m``. Its numbers differ from MATLAB's ``brisque()``,
        which uses MathWorks' own model.

    Returns
    -------
    float
        Roughly 0 (pristine photograph) to 100 (badly distorted); can leave that range.

    Raises
    ------
    NotScorableError
        (a ``ValueError``) for images with fewer than 64 complete rows or columns, or constant
        images.

    Examples
    --------
    >>> import numpy as np
    >>> from skimage import data
    >>> photo = data.camera()                      # 512x512 uint8
    >>> noisy = np.clip(photo + np.random.default_rng(0).normal(0.0, 20.0, photo.shape), 0, 255)
    >>> brisque(photo) < brisque(noisy.round().astype(np.uint8))
    True
    """
    return (model or live_model()).predict(brisque_features(image))
