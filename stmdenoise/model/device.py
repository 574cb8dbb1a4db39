"""Pick the compute device: CUDA (mixed precision) > MPS > CPU."""

from __future__ import annotations

import logging

import torch

__all__ = ["select_device"]

log = logging.getLogger(__name__)


def select_device(name: str = "auto") -> torch.device:
    """Return the torch device for ``name`` ("auto", "cpu", "cuda", "cuda:N" or "mps").

    ``auto`` prefers CUDA, then Apple MPS, then the CPU. Asking for a device that is not
    available raises ValueError naming it.
    """
    if not isinstance(name, str):
        raise ValueError(f"device must be a string, got {name!r}")
    if name == "auto":
        if torch.cuda.is_available():
            dev = torch.device("cuda")
        elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            dev = torch.device("mps")
        else:
            dev = torch.device("cpu")
    else:
        try:
            dev = torch.device(name)
        except RuntimeError as exc:
            raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'mps', got {name!r}") from exc
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device {name!r} requested but CUDA is not available")
        if dev.type == "mps" and not (
            getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
        ):
            raise ValueError(f"device {name!r} requested but MPS is not available")
        if dev.type not in ("cpu", "cuda", "mps"):
            raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'mps', got {name!r}")
    log.info("using device %s%s", dev, f" ({torch.cuda.get_device_name(dev)})" if dev.type == "cuda" else "")
    return dev
