"""Exponential moving average of network weights (``stmdenoise train --ema``).

The average follows a fixed set of live tensors by name; :meth:`WeightAverage.swapped_in`
puts it into those tensors for as long as a block runs (saving a model folder) and restores
the live weights after, so training goes on from where it was.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import torch

__all__ = ["WeightAverage"]


class WeightAverage:
    """``average <- decay * average + (1 - decay) * live`` after every :meth:`update`.

    Parameters
    ----------
    live : mapping of str to Tensor
        The tensors to follow (kept by reference; they must be updated in place).
    decay : float
        In [0, 1); 0.995 averages over about 200 updates.

    Examples
    --------
    >>> w = torch.zeros(2)
    >>> avg = WeightAverage({"w": w}, decay=0.5)
    >>> _ = w.add_(4.0); avg.update(); avg.average["w"].tolist()
    [2.0, 2.0]
    >>> with avg.swapped_in(): w.tolist()
    [2.0, 2.0]
    >>> w.tolist()
    [4.0, 4.0]
    """

    def __init__(self, live: Mapping[str, torch.Tensor], decay: float) -> None:
        if not 0 <= decay < 1:
            raise ValueError(f"decay must be in [0, 1), got {decay!r}")
        self.live = dict(live)
        self.decay = float(decay)
        self.average = self._copy()

    def _copy(self) -> dict[str, torch.Tensor]:
        return {k: t.detach().clone() for k, t in self.live.items()}

    def restart(self) -> None:
        """Start the average again from the live tensors."""
        self.average = self._copy()

    def update(self) -> None:
        """One step of the average towards the live tensors."""
        with torch.no_grad():
            for k, t in self.live.items():
                self.average[k].lerp_(t.detach(), 1.0 - self.decay)

    @contextmanager
    def swapped_in(self) -> Iterator[None]:
        """The live tensors hold the average inside the block, their own values again after it."""
        kept = self._copy()
        with torch.no_grad():
            for k, t in self.live.items():
                t.copy_(self.average[k])
        try:
            yield
        finally:
            with torch.no_grad():
                for k, t in self.live.items():
                    t.copy_(kept[k])
