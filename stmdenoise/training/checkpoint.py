"""Training checkpoints: one safetensors file holding the tensors and, in its metadata, the JSON part.

Nothing is pickled, so a checkpoint from elsewhere cannot run code when loaded. A checkpoint
holds every network, both Adam optimizers' state (step counts included) and the random
generators, so that a resumed run computes the same losses as an uninterrupted one.

The step, config and data RNG states travel inside the same file as the tensors (safetensors
metadata ``"stmdenoise"``), written to a temporary file, flushed to disk and renamed over
``checkpoint/state.safetensors`` in one ``os.replace``: a process killed at any point leaves
either the previous checkpoint or the new one, never a step from one and tensors from the
other. Checkpoints of earlier versions (tensors + ``state.json``) still load.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from stmdenoise.io._common import clean_stale_temps, fsync_path, temp_name
from stmdenoise.model.pdanet import PDANet

__all__ = [
    "save_checkpoint",
    "load_checkpoint",
    "checkpoint_exists",
    "read_checkpoint_meta",
    "CHECKPOINT_DIR",
]

CHECKPOINT_DIR = "checkpoint"
_TENSORS = "state.safetensors"
_JSON = "state.json"  # the JSON part of checkpoints written before it moved into the tensors file
_META_KEY = "stmdenoise"


def checkpoint_exists(out: str | Path) -> bool:
    """True when ``out/checkpoint`` holds a checkpoint (one file; or the older two-file layout)."""
    d = Path(out) / CHECKPOINT_DIR
    return (d / _TENSORS).is_file()


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
    clean_stale_temps(folder)  # leftovers of a run killed while saving
    tmp = temp_name(folder / _TENSORS)
    try:
        save_file(tensors, str(tmp), metadata={_META_KEY: json.dumps(meta)})
        fsync_path(tmp)
        os.replace(tmp, folder / _TENSORS)  # the one step that publishes tensors and step together
    finally:
        if tmp.exists():
            tmp.unlink()
    legacy = folder / _JSON
    if legacy.exists():  # an older checkpoint's JSON part: superseded by the metadata just written
        legacy.unlink()
    return folder


def read_checkpoint_meta(out: str | Path) -> dict[str, Any]:
    """The JSON part of ``out/checkpoint`` (step, config, data RNG states, variant, extra).

    Raises
    ------
    FileNotFoundError
        No checkpoint in ``out``.
    ValueError
        The checkpoint is damaged.
    """
    folder = Path(out) / CHECKPOINT_DIR
    if not checkpoint_exists(out):
        raise FileNotFoundError(f"no checkpoint in {folder}")
    try:
        with safe_open(str(folder / _TENSORS), framework="pt", device="cpu") as fh:
            text = (fh.metadata() or {}).get(_META_KEY)
        if text is None:  # the older layout: the JSON part beside the tensors
            text = (folder / _JSON).read_text(encoding="utf-8")
        meta = json.loads(text)
    except (SafetensorError, OSError, ValueError) as exc:
        raise ValueError(f"{folder}: damaged checkpoint ({exc})") from exc
    if not isinstance(meta, dict) or not isinstance(meta.get("step"), int):
        raise ValueError(f"{folder}: damaged checkpoint (no integer step in {str(text)[:80]!r})")
    return meta


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
        meta = read_checkpoint_meta(out)
        tensors = load_file(str(folder / _TENSORS), device="cpu")
    except (SafetensorError, OSError) as exc:
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
