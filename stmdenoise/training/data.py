"""Training data: simulated pairs (on the fly or from HDF5) and experimental scans, as crops.

Every image goes through :func:`stmdenoise.processing.to_network`, the transform the Denoiser
applies at inference: plane levelling, resampling onto the simulation's pixel size (experimental
scans; the standing waves of Cu(111) have a physical wavelength the networks learn at one
scale), robust normalisation (0.5/99.5 percentiles to [-1, 1]) and the soft compression
``tanh(0.8 y)`` (adsorbates and impurity cores far beyond the percentiles are never clipped).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from stmdenoise.outputs import folder_files
from stmdenoise.plan import MAX_WORK_PIXELS
from stmdenoise.processing import NormalizationSpec, crop_nan, resampled_shape, to_network
from stmdenoise.scan import Scan
from stmdenoise.training.options import SIM_WORLDS

__all__ = [
    "SimulatedPairLike",
    "PairSampler",
    "SimSource",
    "OnTheFlySim",
    "world_sampler",
    "H5Sim",
    "prepare_image",
    "random_crop",
    "crop_around",
    "extreme_pixel",
    "augment",
    "load_real_scans",
    "prepare_real",
    "RealImages",
]

log = logging.getLogger(__name__)

F32 = NDArray[np.float32]


class SimulatedPairLike(Protocol):
    """What :func:`stmdenoise.physics.sample_pair` returns."""

    @property
    def clean(self) -> NDArray[np.float64]: ...

    @property
    def noisy(self) -> NDArray[np.float64]: ...

    @property
    def pixel_size(self) -> float: ...


PairSampler = Callable[..., SimulatedPairLike]


def random_crop(image: NDArray[Any], crop: int, rng: np.random.Generator) -> tuple[int, int]:
    """Top-left corner of a random ``crop`` x ``crop`` window in ``image`` (smaller images are padded)."""
    h, w = image.shape
    return int(rng.integers(0, max(h - crop, 0) + 1)), int(rng.integers(0, max(w - crop, 0) + 1))


def crop_around(
    image: NDArray[Any], point: tuple[int, int], crop: int, rng: np.random.Generator
) -> tuple[int, int]:
    """Top-left corner of a ``crop`` window that holds ``point`` at a random place inside it."""
    h, w = image.shape
    corner = []
    for p, n in ((point[0], h), (point[1], w)):
        hi = min(p, max(n - crop, 0))  # images smaller than the crop are padded at the end
        corner.append(int(rng.integers(min(max(p - crop + 1, 0), hi), hi + 1)))
    return corner[0], corner[1]


def extreme_pixel(image: NDArray[Any], rng: np.random.Generator) -> tuple[int, int]:
    """The highest or the lowest pixel of ``image`` (one of the two at random)."""
    flat = int(np.nanargmax(image) if rng.integers(0, 2) else np.nanargmin(image))
    r, c = np.unravel_index(flat, image.shape)
    return int(r), int(c)


def _take(image: F32, r: int, c: int, crop: int) -> F32:
    h, w = image.shape
    if h < crop or w < crop:
        image = np.pad(image, ((0, max(crop - h, 0)), (0, max(crop - w, 0))), mode="symmetric")
    return image[r : r + crop, c : c + crop]


def augment(image: F32, k: int, flip: bool) -> F32:
    """Rotate by ``k`` quarter turns and optionally flip left-right (the 8 symmetries of a square)."""
    out = np.rot90(image, k)
    if flip:
        out = out[:, ::-1]
    return np.ascontiguousarray(out)


def crop_and_augment(image: F32, crop: int, rng: np.random.Generator) -> F32:
    """A random crop of ``image`` under a random one of the 8 square symmetries."""
    r, c = random_crop(image, crop, rng)
    k, flip = int(rng.integers(0, 4)), bool(rng.integers(0, 2))
    return augment(_take(image, r, c, crop), k, flip)


def paired_crop_and_augment(
    a: F32, b: F32, crop: int, rng: np.random.Generator, *, around: tuple[int, int] | None = None
) -> tuple[F32, F32]:
    """The same random crop and symmetry applied to two aligned images.

    ``around``: a pixel the crop must hold (at a random place in it), else the crop is uniform.
    """
    r, c = random_crop(a, crop, rng) if around is None else crop_around(a, around, crop, rng)
    k, flip = int(rng.integers(0, 4)), bool(rng.integers(0, 2))
    return augment(_take(a, r, c, crop), k, flip), augment(_take(b, r, c, crop), k, flip)


class SimSource(Protocol):
    """Simulated (clean I_S, noisy I_BS) pairs, normalised; the pool may change with the step."""

    pixel_size: float

    def description(self) -> dict[str, Any]: ...

    def indices(self, step: int) -> Sequence[int]: ...

    def pair(self, index: int) -> tuple[F32, F32]: ...


@dataclass(frozen=True)
class _Norm:
    """Normalise one image as :func:`stmdenoise.processing.to_network` does (levelling aside)."""

    low_pct: float
    high_pct: float
    scale: float
    squash: float = 0.8

    def spec(self, *, level: bool) -> NormalizationSpec:
        """The model's :class:`NormalizationSpec` with these numbers (what ``config.json`` records)."""
        return NormalizationSpec(
            low_pct=self.low_pct, high_pct=self.high_pct, scale=self.scale, level=level, squash=self.squash
        )

    def __call__(self, a: NDArray[Any]) -> F32:
        x, _ = to_network(a, self.spec(level=False))
        return x.astype(np.float32)


#: Maps one image into the networks' range with the default numbers (0.5/99.5 percentiles to
#: [-1, 1], then ``tanh(0.8 y)``); no levelling. Values in [-1, 1], float32.
prepare_image = _Norm(0.5, 99.5, 0.8, 0.8)


@dataclass(frozen=True)
class _PairNorm:
    """Normalise a simulated pair with the **noisy** image's statistics (both levelled first).

    At inference the Denoiser only has the noisy scan, so its percentiles set the units of the
    network's input and of the inverse map of its output. Training the clean target in those
    same units teaches the network the clean map's true contrast relative to the noisy one;
    normalising each image by its own percentiles instead (``pair_norm="own"``) stretches every
    clean target to the noisy input's range, and the inverse map then exaggerates cores and peaks.
    """

    low_pct: float
    high_pct: float
    scale: float
    squash: float
    level: bool

    def __call__(self, clean: NDArray[Any], noisy: NDArray[Any]) -> tuple[F32, F32]:
        spec = _Norm(self.low_pct, self.high_pct, self.scale, self.squash).spec(level=self.level)
        xn, inverse = to_network(noisy, spec)
        xc, _ = to_network(clean, spec, norm=inverse.norm)  # each levelled by its own plane
        return xc.astype(np.float32), xn.astype(np.float32)


@dataclass(frozen=True)
class _LevelThen:
    """Remove a least-squares plane, then normalise (:func:`to_network` with ``level=True``)."""

    normalise: _Norm

    def __call__(self, a: NDArray[Any]) -> F32:
        x, _ = to_network(a, self.normalise.spec(level=True))
        return x.astype(np.float32)


def _normalised(
    p: SimulatedPairLike,
    normalise: Callable[[NDArray[Any]], F32],
    normalise_pair: Callable[[NDArray[Any], NDArray[Any]], tuple[F32, F32]] | None,
) -> tuple[F32, F32]:
    if normalise_pair is not None:
        return normalise_pair(p.clean, p.noisy)
    return normalise(p.clean), normalise(p.noisy)


def _qualified_name(f: Any) -> str:
    return f"{getattr(f, '__module__', '?')}.{getattr(f, '__qualname__', type(f).__name__)}"


class OnTheFlySim:
    """An endless stream of simulated pairs; pair ``k`` is drawn with its own seed ``(seed, k)``.

    The pool at step ``t`` holds pairs ``[t * refresh, t * refresh + pool)``, so the pool of
    any step is reproducible without storing it (exact resume).

    Parameters
    ----------
    sampler : callable
        ``sampler(rng, pixels=..., size=..., preset=...)`` returning an object with ``clean``,
        ``noisy`` and ``pixel_size`` (normally :func:`stmdenoise.physics.sample_pair`).
    seed : int
        Base seed of the stream.
    pixels, size, preset
        Passed to ``sampler``.
    pool, refresh : int
        Pairs held in memory, and how many are replaced per step.
    normalise : callable
        Maps a raw image to the networks' range.
    normalise_pair : callable, optional
        Maps ``(clean, noisy)`` together (see :class:`_PairNorm`); replaces ``normalise`` for pairs.
    stream : int
        Tag mixed into every pair's seed, so that two streams of one run (the training pairs and
        the ``--lambda-teacher`` pairs) never draw the same scene.
    """

    def __init__(
        self,
        sampler: PairSampler,
        *,
        seed: int,
        pixels: int,
        size: float,
        preset: str,
        pool: int,
        refresh: int,
        normalise: Callable[[NDArray[Any]], F32],
        normalise_pair: Callable[[NDArray[Any], NDArray[Any]], tuple[F32, F32]] | None = None,
        stream: int = 0x51D,
    ) -> None:
        self.normalise_pair = normalise_pair
        self.sampler = sampler
        self.stream = int(stream)
        self.seed = int(seed)
        self.pixels, self.size, self.preset = int(pixels), float(size), str(preset)
        self.pool, self.refresh = int(pool), int(refresh)
        self.normalise = normalise
        self._cache: dict[int, tuple[F32, F32]] = {}
        self.pixel_size = float(self._raw(0).pixel_size)

    def _raw(self, k: int) -> SimulatedPairLike:
        rng = np.random.default_rng([self.seed, self.stream, k])
        return self.sampler(rng, pixels=self.pixels, size=self.size, preset=self.preset)

    def description(self) -> dict[str, Any]:
        return {
            "source": "on the fly (" + _qualified_name(self.sampler) + ")",
            "pixels": self.pixels,
            "size_m": self.size,
            "preset": self.preset,
            "pixel_size_m": self.pixel_size,
            "pool": self.pool,
            "refresh_per_step": self.refresh,
            "seed": self.seed,
        }

    def indices(self, step: int) -> Sequence[int]:
        start = step * self.refresh
        wanted = range(start, start + self.pool)
        for k in list(self._cache):
            if k < start:
                del self._cache[k]
        return wanted

    def pair(self, index: int) -> tuple[F32, F32]:
        if index not in self._cache:
            p = self._raw(index)
            self._cache[index] = _normalised(p, self.normalise, self.normalise_pair)
        return self._cache[index]


def world_sampler(world: str, hint: str = "") -> PairSampler:
    """The sampler of an on-the-fly world of :data:`~stmdenoise.training.options.SIM_WORLDS`
    (ValueError, ending with ``hint``, where the simulator is not installed)."""
    try:
        from stmdenoise.physics import sample_pair
        from stmdenoise.physics.variety import sample_bias_pair, sample_varied_pair
    except ImportError as exc:
        raise ValueError(
            f"on-the-fly simulation needs stmdenoise.physics.sample_pair, which this installation lacks{hint}"
        ) from exc
    samplers: tuple[PairSampler, ...] = (sample_pair, sample_varied_pair, sample_bias_pair)
    return dict(zip(SIM_WORLDS, samplers, strict=True))[world]


class H5Sim:
    """Simulated pairs from an HDF5 dataset of ``stmdenoise simulate`` (read with
    :func:`stmdenoise.physics.open_dataset`); normalised pairs are cached when they fit in ~1 GB."""

    def __init__(
        self,
        path: str | Path,
        *,
        normalise: Callable[[NDArray[Any]], F32],
        normalise_pair: Callable[[NDArray[Any], NDArray[Any]], tuple[F32, F32]] | None = None,
    ) -> None:
        from stmdenoise.physics import open_dataset

        self.normalise_pair = normalise_pair
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"simulated dataset {self.path} does not exist")
        try:
            self._ds = open_dataset(self.path)
        except OSError as exc:
            raise ValueError(f"{self.path}: not an HDF5 dataset ({exc})") from exc
        self.count = len(self._ds)
        if self.count == 0:
            raise ValueError(f"{self.path}: the dataset holds no pairs")
        self.pixel_size = float(self._ds.pixel_size)
        self.attrs = dict(self._ds.attrs)
        self.normalise = normalise
        pixels = int(self.attrs.get("pixels", 256))
        fits = self.count * pixels * pixels * 8 < 1e9
        self._cache: dict[int, tuple[F32, F32]] | None = {} if fits else None

    def description(self) -> dict[str, Any]:
        keep = ("pixel_size", "size", "pixels", "preset", "seed", "count")
        d: dict[str, Any] = {"source": str(self.path), "pairs": self.count}
        d.update({k: (v.decode() if isinstance(v, bytes) else v) for k, v in self.attrs.items() if k in keep})
        return d

    def indices(self, step: int) -> Sequence[int]:
        return range(self.count)

    def pair(self, index: int) -> tuple[F32, F32]:
        if self._cache is not None and index in self._cache:
            return self._cache[index]
        p = self._ds[index]
        out = _normalised(p, self.normalise, self.normalise_pair)
        if self._cache is not None:
            self._cache[index] = out
        return out

    def close(self) -> None:
        self._ds.close()


def expand_paths(paths: Sequence[str | Path]) -> list[Path]:
    """Files of ``paths``, every file of a folder (:func:`stmdenoise.outputs.folder_files`: recursive,
    hidden files and folders skipped, linked folders not followed), sorted per folder."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files += folder_files(p)
        elif p.is_file():
            files.append(p)
        else:
            raise FileNotFoundError(f"{p}: no such file or folder")
    return files


def load_real_scans(paths: Sequence[str | Path], *, nm_per_px: float | None = None) -> list[Scan]:
    """Read experimental scans from files and folders (recursively), one Scan per file.

    Every file :func:`stmdenoise.io.read_scan` understands gives its first channel's forward
    frame; a file without a pixel size of its own (a JPEG, a foreign PNG) needs ``nm_per_px``.
    Files that cannot be read are skipped with a log message; no readable file raises ValueError.
    """
    from stmdenoise.io import assume_pixel_size, read_scan  # imported here so tests need no reader

    scans: list[Scan] = []
    for f in expand_paths(paths):
        try:
            scan = read_scan(f)
        except (ValueError, OSError) as exc:
            log.info("skipping %s: %s", f, exc)
            continue
        if scan.pixel_size is None:
            if nm_per_px is None:
                log.warning("skipping %s: it carries no pixel size; pass --real-nm-per-px", f)
                continue
            scan = assume_pixel_size(scan, nm_per_px)
        log.info("experimental scan %s", scan.describe() + (f" from {f}" if f else ""))
        scans.append(scan)
    if not scans:
        raise ValueError(f"no readable experimental scan in {[str(p) for p in paths]}")
    return scans


def _drop_filler_rows(data: NDArray[np.float64]) -> NDArray[np.float64]:
    """Drop rows that hold one constant value (aborted scans zero-filled by the instrument)."""
    flat = np.nanmax(data, axis=1) == np.nanmin(data, axis=1)
    keep = np.flatnonzero(~flat)
    if keep.size == 0:
        return data
    return data[keep[0] : keep[-1] + 1]


def prepare_real(
    scan: Scan, *, pixel_size: float, level: bool, normalise: _Norm = _Norm(0.5, 99.5, 0.8)
) -> F32:
    """Experimental scan -> network input at ``pixel_size``: crop NaN and filler rows, then
    :func:`stmdenoise.processing.to_network` (level, resample, normalise) as at inference.

    Raises ValueError (naming the scan) when it has no pixel size or its field of view would
    exceed :data:`~stmdenoise.plan.MAX_WORK_PIXELS` at ``pixel_size`` (a 5 µm scan at 0.14 nm/px:
    35 000 x 35 000 px)."""
    if not np.isfinite(scan.data).all():
        scan = crop_nan(scan)
    data = _drop_filler_rows(np.asarray(scan.data))
    if data.shape != scan.shape:
        scan = scan.with_data(data)
    if scan.pixel_size is None:
        raise ValueError(f"{scan.describe()}: an experimental scan needs a pixel size (--real-nm-per-px)")
    rows, cols = resampled_shape(scan.shape, scan.pixel_size, (pixel_size, pixel_size))
    if rows * cols > MAX_WORK_PIXELS:  # checked before anything is allocated: memory stays bounded
        raise ValueError(
            f"{scan.describe()}: at the model's {pixel_size * 1e9:.4g} nm/px it would be {rows} x {cols} px, "
            f"over the {MAX_WORK_PIXELS} px the program works on at once"
        )
    x, inverse = to_network(scan, normalise.spec(level=level), pixel_size)
    if inverse.resampled:
        old = scan.pixel_size
        log.info(
            "resampled %s from %.4g x %.4g nm/px to %.4g nm/px (%d x %d px)",
            scan.source.name if scan.source else "scan",
            old[0] * 1e9,
            old[1] * 1e9,
            pixel_size * 1e9,
            x.shape[0],
            x.shape[1],
        )
    return x.astype(np.float32)


class RealImages:
    """Normalised experimental images; crops are drawn with probability proportional to area."""

    def __init__(self, images: Sequence[F32], names: Sequence[str]) -> None:
        if not images:
            raise ValueError("no experimental images")
        self.images = list(images)
        self.names = list(names)
        areas = np.array([im.size for im in self.images], dtype=np.float64)
        self.weights = areas / areas.sum()

    @classmethod
    def from_scans(
        cls,
        scans: Sequence[Scan],
        *,
        pixel_size: float,
        level: bool,
        normalise: _Norm = _Norm(0.5, 99.5, 0.8),
    ) -> RealImages:
        """Each scan through :func:`prepare_real`; a scan it refuses (no pixel size, a header claiming
        a field of view too large for the model's grid) is skipped with the reason in the log, so one
        unusable scan never stops a run. ValueError when none is left."""
        images, names = [], []
        for i, s in enumerate(scans):
            name = s.source.name if s.source else f"scan{i}"
            try:
                images.append(prepare_real(s, pixel_size=pixel_size, level=level, normalise=normalise))
            except ValueError as exc:
                log.warning("skipping experimental scan %s: %s", name, exc)
                continue
            names.append(name)
        if not images:
            raise ValueError(f"none of the {len(scans)} experimental scans can be used (the log says why)")
        return cls(images, names)

    def crop(self, crop: int, rng: np.random.Generator) -> F32:
        i = int(rng.choice(len(self.images), p=self.weights))
        return crop_and_augment(self.images[i], crop, rng)

    def description(self) -> list[dict[str, Any]]:
        return [{"name": n, "pixels": list(im.shape)} for n, im in zip(self.names, self.images, strict=True)]
