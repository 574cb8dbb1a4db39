"""``stmdenoise finetune``: fine-tune a model on your own scans, self-supervised (Ctrl+C: checkpoint)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Generator
from pathlib import Path
from typing import Any

from stmdenoise.cli.progress import drive

__all__ = ["add_parser", "run"]


def run(args: argparse.Namespace) -> int:
    """Fine-tune; 0 when finished (1 when the result is flagged), 130 when cancelled (checkpoint saved)."""
    from stmdenoise.training.finetune import FinetuneRequest, check_scans, finetune, pick_holdout

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    req = FinetuneRequest(
        scans=tuple(args.scans),
        base=str(args.base),
        out=str(args.out),
        minutes=args.minutes,
        steps=args.steps,
        device=args.device,
        holdout=args.holdout,
        holdout_scans=tuple(args.holdout_scan or ()),
        lambda_n2n=args.lambda_n2n,
        lambda_blindspot=args.lambda_blindspot,
        lambda_anchor=args.lambda_anchor,
        crop=args.crop,
        batch=args.batch,
        lr=args.lr,
        seed=args.seed,
        resume=args.resume,
        start=args.start,
    )
    checks = check_scans(req.scans)
    print("Scans:")
    for c in checks:
        print(f"  {c.line()}")
    held = [Path(p) for p in req.holdout_scans] or pick_holdout(checks, req.holdout)
    print("Held out (never trained on): " + (", ".join(p.name for p in held) or "none"))
    box: dict[str, Any] = {}

    def make_job(cancel: threading.Event) -> Generator[Any, None, None]:
        def on_sigint(signum: int, frame: Any) -> None:
            cancel.set()
            print("\nstopping after this step; a resumable checkpoint is saved", file=sys.stderr)
            signal.signal(signal.SIGINT, signal.default_int_handler)

        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, on_sigint)
        box["result"] = yield from finetune(req, cancel)

    try:
        drive(make_job, description="finetune", quiet=args.quiet)
    finally:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.default_int_handler)
    res = box.get("result")
    if res is None or res.cancelled:
        ck = res.checkpoint if res is not None else Path(req.out) / "checkpoint"
        print(f"cancelled: checkpoint {ck} (not a model); rerun with --resume to continue")
        return 130
    print(f"\nModel: {res.model_dir} ({res.steps} steps, {res.pixel_size * 1e12:.4g} pm/px)")
    from stmdenoise.model.folder import read_model_info

    native = read_model_info(res.model_dir).native_pixel_size_range if res.model_dir else None
    if native is not None:
        print(
            f"Native range: {native[0] * 1e12:.4g}-{native[1] * 1e12:.4g} pm/px "
            "(scans in it are denoised on their own grid)"
        )
    print(f"Start: {res.start} ({res.start_reason})")
    print(res.table)
    if res.flagged:
        print(f"FLAGGED: {res.flag_reason}. Do not make it the default without a reason.")
        return 1
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``finetune``."""
    p = sub.add_parser(
        "finetune",
        help="fine-tune a model on your own scans (self-supervised; no clean images needed)",
        description=(
            "Fine-tune a model on your scans, self-supervised (ours, not the paper's method): "
            "Noise2Noise between the aligned forward and backward frames, a blind-spot term on single "
            "frames, and the base model's simulated pairs as an anchor. The new model works at the median "
            "pixel size of the training scans, or, when they span at most 2x, on each scan's own grid "
            "within 1.5x of their pixel sizes. Held-out scans are never trained on; the result is judged "
            "there against the base model and the best classical filter (forward/backward error) and "
            "flagged when worse than the base or the raw scan. See docs/finetune.md."
        ),
    )
    p.add_argument("scans", nargs="+", metavar="SCAN_OR_DIR", help="your scans (files or folders)")
    p.add_argument("--base", required=True, type=Path, help="model folder to start from")
    p.add_argument("--out", required=True, type=Path, help="new model folder (never overwritten)")
    p.add_argument("--minutes", type=float, default=5.0, help="training time budget (default 5)")
    p.add_argument("--steps", type=int, help="a fixed number of steps instead of --minutes")
    p.add_argument("--device", default="auto", help="auto (CUDA > MPS > CPU), cpu, cuda or mps")
    p.add_argument("--holdout", type=int, default=1, help="held-out scans picked automatically (default 1)")
    p.add_argument(
        "--holdout-scan", action="append", metavar="FILE", help="a held-out scan of your choice (repeatable)"
    )
    p.add_argument("--resume", action="store_true", help="continue the unfinished run in --out")
    p.add_argument(
        "--start",
        choices=("auto", "base", "identity"),
        default="auto",
        help="starting weights: the base model's (base), or with its Up block's last layer zeroed so it "
        "starts as the blurred input (identity); auto (default): identity when the scans' pixel size is "
        "more than 2x from the base model's or the base model's output on the training scans is worse "
        "than raw, else base",
    )
    p.add_argument(
        "--lambda-n2n", type=float, default=1.0, help="forward/backward Noise2Noise weight (default 1)"
    )
    p.add_argument("--lambda-blindspot", type=float, default=0.5, help="blind-spot weight (default 0.5)")
    p.add_argument(
        "--lambda-anchor",
        type=float,
        default=1.0,
        help="weight of the base model's simulated pairs: higher stays closer to the base model, "
        "0 trusts your scans alone (default 1)",
    )
    p.add_argument("--crop", type=int, default=64, help="crop side, px (lowered to the smallest scan)")
    p.add_argument("--batch", type=int, default=4, help="crops per term and step (default 4)")
    p.add_argument("--lr", type=float, default=1e-4, help="Adam learning rate (default 1e-4)")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--threads", type=int, help="torch CPU threads")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)
