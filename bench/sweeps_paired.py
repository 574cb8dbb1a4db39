"""Two runs of ``bench/sweeps.py`` compared pair by pair: the second model minus the first.

    python bench/sweeps_paired.py RUN_A RUN_B [--out DIR]

``RUN_A`` and ``RUN_B`` are folders (or ``sweeps.json`` files) written by ``bench/sweeps.py
--out``, normally the shipped model and a candidate on the same seed and pair count. For every
level both runs hold, on the same seeds, the table gives the mean of B's model score minus A's
over the pairs and twice the paired standard error, for SSIM, 8-bit PSNR and the RMS error in pm
(negative is better for the RMS error), and marks a level where B is worse beyond that (the
"no level worse by more than 2 paired SE" parts of the rules in docs/model-selection.md). Levels
whose seeds differ between the runs are named and skipped (a pair-by-pair difference would mean
nothing there). Nothing is recomputed: the scores are the runs' own.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

#: (metric key in sweeps.json, column label, +1 if higher is better else -1)
METRICS = (("SSIM", "SSIM", 1.0), ("PSNR", "PSNR, dB", 1.0), ("RMSE_pm", "RMS error, pm", -1.0))


def load(path: Path) -> dict[str, Any]:
    """The ``sweeps.json`` of a run folder (or the file itself)."""
    f = path / "sweeps.json" if path.is_dir() else path
    if not f.is_file():
        raise SystemExit(f"{f}: no sweeps.json (write one with `python bench/sweeps.py --out DIR`)")
    data: dict[str, Any] = json.loads(f.read_text())
    return data


def paired(a: list[float], b: list[float]) -> tuple[float, float]:
    """Mean of b - a and twice its paired standard error (nan with one pair)."""
    d = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    two_se = 2.0 * float(d.std(ddof=1)) / math.sqrt(d.size) if d.size > 1 else math.nan
    return float(d.mean()), two_se


def compare(run_a: dict[str, Any], run_b: dict[str, Any]) -> tuple[list[str], list[str], int]:
    """Markdown rows (one per common level), the skipped levels, and how many are worse beyond 2 SE."""
    rows, skipped, worse = [], [], 0
    for sweep, levels_b in run_b["sweeps"].items():
        by_level_a = {lv["level"]: lv for lv in run_a["sweeps"].get(sweep, [])}
        for lv_b in levels_b:
            lv_a = by_level_a.get(lv_b["level"])
            if lv_a is None:
                continue
            if lv_a["seeds"] != lv_b["seeds"]:
                skipped.append(f"{sweep}, {lv_b['level']} (different pairs)")
                continue
            cells, flagged = [], False
            for key, _, sign in METRICS:
                a = lv_a["scores"]["model"].get(key)
                b = lv_b["scores"]["model"].get(key)
                if a is None or b is None:
                    cells.append("n/a")
                    continue
                mean, two_se = paired(a, b)
                bad = sign * mean < 0 and abs(mean) > two_se
                flagged |= bad
                cells.append(f"{mean:+.4f} ± {two_se:.4f}" + (" **worse**" if bad else ""))
            worse += flagged
            rows.append(f"| {sweep}, {lv_b['level']} | {len(lv_b['seeds'])} | " + " | ".join(cells) + " |")
    return rows, skipped, worse


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_a", type=Path, help="first run (the reference, e.g. the shipped model)")
    ap.add_argument("run_b", type=Path, help="second run (the candidate)")
    ap.add_argument("--out", type=Path, help="write sweeps_paired.md here")
    args = ap.parse_args(argv)
    run_a, run_b = load(args.run_a), load(args.run_b)
    rows, skipped, worse = compare(run_a, run_b)
    if not rows:
        raise SystemExit(f"{args.run_a} and {args.run_b} share no level on the same pairs")
    head = " | ".join(label for _, label, _ in METRICS)
    lines = [
        f"# Sweeps, pair by pair: {run_b.get('model')} minus {run_a.get('model')}",
        "",
        "Mean over the level's pairs ± twice the paired standard error (RMS error: negative is better).",
        "",
        f"| sweep, level | pairs | {head} |",
        "|---|---:|" + "---:|" * len(METRICS),
        *rows,
        "",
        f"Worse beyond 2 paired SE on at least one metric: {worse} of {len(rows)} levels.",
    ]
    if skipped:
        lines.append("Skipped (not the same pairs in both runs): " + "; ".join(skipped) + ".")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "sweeps_paired.md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
