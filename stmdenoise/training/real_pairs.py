"""Real scans as self-supervised training data: aligned forward/backward pairs, frame stacks, single frames.

No clean image exists for a real scan, but a second noisy look at the same area does: the
backward frame of a two-direction scan, or another frame of a stack. Their noise is
independent, so a network trained to map one look onto the other learns the surface
(Noise2Noise). Here the looks are put on one grid:

* both frames are cut to their common measured block (NaN rows and constant filler rows of
  aborted scans dropped) and brought to the working pixel size;
* the shift between them (trace/retrace offset, drift) is measured by
  :func:`stmdenoise.metrics.registration.register_frames`; its integer part is removed by
  cropping the overlap, its sub-pixel part by a Fourier shift of the **input** frame only
  (mirror-padded, so no wrap-around ringing), so the target frame is never interpolated;
* the input goes through the network-input transform the Denoiser uses (:func:`to_network`)
  and the target is expressed in the same normalised data units (the input's percentiles).

The Ko group's Cu(111) frames (``cu111_ko_group``) are the project's only real test scene:
:func:`refuse_test_scene` rejects them, by folder name and by SHA-256, wherever a per-pixel
loss could see them.

Everything here is NumPy (the torch losses live in :mod:`stmdenoise.training.self_supervised`).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from stmdenoise.processing import (
    Normalization,
    NormalizationSpec,
    resample_to_pixel_size,
    same_pixel_size,
    whole_pixels,
)
from stmdenoise.processing import to_network as processing_to_network
from stmdenoise.scan import Scan
from stmdenoise.training.data import expand_paths

__all__ = [
    "AlignedPair",
    "Frames",
    "RealPairs",
    "SingleFrames",
    "TEST_SCENE_SHA256",
    "TestSceneError",
    "align_pair",
    "check_self_supervised",
    "expand_paths",
    "file_sha256",
    "load_real_pairs",
    "load_stack",
    "pairs_of",
    "primary_channel",
    "read_frames",
    "refuse_test_scene",
    "to_network",
    "working_frame",
]

log = logging.getLogger(__name__)

F32 = NDArray[np.float32]
F64 = NDArray[np.float64]

#: Folder name of the Ko group's Cu(111) frames (the real test scene) in the team's shared data.
TEST_SCENE_DIR = "cu111_ko_group"
#: SHA-256 of the published frames 01-03 of that scene (a renamed copy is refused too).
TEST_SCENE_SHA256 = frozenset(
    {
        "d1af1bb63cb539346cabd751b1fbe1f4f1655bc99b9e5f3fbf04cbff893e9466",
        "a3b2493daf174e8df523b87971c70cac117b55bdbad3679742757378ad62484e",
        "bf85391360b3cc9e58b42992f7c983051199cd161715b87b15be71ee2e9daacd",
    }
)
#: Pixels dropped at each side of an aligned pair (the sub-pixel shift's padding edge).
PAIR_MARGIN = 2


class TestSceneError(ValueError):
    """A file of the project's real test scene was given to a per-pixel training loss."""

    __test__ = False  # not a pytest class


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes (read in 1 MiB blocks)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def refuse_test_scene(path: str | Path) -> None:
    """Raise :class:`TestSceneError` when ``path`` is one of the Ko group's Cu(111) test frames.

    Recognised by a ``cu111_ko_group`` folder anywhere in the resolved path, or by the SHA-256
    of the published frames (so a renamed copy is refused as well).
    """
    p = Path(path)
    why = ""
    if TEST_SCENE_DIR in p.resolve().parts:
        why = f"it lies under a {TEST_SCENE_DIR!r} folder"
    elif p.is_file() and file_sha256(p) in TEST_SCENE_SHA256:
        why = "its SHA-256 is that of a Ko group Cu(111) frame"
    if why:
        raise TestSceneError(
            f"{p}: refused ({why}). The Ko group's Cu(111) frames are the project's only real test "
            "scene; no per-pixel training loss (Noise2Noise, blind-spot, L1) may see them, or a model "
            "could memorise the scene it is judged on"
        )


def to_network(data: NDArray[Any], spec: NormalizationSpec) -> tuple[F32, Normalization]:
    """The network input of one image on its working grid, and its robust normalisation.

    :func:`stmdenoise.processing.to_network` (the Denoiser's and training's one transform:
    level, normalise, fill NaN, squash); the normalisation puts a target in the same units.
    """
    x, inverse = processing_to_network(np.asarray(data, dtype=np.float64), spec)
    return np.asarray(x, dtype=np.float32), inverse.norm


def primary_channel(frames: Sequence[Scan]) -> str | None:
    """The channel a scan is judged by: the first (Z, in file order) whose forward frame varies.

    A constant-height scan records a constant Z; its Current channel carries the image.
    """
    for s in frames:
        if s.direction == "forward":
            d = np.asarray(s.data)
            fin = d[np.isfinite(d)]
            if fin.size and float(np.ptp(fin)) > 0:
                return s.channel
    return None


def _common_block(a: F64, b: F64 | None) -> tuple[slice, slice]:
    """Rows and columns measured (finite, not constant filler) in ``a`` and ``b``."""
    good = np.isfinite(a)
    if b is not None:
        good &= np.isfinite(b)
    rows_ok = good.all(axis=1)
    # aborted scans zero-filled by the instrument: a row of one constant value
    for d in (a, b) if b is not None else (a,):
        filled = np.where(np.isfinite(d), d, 0.0)  # NaN rows are already out of rows_ok
        rows_ok &= ~(filled.max(axis=1) == filled.min(axis=1))
    cols_ok = good[rows_ok].all(axis=0) if rows_ok.any() else np.zeros(a.shape[1], bool)
    r = np.flatnonzero(rows_ok)
    c = np.flatnonzero(cols_ok)
    if r.size == 0 or c.size == 0:
        return slice(0, 0), slice(0, 0)
    # the longest run of good rows (a half frame keeps its measured half)
    runs = np.split(r, np.flatnonzero(np.diff(r) != 1) + 1)
    best = max(runs, key=len)
    return slice(int(best[0]), int(best[-1]) + 1), slice(int(c[0]), int(c[-1]) + 1)


def working_frame(
    scan: Scan, pixel_size: float | None, partner: Scan | None = None
) -> tuple[F64, F64 | None]:
    """``scan`` (and ``partner``) cut to their common measured block and resampled to ``pixel_size``.

    ``pixel_size`` None keeps the scan's own grid (it must still carry a pixel size).
    """
    a = np.asarray(scan.data, dtype=np.float64)
    b = np.asarray(partner.data, dtype=np.float64) if partner is not None else None
    if b is not None and b.shape != a.shape:
        raise ValueError(f"{scan.describe()}: its partner frame has shape {b.shape}, not {a.shape}")
    if scan.pixel_size is None:
        raise ValueError(
            f"{scan.describe()}: a scan without a pixel size cannot be put on a "
            f"{'calibrated' if pixel_size is None else f'{pixel_size:.3g} m'} grid"
        )
    own = scan.pixel_size
    rs, cs = _common_block(a, b)
    out: list[F64 | None] = []
    for d in (a, b):
        if d is None:
            out.append(None)
            continue
        block = d[rs, cs]
        if block.size and pixel_size is not None and not same_pixel_size(own, pixel_size):
            block = np.asarray(resample_to_pixel_size(_scan_of(block, scan), pixel_size).data)
        out.append(block)
    assert out[0] is not None  # the scan's own frame is never None
    return out[0], out[1]


def _scan_of(block: F64, like: Scan) -> Scan:
    return Scan(block, pixel_size=like.pixel_size, channel=like.channel, unit=like.unit)


def _subpixel_shift(a: F64, shift: tuple[float, float], pad: int = 16) -> F64:
    """``a`` moved by ``shift`` pixels (content down/right) with a Fourier shift, mirror-padded."""
    if shift == (0.0, 0.0):
        return a
    p = min(pad, a.shape[0] - 1, a.shape[1] - 1)
    padded = np.pad(a, p, mode="symmetric")
    moved = np.fft.ifft2(ndimage.fourier_shift(np.fft.fft2(padded), shift)).real
    return np.asarray(moved[p : p + a.shape[0], p : p + a.shape[1]], dtype=np.float64)


@dataclass(frozen=True)
class AlignedPair:
    """Two looks at one area on one grid: the network's input and the Noise2Noise target.

    Attributes
    ----------
    input : ndarray of float32, shape (rows, cols)
        Network-range image (:func:`to_network`).
    target : ndarray of float32, shape (rows, cols)
        The other look in the input's normalised data units (``atanh(input) / squash`` scale).
    name : str
    shift : (float, float)
        The measured shift (pixels) that moves the target's look onto the input's.
    """

    input: F32
    target: F32
    name: str
    shift: tuple[float, float]


def align_pair(
    a: NDArray[Any], b: NDArray[Any], spec: NormalizationSpec, *, name: str = "", margin: int = PAIR_MARGIN
) -> AlignedPair:
    """Align look ``b`` (the target) to look ``a`` (the input) without interpolating ``b``.

    Parameters
    ----------
    a, b : ndarray, shape (rows, cols)
        Two finite looks at one area on the same grid (e.g. forward and backward frame).
    spec : NormalizationSpec
        The model's network-input normalisation.
    name : str
        Label for logs and errors.
    margin : int
        Pixels dropped at each side of the overlap.

    Returns
    -------
    AlignedPair

    Raises
    ------
    ValueError
        Shapes differ, or the overlap is smaller than 32 x 32 pixels.
    stmdenoise.metrics._input.NotScorableError
        The looks cannot be registered (too small, no contrast); a ValueError.
    """
    from stmdenoise.metrics.registration import MIN_REGISTRATION_SIZE, register_frames

    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"{name}: the two looks have shapes {a.shape} and {b.shape}")
    dy, dx = register_frames(a, b)  # b moved by (dy, dx) lines up with a: b[r] ~ a[r + d]
    iy, ix = whole_pixels((dy, dx))
    fy, fx = dy - iy, dx - ix
    # a_sub[r] = a[r + f]: the input's content moved by -f, so b[r] ~ a_sub[r + i]
    a_sub = _subpixel_shift(a - a.mean(), (-fy, -fx)) + a.mean()
    h, w = a.shape
    r0, r1 = max(0, -iy), min(h, h - iy)
    c0, c1 = max(0, -ix), min(w, w - ix)
    r0, r1, c0, c1 = r0 + margin, r1 - margin, c0 + margin, c1 - margin
    if r1 - r0 < MIN_REGISTRATION_SIZE or c1 - c0 < MIN_REGISTRATION_SIZE:
        raise ValueError(f"{name}: the aligned overlap is {r1 - r0} x {c1 - c0} px (need 32 x 32)")
    inp = a_sub[r0 + iy : r1 + iy, c0 + ix : c1 + ix]
    tgt = b[r0:r1, c0:c1]
    x, norm = to_network(inp, spec)
    # the target in the input's normalised data units, levelled by its own plane (as _PairNorm)
    t, _ = processing_to_network(np.asarray(tgt, dtype=np.float64), spec, norm=norm, compress=False)
    return AlignedPair(x, np.asarray(t, dtype=np.float32), name, (float(dy), float(dx)))


@dataclass(frozen=True)
class Frames:
    """One file's usable frames of its primary channel, at the working pixel size (data units)."""

    name: str
    forward: F64
    backward: F64 | None


def read_frames(path: Path, pixel_size: float | None, *, channel: str | None = None) -> Frames | None:
    """The forward (and backward) frame of ``path``'s primary channel; None when it has none.

    ``pixel_size`` None keeps each scan's own grid.
    """
    from stmdenoise.io import read_all
    from stmdenoise.safety import partner_of

    refuse_test_scene(path)
    frames = read_all(path)
    ch = channel or primary_channel(frames)
    fwd = next((s for s in frames if s.channel == ch and s.direction == "forward"), None)
    if fwd is None:
        return None
    bwd = partner_of(fwd, frames)
    a, b = working_frame(fwd, pixel_size, bwd)
    return Frames(f"{path.name} {ch}", a, b)


def pairs_of(frames: Frames, spec: NormalizationSpec) -> list[AlignedPair]:
    """Forward -> backward and backward -> forward pairs of one scan (empty without a backward frame)."""
    if frames.backward is None:
        return []
    return [
        align_pair(frames.forward, frames.backward, spec, name=f"{frames.name} fwd->bwd"),
        align_pair(frames.backward, frames.forward, spec, name=f"{frames.name} bwd->fwd"),
    ]


def load_real_pairs(
    paths: Sequence[str | Path],
    *,
    pixel_size: float | None,
    spec: NormalizationSpec,
    channel: str | None = None,
) -> tuple[list[AlignedPair], list[tuple[str, F32]], list[tuple[Path, str]]]:
    """Pairs (both directions) and single frames (for the blind-spot term) of scan files and folders.

    Returns ``(pairs, singles, skipped)``: every readable scan gives its forward frame as a single
    frame; two-direction scans also give two aligned pairs; ``skipped`` names each file left out
    and why. Ko group test frames raise :class:`TestSceneError`.
    """
    pairs: list[AlignedPair] = []
    singles: list[tuple[str, F32]] = []
    skipped: list[tuple[Path, str]] = []
    for f in expand_paths(paths):
        try:
            fr = read_frames(f, pixel_size, channel=channel)
        except TestSceneError:
            raise
        except (OSError, ValueError) as exc:
            skipped.append((f, str(exc)))
            continue
        if fr is None or min(fr.forward.shape) < 32:
            skipped.append((f, "no forward frame of at least 32 x 32 measured pixels"))
            continue
        singles.append((fr.name, to_network(fr.forward, spec)[0]))
        try:
            pairs += pairs_of(fr, spec)
        except ValueError as exc:
            log.info("%s: no aligned pair (%s); single frame only", f, exc)
    return pairs, singles, skipped


def load_stack(
    paths: Sequence[str | Path], *, pixel_size: float, spec: NormalizationSpec, channel: str | None = None
) -> list[AlignedPair]:
    """Consecutive-frame pairs (both ways) of a stack: the forward frames of ``paths`` (one area)."""
    frames: list[tuple[str, F64]] = []
    for f in expand_paths(paths):
        fr = read_frames(f, pixel_size, channel=channel)
        if fr is not None:
            frames.append((fr.name, fr.forward))
    if len(frames) < 2:
        raise ValueError(
            f"a frame stack needs at least 2 readable frames, got {len(frames)} in {list(paths)}"
        )
    rows = min(a.shape[0] for _, a in frames)
    cols = min(a.shape[1] for _, a in frames)
    out = []
    for (na, a), (nb, b) in zip(frames, frames[1:], strict=False):
        a, b = a[:rows, :cols], b[:rows, :cols]
        out.append(align_pair(a, b, spec, name=f"{na}->{nb}"))
        out.append(align_pair(b, a, spec, name=f"{nb}->{na}"))
    return out


def _paired_crop(a: F32, b: F32, crop: int, rng: np.random.Generator) -> tuple[F32, F32]:
    from stmdenoise.training.data import paired_crop_and_augment

    return paired_crop_and_augment(a, b, crop, rng)


class RealPairs:
    """Aligned pairs; a crop is drawn from a pair with probability proportional to its area."""

    def __init__(self, pairs: Sequence[AlignedPair]) -> None:
        if not pairs:
            raise ValueError("no aligned pair of real looks")
        self.pairs = list(pairs)
        areas = np.array([p.input.size for p in self.pairs], dtype=np.float64)
        self.weights = areas / areas.sum()

    def batch(self, n: int, crop: int, rng: np.random.Generator) -> tuple[F32, F32]:
        """``(inputs, targets)``, each of shape (n, crop, crop), same crop and symmetry per pair."""
        xs, ts = [], []
        for _ in range(n):
            p = self.pairs[int(rng.choice(len(self.pairs), p=self.weights))]
            x, t = _paired_crop(p.input, p.target, crop, rng)
            xs.append(x)
            ts.append(t)
        return np.stack(xs), np.stack(ts)

    def description(self) -> list[dict[str, Any]]:
        return [
            {"name": p.name, "pixels": list(p.input.shape), "shift_px": list(p.shift)} for p in self.pairs
        ]


class SingleFrames:
    """Network-range single frames for the blind-spot term (area-weighted random crops)."""

    def __init__(self, images: Sequence[tuple[str, F32]]) -> None:
        if not images:
            raise ValueError("no single real frame")
        self.names = [n for n, _ in images]
        self.images = [im for _, im in images]
        areas = np.array([im.size for im in self.images], dtype=np.float64)
        self.weights = areas / areas.sum()

    def batch(self, n: int, crop: int, rng: np.random.Generator) -> F32:
        from stmdenoise.training.data import crop_and_augment

        return np.stack(
            [
                crop_and_augment(self.images[int(rng.choice(len(self.images), p=self.weights))], crop, rng)
                for _ in range(n)
            ]
        )

    def description(self) -> list[dict[str, Any]]:
        return [{"name": n, "pixels": list(im.shape)} for n, im in zip(self.names, self.images, strict=True)]


def check_self_supervised(cfg: Any) -> None:
    """The self-supervised settings of a TrainConfig fit together (raises ValueError naming them).

    Ranges and choices are checked by their declarations (:mod:`stmdenoise.training.options`);
    here: each weight has its data, and no Ko group test frame is trained on.
    """
    if cfg.losses.lambda_n2n > 0 and not cfg.run.real_pairs:
        raise ValueError("lambda_n2n needs two-direction real scans: pass real_pairs (--real-pairs)")
    if cfg.losses.lambda_stack > 0 and len(cfg.run.real_stack) < 1:
        raise ValueError("lambda_stack needs a frame stack: pass real_stack (--real-stack)")
    if cfg.losses.lambda_blindspot > 0 and not (cfg.run.real_pairs or cfg.run.real):
        raise ValueError("lambda_blindspot needs real scans: pass real_pairs (--real-pairs) or real")
    for p in (*cfg.run.real_pairs, *cfg.run.real_stack):
        if Path(p).exists():
            for f in expand_paths([p]):
                refuse_test_scene(f)
    if cfg.losses.lambda_blindspot > 0:
        for p in cfg.run.real:
            if Path(p).exists():
                for f in expand_paths([p]):
                    refuse_test_scene(f)
