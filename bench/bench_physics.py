"""Speed and accuracy of the Cu(111) simulator; figures for docs/physics.md.

Usage::

    python bench/bench_physics.py            # timing/accuracy tables (one BLAS thread)
    python bench/bench_physics.py --quick    # fewer repeats
    python bench/bench_physics.py --figures  # write docs/img/physics_*.png
    python bench/bench_physics.py --calibration  # artefact statistics vs the real Cu(111) scans

Timings are CPU seconds (``time.process_time``, best of the repeats) of one process with BLAS
limited to one thread, so a busy machine inflates them less than wall time would; the wall
time of the same run is printed beside them. Accuracy is the largest difference between the
fast tabulated map (:func:`ldos_map`) and the exact Hankel evaluation (:func:`ldos_points`) on
the same grid, divided by the exact map's peak-to-peak contrast.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from stmdenoise.physics import (  # noqa: E402
    apply_artefacts,
    ldos_map,
    ldos_points,
    random_surface,
    sample_pair,
    topograph,
)

ROOT = Path(__file__).resolve().parent.parent


def _time(fn: Callable[[], Any], repeats: int) -> tuple[float, float, Any]:
    best_cpu, best_wall, out = math.inf, math.inf, None
    for _ in range(repeats):
        t0, w0 = time.process_time(), time.perf_counter()
        out = fn()
        best_cpu = min(best_cpu, time.process_time() - t0)
        best_wall = min(best_wall, time.perf_counter() - w0)
    return best_cpu, best_wall, out


def _impurities(rng: np.random.Generator, n_field: int, size: float, margin: float) -> np.ndarray:
    s = random_surface(rng, size=size, impurity_count=n_field, margin=margin)
    return s.impurities


def _exact_grid(imp: np.ndarray, size: float, n: int, energy: float) -> np.ndarray:
    g = (np.arange(n) + 0.5) * size / n
    yy, xx = np.meshgrid(g, g, indexing="ij")
    pts = np.stack([yy.ravel(), xx.ravel()], 1)
    return ldos_points(pts, imp, energy=energy).reshape(n, n)


def bench(quick: bool) -> None:
    rep = 2 if quick else 5
    rng = np.random.default_rng(0)
    size, margin = 36e-9, 5e-9
    print("## ldos_map: one energy (E = 0), black dots, 5 nm margin at the field's density, 1 BLAS thread\n")
    print("| pixels | impurities in field | + margin = N | CPU s | wall s | max error / contrast |")
    print("|---:|---:|---:|---:|---:|---:|")
    cases = [(256, 20), (512, 50), (512, 34)]
    for n, n_field in cases:
        imp = _impurities(rng, n_field, size, margin)
        cpu, wall, fast = _time(lambda imp=imp, n=n: ldos_map(imp, size=size, shape=n, energy=0.0), rep)
        err = "-"
        if n <= 256 or not quick:
            exact = _exact_grid(imp, size, n, 0.0)
            err = f"{np.max(np.abs(fast - exact)) / np.ptp(exact):.1e}"
        print(f"| {n} | {n_field} | {imp.shape[0]} | {cpu:.3f} | {wall:.3f} | {err} |")
    imp50 = rng.uniform(0, size, (50, 2))
    cpu, wall, _ = _time(lambda: ldos_map(imp50, size=size, shape=512, energy=0.0), rep)
    print(f"| 512 | 50 (no margin) | 50 | {cpu:.3f} | {wall:.3f} | - |")

    print("\n## Scaling (one energy, 36 nm field)\n")
    print("| pixels | N impurities | CPU s | CPU s / (pixels² · N) [ns] |")
    print("|---:|---:|---:|---:|")
    for n in (128, 256, 512):
        for n_imp in (10, 30, 90):
            imp = rng.uniform(-margin, size + margin, (n_imp, 2))
            cpu, _, _ = _time(lambda imp=imp, n=n: ldos_map(imp, size=size, shape=n, energy=0.0), rep)
            print(f"| {n} | {n_imp} | {cpu:.3f} | {cpu / (n * n * n_imp) * 1e9:.1f} |")
    print("\n## Energies per call (256², N = 30): the distance tables are shared across energies\n")
    print("| energies | CPU s | CPU s per energy |")
    print("|---:|---:|---:|")
    imp = rng.uniform(-margin, size + margin, (30, 2))
    for ne in (1, 2, 4, 8):
        es = np.linspace(-0.02, 0.02, ne)
        cpu, _, _ = _time(lambda es=es: ldos_map(imp, size=size, shape=256, energy=es), rep)
        print(f"| {ne} | {cpu:.3f} | {cpu / ne:.3f} |")

    print("\n## Topograph quadrature: max error / contrast against 48 Gauss-Legendre nodes\n")
    print("(36 nm field, 96², 8 impurities + 5 nm margin)\n")
    print("| bias | nodes (default rule) | error | error with 1 / 2 / 4 / 6 nodes |")
    print("|---:|---:|---:|---|")
    from stmdenoise.physics.surface import _max_distance, quadrature_nodes

    surf = random_surface(np.random.default_rng(3), size=size, impurity_count=8, margin=margin)
    for bias in (0.005, 0.01, 0.02, 0.05, 0.1):
        ref = topograph(surf, size=size, shape=96, bias=bias, nodes=48)
        nd = quadrature_nodes(bias, max_distance=_max_distance(surf, size))[0].size
        z = topograph(surf, size=size, shape=96, bias=bias)
        errs = [
            np.max(np.abs(topograph(surf, size=size, shape=96, bias=bias, nodes=k) - ref)) / np.ptp(ref)
            for k in (1, 2, 4, 6)
        ]
        print(
            f"| {bias * 1e3:.0f} mV | {nd} | {np.max(np.abs(z - ref)) / np.ptp(ref):.1e} | "
            + " / ".join(f"{e:.1e}" for e in errs)
            + " |"
        )

    print("\n## sample_pair (256², 36 nm, typical preset; 2-20 impurities, 5-30 mV): CPU s per pair\n")
    ts = []
    for s in range(4 if quick else 12):
        cpu, _, _ = _time(lambda s=s: sample_pair(np.random.default_rng(s)), 1)
        ts.append(cpu)
    print(f"median {np.median(ts):.3f} s, max {np.max(ts):.3f} s over {len(ts)} pairs")
    clean = sample_pair(np.random.default_rng(0)).clean
    cpu, _, _ = _time(
        lambda: apply_artefacts(clean, pixel_size=36e-9 / 256, rng=np.random.default_rng(0)), rep
    )
    print(f"apply_artefacts alone (256²): {cpu:.3f} s")


def _u8(a: np.ndarray, lo_pct: float = 0.5, hi_pct: float = 99.5) -> np.ndarray:
    lo, hi = np.percentile(a, [lo_pct, hi_pct])
    return (np.clip((a - lo) / max(hi - lo, 1e-30), 0, 1) * 255).astype(np.uint8)


def _level(a: np.ndarray) -> np.ndarray:
    h, w = a.shape
    yy, xx = np.mgrid[0:h, 0:w]
    m = np.stack([np.ones(a.size), yy.ravel(), xx.ravel()], 1)
    c, *_ = np.linalg.lstsq(m, a.ravel(), rcond=None)
    return a - (m @ c).reshape(a.shape)


def figures() -> None:
    from PIL import Image, ImageDraw

    ref_dir = ROOT.parent / "shared" / "reference" / "cu111_ko_group"
    out_dir = ROOT / "docs" / "img"
    out_dir.mkdir(parents=True, exist_ok=True)
    tile = 320
    px = 0.71e-10
    pair = sample_pair(
        np.random.default_rng(2), pixels=512, size=512 * px, n_impurities=9, bias=0.02, step_probability=0.0
    )
    panels: list[tuple[str, np.ndarray]] = []
    sim_ref = ref_dir / "simulated" / "image_0124.jpg"
    exp_ref = ref_dir / "experimental" / "Cu111_0122_Z_forward_01.jpg"
    if not (sim_ref.exists() and exp_ref.exists()):
        sys.exit(f"reference images not found under {ref_dir}")
    panels.append(("reference simulated (Ko group)", np.asarray(Image.open(sim_ref).convert("L"), float)))
    panels.append(("ours: clean topograph, 36 nm", pair.clean))
    panels.append(
        ("reference experimental Cu(111), 36 nm", np.asarray(Image.open(exp_ref).convert("L"), float))
    )
    panels.append(("ours: 'typical' noisy scan, 36 nm", _level(pair.noisy)))
    fig = Image.new("L", (2 * tile + 30, 2 * tile + 70), 255)
    draw = ImageDraw.Draw(fig)
    for k, (label, a) in enumerate(panels):
        r, c = divmod(k, 2)
        img = Image.fromarray(_u8(a) if k != 0 and k != 2 else a.clip(0, 255).astype(np.uint8)).resize(
            (tile, tile), Image.LANCZOS
        )
        x0, y0 = 10 + c * (tile + 10), 25 + r * (tile + 30)
        fig.paste(img, (x0, y0))
        draw.text((x0, y0 - 15), label, fill=0)
    fig.save(out_dir / "physics_vs_reference.png", optimize=True)

    # artefact presets side by side
    base = sample_pair(
        np.random.default_rng(5), pixels=256, size=36e-9, n_impurities=12, bias=0.015, step_probability=0.0
    )
    row = [("clean", base.clean)]
    scale = float(np.std(base.clean))
    for name in ("mild", "typical", "severe"):
        noisy, _ = apply_artefacts(
            base.clean, preset=name, pixel_size=base.pixel_size, rng=np.random.default_rng(1), scale=scale
        )
        row.append((name, _level(noisy)))
    t2 = 256
    fig = Image.new("L", (4 * t2 + 50, t2 + 30), 255)
    draw = ImageDraw.Draw(fig)
    for k, (label, a) in enumerate(row):
        x0 = 10 + k * (t2 + 10)
        fig.paste(Image.fromarray(_u8(a)), (x0, 25))
        draw.text((x0, 8), label, fill=0)
    fig.save(out_dir / "physics_presets.png", optimize=True)

    # corral spectrum and map
    from stmdenoise.physics import corral_positions

    corral = corral_positions(48, 71.3e-10, center=(9e-9, 9e-9))
    m = ldos_map(corral, size=18e-9, shape=256, energy=-0.0103, broadening=0.005)
    e = np.arange(-0.5, 0.0201, 0.001)
    spec = ldos_points([[9e-9, 9e-9]], corral, energy=e, broadening=0.005)[:, 0]
    w, h = 512, 256
    fig = Image.new("L", (256 + 20 + w, h + 40), 255)
    draw = ImageDraw.Draw(fig)
    fig.paste(Image.fromarray(_u8(m)), (10, 30))
    draw.text((10, 10), "48-atom corral, R = 71.3 A, E = -10 meV", fill=0)
    x = 286 + (e - e[0]) / (e[-1] - e[0]) * (w - 20)
    y = 30 + (h - 10) * (1 - (spec - spec.min()) / np.ptp(spec))
    draw.line(list(zip(x.tolist(), y.tolist(), strict=True)), fill=0, width=2)
    for lvl in (-0.4386, -0.3899, -0.3023, -0.1758, -0.0103):
        xl = 286 + (lvl - e[0]) / (e[-1] - e[0]) * (w - 20)
        draw.line([(xl, 30), (xl, h + 20)], fill=160, width=1)
    draw.text((290, 10), "LDOS at the centre, -0.5 .. +0.02 eV (grey: hard-wall levels)", fill=0)
    fig.save(out_dir / "physics_corral.png", optimize=True)


def calibration() -> None:
    from PIL import Image

    from stmdenoise.physics import scan_statistics

    px = 0.71e-10
    ref_dir = ROOT.parent / "shared" / "reference" / "cu111_ko_group" / "experimental"
    print("| image | row_jitter | hf_fraction | noise |")
    print("|---|---:|---:|---:|")
    rows = []
    for f in sorted(ref_dir.glob("*.jpg")):
        st = scan_statistics(np.asarray(Image.open(f).convert("L"), float), pixel_size=px)
        rows.append(("ref", st))
        print(f"| {f.name} | {st['row_jitter']:.3f} | {st['hf_fraction']:.3f} | {st['noise']:.2f} |")
    for preset in ("mild", "typical", "severe"):
        for seed in range(3):
            p = sample_pair(
                np.random.default_rng(seed),
                pixels=512,
                size=512 * px,
                n_impurities=9,
                bias=0.02,
                step_probability=0.0,
                preset=preset,
            )
            st = scan_statistics(p.noisy, pixel_size=px)
            if seed == 0:
                c = scan_statistics(p.clean, pixel_size=px)
                print(
                    f"| clean (seed 0) | {c['row_jitter']:.3f} | {c['hf_fraction']:.3f} | {c['noise']:.2f} |"
                )
            j, h, n = st["row_jitter"], st["hf_fraction"], st["noise"]
            print(f"| {preset} seed {seed} | {j:.3f} | {h:.3f} | {n:.2f} |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--figures", action="store_true")
    p.add_argument("--calibration", action="store_true", help="artefact statistics vs the Ko-group scans")
    a = p.parse_args()
    if a.figures:
        figures()
    elif a.calibration:
        calibration()
    else:
        bench(a.quick)


if __name__ == "__main__":
    main()
