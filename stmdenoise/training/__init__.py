"""Training of PDA-Net: configuration, data, losses, the Algorithm-1 loop, checkpoints.

Public API: :class:`TrainConfig` (its settings declared in :mod:`stmdenoise.training.options`),
:func:`train` (a job: a generator of :class:`TrainProgress` returning a :class:`TrainResult`)
and :class:`Trainer` (the run's state, one step at a time, for benchmarks and tests).

Names are imported on first use, so that :mod:`stmdenoise.training.options` (the CLI's flags,
the GUI's fields) is read without importing torch.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any

from stmdenoise.lazy import lazy_attribute

if TYPE_CHECKING:
    from stmdenoise.training.config import TrainConfig
    from stmdenoise.training.loop import Trainer
    from stmdenoise.training.records import TrainProgress, TrainResult
    from stmdenoise.training.run import train

__all__ = ["TrainConfig", "Trainer", "TrainProgress", "TrainResult", "train"]


#: Where each public name lives (submodule of this package).
_WHERE: dict[str, str] = {
    "TrainConfig": "config",
    "TrainProgress": "records",
    "TrainResult": "records",
    "Trainer": "loop",
    "train": "run",
}


def _submodule(name: str) -> ModuleType:
    """The submodule ``name`` (plain imports, visible to mypy and import-linter)."""
    if name == "config":
        from stmdenoise.training import config

        return config
    if name == "records":
        from stmdenoise.training import records

        return records
    if name == "loop":
        from stmdenoise.training import loop

        return loop
    if name == "run":
        from stmdenoise.training import run

        return run
    raise AttributeError(f"module {__name__!r} has no submodule {name!r}")


def __getattr__(name: str) -> Any:
    return lazy_attribute(globals(), __name__, name, _WHERE, _submodule)


def __dir__() -> list[str]:
    return sorted(__all__)
