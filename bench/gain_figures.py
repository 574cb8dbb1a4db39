"""Figures of the shipped model's real-scan path (the spectral gain, the two-direction Wiener) for its card.

    python bench/gain_figures.py [--out models/cu111-default/real_scans.png]

One sheet, drawn with Pillow (no plotting library in the app's dependencies):

1. Ko group Cu(111) frame 01 (0.71 Å/px): raw, the spectral gain's output, BM3D 1.5 (the best
   classical filter overall on these frames), version 1's network (G_DA, resampled as it was),
   and raw - gain (what was removed), beside the mean of frames 02-03 (the second look).
2. Radially averaged power spectra of frame 01: raw, gain, BM3D, and the mean of the other two
   frames (whose noise is halved); per-band estimated error against the surface (raw = 1.00,
   leave-one-out over frames 01-03; `stmdenoise.metrics.fidelity`) for BM3D, version 1 and the gain.
3. A real Nanonis scan of another material (TR_img_0249 Z, 52 pm/px): raw, gain, raw - gain; and
   the Createc Cu(111) step scan (Z, 39 pm/px), whose backward frame is at hand: raw, the
   two-direction Wiener (noise measured from the two directions), raw - output.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from fidelity import CU_BANDS, KO_DIR, KO_NM_PER_PX, REAL_DIR  # noqa: E402
from quality import _grey as grey_panel  # noqa: E402

from stmdenoise.denoise import Denoiser, default_model_dir  # noqa: E402
from stmdenoise.evaluation.baselines import BASELINES, apply_baseline  # noqa: E402
from stmdenoise.io import read_all, read_plain_image  # noqa: E402
from stmdenoise.processing import level_plane  # noqa: E402
from stmdenoise.scan import Scan  # noqa: E402
from stmdenoise.training.real_fidelity import Method, stack_rows  # noqa: E402

PANEL = 240
COLOURS = {"raw": (90, 90, 90), "gain": (200, 40, 40), "BM3D 1.5": (40, 90, 200), "others": (20, 150, 60),
           "version 1": (230, 150, 0)}  # fmt: skip


def _grey(a: np.ndarray, lo: float, hi: float) -> Image.Image:
    return grey_panel(np.nan_to_num(a, nan=lo), lo, hi, size=PANEL)  # quality.py's rendering


def _diverging(a: np.ndarray) -> Image.Image:
    m = float(np.nanpercentile(np.abs(a), 99)) or 1.0
    t = np.clip(np.nan_to_num(a) / m, -1, 1)
    rgb = np.stack([255 * np.clip(1 + t, 0, 1), 255 * (1 - np.abs(t)), 255 * np.clip(1 - t, 0, 1)], -1)
    return Image.fromarray(rgb.astype(np.uint8)).resize((PANEL, PANEL), Image.Resampling.NEAREST)


def _radial(a: np.ndarray, bins: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """|k| (cycles per pixel) and the mean power in each of ``bins`` rings of the levelled image."""
    z = level_plane(a)
    w = np.outer(np.hanning(z.shape[0]), np.hanning(z.shape[1]))
    p = np.abs(np.fft.fft2(z * w)) ** 2
    k = np.hypot(np.fft.fftfreq(z.shape[0])[:, None], np.fft.fftfreq(z.shape[1])[None, :])
    edges = np.linspace(0, 0.5, bins + 1)
    idx = np.digitize(k.ravel(), edges) - 1
    ok = (idx >= 0) & (idx < bins)
    sums = np.bincount(idx[ok], p.ravel()[ok], bins)
    counts = np.maximum(np.bincount(idx[ok], minlength=bins), 1)
    return (edges[1:] + edges[:-1]) / 2, sums / counts


def _spectra_panel(curves: dict[str, tuple[np.ndarray, np.ndarray]], px_nm: float) -> Image.Image:
    w, h, m = 2 * PANEL + 8, PANEL, 34
    im = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(im)
    vals = np.concatenate([np.log10(c[1][1:]) for c in curves.values()])
    lo, hi = float(np.percentile(vals, 1)), float(vals.max())
    d.rectangle((m, 6, w - 6, h - m), outline="black")

    def xy(k: float, v: float) -> tuple[float, float]:
        return m + (w - 6 - m) * k / 0.5, (h - m) - (h - m - 6) * (math.log10(v) - lo) / (hi - lo)

    for name, (k, p) in curves.items():
        pts = [xy(float(a), float(b)) for a, b in zip(k[1:], p[1:], strict=True) if b > 0]
        d.line(pts, fill=COLOURS[name], width=2)
    for period in (30.0, 10.0, 5.0, 2.2):  # Å
        kk = px_nm * 10 / period
        if kk <= 0.5:
            x = xy(kk, 10**lo)[0]
            d.line([(x, h - m), (x, h - m + 4)], fill="black")
            d.text((x - 10, h - m + 6), f"{period:g} A", fill="black")  # Pillow's font has no Å
    d.text((m, h - 14), "|k| (period)                       log power, radial mean", fill="black")
    for i, name in enumerate(curves):
        d.text((w - 130, 10 + 12 * i), name, fill=COLOURS[name])
    return im


def _bars_panel(rows: dict[str, list[float]], labels: list[str]) -> Image.Image:
    w, h, m = 2 * PANEL + 8, PANEL, 34
    im = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(im)
    top = max(2.0, max(max(v) for v in rows.values()))
    base = h - m

    def y(v: float) -> float:
        return base - (base - 8) * min(v, top) / top

    d.line([(m, base), (w - 6, base)], fill="black")
    d.line([(m, y(1.0)), (w - 6, y(1.0))], fill=(120, 120, 120))
    d.text((4, y(1.0) - 6), "raw", fill="black")
    group = (w - m - 10) / len(labels)
    bw = group / (len(rows) + 1)
    for j, lab in enumerate(labels):
        for i, (name, vals) in enumerate(rows.items()):
            x0 = m + 4 + j * group + i * bw
            d.rectangle((x0, y(vals[j]), x0 + bw - 2, base), fill=COLOURS[name])
            d.text((x0, y(vals[j]) - 11), f"{vals[j]:.2f}", fill="black")
        d.text((m + 4 + j * group, base + 6), lab.replace("Å", "A"), fill="black")
    d.text((m, h - 14), "estimated error vs the surface, Ko frames 01-03, leave-one-out", fill="black")
    for i, name in enumerate(rows):
        d.text((w - 90, 10 + 12 * i), name, fill=COLOURS[name])
    return im


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "models" / "cu111-default" / "real_scans.png")
    ap.add_argument("--model", type=Path, default=None)
    args = ap.parse_args(argv)
    if not KO_DIR.is_dir() or not REAL_DIR.is_dir():
        print(f"needs {KO_DIR} and {REAL_DIR} (../shared beside the repository)", file=sys.stderr)
        return 2
    den = Denoiser.from_folder(args.model or default_model_dir(), device="cpu")
    if den.gain is None:
        print("the model has no spectral gain", file=sys.stderr)
        return 2
    v1 = Denoiser(replace(den.info, experimental_path=None), den.g_d, den.g_da, den.device, gain=None)
    frames = [read_plain_image(p, nm_per_px=KO_NM_PER_PX) for p in sorted(KO_DIR.glob("*.jpg"))]
    bm3d = BASELINES["bm3d"]

    def gain(s: Scan, _o: Scan | None) -> np.ndarray:
        return np.asarray(den.denoise(s).data)

    def classical(s: Scan, _o: Scan | None) -> np.ndarray:
        return np.asarray(apply_baseline(bm3d, 1.5, np.asarray(s.data)))  # as bench/fidelity.py

    def version1(s: Scan, _o: Scan | None) -> np.ndarray:
        return np.asarray(v1.denoise(s).data)

    methods = {"BM3D 1.5": classical, "version 1": version1, "gain": gain}
    rows = stack_rows([Method(n, "model", f) for n, f in methods.items()], "Ko", frames, bands=CU_BANDS)
    labels = [b.label for b in CU_BANDS] + ["all"]
    errors = {r.method: [r.mean(lb) for lb in labels] for r in rows[1:]}
    for name, vals in errors.items():
        print(f"{name}: " + ", ".join(f"{lb} {v:.2f}" for lb, v in zip(labels, vals, strict=True)))

    f0 = frames[0]
    raw = level_plane(np.asarray(f0.data, float))
    outs = {n: level_plane(f(f0, None)) for n, f in methods.items()}
    others = level_plane(np.mean([np.asarray(f.data, float) for f in frames[1:]], axis=0))
    lo, hi = float(np.percentile(raw, 0.5)), float(np.percentile(raw, 99.5))
    panels = [
        ("Ko frame 01, raw", _grey(raw, lo, hi)),
        ("spectral gain (shipped)", _grey(outs["gain"], lo, hi)),
        ("BM3D 1.5 (best classical)", _grey(outs["BM3D 1.5"], lo, hi)),
        ("version 1 network (G_DA)", _grey(outs["version 1"], lo, hi)),
        ("raw - gain (removed)", _diverging(raw - outs["gain"])),
        ("mean of frames 02-03", _grey(others, lo, hi)),
    ]
    spectra = {"raw": _radial(raw), "gain": _radial(outs["gain"]), "BM3D 1.5": _radial(outs["BM3D 1.5"]),
               "others": _radial(others)}  # fmt: skip
    scans = [s for s in read_all(REAL_DIR / "nanonis" / "TR_img_0249.sxm") if s.channel == "Z"]
    fwd = next(s for s in scans if s.direction == "forward")
    traw = level_plane(np.asarray(fwd.data, float))
    tout = level_plane(np.asarray(den.denoise(fwd).data, float))
    tlo, thi = float(np.percentile(traw, 0.5)), float(np.percentile(traw, 99.5))
    panels += [
        ("TR_img_0249 Z (52 pm/px), raw", _grey(traw, tlo, thi)),
        ("spectral gain", _grey(tout, tlo, thi)),
        ("raw - gain (removed)", _diverging(traw - tout)),
    ]
    # a scan with both directions and enough rows: the noise measured from the backward frame
    every = read_all(REAL_DIR / "createc" / "createc_scan_step_20nm.dat")
    cf = next(s for s in every if s.channel == "Z" and s.direction == "forward")
    cb = next(s for s in every if s.channel == "Z" and s.direction == "backward")
    rows = np.isfinite(np.asarray(cf.data)).all(axis=1)  # the aborted scan's measured rows
    craw = level_plane(np.asarray(cf.data, float)[rows])
    cout = level_plane(np.asarray(den.denoise(cf, partner=cb).data, float)[rows])
    clo, chi = float(np.percentile(craw, 0.5)), float(np.percentile(craw, 99.5))
    panels += [
        ("Createc step Z (39 pm/px), raw", _grey(craw, clo, chi)),
        ("two-direction Wiener", _grey(cout, clo, chi)),
        ("raw - two-direction (removed)", _diverging(craw - cout)),
    ]
    cols = 6
    sheet = Image.new("RGB", (cols * (PANEL + 8) + 8, 3 * (PANEL + 26) + 8), "white")
    d = ImageDraw.Draw(sheet)
    places = [(0, i) for i in range(6)] + [(2, i) for i in range(6)]
    for (r, c), (title, im) in zip(places, panels, strict=True):
        x, y = 8 + c * (PANEL + 8), 8 + r * (PANEL + 26)
        d.text((x, y), title, fill="black")
        sheet.paste(im.convert("RGB"), (x, y + 16))
    y1 = 8 + (PANEL + 26)
    d.text((8, y1), "radially averaged power spectra, Ko frame 01", fill="black")
    sheet.paste(_spectra_panel(spectra, KO_NM_PER_PX), (8, y1 + 16))
    x2 = 8 + 2 * (PANEL + 8) + 20
    d.text((x2, y1), "per-band estimated error", fill="black")
    sheet.paste(_bars_panel(errors, labels), (x2, y1 + 16))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.out)
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
