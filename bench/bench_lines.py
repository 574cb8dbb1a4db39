"""Time and peak memory of the two-direction Wiener with and without its line step; prints a table.

Usage::

    python bench/bench_lines.py [--sizes 512 1024 2048]

Each cell runs in a fresh process (peak resident memory is per process): a pair of frames holding
two off-grid lattice waves and white noise at 1 Å per pixel, denoised by
:func:`stmdenoise.model.two_direction.two_direction_wiener` as the app runs it, and again with the
line step switched off (its search returns nothing), the baseline of the same run. The line step
(:mod:`stmdenoise.model.lines`, version 2.37) searches at most the central
:data:`~stmdenoise.model.lines.SEARCH_SIDE` rows and columns of a scan, so its memory stays bounded
on large scans. The error column is the output's RMS difference from the clean waves. No
assertions: timing never decides a test.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
import numpy as np
from stmdenoise.model import two_direction as td
n, lines = {n}, {lines}
if not lines:
    td.lines_both_share = lambda *args, **kwargs: None
rng = np.random.default_rng(0)
yy, xx = np.mgrid[0:n, 0:n].astype(float)
clean = np.cos(2 * np.pi * (yy / 23.3 + xx / 41.7)) + np.cos(2 * np.pi * (yy / 17.9 - xx / 29.3))
fwd, bwd = clean + rng.normal(0, 0.3, (n, n)), clean + rng.normal(0, 0.3, (n, n))
del yy, xx
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
out = td.two_direction_wiener(fwd, bwd, (0.0, 0.0), pixel_size=(1e-10, 1e-10))
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"seconds": seconds, "peak_mb": peak / 1024, "before_mb": before / 1024,
                  "error": float(np.std(out - clean))}}))
"""


def measure(n: int, lines: bool) -> dict[str, float]:
    """One cell, in a fresh Python process."""
    code = CHILD.format(root=str(ROOT), n=n, lines=lines)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[512, 1024, 2048])
    args = ap.parse_args(argv)
    head = "| size | without lines: s / peak MB / error | with lines: s / peak MB / error "
    print(head + "| time ratio | memory ratio |")
    print("|---|---:|---:|---:|---:|")
    for n in args.sizes:
        off, on = measure(n, False), measure(n, True)
        print(
            f"| {n}² | {off['seconds']:.2f} / {off['peak_mb']:.0f} / {off['error']:.4f} "
            f"| {on['seconds']:.2f} / {on['peak_mb']:.0f} / {on['error']:.4f} "
            f"| {on['seconds'] / off['seconds']:.2f} | {on['peak_mb'] / off['peak_mb']:.2f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
