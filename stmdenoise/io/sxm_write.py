"""Nanonis ``.sxm`` writing: whole files from Scans, and a channel added to an existing file.

The file layout and orientation are described in :mod:`stmdenoise.io.sxm` (the reader); the
writer stores display-oriented frames back in acquisition order and round-trips every header
line it does not own byte for byte.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from stmdenoise.io._common import (
    PathLike,
    atomic_write,
    check_float32,
)
from stmdenoise.io.feedback import feedback_on
from stmdenoise.io.sxm import (
    _DATA_INFO_COLUMNS,
    _DTYPES,
    _DUP_KEY,
    _MARKER,
    _pair,
    _scan_direction,
    is_sxm_header,
    read_sxm_all,
)
from stmdenoise.scan import Scan

__all__ = ["add_channel_to_sxm", "write_sxm"]


def _fmt_pair(a: float, b: float) -> str:
    return f"{a:.6E} {b:.6E}"


def _field_size(scan: Scan, path: Path) -> tuple[float, float]:
    """``(height, width)`` in metres; .sxm has no way to say "uncalibrated" (SCAN_RANGE is required)."""
    if scan.size is None:
        raise ValueError(
            f"{path.name}: {scan.channel or 'the scan'} carries no pixel size and a .sxm file needs one "
            "(its SCAN_RANGE); give the scan a pixel size or write TIFF, HDF5 or .npy"
        )
    return scan.size


def _scratch_header(
    first: Scan, channels_text: str, comment: str, size: tuple[float, float]
) -> dict[str, str]:
    rows, cols = first.shape
    h, w = size
    acq = first.acquired or _dt.datetime.now().replace(microsecond=0)
    z_table = "\tName\ton\tSetpoint\tP-gain\tI-gain\tT-const"
    if first.setpoint is not None:
        # the feedback state as the source file said (a constant-height scan stays one); a
        # setpoint of unknown origin is written as a running current feedback, as before
        on = "0" if feedback_on(first) is False else "1"
        z_table += f"\n\tlog Current\t{on}\t{first.setpoint:.3E} A\t0.000E+0 m\t0.000E+0 m/s\t0.000E+0 s"
    return {
        "NANONIS_VERSION": "2",
        "SCANIT_TYPE": "              FLOAT            MSBFIRST",
        "REC_DATE": acq.strftime(" %d.%m.%Y"),
        "REC_TIME": acq.strftime("%H:%M:%S"),
        "SCAN_PIXELS": f"{cols} {rows}",
        "SCAN_FILE": "",
        "SCAN_RANGE": _fmt_pair(w, h),
        "SCAN_OFFSET": _fmt_pair(first.offset[1], first.offset[0]),
        "SCAN_ANGLE": f"{first.angle:.3E}",
        "SCAN_DIR": first.scan_direction or "down",
        "BIAS": f"{first.bias if first.bias is not None else 0.0:.6E}",
        "Z-CONTROLLER": z_table,
        "COMMENT": comment,
        "DATA_INFO": channels_text,
    }


def _group(scans: Sequence[Scan]) -> list[tuple[str, str, Scan, Scan | None]]:
    """Group scans into (name, unit, forward, backward-or-None), in order of first appearance."""
    order: list[str] = []
    by_name: dict[str, dict[str, Scan]] = {}
    for s in scans:
        name = s.channel or "Image"
        if name not in by_name:
            order.append(name)
            by_name[name] = {}
        if s.direction in by_name[name]:
            raise ValueError(f"scans holds two {s.direction} frames of channel {name!r}")
        by_name[name][s.direction] = s
    groups = []
    for name in order:
        d = by_name[name]
        fwd, bwd = d.get("forward"), d.get("backward")
        if fwd is None:
            raise ValueError(f"scans holds a backward frame of channel {name!r} but no forward frame")
        groups.append((name, fwd.unit, fwd, bwd))
    return groups


def write_sxm(
    path: PathLike,
    scans: Sequence[Scan],
    *,
    header: Mapping[str, str] | None = None,
    comment: str = "",
    inputs: Iterable[PathLike | None] = (),
) -> Path:
    """Write scans as channels of one complete Nanonis ``.sxm`` file (atomically).

    Parameters
    ----------
    path : str or Path
        Destination ``.sxm`` file.
    scans : sequence of Scan
        Frames to store, all of one shape. Frames with the same ``channel`` form one channel;
        a channel with a forward and a backward frame is written as ``both``, one with a
        forward frame only as ``forward``. Data are display-oriented (as every reader returns
        them); the writer stores them in acquisition order for ``scan_direction`` of the
        first scan (``"down"`` when None) and mirrors backward frames back.
    header : mapping of str to str, optional
        Header to start from (``{tag: raw value}`` as in :attr:`Scan.header` of a scan read
        from an ``.sxm``). Default: the first scan's header when it came from an ``.sxm``,
        otherwise a complete header built from the scan's geometry, bias, setpoint, angle,
        offset and time. ``SCAN_PIXELS``, ``SCAN_RANGE``, ``SCAN_DIR`` and ``DATA_INFO`` are
        rewritten when they disagree with ``scans``; every other entry is kept verbatim.
    comment : str
        ``COMMENT`` of a header built from scratch.
    inputs : iterable of path
        Files that must not be overwritten; the scans' ``source`` files are added.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    OverwriteInputError
        ``path`` is one of the inputs.
    ValueError
        ``scans`` empty, of mixed shapes, with duplicate frames, or without a pixel size.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> from stmdenoise.scan import Scan
    >>> from stmdenoise.io.sxm import read_sxm
    >>> z = Scan(np.zeros((4, 6)), pixel_size=(1e-9, 1e-9), channel="Z", unit="m", bias=0.1)
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "sim.sxm"
    >>> _ = write_sxm(out, [z])
    >>> read_sxm(out).shape
    (4, 6)
    """
    scans = list(scans)
    if not scans:
        raise ValueError("scans must hold at least one Scan, got none")
    shapes = {s.shape for s in scans}
    if len(shapes) != 1:
        raise ValueError(f"scans must all have one shape, got {sorted(shapes)}")
    first = scans[0]
    rows, cols = first.shape
    h, w = _field_size(first, Path(path))  # refused before any work when there is no pixel size
    for frame in scans:
        check_float32(Path(path).name, frame.data)
    groups = _group(scans)
    base = (
        dict(header) if header is not None else (dict(first.header) if is_sxm_header(first.header) else None)
    )

    # DATA_INFO: keep the original row of a channel whose direction set is unchanged.
    old_rows: dict[str, str] = {}
    head_line = "\t" + "\t".join(_DATA_INFO_COLUMNS)
    numbers: list[int] = []
    if base is not None and "DATA_INFO" in base:
        lines = [ln for ln in base["DATA_INFO"].split("\n") if ln.strip()]
        if lines:
            head_line = lines[0]
        for ln in lines[1:]:
            cells = ln.strip("\t").split("\t")
            if len(cells) >= 4:
                old_rows[cells[1].strip()] = ln
                try:
                    numbers.append(int(cells[0]))
                except ValueError:
                    pass
    next_number = max(numbers, default=-1) + 1
    info_lines = [head_line]
    for name, unit, _fwd, bwd in groups:
        want = "both" if bwd is not None else "forward"
        old = old_rows.get(name)
        if old is not None:
            cells = old.strip("\t").split("\t")
            if cells[3].strip().lower() == want and cells[2].strip() == unit:
                info_lines.append(old)
                continue
        info_lines.append(f"\t{next_number}\t{name}\t{unit}\t{want}\t1.000E+0\t0.000E+0")
        next_number += 1
    data_info = "\n".join(info_lines) + "\n"

    if base is None:
        hdr = _scratch_header(first, data_info, comment, (h, w))
    else:
        hdr = base
        hdr["DATA_INFO"] = data_info
        pix = hdr.get("SCAN_PIXELS", "").split()
        if pix != [str(cols), str(rows)]:
            hdr["SCAN_PIXELS"] = f"       {cols}       {rows}"
        rng = _pair(hdr, "SCAN_RANGE")
        if rng is None or not np.allclose(rng, (w, h), rtol=1e-6, atol=0):
            hdr["SCAN_RANGE"] = "           " + _fmt_pair(w, h).replace(" ", "           ")
        want_dir = first.scan_direction or "down"
        if _scan_direction(hdr) != want_dir or "SCAN_DIR" not in hdr:
            hdr["SCAN_DIR"] = want_dir
        hdr.setdefault("SCANIT_TYPE", "              FLOAT            MSBFIRST")
    scan_dir = _scan_direction(hdr)
    kind = tuple(hdr["SCANIT_TYPE"].split())
    dtype = _DTYPES.get(kind, ">f4")

    frames = []
    for _name, _unit, fwd, bwd in groups:
        for s, backward in ((fwd, False), (bwd, True)):
            if s is None:
                continue
            d = s.data
            if backward:
                d = d[:, ::-1]
            if scan_dir == "up":
                d = d[::-1, :]
            frames.append(np.ascontiguousarray(d, dtype=dtype))
    text = "".join(f":{_DUP_KEY.sub('', k)}:\n{v}\n" for k, v in hdr.items()) + ":SCANIT_END:\n\n\n"
    payload = text.encode("latin-1", errors="replace") + _MARKER + b"".join(f.tobytes() for f in frames)

    def _write(tmp: Path) -> None:
        tmp.write_bytes(payload)

    return atomic_write(path, _write, inputs=[*inputs, *(s.source for s in scans)])


def add_channel_to_sxm(
    src: PathLike,
    dst: PathLike,
    scan: Scan | Sequence[Scan],
    *,
    name: str = "Z_denoised",
) -> Path:
    """Copy ``src`` to ``dst`` with one more channel (e.g. a denoised Z) beside the originals.

    Parameters
    ----------
    src : str or Path
        The original ``.sxm`` file (never modified).
    dst : str or Path
        Destination; must differ from ``src``.
    scan : Scan or sequence of Scan
        The new channel's forward frame (and optionally its backward frame), display-oriented,
        of the same shape as ``src``.
    name : str
        Name of the new channel; must not clash with an existing one.

    Returns
    -------
    Path
        The written file.
    """
    originals = read_sxm_all(src)
    new = [scan] if isinstance(scan, Scan) else list(scan)
    if name in {s.channel for s in originals}:
        raise ValueError(f"name {name!r} is already a channel of {Path(src).name}")
    added = [s.replace(channel=name) for s in new]
    return write_sxm(dst, [*originals, *added], header=originals[0].header, inputs=[src])
