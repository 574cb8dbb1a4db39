"""Time the processing steps on 512x512 and 2048x2048 images; prints a Markdown table.

Usage::

    python bench/bench_processing.py [--repeat N] [--sizes 512 2048]

Each row is the best of ``--repeat`` runs (wall time, one process). The ratio column compares
each step with a baseline measured in the same run on the same image: one full pass of
``np.nanmedian`` over the image (a cost every NaN-aware step pays at least once). No
assertions: timing never decides a test.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stmdenoise.processing import (  # noqa: E402
    align_rows,
    blend_tiles,
    crop_nan,
    iter_tiles,
    level_plane,
    level_poly,
    pad_to_multiple,
    resample_to_pixel_size,
    robust_normalize,
)
from stmdenoise.scan import Scan  # noqa: E402


def _best(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _image(n: int, rng: np.random.Generator) -> np.ndarray:
    rows, cols = np.mgrid[0:n, 0:n] / n
    img = 1e-10 * rng.normal(size=(n, n)) + 3e-9 * rows - 1e-9 * cols + 2e-7
    img += 5e-11 * rng.normal(size=(n, 1))  # row offsets
    img[int(0.8 * n) :] = np.nan  # aborted scan
    img[int(0.8 * n) - 1, n // 2 :] = np.nan
    return img


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="+", default=[512, 2048])
    parser.add_argument("--tile", type=int, default=512)
    parser.add_argument("--overlap", type=int, default=168)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    print(
        f"numpy {np.__version__}; OPENBLAS_NUM_THREADS={threads}; {os.cpu_count()} CPUs; "
        f"load average {os.getloadavg()[0]:.1f}; best of {args.repeat}; images with 20% NaN rows\n"
    )
    print("| size | step | time (ms) | ratio to nanmedian pass |")
    print("|---|---|---:|---:|")
    for n in args.sizes:
        img = _image(n, rng)
        scan = Scan(img, pixel_size=(1e-10, 1e-10), unit="m")
        padded, _ = pad_to_multiple(np.nan_to_num(img), 4)

        def tiled_identity(padded: np.ndarray = padded) -> np.ndarray:
            slices = iter_tiles(padded.shape, tile=args.tile, overlap=args.overlap)
            tiles = ((sl, padded[sl]) for sl in slices)
            return blend_tiles(padded.shape, tiles, overlap=args.overlap)

        steps: list[tuple[str, Callable[[], object]]] = [
            ("baseline: np.nanmedian", lambda img=img: np.nanmedian(img)),
            ("level_plane", lambda img=img: level_plane(img)),
            ("level_poly order 3", lambda img=img: level_poly(img, order=3)),
            ("align_rows median", lambda img=img: align_rows(img, method="median")),
            ("align_rows median_diff", lambda img=img: align_rows(img, method="median_diff")),
            ("robust_normalize", lambda img=img: robust_normalize(img)),
            ("crop_nan", lambda img=img: crop_nan(img)),
            ("pad_to_multiple 4", lambda img=img: pad_to_multiple(img, 4)),
            (f"tile+blend {args.tile}/{args.overlap} (identity)", tiled_identity),
            ("resample x0.5 px (2x pixels)", lambda scan=scan: resample_to_pixel_size(scan, 0.5e-10)),
            ("resample x2 px (antialiased)", lambda scan=scan: resample_to_pixel_size(scan, 2e-10)),
        ]
        base = None
        for name, fn in steps:
            t = _best(fn, args.repeat)
            base = t if base is None else base
            print(f"| {n}² | {name} | {t * 1e3:.1f} | {t / base:.2f} |")


if __name__ == "__main__":
    main()
