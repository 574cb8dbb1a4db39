"""Builders of valid and hostile scan files for the reader, fuzz and fault tests (no real files needed).

Every builder returns bytes, so tests and the fuzz child process (``tests/hostile_child.py``)
make the same files. Hostile variants change one header value or the payload of a file that
the readers otherwise accept.
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import tempfile
import zlib
from pathlib import Path

import numpy as np

CREATEC_HEADER: dict[str, str] = {
    "DAC-Type": "20bit",
    "Num.X / Num.X": "16",
    "Num.Y / Num.Y": "12",
    "Channels / Channels": "4",
    "Channelselectval / Channelselectval": "3",
    "Length x[A]": "40.0",
    "Length y[A]": "30.0",
    "GainZ / GainZ": "10",
    "ZPiezoconst": "9.21",
    "Gainpreamp / GainPre 10^": "9",
    "BiasVolt.[mV]": "100",
    "Current[A]": "1E-10",
    "Dacto[A]xy": "0.0015",
    "GainX / GainX": "10",
    "GainY / GainY": "10",
    "OffsetX": "0",
    "OffsetY": "0",
    "Rotation / Rotation": "0",
}

#: Header values a tester tries on any numeric field.
HOSTILE_NUMBERS: tuple[str, ...] = (
    "0", "-1", "1", "2", "inf", "-inf", "nan", "1e308", "-1e308", "1e-320", "1000", "2000", "65536",
    "100000000000", "9" * 400, "2.5", "", "x", "0x10",
)  # fmt: skip


def createc_bytes(
    header: dict[str, str] | None = None,
    *,
    nx: int = 16,
    ny: int = 12,
    channels: int = 4,
    payload: bytes | None = None,
    padding: int = 64,
    seed: int = 0,
) -> bytes:
    """A Createc ``.dat`` image: ``[Paramco32]`` header, ``DATA``, zlib stream of float32 counts."""
    h = dict(CREATEC_HEADER)
    h.update({"Num.X / Num.X": str(nx), "Num.Y / Num.Y": str(ny), "Channels / Channels": str(channels)})
    h.update(header or {})
    text = "[Paramco32]\r\n" + "".join(f"{k}={v}\r\n" for k, v in h.items())
    if payload is None:
        rng = np.random.default_rng(seed)
        values = rng.normal(1000, 50, size=1 + channels * nx * ny).astype("<f4")
        payload = values.tobytes() + bytes(padding)
    return text.encode("latin-1") + b"DATA" + zlib.compress(payload, 6)


def zlib_bomb_createc(nx: int = 4096, ny: int = 4096, channels: int = 64) -> bytes:
    """A Createc header whose zlib stream inflates to far more than a real scan holds (zeros)."""
    comp = zlib.compressobj(9)
    chunk = bytes(1 << 20)
    parts = [comp.compress(chunk) for _ in range(64)]  # 64 MiB of zeros -> about 64 kB
    parts.append(comp.flush())
    h = {"Num.X / Num.X": str(nx), "Num.Y / Num.Y": str(ny), "Channels / Channels": str(channels),
         "Channelselectval / Channelselectval": str((1 << (channels // 2)) - 1)}  # fmt: skip
    text = "[Paramco32]\r\n" + "".join(f"{k}={v}\r\n" for k, v in {**CREATEC_HEADER, **h}.items())
    return text.encode("latin-1") + b"DATA" + b"".join(parts)


def sxm_bytes(*, rows: int = 12, cols: int = 16, seed: int = 0) -> bytes:
    """A small two-channel ``.sxm`` written by our own writer."""
    from stmdenoise.io import write_sxm
    from stmdenoise.scan import Scan

    rng = np.random.default_rng(seed)
    z = Scan(rng.normal(size=(rows, cols)) * 1e-10, pixel_size=(1e-10, 1e-10), channel="Z", unit="m",
             bias=0.1, setpoint=1e-10)  # fmt: skip
    cur = z.replace(data=rng.normal(size=(rows, cols)) * 1e-11, channel="Current", unit="A")
    with tempfile.TemporaryDirectory() as d:
        p = write_sxm(Path(d) / "s.sxm", [z, cur, cur.replace(direction="backward")])
        return p.read_bytes()


def set_sxm_tag(raw: bytes, tag: str, value: str) -> bytes:
    """``raw`` with the value lines of ``:tag:`` replaced by ``value``."""
    start = raw.index(f":{tag}:\n".encode()) + len(tag) + 3
    end = raw.index(b"\n:", start - 1)
    return raw[:start] + value.encode("latin-1") + raw[end:]


def grid_bytes(*, rows: int = 3, cols: int = 4, points: int = 5, settings: str | None = None) -> bytes:
    """A small ``.3ds`` grid (2 parameters + X, Y, Z; one channel)."""
    params = ["Sweep Start", "Sweep End"]
    exp = ["X (m)", "Y (m)", "Z (m)"]
    header = (
        f'Grid dim="{cols} x {rows}"\r\nGrid settings={settings or "0;0;4E-9;3E-9;0"}\r\n'
        f'Sweep Signal="Bias (V)"\r\nFixed parameters="{";".join(params)}"\r\n'
        f'Experiment parameters="{";".join(exp)}"\r\n# Parameters (4 byte)={len(params) + len(exp)}\r\n'
        f'Experiment size (bytes)={points * 4}\r\nPoints={points}\r\nChannels="Current (A)"\r\n'
        ":HEADER_END:\r\n"
    )
    rng = np.random.default_rng(1)
    data = rng.normal(size=(rows, cols, len(params) + len(exp) + points)).astype(">f4")
    data[..., 0], data[..., 1] = -1.0, 1.0
    return header.encode("latin-1") + data.tobytes()


def spectrum_bytes(points: int = 20, *, declared: int | None = None) -> bytes:
    """A Nanonis ``.dat`` bias spectrum with ``points`` rows (header declares ``declared``)."""
    head = (
        "Experiment\tbias spectroscopy\t\nBias>Bias (V)\t50E-3\t\n"
        f"Bias Spectroscopy>Num Pixel\t{points if declared is None else declared}\t\n\n[DATA]\n"
        "Bias calc (V)\tCurrent (A)\n"
    )
    rows = "".join(f"{v:.6E}\t{v * 1e-9:.6E}\n" for v in np.linspace(-1, 1, points))
    return (head + rows).encode("latin-1")


def png_bomb(width: int = 20000, height: int = 20000) -> bytes:
    """A PNG whose header declares ``width x height`` grey pixels, with a tiny IDAT."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    comp = zlib.compressobj(9)
    row = bytes(width + 1)
    idat = b"".join(comp.compress(row) for _ in range(64)) + comp.flush()
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def npy_claiming(shape: tuple[int, ...] = (100000, 100000), dtype: str = "<f8") -> bytes:
    """A ``.npy`` header claiming ``shape`` with no data after it."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buf.getvalue()


def small_images() -> dict[str, bytes]:
    """Valid small files of the plain formats, written by our writers: ``{suffix: bytes}``."""
    from stmdenoise.io import write_scan
    from stmdenoise.scan import Scan

    scan = Scan(
        np.random.default_rng(2).normal(size=(10, 14)), pixel_size=(1e-10, 1e-10), channel="Z", unit="m"
    )
    out = {}
    with tempfile.TemporaryDirectory() as d:
        for ext in (".16.png", ".tiff", ".npy", ".h5"):
            out[ext] = write_scan(scan, Path(d) / f"s{ext}").read_bytes()
    return out


def model_config(**changes: object) -> dict[str, object]:
    """A valid tiny model ``config.json`` (as a dict) with ``changes`` applied by dotted key."""
    d: dict[str, object] = {
        "format": "stmdenoise-pdanet",
        "format_version": 1,
        "variant": "supervised",
        "architecture": {
            "ngf": 4,
            "n_blocks": 1,
            "ndf": 4,
            "d_layers": 3,
            "fa_width": 4,
            "channels": 1,
            "residual": False,
            "skip_blur": 0.0,
        },  # fmt: skip
        "normalization": {
            "method": "robust_percentile",
            "low_pct": 0.5,
            "high_pct": 99.5,
            "scale": 0.8,
            "level": True,
            "squash": 0.0,
        },  # fmt: skip
        "pixel_size_m": 1.4e-10,
        "steps": 1,
    }
    for key, value in changes.items():
        target = d
        parts = key.split(".")
        for part in parts[:-1]:
            target = target[part]  # type: ignore[assignment]
        target[parts[-1]] = value  # type: ignore[index]
    return json.loads(json.dumps(d))


ROOT = Path(__file__).resolve().parents[1]


def run_capped(
    args: list[str], *, mem_mb: int = 3072, timeout: float = 60.0
) -> subprocess.CompletedProcess[str]:
    """Run ``python ARGS`` from the repository root with its address space capped at ``mem_mb``.

    The cap (``resource.setrlimit(RLIMIT_AS)``) turns any allocation beyond it into a
    MemoryError in the child instead of swapping the machine; ``timeout`` catches hangs
    (``subprocess.TimeoutExpired``).
    """
    import os
    import sys

    def cap() -> None:
        import resource

        limit = mem_mb << 20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1"}  # fmt: skip
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, preexec_fn=cap, capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip
