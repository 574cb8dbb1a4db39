"""The spectral-gain denoiser: a tile-wise Wiener filter whose gains a small MLP predicts.

Why this kind of model. On real scans the PDA-Net generator redraws standing waves in its own
shape, erases other materials' structure and paints rings that are not in the scan
(docs/model-selection.md). A filter that multiplies each Fourier coefficient of a tile by a
gain in (0, 1) cannot add structure that is not in the scan, works on any pixel size (its
features are in cycles per pixel and relative to the scan's own noise floor, so nothing is
resampled) and needs no GPU. What is learnt is only *how much* of each coefficient to keep,
from features of the scan itself:

- per tile (:data:`TILE` px, 50 % overlap, sqrt-Hann analysis and synthesis windows): the
  smoothed power at the coefficient (1 and 3 bins) over the tile's high-frequency floor,
  its height above the median and the 20th percentile of its ring (|k|), the ring's spread;
- per scan (context): the same height on the whole scan's spectrum at that frequency, the
  scan's signal-to-floor ratio and the tile's floor relative to the scan's;
- optionally (:class:`GainFeatures`) the coherence of even and odd scan lines per fast-axis
  frequency, and the *anisotropy* of the power: the smoothed power above the 20th percentile of
  its own column of k (same fast-axis frequency) and of its own row, on the tile and on the
  whole scan. Raster noise (line offsets, feedback and electronics noise) spreads along one
  axis of k; the ring floors above cannot see that.
- optionally the coefficient's |k| in cycles per pixel, the one absolute feature.

Training (Noise2Noise in the Fourier domain) lives in :mod:`stmdenoise.training.spectral_gain`;
this module is the inference, in NumPy, and the weights file. :func:`line_coherence` is the
single-frame hint behind the quiet-scan refusal (a scan whose adjacent lines repeat their fine
detail has almost no noise a spectral filter could remove without removing signal).

>>> import numpy as np
>>> w = GainWeights.initial(np.random.default_rng(0))
>>> z = np.random.default_rng(1).normal(size=(80, 96))
>>> out = apply_gain(w, z)
>>> out.shape, bool(np.isfinite(out).all())
((80, 96), True)
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import gaussian_filter

from stmdenoise.model.fourier_tiles import (
    CHUNK,
    HALF,
    TILE,
    WINDOW,
    filter_tiles,
    tile_corners,
    tile_spectra,
    tiles,
)
from stmdenoise.processing import level_plane
from stmdenoise.processing.spectrum import NOISE_FLOOR_FROM, fft2, hann_1d, hann_window

__all__ = [
    "GAIN_FILE",
    "GAIN_KIND",
    "BASE_ONLY",
    "GainFeatures",
    "GainSpec",
    "GainWeights",
    "QUIET_BAND",
    "WHOLE_FROM",
    "WHOLE_NOISE",
    "apply_gain",
    "kept_whole",
    "line_coherence",
    "row_coherence",
    "tile_examples",
]

Array = NDArray[np.float64]

#: ``kind`` of a model folder's spectral path (``config.json`` key ``experimental``).
GAIN_KIND = "spectral-gain"
#: Default weights file of the spectral path inside a model folder.
GAIN_FILE = "spectral_gain.safetensors"
RINGS = 24
#: Features without the optional ones of :class:`GainFeatures`.
BASE_FEATURES = 10
#: Percentile of a column / row of k taken as its floor by the anisotropy features.
AXIS_FLOOR_PERCENTILE = 20
#: Fast-axis band (cycles per pixel) of the scan-level line coherence (quiet-scan refusal).
QUIET_BAND = (0.2, 0.35)
#: Rows of features per gain-network call (hidden activations of 32 x 8192 float32 fit in cache).
MLP_CHUNK = 8192
#: Where the network keeps a coefficient (its gain at least this), :func:`kept_whole` raises the
#: gain to a Wiener gain; where it suppresses one (raster noise), nothing changes
#: (docs/model-selection.md, candidates CF and DE).
WHOLE_FROM = 0.9
#: The noise :func:`kept_whole`'s Wiener gain allows at a coefficient, in units of the tile's
#: high-frequency floor (coloured noise may stand this far above it).
WHOLE_NOISE = 10.0
#: Index of f1 (the tile's 1-bin smoothed log10 power over its floor) among the features
#: :func:`_tile_features` makes: what :func:`kept_whole` reads.
F1_FEATURE = 0
#: Offset added to the last layer before the sigmoid: an untrained net keeps (gain ~0.88).
GAIN_BIAS = 2.0


@dataclass(frozen=True)
class GainFeatures:
    """Which optional features the gain network reads (all off: the 10 base features).

    Attributes
    ----------
    row_coherence : bool
        The even/odd-line coherence at the coefficient's fast-axis frequency (one feature).
    anisotropy : bool
        The power above its column's and its row's floor, on the tile and the scan (four).
    frequency : bool
        The coefficient's |k| in cycles per pixel (one): the only absolute feature.
    """

    row_coherence: bool = False
    anisotropy: bool = False
    frequency: bool = False

    @property
    def count(self) -> int:
        """Number of input features of the gain network."""
        return BASE_FEATURES + int(self.row_coherence) + 4 * int(self.anisotropy) + int(self.frequency)

    def to_dict(self) -> dict[str, bool]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> GainFeatures:
        """The flags of a mapping (missing: False); ValueError for anything but true/false."""
        flags = {}
        for name in (f.name for f in dataclasses.fields(cls)):
            v = d.get(name, False)
            if not isinstance(v, bool):
                raise ValueError(f"{name} must be true or false, got {v!r}")
            flags[name] = v
        return cls(**flags)


#: The 10 base features only (what the shipped gain reads).
BASE_ONLY = GainFeatures()


# --------------------------------------------------------------------------- features


def _ring_index(shape: tuple[int, int], rings: int) -> tuple[Array, NDArray[np.int_]]:
    ky = np.fft.fftfreq(shape[0])[:, None]
    kx = np.fft.fftfreq(shape[1])[None, :]
    r = np.hypot(ky, kx)
    return r, np.minimum((r / 0.5 * rings).astype(int), rings)


def _spectral_stats(x_f: NDArray[Any], rings: int = RINGS) -> tuple[Array, Array, Array, Array, Array]:
    """Smoothed log power (1 and 3 bins) over the high-frequency floor, ring median and 20th percentile.

    ``x_f`` is one spectrum (rows, cols) or a stack (n, rows, cols); every output has its shape
    except the floor: one value per spectrum (shape () or (n,))."""
    xs = x_f if x_f.ndim == 3 else x_f[None]
    p = np.abs(xs) ** 2
    r, ri = _ring_index(xs.shape[1:], rings)
    floor = np.median(p[:, r > NOISE_FLOOR_FROM], axis=1) + 1e-30
    f1 = np.log10(gaussian_filter(p, (0, 1.0, 1.0), mode="wrap") / floor[:, None, None] + 1e-12)
    f3 = np.log10(gaussian_filter(p, (0, 3.0, 3.0), mode="wrap") / floor[:, None, None] + 1e-12)
    med = np.zeros((len(xs), ri.max() + 1))
    lo = np.zeros((len(xs), ri.max() + 1))
    for i in range(ri.max() + 1):
        sel = ri == i
        if sel.any():
            lo[:, i], med[:, i] = np.percentile(f1[:, sel], (20, 50), axis=1)  # one partition for both
    out = (f1, f3, med[:, ri], lo[:, ri], floor)
    return out if x_f.ndim == 3 else (out[0][0], out[1][0], out[2][0], out[3][0], out[4][0])


@dataclass(frozen=True)
class _Context:
    height: Array  # whole-scan f1 - ring 20th percentile
    spread: Array  # whole-scan ring median - 20th percentile
    snr: float
    floor: float
    shape: tuple[int, int]
    window_power: float  # mean squared whole-scan window over mean squared tile window
    coherence: Array | None  # even/odd-row coherence per |kx| (rfft bins), when asked for
    axis_height: tuple[Array, Array] | None  # whole-scan f1 over its column / row floor, when asked for
    frequency: bool = False  # add |k| (cycles per pixel) as a feature


def _line_spectra(lev: Array) -> tuple[NDArray[Any], NDArray[Any]]:
    """Windowed fast-axis spectra (rfft per line) of the even and of the odd lines of ``lev``."""
    n = lev.shape[0] // 2 * 2
    a, b = lev[0:n:2], lev[1:n:2]
    w = hann_1d(a.shape[1])
    return np.fft.rfft(a * w, axis=1), np.fft.rfft(b * w, axis=1)


def row_coherence(lev: Array) -> Array:
    """Coherence of the even and the odd scan lines per fast-axis frequency (rfft bins, 5-bin smoothed).

    Adjacent lines look at nearly the same surface with independent noise, so on an oversampled,
    quiet scan they agree up to high frequencies and on a noisy one they do not."""
    fa, fb = _line_spectra(lev)
    box = np.ones(5) / 5
    c = np.convolve(np.real(fa * np.conj(fb)).sum(0), box, mode="same")
    p = np.convolve(((np.abs(fa) ** 2 + np.abs(fb) ** 2) / 2).sum(0), box, mode="same")
    return np.asarray(np.clip(c / np.maximum(p, 1e-30), -1.0, 1.0))


def line_coherence(z: NDArray[Any]) -> float:
    """Scan-level coherence of the even and the odd lines of ``z`` (measured rows, levelled) in QUIET_BAND.

    Near 0 when the fine detail along the lines is noise (independent from line to line), near 1
    when adjacent lines repeat it (an oversampled scan with almost no noise to remove). Scans
    with fewer than 4 measured lines or 8 columns give 0.0 (no evidence of quietness)."""
    z = np.asarray(z, dtype=np.float64)
    rows = z[np.isfinite(z).all(axis=1)]
    if rows.shape[0] < 4 or rows.shape[1] < 8:
        return 0.0
    fa, fb = _line_spectra(level_plane(rows))
    k = np.fft.rfftfreq(z.shape[1])
    m = (k >= QUIET_BAND[0]) & (k < QUIET_BAND[1])
    c = float(np.real(fa[:, m] * np.conj(fb[:, m])).sum())
    p = float(((np.abs(fa[:, m]) ** 2 + np.abs(fb[:, m]) ** 2) / 2).sum())
    return c / p if p > 0 else 1.0


def _axis_heights(f1: Array) -> tuple[Array, Array]:
    """``f1`` (..., ky, kx) above the floor of its column (every ky at that kx) and of its row."""
    col = np.percentile(f1, AXIS_FLOOR_PERCENTILE, axis=-2, keepdims=True)
    row = np.percentile(f1, AXIS_FLOOR_PERCENTILE, axis=-1, keepdims=True)
    return f1 - col, f1 - row


def _context(lev: Array, features: GainFeatures) -> _Context:
    window = hann_window(lev.shape)
    x_f = fft2(lev * window)
    f1, _f3, med, lo, floor = _spectral_stats(x_f)
    snr = math.log10(max(float((np.abs(x_f) ** 2).sum()) / (float(floor) * x_f.size), 1e-30))
    window_power = float(np.mean(window**2)) / float(np.mean(WINDOW**2))
    coh = row_coherence(lev) if features.row_coherence else None
    axis = _axis_heights(f1) if features.anisotropy else None
    return _Context(
        f1 - lo, med - lo, snr, float(floor), lev.shape, window_power, coh, axis, features.frequency
    )


def _tile_features(x_f: NDArray[Any], ctx: _Context, columns: int = TILE) -> NDArray[np.float32]:
    """Features (n, TILE, columns, n_features) of a stack of tile spectra (n, TILE, TILE): the
    first ``columns`` columns of k (inference needs only the half-plane irfft2 reads)."""
    stats = _spectral_stats(x_f)
    axis = _axis_heights(stats[0]) if ctx.axis_height is not None else None
    f1, f3, med, lo, floor = (a[..., :columns] if a.ndim == 3 else a for a in stats)
    rows, cols = ctx.shape
    iy = np.round(np.fft.fftfreq(TILE)[:, None] * rows).astype(int) % rows
    ix = np.round(np.fft.fftfreq(TILE)[None, :columns] * cols).astype(int) % cols
    level = np.log10(floor / ctx.floor * (rows * cols) / TILE**2 * ctx.window_power)
    feats = [f1, f3, f1 - med, f1 - lo, f3 - lo, med - lo]  # f1 first: F1_FEATURE
    feats += [np.broadcast_to(ctx.height[iy, ix], f1.shape), np.broadcast_to(ctx.spread[iy, ix], f1.shape)]
    feats += [np.full(f1.shape, ctx.snr / 4), np.broadcast_to(level[:, None, None], f1.shape)]
    if ctx.coherence is not None:
        kx = np.round(np.abs(np.fft.fftfreq(TILE)[:columns]) * cols).astype(int)
        coh = ctx.coherence[np.minimum(kx, ctx.coherence.size - 1)]
        feats.append(np.broadcast_to(coh[None, None, :], f1.shape))
    if axis is not None and ctx.axis_height is not None:
        feats += [a[..., :columns] for a in axis]
        feats += [np.broadcast_to(a[iy, ix], f1.shape) for a in ctx.axis_height]
    if ctx.frequency:  # |k| x 4: about the spread of the log-power features
        radius = np.hypot(np.fft.fftfreq(TILE)[:, None], np.fft.fftfreq(TILE)[None, :columns])
        feats.append(np.broadcast_to(4.0 * radius, f1.shape))
    out = np.empty((*f1.shape, len(feats)), dtype=np.float32)  # filled in place: no float64 stack
    for i, f in enumerate(feats):
        out[..., i] = f
    return out


# --------------------------------------------------------------------------- weights


@dataclass(frozen=True)
class GainWeights:
    """The gain network: features -> Linear -> SiLU -> Linear -> SiLU -> Linear -> sigmoid(. + 2).

    ``layers`` are ``(weight (in, out), bias (out,))`` pairs in float32."""

    layers: tuple[tuple[NDArray[np.float32], NDArray[np.float32]], ...]
    features: GainFeatures = BASE_ONLY

    def __post_init__(self) -> None:
        width = self.features.count
        for k, (w, b) in enumerate(self.layers):
            if w.ndim != 2 or b.shape != (w.shape[1],) or w.shape[0] != width:
                raise ValueError(
                    f"layer {k}: weight {w.shape} and bias {b.shape} do not follow a {width}-wide input"
                )
            if not (np.isfinite(w).all() and np.isfinite(b).all()):
                raise ValueError(f"layer {k} has non-finite weights")
            width = w.shape[1]
        if not self.layers or width != 1:
            raise ValueError(f"the last layer must have one output, got {width}")

    @classmethod
    def initial(
        cls, rng: np.random.Generator, hidden: int = 32, features: GainFeatures = BASE_ONLY
    ) -> GainWeights:
        """Small random weights (the gains start near sigmoid(2) = 0.88)."""
        sizes = [features.count, hidden, hidden, 1]
        layers = tuple(
            (
                (rng.normal(size=(a, b)) / math.sqrt(a)).astype(np.float32),
                np.zeros(b, dtype=np.float32),
            )
            for a, b in zip(sizes, sizes[1:], strict=False)
        )
        return cls(layers, features)

    def gain(self, features: NDArray[np.float32]) -> NDArray[np.float32]:
        """Gains in (0, 1) of features (..., n_features).

        Evaluated with torch's CPU kernels in chunks of :data:`MLP_CHUNK` rows, so the hidden
        activations stay in the processor's cache: 5x faster than one pass over a 512^2 scan's
        600 000 coefficients (``bench/bench_model.py``); no autograd, nothing moves to a GPU."""
        import torch

        flat = np.ascontiguousarray(features, dtype=np.float32).reshape(-1, features.shape[-1])
        out = np.empty(flat.shape[0], dtype=np.float32)
        with torch.inference_mode():
            layers = [(torch.from_numpy(w), torch.from_numpy(b)) for w, b in self.layers]
            for start in range(0, flat.shape[0], MLP_CHUNK):
                h = torch.from_numpy(flat[start : start + MLP_CHUNK])
                for k, (w, b) in enumerate(layers):
                    h = torch.addmm(b, h, w)
                    if k < len(layers) - 1:
                        h = torch.nn.functional.silu(h, inplace=True)
                out[start : start + MLP_CHUNK] = torch.sigmoid(h[:, 0] + GAIN_BIAS).numpy()
        return out.reshape(features.shape[:-1])

    def to_tensors(self) -> dict[str, NDArray[np.float32]]:
        out = {}
        for k, (w, b) in enumerate(self.layers):
            out[f"layer{k}.weight"] = np.ascontiguousarray(w)
            out[f"layer{k}.bias"] = np.ascontiguousarray(b)
        return out

    @classmethod
    def from_tensors(cls, tensors: Mapping[str, NDArray[Any]], features: GainFeatures) -> GainWeights:
        layers = []
        k = 0
        while f"layer{k}.weight" in tensors:
            w = np.asarray(tensors[f"layer{k}.weight"], dtype=np.float32)
            b = np.asarray(tensors.get(f"layer{k}.bias", np.zeros(0)), dtype=np.float32)
            layers.append((w, b))
            k += 1
        return cls(tuple(layers), features)

    def to_bytes(self) -> bytes:
        """The weights as a safetensors file's bytes."""
        from safetensors.numpy import save

        return bytes(save(self.to_tensors(), metadata={"kind": GAIN_KIND}))

    def save(self, path: Path) -> None:
        """Write the weights with safetensors to ``path`` (the caller makes it atomic; the file gets
        the usual permissions, not safetensors' 0600)."""
        Path(path).write_bytes(self.to_bytes())

    @classmethod
    def load(cls, path: Path, features: GainFeatures) -> GainWeights:
        """Read weights written by :meth:`save`; ValueError (with the reason) for a damaged file."""
        from safetensors import SafetensorError
        from safetensors.numpy import load_file

        try:
            tensors = load_file(str(path))
        except (SafetensorError, OSError) as exc:
            raise ValueError(f"{path.name} cannot be read: {exc}") from exc
        return cls.from_tensors(tensors, features)


@dataclass(frozen=True)
class GainSpec:
    """The ``experimental_path`` entry of a model folder's ``config.json``.

    Attributes
    ----------
    file : str
        Weights file (a plain name inside the folder).
    features : GainFeatures
        The optional features the network reads (``config.json`` keys: its field names).
    refuse_line_coherence : float or None
        Quiet-scan refusal: scans whose :func:`line_coherence` reaches it are not denoised by the
        gains (the do-no-harm verdict says why; with ``two_direction`` a quiet scan whose other
        direction can serve gets that filter instead); None: never refused for this.
    two_direction : bool
        When the scan's other direction is given, denoise with the noise spectrum measured from
        the two (:mod:`stmdenoise.model.two_direction`) instead of the gains; the gains still
        serve single frames, pairs too small for it and feedback-error currents whose other
        direction, negated, does not agree with them.
    training : mapping
        How the gains were trained (data, steps, seed, command).
    """

    file: str = GAIN_FILE
    features: GainFeatures = BASE_ONLY
    refuse_line_coherence: float | None = None
    training: Mapping[str, Any] = field(default_factory=dict)
    two_direction: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": GAIN_KIND,
            "file": self.file,
            **self.features.to_dict(),
            "refuse_line_coherence": self.refuse_line_coherence,
            "two_direction": self.two_direction,
            "training": dict(self.training),
        }

    @classmethod
    def from_dict(cls, d: Any) -> GainSpec:
        """Parse and check; ValueError with the reason for anything else."""
        if not isinstance(d, Mapping):
            raise ValueError(f"experimental_path must be an object, got {type(d).__name__}")
        if d.get("kind") != GAIN_KIND:
            raise ValueError(f"experimental_path kind {d.get('kind')!r} is not one this program runs")
        name = d.get("file", GAIN_FILE)
        plain = isinstance(name, str) and name not in ("", ".", "..")
        flavours = (PurePosixPath, PureWindowsPath)
        if not plain or any(len(f(name).parts) != 1 or f(name).anchor for f in flavours):
            raise ValueError(f"experimental_path file must be a plain file name, got {name!r}")
        q = d.get("refuse_line_coherence")
        if q is not None and (isinstance(q, bool) or not isinstance(q, (int, float)) or not 0 <= q <= 1):
            raise ValueError(f"refuse_line_coherence must be null or a number in [0, 1], got {q!r}")
        features = GainFeatures.from_dict(d)
        training = d.get("training", {})
        if not isinstance(training, Mapping):
            raise ValueError("experimental_path training must be an object")
        two = d.get("two_direction", False)
        if not isinstance(two, bool):
            raise ValueError(f"two_direction must be true or false, got {two!r}")
        return cls(name, features, None if q is None else float(q), dict(training), two)


# --------------------------------------------------------------------------- inference


#: Shortest run of complete rows the gain denoises (shorter runs, between unmeasured lines, stay raw).
MIN_RUN_ROWS = 8


def _row_runs(ok: NDArray[np.bool_]) -> list[tuple[int, int]]:
    """``(start, stop)`` of every run of consecutive True values."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], ok.astype(np.int8), [0]))))
    return list(zip(edges[0::2].tolist(), edges[1::2].tolist(), strict=True))


def apply_gain(
    weights: GainWeights,
    z: NDArray[Any],
    *,
    cancel: threading.Event | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Array:
    """Denoise ``z`` (rows, cols) on its own grid; rows with an unmeasured pixel stay as they are.

    Each run of consecutive complete rows (at least :data:`MIN_RUN_ROWS`) is denoised on its own,
    so rows on either side of an unmeasured line are never treated as neighbours: its plane is
    removed, every tile's coefficients are multiplied by the network's gains (the mean, k = 0,
    kept), the tiles are blended back and the plane added. ``cancel`` is checked and
    ``progress(done, total)`` called between chunks of tiles.
    """
    z = np.asarray(z, dtype=np.float64)
    if z.ndim != 2:
        raise ValueError(f"expected a 2-D image, got shape {z.shape}")
    out = z.copy()
    if z.shape[1] < 2:
        return out
    runs = [(a, b) for a, b in _row_runs(np.isfinite(z).all(axis=1)) if b - a >= MIN_RUN_ROWS]
    chunks = [-(-len(tile_corners(b - a, z.shape[1])) // CHUNK) for a, b in runs]
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, sum(chunks))

    for a, b in runs:
        out[a:b] = _denoise_block(weights, z[a:b], cancel, tick)
    return out


def kept_whole(gain: NDArray[Any], f1: NDArray[Any]) -> Array:
    """``gain`` raised, where it is at least :data:`WHOLE_FROM`, to the Wiener gain
    ``1 - WHOLE_NOISE * 10^(-f1)`` (``f1``: the tile's 1-bin smoothed log10 power over its
    high-frequency floor, the network's first feature). The network's last layer is a sigmoid,
    which never reaches 1: it kept 95.6-99.7 % of the broad components standing 10^5 above the
    noise on the shared frames, so a tall feature's apparent height read up to 4 % low, where a
    filter that removes only noise keeps it whole (docs/model-selection.md, candidates CF and DE;
    0.997-1.000 with it, ``python bench/heights.py``). Only raises a gain.

    >>> float(kept_whole(np.array(0.985), np.array(6.0))), float(kept_whole(np.array(0.5), np.array(6.0)))
    (0.99999, 0.5)
    >>> float(kept_whole(np.array(0.95), np.array(1.5)))  # near the floor the network's own gain
    0.95
    """
    g = np.asarray(gain, dtype=np.float64)
    wiener = 1.0 - WHOLE_NOISE * 10.0 ** (-np.asarray(f1, dtype=np.float64))
    return np.asarray(np.where(g >= WHOLE_FROM, np.maximum(g, wiener), g))


def _denoise_block(
    weights: GainWeights, y: Array, cancel: threading.Event | None, tick: Callable[[], None]
) -> Array:
    """The gain on one block of complete rows (:func:`kept_whole` on the network's)."""
    lev = level_plane(y)
    ctx = _context(lev, weights.features)

    def gains(x_f: NDArray[np.complex128]) -> Array:
        # every feature is even in k (a real tile's power spectrum is; up to rounding of the
        # whole-scan lookup on odd sizes), so is the gain: evaluate it on the half-plane only
        features = _tile_features(x_f, ctx, HALF)
        return kept_whole(weights.gain(features), features[..., F1_FEATURE])

    return np.asarray((y - lev) + filter_tiles(lev, gains, cancel, tick))


def tile_examples(x: Array, target: Array, features: GainFeatures) -> dict[str, NDArray[Any]]:
    """Training arrays of one image: per coefficient (k != 0) its features ``F``, the tile
    coefficient of ``x`` and of ``target`` as (re, im) ``X`` / ``T``, and its |k| ``R``.

    ``target`` is on ``x``'s grid: the clean image of a simulated pair or a second, registered
    noisy look at the same area; it is levelled with ``x``'s plane."""
    lev = level_plane(x)
    t = target - (x - lev)
    t = t - t.mean()
    ctx = _context(lev, features)
    vx, pos = tiles(lev)
    vt, _ = tiles(t)
    keep = np.ones((TILE, TILE), dtype=bool)
    keep[0, 0] = False
    radius = np.hypot(np.fft.fftfreq(TILE)[:, None], np.fft.fftfreq(TILE)[None, :])[keep]
    fs, xs, ts = [], [], []
    for c in range(0, len(pos), CHUNK):
        part = pos[c : c + CHUNK]
        x_f, t_f = tile_spectra(vx, part), tile_spectra(vt, part)
        fs.append(_tile_features(x_f, ctx)[:, keep].reshape(-1, features.count))
        xs.append(np.stack([x_f.real[:, keep].ravel(), x_f.imag[:, keep].ravel()], -1))
        ts.append(np.stack([t_f.real[:, keep].ravel(), t_f.imag[:, keep].ravel()], -1))
    return {
        "F": np.concatenate(fs),
        "X": np.concatenate(xs).astype(np.float32),
        "T": np.concatenate(ts).astype(np.float32),
        "R": np.tile(radius, len(pos)).astype(np.float32),
    }
