"""Training of PDA-Net: configuration, data, losses, the Algorithm-1 loop, checkpoints.

Public API: :class:`TrainConfig`, :func:`train` (a job: a generator of :class:`TrainProgress`
returning a :class:`TrainResult`) and :class:`Trainer` (the run's state, one step at a time, for
benchmarks and tests).
"""

from stmdenoise.training.config import TrainConfig
from stmdenoise.training.loop import Trainer, TrainProgress, TrainResult, train

__all__ = ["TrainConfig", "Trainer", "TrainProgress", "TrainResult", "train"]
