"""Cost of the single-look checks (lattice, line noise, heights) beside the single-frame denoise.

    python bench/bench_lattice.py [--repeats 5]

Without a second look, :func:`stmdenoise.safety.judge` compares the model's output with the raw
scan at the peaks of any hexagonal lattice the scan shows (:mod:`stmdenoise.metrics.lattice`).
Here, per frame size, the median time of that check (``lattice_kept`` on a white-noise frame:
every step runs, nothing is found) and of the shipped model's single-frame denoise of the same
frame (the spectral gain, ``Denoiser.denoise``) in the same run, and their ratio; beside it the
line-noise bound (:func:`stmdenoise.metrics.line_noise.line_bands`, which always runs every
step), and the heights check every delivered output gets
(:func:`stmdenoise.metrics.heights.strong_contrast`, on the same frame with a molecule 500x the
noise added, so that its strong components are gathered and tested). Target: the checks together
add at most a quarter of the denoise's time at 512² (docs/metrics.md; a fifth for the lattice and
line-noise checks alone, before program 0.2.19 added the heights check, which every delivered
output gets, on the two-direction path too).

Beside them, what the repair of a frame alone costs where it runs (since program 0.2.38: the
output delivered keeps under 0.9 of a found lattice's power, rare; not counted in the ratio):
:func:`stmdenoise.fallback.restore_lattices` of a hexagonal lattice (three peaks) on the same frame;
and (since program 0.2.40) what a frame alone whose output removed a lattice gets instead of the
raw scan, :func:`stmdenoise.fallback.keep_lattice_scales` (every strong peak and the broad periods
put back), on a lattice of bumps (8 px, its harmonics: the number of peaks in brackets) blurred by
3 px.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))  # bench_model's timer

from bench_model import median_seconds  # noqa: E402

from stmdenoise.denoise import Denoiser, default_model_dir  # noqa: E402
from stmdenoise.fallback import keep_lattice_scales, restore_lattices  # noqa: E402
from stmdenoise.metrics.heights import strong_contrast  # noqa: E402
from stmdenoise.metrics.lattice import Lattice, lattice_kept  # noqa: E402
from stmdenoise.metrics.line_noise import line_bands  # noqa: E402
from stmdenoise.scan import Scan  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    den = Denoiser.from_folder(default_model_dir(), device="cpu")
    print(
        "| frame | lattice check (s) | line-noise check (s) | heights check (s) | single-frame denoise (s) "
        "| checks / denoise | lattice repair, where it runs (s) | peaks and broad periods (s) [peaks] |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for n in (256, 512, 1024):
        z = np.random.default_rng(n).normal(size=(n, n)) * 1e-11
        scan = Scan(z, pixel_size=(1e-10, 1e-10), channel="Z", unit="m")
        out = np.asarray(den.denoise(scan).data)
        check = median_seconds(lambda z=z, out=out: lattice_kept(z, out, 1e-10), args.repeats)
        lines = median_seconds(lambda z=z, out=out: line_bands(z, out), args.repeats)
        yy, xx = np.mgrid[0:n, 0:n]
        tall = z + 5e-9 * np.exp(-((yy - n / 2) ** 2 + (xx - n / 2) ** 2) / (2 * (n / 16) ** 2))
        heights = median_seconds(lambda t=tall: strong_contrast(t, 0.98 * t), args.repeats)
        model = median_seconds(lambda scan=scan: den.denoise(scan), args.repeats)
        ratio = (check + lines + heights) / model
        hexagon = Lattice(8.0, None, 100.0, ((0, n // 8), (n // 9, n - n // 16), (n // 9, n // 16)), snr=40.0)
        out_scan = scan.with_data(out)
        repair = median_seconds(
            lambda o=out_scan, s=scan, h=hexagon: restore_lattices(o, s, [h]), args.repeats
        )
        k = 2 * np.pi / 8.0
        waves = sum(
            np.cos(k * (xx * np.cos(a) + yy * np.sin(a))) for a in (0.2, 0.2 + np.pi / 3, 0.2 + 2 * np.pi / 3)
        )
        bumps = scan.with_data(z + 3e-11 * np.exp(waves) / np.exp(waves).std())
        blurred = bumps.with_data(gaussian_filter(np.asarray(bumps.data), 3.0))
        scales = keep_lattice_scales(blurred, bumps)
        broad = median_seconds(lambda o=blurred, s=bumps: keep_lattice_scales(o, s), args.repeats)
        cells = (check, lines, heights, model)
        print(
            f"| {n}² | "
            + " | ".join(f"{v:.3f}" for v in cells)
            + f" | {ratio:.2f} | {repair:.3f} | {broad:.3f} [{scales.peaks}] |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
