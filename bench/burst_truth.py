"""Noise bursts that a trace line and its retrace share: the two-direction Wiener against ground truth.

    python bench/burst_truth.py [--seeds 12] [--pixel 0.3]

A burst of tip or electronics noise hits a trace line and its retrace alike, so both looks of a
scan get it at the same rows (the three uneven realdata channels, `stmdenoise.metrics.uneven`).
Here the surface is known: a 256 x 160 px pattern of concentric waves (16 px period) plus a slope,
two looks with independent white noise (RMS 0.2) and, in the same rows of both, a burst of
``amplitude`` times that noise. Each output is scored twice, relative to the raw frame (raw = 1):

``true``
    error power against the surface, levelled and Hann-windowed as the estimate sees it;
``est / true``
    the fwd/bwd estimate (``pair_fidelity`` against the backward frame) over the truth: below 1 the
    estimate is optimistic.

Methods: the shipped two-direction Wiener with the per-strip levels
(``stmdenoise.pairing.filter_levels``, only where they differ 100x; periods under 2 Å: the pixel
size sets how much of the spectrum that is), the same filter with version 2.7's levels (one per
strip, measured at every period; the last column: shipped minus it, paired), the same filter
without levels (one noise level per band), and a 1 px Gaussian that never reads the backward frame
(its ``est / true`` shows the estimate's own bias under a burst). A burst too weak to open the
levels' gate is marked so. Bursts of several widths and positions, aligned with the 16-row strips or
straddling two of them; ``--noise blue`` makes the burst's noise finer than the rest's (a second
difference along the fast axis), the case versions 2.8-2.9 served worse than 2.7's measure and
2.10's levels per band of fast-axis frequency serve (model card, known limits).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fidelity_check import true_errors  # noqa: E402

from stmdenoise.metrics.fidelity import pair_fidelity  # noqa: E402
from stmdenoise.metrics.uneven import strip_levels  # noqa: E402
from stmdenoise.model.two_direction import two_direction_wiener  # noqa: E402
from stmdenoise.pairing import filter_levels  # noqa: E402
from stmdenoise.scan import Scan  # noqa: E402

ROWS, COLS, NOISE = 256, 160, 0.2
#: (first row, rows) of the bursts: straddling two strips, aligned with one, short, long, wide.
BURSTS = ((40, 16), (32, 16), (100, 8), (100, 40), (60, 100))
AMPLITUDES = (5.0, 15.0, 50.0)


def surface() -> np.ndarray:
    yy, xx = np.mgrid[0:ROWS, 0:COLS]
    return np.cos(2 * np.pi * np.hypot(yy - 70, xx - 60) / 16.0) + 0.01 * xx


def burst_noise(rng: np.random.Generator, shape: tuple[int, int], kind: str) -> np.ndarray:
    """Unit-variance noise for the burst's rows: white, or blue (a second difference along the
    fast axis, its power rising to the finest periods)."""
    if kind == "white":
        return rng.standard_normal(shape)
    n = rng.standard_normal((shape[0], shape[1] + 2))
    return np.asarray((n[:, 2:] - 2 * n[:, 1:-1] + n[:, :-2]) / np.sqrt(6.0))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=12, help="pairs per burst (default 12)")
    ap.add_argument("--pixel", type=float, default=0.3, help="pixel size, Å (default 0.3)")
    ap.add_argument(
        "--noise",
        choices=("white", "blue"),
        default="white",
        help="the burst's noise: white, or blue (finer than the rest's; default white)",
    )
    args = ap.parse_args(argv)
    px = args.pixel * 1e-10
    s = surface()
    everything = np.ones((ROWS, COLS), dtype=bool)
    everything[0, 0] = False
    names = (
        "with strip levels (shipped)",
        "whole-spectrum levels (2.7)",
        "one level per band",
        "Gaussian 1 px",
    )
    print(
        f"### Bursts both looks share ({args.noise} noise in the burst), {args.pixel:g} Å per pixel, "
        f"{args.seeds} pairs each (raw = 1.00)\n"
    )
    print(
        "| burst rows | amplitude | "
        + " | ".join(f"{n}: true (est / true)" for n in names)
        + " | shipped − 2.7: true (± 2 paired SE) |"
    )
    print("|---|---:|" + "---:|" * (len(names) + 1))
    for first, height in BURSTS:
        for amp in AMPLITUDES:
            est: dict[str, list[float]] = {n: [] for n in names}
            true: dict[str, list[float]] = {n: [] for n in names}
            gate = True
            for seed in range(args.seeds):
                rng = np.random.default_rng([seed, first, height, int(amp)])
                looks = []
                for _ in range(2):
                    noise = NOISE * rng.standard_normal(s.shape)
                    noise[first : first + height] = NOISE * amp * burst_noise(rng, (height, COLS), args.noise)
                    looks.append(s + noise)
                f, b = looks
                levels = filter_levels(f, b, (0.0, 0.0), (px, px))
                gate = levels is not None
                whole = strip_levels(f, b, (0.0, 0.0))  # 2.7: measured at every period
                outs = {
                    names[0]: two_direction_wiener(
                        f, b, (0.0, 0.0), pixel_size=(px, px), strip_levels=levels
                    ),
                    names[1]: two_direction_wiener(f, b, (0.0, 0.0), pixel_size=(px, px), strip_levels=whole),
                    names[2]: two_direction_wiener(f, b, (0.0, 0.0)),
                    names[3]: gaussian_filter(f, 1.0),
                }
                fwd, bwd = Scan(f, pixel_size=(px, px)), Scan(b, pixel_size=(px, px))
                for n, out in outs.items():
                    true[n].append(true_errors(out, f, s, [everything])[0])
                    est[n].append(pair_fidelity(out, fwd, bwd, offset=(0.0, 0.0)).overall.error)
            cells = [f"{np.mean(true[n]):.3f} ({np.mean(est[n]) / np.mean(true[n]):.2f})" for n in names]
            d = np.asarray(true[names[0]]) - np.asarray(true[names[1]])
            cells.append(f"{d.mean():+.4f} ± {2 * d.std(ddof=1) / np.sqrt(d.size):.4f}")
            note = "" if gate else " (levels' gate closed)"
            row = f"| {first}-{first + height - 1}{note} | {amp:g}x | " + " | ".join(cells) + " |"
            print(row, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
