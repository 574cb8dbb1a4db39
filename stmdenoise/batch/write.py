"""The files written for one scan of a batch: the app's picture, float32 TIFF, HDF5 and ``.sxm``.

Every file is written atomically (:func:`stmdenoise.io.atomic_write`), never over an input.
The picture is drawn by the renderer the PNG export uses (:func:`stmdenoise.io.render.render_scan`)
with the app's view settings: raw and denoised share the raw frame's display range, the
difference raw - denoised has a symmetric range and the app's diverging map.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont, PngImagePlugin

from stmdenoise.io import atomic_write, write_scan, write_sxm
from stmdenoise.io.hdf5 import write_h5
from stmdenoise.io.render import DIFFERENCE_COLORMAP, Picture, render_scan
from stmdenoise.scan import Scan

__all__ = ["compose_picture", "write_picture", "write_h5_pair", "write_tiff", "write_sxm_with_denoised"]

_GAP = 12
_TITLE_PT = 16


def _symmetric_range(diff: np.ndarray, pct: float = 99.5) -> tuple[float, float]:
    finite = np.abs(diff[np.isfinite(diff)])
    m = float(np.percentile(finite, pct)) if finite.size else 0.0
    if not m > 0:
        m = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    return -m, m


def compose_picture(
    raw: Scan,
    denoised: Scan,
    *,
    colormap: str,
    scale_bar: bool,
    colour_bar: bool,
    panels: str = "all",
    titles: Sequence[str] = ("Raw", "Denoised", "Raw - denoised (removed)"),
) -> np.ndarray:
    """RGB picture of ``raw | denoised | raw - denoised`` (``panels="all"``) or of ``denoised`` alone.

    Returns
    -------
    ndarray of uint8, shape (rows, cols, 3)
    """
    if panels not in ("all", "denoised"):
        raise ValueError(f"panels must be 'all' or 'denoised', got {panels!r}")
    first = render_scan(raw, colormap=colormap, scale_bar=scale_bar, colour_bar=colour_bar)
    den = render_scan(
        denoised,
        colormap=colormap,
        vmin=first.vmin,
        vmax=first.vmax,
        scale_bar=scale_bar,
        colour_bar=colour_bar,
    )
    pics: list[tuple[str, Picture]]
    if panels == "denoised":
        pics = [(titles[1], den)]
    else:
        diff = np.asarray(raw.data, dtype=np.float64) - np.asarray(denoised.data, dtype=np.float64)
        lo, hi = _symmetric_range(diff)
        removed = render_scan(
            raw.with_data(diff), colormap=DIFFERENCE_COLORMAP, vmin=lo, vmax=hi,
            scale_bar=scale_bar, colour_bar=colour_bar,
        )  # fmt: skip
        pics = [(titles[0], first), (titles[1], den), (titles[2], removed)]
    font = ImageFont.load_default(size=_TITLE_PT)
    title_h = _TITLE_PT + 10
    height = max(p.rgb.shape[0] for _, p in pics) + title_h
    width = sum(p.rgb.shape[1] for _, p in pics) + _GAP * (len(pics) - 1)
    canvas = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    x = 0
    for title, pic in pics:
        canvas.paste(Image.fromarray(pic.rgb), (x, title_h))
        draw.text((x + 2, 4), title, font=font, fill=(0, 0, 0))
        x += pic.rgb.shape[1] + _GAP
    return np.asarray(canvas)


def write_picture(
    dest: Path,
    raw: Scan,
    denoised: Scan,
    *,
    colormap: str,
    scale_bar: bool,
    colour_bar: bool,
    panels: str,
    provenance: Mapping[str, Any],
    inputs: Iterable[Path],
    denoised_title: str = "Denoised",
) -> Path:
    """Write :func:`compose_picture` as a PNG; the provenance goes into its ``stmdenoise`` text chunk."""
    rgb = compose_picture(
        raw, denoised, colormap=colormap, scale_bar=scale_bar, colour_bar=colour_bar, panels=panels,
        titles=("Raw", denoised_title, "Raw - denoised (removed)"),
    )  # fmt: skip
    info = PngImagePlugin.PngInfo()
    info.add_text(
        "stmdenoise", json.dumps({"kind": "batch-picture", "panels": panels, **provenance}, default=str)
    )

    def _write(tmp: Path) -> None:
        Image.fromarray(rgb, mode="RGB").save(tmp, format="PNG", pnginfo=info)

    return atomic_write(dest, _write, inputs=inputs)


def write_tiff(dest: Path, denoised: Scan, *, inputs: Iterable[Path]) -> Path:
    """The denoised frame as float32 TIFF with calibration (the export writer)."""
    return write_scan(denoised, dest, inputs=list(inputs))


def write_h5_pair(
    dest: Path, raw: Scan, denoised: Scan, *, provenance: Mapping[str, Any], inputs: Iterable[Path]
) -> Path:
    """HDF5: the denoised scan in the export layout (``/data``, ``/mask``, metadata, steps), plus ``/raw``.

    ``/raw/data`` and ``/raw/mask`` hold the frame the model was given (after the view's
    corrections, listed in ``/raw`` attribute ``steps``); the root attribute ``provenance`` is the
    JSON of the model (name, SHA-256), program version, options, the steps and the do-no-harm
    verdict. :func:`stmdenoise.io.read_h5` reads the file as the denoised scan.
    """
    import h5py

    def _write(tmp: Path) -> None:
        write_h5(denoised, tmp)
        with h5py.File(tmp, "a") as f:
            g = f.create_group("raw")
            d = g.create_dataset("data", data=raw.data, compression="gzip", compression_opts=4)
            d.attrs["unit"] = raw.unit
            d.attrs["channel"] = raw.channel
            g.create_dataset("mask", data=raw.mask.astype(np.uint8), compression="gzip", compression_opts=4)
            g.attrs["steps"] = json.dumps([s.to_dict() for s in raw.steps], default=str)
            f.attrs["provenance"] = json.dumps(dict(provenance), default=str)

    return atomic_write(dest, _write, inputs=inputs)


def write_sxm_with_denoised(
    dest: Path, originals: Sequence[Scan], denoised: Sequence[Scan], *, inputs: Iterable[Path]
) -> Path:
    """A copy of a Nanonis file with each denoised channel added as ``{channel}_denoised``.

    ``originals`` are every frame of the source file; ``denoised`` the delivered frames (forward,
    optionally with their backward partner per channel).
    """
    taken = {s.channel for s in originals}
    added = []
    for s in denoised:
        name = f"{s.channel}_denoised"
        if name in taken:
            raise ValueError(f"channel {name!r} is already in {dest.name}'s source")
        added.append(s.replace(channel=name))
    return write_sxm(dest, [*originals, *added], header=originals[0].header, inputs=list(inputs))
