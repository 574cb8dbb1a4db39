"""Where in the spectrum a saved run's estimated error lies: the line strip against the rest.

    python bench/fidelity.py --out runs/A --save-outputs [--direction backward]
    python bench/fidelity_regions.py runs/A [--family model|delivered] [--width 0.0625] [--out FILE]

For every two-direction channel of the run, judged against the same second look the run used
(``judging_look``), the estimated error of the raw frame, the run's output and the best Gaussian of
the classical sweep (chosen on the overall estimate, as the fidelity bench chooses), each split
into two regions of the spectrum, as shares of the raw frame's whole estimated error:

* the **line strip**: ``|kx|`` under ``--width`` cycles per pixel (default 1/16: periods over 16 px
  along the lines; at least the one bin beside kx = 0) and ``|ky|`` above 1/16 (periods under 16
  lines across them). Streaks along the scan lines: line offsets, parts of lines where the tip
  jumped, slow-axis vibration. The part the two directions record alike (the same line's trace
  and retrace) the forward/backward estimate counts as surface, so a filter that removes it
  reads as changing the surface; "shared" gives that part, ``Re(X B*) / |X|²`` over the strip
  (1: all of it common to both directions);
* **the rest**: every other coefficient.

Why: on CO_img_0050 Z backward the model's error exceeds the 0.5 px Gaussian's by 0.044 ± 0.027
(version 2.27); this table shows how much of such a gap lies in the line strip, where the
estimate cannot tell a surface from line noise both directions share. Ours; it reads a run, it
changes nothing.
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

from fidelity import REAL_DIR, two_direction_scans  # noqa: E402

from stmdenoise.metrics import NotScorableError  # noqa: E402
from stmdenoise.metrics.fidelity import PairedLooks  # noqa: E402
from stmdenoise.training.real_fidelity import classical_methods, judging_look  # noqa: E402

#: Periods of more than this many lines across are left out of the line strip (cycles per pixel
#: along the slow axis): the longest hold drift and the plane, which are not line noise.
SLOW_FROM = 1.0 / 16.0
#: The strip's default half-width along the fast axis, cycles per pixel (``--width``).
WIDTH = 1.0 / 16.0


def line_strip(shape: tuple[int, int], width: float = WIDTH) -> np.ndarray:
    """The coefficients (FFT order) of the line strip on a grid of ``shape``: |kx| under ``width``
    cycles per pixel (and at least the bin beside kx = 0), |ky| above :data:`SLOW_FROM`."""
    ky = np.abs(np.fft.fftfreq(shape[0]))[:, None]
    kx = np.abs(np.fft.fftfreq(shape[1]))[None, :]
    return np.asarray(((kx < width) | (kx * shape[1] <= 1.0)) & (ky > SLOW_FROM))


def regions(paired: PairedLooks, i: int | None, width: float = WIDTH) -> tuple[float, float]:
    """Output ``i``'s (raw's for None) estimated error in the line strip and in the rest, as
    shares of the raw frame's whole estimated error."""
    raw = paired.error_spectrum()
    err = paired.error_spectrum(i)
    col = line_strip(raw.shape, width)
    total = float(raw.sum())
    return float(err[col].sum()) / total, float(err[~col].sum()) / total


def shared_in_strip(paired: PairedLooks, width: float = WIDTH) -> float:
    """``Re(X B*) / |X|²`` over the line strip: how much of the raw frame's content there the
    second look holds too."""
    x_f, b_f = paired.transforms()
    col = line_strip(x_f.shape, width)
    power = float(np.sum(np.abs(x_f[col]) ** 2))
    return float(np.sum(np.real(x_f[col] * np.conj(b_f[col])))) / power if power > 0 else math.nan


def rows_for(run: Path, family: str, root: Path, width: float = WIDTH) -> tuple[str, list[str]]:
    """The run's direction and one markdown row per channel."""
    path = run / "outputs.npz"
    if not path.is_file():
        raise SystemExit(f"{path}: not found (run bench/fidelity.py --out {run} --save-outputs)")
    with np.load(path) as z:
        meta = json.loads(str(z["__meta__"]))
        outputs = {k: z[k] for k in z.files if k != "__meta__"}
    backward = meta["direction"] == "backward"
    gaussians = classical_methods(["gaussian"])
    rows = []
    for name, first, second in two_direction_scans(root):
        key = f"{name}|{family}"
        if key not in outputs:
            continue
        fwd, bwd = (second, first) if backward else (first, second)
        try:
            offset, look = judging_look(fwd, bwd, rescale=bool(meta["rescaled_look"]))
            swept = [m.run(fwd, bwd) for m in gaussians]
            paired = PairedLooks([outputs[key], *swept], fwd, look, offset=offset)
        except (NotScorableError, ValueError) as e:
            rows.append(f"| {name} | not scored: {e} |||||")
            continue
        reports = paired.reports()
        best = 1 + int(np.argmin([r.overall.error for r in reports[1:]]))
        cells = [regions(paired, i, width) for i in (None, 0, best)]
        rows.append(
            f"| {name} | {shared_in_strip(paired, width):.2f} | "
            + " | ".join(f"{c:.3f} / {r:.3f}" for c, r in cells)
            + f" | {gaussians[best - 1].label} |"
        )
    return str(meta["direction"]), rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run", type=Path, help="a bench/fidelity.py --save-outputs folder")
    ap.add_argument("--family", choices=("model", "delivered"), default="model")
    ap.add_argument("--width", type=float, default=WIDTH, help="the strip's |kx| limit, cycles/px")
    ap.add_argument("--root", type=Path, default=REAL_DIR)
    ap.add_argument("--out", type=Path, help="also write the table to this new markdown file")
    args = ap.parse_args(argv)
    if not args.root.is_dir():
        print(f"needs {args.root} (../shared beside the repository)", file=sys.stderr)
        return 2
    if args.out and args.out.exists():
        print(f"{args.out}: exists; not overwritten (name a new file)", file=sys.stderr)
        return 2
    if not 0.0 <= args.width < 0.5:
        ap.error(f"--width must lie in [0, 0.5) cycles per pixel, got {args.width}")
    direction, rows = rows_for(args.run, args.family, args.root, args.width)
    text = "\n".join(
        [
            f"### `{args.run}` ({direction}, {args.family} output): estimated error by region, "
            f"as shares of the raw frame's whole estimated error (line strip, |kx| < {args.width:g} "
            f"and |ky| > {SLOW_FROM:g} cycle/px / the rest)\n",
            "| channel | shared in the line strip | raw | output | best Gaussian | which |",
            "|---|---:|---:|---:|---:|---|",
            *rows,
            "",
        ]
    )
    print(text)
    if args.out:
        tmp = args.out.with_name(args.out.name + ".part")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
