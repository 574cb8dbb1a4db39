"""The best classical filter chosen without seeing the rows it is scored on (split halves), beside the model.

    python bench/honest_classical.py [--model models/cu111-default] [--root ../shared/realdata] [--out DIR]

``bench/fidelity.py``'s "best classical" picks the filter and its parameter with the forward/backward
estimate that then scores it, on the same rows: an oracle bar, optimistic for the filter (it had a
look at the answer). Here the rows both frames of a two-direction scan measured completely are cut
into a top and a bottom half; the filter and parameter (every baseline of
``stmdenoise.evaluation.BASELINES`` on its grid) are chosen on one half and scored on the other, and
the other way round; the table gives the mean of the two scores. The model's own output (made once
from the whole scan with the backward frame as its partner, as the app makes it; cross-fitted where
it reads that frame, so a row's output never depends on the backward frame at that row) is scored on
the same halves; a scan the model's plan declines (quiet scans) counts as raw (1.00). The oracle per
half (the best filter picked on the scored half itself) is printed too, and the model minus the
chosen filter with twice its paired standard error (stmdenoise.metrics.fidelity.error_difference,
the two halves combined as independent).

Half-scan scores are not bench/fidelity.py's whole-scan ones (fewer rows, their own plane and
window, and the estimate is noisier on small scans: a half of a 96-row scan is 48 rows). The model
column is what matters here only beside the two classical columns of the same run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fidelity import REAL_DIR, two_direction_scans  # noqa: E402

from stmdenoise.denoise import Denoiser, default_model_dir  # noqa: E402
from stmdenoise.metrics.fidelity import error_difference, pair_fidelity  # noqa: E402
from stmdenoise.metrics.second_look import second_look  # noqa: E402
from stmdenoise.scan import Scan  # noqa: E402
from stmdenoise.training.real_fidelity import classical_methods  # noqa: E402

Array = NDArray[np.float64]
#: Fewest complete rows in common for two halves the estimate can score (32 rows each).
MIN_ROWS = 64


def _rows(x: Array, look: Array) -> tuple[int, int] | None:
    """First and one-past-last row both frames measured completely; None when under MIN_ROWS."""
    fin = np.flatnonzero(np.isfinite(x).all(axis=1) & np.isfinite(look).all(axis=1))
    if len(fin) < MIN_ROWS:
        return None
    return int(fin[0]), int(fin[-1]) + 1


def _crops(fwd: Scan, look: Scan, rows: tuple[int, int]) -> tuple[Scan, Scan]:
    a, b = rows
    return fwd.with_data(np.asarray(fwd.data)[a:b]), look.with_data(np.asarray(look.data)[a:b])


def _score(out: Array, fwd: Scan, look: Scan, offset: tuple[float, float], rows: tuple[int, int]) -> float:
    crop_f, crop_l = _crops(fwd, look, rows)
    return pair_fidelity(out[rows[0] : rows[1]], crop_f, crop_l, offset=offset).overall.error


def _gap(
    model: Array, chosen: Array, fwd: Scan, look: Scan, offset: tuple[float, float], rows: tuple[int, int]
) -> tuple[float, float]:
    """The model's error minus the chosen filter's on one half and the paired standard error."""
    crop_f, crop_l = _crops(fwd, look, rows)
    a, b = rows
    d = error_difference(model[a:b], chosen[a:b], crop_f, crop_l, offset=offset)[-1]
    return d.difference, d.se


def scan_row(
    den: Denoiser, name: str, fwd: Scan, bwd: Scan
) -> tuple[str, bool | None, tuple[bool, bool] | None] | None:
    """One Markdown row, whether the model is below the filter chosen on the other half (None:
    not counted, the model declined or a half not scorable) and whether it is below / above it by
    more than 2 paired standard errors; None for a scan without a usable second look or with too
    few rows."""
    try:
        found = second_look(fwd, bwd)
    except ValueError:  # NotScorableError: nothing to register on
        return None
    if found is None:
        return None
    offset, look, _ = found
    span = _rows(np.asarray(fwd.data, dtype=np.float64), np.asarray(look.data, dtype=np.float64))
    if span is None:
        return None
    lo, hi = span
    mid = (lo + hi) // 2
    halves = [((lo, mid), (mid, hi)), ((mid, hi), (lo, mid))]
    outputs = {}
    for m in classical_methods():
        try:
            outputs[m.label] = np.asarray(m.run(fwd, None), dtype=np.float64)
        except ValueError:
            continue
    plan = den.checked_plan(fwd, partner=bwd)
    model = np.asarray(den.denoise(fwd, partner=bwd).data, dtype=np.float64) if plan.runs else None
    model_s, chosen_s, oracle_s, picks, gaps = [], [], [], [], []
    try:
        for pick_rows, score_rows in halves:
            on_pick = {k: _score(o, fwd, look, offset, pick_rows) for k, o in outputs.items()}
            on_score = {k: _score(o, fwd, look, offset, score_rows) for k, o in outputs.items()}
            best = min(on_pick, key=lambda k: on_pick[k])
            picks.append(best)
            chosen_s.append(on_score[best])
            oracle_s.append(min(on_score.values()))
            model_s.append(1.0 if model is None else _score(model, fwd, look, offset, score_rows))
            if model is not None:
                gaps.append(_gap(model, outputs[best], fwd, look, offset, score_rows))
    except ValueError as exc:  # a half the estimate cannot score
        return f"| {name} | {hi - lo} | n/a ({exc}) | | | |", None, None
    m, c, o = (float(np.mean(v)) for v in (model_s, chosen_s, oracle_s))
    model_cell = f"{m:.2f}" if model is not None else "declined (1.00)"
    if model is not None and m < c:
        model_cell = f"**{model_cell}**"
    # the mean of the two halves' paired differences and its standard error (halves independent)
    se = float(np.hypot(*(g[1] for g in gaps))) / 2 if gaps else float("nan")
    gap = f"{m - c:+.2f}" + (f" ± {2 * se:.2f}" if gaps else "")
    row = f"| {name} | {hi - lo} | {model_cell} | {c:.2f} ({' / '.join(picks)}) | {o:.2f} | {gap} |"
    beyond = None if model is None else (m - c < -2 * se, m - c > 2 * se)
    return row, (None if model is None else m < c), beyond


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=None, help="model folder (default: the shipped default)")
    ap.add_argument("--root", type=Path, default=REAL_DIR, help="folder of two-direction scans")
    ap.add_argument("--out", type=Path, help="write honest_classical.md here")
    args = ap.parse_args(argv)
    if not args.root.is_dir():
        print(f"needs {args.root}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    model_dir = args.model or default_model_dir()
    den = Denoiser.from_folder(model_dir, device="cpu")
    lines = [
        f"# Split halves: the classical filter chosen on the other half (`{model_dir.name}`, {args.root})\n",
        "Overall estimated error on each half, raw = 1.00, mean of the two halves; bold: the model "
        "below the filter chosen without seeing the scored half.\n",
        "| scan | rows | model output | classical chosen on the other half (picks) | oracle per half "
        "| model - chosen (± 2 paired SE) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    print("\n".join(lines), flush=True)
    wins = total = clear_wins = clear_losses = 0
    for name, fwd, bwd in two_direction_scans(args.root):
        got = scan_row(den, name, fwd, bwd)
        if got is None:
            continue
        row, won, beyond = got
        print(row, flush=True)
        lines.append(row)
        if won is not None:
            total += 1
            wins += int(won)
        if beyond is not None:
            clear_wins += int(beyond[0])
            clear_losses += int(beyond[1])
    tail = (
        f"\nThe model is below the filter chosen on the other half on {wins} of {total} channels it "
        f"runs on; beyond 2 paired standard errors below it on {clear_wins}, above it on "
        f"{clear_losses}. ({time.perf_counter() - t0:.0f} s)"
    )
    print(tail)
    lines.append(tail)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "honest_classical.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
