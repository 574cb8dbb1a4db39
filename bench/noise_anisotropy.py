"""How coloured and how anisotropic the noise of real two-direction scans is.

    python bench/noise_anisotropy.py [--root ../shared/realdata]

For each Z and Current channel of every two-direction file, the forward frame and the backward
frame registered onto it by whole pixels (``stmdenoise.training.spectral_gain.registered_pair``,
the pairs the spectral gain trains on): the power spectrum of their difference estimates twice
the noise (everything that differs between the two looks, including direction-dependent signal
such as the feedback error), the cross-spectrum the signal they share. Per |k| band (cycles per
pixel) the table prints

- N: the median noise power relative to the band 0.3-0.5 (how far from white: 1 everywhere for
  white noise),
- fast/slow: the median noise power where |kx| > 2 |ky| (variation along the scan lines) over
  where |ky| > 2 |kx| (from line to line) at the same |k| (1 for isotropic noise),
- S/N: the median shared-signal power over the noise power.

Why: the spectral gain reads its noise floor at high |k| and in rings of |k|; noise that is
coloured or stronger along one axis looks like signal to such floors (docs/model-selection.md,
variant F).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from fidelity import real_root, two_direction_scans  # noqa: E402

from stmdenoise.processing import level_plane  # noqa: E402
from stmdenoise.processing.spectrum import hann_window  # noqa: E402
from stmdenoise.training.spectral_gain import registered_pair  # noqa: E402

BANDS = ((0.05, 0.1), (0.1, 0.2), (0.2, 0.3), (0.3, 0.5))


def noise_table(x: np.ndarray, b: np.ndarray) -> list[tuple[float, float, float]]:
    """(N relative to the last band, fast/slow, S/N) per band of :data:`BANDS`."""
    lx, lb = level_plane(x), level_plane(b)
    win = hann_window(lx.shape)
    fx, fb = np.fft.fft2(lx * win), np.fft.fft2(lb * win)
    noise = np.abs(fx - fb) ** 2 / 2
    signal = np.real(fx * np.conj(fb))
    ky = np.abs(np.fft.fftfreq(lx.shape[0]))[:, None]
    kx = np.abs(np.fft.fftfreq(lx.shape[1]))[None, :]
    r = np.hypot(ky, kx)
    rows = []
    for lo, hi in BANDS:
        m = (r >= lo) & (r < hi)
        n = float(np.median(noise[m]))
        fast = float(np.median(noise[m & (kx > 2 * ky)]))
        slow = float(np.median(noise[m & (ky > 2 * kx)]))
        rows.append((n, fast / slow, float(np.median(signal[m])) / n))
    white = rows[-1][0]
    return [(n / white, fs, sn) for n, fs, sn in rows]


def main(argv: list[str] | None = None) -> int:
    root = real_root(__doc__.splitlines()[0], argv)
    if root is None:
        return 2
    head = " | ".join(f"{lo:g}-{hi:g}: N, fast/slow, S/N" for lo, hi in BANDS)
    print(f"| channel | {head} |")
    print("|---|" + "---:|" * len(BANDS))
    for name, fwd, bwd in two_direction_scans(root):
        pair = registered_pair(fwd, bwd)
        if pair is None:
            print(f"| {name} | " + " | ".join(["not registrable"] * len(BANDS)) + " |")
            continue
        cells = [f"{n:.3g}, {fs:.2f}, {sn:.2f}" for n, fs, sn in noise_table(*pair)]
        print(f"| {name} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
