"""Two runs of bench/independent_sim.py compared method by method, pair by pair.

    python bench/independent_sim.py --seed S --out runs/A          # e.g. main
    python bench/independent_sim.py --seed S --out runs/B          # e.g. a candidate
    python bench/independent_sim_compare.py runs/A runs/B [--out FILE]

Both runs must have drawn the same pairs (same seed and count; checked). For each method scored in
both, B minus A per pair in PSNR (dB), SSIM and RMS error (pm), then the mean over the pairs with
twice its standard error (the pairs taken as independent draws): the *paired* difference, which
resolves far smaller changes than the two runs' own means and spreads. A method whose scores are
identical pair for pair reads "identical". The question a candidate's rule asks ("is it better
than main on this simulator beyond what these pairs can resolve?") asked directly.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

METRICS = ("PSNR", "SSIM", "RMSE_pm")


def load(run: Path) -> dict[str, object]:
    """One run's ``independent_sim.json``."""
    path = run / "independent_sim.json"
    if not path.is_file():
        raise SystemExit(f"{path}: not found (run bench/independent_sim.py --out {run})")
    data: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return data


def paired(a: list[dict[str, float]], b: list[dict[str, float]], metric: str) -> tuple[float, float]:
    """Mean of B minus A over the pairs and its standard error (NaN SE for one pair)."""
    d = np.array([y[metric] - x[metric] for x, y in zip(a, b, strict=True)], dtype=np.float64)
    se = float(d.std(ddof=1) / math.sqrt(d.size)) if d.size > 1 else math.nan
    return float(d.mean()), se


def table(a: dict[str, object], b: dict[str, object]) -> list[str]:
    """The comparison's Markdown lines."""
    if (a.get("seed"), a.get("pairs")) != (b.get("seed"), b.get("pairs")):
        raise SystemExit(
            f"the runs drew different pairs (seed {a.get('seed')}, {a.get('pairs')} pairs against "
            f"seed {b.get('seed')}, {b.get('pairs')} pairs)"
        )
    sa, sb = a["scores"], b["scores"]
    assert isinstance(sa, dict) and isinstance(sb, dict)
    lines = [
        f"B minus A over {a.get('pairs')} pairs (seed {a.get('seed')}), mean ± twice the paired "
        "standard error; beyond: the difference exceeds it.",
        "",
        "| method | PSNR (dB) | SSIM | RMS error (pm) |",
        "|---|---:|---:|---:|",
    ]
    for method in sa:
        if method not in sb:
            continue
        if sa[method] == sb[method]:
            lines.append(f"| {method} | identical | identical | identical |")
            continue
        cells = []
        for metric, digits in zip(METRICS, (2, 4, 3), strict=True):
            mean, se = paired(sa[method], sb[method], metric)
            beyond = " (beyond)" if math.isfinite(se) and abs(mean) > 2 * se else ""
            cells.append(f"{mean:+.{digits}f} ± {2 * se:.{digits}f}{beyond}")
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a", type=Path, help="run A (e.g. main)")
    ap.add_argument("b", type=Path, help="run B (e.g. a candidate)")
    ap.add_argument("--out", type=Path, help="also write the table to this file")
    args = ap.parse_args(argv)
    text = "\n".join(
        [f"# {args.b} against {args.a} (`bench/independent_sim.py`)", "", *table(load(args.a), load(args.b))]
    )
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
