"""Side by side: what each model does to real scans (raw | denoised | raw - denoised per model).

    python bench/real_compare.py --models models/cu111-default runs/cu111-Sc --out compare.png

Rows: for each model, the first Ko-group Cu(111) topograph and the Createc step scan, read and
prepared as Table II sees them (`stmdenoise evaluate`), each model's experimental generator
(G_DA). Grey scale: the raw image's 0.5-99.5 percentiles; residuals at +-1/4 of that range. Use it
to look for what no-reference scores reward but a user must not get: invented halos, stripes or
waves.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stmdenoise.denoise import Denoiser  # noqa: E402
from stmdenoise.evaluation import real_input  # noqa: E402
from stmdenoise.training.data import load_real_scans  # noqa: E402

SHARED = ROOT.parent / "shared"
REAL = [
    SHARED / "reference" / "cu111_ko_group" / "experimental",
    SHARED / "realdata" / "createc" / "createc_scan_step_20nm.dat",
]


def _grey(a: np.ndarray, lo: float, hi: float, width: int = 256) -> Image.Image:
    g = (np.clip((a - lo) / (hi - lo), 0, 1) * 255).astype(np.uint8)
    im = Image.fromarray(g)
    return im.resize((width, max(1, round(width * g.shape[0] / g.shape[1]))))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="+", required=True, help="model folders")
    p.add_argument("--out", required=True, help="PNG to write")
    args = p.parse_args(argv)
    scans = load_real_scans([str(r) for r in REAL], nm_per_px=0.071)
    picks = [real_input(s) for s in (scans[0], scans[-1])]
    rows: list[Image.Image] = []
    for folder in args.models:
        den = Denoiser.from_folder(folder, device="cpu")
        for scan in picks:
            raw = np.asarray(scan.data)
            out = np.asarray(den.denoise(scan, which="experimental").data)
            lo, hi = np.nanpercentile(raw, [0.5, 99.5])
            q = (hi - lo) / 4
            tiles = [_grey(raw, lo, hi), _grey(out, lo, hi), _grey(raw - out, -q, q)]
            row = Image.new("L", (3 * 256 + 180, tiles[0].height), 255)
            ImageDraw.Draw(row).text((4, 4), Path(folder).name, fill=0)
            for k, t in enumerate(tiles):
                row.paste(t, (180 + 256 * k, 0))
            rows.append(row)
    sheet = Image.new("L", (rows[0].width, sum(r.height + 4 for r in rows)), 255)
    y = 0
    for r in rows:
        sheet.paste(r, (0, y))
        y += r.height + 4
    sheet.save(args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
