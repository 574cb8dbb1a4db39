"""Entry point of the ``stmdenoise`` command: one argparse sub-command per module."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from stmdenoise import __version__
from stmdenoise.cli import (
    batch,
    denoise,
    evaluate,
    export,
    finetune,
    info,
    score,
    simulate,
    train,
    train_gain,
)
from stmdenoise.io.errors import OverwriteInputError, ScanFormatError

__all__ = ["main", "build_parser"]

# Each module defines ``add_parser(subparsers)`` which registers its sub-command and sets
# ``func`` (a callable taking the parsed namespace and returning an exit code). The modules are
# light: each imports what its command needs (torch included) inside ``run``.
COMMAND_MODULES = (info, export, score, train, train_gain, denoise, batch, finetune, evaluate, simulate)


def build_parser() -> argparse.ArgumentParser:
    """Build the full ``stmdenoise`` parser with every sub-command."""
    parser = argparse.ArgumentParser(
        prog="stmdenoise",
        description="Denoise scanning tunnelling microscopy images (PDA-Net); every batch job, headless.",
    )
    parser.add_argument("--version", action="version", version=f"stmdenoise {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debugging details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in COMMAND_MODULES:
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not args.verbose:  # a damaged TIFF tag is reported once, as the file's error line, not as a log record
        logging.getLogger("tifffile").setLevel(logging.CRITICAL)
    try:
        return int(args.func(args) or 0)
    except (ScanFormatError, OverwriteInputError, OSError, ValueError) as exc:
        print(f"stmdenoise {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
