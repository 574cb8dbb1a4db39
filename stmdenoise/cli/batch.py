"""``stmdenoise batch INPUT... -o DIR``: denoise files and folders as the app shows them, with a report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from stmdenoise.batch.job import FORMATS, PANELS
from stmdenoise.io.render import COLORMAPS
from stmdenoise.processing.view import BACKGROUNDS, ROW_METHODS

__all__ = ["add_parser", "run", "run_request", "parse_batch_formats"]


def parse_batch_formats(text: str) -> list[str]:
    """``--format`` value -> the batch formats it lists (argparse type)."""
    names = list(dict.fromkeys(f.strip().lower() for f in text.split(",") if f.strip()))
    bad = [f for f in names if f not in FORMATS]
    if bad or not names:
        raise argparse.ArgumentTypeError(f"--format must list some of {', '.join(FORMATS)}; got {text!r}")
    return names


def run_request(request: Any, *, quiet: bool = False) -> int:
    """Drive :func:`stmdenoise.batch.denoise_batch` with a progress bar; print failures and the report.

    Returns the exit code: 0 all done, 1 when a file failed or was refused, 130 when cancelled
    (Ctrl+C; a rerun resumes).
    """
    from stmdenoise.batch import denoise_batch
    from stmdenoise.cli.progress import drive

    result, _ = drive(lambda cancel: denoise_batch(request, cancel), description="batch", quiet=quiet)
    if result is None:  # pragma: no cover - denoise_batch always returns
        return 130
    for row in result.rows:
        if row.status in ("failed", "refused"):
            what = f" {row.channel} {row.direction}" if row.channel else ""
            print(f"stmdenoise batch: {row.status}: {row.file}{what}: {row.reason}", file=sys.stderr)
    counts = ", ".join(f"{n} {s}" for s, n in result.counts.items() if n)
    kept = f" ({result.resumed} file(s) finished by an earlier run, kept)" if result.resumed else ""
    print(f"{len(result.rows)} frame(s): {counts}{kept}", file=sys.stderr)
    print(result.report_csv)
    print(result.report_html)
    if result.cancelled:
        print("cancelled; a rerun with the same options resumes", file=sys.stderr)
        return 130
    return 1 if result.counts.get("failed") or result.counts.get("refused") else 0


def run(args: argparse.Namespace) -> int:
    """``stmdenoise batch``."""
    from stmdenoise.batch import BatchRequest, DisplayOptions

    directions = ("forward", "backward") if args.direction == "both" else (args.direction,)
    request = BatchRequest(
        inputs=tuple(Path(p) for p in args.inputs),
        out_dir=Path(args.output),
        channels=tuple(args.channel or ()),
        directions=directions,
        model=Path(args.model) if args.model else None,
        device=args.device,
        passes=args.passes,
        policy=args.policy,
        display=DisplayOptions(
            level=args.level,
            align=args.align,
            colormap=args.colormap,
            scale_bar=not args.no_scale_bar,
            colour_bar=not args.no_colour_bar,
            panels=args.panels,
        ),  # fmt: skip
        formats=tuple(args.format),
        overwrite=args.overwrite,
    )
    return run_request(request, quiet=args.quiet)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``batch``."""
    p = sub.add_parser(
        "batch",
        help="denoise files and folders as the app shows them, with report.csv and report.html",
        description=(
            "Denoise every scan of the given files and folders (searched recursively; the folder "
            "structure is mirrored in the output folder). Per scan: a PNG like the app's view (raw | "
            "denoised | difference, or the denoised frame alone), a float32 TIFF with calibration, an "
            "HDF5 file with raw, denoised, metadata and provenance, and for Nanonis input the .sxm with "
            "the denoised channel added. report.csv and report.html list every scan with its scores, "
            "its forward/backward fidelity, status and reason. A rerun skips the scans already finished "
            "(see docs/batch.md); Ctrl+C stops cleanly and a rerun resumes. Inputs are never modified."
        ),
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="scan files or folders")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="output folder (created if needed)")
    p.add_argument(
        "--overwrite", action="store_true",
        help="replace existing files the batch did not write (never an input)",
    )  # fmt: skip
    p.add_argument("--model", metavar="DIR", help="model folder (default: the shipped default model)")
    p.add_argument("--device", default="auto", help="auto (CUDA > MPS > CPU), cpu, cuda or mps")
    p.add_argument(
        "--channel", action="append", metavar="NAME",
        help="channel to denoise (repeat for several; default each file's first)",
    )  # fmt: skip
    p.add_argument("--direction", choices=("forward", "backward", "both"), default="forward")
    p.add_argument(
        "--passes", type=int, choices=(1, 2, 4), default=1, help="mirrored network passes averaged"
    )
    p.add_argument(
        "--policy", choices=("fallback", "warn", "refuse", "off"), default="fallback",
        help="do no harm: what to deliver when the model would be worse than the raw scan or a classical "
        "filter (as in `stmdenoise denoise`)",
    )  # fmt: skip
    p.add_argument(
        "--level", choices=[k for k in BACKGROUNDS if k != "three_points"], default="none",
        help="background subtracted before display and denoising (as the app's Level)",
    )  # fmt: skip
    p.add_argument("--align", choices=list(ROW_METHODS), default="none",
                   help="line correction before display and denoising (as the app's Lines)")  # fmt: skip
    p.add_argument("--colormap", choices=COLORMAPS, default="afmhot", help="colour map of the pictures")
    p.add_argument("--no-scale-bar", action="store_true", help="no scale bar in the pictures")
    p.add_argument("--no-colour-bar", action="store_true", help="no colour bar beside the pictures")
    p.add_argument(
        "--panels", choices=PANELS, default="all",
        help="picture: raw | denoised | difference (all, default) or the denoised frame alone",
    )  # fmt: skip
    p.add_argument(
        "--format", type=parse_batch_formats, default=list(FORMATS), metavar="LIST",
        help=f"comma-separated outputs from {', '.join(FORMATS)} (default all)",
    )  # fmt: skip
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)
