"""Cost of following the piezo's hysteresis beside the two-direction denoise it serves.

    python bench/bench_hysteresis.py [--repeats 3]

:func:`stmdenoise.metrics.second_look.second_look` measures, for every pair it registers, the
displacement along the lines left after the rigid offset
(:func:`stmdenoise.metrics.hysteresis.fast_axis_warp`).
Here, per frame size, the median time of that measurement on a bowed pair (trace and retrace
4-16 px apart, so that every step runs and the warp is found) and of the shipped model's
checked two-direction denoise of the same pair (``Denoiser.denoise_checked`` with the partner:
registration, warp, filter and do-no-harm judge) in the same run, and their ratio. Target: at
most a fifth of the denoise's time at 512² (docs/metrics.md).
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

from stmdenoise.denoise import Denoiser, default_model_dir  # noqa: E402
from stmdenoise.metrics.hysteresis import fast_axis_warp  # noqa: E402
from stmdenoise.metrics.registration import register_frames  # noqa: E402
from stmdenoise.scan import Scan  # noqa: E402


def _pair(n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(n)
    strip = ndimage.gaussian_filter(rng.normal(size=(n, n + 80)), 3.0) * 10
    u = np.arange(n, dtype=float)
    d = (2 + 6 * np.sin(np.pi * u / (n - 1))) * n / 256
    src = np.arange(n + 80, dtype=float)

    def look(shift: np.ndarray) -> np.ndarray:
        return np.array([np.interp(u + 40 + shift, src, r) for r in strip]) + rng.normal(size=(n, n))

    return look(d), look(-d)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    den = Denoiser.from_folder(default_model_dir(), device="cpu")
    print("| frame | follow the hysteresis (s) | checked two-direction denoise (s) | follow / denoise |")
    print("|---|---:|---:|---:|")
    for n in (256, 512, 1024):
        fwd, bwd = _pair(n)
        offset = register_frames(fwd, bwd, max_shift=max(4.0, n / 16))
        assert fast_axis_warp(fwd, bwd, offset) is not None
        warp = median_seconds(lambda f=fwd, b=bwd, o=offset: fast_axis_warp(f, b, o), args.repeats)
        f = Scan(fwd * 1e-10, pixel_size=(1e-10, 1e-10), channel="Z", unit="m")
        b = Scan(bwd * 1e-10, pixel_size=(1e-10, 1e-10), channel="Z", unit="m", direction="backward")

        # fresh copies each call: second_look remembers the last pairs of scan objects
        def checked(f: Scan = f, b: Scan = b) -> object:
            return den.denoise_checked(f.with_data(f.data), partner=b.with_data(b.data))

        total = median_seconds(checked, args.repeats)
        print(f"| {n}² | {warp:.3f} | {total:.3f} | {warp / total:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
