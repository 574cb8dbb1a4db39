"""Training of PDA-Net: configuration, data, losses, the Algorithm-1 loop, checkpoints.

Public API: :class:`TrainConfig` (its settings declared in :mod:`stmdenoise.training.options`),
:func:`train` (a job: a generator of :class:`TrainProgress` returning a :class:`TrainResult`)
and :class:`Trainer` (the run's state, one step at a time, for benchmarks and tests).

Names are imported on first use, so that :mod:`stmdenoise.training.options` (the CLI's flags,
the GUI's fields) is read without importing torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stmdenoise.training.config import TrainConfig
    from stmdenoise.training.loop import Trainer, train
    from stmdenoise.training.records import TrainProgress, TrainResult

__all__ = ["TrainConfig", "Trainer", "TrainProgress", "TrainResult", "train"]


def __getattr__(name: str) -> Any:
    if name == "TrainConfig":
        from stmdenoise.training.config import TrainConfig

        return TrainConfig
    if name in ("TrainProgress", "TrainResult"):
        from stmdenoise.training import records

        return getattr(records, name)
    if name in ("Trainer", "train"):
        from stmdenoise.training import loop

        return getattr(loop, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
