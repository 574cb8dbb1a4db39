"""Regenerate docs/img/processing_steps.png from a real Createc scan in ../shared/realdata.

Usage: python docs/img/make_processing_figure.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from stmdenoise.io import colorize, read_scan  # noqa: E402
from stmdenoise.processing import align_rows, crop_nan, level_plane  # noqa: E402

SCAN = ROOT.parent / "shared" / "realdata" / "createc" / "createc_scan_step_20nm.dat"


def main() -> None:
    raw = read_scan(SCAN)
    plane = level_plane(raw)
    aligned = align_rows(plane, method="median_diff")
    cropped = crop_nan(aligned)
    panels = []
    for scan in (raw, plane, aligned, cropped):
        rgb = colorize(scan.data[::2, ::2], colormap="afmhot")  # 2x smaller keeps the PNG small
        pad = np.full((256, rgb.shape[1], 3), 255, dtype=np.uint8)
        pad[: rgb.shape[0]] = rgb
        panels.append(pad)
        panels.append(np.full((256, 6, 3), 255, dtype=np.uint8))
    out = ROOT / "docs" / "img" / "processing_steps.png"
    Image.fromarray(np.concatenate(panels[:-1], axis=1)).save(out, optimize=True)
    print(f"wrote {out} ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
