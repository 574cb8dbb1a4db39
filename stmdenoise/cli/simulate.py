"""``stmdenoise simulate``: write a dataset of simulated Cu(111) clean/noisy pairs (HDF5)."""

from __future__ import annotations

import argparse
import sys

from stmdenoise.cli.progress import drive
from stmdenoise.physics.artefacts import PRESETS

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``simulate``."""
    p = sub.add_parser(
        "simulate",
        help="simulate Cu(111) clean/noisy training pairs into an HDF5 file (parallel, resumable)",
        description=(
            "Simulate COUNT pairs of clean Cu(111) surface-state topographs (Green's function + T-matrix "
            "multiple scattering, Tersoff-Hamann) and the same images with STM artefacts. Image i depends "
            "only on --seed and i, whatever --workers; rerunning an interrupted job (or asking a finished "
            "file for a larger --count) writes only what is missing. See docs/physics.md."
        ),
    )
    p.add_argument(
        "--count", type=int, required=True, metavar="N", help="number of pairs in the finished file"
    )
    p.add_argument("--pixels", type=int, default=256, metavar="P", help="pixels per side (default 256)")
    p.add_argument(
        "--size-nm", type=float, default=36.0, metavar="S", help="field of view in nm (default 36)"
    )
    p.add_argument("--preset", choices=sorted(PRESETS), default="typical", help="artefact strength")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="root seed (default 0)")
    p.add_argument("--out", required=True, metavar="FILE.h5", help="output HDF5 file")
    p.add_argument(
        "--workers", type=int, default=None, metavar="W", help="worker processes (default: all cores)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``simulate``; exit code 0 when the file is complete, 130 when interrupted."""
    from stmdenoise.physics.dataset import simulate_dataset  # h5py: loaded when simulating

    result, completed = drive(
        lambda cancel: simulate_dataset(
            args.out,
            count=args.count,
            pixels=args.pixels,
            size=args.size_nm * 1e-9,
            preset=args.preset,
            seed=args.seed,
            workers=args.workers,
            cancel=cancel,
        ),
        description="simulate",
        quiet=args.quiet,
    )
    if not completed or result is None or not result.complete:
        return 130
    if not args.quiet:
        print(f"{result.path}: {result.done} pairs", file=sys.stderr)
    return 0
