"""Training of PDA-Net: configuration, data, losses, the Algorithm-1 loop, checkpoints.

Public API: :class:`TrainConfig`, :func:`train` (a generator of :class:`TrainProgress`).
"""

from stmdenoise.training.config import TrainConfig
from stmdenoise.training.loop import TrainProgress, train

__all__ = ["TrainConfig", "TrainProgress", "train"]
