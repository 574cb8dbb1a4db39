"""``stmdenoise export FILE... -o DIR --format png,tiff,h5,sxm``: batch conversion of scan files."""

from __future__ import annotations

import argparse
from pathlib import Path

from stmdenoise.cli.outputs import OutputPlan, expand_inputs, run_batch
from stmdenoise.io import ALL_CHANNELS, COLORMAPS, read_all, select_frames, write_scan, write_sxm
from stmdenoise.outputs import safe_name
from stmdenoise.scan import Scan

__all__ = [
    "FORMATS",
    "add_parser",
    "add_frame_arguments",
    "add_output_arguments",
    "export_file",
    "frame_names",
    "parse_formats",
    "run",
    "safe_name",
    "write_frames",
]

#: ``--format`` names and the file extension each writes.
FORMATS: dict[str, str] = {
    "png": ".png",
    "png16": ".16.png",
    "tiff": ".tiff",
    "h5": ".h5",
    "sxm": ".sxm",
    "npy": ".npy",
}


def add_frame_arguments(p: argparse.ArgumentParser, *, channel: str | None) -> None:
    """``--channel`` and ``--direction``: one meaning in ``export`` and ``denoise`` (see select_frames)."""
    default = "the file's first channel" if channel is None else f"{channel!r}"
    p.add_argument(
        "--channel", default=channel, metavar="NAME",
        help=f"channel to take (case-insensitive), or 'all' for every channel (default {default}); "
        "a file without it is reported and skipped",
    )  # fmt: skip
    p.add_argument(
        "--direction", choices=("forward", "backward", "both"), default="forward",
        help="scan direction(s) to take (default forward); a file without that direction is reported "
        "and skipped (a single image is a forward frame)",
    )  # fmt: skip


def frame_names(
    scans: list[Scan], stem: str, formats: list[str], *, suffix: str = ""
) -> list[tuple[str, list[Scan], str]]:
    """``(format, frames, file name)`` of every file :func:`write_frames` writes, in order.

    Per-frame formats are named ``{stem}_{channel}_{direction}{suffix}{ext}``; ``sxm`` writes all
    frames into one ``{stem}{suffix}.sxm``.
    """
    out = []
    for fmt in formats:
        if fmt == "sxm":
            out.append((fmt, scans, f"{stem}{suffix}.sxm"))
            continue
        for s in scans:
            out.append((fmt, [s], f"{stem}_{safe_name(s.channel)}_{s.direction}{suffix}{FORMATS[fmt]}"))
    return out


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
    plan: OutputPlan | None = None,
    written: list[Path] | None = None,
) -> list[Path]:
    """Write ``scans`` (frames read from ``path``) into ``out_dir`` in each format; return the files.

    Names are given by :func:`frame_names` with the stem ``plan`` gives ``path``. Every output
    path is claimed in ``plan`` before the first is written (see :mod:`stmdenoise.cli.outputs`:
    an input, another output of the run or an existing file is refused). ``sxm`` stores
    backward-only frames as its images, since the format needs forward ones. ``written``
    receives each file as soon as it exists, so a caller can list them when a later one fails.
    """
    plan = plan or OutputPlan(out_dir, [path])
    written = [] if written is None else written
    items = frame_names(scans, plan.stem(path), formats, suffix=suffix)
    paths = plan.claim(path, [name for _fmt, _frames, name in items])
    for (fmt, frames, _name), dest in zip(items, paths, strict=True):
        if fmt == "sxm":
            backward_only = all(s.direction == "backward" for s in frames)
            frames = [s.replace(direction="forward") for s in frames] if backward_only else frames
            written.append(write_sxm(dest, frames, inputs=plan.inputs or [path]))
            continue
        written.append(
            write_scan(
                frames[0],
                dest,
                inputs=plan.inputs or [path],
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
    channel: str | None = ALL_CHANNELS,
    direction: str = "forward",
    colormap: str = "afmhot",
    scale_bar: bool = False,
    colour_bar: bool = False,
    plan: OutputPlan | None = None,
    written: list[Path] | None = None,
) -> list[Path]:
    """Write the selected frames of ``path`` into ``out_dir`` in each format; return the files written.

    ``channel`` and ``direction`` pick frames as :func:`stmdenoise.io.select_frames` does.
    Per-frame formats are named ``{stem}_{channel}_{direction}{ext}``; ``sxm`` writes all
    selected frames into one ``{stem}.sxm``. Never overwrites an input, another output of the
    run (``plan``) or, unless the plan allows it, an existing file.
    """
    scans = select_frames(read_all(path), channel=channel, direction=direction)
    return write_frames(
        scans,
        path,
        out_dir,
        formats,
        colormap=colormap,
        scale_bar=scale_bar,
        colour_bar=colour_bar,
        plan=plan,
        written=written,
    )


def parse_formats(text: str) -> list[str]:
    """``--format`` value -> the format names it lists, in order, each once (argparse type)."""
    names = [f.strip().lower() for f in text.split(",") if f.strip()]
    bad = [f for f in names if f not in FORMATS]
    if bad or not names:
        raise argparse.ArgumentTypeError(f"--format must list some of {', '.join(FORMATS)}; got {text!r}")
    return list(dict.fromkeys(names))


def run(args: argparse.Namespace) -> int:
    """Export each file (folders expanded); report bad files on stderr and go on. Exit 1 if any failed."""
    files, problems = expand_inputs(args.files)
    plan = OutputPlan(Path(args.output), files, overwrite=args.overwrite)

    def work(path: Path, written: list[Path]) -> None:
        export_file(
            path,
            plan.out_dir,
            formats=args.format,
            channel=args.channel,
            direction=args.direction,
            colormap=args.colormap,
            scale_bar=args.scale_bar,
            colour_bar=args.colour_bar,
            plan=plan,
            written=written,
        )

    return 1 if run_batch("export", files, problems, work) else 0


def add_output_arguments(p: argparse.ArgumentParser) -> None:
    """``-o/--output`` and ``--overwrite``, shared by ``export`` and ``denoise``."""
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="output folder (created if needed)")
    p.add_argument(
        "--overwrite", action="store_true",
        help="replace existing files in the output folder (never an input file); without it such a "
        "file is refused and reported",
    )  # fmt: skip


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``export``."""
    p = sub.add_parser(
        "export",
        help="convert scan files to PNG / 16-bit PNG / TIFF / HDF5 / .sxm / .npy",
        description=(
            "Convert scan files. png: colour-mapped picture; png16: 16-bit PNG with calibration; "
            "tiff: float32 with calibration; h5: data, mask, metadata and provenance; sxm: Nanonis file "
            "with all selected channels; npy: the data array. Folders are searched recursively for scan "
            "files. Output names are planned before anything is written (see docs/io.md): two inputs "
            "with one name get their extension (then folder) added; an existing file is never replaced "
            "without --overwrite, an input never. Unreadable files are reported and skipped (exit code 1)."
        ),
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="scan files or folders to convert")
    add_output_arguments(p)
    p.add_argument(
        "--format", type=parse_formats, default=["png"], metavar="LIST",
        help=f"comma-separated formats from {', '.join(FORMATS)} (default png)",
    )  # fmt: skip
    add_frame_arguments(p, channel=ALL_CHANNELS)
    p.add_argument("--colormap", choices=COLORMAPS, default="afmhot", help="colour map of png pictures")
    p.add_argument("--scale-bar", action="store_true", help="draw a scale bar into png pictures")
    p.add_argument(
        "--colour-bar", action="store_true", help="add a colour bar (value range and unit) to png pictures"
    )
    p.set_defaults(func=run)
