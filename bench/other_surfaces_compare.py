"""What a change did to what two ``bench/other_surfaces.py`` runs of the same cases deliver.

    python bench/other_surfaces_compare.py BEFORE/other_surfaces.json AFTER/other_surfaces.json
                                           [--two-direction]

For each run, what the app delivers for each case's forward frame denoised without its second look
(``single_delivered_true``, the truth known; raw = 1), or with ``--two-direction`` with its backward
frame as the partner (``delivered_true``): the mean true error, and the frames above
the raw scan's error in a band with signal by more than :data:`TOLERANCE` (a band restored from
the raw scan reads up to 1.0014 of raw's error through the truth's Hann window) and strictly;
then the frames whose error changed, how many came closer, the largest increase, and the frames
the first run delivered repaired (the model's output) that the second delivers raw (or, with
``--two-direction``, whose delivered output changed kind: the model's, a fallback's, the raw scan).
The numbers the model card and docs/model-selection.md quote for candidates EG-EM (the cases must be
the same: same ``--seeds``, ``--seed-offset``, ``--surfaces``, sizes, noises and textures).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

#: A band with signal counts as above the raw scan's error beyond this (relative to it).
TOLERANCE = 0.005


#: The fields of a run's rows read for the frame alone and for the two-direction scan: the true
#: errors of what is delivered (overall, then per band) and what kind of output it is.
FIELDS = {False: ("single_delivered_true", "single_delivered"), True: ("delivered_true", "delivered")}


def above_raw(row: dict[str, Any], tolerance: float, field: str = "single_delivered_true") -> bool:
    """Whether what is delivered (``field``) is above raw's error by more than ``tolerance`` in
    some band where the surface holds at least the noise's power."""
    errors = row[field][1:]
    return any(s and e > 1.0 + tolerance for e, s in zip(errors, row["signal_bands"], strict=True))


def _key(row: dict[str, Any]) -> tuple[Any, ...]:
    return (row["surface"], row["px_A"], row["noise"], row["scanner"], row["seed"], row["noise_texture"])


def compare(before: list[dict[str, Any]], after: list[dict[str, Any]], *, two_direction: bool = False) -> str:
    """The comparison as text (a table line per changed frame); ``two_direction``: of what is
    delivered with the backward frame as the partner, else of the frame alone."""
    if [_key(r) for r in before] != [_key(r) for r in after]:
        raise ValueError("the two runs hold different cases: run both with the same arguments")
    field, kind = FIELDS[two_direction]

    def mean(rows: list[dict[str, Any]]) -> float:
        return sum(r[field][0] for r in rows) / len(rows)

    def count(rows: list[dict[str, Any]], tol: float) -> int:
        return sum(above_raw(r, tol, field) for r in rows)

    pairs = list(zip(before, after, strict=True))
    changed = [(a, b) for a, b in pairs if a[field][0] != b[field][0]]
    closer = sum(b[field][0] < a[field][0] for a, b in changed)
    increase = max([b[field][0] - a[field][0] for a, b in changed] + [0.0])
    if two_direction:
        moved = [f"{a[kind]} -> {b[kind]}" for a, b in pairs if a[kind] != b[kind]]
        kinds = "; what is delivered changed kind on " + (
            f"{len(moved)} ({', '.join(sorted(set(moved)))})" if moved else "0"
        )
    else:
        kinds = "; delivered repaired before and raw after: " + str(
            sum(a[kind] == "model" and b[kind] != "model" for a, b in pairs)
        )
    what = "two-direction scans" if two_direction else "frames alone"
    lines = [
        f"{len(pairs)} {what}. Mean true error of what is delivered (raw = 1): "
        f"{mean(before):.4f} -> {mean(after):.4f}. Above raw in a band with signal by more than "
        f"{TOLERANCE}: {count(before, TOLERANCE)} -> {count(after, TOLERANCE)} (strictly "
        f"{count(before, 1e-9)} -> {count(after, 1e-9)}). Changed: {len(changed)}, closer {closer}; "
        f"largest increase {increase:+.5f}{kinds}.",
        "",
        "| surface | Å/px | noise | scanner | seed | before | after | bands (before > after) |",
        "|---|---:|---:|---|---:|---:|---:|---|",
    ]
    for a, b in changed:
        bands = " ".join(
            f"{u:.2f}>{v:.2f}{'*' if s else ''}"
            for u, v, s in zip(a[field][1:], b[field][1:], a["signal_bands"], strict=True)
        )
        lines.append(
            f"| {a['surface']} | {a['px_A']:g} | {a['noise']:g} | {a['scanner']} | {a['seed']} | "
            f"{a[field][0]:.4f} | {b[field][0]:.4f} | {bands} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("before", type=Path, help="other_surfaces.json of the first run")
    ap.add_argument("after", type=Path, help="other_surfaces.json of the second run")
    ap.add_argument(
        "--two-direction", action="store_true",
        help="compare what is delivered with the backward frame as the partner, not the frame alone",
    )  # fmt: skip
    args = ap.parse_args(argv)
    before, after = (json.loads(p.read_text()) for p in (args.before, args.after))
    print(compare(before, after, two_direction=args.two_direction))
    return 0


if __name__ == "__main__":
    sys.exit(main())
