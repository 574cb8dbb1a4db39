"""Plain images: PNG (colour-mapped or calibrated 16-bit), float32 TIFF and ``.npy``.

Calibration travels inside the file as JSON: the PNG text chunk ``stmdenoise`` and the TIFF
``ImageDescription``. The JSON holds ``channel``, ``unit``, ``pixel_size`` (dy, dx in metres),
``direction``, ``bias``, ``setpoint`` and, for 16-bit PNG, the value range
(``vmin``, ``vmax``) with code 0 meaning NaN. Foreign images (8/16-bit PNG/TIFF, float
TIFF, RGB converted to luminance) read as unitless scans without a pixel size
(``pixel_size`` None, stored as JSON ``null``).
"""

from __future__ import annotations

import json
import math
import struct
import tokenize
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import tifffile
from numpy.typing import NDArray
from PIL import Image, PngImagePlugin

from stmdenoise.io._common import MAX_PIXELS, file_size
from stmdenoise.io.errors import ScanFormatError
from stmdenoise.io.render import COLORMAPS, colorize, nice_scale_bar, render_scan
from stmdenoise.scan import ProcessingStep, Scan

__all__ = [
    "COLORMAPS",
    "colorize",
    "render_png",
    "write_png16",
    "write_tiff",
    "write_npy",
    "read_png",
    "read_tiff",
    "read_npy",
    "read_picture",
    "nice_scale_bar",
]

META_KEY = "stmdenoise"

# What PIL / tifffile / numpy raise on damaged files (tifffile even raises IndexError);
# at this package edge they all become ScanFormatError.
_LIBRARY_ERRORS: tuple[type[BaseException], ...] = (
    OSError, ValueError, IndexError, KeyError, EOFError, SyntaxError, TypeError,
    struct.error, zlib.error, tifffile.TiffFileError,
    tokenize.TokenError,  # numpy parses a .npy header dict with the tokenizer
)  # fmt: skip

_PNG_ERRORS: tuple[type[BaseException], ...] = (*_LIBRARY_ERRORS, Image.DecompressionBombError)


def _meta(scan: Scan, **extra: Any) -> dict[str, Any]:
    return {
        "channel": scan.channel,
        "unit": scan.unit,
        "pixel_size": None if scan.pixel_size is None else list(scan.pixel_size),
        "direction": scan.direction,
        "scan_direction": scan.scan_direction,
        "bias": scan.bias,
        "setpoint": scan.setpoint,
        "angle": scan.angle,
        "offset": list(scan.offset),
        # provenance: every processing step, the do-no-harm verdict of a denoised scan included
        "steps": [st.to_dict() for st in scan.steps],
        **extra,
    }


def render_png(
    scan: Scan,
    path: Path,
    *,
    colormap: str = "afmhot",
    scale_bar: bool = False,
    colour_bar: bool = False,
    vmin: float | None = None,
    vmax: float | None = None,
) -> None:
    """Write ``scan`` as an 8-bit RGB PNG (see :func:`stmdenoise.io.render.render_scan`).

    The picture has the scan's physical aspect (square pixels), optionally a scale bar and a
    colour bar. The display range and the picture's geometry go into the ``stmdenoise`` text
    chunk; the pixel values are a picture, not data (use 16-bit PNG, TIFF or HDF5 to keep values).
    """
    pic = render_scan(
        scan, colormap=colormap, vmin=vmin, vmax=vmax, scale_bar=scale_bar, colour_bar=colour_bar
    )
    meta = _meta(
        scan, kind="colormapped", colormap=colormap, vmin=pic.vmin, vmax=pic.vmax,
        scan_pixel_size=None if scan.pixel_size is None else list(scan.pixel_size),
        image_box=list(pic.image_box),
    )  # fmt: skip
    # of the picture, square
    meta["pixel_size"] = None if pic.pixel_size is None else [pic.pixel_size, pic.pixel_size]
    info = PngImagePlugin.PngInfo()
    info.add_text(META_KEY, json.dumps(meta))
    Image.fromarray(pic.rgb, mode="RGB").save(path, format="PNG", pnginfo=info)


def write_png16(scan: Scan, path: Path) -> None:
    """Write ``scan`` as a 16-bit greyscale PNG that our reader maps back to physical values.

    Finite values map linearly from ``[vmin, vmax]`` (their full range) to codes 1..65535;
    code 0 marks NaN. Reading back is exact up to half a code: ``(vmax - vmin) / 65534 / 2``.
    """
    data = scan.data
    finite = np.isfinite(data)
    if finite.any():
        lo, hi = float(data[finite].min()), float(data[finite].max())
    else:
        lo, hi = 0.0, 1.0
    span = hi - lo if hi > lo else 1.0
    codes = np.zeros(data.shape, dtype=np.uint16)
    codes[finite] = np.round((data[finite] - lo) / span * 65534 + 1).astype(np.uint16)
    info = PngImagePlugin.PngInfo()
    info.add_text(META_KEY, json.dumps(_meta(scan, kind="calibrated16", vmin=lo, vmax=lo + span, nan_code=0)))
    Image.fromarray(codes).save(path, format="PNG", pnginfo=info)


def write_tiff(scan: Scan, path: Path) -> None:
    """Write ``scan`` as a float32 TIFF (NaN kept) with calibration JSON in ``ImageDescription``."""
    desc = json.dumps({META_KEY: _meta(scan, kind="float32")})
    tifffile.imwrite(path, scan.data.astype(np.float32), description=desc, metadata=None)


def write_npy(scan: Scan, path: Path) -> None:
    """Write the data alone (float64, NaN kept) as ``.npy``; no calibration is stored."""
    with open(path, "wb") as fh:
        np.save(fh, np.asarray(scan.data, dtype=np.float64), allow_pickle=False)


def _stored_pixel_size(value: Any) -> tuple[float, float] | None:
    """The calibration JSON's ``pixel_size``: null (or the [1, 1] that files written before
    uncalibrated scans had ``pixel_size`` None used to say the same) means none."""
    if value is None:
        return None
    dy, dx = (float(v) for v in value)
    return None if (dy, dx) == (1.0, 1.0) else (dy, dx)


def _scan_from(data: NDArray[Any], meta: dict[str, Any] | None, path: Path) -> Scan:
    if meta is None:
        return Scan(data=data, channel=path.stem, unit="", source=path)
    try:
        return Scan(
            data=data,
            pixel_size=_stored_pixel_size(meta.get("pixel_size")),
            channel=str(meta.get("channel", "")),
            unit=str(meta.get("unit", "")),
            direction=meta.get("direction", "forward"),
            scan_direction=meta.get("scan_direction"),
            bias=meta.get("bias"),
            setpoint=meta.get("setpoint"),
            angle=float(meta.get("angle", 0.0)),
            offset=tuple(meta.get("offset", (0.0, 0.0))),
            header={META_KEY: json.dumps(meta)},
            source=path,
            steps=tuple(
                ProcessingStep(str(st["name"]), dict(st.get("params", {}))) for st in meta.get("steps", [])
            ),
        )
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise ScanFormatError(
            path, f"expected valid stmdenoise calibration metadata, found {meta!r} ({exc})"
        ) from None


def _gray(arr: NDArray[Any], path: Path) -> NDArray[np.float64]:
    if arr.dtype.kind not in "buif":  # complex, object, strings: not an image of values
        raise ScanFormatError(path, f"expected integer or real pixel values, found {arr.dtype}")
    with np.errstate(invalid="ignore", over="ignore"):  # a damaged float file: NaN/inf stay as read
        if arr.ndim == 3 and arr.shape[2] in (3, 4):
            rgb = arr[..., :3].astype(np.float64)
            return np.asarray(rgb @ np.array([0.299, 0.587, 0.114]))
        if arr.ndim == 3 and arr.shape[2] == 2:  # grey + alpha
            return arr[..., 0].astype(np.float64)
        if arr.ndim != 2:
            raise ScanFormatError(path, f"expected a 2-D greyscale or RGB image, found shape {arr.shape}")
        return arr.astype(np.float64)


def _check_image_size(path: Path, shape: tuple[int, ...], kind: str) -> None:
    """Refuse an image whose declared size exceeds :data:`MAX_PIXELS` before decoding it."""
    pixels = math.prod(int(n) for n in shape[:2]) if len(shape) >= 2 else 0
    samples = math.prod(int(n) for n in shape)
    if pixels > MAX_PIXELS or samples > 4 * MAX_PIXELS:
        raise ScanFormatError(
            path, f"{kind} declares {' x '.join(str(n) for n in shape)} values, more than this reader "
            f"accepts ({MAX_PIXELS} pixels)",
        )  # fmt: skip


def read_png(path: Path) -> Scan:
    """Read a PNG: ours (calibrated 16-bit -> physical values) or any 8/16-bit/RGB image (unitless)."""
    try:
        with Image.open(path) as img:
            _check_image_size(path, (img.size[1], img.size[0]), "PNG header")
            img.load()
            text = dict(getattr(img, "text", {}) or {})
            arr = np.asarray(img)
    except ScanFormatError:
        raise
    except _PNG_ERRORS as exc:
        raise ScanFormatError(
            path, f"expected a readable PNG image, found an unreadable one ({exc})"
        ) from None
    meta = None
    if META_KEY in text:
        try:
            meta = json.loads(text[META_KEY])
        except json.JSONDecodeError:
            meta = None
    if meta is not None and meta.get("kind") == "calibrated16" and arr.ndim == 2:
        codes = arr.astype(np.float64)
        lo, hi = float(meta["vmin"]), float(meta["vmax"])
        data = lo + (codes - 1) / 65534 * (hi - lo)
        data[arr == int(meta.get("nan_code", 0))] = np.nan
        return _scan_from(data, meta, path)
    data = _gray(arr, path)
    if meta is not None:  # a colour-mapped picture of ours: keep the geometry, values are not data
        meta = {**meta, "unit": ""}
    return _scan_from(data, meta, path)


def read_picture(path: Path) -> Scan:
    """Read a JPEG, BMP or GIF picture as a unitless grey-level scan (luminance, ITU-R 601).

    Such files carry no pixel size; see :func:`stmdenoise.io.read_plain_image` to give one.
    """
    try:
        with Image.open(path) as img:
            _check_image_size(path, (img.size[1], img.size[0]), f"{img.format or 'picture'} header")
            grey = np.asarray(img.convert("F"), dtype=np.float64)
    except ScanFormatError:
        raise
    except _PNG_ERRORS as exc:
        raise ScanFormatError(
            path, f"expected a readable JPEG/BMP/GIF picture, found an unreadable one ({exc})"
        ) from None
    return Scan(data=grey, channel=path.stem, unit="", source=path)


def read_tiff(path: Path) -> Scan:
    """Read a TIFF: ours (float32 with calibration) or any 8/16-bit/float image (unitless)."""
    try:
        with tifffile.TiffFile(path) as tif:
            page = tif.pages[0]
            desc = getattr(page, "description", "") or ""
            _check_image_size(path, tuple(page.shape), "TIFF page")
            arr = page.asarray()
    except ScanFormatError:
        raise
    except _LIBRARY_ERRORS as exc:
        raise ScanFormatError(
            path, f"expected a readable TIFF image, found an unreadable one ({exc})"
        ) from None
    meta = None
    try:
        parsed = json.loads(desc) if desc.startswith("{") else None
        if isinstance(parsed, dict) and isinstance(parsed.get(META_KEY), dict):
            meta = parsed[META_KEY]
    except json.JSONDecodeError:
        meta = None
    arr = np.squeeze(arr)
    return _scan_from(_gray(arr, path), meta, path)


def read_npy(path: Path) -> Scan:
    """Read a 2-D numeric ``.npy`` array as a unitless scan (pickles are refused).

    The header's shape and type are checked against the file length before any data is read.
    """
    try:
        with open(path, "rb") as fh:
            version = np.lib.format.read_magic(fh)
            read_header = (
                np.lib.format.read_array_header_1_0
                if version == (1, 0)
                else np.lib.format.read_array_header_2_0
            )
            shape, _fortran, dtype = read_header(fh)
            data_start = fh.tell()
        if len(shape) != 2 or dtype.hasobject or not np.issubdtype(dtype, np.number):
            raise ScanFormatError(path, f"expected a 2-D numeric array, found {dtype} {shape}")
        _check_image_size(path, shape, ".npy header")
        needed = math.prod(shape) * dtype.itemsize
        if file_size(path) - data_start != needed:
            raise ScanFormatError(
                path, f"header ({dtype} {shape}) needs {needed} bytes of data, the file holds "
                f"{file_size(path) - data_start}",
            )  # fmt: skip
        arr = np.load(path, allow_pickle=False)
    except ScanFormatError:
        raise
    except _LIBRARY_ERRORS as exc:
        raise ScanFormatError(
            path, f"expected a numeric .npy array, found an unreadable file ({exc})"
        ) from None
    if arr.ndim != 2 or not np.issubdtype(arr.dtype, np.number) or min(arr.shape) < 1:
        raise ScanFormatError(path, f"expected a non-empty 2-D numeric array, found {arr.dtype} {arr.shape}")
    return Scan(data=arr.astype(np.float64), channel=path.stem, source=path)
