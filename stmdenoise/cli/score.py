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
    "fidelity_error",
    "fidelity_worst_band",
    "fidelity_worst_error",
    "fidelity_kept",
    "heights_kept",
    "delivered",
    "note",
)
_FIDELITY = (
    "fidelity_error", "fidelity_worst_band", "fidelity_worst_error", "fidelity_kept", "heights_kept",
    "delivered",
)  # fmt: skip


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


def _fidelity_cols(denoised: Scan | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Fidelity columns of the raw and denoised rows, from the denoised scan's do_no_harm step."""
    from stmdenoise.quality_rows import verdict_of

    empty = dict.fromkeys(_FIDELITY)
    params = verdict_of(denoised)
    if params is None:
        return dict(empty), dict(empty)
    out = {**empty, "delivered": params.get("delivered", "")}
    raw_heights = dict(empty)
    if heights := params.get("delivered_heights"):  # one frame is enough: no second look needed
        out["heights_kept"] = heights["kept"]
        raw_heights["heights_kept"] = 1.0
    rep, worst = params.get("delivered_fidelity"), params.get("delivered_worst_band")
    if not rep or not worst:
        return raw_heights, out
    out.update(
        fidelity_error=rep["overall"]["error"],
        fidelity_worst_band=worst["band"],
        fidelity_worst_error=worst["error"],
        fidelity_kept=rep["overall"]["kept"],
    )
    raw = {**raw_heights, "fidelity_error": 1.0, "fidelity_kept": 1.0, "fidelity_worst_band": worst["band"]}
    raw["fidelity_worst_error"] = 1.0
    return raw, out


def score_rows(scan: Scan, denoised: Scan | None = None, *, level: str = "plane") -> list[dict[str, Any]]:
    """Rows of the score table for one scan (and its denoised version).

    ``level="plane"`` subtracts the least-squares plane from each (NaN-aware) before scoring;
    ``"none"`` scores the data as read. When ``denoised`` carries a ``do_no_harm`` step
    (:meth:`stmdenoise.denoise.Denoiser.denoise_checked`), its forward/backward fidelity fills
    the ``fidelity_*`` columns (raw = 1.00) and ``delivered`` says what was delivered.
    """
    from stmdenoise.metrics import score_image, score_pair  # scipy.special: loaded when scoring

    fid_raw, fid_out = _fidelity_cols(denoised)
    if level not in ("plane", "none"):
        raise ValueError(f"level must be 'plane' or 'none', got {level!r}")
    if level == "plane":
        scan = level_plane(scan)
        denoised = level_plane(denoised) if denoised is not None else None
    base = {"file": str(scan.source or ""), "channel": scan.channel, "unit": scan.unit, "level": level}
    empty_res = {f"residual_{f}": None for f in _RESIDUAL_FIELDS}
    if denoised is None:
        s = score_image(scan)
        return [{**base, "version": "raw", **s.to_dict(), **empty_res, **fid_raw}]
    a, b, res, note = score_pair(scan, denoised)
    res_cols = dict(empty_res)
    if res is not None:
        res_cols = {f"residual_{f}": getattr(res, f) for f in _RESIDUAL_FIELDS}
    row_b = {**base, "version": "denoised", **b.to_dict(), **res_cols, **fid_out}
    if note:
        row_b["note"] = "; ".join(x for x in (row_b["note"], f"residual: {note}") if x)
    return [{**base, "version": "raw", **a.to_dict(), **empty_res, **fid_raw}, row_b]


def _other_direction(path: Path, scan: Scan) -> Scan | None:
    """The same channel's other scan direction (the second look for the fidelity), or None."""
    other = "backward" if scan.direction == "forward" else "forward"
    try:
        found = read_scan(path, channel=scan.channel, direction=other)
    except (ScanFormatError, OSError, ValueError):
        return None
    return found if found.direction == other and found.shape == scan.shape else None


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
    keys = [k for k in COLUMNS if with_residual or not (k.startswith("residual_") or k in _FIDELITY)]
    keys = [k for k in keys if k not in ("note", "level")]
    header = {k: k.removeprefix("residual_") if k.startswith("residual_") else k for k in keys}
    header.update(line_artefact_index="line_idx", rows_used="rows", rows_total="of")
    header.update(
        fidelity_error="est_err", fidelity_worst_band="worst_band", fidelity_worst_error="worst_err",
        fidelity_kept="kept", heights_kept="heights",
    )  # fmt: skip
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
            denoised = None
            if denoiser is not None:
                got = denoiser.denoise_checked(scan, partner=_other_direction(path, scan), policy=args.policy)
                denoised = got.delivered
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
            "With --model, also score the denoised scan and the residual raw - denoised, and, where the "
            "file holds the other scan direction, the fidelity of what is delivered: its error against "
            "the surface estimated from the two directions (est_err, raw = 1; worst band; signal kept), "
            "and the share of the tall broad features it keeps (heights, raw = 1; below 0.99 heights "
            "measured on it read low). "
            "BRISQUE and PIQE are no-reference hints made for photographs: they reward smoothness. "
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
        "--policy", choices=("fallback", "warn", "refuse", "off"), default="fallback",
        help="do-no-harm policy of the denoised version (as `stmdenoise denoise`): the scores are of "
        "what would be delivered",
    )  # fmt: skip
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
