"""``stmdenoise score FILE... [--model M]``: PIQE, BRISQUE and STM-native scores of scans.

Prints one row per file for the raw scan and, with ``--model``, one for the denoised scan plus
the statistics of the residual (raw - denoised). Both are plane-levelled first (``--level
plane``, the default): a raw scan's tilt otherwise fills the 8-bit range and hides everything.
Scans too small to score (under 64x64, fewer than 64 complete rows, constant) get ``n/a`` and
a note; unreadable files are reported on stderr and skipped (exit 1).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from pathlib import Path
from typing import Any

from stmdenoise.io import ScanFormatError, read_scan
from stmdenoise.metrics import score_image, score_pair
from stmdenoise.processing import level_plane
from stmdenoise.scan import Scan

__all__ = ["add_parser", "run", "score_rows"]

_RESIDUAL_FIELDS = (
    "rms",
    "rms_to_noise_floor",
    "autocorr_fast",
    "autocorr_slow",
    "spectral_flatness",
    "signal_correlation",
    "structure_r2",
)
COLUMNS = (
    "file",
    "channel",
    "version",
    "level",
    "rows_used",
    "rows_total",
    "piqe",
    "brisque",
    "line_artefact_index",
    "noise_floor",
    "unit",
    *(f"residual_{f}" for f in _RESIDUAL_FIELDS),
    "note",
)


def _load_denoiser(model: str) -> Any:
    """Load the model folder (imported lazily: ``score`` without ``--model`` needs no torch)."""
    try:
        from stmdenoise.denoise import Denoiser
    except ImportError as exc:
        raise ValueError(
            f"--model needs stmdenoise.denoise.Denoiser, which this installation cannot import ({exc})"
        ) from None
    path = Path(model)
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: no such model folder (expected config.json + weights.safetensors)")
    return Denoiser.from_folder(path)


def score_rows(scan: Scan, denoised: Scan | None = None, *, level: str = "plane") -> list[dict[str, Any]]:
    """Rows of the score table for one scan (and its denoised version).

    ``level="plane"`` subtracts the least-squares plane from each (NaN-aware) before scoring;
    ``"none"`` scores the data as read.
    """
    if level not in ("plane", "none"):
        raise ValueError(f"level must be 'plane' or 'none', got {level!r}")
    if level == "plane":
        scan = level_plane(scan)
        denoised = level_plane(denoised) if denoised is not None else None
    base = {"file": str(scan.source or ""), "channel": scan.channel, "unit": scan.unit, "level": level}
    empty_res = {f"residual_{f}": None for f in _RESIDUAL_FIELDS}
    if denoised is None:
        s = score_image(scan)
        return [{**base, "version": "raw", **s.to_dict(), **empty_res}]
    a, b, res, note = score_pair(scan, denoised)
    res_cols = dict(empty_res)
    if res is not None:
        res_cols = {f"residual_{f}": getattr(res, f) for f in _RESIDUAL_FIELDS}
    row_b = {**base, "version": "denoised", **b.to_dict(), **res_cols}
    if note:
        row_b["note"] = "; ".join(x for x in (row_b["note"], f"residual: {note}") if x)
    return [{**base, "version": "raw", **a.to_dict(), **empty_res}, row_b]


def _fmt(value: Any, key: str) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if key in ("noise_floor", "residual_rms"):
            return f"{value:.3e}"
        return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.3e}"
    return str(value)


def _table(rows: list[dict[str, Any]], with_residual: bool) -> str:
    keys = [k for k in COLUMNS if with_residual or not k.startswith("residual_")]
    keys = [k for k in keys if k not in ("note", "level")]
    header = {k: k.removeprefix("residual_") if k.startswith("residual_") else k for k in keys}
    header.update(line_artefact_index="line_idx", rows_used="rows", rows_total="of")
    cells = [[_fmt(r.get(k), k) for k in keys] for r in rows]
    widths = [max(len(header[k]), *(len(c[i]) for c in cells)) for i, k in enumerate(keys)]
    lines = ["  ".join(header[k].ljust(w) for k, w in zip(keys, widths, strict=True))]
    for r, c in zip(rows, cells, strict=True):
        lines.append("  ".join(v.ljust(w) for v, w in zip(c, widths, strict=True)).rstrip())
        if r.get("note"):
            lines.append(f"    note: {r['note']}")
    return "\n".join(lines)


def _json_safe(v: Any) -> Any:
    return None if isinstance(v, float) and not math.isfinite(v) else v


def run(args: argparse.Namespace) -> int:
    """Score each file; report unreadable files on stderr and go on. Exit 1 if any failed."""
    denoiser = _load_denoiser(args.model) if args.model else None
    rows: list[dict[str, Any]] = []
    from stmdenoise.cli.outputs import expand_inputs, report_failure

    paths, problems = expand_inputs(args.files)
    failed = 0
    for path in paths:
        stage = "cannot read"
        try:
            if path in problems:
                raise problems[path]
            scan = read_scan(path, channel=args.channel, direction=args.direction)
            stage = "denoising failed"
            denoised = denoiser.denoise(scan) if denoiser is not None else None
            stage = "scoring failed"
            new = score_rows(scan, denoised, level=args.level)
        except (ScanFormatError, OSError, ValueError, MemoryError) as exc:
            failed += 1
            reason = exc.reason if isinstance(exc, ScanFormatError) else str(exc).removeprefix(f"{path}: ")
            print(f"stmdenoise score: error: {path}: {stage}: {reason}", file=sys.stderr)
            continue
        except Exception as exc:  # noqa: BLE001 -- one bad file must not stop the batch
            failed += 1
            report_failure("score", path, exc)
            continue
        for r in new:
            r["file"] = str(path)
        rows.extend(new)
    if args.json:
        print(json.dumps([{k: _json_safe(r.get(k)) for k in COLUMNS} for r in rows], indent=2))
    elif args.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=list(COLUMNS), lineterminator="\n")
        writer.writeheader()
        for r in rows:
            writer.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in COLUMNS})
    elif rows:
        print(_table(rows, with_residual=denoiser is not None))
    return 1 if failed else 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``score``."""
    p = sub.add_parser(
        "score",
        help="image-quality scores (PIQE, BRISQUE, line artefacts, noise floor) of scans, raw and denoised",
        description=(
            "Score scans with PIQE and BRISQUE (as MATLAB / the LIVE release compute them, on a per-image "
            "min-max 8-bit rendering of the longest run of complete rows) and STM-native measures: "
            "line-artefact index (row-offset spread / contrast) and noise floor (in the scan's units). "
            "With --model, also score the denoised scan and the residual raw - denoised. "
            "Lower is better for PIQE, BRISQUE and the line index. See docs/metrics.md."
        ),
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="scan files (.sxm, .dat, .png, .tif, .h5, .npy)")
    p.add_argument("--model", metavar="M", help="model folder (config.json + weights) to denoise with")
    p.add_argument("--channel", metavar="C", help="channel to score (default: the file's first, e.g. Z)")
    p.add_argument(
        "--direction", choices=("forward", "backward"), default="forward", help="fast-scan direction"
    )
    p.add_argument(
        "--level",
        choices=("plane", "none"),
        default="plane",
        help="subtract the least-squares plane before scoring (default) or score the data as read",
    )
    out = p.add_mutually_exclusive_group()
    out.add_argument("--csv", action="store_true", help="print CSV (one row per file and version)")
    out.add_argument("--json", action="store_true", help="print a JSON list (one object per row)")
    p.set_defaults(func=run)
