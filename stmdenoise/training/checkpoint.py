"""Training checkpoints: tensors in safetensors, everything else (step, RNG states, config) in JSON.

Nothing is pickled, so a checkpoint from elsewhere cannot run code when loaded. A checkpoint
holds every network, both Adam optimizers' state (step counts included) and the random
generators, so that a resumed run computes the same losses as an uninterrupted one.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from stmdenoise.model.pdanet import PDANet

__all__ = ["save_checkpoint", "load_checkpoint", "checkpoint_exists", "CHECKPOINT_DIR"]

CHECKPOINT_DIR = "checkpoint"
_TENSORS = "state.safetensors"
_JSON = "state.json"


def checkpoint_exists(out: str | Path) -> bool:
    """True when ``out/checkpoint`` holds a complete checkpoint."""
    d = Path(out) / CHECKPOINT_DIR
    return (d / _TENSORS).is_file() and (d / _JSON).is_file()


def _optimizer_tensors(prefix: str, opt: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
    out: dict[str, torch.Tensor] = {}
    for idx, st in opt.state_dict()["state"].items():
        for k, v in st.items():
            t = v if isinstance(v, torch.Tensor) else torch.tensor(float(v))
            out[f"{prefix}.{idx}.{k}"] = t.detach().cpu().contiguous().clone()
    return out


def _restore_optimizer(prefix: str, opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor]) -> None:
    sd = opt.state_dict()
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, t in tensors.items():
        if not key.startswith(prefix + "."):
            continue
        _, idx, name = key.split(".", 2)
        state.setdefault(int(idx), {})[name] = t
    n_params = sum(len(g["params"]) for g in sd["param_groups"])
    if any(i >= n_params for i in state):
        raise ValueError(f"checkpoint optimizer {prefix!r} has state for more parameters than the networks")
    sd["state"] = state
    opt.load_state_dict(sd)


def save_checkpoint(
    out: str | Path,
    *,
    net: PDANet,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    step: int,
    config: dict[str, Any],
    data_rng_states: list[dict[str, Any]],
    extra: dict[str, Any] | None = None,
    ema: Mapping[str, torch.Tensor] | None = None,
) -> Path:
    """Write ``out/checkpoint/`` atomically (a crash mid-write leaves the previous one intact).

    ``ema``: the running averages of the exported generators' weights (``--ema``), by name.
    """
    folder = Path(out) / CHECKPOINT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {f"net.{k}": v.detach().cpu().contiguous().clone() for k, v in net.named_unique_tensors()}
    tensors.update(_optimizer_tensors("opt_g", opt_g))
    tensors.update(_optimizer_tensors("opt_d", opt_d))
    for k, v in (ema or {}).items():
        tensors[f"ema.{k}"] = v.detach().cpu().contiguous().clone()
    tensors["rng.torch_cpu"] = torch.get_rng_state()
    if torch.cuda.is_available():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng.torch_cuda{i}"] = s
    meta = {
        "step": int(step),
        "config": config,
        "data_rng_states": data_rng_states,
        "variant": net.variant,
        "extra": extra or {},
    }
    fd, tmp_t = tempfile.mkstemp(dir=folder, suffix=".tmp")
    os.close(fd)
    fd, tmp_j = tempfile.mkstemp(dir=folder, suffix=".tmp")
    os.close(fd)
    try:
        save_file(tensors, tmp_t)
        Path(tmp_j).write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
        os.replace(tmp_t, folder / _TENSORS)
        os.replace(tmp_j, folder / _JSON)
    finally:
        for t in (tmp_t, tmp_j):
            if os.path.exists(t):
                os.unlink(t)
    return folder


def load_checkpoint(
    out: str | Path,
    *,
    net: PDANet,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    ema: dict[str, torch.Tensor] | None = None,
) -> dict[str, Any]:
    """Restore networks, optimizers and torch RNG from ``out/checkpoint``; returns the JSON part.

    ``ema`` (name -> tensor, filled in place) receives the checkpoint's weight averages where it
    has them; the JSON part's ``"ema_restored"`` says whether it did.

    Raises ValueError when the checkpoint is damaged or belongs to other networks.
    """
    folder = Path(out) / CHECKPOINT_DIR
    if not checkpoint_exists(out):
        raise FileNotFoundError(f"no checkpoint in {folder}")
    try:
        tensors = load_file(str(folder / _TENSORS), device="cpu")
        meta = json.loads((folder / _JSON).read_text(encoding="utf-8"))
    except (SafetensorError, OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{folder}: damaged checkpoint ({exc})") from exc
    if meta.get("variant") != net.variant:
        raise ValueError(f"{folder}: checkpoint is for variant {meta.get('variant')!r}, not {net.variant!r}")
    own = dict(net.named_unique_tensors())
    saved = {k.removeprefix("net."): v for k, v in tensors.items() if k.startswith("net.")}
    if set(own) != set(saved):
        raise ValueError(f"{folder}: checkpoint networks do not match this configuration")
    with torch.no_grad():
        for k, t in own.items():
            if tuple(t.shape) != tuple(saved[k].shape):
                raise ValueError(
                    f"{folder}: tensor {k} has shape {tuple(saved[k].shape)}, expected {tuple(t.shape)}"
                )
            t.copy_(saved[k])
    meta["ema_restored"] = False
    if ema is not None and all(f"ema.{k}" in tensors for k in ema):
        with torch.no_grad():
            for k, t in ema.items():
                t.copy_(tensors[f"ema.{k}"])
        meta["ema_restored"] = True
    _restore_optimizer("opt_g", opt_g, tensors)
    _restore_optimizer("opt_d", opt_d, tensors)
    torch.set_rng_state(tensors["rng.torch_cpu"])
    if torch.cuda.is_available():
        states = [tensors[k] for k in sorted(tensors) if k.startswith("rng.torch_cuda")]
        if len(states) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(states)
    return dict(meta)
