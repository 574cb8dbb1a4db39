"""``stmdenoise info FILE...``: what a scan file holds (channels, geometry, bias, setpoint, NaN share)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from stmdenoise.cli.outputs import error_line, expand_inputs, run_batch
from stmdenoise.io import detect_format, list_channels, read_grid, read_scan, read_spectrum

__all__ = ["add_parser", "describe_file", "error_line", "run"]


def _si(value: float | None, unit: str) -> str:
    """``3.5e-09, "m"`` -> ``"3.5 nm"``."""
    if value is None:
        return "-"
    if value == 0:
        return f"0 {unit}"
    for factor, prefix in ((1e-15, "f"), (1e-12, "p"), (1e-9, "n"), (1e-6, "\u00b5"), (1e-3, "m"), (1.0, "")):
        if abs(value) < factor * 1000:
            return f"{value / factor:.4g} {prefix}{unit}"
    return f"{value:.4g} {unit}"


def describe_file(path: Path) -> dict[str, Any]:
    """A JSON-serialisable summary of ``path`` (raises ScanFormatError / OSError for bad files)."""
    fmt = detect_format(path)
    out: dict[str, Any] = {"file": str(path), "format": fmt}
    if fmt == "spectrum":
        sp = read_spectrum(path)
        out.update(
            kind="spectrum",
            points=int(sp.data.shape[0]),
            columns=list(sp.columns),
            bias_V=_float(sp.header.get("Bias>Bias (V)")),
        )
        return out
    channels = list_channels(path)
    first = read_scan(path)
    out.update(
        kind="grid" if fmt == "grid" else "image",
        channels=[
            {"name": c.name, "unit": c.unit, "directions": list(c.directions), "maps": c.points}
            for c in channels
        ],
        pixels={"rows": first.shape[0], "cols": first.shape[1]},
        size_m=None if first.size is None else {"height": first.size[0], "width": first.size[1]},
        pixel_size_m=(
            None if first.pixel_size is None else {"dy": first.pixel_size[0], "dx": first.pixel_size[1]}
        ),
        bias_V=first.bias,
        setpoint_A=first.setpoint,
        scan_direction=first.scan_direction,
        angle_deg=first.angle,
        offset_m={"y": first.offset[0], "x": first.offset[1]},
        acquired=first.acquired.isoformat() if first.acquired else None,
        nan_fraction=first.nan_fraction,
        nan_fraction_channel=first.channel,
    )
    if fmt == "grid":
        grid = read_grid(path)
        out["sweep"] = {"label": grid.sweep_label, "points": int(grid.sweep.size),
                        "start": float(grid.sweep[0]), "end": float(grid.sweep[-1])}  # fmt: skip
    return out


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def _text(d: dict[str, Any]) -> str:
    lines = [f"{d['file']}  ({d['format']})"]
    if d["kind"] == "spectrum":
        lines.append(f"  spectrum: {d['points']} points, bias {_si(d['bias_V'], 'V')}")
        lines.append("  columns: " + ", ".join(d["columns"]))
        return "\n".join(lines)
    for c in d["channels"]:
        extra = f", {c['maps']} maps" if c["maps"] > 1 else ""
        lines.append(f"  channel {c['name']:<16} [{c['unit'] or '-'}] {'/'.join(c['directions'])}{extra}")
    px, size, pixel = d["pixels"], d["size_m"], d["pixel_size_m"]
    field = (
        "no pixel size (uncalibrated)"
        if size is None
        else f"size {_si(size['width'], 'm')} x {_si(size['height'], 'm')}, "
        f"pixel {_si(pixel['dx'], 'm')} x {_si(pixel['dy'], 'm')}"
    )
    lines.append(f"  pixels {px['cols']} x {px['rows']} (cols x rows), {field}")
    lines.append(
        f"  bias {_si(d['bias_V'], 'V')}, setpoint {_si(d['setpoint_A'], 'A')}, "
        f"scan direction {d['scan_direction'] or '-'}, angle {d['angle_deg']:g} deg"
    )
    if d.get("acquired"):
        lines.append(f"  acquired {d['acquired']}")
    if "sweep" in d:
        sw = d["sweep"]
        lines.append(f"  sweep {sw['label']}: {sw['points']} points from {sw['start']:g} to {sw['end']:g}")
    lines.append(f"  NaN fraction ({d['nan_fraction_channel']}): {d['nan_fraction']:.1%}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Describe each file (folders expanded); report bad files on stderr and go on. Exit 1 if any failed."""
    files, problems = expand_inputs(args.files)
    results = []

    def work(path: Path, _written: list[Path]) -> None:
        d = describe_file(path)
        results.append(d)
        if not args.json:
            print(_text(d))

    failed = run_batch("info", files, problems, work)
    if args.json:
        print(json.dumps(results, indent=2))
    return 1 if failed else 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``info``."""
    p = sub.add_parser(
        "info",
        help="show channels, size, pixels, bias, setpoint, direction and NaN fraction of scan files",
        description="Show what each scan file holds. Unreadable files are reported and skipped (exit 1).",
    )
    p.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="scan files (.sxm, .3ds, .dat, .png, .tif, .h5, .npy) or folders (searched recursively)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON list instead of text")
    p.set_defaults(func=run)
