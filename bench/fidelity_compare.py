"""Two runs of bench/fidelity.py compared channel by channel, with the paired standard error.

    python bench/fidelity.py --out runs/A --save-outputs            # e.g. main
    python bench/fidelity.py --out runs/B --save-outputs            # e.g. a candidate
    python bench/fidelity_compare.py runs/A runs/B [--family model|delivered] [--out FILE]

Each run's outputs (``outputs.npz``) of every two-direction channel are judged against the same
second look (``judging_look``, with the run's direction and ``--rescaled-look`` choice, which the
two runs must share): B's estimated error minus A's, overall and in every band, with the standard
error of that *paired* difference (``stmdenoise.metrics.fidelity.error_difference``: against the
same look the noise-power estimate cancels, so differences far smaller than either report's own
scatter are resolved). Prints one row per channel and the mean over channels with its standard
error (channels taken as independent), and how many channels B is lower or higher on beyond 2 SE:
the question a candidate's rule asks ("is it worse than main on real scans, beyond what the
estimate can resolve?") asked directly, instead of comparing two rounded tables.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from fidelity import REAL_DIR, ROUNDING, two_direction_scans  # noqa: E402

from stmdenoise.metrics.fidelity import ErrorDifference, error_difference  # noqa: E402
from stmdenoise.training.real_fidelity import judging_look  # noqa: E402


def load(run: Path) -> tuple[dict[str, np.ndarray], dict[str, object]]:
    """The outputs and the meta (direction, rescaled look) of one ``--save-outputs`` run."""
    path = run / "outputs.npz"
    if not path.is_file():
        raise SystemExit(f"{path}: not found (run bench/fidelity.py --out {run} --save-outputs)")
    with np.load(path) as z:
        meta = json.loads(str(z["__meta__"]))
        return {k: z[k] for k in z.files if k != "__meta__"}, meta


def compare(
    a: dict[str, np.ndarray], b: dict[str, np.ndarray], meta: dict[str, object], family: str, root: Path
) -> list[tuple[str, tuple[ErrorDifference, ...]]]:
    """Per channel present in both runs: B minus A (paired), per band then overall."""
    rows = []
    backward = meta["direction"] == "backward"
    for name, first, second in two_direction_scans(root):
        key = f"{name}|{family}"
        if key not in a or key not in b:
            continue
        fwd, bwd = (second, first) if backward else (first, second)
        offset, look = judging_look(fwd, bwd, rescale=bool(meta["rescaled_look"]))
        rows.append((name, error_difference(b[key], a[key], fwd, look, offset=offset)))
    return rows


def summary(rows: list[tuple[str, tuple[ErrorDifference, ...]]]) -> tuple[float, float, int, int]:
    """Mean overall difference over channels, its SE (independent channels), and how many
    channels are lower / higher beyond 2 SE (and beyond :data:`ROUNDING`)."""
    overall = [r[-1] for _, r in rows if math.isfinite(r[-1].difference)]
    if not overall:
        return math.nan, math.nan, 0, 0
    mean = float(np.mean([d.difference for d in overall]))
    se = math.sqrt(sum(d.se**2 for d in overall)) / len(overall)
    lower = sum(d.difference < -max(2 * d.se, ROUNDING) for d in overall)
    higher = sum(d.difference > max(2 * d.se, ROUNDING) for d in overall)
    return mean, se, lower, higher


def markdown(rows: list[tuple[str, tuple[ErrorDifference, ...]]], a: Path, b: Path, family: str) -> str:
    lines = [
        f"### `{b}` minus `{a}`, {family} output, estimated error relative to raw (± 2 paired SE)\n",
        "| channel | overall | band furthest up (± 2 SE) |",
        "|---|---:|---:|",
    ]
    for name, diffs in rows:
        d = diffs[-1]
        finite = [x for x in diffs[:-1] if math.isfinite(x.difference)]
        up = max(finite, key=lambda x: x.difference, default=None)
        u = "n/a" if up is None else f"{up.band.label}: {up.difference:+.4f} ± {2 * up.se:.4f}"
        lines.append(f"| {name} | {d.difference:+.4f} ± {2 * d.se:.4f} | {u} |")
    mean, se, lower, higher = summary(rows)
    lines.append(
        f"\nMean over {len(rows)} channels: {mean:+.4f} ± {2 * se:.4f} (2 SE); "
        f"lower beyond 2 SE on {lower}, higher on {higher}.\n"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a", type=Path, help="run folder A (the reference, e.g. main)")
    ap.add_argument("b", type=Path, help="run folder B (e.g. a candidate)")
    ap.add_argument("--family", choices=("model", "delivered"), default="model")
    ap.add_argument("--root", type=Path, default=REAL_DIR, help="the real scans (default ../shared/realdata)")
    ap.add_argument("--out", type=Path, help="also write the table here (Markdown)")
    args = ap.parse_args(argv)
    a, meta_a = load(args.a)
    b, meta_b = load(args.b)
    for k in ("direction", "rescaled_look"):
        if meta_a[k] != meta_b[k]:
            print(f"the runs differ in {k}: {meta_a[k]} vs {meta_b[k]}", file=sys.stderr)
            return 2
    rows = compare(a, b, meta_a, args.family, args.root)
    text = markdown(rows, args.a, args.b, args.family)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
