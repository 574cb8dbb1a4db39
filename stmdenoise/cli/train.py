"""``stmdenoise train``: train a PDA-Net model folder from the command line (Ctrl+C saves and stops)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stmdenoise.cli.progress import drive
from stmdenoise.training.options import Option, options

if TYPE_CHECKING:
    from stmdenoise.training.config import TrainConfig

__all__ = ["add_parser", "run", "config_from_args"]

log = logging.getLogger(__name__)


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    """The settings given on the command line, by flat key (flags left out are absent)."""
    given: dict[str, Any] = {}
    for o in options():
        value = getattr(args, _dest(o), None)
        if value is None:
            continue
        given[o.key] = value * o.flag_scale if o.flag_scale is not None else value
    if args.on_the_fly:
        given["sim"] = None
    return given


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """Merge ``--config FILE`` (or, with --resume, the checkpoint's settings) with the flags given."""
    from stmdenoise.training import TrainConfig

    base: dict[str, Any] = {}
    if args.config:
        base = TrainConfig.load(args.config).to_flat()
    elif args.resume and args.out:
        from stmdenoise.training.checkpoint import checkpoint_exists, read_checkpoint_meta

        if not checkpoint_exists(args.out):  # not the defaults' complaints: the real reason
            raise ValueError(f"--resume: no checkpoint in {Path(args.out) / 'checkpoint'}: nothing to resume")
        saved = dict(read_checkpoint_meta(args.out)["config"])
        if "norm" not in saved:  # flat, from an older version; before norm_squash: the linear map
            saved.setdefault("norm_squash", 0.0)
        base = TrainConfig.from_dict(saved).to_flat()
    return TrainConfig.from_dict({**base, **_settings(args)})


def run(args: argparse.Namespace) -> int:
    """Train; exit code 0 when finished, 130 when cancelled (a checkpoint was saved)."""
    from stmdenoise.training import train

    cfg = config_from_args(args)
    if args.threads:
        import torch

        # on a shared machine one intra-op thread per process avoids spinning OpenMP workers
        torch.set_num_threads(args.threads)
        log.info("torch CPU threads: %d", args.threads)
    Path(cfg.run.out).mkdir(parents=True, exist_ok=True)
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
        if rec.losses and rec.done % max(cfg.run.log_every, 1) == 0:
            last_losses.update(rec.losses)
            terms = " ".join(f"{k}={v:.4f}" for k, v in sorted(rec.losses.items()))
            log.debug("step %d: %s (%.1f img/s)", rec.done, terms, rec.images_per_s)

    try:
        result, completed = drive(
            make_job, description=f"train {cfg.variant}", on_record=on_record, quiet=args.quiet
        )
    finally:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.default_int_handler)
    if result is not None:
        how = "cancelled; checkpoint saved" if result.cancelled else "finished"
        print(f"{how} after {result.steps} steps" + (f": {result.model_dir}" if result.model_dir else ""))
        if result.losses:
            print("final losses: " + ", ".join(f"{k} {v:.4f}" for k, v in sorted(result.losses.items())))
    return 130 if result is None or result.cancelled or not completed else 0


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
    p.add_argument(
        "--on-the-fly", action="store_true", help="simulate on the fly even if the config names --sim"
    )
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint")
    for o in options():  # every setting, from its one declaration
        _add_flag(p, o)
    p.add_argument(
        "--threads", type=int, help="torch CPU threads (default: torch's choice; 1 on a busy machine)"
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


_METAVARS = {
    "real": "DIR_OR_FILE",
    "init": "MODEL",
    "extreme_crops": "P",
    "ema": "DECAY",
    "skip_blur": "SIGMA",
}


def _dest(o: Option) -> str:
    return o.flag[2:].replace("-", "_")


def _add_flag(p: argparse.ArgumentParser, o: Option) -> None:
    """``--KEY`` for the setting ``o``: type, choices and help from its metadata."""
    default = o.default
    if o.flag_scale is not None and default is not None:
        default = f"{default / o.flag_scale:g} {o.flag_unit}"
    elif isinstance(default, float):
        default = f"{default:g}"
    shown = "" if default in (None, (), "") else f" (default {default})"
    if o.choices is None and o.type in (int, float) and o.flag_scale is None and o.range_text():
        shown += f" [{o.range_text()}]"
    kw: dict[str, Any] = {"dest": _dest(o), "help": o.help + shown, "default": None}
    if o.type is bool:
        kw["action"] = argparse.BooleanOptionalAction
    elif o.type is tuple:
        kw["nargs"] = "+"
    else:
        kw["type"] = float if o.flag_scale is not None else o.type
        if o.choices is not None:
            kw["choices"] = o.choices
    if o.key in _METAVARS:
        kw["metavar"] = _METAVARS[o.key]
    p.add_argument(o.flag, **kw)
