"""Quality of a model folder: the tables and checks of its MODEL_CARD.md, in one run.

    python bench/quality.py [--model models/cu111-default] [--out runs/quality] [--test-count 200]

1. Simulated test set (seed 1001, 200 pairs, never used in training: training draws pairs from
   seed-0 streams) and a disjoint validation set (seed 1002, 20 pairs) for tuning the classical
   baselines; both are simulated here with `stmdenoise.physics.simulate_dataset` when absent.
2. Table I (MSE / PSNR / SSIM, 0-255 scale) and Table II (BRISQUE / PIQE on the real Cu(111)
   topographs of ../shared/reference/cu111_ko_group/experimental and the Createc standing-wave
   scan) for raw input, the scikit-image baselines, BM3D and the model, via
   `stmdenoise.training.evaluate` (the code behind `stmdenoise evaluate`).
3. Faithfulness on the simulated test set (model and the best baseline):
   * impurity cores: for every isolated impurity (no other within 10 px, >= 10 px from the edge)
     the clean core's centre is the deviation-weighted centroid of the half-depth region around
     the most deviating pixel (dark or bright) within +-5 px of its position, deviations taken
     from the local median of the 1-px-Gaussian-smoothed clean map; a core is recovered when the
     output (equally smoothed) has a core of the same sign whose centre lies within 1 px of the
     clean one and which is at least half as deep. (A centroid, because black-dot cores are
     craters whose most extreme pixel lies anywhere on a ring: the first version of this check,
     which compared extreme pixels, scored the raw noisy input no better than the clean map's
     own ties allowed.)
   * adsorbates: for every isolated adsorbate bump (no impurity or adsorbate within 10 px), the
     output's height over its surroundings divided by the clean map's (1-px smoothing, highest
     pixel within +-3 px minus the median of a 25 px box): median, and the share kept at >= 50 %;
   * standing-wave period: peak of the radially averaged power spectrum in the 1.0-2.5 nm band
     (parabolic sub-bin interpolation), output vs clean, relative difference;
   * residual (input - output) vs injected noise (input - clean): power ratio, and the
     correlation of each with the clean map (a residual that holds signal correlates with it).
4. A figure raw / output / residual / clean of one test image and raw / output of a real scan.

Prints Markdown; with --out also writes quality.md, quality.json and quality.png there.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stmdenoise.denoise import Denoiser  # noqa: E402
from stmdenoise.physics import open_dataset, simulate_dataset  # noqa: E402
from stmdenoise.processing import level_plane  # noqa: E402
from stmdenoise.scan import Scan  # noqa: E402
from stmdenoise.training.evaluate import (  # noqa: E402
    BASELINES,
    EvalResult,
    _apply_normalised_fn,
    evaluate,
    load_pairs,
    tables_markdown,
)
from stmdenoise.training.real_fidelity import Method, fidelity_markdown, model_methods, stack_rows  # noqa: E402

SHARED = ROOT.parent / "shared"
REAL_DEFAULT = [
    SHARED / "reference" / "cu111_ko_group" / "experimental",
    SHARED / "realdata" / "createc" / "createc_scan_step_20nm.dat",
]
TEST_SEED, VAL_SEED = 1001, 1002


def ensure_dataset(path: Path, *, count: int, seed: int) -> Path:
    """Simulate ``count`` typical 256^2 pairs with ``seed`` into ``path`` unless already there."""
    if path.exists():
        with open_dataset(path) as ds:
            if len(ds) >= count and int(ds.attrs["seed"]) == seed:
                return path
    path.parent.mkdir(parents=True, exist_ok=True)
    for _ in simulate_dataset(
        path,
        count=count,
        pixels=256,
        size=36e-9,
        preset="typical",
        seed=seed,
        workers=1,
        cancel=threading.Event(),
    ):
        pass
    return path


# ---------------------------------------------------------------- faithfulness measures
def _core_centre(
    smooth: np.ndarray, cy: int, cx: int, half: int, sign: float | None = None
) -> tuple[float, float, float, float] | None:
    """(y, x, depth, sign) of the core nearest (cy, cx) in a 1-px-smoothed image, or None.

    depth is the largest deviation from the median of the surrounding (4·half+1)² box, with the
    given sign (or the sign of the largest |deviation| when None); the centre is the
    deviation-weighted centroid of the connected half-depth region around that pixel. A centroid,
    not the extreme pixel: simulated black-dot cores are craters (a dark ring around a slightly
    brighter centre), whose extreme pixel is anywhere on the ring.
    """
    rows, cols = smooth.shape
    if not (half <= cy < rows - half and half <= cx < cols - half):
        return None
    w = smooth[cy - half : cy + half + 1, cx - half : cx + half + 1]
    r = 2 * half
    dev = w - np.median(smooth[max(cy - r, 0) : cy + r + 1, max(cx - r, 0) : cx + r + 1])
    if sign is None:
        sign = float(np.sign(dev.flat[np.argmax(np.abs(dev))]))
    dev = sign * dev
    j = np.unravel_index(np.argmax(dev), dev.shape)
    depth = float(dev[j])
    if depth <= 0:
        return None
    labels, _ = ndimage.label(dev >= 0.5 * depth)
    weights = np.where(labels == labels[j], dev, 0.0)
    yy, xx = np.indices(dev.shape)
    total = weights.sum()
    return (
        cy - half + float((weights * yy).sum() / total),
        cx - half + float((weights * xx).sum() / total),
        depth,
        sign,
    )


def core_recovery(
    clean: np.ndarray,
    out: np.ndarray,
    impurities_px: list[tuple[float, float]],
    *,
    half: int = 5,
    tolerance: float = 1.0,
    min_depth: float = 0.5,
    isolate: float = 10.0,
    border: int = 10,
) -> tuple[int, int]:
    """(recovered, total) impurity cores of one image; see the module docstring.

    Both images are smoothed with a 1-px Gaussian (the same for every method). The clean core of
    an impurity is found around its position (:func:`_core_centre`: dark or bright, the
    simulator mixes phase shifts); the output's core is looked for, with the same sign, around
    the clean centre. It is recovered when its centre lies within ``tolerance`` px (Euclidean) of
    the clean one and it is at least ``min_depth`` times as deep (a core the output erased, or
    painted with the other sign, is not). Impurities closer than ``isolate`` px to another one
    (overlapping cores) or ``border`` px to the edge are not counted.
    """
    cs, os_ = ndimage.gaussian_filter(clean, 1.0), ndimage.gaussian_filter(out, 1.0)
    rows, cols = clean.shape
    pts = np.asarray(impurities_px, dtype=np.float64).reshape(-1, 2)
    found = n = 0
    for k, (y, x) in enumerate(pts):
        iy, ix = int(round(y)), int(round(x))
        if not (border <= iy < rows - border and border <= ix < cols - border):
            continue
        d = np.hypot(pts[:, 0] - y, pts[:, 1] - x)
        d[k] = np.inf
        if d.size > 1 and d.min() < isolate:
            continue
        ref = _core_centre(cs, iy, ix, half)
        if ref is None:
            continue
        n += 1
        got = _core_centre(os_, int(round(ref[0])), int(round(ref[1])), half, sign=ref[3])
        if got is not None and got[2] >= min_depth * ref[2]:
            found += int(np.hypot(got[0] - ref[0], got[1] - ref[1]) <= tolerance)
    return found, n


def adsorbate_heights(
    clean: np.ndarray,
    out: np.ndarray,
    adsorbates_px: list[tuple[float, float]],
    impurities_px: list[tuple[float, float]],
    *,
    half: int = 3,
    isolate: float = 10.0,
    border: int = 12,
) -> list[float]:
    """Output-to-clean height ratio of each isolated adsorbate bump of one image.

    Height: the 1-px-smoothed image at the clean bump's top (its highest pixel within ``half``
    px of the adsorbate) minus the median of the surrounding (8·half+1)² box. Adsorbates closer
    than ``isolate`` px to an impurity or another adsorbate, or ``border`` px to the edge, are
    not counted.
    """
    cs, os_ = ndimage.gaussian_filter(clean, 1.0), ndimage.gaussian_filter(out, 1.0)
    rows, cols = clean.shape
    ads = np.asarray(adsorbates_px, dtype=np.float64).reshape(-1, 2)
    imps = np.asarray(impurities_px, dtype=np.float64).reshape(-1, 2)
    ratios = []
    for k, (y, x) in enumerate(ads):
        iy, ix = int(round(y)), int(round(x))
        if not (border <= iy < rows - border and border <= ix < cols - border):
            continue
        others = np.vstack([np.delete(ads, k, axis=0), imps])
        if others.size and np.hypot(others[:, 0] - y, others[:, 1] - x).min() < isolate:
            continue
        r = 4 * half
        box = (slice(max(iy - r, 0), iy + r + 1), slice(max(ix - r, 0), ix + r + 1))
        win = cs[iy - half : iy + half + 1, ix - half : ix + half + 1]
        j = np.unravel_index(np.argmax(win), win.shape)
        top = (iy - half + int(j[0]), ix - half + int(j[1]))  # the clean bump's top, read in both
        h = float(cs[top] - np.median(cs[box]))
        if h > 0:
            ratios.append(float(os_[top] - np.median(os_[box])) / h)
    return ratios


def wave_period(image: np.ndarray, pixel_size: float, band: tuple[float, float] = (1.0e-9, 2.5e-9)) -> float:
    """Standing-wave period (m): radially averaged power-spectrum peak in ``band``."""
    a = image - image.mean()
    win = np.outer(np.hanning(a.shape[0]), np.hanning(a.shape[1]))
    p = np.abs(np.fft.fftshift(np.fft.fft2(a * win))) ** 2
    cy, cx = a.shape[0] // 2, a.shape[1] // 2
    yy, xx = np.indices(a.shape)
    r = np.hypot((yy - cy) / a.shape[0], (xx - cx) / a.shape[1]) / pixel_size  # spatial frequency, 1/m
    dq = 1.0 / (a.shape[1] * pixel_size) / 2  # half-bin radial resolution
    bins = np.arange(0, r.max() + dq, dq)
    idx = np.digitize(r.ravel(), bins) - 1
    prof = np.bincount(idx, p.ravel(), len(bins)) / np.maximum(np.bincount(idx, None, len(bins)), 1)
    q = bins + dq / 2
    sel = np.nonzero((q >= 1 / band[1]) & (q <= 1 / band[0]))[0]
    k = sel[np.argmax(prof[sel])]
    y0, y1, y2 = np.log(prof[k - 1 : k + 2] + 1e-300)
    shift = 0.5 * (y0 - y2) / (y0 - 2 * y1 + y2) if (y0 - 2 * y1 + y2) != 0 else 0.0
    return float(1.0 / (q[k] + shift * dq))


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))


def faithfulness(
    name: str,
    outputs: list[np.ndarray],
    pairs: list[tuple[np.ndarray, np.ndarray]],
    params: list[dict[str, Any]],
    px: float,
) -> dict[str, Any]:
    found = total = 0
    period_err, power_ratio, corr_res, corr_noise, corr_out = [], [], [], [], []
    heights: list[float] = []
    for (clean, noisy), out, prm in zip(pairs, outputs, params, strict=True):
        imps = [(y / px - 0.5, x / px - 0.5) for y, x in prm["surface"]["impurities"]]
        ads = [(y / px - 0.5, x / px - 0.5) for y, x in prm["surface"]["adsorbates"]]
        heights += adsorbate_heights(clean, out, ads, imps)
        f, n = core_recovery(clean, out, imps)
        found, total = found + f, total + n
        pc, po = wave_period(clean, px), wave_period(out, px)
        period_err.append(abs(po - pc) / pc)
        res, noise = noisy - out, noisy - clean
        power_ratio.append(float(res.var() / noise.var()))
        corr_res.append(_corr(res, clean))
        corr_noise.append(_corr(noise, clean))
        corr_out.append(_corr(out, clean))
    pe = np.asarray(period_err)
    return {
        "method": name,
        "corr(output, clean)": f"{float(np.median(corr_out)):.3f}",
        "cores recovered": f"{found}/{total} ({100 * found / max(total, 1):.1f} %)",
        "adsorbate height kept: median": f"{100 * float(np.median(heights)):.0f} %" if heights else "-",
        "adsorbates kept >= 50 %": _share(heights, 0.5),
        "period: median rel. diff": f"{100 * float(np.median(pe)):.2f} %",
        "period within 2 %": f"{100 * float(np.mean(pe <= 0.02)):.1f} %",
        "residual/noise power": f"{float(np.median(power_ratio)):.3f}",
        "corr(residual, clean)": f"{float(np.median(corr_res)):+.3f}",
        "corr(noise, clean)": f"{float(np.median(corr_noise)):+.3f}",
    }


def _share(values: list[float], at_least: float) -> str:
    if not values:
        return "-"
    k = sum(v >= at_least for v in values)
    return f"{k}/{len(values)} ({100 * k / len(values):.1f} %)"


def _tuned(fn: Any, param: float) -> Any:
    """A baseline at its tuned parameter as a fidelity method (robustly normalised, as evaluate runs it)."""

    def run(scan: Scan, _other: Scan | None) -> np.ndarray:
        return _apply_normalised_fn(fn, param, np.asarray(scan.data))

    return run


def md_table(rows: list[dict[str, Any]]) -> str:
    keys = list(rows[0])
    out = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    out += ["| " + " | ".join(str(r[k]) for k in keys) + " |" for r in rows]
    return "\n".join(out)


# ---------------------------------------------------------------- figure
def _grey(a: np.ndarray, lo: float | None = None, hi: float | None = None, size: int = 256) -> Image.Image:
    lo = float(np.nanpercentile(a, 0.5)) if lo is None else lo
    hi = float(np.nanpercentile(a, 99.5)) if hi is None else hi
    u8 = (np.clip((a - lo) / max(hi - lo, 1e-300), 0, 1) * 255).astype(np.uint8)
    return Image.fromarray(u8).resize((size, size), Image.Resampling.NEAREST)


def figure(panels: list[tuple[str, Image.Image]], path: Path, cols: int = 4) -> None:
    w = h = 256
    rows = (len(panels) + cols - 1) // cols
    sheet = Image.new("RGB", (cols * (w + 8) + 8, rows * (h + 26) + 8), "white")
    d = ImageDraw.Draw(sheet)
    for i, (title, im) in enumerate(panels):
        x, y = 8 + (i % cols) * (w + 8), 8 + (i // cols) * (h + 26)
        d.text((x, y), title, fill="black")
        sheet.paste(im.convert("RGB"), (x, y + 16))
    sheet.save(path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=str(ROOT / "models" / "cu111-default"))
    ap.add_argument(
        "--data", default=str(ROOT / "runs" / "eval"), help="folder for the simulated test/val sets"
    )
    ap.add_argument("--test-count", type=int, default=200)
    ap.add_argument("--val-count", type=int, default=20)
    ap.add_argument("--real", nargs="*", default=[str(p) for p in REAL_DEFAULT])
    ap.add_argument("--real-nm-per-px", type=float, default=0.071)
    ap.add_argument("--out", default=None)
    ap.add_argument(
        "--passes", type=int, choices=(1, 2, 4), default=1,
        help="network passes averaged per image over mirrored copies (Denoiser.denoise)",
    )  # fmt: skip
    args = ap.parse_args(argv)
    t0 = time.perf_counter()

    data = Path(args.data)
    test_h5 = ensure_dataset(data / f"sim_test_seed{TEST_SEED}.h5", count=args.test_count, seed=TEST_SEED)
    val_h5 = ensure_dataset(data / f"sim_val_seed{VAL_SEED}.h5", count=args.val_count, seed=VAL_SEED)
    test_pairs, px = load_pairs(test_h5, count=args.test_count)
    val_pairs, _ = load_pairs(val_h5, count=args.val_count)
    with open_dataset(test_h5) as ds:
        params = [ds[i].params for i in range(len(test_pairs))]

    from stmdenoise.training.data import load_real_scans  # reads JPEG folders with a given nm/px

    real_scans = load_real_scans(args.real, nm_per_px=args.real_nm_per_px)
    res = EvalResult(outputs={})
    for _ in evaluate(
        models=[args.model],
        test_pairs=test_pairs,
        val_pairs=val_pairs,
        pixel_size=px,
        real_scans=real_scans,
        passes=args.passes,
        result=res,
    ):
        pass

    # faithfulness: the model and the best baseline by Table I PSNR, on the same levelled pairs
    den = Denoiser.from_folder(args.model, device="cpu")
    lv = [(np.asarray(level_plane(c)), np.asarray(level_plane(n))) for c, n in test_pairs]
    assert res.outputs is not None
    outs_model = res.outputs[Path(args.model).name]
    base_rows = [
        r for r in res.table1 if r["method"].split(" (")[0] not in ("Raw input", Path(args.model).name)
    ]
    best = max(base_rows, key=lambda r: r["PSNR"])
    best_b = next(b for b in BASELINES.values() if best["method"].startswith(b.label))
    outs_best = res.outputs[best_b.name]
    faith = [
        faithfulness(
            Path(args.model).name + (f" ({args.passes} passes)" if args.passes > 1 else ""),
            outs_model,
            lv,
            params,
            px,
        ),
        faithfulness(best["method"], outs_best, lv, params, px),
        faithfulness("Raw input", [n for _, n in lv], lv, params, px),
    ]

    text = [tables_markdown(res), "", "### Faithfulness on the simulated test set", "", md_table(faith)]
    # real-scan fidelity first in importance (issue 14): the Ko frames as a leave-one-out stack,
    # the tuned baselines, the model's output and what it delivers; `python bench/fidelity.py`
    # sweeps every baseline over every real scan
    ko = [s for s in real_scans if s.source is not None and s.source.suffix.lower() == ".jpg"]
    if len(ko) >= 2:
        tuned = [
            Method(f"{BASELINES[k].label} ({v:g})", "classical", _tuned(BASELINES[k].apply, v))
            for k, v in res.tuned.items()
        ]
        stack = stack_rows([*tuned, *model_methods(den, Path(args.model).name)], "Ko frames", ko)
        text += [
            "",
            fidelity_markdown(stack, title=f"Real-scan fidelity: Ko frames ({len(ko)}), leave-one-out"),
        ]
    text.append(
        f"\n(bench/quality.py, {time.perf_counter() - t0:.0f} s; test seed {TEST_SEED}, "
        f"{len(test_pairs)} pairs; validation seed {VAL_SEED}, {len(val_pairs)} pairs)"
    )
    report = "\n".join(text)
    print(report)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "quality.md").write_text(report + "\n")
        (out / "quality.json").write_text(
            json.dumps(
                {"table1": res.table1, "table2": res.table2, "tuned": res.tuned, "faithfulness": faith},
                indent=1,
            )
        )
        i = 0
        clean, noisy = lv[i]
        o = outs_model[i]
        lo, hi = float(np.percentile(clean, 0.5)), float(np.percentile(clean, 99.5))
        span = (hi - lo) / 2
        real = real_scans[0]
        rin = np.asarray(level_plane(real).data)
        rout = np.asarray(den.denoise(real, which="experimental", passes=args.passes).data)
        rout = np.asarray(level_plane(Scan(rout, pixel_size=real.pixel_size)).data)
        rlo, rhi = float(np.percentile(rin, 0.5)), float(np.percentile(rin, 99.5))
        figure(
            [
                ("simulated raw (typical)", _grey(noisy, lo, hi)),
                ("denoised (model)", _grey(o, lo, hi)),
                ("residual raw - denoised", _grey(noisy - o, -span, span)),
                ("clean (ground truth)", _grey(clean, lo, hi)),
                ("real Cu(111), raw", _grey(rin, rlo, rhi)),
                ("real Cu(111), denoised", _grey(rout, rlo, rhi)),
                ("real: raw - denoised", _grey(rin - rout, -(rhi - rlo) / 2, (rhi - rlo) / 2)),
                (f"best baseline: {best_b.label}", _grey(outs_best[i], lo, hi)),
            ],
            out / "quality.png",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
