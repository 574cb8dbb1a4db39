"""The batch job: :func:`denoise_batch` and its request, progress record, report row and result."""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from collections.abc import Generator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from stmdenoise import __version__
from stmdenoise.batch import manifest as mf
from stmdenoise.batch.inputs import BatchInput, Skip, collect_inputs, select_frames, shown
from stmdenoise.batch.report import ScanRow, write_csv, write_html
from stmdenoise.batch.write import write_h5_pair, write_picture, write_sxm_with_denoised, write_tiff
from stmdenoise.io import detect_format, read_all
from stmdenoise.io.render import COLORMAPS, canonical_colormap
from stmdenoise.jobs import JobCancelled
from stmdenoise.outputs import (
    OutputConflictError,
    OutputPlan,
    failure_reason,
    is_expected,
    log_traceback,
    safe_name,
)
from stmdenoise.processing.view import BACKGROUNDS, ROW_METHODS, correct_view, view_method
from stmdenoise.safety import SINGLE_FRAME
from stmdenoise.scan import Scan

__all__ = [
    "FORMATS",
    "PANELS",
    "STATUSES",
    "BatchProgress",
    "BatchRequest",
    "BatchResult",
    "DisplayOptions",
    "ScanRow",
    "denoise_batch",
    "model_fingerprint",
]

_log = logging.getLogger(__name__)

#: What a batch can write per scan: the app's picture, float32 TIFF, HDF5 (raw + denoised +
#: provenance) and, for Nanonis input, the ``.sxm`` with the denoised channel added.
FORMATS: tuple[str, ...] = ("png", "tiff", "h5", "sxm")
#: Pictures: raw | denoised | raw - denoised (``all``), or the denoised frame alone.
PANELS: tuple[str, ...] = ("all", "denoised")
#: Status of a report row.
STATUSES: tuple[str, ...] = ("done", "skipped", "failed", "refused", "cancelled")
#: Names of the report files in the output folder.
REPORT_CSV = "report.csv"
REPORT_HTML = "report.html"
#: Marks a folder as a batch's output folder (so its reports may be rewritten by a rerun).
FOLDER_MARKER = ".stmdenoise-batch.json"
_DIRECTIONS = ("forward", "backward")


@dataclass(frozen=True)
class DisplayOptions:
    """How the pictures are drawn: the app's view settings.

    Attributes
    ----------
    level : str
        Background subtracted before display and denoising, a key of
        :data:`stmdenoise.processing.view.BACKGROUNDS` (``"three_points"`` is not available in a batch).
    align : str
        Line correction, a key of :data:`stmdenoise.processing.view.ROW_METHODS`.
    colormap : str
        One of :data:`stmdenoise.io.render.COLORMAPS`.
    scale_bar, colour_bar : bool
        Draw a scale bar into, and a colour bar beside, each panel.
    panels : str
        One of :data:`PANELS`.
    """

    level: str = "none"
    align: str = "none"
    colormap: str = "afmhot"
    scale_bar: bool = True
    colour_bar: bool = True
    panels: str = "all"

    def __post_init__(self) -> None:
        level = view_method(self.level, true="plane", choices=BACKGROUNDS, name="level")
        if level == "three_points":
            raise ValueError(
                "level 'three_points' needs points clicked on each scan; not available in a batch"
            )
        object.__setattr__(self, "level", level)
        object.__setattr__(
            self, "align", view_method(self.align, true="median", choices=ROW_METHODS, name="align")
        )
        colormap = canonical_colormap(self.colormap)
        if colormap not in COLORMAPS:  # the difference map is the difference panel's own
            raise ValueError(f"colormap must be one of {COLORMAPS}, got {self.colormap!r}")
        object.__setattr__(self, "colormap", colormap)
        if self.panels not in PANELS:
            raise ValueError(f"panels must be one of {PANELS}, got {self.panels!r}")


@dataclass(frozen=True)
class BatchRequest:
    """What to denoise, where to, and how.

    Attributes
    ----------
    inputs : tuple of Path
        Files and folders; folders are searched recursively for :data:`stmdenoise.io.READ_SUFFIXES`
        and their structure is mirrored under ``out_dir / folder name``.
    out_dir : Path
        Output folder (created when missing).
    channels : tuple of str
        Channels to denoise (case-insensitive); empty: each file's first channel.
    directions : tuple of str
        ``"forward"`` and/or ``"backward"``.
    model : Path or None
        Model folder (None: the shipped default).
    device : str
        ``auto``, ``cpu``, ``cuda`` or ``mps``.
    passes : int
        1, 2 or 4 mirrored network passes averaged.
    policy : str
        Do-no-harm policy, one of :data:`stmdenoise.safety.POLICIES`.
    which : str
        ``auto``, ``experimental`` or ``simulated`` generator.
    display : DisplayOptions
        The pictures' view settings (also the corrections applied before denoising).
    formats : tuple of str
        Subset of :data:`FORMATS`.
    overwrite : bool
        Replace existing files the batch did not write (never an input).
    tile : int
        Largest tile side in model pixels.
    max_zoom, max_pixels : float, int or None
        Limits of the do-no-harm plan (None: the defaults of :mod:`stmdenoise.safety`).
    """

    inputs: tuple[Path, ...]
    out_dir: Path
    channels: tuple[str, ...] = ()
    directions: tuple[str, ...] = ("forward",)
    model: Path | None = None
    device: str = "auto"
    passes: int = 1
    policy: str = "fallback"
    which: str = "auto"
    display: DisplayOptions = field(default_factory=DisplayOptions)
    formats: tuple[str, ...] = FORMATS
    overwrite: bool = False
    tile: int = 1024
    max_zoom: float | None = None
    max_pixels: int | None = None

    def __post_init__(self) -> None:
        from stmdenoise.safety import POLICIES

        object.__setattr__(self, "inputs", tuple(Path(p) for p in self.inputs))
        object.__setattr__(self, "out_dir", Path(self.out_dir))
        object.__setattr__(self, "channels", tuple(self.channels))
        object.__setattr__(self, "directions", tuple(dict.fromkeys(self.directions)))
        object.__setattr__(self, "formats", tuple(dict.fromkeys(f.lower() for f in self.formats)))
        if self.model is not None:
            object.__setattr__(self, "model", Path(self.model))
        if not self.inputs:
            raise ValueError("inputs must name at least one file or folder, got none")
        if not self.directions or any(d not in _DIRECTIONS for d in self.directions):
            raise ValueError(f"directions must be some of {_DIRECTIONS}, got {self.directions!r}")
        if not self.formats or any(f not in FORMATS for f in self.formats):
            raise ValueError(f"formats must be some of {FORMATS}, got {self.formats!r}")
        if self.passes not in (1, 2, 4):
            raise ValueError(f"passes must be 1, 2 or 4, got {self.passes!r}")
        if self.policy not in POLICIES:
            raise ValueError(f"policy must be one of {POLICIES}, got {self.policy!r}")
        if self.which not in ("auto", "experimental", "simulated"):
            raise ValueError(f"which must be 'auto', 'experimental' or 'simulated', got {self.which!r}")


@dataclass(frozen=True)
class BatchProgress:
    """Progress of :func:`denoise_batch`: ``done`` of ``total`` input files.

    ``file`` is the file being worked on (or just finished, then with its ``status``);
    ``eta_s`` the estimated seconds left (None before the first scan was denoised).
    """

    done: int
    total: int | None
    message: str = ""
    file: str = ""
    status: str = ""
    elapsed_s: float = 0.0
    eta_s: float | None = None


@dataclass(frozen=True)
class BatchResult:
    """What :func:`denoise_batch` returns.

    Attributes
    ----------
    rows : tuple of ScanRow
        Every report row, in input order (skipped non-scan files last).
    report_csv, report_html : Path
        The reports written.
    counts : dict of str to int
        Rows per status.
    resumed : int
        Input files skipped because an earlier run had finished them.
    cancelled : bool
        True when the job stopped on ``cancel`` (the rows of files not reached say so).
    """

    rows: tuple[ScanRow, ...]
    report_csv: Path
    report_html: Path
    counts: dict[str, int]
    resumed: int
    cancelled: bool


def model_fingerprint(folder: Path) -> dict[str, str]:
    """Name and SHA-256 of a model folder (its ``config.json`` and weights files: ``weights*`` and
    every ``.safetensors``, the spectral gain's included), without loading it."""
    import hashlib

    h = hashlib.sha256()
    name = folder.name
    parts = sorted(
        p
        for p in folder.iterdir()
        if p.name == "config.json" or p.name.startswith("weights") or p.suffix == ".safetensors"
    )
    for p in parts:
        h.update(p.name.encode())
        h.update(mf.file_sha256(p).encode())
        if p.name == "config.json":
            try:
                name = str(json.loads(p.read_text(encoding="utf-8")).get("name") or name)
            except (OSError, ValueError):
                pass
    return {"name": name, "sha256": h.hexdigest(), "folder": str(folder)}


def _options(req: BatchRequest, model: dict[str, str]) -> dict[str, Any]:
    """Everything that shapes a file's outputs: a change makes a rerun redo the file."""
    return {
        "program_version": __version__,
        "model": model["name"],
        "model_sha256": model["sha256"],
        "channels": [c.lower() for c in req.channels],
        "directions": list(req.directions),
        "passes": req.passes,
        "policy": req.policy,
        "which": req.which,
        "display": asdict(req.display),
        "formats": list(req.formats),
        "max_zoom": req.max_zoom,
        "max_pixels": req.max_pixels,
    }


def _fmt_reason(path: Path, exc: BaseException) -> str:
    log = None if is_expected(exc) else log_traceback("batch", path, exc)
    return failure_reason(path, exc, log=log)


@dataclass
class _Frame:
    raw: Scan  # as shown (after the view's corrections)
    delivered: Scan
    row: ScanRow
    names: dict[str, str] = field(default_factory=dict)  # format -> output name (relative)


def _scores(scan: Scan) -> tuple[float | None, float | None, float | None]:
    from stmdenoise.metrics import score_image

    s = score_image(scan)
    return s.brisque, s.piqe, s.line_artefact_index


def _frame_row(path: Path, raw: Scan, delivered: Scan, verdict: Any) -> ScanRow:
    rb, rp, rl = _scores(raw)
    db, dp, dl = _scores(delivered)
    fid = verdict.delivered_fidelity
    worst = fid.worst_band() if fid is not None else None
    reason = verdict.reason + "".join(f" | note: {n}" for n in verdict.notices)
    return ScanRow(
        file=shown(path), channel=raw.channel, direction=raw.direction, status="done", reason=reason,
        delivered=verdict.delivered_label, raw_brisque=rb, denoised_brisque=db, raw_piqe=rp, denoised_piqe=dp,
        raw_line_artefact_index=rl, denoised_line_artefact_index=dl,
        fidelity_error=None if fid is None else fid.overall.error,
        fidelity_kept=None if fid is None else fid.overall.kept,
        fidelity_worst_band="" if worst is None else worst.band.label,
        fidelity_worst_error=None if worst is None else worst.error,
        heights_kept=None if verdict.heights is None else verdict.heights.kept,
    )  # fmt: skip


class _Worker:
    """State of one batch run shared by its files (the loaded model, the plan, the options)."""

    def __init__(self, req: BatchRequest, cancel: threading.Event) -> None:
        self.req = req
        self.cancel = cancel
        self._den: Any = None
        if req.model is None:
            from stmdenoise.denoise import default_model_dir

            self.model_dir = default_model_dir()
        else:
            self.model_dir = req.model
        self.model = model_fingerprint(self.model_dir)
        self.options = _options(req, self.model)

    def denoiser(self) -> Any:
        if self._den is None:  # loaded when the first scan needs it: a finished rerun never loads torch
            from stmdenoise.denoise import Denoiser

            self._den = Denoiser.from_folder(self.model_dir, device=self.req.device, tile=self.req.tile)
        return self._den

    def denoise(self, path: Path, frame: Scan, every: Sequence[Scan]) -> _Frame | ScanRow:
        from stmdenoise.safety import MAX_WORK_PIXELS, MAX_ZOOM, HarmError, partner_of

        d = self.req.display
        raw = correct_view(frame, level=d.level, align=d.align)
        partner = partner_of(frame, every)
        if partner is not None:
            partner = correct_view(partner, level=d.level, align=d.align)
        try:
            got = self.denoiser().denoise_checked(
                raw, partner=partner, policy=self.req.policy, which=self.req.which, passes=self.req.passes,
                cancel=self.cancel,
                max_zoom=MAX_ZOOM if self.req.max_zoom is None else self.req.max_zoom,
                max_pixels=MAX_WORK_PIXELS if self.req.max_pixels is None else self.req.max_pixels,
            )  # fmt: skip
        except HarmError as exc:
            return ScanRow(shown(path), frame.channel, frame.direction, "refused", " ".join(str(exc).split()))
        except JobCancelled:
            raise
        except Exception as exc:  # noqa: BLE001 -- one bad frame must not stop the batch
            return ScanRow(shown(path), frame.channel, frame.direction, "failed", _fmt_reason(path, exc))
        return _Frame(raw, got.delivered, _frame_row(path, raw, got.delivered, got.verdict))

    def provenance(self, path: Path, sha: str, fr: _Frame) -> dict[str, Any]:
        from stmdenoise.quality_rows import verdict_of

        return {
            "program": "stmdenoise",
            "program_version": __version__,
            "model": self.model,
            "source": str(path),
            "source_sha256": sha,
            "channel": fr.raw.channel,
            "direction": fr.raw.direction,
            "steps": [s.to_dict() for s in fr.delivered.steps],
            "do_no_harm": verdict_of(fr.delivered),
            "options": self.options,
        }


def _rel(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder else name


def _process(w: _Worker, plan: OutputPlan, item: BatchInput) -> tuple[list[ScanRow], bool]:
    """Rows of one input file, and whether it was (re)done now (False: an earlier run's rows)."""
    req, path = w.req, item.path
    if item.problem is not None:
        return [ScanRow(shown(path), status="failed", reason=_fmt_reason(path, item.problem))], False
    try:
        fmt = detect_format(path)
        if fmt == "spectrum":
            raise Skip("a point spectrum, not an image")
        sha = mf.file_sha256(path)
        mpath = mf.manifest_path(plan.out_dir, item.folder, item.stem)
        manifest = mf.read_manifest(mpath)
        earlier = mf.finished_rows(manifest, source_sha256=sha, options=w.options, out_dir=plan.out_dir)
        if earlier is not None:
            return [ScanRow.from_dict(r) for r in earlier], False
        every = read_all(path)
        frames = select_frames(every, req.channels, req.directions)
    except Skip as exc:
        return [ScanRow(shown(path), status="skipped", reason=str(exc))], False
    except Exception as exc:  # noqa: BLE001 -- one bad file must not stop the batch
        return [ScanRow(shown(path), status="failed", reason=_fmt_reason(path, exc))], False

    results: list[_Frame | ScanRow] = []
    for frame in frames:
        if w.cancel.is_set():
            raise JobCancelled("batch cancelled")
        results.append(w.denoise(path, frame, every))
    good = [r for r in results if isinstance(r, _Frame)]
    for fr in good:
        base = f"{item.stem}_{safe_name(fr.raw.channel)}_{fr.raw.direction}"
        if "png" in req.formats:
            fr.names["png"] = _rel(item.folder, f"{base}.png")
        if "tiff" in req.formats:
            fr.names["tiff"] = _rel(item.folder, f"{base}_denoised.tiff")
        if "h5" in req.formats:
            fr.names["h5"] = _rel(item.folder, f"{base}.h5")
    sxm_frames = [fr for fr in good if fr.delivered.shape == every[0].shape]
    sxm_name = ""
    if fmt == "sxm" and "sxm" in req.formats and any(fr.raw.direction == "forward" for fr in sxm_frames):
        sxm_name = _rel(item.folder, f"{item.stem}_denoised.sxm")
    names = [n for fr in good for n in fr.names.values()] + ([sxm_name] if sxm_name else [])
    try:
        plan.claim(path, names, replace=mf.ours(manifest, plan.out_dir))
    except (OutputConflictError, OSError) as exc:
        why = failure_reason(path, exc)
        return [
            ScanRow(shown(path), fr.raw.channel, fr.raw.direction, "failed", f"nothing written: {why}")
            for fr in good
        ] + [r for r in results if isinstance(r, ScanRow)], True

    # pending first: the names are ours from now on, whatever happens while writing them
    mf.write_manifest(mpath, state="pending", source=path, source_sha256=sha, options=w.options,
                      outputs=names, out_dir=plan.out_dir)  # fmt: skip
    (plan.out_dir / item.folder).mkdir(parents=True, exist_ok=True)
    rows: list[ScanRow] = []
    written: list[str] = []
    failed = False
    d = req.display
    for r in results:
        if isinstance(r, ScanRow):
            rows.append(r)
            failed = failed or r.status == "failed"
            continue
        prov = w.provenance(path, sha, r)
        title = (
            "Denoised"
            if r.row.delivered in ("model", SINGLE_FRAME) or r.row.delivered.startswith("model + ")
            else f"Delivered: {r.row.delivered}"
        )
        try:
            for fmt_name, rel in r.names.items():
                dest = plan.out_dir / rel
                if fmt_name == "png":
                    write_picture(
                        dest, r.raw, r.delivered, colormap=d.colormap, scale_bar=d.scale_bar,
                        colour_bar=d.colour_bar, panels=d.panels, provenance=prov, inputs=plan.inputs,
                        denoised_title=title,
                    )  # fmt: skip
                elif fmt_name == "tiff":
                    write_tiff(dest, r.delivered, inputs=plan.inputs)
                else:
                    write_h5_pair(dest, r.raw, r.delivered, provenance=prov, inputs=plan.inputs)
                written.append(rel)
        except Exception as exc:  # noqa: BLE001 -- one bad frame must not stop the batch
            failed = True
            rows.append(_replace_row(r.row, status="failed", reason=_fmt_reason(path, exc),
                                    outputs=tuple(x for x in r.names.values() if x in written)))  # fmt: skip
            continue
        rows.append(_replace_row(r.row, picture=r.names.get("png", ""), outputs=tuple(r.names.values())))
    if sxm_name:
        try:
            fwd_bwd = [fr.delivered for fr in sxm_frames]
            write_sxm_with_denoised(plan.out_dir / sxm_name, every, fwd_bwd, inputs=plan.inputs)
            written.append(sxm_name)
            rows = [
                _replace_row(r, outputs=(*r.outputs, sxm_name)) if r.status == "done" else r for r in rows
            ]
        except Exception as exc:  # noqa: BLE001
            failed = True
            reason = f".sxm not written: {_fmt_reason(path, exc)}"
            rows = [
                _replace_row(r, status="failed", reason=reason) if r.status == "done" else r for r in rows
            ]
    mf.write_manifest(
        mpath, state="partial" if failed else "done", source=path, source_sha256=sha, options=w.options,
        outputs=written, out_dir=plan.out_dir, rows=[r.to_dict() for r in rows],
    )  # fmt: skip
    return rows, True


def _replace_row(row: ScanRow, **changes: Any) -> ScanRow:
    """A copy of ``row`` with ``changes``."""
    return dataclasses.replace(row, **changes)


def _check_reports(out_dir: Path, overwrite: bool) -> None:
    marker = out_dir / FOLDER_MARKER
    if overwrite or marker.is_file():
        return
    for name in (REPORT_CSV, REPORT_HTML):
        p = out_dir / name
        if p.exists() or p.is_symlink():
            raise OutputConflictError(
                p, "exists and was not written by a batch; choose another output folder or pass --overwrite"
            )


def _write_reports(
    req: BatchRequest, rows: Sequence[ScanRow], summary: str, inputs: Sequence[Path]
) -> tuple[Path, Path]:
    dicts = [r.to_dict() for r in rows]
    csv_path = write_csv(req.out_dir / REPORT_CSV, dicts, inputs=inputs)
    html_path = write_html(
        req.out_dir / REPORT_HTML, dicts, title="stmdenoise batch report", summary=summary, inputs=inputs
    )
    return csv_path, html_path


def _summary(rows: Sequence[ScanRow], resumed: int, cancelled: bool, model: dict[str, str]) -> str:
    counts = {s: sum(r.status == s for r in rows) for s in STATUSES}
    text = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    extra = f"; {resumed} file(s) kept from an earlier run" if resumed else ""
    stop = "; cancelled (a rerun resumes)" if cancelled else ""
    who = f"Model {model['name']} (sha256 {model['sha256'][:12]}), stmdenoise {__version__}."
    return f"{len(rows)} frame(s): {text}{extra}{stop}. {who}"


def denoise_batch(
    request: BatchRequest, cancel: threading.Event
) -> Generator[BatchProgress, None, BatchResult]:
    """Denoise every scan of ``request`` and write its outputs and the reports.

    A job generator (see :mod:`stmdenoise.jobs`): yields a :class:`BatchProgress` before and
    after each input file and returns a :class:`BatchResult`. ``cancel`` is checked between
    frames and between the network's tiles; a cancelled run writes the reports of what it did,
    leaves no half-written file (every file is written atomically, a file's outputs are
    declared in its manifest before the first one) and a rerun resumes.

    One bad file never stops the batch: its row says ``failed`` with the reason. Inputs are
    only read. Output names are planned by :class:`stmdenoise.outputs.OutputPlan`: never an
    input, never an existing file the batch did not write unless ``request.overwrite``.

    Raises
    ------
    OutputConflictError
        Before anything is written: ``report.csv``/``report.html`` exist in ``out_dir`` and it is
        not a batch's output folder.
    NotADirectoryError
        ``out_dir`` is a file.
    """
    started = time.monotonic()
    items, skipped = collect_inputs(request.inputs, exclude=request.out_dir)
    worker = _Worker(request, cancel)
    plan = OutputPlan(request.out_dir, [it.path for it in items], overwrite=request.overwrite)
    _check_reports(plan.out_dir, request.overwrite)
    marker = plan.out_dir / FOLDER_MARKER
    if not marker.is_file():
        text = json.dumps({"format": "stmdenoise-batch-folder", "program_version": __version__})
        mf.write_text(marker, text, inputs=plan.inputs)
    rows: list[ScanRow] = []
    resumed = 0
    cancelled = False
    spent: list[float] = []
    total = len(items)
    k = 0
    try:
        for k, item in enumerate(items):
            if cancel.is_set():
                cancelled = True
                break
            eta = None
            if spent:
                eta = sum(spent) / len(spent) * (total - k)
            yield BatchProgress(k, total, f"{item.path.name}", file=str(item.path),
                                elapsed_s=time.monotonic() - started, eta_s=eta)  # fmt: skip
            t0 = time.monotonic()
            try:
                got, now = _process(worker, plan, item)
            except JobCancelled:
                cancelled = True
                break
            rows.extend(got)
            if now:
                spent.append(time.monotonic() - t0)
            elif got and all(r.status == "done" for r in got):
                resumed += 1
            status = "/".join(dict.fromkeys(r.status for r in got))
            eta = sum(spent) / len(spent) * (total - k - 1) if spent else None
            yield BatchProgress(
                k + 1, total, f"{item.path.name}: {status}", file=str(item.path), status=status,
                elapsed_s=time.monotonic() - started, eta_s=eta,
            )  # fmt: skip
        else:
            k = total
        if cancelled:
            rows.extend(
                ScanRow(shown(it.path), status="cancelled", reason="the batch was cancelled before this file")
                for it in items[k:]
            )
    finally:
        rows.extend(skipped)
        summary = _summary(rows, resumed, cancelled, worker.model)
        csv_path, html_path = _write_reports(request, rows, summary, plan.inputs)
    counts = {s: sum(r.status == s for r in rows) for s in STATUSES}
    return BatchResult(tuple(rows), csv_path, html_path, counts, resumed, cancelled)
