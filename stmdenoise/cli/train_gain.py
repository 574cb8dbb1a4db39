"""``stmdenoise train-gain SCANS... --base MODEL --out NEW``: train the spectral gain, write a new model.

The spectral gain (:mod:`stmdenoise.model.spectral_gain`) denoises experimental scans on their
own grid by scaling Fourier coefficients; it is trained by Noise2Noise between the forward and
backward frames of the given two-direction scans (Z and Current) and on simulated pairs of the
broad world (:mod:`stmdenoise.training.spectral_gain`). The new folder keeps the base model's
G_D for simulated images. A run takes a few minutes on a CPU, with a progress bar; Ctrl+C stops
it and leaves nothing behind (there is no checkpoint to resume: rerun it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["add_parser", "run"]


def run(args: argparse.Namespace) -> int:
    """Train and write ``--out``; 0 when written, 130 when cancelled (nothing written)."""
    import torch

    from stmdenoise.cli.progress import drive
    from stmdenoise.jobs import JobCancelled
    from stmdenoise.model.spectral_gain import GainFeatures
    from stmdenoise.paths import default_model_dir
    from stmdenoise.training.spectral_gain import GainRequest, train_gain_model

    for flag, share in (("--terraces", args.terraces), ("--noise-textures", args.noise_textures)):
        if not 0.0 <= share <= 1.0:
            print(f"error: {flag} must be a share between 0 and 1, got {share:g}", file=sys.stderr)
            return 2
    if args.texture_scan and not args.noise_textures:
        print("error: --texture-scan needs --noise-textures (the share of pairs given them)", file=sys.stderr)
        return 2
    if args.threads:
        torch.set_num_threads(args.threads)
    held: tuple[Path, ...] = tuple(Path(p) for p in args.holdout_scan or ())
    if not held and args.holdout:
        from stmdenoise.training.finetune_scans import check_scans, pick_holdout

        held = tuple(pick_holdout(check_scans(args.scans), args.holdout))
    if held:
        print("Held out (never trained on): " + ", ".join(p.name for p in held), file=sys.stderr)
    req = GainRequest(
        inputs=tuple(Path(p) for p in args.scans),
        base=Path(args.base) if args.base else default_model_dir(),
        out=Path(args.out),
        steps=args.steps,
        sim_pairs=args.sim_pairs,
        seed=args.seed,
        refuse_quiet=None if args.refuse_quiet < 0 else args.refuse_quiet,
        features=GainFeatures(
            row_coherence=args.row_coherence, anisotropy=args.anisotropy, frequency=args.frequency
        ),
        skip_feedback_error=args.skip_feedback_error,
        negate_feedback_error=args.negate_feedback_error,
        hinge=args.hinge,
        terraces=args.terraces,
        noise_textures=args.noise_textures,
        texture_scans=tuple(Path(p) for p in args.texture_scan or ()),
        name=args.name,
        holdout=held,
    )
    try:
        res, completed = drive(
            lambda cancel: train_gain_model(req, cancel), description="train-gain", quiet=args.quiet
        )
    except JobCancelled:
        res, completed = None, False
    if not completed or res is None:
        print("stmdenoise train-gain: cancelled; nothing was written", file=sys.stderr)
        return 130
    print(f"model written to {res.out}")
    if res.verdict():
        print(res.verdict())
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "train-gain",
        help="train the spectral gain on two-direction scans and write a new model folder",
        description=__doc__.splitlines()[0].split(": ", 1)[-1] if __doc__ else None,
    )
    p.add_argument("scans", nargs="*", help="two-direction scan files or folders (searched recursively)")
    p.add_argument("--base", help="model folder whose G_D and settings the new one keeps (default: shipped)")
    p.add_argument("--out", required=True, help="new model folder (must not exist)")
    p.add_argument("--steps", type=int, default=400, help="Adam steps (default 400)")
    p.add_argument("--sim-pairs", type=int, default=40, help="simulated broad-world pairs (default 40)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument(
        "--refuse-quiet", type=float, default=0.42, metavar="Q",
        help="decline scans whose even/odd line coherence reaches Q (default 0.42; -1: never)",
    )  # fmt: skip
    p.add_argument("--row-coherence", action="store_true", help="add the even/odd line coherence feature")
    p.add_argument(
        "--anisotropy", action="store_true",
        help="add the four features of power above its column's and row's floor (tile and scan)",
    )  # fmt: skip
    p.add_argument("--frequency", action="store_true", help="add |k| (cycles per pixel) as a feature")
    p.add_argument(
        "--skip-feedback-error", action="store_true",
        help="train on no current recorded with the Z feedback on (its directions differ by real signal)",
    )  # fmt: skip
    p.add_argument(
        "--negate-feedback-error", action="store_true",
        help="train a current recorded with the Z feedback on against its other direction negated "
        "(the feedback error flips sign with the direction), where that agrees with it",
    )  # fmt: skip
    p.add_argument("--hinge", type=float, default=0.0, help="weight of the per-octave 'not above raw' term")
    p.add_argument(
        "--terraces", type=float, default=0.0, metavar="SHARE",
        help="share (0-1) of the simulated topographs given monatomic steps, clean and noisy alike "
        "(default 0)",
    )  # fmt: skip
    p.add_argument(
        "--noise-textures", type=float, default=0.0, metavar="SHARE",
        help="share (0-1) of the simulated pairs given extra noise with the colour of a real scan's "
        "forward minus backward, at the pair's own noise level (default 0)",
    )  # fmt: skip
    p.add_argument(
        "--texture-scan", action="append", metavar="FILE",
        help="take the noise textures from this two-direction scan or folder (repeatable; default: "
        "the training scans); currents recorded with the Z feedback on are not used",
    )  # fmt: skip
    p.add_argument("--name", default="", help="model name (default: the folder's name)")
    p.add_argument(
        "--holdout", type=int, default=1, metavar="N",
        help="hold out the last N usable two-direction scans by name and judge the new gain, the base "
        "and every classical filter on them; the table goes into the new folder's MODEL_CARD.md "
        "(default 1; 0: none)",
    )  # fmt: skip
    p.add_argument(
        "--holdout-scan", action="append", metavar="FILE", help="hold out this file instead (repeatable)"
    )
    p.add_argument("--threads", type=int, default=0, help="CPU threads (default: torch's choice)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(func=run)
