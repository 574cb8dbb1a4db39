"""Seams at the two-direction Wiener's band boundaries, read from saved bench outputs.

    python bench/fidelity.py --save-outputs --out runs/A      # (and --direction backward)
    python bench/seams.py runs/A [runs/B ...] [--family model|delivered]

The two-direction Wiener filters each band of ``stmdenoise.model.two_direction.BAND`` rows with the
noise of the other parity's bands (cross-fitting). Where the two parities' noise differs (a burst
in one band), the two gains differ and the output can jump at a boundary: a horizontal seam the raw
scan does not have. For every saved output with at least two bands of complete rows, this prints
the RMS row-to-row difference at each internal boundary over the mean of its four neighbours'
(1: no seam; ``stmdenoise.metrics.seams``, which the do-no-harm verdict uses to name a seam)
and the 95th percentile of that ratio over all rows of the output (what its own structure
gives). Outputs of scans that used shorter bands (small feedback-error currents) are read at
``BAND`` rows too; the table says the rows.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stmdenoise.metrics.seams import boundary_ratios, row_ratios  # noqa: E402
from stmdenoise.model.two_direction import BAND  # noqa: E402


def ratios(out: NDArray[np.float64], band: int = BAND) -> tuple[list[float], float]:
    """Each internal boundary's ratio (:func:`stmdenoise.metrics.seams.boundary_ratios`) and the
    95th percentile of the ratio over all rows (:func:`~stmdenoise.metrics.seams.row_ratios`)."""
    return [v for _r, v in boundary_ratios(out, band)], float(np.nanpercentile(row_ratios(out), 95))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", type=Path, nargs="+", help="bench/fidelity.py --save-outputs folders")
    ap.add_argument("--family", default="model", choices=("model", "delivered"))
    args = ap.parse_args(argv)
    print("| run | output | rows | boundary ratios (row 64, 128, ...) | 95th percentile over all rows |")
    print("|---|---|---:|---|---:|")
    for run in args.runs:
        path = run / "outputs.npz"
        if not path.is_file():
            raise SystemExit(f"{path}: not found (run bench/fidelity.py --out {run} --save-outputs)")
        with np.load(path) as z:
            for key in z.files:
                if not key.endswith(f"|{args.family}"):
                    continue
                out = np.asarray(z[key], dtype=np.float64)
                rows = int(np.isfinite(out).all(axis=1).sum())
                if rows < 2 * BAND + 3:
                    continue
                at, p95 = ratios(out)
                cells = " ".join(f"{v:.2f}" for v in at)
                print(f"| {run.name} | {key.split('|')[0]} | {rows} | {cells} | {p95:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
