"""``stmdenoise denoise FILE... -o DIR [--model M] [--format ...]``: batch denoising with a model folder."""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path
from typing import Any

from stmdenoise.cli.export import (
    FORMATS,
    add_frame_arguments,
    add_output_arguments,
    parse_formats,
    write_frames,
)
from stmdenoise.cli.outputs import OutputPlan, expand_inputs, report_failure
from stmdenoise.cli.progress import drive
from stmdenoise.io import READ_SUFFIXES
from stmdenoise.jobs import Progress
from stmdenoise.scan import Scan

__all__ = ["add_parser", "run", "FORMATS"]


def _read(path: Path, args: argparse.Namespace) -> tuple[list[Scan], list[Scan]]:
    """``(frames to denoise, every frame of the file)``: the others hold each frame's second look."""
    from stmdenoise.io import assume_pixel_size, read_all, select_frames

    every = read_all(path)
    if args.nm_per_px is not None:  # only files without a pixel size of their own take it
        every = [assume_pixel_size(s, args.nm_per_px) for s in every]
    return select_frames(every, channel=args.channel, direction=args.direction), every


def _say(path: Path, scan: Scan, verdict: Any) -> None:
    """What was delivered for one frame, in plain words, with the figures (stderr)."""
    print(f"{path.name} {scan.channel} {scan.direction}: {verdict.summary()}", file=sys.stderr)
    for notice in verdict.notices:
        print(f"    note: {notice}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    """Denoise each file; bad files are reported on stderr and skipped (exit code 1)."""
    from stmdenoise.denoise import Denoiser, default_model_dir
    from stmdenoise.jobs import JobCancelled
    from stmdenoise.safety import MAX_WORK_PIXELS, MAX_ZOOM, partner_of

    max_zoom = MAX_ZOOM if args.max_zoom is None else args.max_zoom
    max_pixels = MAX_WORK_PIXELS if args.max_pixels is None else args.max_pixels

    model = Path(args.model) if args.model else default_model_dir()
    paths, problems = expand_inputs(args.files, suffixes=READ_SUFFIXES)
    plan = OutputPlan(Path(args.output), paths, overwrite=args.overwrite)
    out_dir = plan.out_dir
    den = Denoiser.from_folder(model, device=args.device, tile=args.tile)
    kind = "spectral gain for experimental scans, CPU" if den.gain is not None else den.info.variant
    print(f"model {model} ({kind}, {den.info.steps} steps) on {den.device}", file=sys.stderr)
    failed = 0

    def job(cancel: threading.Event) -> Any:
        nonlocal failed
        for i, path in enumerate(paths):
            yield Progress(i, len(paths), path.name)
            files: list[Path] = []
            try:
                if path in problems:
                    raise problems[path]
                scans, every = _read(path, args)
                outs = []
                for s in scans:
                    # before the run: working pixel size, resampling factor, time (or why not)
                    second = partner_of(s, every)
                    ahead = den.checked_plan(
                        s, passes=args.passes, max_zoom=max_zoom, max_pixels=max_pixels, which=args.which,
                        partner=second,
                    )  # fmt: skip
                    if ahead.runs:  # a refusal is said once, by the verdict
                        print(f"{path.name} {s.channel} {s.direction}: {ahead.describe()}", file=sys.stderr)
                    got = den.denoise_checked(
                        s, partner=second, policy=args.policy, which=args.which,
                        passes=args.passes, cancel=cancel, max_zoom=max_zoom, max_pixels=max_pixels,
                    )  # fmt: skip
                    _say(path, s, got.verdict)
                    outs.append(got.delivered)
                write_frames(outs, path, out_dir, args.format, suffix="_denoised", plan=plan, written=files)
            except JobCancelled:
                return
            except Exception as exc:  # noqa: BLE001 -- one bad file must not stop the batch
                failed += 1
                for f in files:  # written before the failure: listed, not hidden
                    print(f)
                report_failure("denoise", path, exc)
                continue
            for f in files:
                print(f)
        yield Progress(len(paths), len(paths), "done")

    _, completed = drive(job, description="denoise", quiet=args.quiet or len(paths) < 2)
    if not completed:
        return 130
    return 1 if failed else 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``denoise``."""
    p = sub.add_parser(
        "denoise",
        help="denoise scan files with a PDA-Net model folder",
        description=(
            "Denoise scan files (Nanonis .sxm, Createc .dat, PNG/TIFF/HDF5/.npy, or JPEG/BMP/GIF with "
            "--nm-per-px) with a model folder (default: the shipped model). Outputs keep the input's units, "
            "grid and "
            "metadata; unmeasured (NaN) pixels stay NaN. Unreadable files are reported and skipped (exit 1). "
            "Output names are planned as for export (docs/io.md): never an input, never an existing file "
            "without --overwrite. "
            "Do no harm: each frame's output is measured against the other scan direction (its error "
            "against the surface, estimated without ground truth); where the model would be worse than "
            "the raw scan or a classical filter, --policy decides, and stderr says what was delivered "
            "and why. See docs/metrics.md."
        ),
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="scan files or folders (searched recursively)")
    add_output_arguments(p)
    p.add_argument("--model", metavar="DIR", help="model folder (default: the shipped default model)")
    p.add_argument(
        "--format", type=parse_formats, default=["tiff", "png"], metavar="LIST",
        help=f"comma-separated formats from {', '.join(FORMATS)} (default tiff,png)",
    )  # fmt: skip
    add_frame_arguments(p, channel=None)
    p.add_argument(
        "--which", choices=("auto", "experimental", "simulated"), default="auto",
        help="experimental scans: the model's spectral gain when it has one (the default model does), "
        "else G_DA; simulated ones: G_D. auto (default) reads the scan's 'simulated' header",
    )  # fmt: skip
    p.add_argument(
        "--passes", type=int, choices=(1, 2, 4), default=1,
        help="average the network over 1, 2 or 4 mirrored copies of each scan (4: smoother, 4x the time)",
    )  # fmt: skip
    p.add_argument(
        "--policy", choices=("fallback", "warn", "refuse", "off"), default="fallback",
        help="when the model would do harm (measured against the other scan direction): deliver a "
        "classical filter or the raw scan instead (fallback, default), deliver it flagged (warn), "
        "write nothing for that scan (refuse), or do not check (off)",
    )  # fmt: skip
    p.add_argument(
        "--max-zoom", type=float, default=None, metavar="F",
        help="largest enlargement or reduction onto the model's pixel size (default: "
        "stmdenoise.safety.MAX_ZOOM, 2); beyond it the model is not run and the fallback is delivered",
    )  # fmt: skip
    p.add_argument(
        "--max-pixels", type=int, default=None, metavar="N",
        help="most pixels the network may work on per scan, on its grid (default: "
        "stmdenoise.safety.MAX_WORK_PIXELS, 4096^2)",
    )  # fmt: skip
    p.add_argument(
        "--nm-per-px", type=float,
        help="pixel size, nm, of files that carry none (JPEG/BMP/GIF, foreign PNG/TIFF); without it the "
        "model is not run on them and the fallback is delivered",
    )  # fmt: skip
    p.add_argument("--device", default="auto", help="auto (CUDA > MPS > CPU), cpu, cuda or mps")
    p.add_argument("--tile", type=int, default=1024, help="largest tile side in model pixels (default 1024)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)
