"""The spectral gain (shipped for experimental scans): real-scan fidelity, ablations, Table I, speed.

    python bench/spectral_gain.py [--steps 400] [--sim-pairs 40] [--lofo] [--table1 N]
        [--classical runs/fidelity-all/fidelity.json] [--out DIR] [--model DIR] [--no-real | --no-sim]

The model and its training live in the package (:mod:`stmdenoise.model.spectral_gain`,
:mod:`stmdenoise.training.spectral_gain`, ``stmdenoise train-gain``); this script retrains it
with the same settings (or loads ``--model``'s) and scores it.

Why this shape. The complaints about the shipped network are that it redraws standing waves,
erases other materials' structure and paints rings that are not in the scan. A filter that
multiplies each Fourier coefficient of a tile by a gain in [0, 1] cannot add structure that is
not in the scan, works on any pixel size (its features are in cycles per pixel and relative
to the scan's own noise floor; nothing is resampled) and needs no GPU. What is
learnt is only *how much* of each coefficient to keep, from features of the scan itself:

- per tile (64 x 64 px, 50 % overlap, sqrt-Hann analysis and synthesis windows): the
  smoothed power at the coefficient (1 and 3 bins) relative to the tile's high-frequency floor,
  its height above the median and 20th percentile of its ring (|k|), the ring's spread;
- per scan (context): the same height on the whole scan's spectrum at that frequency, the
  scan's signal-to-floor ratio and the tile's floor relative to the scan's.

Training (Noise2Noise in the Fourier domain): for a real two-direction scan the target is
the registered backward frame, for a simulated pair (``stmdenoise.physics.variety.BROAD``) the
clean image; the loss per image is sum |g X - T|^2 / sum |X - T|^2, whose minimiser is the
Wiener gain S / (S + N) since the target's noise is independent of X's. Real scans come only
from ``../shared/realdata`` (never the Ko frames: they are the test, read only to score).

Reports, on the real-scan fidelity measures of ``bench/fidelity.py``:
1. Ko Cu(111) frames 01-03, leave-one-out (test: never trained on), per Cu(111) band.
2. Every two-direction scan of ``../shared/realdata``: in-sample (the model trained on all of
   them) and, with ``--lofo``, leave-one-file-out (the model retrained without that file): the
   selection numbers of docs/model-selection.md. The gate of that rule: overall < 1.00 and no
   band with signal above raw by more than 2 standard errors.
With ``--classical FILE`` (the fidelity.json that ``bench/fidelity.py --out`` writes) the best
classical filter per scan is shown beside.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from fidelity import CU_BANDS, KO_DIR, KO_NM_PER_PX, REAL_DIR, two_direction_scans  # noqa: E402

from stmdenoise.denoise import two_direction_denoise  # noqa: E402
from stmdenoise.fallback import harmful_bands  # noqa: E402
from stmdenoise.io import read_plain_image  # noqa: E402
from stmdenoise.io.feedback import feedback_error_channel  # noqa: E402
from stmdenoise.metrics.fidelity import FidelityReport  # noqa: E402
from stmdenoise.model.folder import load_gain, read_model_info  # noqa: E402
from stmdenoise.model.spectral_gain import GainFeatures, GainWeights, apply_gain, line_coherence  # noqa: E402
from stmdenoise.scan import Scan  # noqa: E402
from stmdenoise.training.real_fidelity import Method, pair_rows, stack_rows  # noqa: E402
from stmdenoise.training.spectral_gain import (  # noqa: E402
    Examples,
    real_examples,
    sim_examples,
    train_gain,
)

Array = np.ndarray
#: Scans (``Scan.describe()``) the two-direction Wiener served in this run (marked in the table).
served: set[str] = set()


# --------------------------------------------------------------------------- report


def _harmful(rep: FidelityReport) -> list[str]:
    """The gate of docs/model-selection.md (``stmdenoise.fallback.harmful_bands``), as short labels."""
    return [f"{b.band.label} {b.error:.2f}" for b in harmful_bands(rep)]


def _classical(path: Path | None) -> dict[str, tuple[str, float, dict[str, float]]]:
    """Best classical row per scan name from a bench/fidelity.py fidelity.json (``"Ko"`` for the stack)."""
    if path is None:
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    out = {}
    for rows in [data["stack"], *data["pairs"]]:
        cands = [r for r in rows if r["family"] == "classical" and r.get("error[all]") is not None]
        if cands:
            best = min(cands, key=lambda r: r["error[all]"])
            name = "Ko" if rows is data["stack"] else best["scan"]
            bands = {k[6:-1]: v for k, v in best.items() if k.startswith("error[") and v is not None}
            out[name] = (best["method"], best["error[all]"], bands)
    return out


def table_one(net: GainWeights, count: int) -> str:
    """Table I rows (PSNR, SSIM on the 0-255 scale of ``stmdenoise.metrics``) on the first ``count``
    pairs of the seed-1001 test set: raw, this candidate and the shipped model, all on levelled pairs."""
    from quality import TEST_SEED, ensure_dataset

    from stmdenoise import metrics
    from stmdenoise.denoise import Denoiser, default_model_dir
    from stmdenoise.evaluation.tables import load_pairs
    from stmdenoise.processing import level_plane

    h5 = ensure_dataset(ROOT / "runs" / "qdata" / f"sim_test_seed{TEST_SEED}.h5", count=count, seed=TEST_SEED)
    pairs, px = load_pairs(h5, count=count)
    pairs = [(level_plane(c), level_plane(n)) for c, n in pairs]
    shipped = Denoiser.from_folder(default_model_dir(), device="cpu")
    runs = {
        "Raw input": lambda z: z,
        "spectral gain": lambda z: apply_gain(net, z),
        "cu111-default G_D": lambda z: np.asarray(
            shipped.denoise(Scan(z, pixel_size=(px, px)), which="simulated").data
        ),
    }
    lines = [
        f"## Table I, first {len(pairs)} pairs of seed {TEST_SEED}\n",
        "| method | PSNR | SSIM |",
        "|---|---:|---:|",
    ]
    for name, fn in runs.items():
        outs = [(c, fn(n)) for c, n in pairs]
        psnr = np.mean([metrics.psnr(c, o) for c, o in outs])
        ssim = np.mean([metrics.ssim(c, o) for c, o in outs])
        lines.append(f"| {name} | {psnr:.2f} | {ssim:.4f} |")
    return "\n".join(lines) + "\n"


def speed(net: GainWeights, size: int = 512, repeat: int = 3) -> str:
    """Median seconds to denoise one ``size``^2 image on this CPU (after one warm-up); the
    shipped model's full path (bench/bench_model.py measures it against ONNX/torch too)."""
    z = np.random.default_rng(0).normal(size=(size, size))
    apply_gain(net, z)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        apply_gain(net, z)
        times.append(time.perf_counter() - t)
    med = np.median(times)
    return f"{size}^2 on CPU: median {med:.2f} s over {repeat} runs ({torch.get_num_threads()} threads)\n"


def _method(net: GainWeights, refuse_quiet: float | None = None, two_direction: bool = False) -> Method:
    """The model as a fidelity method; with ``refuse_quiet`` it refuses scans whose line coherence
    reaches it (the row then has no report: rule 2 counts it as raw, 1.00); with
    ``two_direction`` a scan whose other direction can serve goes to the two-direction Wiener
    (``stmdenoise.denoise.two_direction_denoise``, as a folder with ``two_direction`` does), a
    quiet one too (in 16-row bands when small), as the app's plan does."""

    def run(scan: Scan, other: Scan | None) -> Array:
        z = np.asarray(scan.data)
        q = line_coherence(z)
        quiet = refuse_quiet is not None and q >= refuse_quiet
        if two_direction and other is not None:
            try:  # a quiet scan the filter can serve is not declined (candidate Q)
                out = two_direction_denoise(scan, other, quiet=quiet)
                served.add(scan.describe())
                return out
            except ValueError:
                pass
        if quiet:
            raise ValueError(f"refused: a quiet scan (line coherence {q:.2f} >= {refuse_quiet:g})")
        return apply_gain(net, z)

    return Method("spectral gain", "model", run)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--sim-pairs", type=int, default=40)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--lofo", action="store_true", help="also retrain without each realdata file and score it"
    )
    ap.add_argument(
        "--classical", type=Path, help="fidelity.json of bench/fidelity.py --out (best classical)"
    )
    ap.add_argument("--out", type=Path, help="write spectral_gain.md and the weights here")
    ap.add_argument("--model", type=Path, help="score this model folder's spectral gain (no training)")
    ap.add_argument("--table1", type=int, default=0, metavar="N", help="also Table I on N seed-1001 pairs")
    ap.add_argument("--no-real", action="store_true", help="ablation: train on the simulated pairs only")
    ap.add_argument("--no-sim", action="store_true", help="ablation: train on the real pairs only")
    ap.add_argument("--row-coherence", action="store_true", help="add the even/odd-line coherence feature")
    ap.add_argument("--anisotropy", action="store_true", help="add the column/row floor features")
    ap.add_argument("--frequency", action="store_true", help="add |k| (cycles per pixel) as a feature")
    ap.add_argument(
        "--skip-feedback-error", action="store_true",
        help="train on no current recorded with the Z feedback on (all are still scored)",
    )  # fmt: skip
    ap.add_argument("--hinge", type=float, default=0.0, help="weight of the per-octave 'not above raw' hinge")
    ap.add_argument("--real-weight", type=int, default=1, help="count each real scan this many times")
    ap.add_argument("--hidden", type=int, default=32, help="width of the gain network's two hidden layers")
    ap.add_argument("--bins", type=int, default=6000, help="coefficients sampled per image and step")
    ap.add_argument("--device", default="cpu", help="where the gain network trains (cpu, cuda)")
    ap.add_argument("--no-speed", action="store_true", help="skip the speed line")
    ap.add_argument(
        "--negate-feedback-error", action="store_true",
        help="train feedback-error currents against their negated other direction (where it agrees)",
    )  # fmt: skip
    ap.add_argument(
        "--two-direction", action="store_true",
        help="scans whose other direction can serve go to the two-direction Wiener (candidate K)",
    )  # fmt: skip
    ap.add_argument(
        "--refuse-quiet", type=float, default=None, metavar="Q",
        help="refuse scans whose even/odd-line coherence (QUIET_BAND) is at least Q",
    )  # fmt: skip
    args = ap.parse_args(argv)
    if not KO_DIR.is_dir() or not REAL_DIR.is_dir():
        print(f"needs {KO_DIR} and {REAL_DIR} (../shared beside the repository)", file=sys.stderr)
        return 2
    torch.set_num_threads(2)
    t0 = time.perf_counter()
    best = _classical(args.classical)
    scans = two_direction_scans(REAL_DIR)
    features = GainFeatures(
        row_coherence=args.row_coherence, anisotropy=args.anisotropy, frequency=args.frequency
    )
    real = (
        []
        if args.no_real
        else real_examples(
            scans,
            features,
            skip_feedback_error=args.skip_feedback_error,
            negate_feedback_error=args.negate_feedback_error,
        )  # fmt: skip
    )
    sim = [] if args.no_sim else sim_examples(args.sim_pairs, args.seed, features)
    opts = {
        "features": features, "hinge": args.hinge, "hidden": args.hidden,
        "bins": args.bins, "device": args.device,
    }  # fmt: skip

    def fit(real_part: list[Examples]) -> GainWeights:
        return train_gain(real_part * args.real_weight + sim, args.steps, **opts)

    if args.model:
        loaded = load_gain(args.model, read_model_info(args.model))
        if loaded is None:
            print(f"{args.model} has no spectral gain", file=sys.stderr)
            return 2
        net = loaded
    else:
        net = fit([e for _, e in real])
    md = [
        f"# Learned spectral gain: {len(real)} real two-direction channels (x{args.real_weight}) + "
        f"{len(sim)} simulated pairs, {args.steps} steps, row coherence {args.row_coherence}, "
        f"anisotropy {args.anisotropy}, frequency {args.frequency}, "
        f"feedback-error channels skipped {args.skip_feedback_error}, "
        f"two-direction Wiener where it serves {args.two_direction}, "
        f"feedback-error currents against their negated look {args.negate_feedback_error}, "
        f"hinge {args.hinge:g}, hidden {args.hidden}, bins {args.bins}, on {args.device} (raw = 1.00)\n"
    ]
    frames = [read_plain_image(p, nm_per_px=KO_NM_PER_PX) for p in sorted(KO_DIR.glob("*.jpg"))]
    stack = stack_rows([_method(net, args.refuse_quiet, args.two_direction)], "Ko", frames, bands=CU_BANDS)
    labels = [b.label for b in CU_BANDS] + ["all"]
    md += ["## Ko Cu(111) frames 01-03, leave-one-out (test; never trained on)\n"]
    md += ["| method | " + " | ".join(labels) + " |", "|---|" + "---:|" * len(labels)]
    for row in stack:
        md.append(f"| {row.method} | " + " | ".join(f"{row.mean(lb):.2f}" for lb in labels) + " |")
    if "Ko" in best:
        m, _e, bands = best["Ko"]
        md.append(
            f"| best classical: {m} | " + " | ".join(f"{bands.get(lb, math.nan):.2f}" for lb in labels) + " |"
        )
    harm = [h for r in stack[1].reports for h in _harmful(r)] if stack[1].reports else ["n/a"]
    md.append(f"\nBands above raw by > 2 SE on a Ko frame: {', '.join(harm) or 'none'}.\n")
    if args.table1:
        md.append(table_one(net, args.table1))
    if not args.no_speed:
        md.append("## Speed\n\n" + speed(net))
    print("\n".join(md), flush=True)

    names = sorted({n.rsplit(" ", 1)[0] for n, *_ in scans})
    lofo = {}
    if args.lofo:
        for f in names:
            lofo[f] = fit([e for n, e in real if not n.startswith(f + " ")])
            print(f"trained without {f} ({time.perf_counter() - t0:.0f} s)", flush=True)
    md2 = ["## Forward/backward, ../shared/realdata (selection; overall error, raw = 1.00)\n"]
    head = "| scan | line coherence | best classical | spectral gain, in-sample | gate (in-sample) |"
    head += " leave-one-file-out | gate (LOFO) |" if args.lofo else ""
    md2 += [head, "|---|---:|---:|---:|---|" + ("---:|---|" if args.lofo else "")]
    sel = []
    for name, fwd, bwd in scans:
        models = [_method(net, args.refuse_quiet, args.two_direction)]
        if args.lofo:
            models.append(_method(lofo[name.rsplit(" ", 1)[0]], args.refuse_quiet, args.two_direction))
        served.clear()
        rows = pair_rows(models, name, fwd, bwd)
        if len(rows) < 2:
            continue
        b = best.get(name)
        cells = [
            name
            + (" (feedback error)" if feedback_error_channel(fwd) else "")
            + (" (two-direction Wiener)" if served else ""),
            f"{line_coherence(np.asarray(fwd.data)):.2f}",
        ]
        cells.append("n/a" if b is None else f"{b[1]:.2f} ({b[0]})")
        for r in rows[1:]:
            if not r.reports:
                refused = r.note.startswith("refused")
                cells += ["refused" if refused else "n/a", "not run (1.00)" if refused else r.note[:50]]
                continue
            e = r.mean("all")
            bad = _harmful(r.reports[0])
            ok = e < 1.0 and not bad
            cells += [f"{e:.2f}", "pass" if ok else "FAIL: " + (", ".join(bad) or f"overall {e:.2f}")]
        if args.lofo:
            sel.append(rows[-1].mean("all") if rows[-1].reports else 1.0)
        md2.append("| " + " | ".join(cells) + " |")
    if sel:
        md2.append(
            f"\nMean leave-one-file-out overall error (rule 2; not run = 1.00): {np.mean(sel):.3f} "
            f"over {len(sel)} channels."
        )
    md2.append(f"\n{time.perf_counter() - t0:.0f} s.\n")
    print("\n".join(md2), flush=True)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "spectral_gain.md").write_text("\n".join(md + md2) + "\n", encoding="utf-8")
        net.save(args.out / "spectral_gain.safetensors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
