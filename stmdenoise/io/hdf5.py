"""HDF5 scans: data, mask, every metadata field and the provenance of the processing.

Layout (one scan per file)::

    /data    float64 (rows, cols), SI units, NaN where unmeasured; attrs unit, channel
    /mask    uint8 (rows, cols), 1 where measured
    attrs:   format="stmdenoise-scan", format_version=1, program="stmdenoise", program_version,
             channel, unit, pixel_size (dy, dx m; NaN pair: none), direction, scan_direction, bias (V),
             setpoint (A), angle (deg), offset (y, x m), acquired (ISO 8601), source,
             header (JSON of the full original header), steps (JSON list of
             {"name", "params"}: the processing applied since reading, oldest first)
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import mmap
import os
import struct
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from stmdenoise import __version__
from stmdenoise.io._common import MAX_PIXELS
from stmdenoise.io.errors import ScanFormatError
from stmdenoise.scan import ProcessingStep, Scan

__all__ = ["write_h5", "read_h5", "FORMAT_NAME"]

FORMAT_NAME = "stmdenoise-scan"


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (Path, _dt.datetime)):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def write_h5(scan: Scan, path: Path) -> None:
    """Write ``scan`` with its mask, metadata and provenance to an HDF5 file (see module doc)."""
    with h5py.File(path, "w") as f:
        d = f.create_dataset("data", data=scan.data, compression="gzip", compression_opts=4)
        d.attrs["unit"] = scan.unit
        d.attrs["channel"] = scan.channel
        f.create_dataset("mask", data=scan.mask.astype(np.uint8), compression="gzip", compression_opts=4)
        a = f.attrs
        a["format"] = FORMAT_NAME
        a["format_version"] = 1
        a["program"] = "stmdenoise"
        a["program_version"] = __version__
        a["written"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
        a["channel"] = scan.channel
        a["unit"] = scan.unit
        # NaN pair: no pixel size (the file format has no null)
        a["pixel_size"] = np.asarray(scan.pixel_size or (np.nan, np.nan), dtype=np.float64)
        a["direction"] = scan.direction
        a["scan_direction"] = scan.scan_direction or ""
        a["bias"] = np.nan if scan.bias is None else scan.bias
        a["setpoint"] = np.nan if scan.setpoint is None else scan.setpoint
        a["angle"] = scan.angle
        a["offset"] = np.asarray(scan.offset, dtype=np.float64)
        a["acquired"] = scan.acquired.isoformat() if scan.acquired else ""
        a["source"] = str(scan.source) if scan.source else ""
        a["header"] = json.dumps(dict(scan.header), default=_json_default)
        a["steps"] = json.dumps([s.to_dict() for s in scan.steps], default=_json_default)


def _opt(value: Any) -> float | None:
    v = float(value)
    return None if np.isnan(v) else v


def _check_global_heaps(path: Path) -> None:
    """Walk every global heap collection (``GCOL``) of the file; raise ScanFormatError when one is broken.

    Variable-length strings (every text attribute) live in these collections; libhdf5 loops
    for ever on a collection whose object sizes do not add up (seen with a single flipped byte),
    and a loop inside the C library cannot be interrupted. So the collections are checked here,
    by the layout of the HDF5 specification (version 1; 8-byte lengths), before h5py reads them.
    """
    size = os.path.getsize(path)
    if size == 0:
        raise ScanFormatError(path, "expected an HDF5 file, found an empty one")
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as raw:
        pos = raw.find(b"GCOL")
        while pos >= 0:
            if raw[pos + 4 : pos + 8] == b"\x01\x00\x00\x00" and pos + 16 <= size:
                (total,) = struct.unpack_from("<Q", raw, pos + 8)
                end = pos + total
                if total < 16 or end > size:
                    raise ScanFormatError(
                        path, f"global heap at byte {pos} claims {total} bytes past the file end"
                    )
                obj = pos + 16
                while obj + 16 <= end:
                    index, _refs, _res, length = struct.unpack_from("<HHIQ", raw, obj)
                    if index == 0:  # free space: exactly the rest of the collection
                        if length != end - obj:
                            raise ScanFormatError(
                                path, f"global heap at byte {pos}: free space of {length} bytes, "
                                f"expected {end - obj}",
                            )  # fmt: skip
                        break
                    step = 16 + ((length + 7) // 8) * 8
                    if length > total or obj + step > end:
                        raise ScanFormatError(
                            path, f"global heap at byte {pos}: object {index} of {length} bytes overruns it"
                        )
                    obj += step
            pos = raw.find(b"GCOL", pos + 4)


def _pixel_size(value: Any) -> tuple[float, float] | None:
    if value is None:
        return None
    dy, dx = (float(v) for v in np.asarray(value, dtype=np.float64).ravel()[:2])
    return (dy, dx) if math.isfinite(dy) and math.isfinite(dx) else None


def read_h5(path: Path) -> Scan:
    """Read a scan written by :func:`write_h5` (with its processing steps)."""
    _check_global_heaps(path)
    try:
        with h5py.File(path, "r") as f:
            if f.attrs.get("format") != FORMAT_NAME or "data" not in f:
                raise ScanFormatError(
                    path,
                    f"expected an HDF5 file with format={FORMAT_NAME!r} and a /data dataset, found neither",
                )
            a = dict(f.attrs)
            dset = f["data"]
            if not isinstance(dset, h5py.Dataset) or len(dset.shape) != 2 or dset.size > MAX_PIXELS:
                raise ScanFormatError(
                    path, f"expected /data of at most {MAX_PIXELS} pixels in 2-D, found "
                    f"{getattr(dset, 'shape', type(dset).__name__)}",
                )  # fmt: skip
            data = np.asarray(dset[()], dtype=np.float64)
    except ScanFormatError:
        raise
    except (OSError, KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise ScanFormatError(
            path, f"expected a readable HDF5 file, found an unreadable one ({exc})"
        ) from None
    try:
        steps = tuple(
            ProcessingStep(s["name"], s.get("params", {})) for s in json.loads(str(a.get("steps", "[]")))
        )
        acquired = _dt.datetime.fromisoformat(str(a["acquired"])) if a.get("acquired") else None
        return Scan(
            data=data,
            pixel_size=_pixel_size(a.get("pixel_size")),
            channel=str(a.get("channel", "")),
            unit=str(a.get("unit", "")),
            direction=str(a.get("direction", "forward")),  # type: ignore[arg-type]
            scan_direction=(str(a.get("scan_direction")) or None),  # type: ignore[arg-type]
            bias=_opt(a.get("bias", np.nan)),
            setpoint=_opt(a.get("setpoint", np.nan)),
            angle=float(a.get("angle", 0.0)),
            offset=tuple(float(v) for v in a.get("offset", (0.0, 0.0))),  # type: ignore[arg-type]
            acquired=acquired,
            header=json.loads(str(a.get("header", "{}"))),
            source=path,
            steps=steps,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ScanFormatError(
            path, f"expected complete stmdenoise scan attributes, found a broken set ({exc})"
        ) from None
