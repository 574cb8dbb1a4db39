"""The state of a fine-tune run: its starting weights and its resumable checkpoint.

Split from :mod:`stmdenoise.training.finetune` (the job): :func:`choose_start` is the one rule
for where the weights start, :func:`zero_up_output` makes a residual generator its skip path,
and an unfinished run is a checkpoint plus an ``INCOMPLETE`` marker, never a model folder.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from stmdenoise.io import atomic_write
from stmdenoise.plan import MAX_ZOOM
from stmdenoise.processing import NormalizationSpec

__all__ = [
    "VALIDATE_EVERY",
    "BestWeights",
    "validation_error",
    "INCOMPLETE_NAME",
    "START_CHOICES",
    "choose_start",
    "clear_checkpoint",
    "has_checkpoint",
    "is_incomplete",
    "load_checkpoint",
    "save_checkpoint",
    "write_atomic",
    "zero_up_output",
]

#: Marker file of a fine-tune run that stopped before it wrote a model (a resumable checkpoint).
INCOMPLETE_NAME = "INCOMPLETE"
_CKPT_DIR = "checkpoint"
_CKPT_FILE = "finetune.safetensors"
#: Values of ``FinetuneRequest.start`` (``--start``).
START_CHOICES = ("auto", "base", "identity")


def has_checkpoint(out: str | Path) -> bool:
    """True when ``out`` holds a fine-tune checkpoint (to resume, or to refuse to overwrite)."""
    return (Path(out) / _CKPT_DIR / _CKPT_FILE).is_file()


def clear_checkpoint(out: Path) -> None:
    """A finished run: its checkpoint and INCOMPLETE marker go (the folder is now a model)."""
    shutil.rmtree(out / _CKPT_DIR, ignore_errors=True)
    (out / INCOMPLETE_NAME).unlink(missing_ok=True)


def is_incomplete(folder: str | Path) -> bool:
    """True when ``folder`` holds an unfinished fine-tune (checkpoint + INCOMPLETE marker)."""
    return (Path(folder) / INCOMPLETE_NAME).exists()


# ---------------------------------------------------------------------- starting weights
def choose_start(
    start: str,
    *,
    base_pixel_size: float,
    pixel_size: float,
    residual: bool,
    base_error: Callable[[], float],
) -> tuple[str, str]:
    """The one rule for the starting weights: ``(choice, reason)``, choice ``base`` or ``identity``.

    ``base`` and ``identity`` are taken as asked (``identity`` needs a residual generator). ``auto``:

    * ``identity`` when the working pixel size differs from the base model's by more than the
      plan's :data:`~stmdenoise.plan.MAX_ZOOM` (the Denoiser would not even run the base model on
      such scans: what it learnt is at another scale);
    * else ``identity`` when ``base_error()`` (the base model's mean overall forward/backward
      error on the training scans, raw = 1.00; called only here) is above 1: the base model makes
      these scans worse than leaving them alone;
    * else ``base`` (also when that error cannot be measured: NaN).

    A non-residual base cannot start as the identity (zeroing its Up block gives a flat image):
    ``auto`` then keeps ``base``.
    """
    if start not in START_CHOICES:
        raise ValueError(f"start must be one of {', '.join(START_CHOICES)}, got {start!r}")
    if start == "identity" and not residual:
        raise ValueError("start 'identity' needs a residual base model (its output is the skip path)")
    if start != "auto":
        return start, "asked for"
    if not residual:
        return "base", "auto: the base model is not residual (no skip path to start from)"
    zoom = max(pixel_size / base_pixel_size, base_pixel_size / pixel_size)
    if zoom > MAX_ZOOM:
        return "identity", (
            f"auto: working pixel size {pixel_size * 1e12:.4g} pm is {zoom:.3g}x the base model's "
            f"{base_pixel_size * 1e12:.4g} pm (more than the plan's MAX_ZOOM {MAX_ZOOM:g})"
        )
    err = base_error()
    if math.isfinite(err) and err > 1.0:
        return "identity", f"auto: the base model's error on the training scans is {err:.3g}x raw (> 1)"
    if math.isfinite(err):
        return "base", f"auto: the base model's error on the training scans is {err:.3g}x raw (<= 1)"
    return "base", "auto: the base model's error on the training scans could not be measured"


def zero_up_output(gen: torch.nn.Module) -> None:
    """Zero the last layer (weights and bias) of ``gen``'s Up block: a residual generator then
    outputs ``tanh(skip(atanh(x)))``, the blurred input (the start ``identity``)."""
    last = gen.up[-1]  # type: ignore[index]
    if not isinstance(last, torch.nn.Conv2d):
        raise ValueError(f"the Up block ends with {type(last).__name__}, not a convolution")
    with torch.no_grad():
        last.weight.zero_()
        if last.bias is not None:
            last.bias.zero_()


def write_atomic(path: Path, content: str | bytes) -> Path:
    """Atomic write of text (UTF-8) or bytes."""
    data = content.encode("utf-8") if isinstance(content, str) else content

    def write(tmp: Path) -> None:
        tmp.write_bytes(data)

    return atomic_write(path, write)


def save_checkpoint(
    out: Path, gen: torch.nn.Module, opt: torch.optim.Optimizer, meta: dict[str, Any]
) -> Path:
    from safetensors.torch import save

    from stmdenoise.training.checkpoint import _optimizer_tensors

    folder = out / _CKPT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {f"gen.{k}": v.detach().cpu().contiguous().clone() for k, v in gen.state_dict().items()}
    tensors.update(_optimizer_tensors("opt", opt))
    blob = save(tensors, metadata={"stmdenoise-finetune": json.dumps(meta)})
    path = write_atomic(folder / _CKPT_FILE, blob)
    marker = (
        "An unfinished fine-tune run: not a model. Resume it with\n"
        f"  stmdenoise finetune ... --out {out} --resume\n"
        f"step {meta['step']}, saved {time.strftime('%Y-%m-%d %H:%M:%S')}\n"
    )
    write_atomic(out / INCOMPLETE_NAME, marker)
    return path


def load_checkpoint(out: Path, gen: torch.nn.Module, opt: torch.optim.Optimizer) -> dict[str, Any]:
    from safetensors import safe_open
    from safetensors.torch import load_file

    from stmdenoise.training.checkpoint import _restore_optimizer

    path = out / _CKPT_DIR / _CKPT_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{out}: no fine-tune checkpoint to resume ({path} is missing)")
    with safe_open(str(path), framework="pt") as f:
        meta = json.loads((f.metadata() or {})["stmdenoise-finetune"])
    tensors = load_file(str(path))
    gen.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("gen.")})
    _restore_optimizer("opt", opt, tensors)
    return dict(meta)


# ---------------------------------------------------------------------- which weights are kept
#: Steps between two validations of the weights on the training scans (and one at the end).
VALIDATE_EVERY = 25


def validation_error(
    gen: torch.nn.Module, pairs: Sequence[Any], spec: NormalizationSpec, device: torch.device
) -> float:
    """Mean squared distance of ``G(forward)`` to the aligned backward frame, normalised units.

    Over whole training scans (``AlignedPair``: input in the network's range, target in the
    input's normalised units). The backward frame's own noise adds the same constant to every
    set of weights, so the ranking of weights is that of their error against the surface (the
    Noise2Noise principle, as :mod:`stmdenoise.metrics.fidelity`). Uses only training scans:
    held-out scans never choose weights.
    """
    if not pairs:
        return math.nan
    was_training = gen.training
    gen.eval()
    errs = []
    with torch.no_grad():
        for p in pairs:
            x = torch.from_numpy(np.ascontiguousarray(p.input, dtype=np.float32))[None, None].to(device)
            out = gen(x)[0, 0].detach().float().cpu().numpy()
            errs.append(float(np.mean((spec.inverse(out) - p.target) ** 2)))
    gen.train(was_training)
    return float(np.mean(errs))


class BestWeights:
    """The weights with the lowest :func:`validation_error` seen so far (the start included).

    The one rule for what a fine-tune keeps: training with the default terms can move the
    model away from the surface on scans unlike the anchor's (docs/finetune.md), so the model
    written is the best validated state, not the last one.
    """

    def __init__(self) -> None:
        self.error = math.inf
        self.step = -1
        self.state: dict[str, torch.Tensor] | None = None
        self.history: list[tuple[int, float]] = []

    def offer(self, step: int, error: float, gen: torch.nn.Module) -> bool:
        """Record ``error`` at ``step``; keep a copy of ``gen``'s weights when it is the best."""
        self.history.append((step, error))
        if not math.isfinite(error) or error >= self.error:
            return False
        self.error, self.step = error, step
        self.state = {k: v.detach().clone() for k, v in gen.state_dict().items()}
        return True

    def restore(self, gen: torch.nn.Module) -> None:
        """Load the best weights into ``gen`` (nothing to do when none was validated)."""
        if self.state is not None:
            gen.load_state_dict(self.state)

    def to_dict(self) -> dict[str, Any]:
        return {
            "selected_step": self.step,
            "selected_validation_error": self.error if math.isfinite(self.error) else None,
            "validation": [[s, e] for s, e in self.history],
            "rule": "lowest forward/backward validation error on the training scans, start included",
        }
