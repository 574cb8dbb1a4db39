"""``stmdenoise export FILE... -o DIR --format png,tiff,h5,sxm``: batch conversion of scan files."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from stmdenoise.cli.info import error_line
from stmdenoise.io import COLORMAPS, OverwriteInputError, ScanFormatError, read_all, write_scan, write_sxm
from stmdenoise.scan import Scan

__all__ = ["add_parser", "export_file", "parse_formats", "run", "safe_name", "write_frames", "FORMATS"]

#: ``--format`` names and the file extension each writes.
FORMATS: dict[str, str] = {
    "png": ".png",
    "png16": ".16.png",
    "tiff": ".tiff",
    "h5": ".h5",
    "sxm": ".sxm",
    "npy": ".npy",
}


def safe_name(name: str) -> str:
    """``name`` with every run of characters other than letters, digits, ``.``, ``_``, ``-`` as ``_``."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "image"


def _select(scans: list[Scan], channel: str | None, direction: str) -> list[Scan]:
    chosen = [s for s in scans if channel is None or s.channel.lower() == channel.lower()]
    if not chosen:
        names = sorted({s.channel for s in scans})
        raise ValueError(f"channel {channel!r} is not in the file; channels: {names}")
    if direction != "both":
        chosen = [s for s in chosen if s.direction == direction]
        if not chosen:
            raise ValueError(f"no {direction} frame of channel {channel!r}")
    return chosen


def write_frames(
    scans: list[Scan],
    path: Path,
    out_dir: Path,
    formats: list[str],
    *,
    suffix: str = "",
    colormap: str = "afmhot",
    scale_bar: bool = False,
    colour_bar: bool = False,
) -> list[Path]:
    """Write ``scans`` (frames read from ``path``) into ``out_dir`` in each format; return the files.

    Per-frame formats are named ``{stem}_{channel}_{direction}{suffix}{ext}``; ``sxm`` writes all
    frames into one ``{stem}{suffix}.sxm`` (backward-only frames stored as its images, since the
    format needs forward ones). The writers never overwrite ``path`` itself.
    """
    written = []
    for fmt in formats:
        if fmt == "sxm":
            backward_only = all(s.direction == "backward" for s in scans)
            frames = [s.replace(direction="forward") for s in scans] if backward_only else scans
            written.append(write_sxm(out_dir / f"{path.stem}{suffix}.sxm", frames, inputs=[path]))
            continue
        for s in scans:
            name = f"{path.stem}_{safe_name(s.channel)}_{s.direction}{suffix}{FORMATS[fmt]}"
            written.append(
                write_scan(
                    s,
                    out_dir / name,
                    inputs=[path],
                    colormap=colormap,
                    scale_bar=scale_bar,
                    colour_bar=colour_bar,
                )
            )
    return written


def export_file(
    path: Path,
    out_dir: Path,
    *,
    formats: list[str],
    channel: str | None = None,
    direction: str = "forward",
    colormap: str = "afmhot",
    scale_bar: bool = False,
    colour_bar: bool = False,
) -> list[Path]:
    """Write the selected frames of ``path`` into ``out_dir`` in each format; return the files written.

    Per-frame formats are named ``{stem}_{channel}_{direction}{ext}``; ``sxm`` writes all
    selected frames into one ``{stem}.sxm``. Never overwrites ``path`` itself.
    """
    scans = _select(read_all(path), channel, direction)
    return write_frames(
        scans, path, out_dir, formats, colormap=colormap, scale_bar=scale_bar, colour_bar=colour_bar
    )


def parse_formats(text: str) -> list[str]:
    """``--format`` value -> the format names it lists, in order, each once (argparse type)."""
    names = [f.strip().lower() for f in text.split(",") if f.strip()]
    bad = [f for f in names if f not in FORMATS]
    if bad or not names:
        raise argparse.ArgumentTypeError(f"--format must list some of {', '.join(FORMATS)}; got {text!r}")
    return list(dict.fromkeys(names))


def run(args: argparse.Namespace) -> int:
    """Export each file; report bad files on stderr and go on. Exit 1 if any failed."""
    out_dir = Path(args.output)
    out_dir.mkdir(parents=True, exist_ok=True)
    failed = 0
    for name in args.files:
        path = Path(name)
        try:
            files = export_file(
                path,
                out_dir,
                formats=args.format,
                channel=args.channel,
                direction=args.direction,
                colormap=args.colormap,
                scale_bar=args.scale_bar,
                colour_bar=args.colour_bar,
            )
        except (ScanFormatError, OverwriteInputError, OSError, ValueError) as exc:
            failed += 1
            print(error_line("export", path, exc), file=sys.stderr)
            continue
        for f in files:
            print(f)
    return 1 if failed else 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``export``."""
    p = sub.add_parser(
        "export",
        help="convert scan files to PNG / 16-bit PNG / TIFF / HDF5 / .sxm / .npy",
        description=(
            "Convert scan files. png: colour-mapped picture; png16: 16-bit PNG with calibration; "
            "tiff: float32 with calibration; h5: data, mask, metadata and provenance; sxm: Nanonis file "
            "with all selected channels; npy: the data array. Unreadable files are reported and skipped "
            "(exit code 1)."
        ),
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="scan files to convert")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="output folder (created if needed)")
    p.add_argument(
        "--format", type=parse_formats, default=["png"], metavar="LIST",
        help=f"comma-separated formats from {', '.join(FORMATS)} (default png)",
    )  # fmt: skip
    p.add_argument("--channel", default=None, help="only this channel (default all)")
    p.add_argument(
        "--direction", choices=("forward", "backward", "both"), default="forward", help="frames to export"
    )
    p.add_argument("--colormap", choices=COLORMAPS, default="afmhot", help="colour map of png pictures")
    p.add_argument("--scale-bar", action="store_true", help="draw a scale bar into png pictures")
    p.add_argument(
        "--colour-bar", action="store_true", help="add a colour bar (value range and unit) to png pictures"
    )
    p.set_defaults(func=run)
