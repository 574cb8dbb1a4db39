"""Training of PDA-Net: configuration, data, losses, the Algorithm-1 loop, checkpoints.

Public API: :class:`TrainConfig`, :func:`train` (a job: a generator of :class:`TrainProgress`
returning a :class:`TrainResult`).
"""

from stmdenoise.training.config import TrainConfig
from stmdenoise.training.loop import TrainProgress, TrainResult, train

__all__ = ["TrainConfig", "TrainProgress", "TrainResult", "train"]
