"""Datasets of simulated clean/noisy pairs in HDF5: parallel, deterministic, resumable.

Layout of ``data.h5``::

    /clean      (N, H, W) float32   clean images (topographs, metres)
    /noisy      (N, H, W) float32   the same with STM artefacts
    /params     (N,) UTF-8 JSON     every generation parameter of image i
    /completed  (N,) uint8          1 where image i has been written (and flushed)
    /checksum   (N,) uint32         CRC-32 of clean[i] bytes followed by noisy[i] bytes
    attrs: pixel_size (m), size (m), pixels, preset, seed, count, format

Image ``i`` is drawn from ``numpy.random.default_rng(SeedSequence(seed).spawn(...)[i])`` (the
i-th child, i.e. ``SeedSequence(seed, spawn_key=(i,))``), so it is identical whatever the worker
count, the order the workers finish in, or the run that wrote it.

While incomplete the file lives at ``data.h5.part``; it is closed cleanly on cancel or error
(``finally``), and a rerun resumes it, writing only what is missing. When every image is written
it is flushed to disk and renamed to ``data.h5`` (an atomic rename). Asking an existing complete
file for a larger ``count`` reopens it as ``.part`` and appends.

Crash consistency (a process killed at any point, SIGKILL included): an image is marked in
``/completed`` only after its data has been flushed to the file, so a mark on disk implies the
data is there; ``/checksum`` (CRC-32 of the image's clean and noisy bytes) is verified for every
marked image when an unfinished file is reopened, and a mismatch unmarks the image (it is
simulated again). The attribute ``writing`` is 1 while a run has the file open and 0 after a
clean close (finished, cancelled or stopped); a rerun that finds 1 -- the run was killed, and
HDF5's own structures (chunk index, the heap of the ``params`` strings) may be half written --
copies every intact finished image into a fresh file that replaces the ``.part`` in one rename
before resuming. A ``.part`` that HDF5 cannot open at all is set aside as ``.part.corrupt`` and
the dataset starts afresh.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import logging
import multiprocessing
import os
import threading
import time
import zlib
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import h5py
import numpy as np
from numpy.typing import NDArray

from stmdenoise.physics.artefacts import PRESETS
from stmdenoise.physics.pairs import SimulatedPair, sample_pair

__all__ = [
    "DatasetProgress",
    "DatasetResult",
    "simulate_dataset",
    "open_dataset",
    "SimulatedDataset",
    "image_rng",
]

log = logging.getLogger(__name__)

FORMAT = "stmdenoise-simulated-pairs/1"
_FLUSH_EVERY_S = 0.5  # a kill loses at most this much work; a flush costs milliseconds


@dataclass(frozen=True)
class DatasetProgress:
    """Progress of :func:`simulate_dataset`: ``done`` of ``total`` images exist in the file."""

    done: int
    total: int | None
    message: str = ""
    path: str = ""


@dataclass(frozen=True)
class DatasetResult:
    """What :func:`simulate_dataset` returns: the file it left and whether it is complete.

    ``path`` is the finished ``.h5`` file when ``complete``, else the ``.part`` work file
    holding ``done`` of ``total`` pairs (a rerun with the same settings resumes it).
    """

    path: str
    done: int
    total: int
    complete: bool


def image_rng(seed: int, index: int) -> np.random.Generator:
    """The generator of image ``index``: the ``index``-th child of ``SeedSequence(seed)``.

    Examples
    --------
    >>> a = image_rng(7, 3).random()
    >>> b = np.random.default_rng(np.random.SeedSequence(7).spawn(5)[3]).random()
    >>> a == b
    True
    """
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(int(index),)))


def _make_one(
    index: int, seed: int, pixels: int, size: float, preset: str
) -> tuple[int, NDArray[np.float32], NDArray[np.float32], str]:
    pair = sample_pair(image_rng(seed, index), pixels=pixels, size=size, preset=preset)
    params = dict(pair.params)
    params["index"] = index
    params["seed"] = seed
    return index, pair.clean.astype(np.float32), pair.noisy.astype(np.float32), json.dumps(params)


def _check_args(count: int, pixels: int, size: float, preset: str, seed: int, workers: int | None) -> None:
    if int(count) != count or count < 0:
        raise ValueError(f"count must be an integer >= 0, got {count!r}")
    if int(pixels) != pixels or pixels < 16:
        raise ValueError(f"pixels must be an integer >= 16, got {pixels!r}")
    if not (np.isfinite(size) and size > 0):
        raise ValueError(f"size must be a positive length in metres, got {size!r}")
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {preset!r}")
    if int(seed) != seed or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    if workers is not None and (int(workers) != workers or workers < 1):
        raise ValueError(f"workers must be an integer >= 1, got {workers!r}")


def _attrs_match(f: h5py.File, pixels: int, size: float, preset: str, seed: int) -> str | None:
    want = {"pixels": pixels, "size": size, "preset": preset, "seed": seed}
    for k, v in want.items():
        have = f.attrs.get(k)
        if isinstance(have, bytes):
            have = have.decode()
        if isinstance(v, float):
            if have is None or not np.isclose(float(have), v, rtol=1e-12, atol=0):
                return f"{k}={have!r} (asked for {v!r})"
        elif have is None or (str(have) if isinstance(v, str) else int(have)) != v:
            return f"{k}={have!r} (asked for {v!r})"
    return None


def _create(path: Path, count: int, pixels: int, size: float, preset: str, seed: int) -> h5py.File:
    f = h5py.File(path, "w")
    shape = (count, pixels, pixels)
    for name in ("clean", "noisy"):
        f.create_dataset(
            name, shape=shape, maxshape=(None, pixels, pixels), dtype="f4", chunks=(1, pixels, pixels)
        )
    f.create_dataset("params", shape=(count,), maxshape=(None,), dtype=h5py.string_dtype("utf-8"))
    f.create_dataset("completed", shape=(count,), maxshape=(None,), dtype="u1", fillvalue=0)
    f.create_dataset("checksum", shape=(count,), maxshape=(None,), dtype="u4", fillvalue=0)
    f.attrs.update(
        pixel_size=size / pixels,
        size=size,
        pixels=pixels,
        preset=preset,
        seed=seed,
        count=count,
        format=FORMAT,
    )
    return f


def _resize(f: h5py.File, count: int) -> None:
    if f["completed"].shape[0] < count:
        for name in ("clean", "noisy", "params", "completed", "checksum"):
            if name in f:
                f[name].resize(count, axis=0)
        f.attrs["count"] = count


def _checksum(clean: NDArray[np.float32], noisy: NDArray[np.float32]) -> int:
    first = zlib.crc32(np.ascontiguousarray(clean, "<f4").tobytes())
    return zlib.crc32(np.ascontiguousarray(noisy, "<f4").tobytes(), first)


def _verify(f: h5py.File, path: Path) -> int:
    """Unmark every marked image whose data does not match its checksum; return how many."""
    if "checksum" not in f:  # written before checksums existed: nothing to compare with
        return 0
    done = np.flatnonzero(np.asarray(f["completed"][:], dtype=bool))
    bad = []
    for i in done:
        try:
            ok = _checksum(f["clean"][i], f["noisy"][i]) == int(f["checksum"][i])
        except (OSError, ValueError, KeyError):  # an unreadable chunk: the image is redone
            ok = False
        if not ok:
            bad.append(int(i))
    for k in bad:
        f["completed"][k] = 0
    if bad:
        log.warning(
            "%s: %d image(s) marked finished did not match their checksum; simulating them again",
            path,
            len(bad),
        )
        f.flush()
    return len(bad)


def _open_work_file(
    path: Path, part: Path, count: int, pixels: int, size: float, preset: str, seed: int
) -> h5py.File | None:
    """Open (or create) the work file; None when ``path`` is already complete for ``count``."""
    if path.exists():
        with h5py.File(path, "r") as f:
            bad = _attrs_match(f, pixels, size, preset, seed)
            if bad:
                raise ValueError(f"{path} was made with other settings: {bad}; choose another --out")
            have = int(f["completed"].shape[0])
            complete = bool(np.all(f["completed"][:count] == 1)) and have >= count
        if complete:
            return None
        os.replace(path, part)
    if part.exists():
        try:
            with h5py.File(part, "r") as f:
                bad = _attrs_match(f, pixels, size, preset, seed)
                closed_cleanly = int(f.attrs.get("writing", 1)) == 0
        except (OSError, KeyError, ValueError, TypeError) as exc:
            bad_path = part.with_name(part.name + ".corrupt")
            log.warning("%s cannot be opened (%s); moving it to %s and starting afresh", part, exc, bad_path)
            os.replace(part, bad_path)
            return _create(part, count, pixels, size, preset, seed)
        if bad:
            raise ValueError(
                f"{part} (an unfinished dataset) was made with other settings: {bad}; delete it first"
            )
        if not closed_cleanly:  # killed while writing: HDF5's own structures may be half written
            _salvage(part, count, pixels, size, preset, seed)
        f = h5py.File(part, "a")
        try:
            _verify(f, part)
            _resize(f, count)
        except (OSError, KeyError, ValueError) as exc:  # damaged structure inside an openable file
            f.close()
            log.warning("%s is damaged (%s); copying its intact images into a new file", part, exc)
            _salvage(part, count, pixels, size, preset, seed)
            f = h5py.File(part, "a")
        return f
    return _create(part, count, pixels, size, preset, seed)


def _salvage(part: Path, count: int, pixels: int, size: float, preset: str, seed: int) -> None:
    """Replace ``part`` by a new file holding only its intact finished images.

    A process killed while HDF5 updated its own structures (chunk index, the heap of the
    ``params`` strings) can leave a file that opens and reads but fails on the next write
    ("bad global heap collection signature"). Every image marked finished whose data, checksum
    and parameters read back intact is copied into a fresh file, which then replaces ``part``
    in one rename; the rest are simulated again.
    """
    tmp = part.with_name(f".{part.name}.{os.getpid()}.salvage")
    kept = 0
    with h5py.File(part, "r") as src:
        have = int(src["completed"].shape[0])
        dst = _create(tmp, max(count, have), pixels, size, preset, seed)
        try:
            done = np.flatnonzero(np.asarray(src["completed"][:], dtype=bool))
            for i in done:
                try:
                    clean = np.asarray(src["clean"][i], dtype=np.float32)
                    noisy = np.asarray(src["noisy"][i], dtype=np.float32)
                    params = src["params"][i]
                    params = params.decode() if isinstance(params, bytes) else str(params)
                    json.loads(params)
                    if "checksum" in src and _checksum(clean, noisy) != int(src["checksum"][i]):
                        continue
                except (OSError, ValueError, KeyError, UnicodeDecodeError):
                    continue
                dst["clean"][i], dst["noisy"][i], dst["params"][i] = clean, noisy, params
                dst["checksum"][i] = _checksum(clean, noisy)
                dst["completed"][i] = 1
                kept += 1
            dst.attrs["writing"] = 0
        finally:
            dst.flush()
            dst.close()
    _fsync(tmp)
    os.replace(tmp, part)
    log.warning("%s was left by a killed run: kept %d intact finished image(s)", part, kept)


def simulate_dataset(
    path: str | os.PathLike[str],
    *,
    count: int,
    pixels: int = 256,
    size: float = 36e-9,
    preset: str = "typical",
    seed: int = 0,
    workers: int | None = None,
    cancel: threading.Event | None = None,
) -> Generator[DatasetProgress, None, DatasetResult]:
    """Write ``count`` simulated clean/noisy pairs to an HDF5 file, yielding progress.

    A job (see :mod:`stmdenoise.jobs`): iterate it to run it; set ``cancel`` to stop after the
    images in flight (they are written, the file is closed cleanly, a rerun resumes).

    Parameters
    ----------
    path : path-like
        Output ``.h5`` file (the work file is ``path + ".part"`` until it is complete).
    count : int
        Number of pairs the finished file holds (images 0 .. count-1).
    pixels : int
        Pixels per side.
    size : float
        Side of the field of view, metres.
    preset : {"mild", "typical", "severe"}
        Artefact preset.
    seed : int
        Root seed; image ``i`` uses :func:`image_rng(seed, i) <image_rng>`.
    workers : int or None
        Worker processes (default: CPU count; 1 runs in this process).
    cancel : threading.Event or None
        Set to stop early.

    Yields
    ------
    DatasetProgress
        After opening the file and after each image written.

    Returns
    -------
    DatasetResult
        The finished file (``complete``) or the work file a cancelled run left.
    """
    _check_args(count, pixels, size, preset, seed, workers)
    path = Path(path)
    part = path.with_name(path.name + ".part")
    n_workers = int(workers or os.cpu_count() or 1)
    f = _open_work_file(path, part, int(count), int(pixels), float(size), preset, int(seed))
    if f is None:
        yield DatasetProgress(int(count), int(count), "already complete", str(path))
        return DatasetResult(str(path), int(count), int(count), True)
    finished = False
    pending: list[int] = []  # written, not yet flushed: not yet marked
    clean_exit = False
    f.attrs["writing"] = 1  # set to 0 when closed cleanly; a rerun that finds 1 salvages the file
    f.flush()
    try:
        done_mask = np.asarray(f["completed"][: int(count)], dtype=bool)
        todo = [int(i) for i in np.flatnonzero(~done_mask)]
        done = int(done_mask.sum())
        yield DatasetProgress(done, int(count), f"{len(todo)} to simulate", str(part))
        last_flush = time.monotonic()
        for index, clean, noisy, params in _results(
            todo, int(seed), int(pixels), float(size), preset, n_workers, cancel
        ):
            f["clean"][index] = clean
            f["noisy"][index] = noisy
            f["params"][index] = params
            if "checksum" in f:
                f["checksum"][index] = _checksum(clean, noisy)
            pending.append(index)
            done += 1
            if time.monotonic() - last_flush > _FLUSH_EVERY_S:
                _mark(f, pending)
                last_flush = time.monotonic()
            yield DatasetProgress(done, int(count), f"image {index}", str(part))
        _mark(f, pending)
        finished = done >= int(count) and bool(np.all(f["completed"][: int(count)] == 1))
        clean_exit = True
    except GeneratorExit:  # the caller stopped iterating: as clean as a cancel
        clean_exit = True
        raise
    finally:
        try:
            if pending:
                _mark(f, pending)  # cancel or error: what was written is kept
            if clean_exit:
                f.attrs["writing"] = 0
            f.flush()
        finally:
            f.close()
    if finished:
        _fsync(part)
        os.replace(part, path)
        yield DatasetProgress(int(count), int(count), "complete", str(path))
        return DatasetResult(str(path), int(count), int(count), True)
    return DatasetResult(str(part), done, int(count), False)


def _mark(f: h5py.File, pending: list[int]) -> None:
    """Flush the images in ``pending`` to the file, then mark them finished (persisted at the next flush)."""
    f.flush()
    for i in pending:
        f["completed"][i] = 1
    pending.clear()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _results(
    todo: list[int],
    seed: int,
    pixels: int,
    size: float,
    preset: str,
    workers: int,
    cancel: threading.Event | None,
) -> Iterator[tuple[int, NDArray[np.float32], NDArray[np.float32], str]]:
    """Images in ``todo``, computed here (workers = 1) or in a process pool; stops on cancel."""
    if workers <= 1 or len(todo) <= 1:
        for i in todo:
            if cancel is not None and cancel.is_set():
                return
            yield _make_one(i, seed, pixels, size, preset)
        return
    # spawn, not fork: the GUI runs this from a QThread, and forking a threaded process is unsafe
    ctx = multiprocessing.get_context("spawn")
    pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
    pending: set[cf.Future[tuple[int, NDArray[np.float32], NDArray[np.float32], str]]] = set()
    it = iter(todo)
    try:
        while True:
            while len(pending) < 2 * workers and not (cancel is not None and cancel.is_set()):
                nxt = next(it, None)
                if nxt is None:
                    break
                pending.add(pool.submit(_make_one, nxt, seed, pixels, size, preset))
            if not pending:
                return
            finished, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            for fut in finished:
                yield fut.result()
    finally:
        for fut in pending:
            fut.cancel()
        pool.shutdown(wait=True, cancel_futures=True)


class SimulatedDataset:
    """Read access to a finished dataset file (see :func:`open_dataset`)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._f = h5py.File(self.path, "r")
        if self._f.attrs.get("format") != FORMAT:
            fmt = self._f.attrs.get("format")
            self._f.close()
            raise ValueError(f"{self.path} is not a simulated-pairs dataset (format {fmt!r})")
        self.attrs: dict[str, Any] = {
            k: (v.item() if isinstance(v, np.generic) else v) for k, v in self._f.attrs.items()
        }
        self.pixel_size = float(self.attrs["pixel_size"])

    def __len__(self) -> int:
        return int(self._f["clean"].shape[0])

    def __getitem__(self, index: int) -> SimulatedPair:
        i = int(index)
        if not -len(self) <= i < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} images")
        i %= len(self)
        return SimulatedPair(
            clean=self._f["clean"][i],
            noisy=self._f["noisy"][i],
            pixel_size=self.pixel_size,
            params=json.loads(self._f["params"][i]),
        )

    def clean(self, indices: slice | NDArray[np.integer[Any]] | list[int]) -> NDArray[np.float32]:
        """Clean images ``indices`` as an (n, H, W) float32 array."""
        return self._take("clean", indices)

    def noisy(self, indices: slice | NDArray[np.integer[Any]] | list[int]) -> NDArray[np.float32]:
        """Noisy images ``indices`` as an (n, H, W) float32 array."""
        return self._take("noisy", indices)

    def _take(self, name: str, indices: slice | NDArray[np.integer[Any]] | list[int]) -> NDArray[np.float32]:
        if isinstance(indices, slice):
            return np.asarray(self._f[name][indices], dtype=np.float32)
        idx = np.asarray(indices, dtype=np.int64)
        order = np.argsort(idx)
        data = (
            self._f[name][np.sort(idx)] if idx.size else np.zeros((0,) + self._f[name].shape[1:], np.float32)
        )
        out = np.empty_like(data)
        out[order] = data
        return np.asarray(out, dtype=np.float32)

    def close(self) -> None:
        """Close the file."""
        self._f.close()

    def __enter__(self) -> SimulatedDataset:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def open_dataset(path: str | os.PathLike[str]) -> SimulatedDataset:
    """Open a dataset written by :func:`simulate_dataset` for reading.

    Parameters
    ----------
    path : path-like
        The finished ``.h5`` file.

    Returns
    -------
    SimulatedDataset
        ``len(ds)`` images; ``ds[i]`` is a :class:`SimulatedPair` (float64 copies);
        ``ds.clean(idx)`` / ``ds.noisy(idx)`` give float32 batches; ``ds.attrs`` the file
        attributes. Use it as a context manager or call ``close()``.
    """
    p = Path(path)
    if not p.exists():
        part = p.with_name(p.name + ".part")
        hint = (
            f" (an unfinished {part.name} exists: rerun the simulation to complete it)"
            if part.exists()
            else ""
        )
        raise FileNotFoundError(f"{p}: no such dataset{hint}")
    return SimulatedDataset(p)
