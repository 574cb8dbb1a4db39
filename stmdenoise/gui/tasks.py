"""Qt-free jobs the GUI runs in worker threads: preprocessing, denoising, scores, model/device lists."""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from stmdenoise.io import read_scan
from stmdenoise.jobs import JobCancelled, reporting
from stmdenoise.paths import default_model_dir, shipped_models_dir, user_data_dir
from stmdenoise.processing.view import BACKGROUNDS, ROW_METHODS, correct_view
from stmdenoise.scan import Scan

if TYPE_CHECKING:  # stmdenoise.denoise pulls torch: imported when a model is first loaded
    from stmdenoise.denoise import Denoiser

__all__ = [
    "ModelInfo",
    "DeviceInfo",
    "list_models",
    "user_models_dir",
    "list_devices",
    "preprocess",
    "BACKGROUNDS",
    "ROW_METHODS",
    "DenoiserCache",
    "DenoiseRecord",
    "DenoiseResult",
    "ScoreRecord",
    "denoise_job",
    "model_native_range",
    "model_pixel_size",
    "score_job",
    "second_look",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelInfo:
    """A model folder the user can pick."""

    name: str
    path: Path
    origin: str  # "shipped" or "user"

    @property
    def label(self) -> str:
        return f"{self.name} ({self.origin})"


def user_models_dir() -> Path:
    """The user's models folder (training results are registered here)."""
    return user_data_dir() / "models"


def _is_model_folder(p: Path) -> bool:
    # an unfinished fine-tune (INCOMPLETE marker, see stmdenoise.training.finetune) is never offered
    return (
        p.is_dir()
        and (p / "config.json").is_file()
        and any(p.glob("*.safetensors"))
        and not (p / "INCOMPLETE").exists()
    )


def list_models() -> list[ModelInfo]:
    """Shipped model folders (the default first) and the user's own, by name."""
    out: list[ModelInfo] = []
    default: Path | None = None
    try:
        default = default_model_dir()
    except OSError as exc:
        log.info("no default model: %s", exc)
    roots = [(shipped_models_dir(), "shipped"), (user_models_dir(), "user")]
    seen: set[Path] = set()
    if default is not None and _is_model_folder(default):
        out.append(ModelInfo(default.name, default, "shipped"))
        seen.add(default.resolve())
    for root, origin in roots:
        if not root.is_dir():
            continue
        for p in sorted(root.iterdir()):
            if _is_model_folder(p) and p.resolve() not in seen:
                seen.add(p.resolve())
                out.append(ModelInfo(p.name, p, origin))
    return out


def model_summary(model: ModelInfo) -> str:
    """The model folder's variant, training steps, architecture and pixel size, for a tooltip.

    Parsed by :func:`stmdenoise.model.folder.read_model_info`, the one reader of config.json.
    """
    from stmdenoise.model.folder import ModelFolderError, read_model_info

    try:
        info = read_model_info(model.path)
    except (ModelFolderError, OSError, ValueError) as exc:
        return f"{model.path} (config.json unreadable: {exc})"
    a = info.arch
    text = (
        f"{model.path}\nvariant={info.variant}, steps={info.steps}, ngf={a.ngf}, blocks={a.n_blocks}, "
        f"pixel size={info.pixel_size * 1e9:.4g} nm"
    )
    if info.experimental_path is not None:
        text += (
            "\nexperimental scans: spectral gain on the scan's own grid (any pixel size); "
            "the network above denoises simulated images"
        )
    return text


@dataclass(frozen=True)
class DeviceInfo:
    """A compute device for inference/training."""

    label: str
    device: str


def list_devices() -> list[DeviceInfo]:
    """``auto``, ``cpu`` and each CUDA device with its name and free memory."""
    out = [DeviceInfo("Auto", "auto"), DeviceInfo("CPU", "cpu")]
    try:
        import torch
    except ImportError:
        return out
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            name = torch.cuda.get_device_name(i)
            try:
                free, total = torch.cuda.mem_get_info(i)
                mem = f", {free / 2**30:.1f} of {total / 2**30:.0f} GiB free"
            except RuntimeError:
                mem = ""
            out.append(DeviceInfo(f"cuda:{i} — {name}{mem}", f"cuda:{i}"))
    return out


def preprocess(
    scan: Scan,
    *,
    level: bool | str,
    align: bool | str,
    points: tuple[tuple[float, float], ...] = (),
) -> Scan:
    """Apply the view's corrections: the line correction first, then the background.

    ``level``: True means ``"plane"``, else one of :data:`BACKGROUNDS`; ``align``: True means
    ``"median"``, else one of :data:`ROW_METHODS`. ``points`` are the three (row, col) pixels of
    ``"three_points"`` (without them that background is skipped). The one implementation is
    :func:`stmdenoise.processing.view.correct_view` (the batch job uses it too).
    """
    return correct_view(scan, level=level, align=align, points=points)


class DenoiserCache:
    """Loaded denoisers by (model folder, device); shared by worker threads under a lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[tuple[str, str], Denoiser] = {}

    def get(self, model_dir: Path, device: str) -> Denoiser:
        """The denoiser for ``model_dir`` on ``device`` (loads it on first use)."""
        key = (str(model_dir), device)
        with self._lock:
            den = self._items.get(key)
            if den is None:
                from stmdenoise.denoise import Denoiser

                den = Denoiser.from_folder(model_dir, device=device)
                self._items = {key: den}  # keep one model in memory
            return den


@dataclass(frozen=True)
class DenoiseRecord:
    """Progress of one denoising job."""

    done: int
    total: int | None
    message: str = ""


@dataclass(frozen=True)
class DenoiseResult:
    """What a denoising job returns: the scan delivered and a line saying what it is."""

    scan: Scan
    message: str


def denoise_job(
    scan: Scan,
    model_dir: Path,
    device: str,
    cache: DenoiserCache,
    passes: int = 1,
    partner: Callable[[], Scan | None] | None = None,
    policy: str = "fallback",
) -> Callable[[threading.Event], Generator[DenoiseRecord, None, DenoiseResult | None]]:
    """Job factory: denoise ``scan`` under the do-no-harm policy, averaging ``passes`` mirrorings.

    ``partner()`` (called in the worker thread) returns the second look at the same area (the
    other scan direction, processed as ``scan`` was) or None; the delivered result carries the
    verdict in its ``do_no_harm`` processing step (:mod:`stmdenoise.safety`); ``policy`` is one of
    :data:`stmdenoise.safety.POLICIES` except ``refuse`` (the app always shows something).
    """

    def job(cancel: threading.Event) -> Generator[DenoiseRecord, None, DenoiseResult | None]:
        yield DenoiseRecord(0, None, f"loading {model_dir.name}")
        denoiser = cache.get(model_dir, device)
        second = partner() if partner is not None else None
        plan = denoiser.checked_plan(scan, passes=passes, partner=second)
        yield DenoiseRecord(0, None, plan.describe().capitalize())

        def run(report: Callable[[DenoiseRecord], None]) -> Any:
            def progress(done: int, total: int) -> None:
                report(DenoiseRecord(int(done), int(total), f"denoising: network pass {done} of {total}"))

            return denoiser.denoise_checked(
                scan, partner=second, policy=policy, passes=passes, cancel=cancel, progress=progress
            )

        try:
            got = yield from reporting(run)
        except JobCancelled:
            return None
        from stmdenoise.safety import SINGLE_FRAME  # the worker's import, not the window's

        refined = got.verdict.refined
        what = {
            "model": "the model's output" + ("" if refined is None else f", then {refined.name}"),
            SINGLE_FRAME: "the model's output from this frame alone",
            "raw": "the raw scan",
        }.get(got.verdict.delivered, f"classical fallback ({got.verdict.delivered})")
        message = f"done: showing {what}"
        yield DenoiseRecord(1, 1, message)
        return DenoiseResult(got.delivered, message)

    return job


def second_look(scan: Scan, known: Scan | None, *, level: bool, align: bool) -> Callable[[], Scan | None]:
    """A loader of ``scan``'s other scan direction, processed with the same view toggles.

    ``known`` is that frame when it was read already; otherwise the loader reads it from the
    scan's file. Returns None (never raises) when the file has no such frame.
    """

    def load() -> Scan | None:
        other = "backward" if scan.direction == "forward" else "forward"
        frame = known
        if frame is None and scan.source is not None:
            try:
                frame = read_scan(scan.source, channel=scan.channel, direction=other)
            except (OSError, ValueError) as exc:
                log.info("no second look for %s: %s", scan.describe(), exc)
                return None
        if frame is None or frame.direction != other or frame.shape != scan.shape:
            return None
        return preprocess(frame, level=level, align=align)

    return load


def model_pixel_size(model: ModelInfo) -> float | None:
    """The pixel size (metres) a model folder works at (None when its config.json is unreadable)."""
    from stmdenoise.model.folder import ModelFolderError, read_model_info

    try:
        return float(read_model_info(model.path).pixel_size)
    except (ModelFolderError, OSError, ValueError):
        return None


def model_native_range(model: ModelInfo) -> tuple[float, float] | None:
    """A model folder's native pixel-size range for experimental scans, metres (None: none
    declared, or unreadable); a folder with a spectral gain runs every pixel size natively."""
    from stmdenoise.model.folder import ModelFolderError, read_model_info
    from stmdenoise.plan import ANY_PIXEL_SIZE

    try:
        info = read_model_info(model.path)
    except (ModelFolderError, OSError, ValueError):
        return None
    return ANY_PIXEL_SIZE if info.experimental_path is not None else info.native_pixel_size_range


@dataclass(frozen=True)
class ScoreRecord:
    """One quality measure of the raw and the denoised image (``nan`` with ``note`` when n/a)."""

    done: int
    total: int
    name: str
    raw: float
    denoised: float
    note: str = ""
    generation: int = 0  # which request of the Quality panel this answers (late ones are dropped)

    @property
    def message(self) -> str:
        return self.name


def _one(fn: Callable[[np.ndarray], Any], data: np.ndarray | None) -> tuple[float, str]:
    if data is None:
        return math.nan, ""
    try:
        return float(fn(data)), ""
    except ValueError as exc:
        return math.nan, str(exc)


#: Row names of the photographic scores: they reward smoothness, so they are labelled as hints.
BRISQUE_ROW, PIQE_ROW = "BRISQUE (no-reference hint)", "PIQE (no-reference hint)"


def score_job(
    raw: Scan, denoised: Scan | None, generation: int = 0
) -> Callable[[threading.Event], Iterator[ScoreRecord]]:
    """Job factory: the fidelity of what is shown (from its do-no-harm verdict), then BRISQUE,
    PIQE and the STM-native measures for raw and denoised; records carry ``generation``."""

    def job(cancel: threading.Event) -> Iterator[ScoreRecord]:
        import stmdenoise.metrics as m
        from stmdenoise.quality_rows import verdict_of, verdict_rows

        params = verdict_of(denoised)
        fidelity = verdict_rows(params) if params is not None else []
        measures: list[tuple[str, Callable[[np.ndarray], Any]]] = [
            (BRISQUE_ROW, m.brisque),
            (PIQE_ROW, m.piqe),
            ("Line-artefact index", m.line_artefact_index),
            ("Noise floor", m.noise_floor),
        ]
        total = len(fidelity) + len(measures) + (1 if denoised is not None else 0)
        g = generation
        for i, (name, rv, dv, note) in enumerate(fidelity):
            yield ScoreRecord(i + 1, total, name, rv, dv, note, g)
        d = None if denoised is None else np.asarray(denoised.data)
        for i, (name, fn) in enumerate(measures, start=len(fidelity)):
            if cancel.is_set():
                return
            rv, rnote = _one(fn, np.asarray(raw.data))
            dv, dnote = _one(fn, d)
            yield ScoreRecord(i + 1, total, name, rv, dv, rnote or dnote, g)
        if denoised is not None and not cancel.is_set():
            name = "Residual RMS (raw − denoised)"
            try:
                stats = m.residual_stats(np.asarray(raw.data), np.asarray(denoised.data))
                yield ScoreRecord(total, total, name, math.nan, float(stats.rms), "", g)
            except ValueError as exc:
                yield ScoreRecord(total, total, name, math.nan, math.nan, str(exc), g)

    return job
