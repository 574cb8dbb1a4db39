"""``stmdenoise train``: train a PDA-Net model folder from the command line (Ctrl+C saves and stops)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from stmdenoise.cli.progress import drive
from stmdenoise.variants import VARIANTS

__all__ = ["add_parser", "run", "config_from_args"]

log = logging.getLogger(__name__)

# flag -> TrainConfig field (flags left out keep the config file's value or the default)
_FLAGS: dict[str, str] = {
    "variant": "variant",
    "steps": "steps",
    "crop": "crop",
    "batch": "batch",
    "ngf": "ngf",
    "blocks": "blocks",
    "ndf": "ndf",
    "sim": "sim",
    "sim_preset": "sim_preset",
    "sim_pixels": "sim_pixels",
    "sim_pool": "sim_pool",
    "real_nm_per_px": "real_nm_per_px",
    "out": "out",
    "device": "device",
    "seed": "seed",
    "lr": "lr",
    "gan_mode": "gan_mode",
    "lambda_cyc": "lambda_cyc",
    "lambda_fa": "lambda_fa",
    "lambda_sup": "lambda_sup",
    "lambda_cyc_exp": "lambda_cyc_exp",
    "lambda_anchor": "lambda_anchor",
    "ema": "ema",
    "lambda_range": "lambda_range",
    "lambda_ssim": "lambda_ssim",
    "extreme_crops": "extreme_crops",
    "checkpoint_every": "checkpoint_every",
    "weights_dtype": "weights_dtype",
    "norm_squash": "norm_squash",
    "pair_norm": "pair_norm",
    "residual": "residual",
    "skip_blur": "skip_blur",
    "init": "init",
    "sup_space": "sup_space",
    # self-supervised real-data terms (ours, not the paper's)
    "lambda_n2n": "lambda_n2n",
    "lambda_stack": "lambda_stack",
    "lambda_blindspot": "lambda_blindspot",
    "real_pairs": "real_pairs",
    "real_stack": "real_stack",
    "blindspot_fraction": "blindspot_fraction",
    "ss_loss": "ss_loss",
}


def config_from_args(args: argparse.Namespace) -> Any:
    """Merge ``--config FILE`` (or, with --resume, the checkpoint's settings) with the flags given."""
    from stmdenoise.training import TrainConfig

    base: dict[str, Any] = {}
    if args.config:
        base = TrainConfig.load(args.config).to_dict()
    elif args.resume and args.out:
        from stmdenoise.training.checkpoint import checkpoint_exists, read_checkpoint_meta

        if checkpoint_exists(args.out):
            base = dict(read_checkpoint_meta(args.out)["config"])
            # checkpoints written before norm_squash existed trained with the linear map
            base.setdefault("norm_squash", 0.0)
    for flag, name in _FLAGS.items():
        v = getattr(args, flag, None)
        if v is not None:
            base[name] = v
    if args.real:
        base["real"] = list(args.real)
    if args.sim_size_nm is not None:
        base["sim_size"] = args.sim_size_nm * 1e-9
    if args.on_the_fly:
        base["sim"] = None
    return TrainConfig.from_dict(base)


def run(args: argparse.Namespace) -> int:
    """Train; exit code 0 when finished, 130 when cancelled (a checkpoint was saved)."""
    from stmdenoise.training import train

    cfg = config_from_args(args)
    if args.threads:
        import torch

        # on a shared machine one intra-op thread per process avoids spinning OpenMP workers
        torch.set_num_threads(args.threads)
        log.info("torch CPU threads: %d", args.threads)
    Path(cfg.out).mkdir(parents=True, exist_ok=True)
    if args.save_config:
        cfg.save(args.save_config)

    def make_job(cancel: threading.Event) -> Any:
        # First Ctrl+C: finish the current step, save a checkpoint and the model, stop.
        # A second Ctrl+C interrupts at once.
        def on_sigint(signum: int, frame: Any) -> None:
            cancel.set()
            print("\nstopping after this step (Ctrl+C again to abort without saving)", file=sys.stderr)
            signal.signal(signal.SIGINT, signal.default_int_handler)

        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, on_sigint)
        return train(cfg, cancel=cancel, resume=args.resume)

    last_losses: dict[str, float] = {}

    def on_record(rec: Any) -> None:
        if rec.losses and rec.done % max(cfg.log_every, 1) == 0:
            last_losses.update(rec.losses)
            terms = " ".join(f"{k}={v:.4f}" for k, v in sorted(rec.losses.items()))
            log.debug("step %d: %s (%.1f img/s)", rec.done, terms, rec.images_per_s)

    try:
        last, completed = drive(
            make_job, description=f"train {cfg.variant}", on_record=on_record, quiet=args.quiet
        )
    finally:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.default_int_handler)
    if last is not None:
        print(last.message)
        if last.losses:
            print("final losses: " + ", ".join(f"{k} {v:.4f}" for k, v in sorted(last.losses.items())))
    cancelled = last is None or "cancelled" in last.message or not completed
    return 130 if cancelled else 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``train``."""
    p = sub.add_parser(
        "train",
        help="train a PDA-Net denoiser (model folder: config.json + weights.safetensors)",
        description=(
            "Train PDA-Net (Algorithm 1 of the paper) on simulated Cu(111) pairs (on the fly, or an HDF5 "
            "from `stmdenoise simulate`) and experimental scans. Flags override --config FILE. Ctrl+C "
            "stops after the current step and saves a checkpoint; --resume continues exactly. "
            "Several processes: torchrun --nproc-per-node N -m stmdenoise train ... See docs/model.md."
        ),
    )
    p.add_argument("--config", type=Path, help="JSON file of TrainConfig settings")
    p.add_argument("--save-config", type=Path, help="also write the merged settings to this JSON file")
    p.add_argument("--variant", choices=VARIANTS, help="ablation variant (default pdanet)")
    p.add_argument("--steps", type=int, help="iterations (default 20000)")
    p.add_argument("--crop", type=int, help="training crop side in pixels, multiple of 4 (default 128)")
    p.add_argument("--batch", type=int, help="images per domain per step (default 4)")
    p.add_argument("--ngf", type=int, help="generator width (paper 64; default 32)")
    p.add_argument("--blocks", type=int, help="ResNet blocks (paper 9; default 6)")
    p.add_argument("--ndf", type=int, help="PatchGAN width (default 64)")
    p.add_argument("--sim", help="HDF5 of simulated pairs (default: simulate on the fly)")
    p.add_argument(
        "--on-the-fly", action="store_true", help="simulate on the fly even if the config names --sim"
    )
    p.add_argument("--sim-preset", help="artefact preset for on-the-fly simulation (default typical)")
    p.add_argument("--sim-pixels", type=int, help="pixels per simulated image (default 256)")
    p.add_argument("--sim-size-nm", type=float, help="field of view of simulated images, nm (default 36)")
    p.add_argument("--sim-pool", type=int, help="simulated pairs kept in memory on the fly (default 64)")
    p.add_argument("--real", nargs="+", metavar="DIR_OR_FILE", help="experimental scans (files or folders)")
    p.add_argument("--real-nm-per-px", type=float, help="pixel size of plain images (JPEG/PNG) in nm")
    p.add_argument("--out", help="model folder to write (default ./model)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint")
    p.add_argument("--device", help="auto (CUDA > MPS > CPU), cpu, cuda or mps")
    p.add_argument("--seed", type=int, help="random seed (default 0)")
    p.add_argument("--lr", type=float, help="Adam learning rate (default 2e-4)")
    p.add_argument(
        "--gan-mode", choices=("log", "lsgan"), help="adversarial loss (default log, as the paper)"
    )
    p.add_argument("--lambda-cyc", type=float, help="cycle-loss weight (paper 1)")
    p.add_argument("--lambda-fa", type=float, help="feature-alignment weight (paper 0.1)")
    p.add_argument("--lambda-sup", type=float, help="paired L1 weight (supervised variant, default 10)")
    p.add_argument(
        "--lambda-cyc-exp", type=float, help="experimental cycle G_B(G_DA(I_E)) ~ I_E weight (default 0)"
    )
    p.add_argument(
        "--lambda-anchor",
        type=float,
        help="weight of G_DA(I_E) ~ G_D(I_E): G_DA stays near the simulation-trained denoiser (default 0)",
    )
    p.add_argument(
        "--lambda-range",
        type=float,
        help="weight of the min-max-scaled MSE of G_D(I_BS) vs I_S (default 0; needs paired crops)",
    )
    p.add_argument(
        "--lambda-ssim",
        type=float,
        help="weight of 1 - SSIM of G_D(I_BS) vs I_S on the clean crop's scale (default 0; paired crops)",
    )
    p.add_argument(
        "--extreme-crops",
        type=float,
        metavar="P",
        help="fraction of paired crops placed around the clean image's highest or lowest pixel (default 0)",
    )
    p.add_argument(
        "--ema",
        type=float,
        metavar="DECAY",
        help="save a moving average of the denoisers' weights, e.g. 0.995 (default 0 = the last weights)",
    )
    p.add_argument("--checkpoint-every", type=int, help="checkpoint period in steps (default 500)")
    p.add_argument(
        "--norm-squash", type=float, help="tanh compression of normalised images (0.8; 0 = linear)"
    )
    p.add_argument(
        "--sup-space",
        choices=("squashed", "data"),
        help="paired L1 in the networks' tanh range or in normalised data units (default squashed)",
    )
    p.add_argument(
        "--init",
        metavar="MODEL",
        help="start the generators from this model folder (fine-tuning; PDA-Net after --variant paired)",
    )
    p.add_argument(
        "--residual",
        action="store_true",
        default=None,
        help="generators learn a correction to their input (global skip); default: the paper's layout",
    )
    p.add_argument(
        "--skip-blur",
        type=float,
        metavar="SIGMA",
        help="Gaussian sigma (px) on the denoisers' residual skip (default 0 = identity; needs --residual)",
    )
    p.add_argument(
        "--pair-norm",
        choices=("own", "noisy"),
        help="normalise a simulated clean image by its own percentiles or by its noisy twin's (default own)",
    )
    p.add_argument("--weights-dtype", choices=("float32", "float16"), help="storage type of the weights")
    p.add_argument(
        "--threads", type=int, help="torch CPU threads (default: torch's choice; 1 on a busy machine)"
    )
    _add_self_supervised(p)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _add_self_supervised(p: argparse.ArgumentParser) -> None:
    """The self-supervised real-data terms (stmdenoise.training.self_supervised)."""
    g = p.add_argument_group(
        "self-supervised terms on real scans (ours, not the paper's; the Ko group test frames are refused)"
    )
    g.add_argument(
        "--lambda-n2n",
        type=float,
        help="Noise2Noise weight: G(forward) vs the aligned backward frame and back (default 0 = off)",
    )
    g.add_argument(
        "--lambda-stack", type=float, help="Noise2Noise weight between consecutive frames of --real-stack"
    )
    g.add_argument(
        "--lambda-blindspot",
        type=float,
        help="blind-spot (Noise2Void) weight on single real frames (default 0 = off)",
    )
    g.add_argument(
        "--real-pairs", nargs="+", metavar="DIR_OR_FILE", help="real scans with forward and backward frames"
    )
    g.add_argument("--real-stack", nargs="+", metavar="DIR_OR_FILE", help="repeated frames of one area")
    g.add_argument("--blindspot-fraction", type=float, help="share of pixels masked (default 0.02)")
    g.add_argument(
        "--ss-loss", choices=("l1", "l2"), help="distance of the self-supervised terms (default l1)"
    )
