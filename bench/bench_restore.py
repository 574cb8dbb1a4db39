"""Cost of putting a band's raw content back (do no harm per band, program 0.2.32).

    python bench/bench_restore.py [--repeats 3]

Per frame size, two tables (medians of ``--repeats`` calls after a warm-up; CPU):

* ``processing.spectrum.band_passed``, which keeps a band of an image through its discrete cosine
  transform (type II), against the same band kept through an FFT of the image mirrored to twice
  its size along each axis (the transform the DCT is, made explicitly: the baseline, in this
  script), with the largest difference of the two over the image's RMS;
* what a restore adds to the do-no-harm judge: ``fallback.restore_bands`` on one band and the
  repaired output scored against the second look again (``PairedLooks(...).reports()``), as
  ``safety.judge`` does when it restores, against the whole judge on the same pair (a frame, its
  second look and an output that keeps 60 % of a 9 px wave).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy import ndimage

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))  # bench_model's timer

from bench_model import median_seconds  # noqa: E402

from stmdenoise.fallback import raw_bands, restore_bands  # noqa: E402
from stmdenoise.metrics.bands import Band  # noqa: E402
from stmdenoise.metrics.fidelity import PairedLooks  # noqa: E402
from stmdenoise.processing.spectrum import band_passed  # noqa: E402
from stmdenoise.safety import judge  # noqa: E402
from stmdenoise.scan import Scan  # noqa: E402

PX = 1e-10
SIZES = (256, 512, 1024, 2048)


def mirrored_band(a: np.ndarray, ranges: list[tuple[float, float]], column: float) -> np.ndarray:
    """The baseline: the band kept through an FFT of ``a`` mirrored to twice its size."""
    rows, cols = a.shape
    m = np.block([[a, a[:, ::-1]], [a[::-1, :], a[::-1, ::-1]]])
    kx = np.fft.fftfreq(2 * cols)[None, :]
    k = np.hypot(np.fft.fftfreq(2 * rows)[:, None], kx)
    mask = np.zeros(k.shape, dtype=bool)
    for low, high in ranges:
        mask |= (k > 0) & (k >= low) & (k < high)
    if column > 0:
        mask &= np.abs(kx) > column + 1e-12
    return np.real(np.fft.ifft2(np.fft.fft2(m) * mask))[:rows, :cols]


def weakened_pair(n: int) -> tuple[Scan, Scan, Scan]:
    """A frame, its second look and an output that keeps 60 % of a 9 px wave (else the surface)."""
    rng = np.random.default_rng(1)
    s = ndimage.gaussian_filter(rng.normal(size=(n, n)), 3.0) * 12.0
    wave = 0.8 * np.sin(2 * np.pi * np.arange(n)[None, :] / 9.0)
    s = s + wave
    fwd = Scan(s + rng.normal(size=s.shape), pixel_size=(PX, PX), channel="Z", direction="forward")
    bwd = Scan(s + rng.normal(size=s.shape), pixel_size=(PX, PX), channel="Z", direction="backward")
    out = fwd.with_data(s - 0.4 * wave + 0.05 * rng.normal(size=s.shape))
    return fwd, bwd, out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    print("| frame | band_passed, DCT (s) | mirrored FFT (s) | ratio | largest difference / RMS |")
    print("|---|---:|---:|---:|---:|")
    for n in SIZES:
        a = np.random.default_rng(n).normal(size=(n, n))
        ranges, column = [(0.06, 0.13)], 1.0 / n

        def dct(a: np.ndarray = a, r: list[tuple[float, float]] = ranges, c: float = column) -> np.ndarray:
            return band_passed(a, r, column=c)

        def fft(a: np.ndarray = a, r: list[tuple[float, float]] = ranges, c: float = column) -> np.ndarray:
            return mirrored_band(a, r, c)

        t_dct, t_fft = median_seconds(dct, args.repeats), median_seconds(fft, args.repeats)
        diff = np.abs(dct() - fft()).max() / a.std()
        print(f"| {n}² | {t_dct:.3f} | {t_fft:.3f} | {t_dct / t_fft:.2f} | {diff:.1e} |")
    print()
    print("| frame | restore one band and score it again (s) | the whole judge (s) | ratio |")
    print("|---|---:|---:|---:|")
    band = Band(16 * PX, 8 * PX)
    for n in SIZES[:3]:
        fwd, bwd, out = weakened_pair(n)

        def restore(f: Scan = fwd, b: Scan = bwd, o: Scan = out) -> object:
            return PairedLooks([restore_bands(o, f, [band])], f, b, bands=raw_bands(f)).reports()

        def whole(f: Scan = fwd, b: Scan = bwd, o: Scan = out) -> object:
            return judge(f, o, b)

        t_restore, t_judge = median_seconds(restore, args.repeats), median_seconds(whole, args.repeats)
        print(f"| {n}² | {t_restore:.3f} | {t_judge:.3f} | {t_restore / t_judge:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
