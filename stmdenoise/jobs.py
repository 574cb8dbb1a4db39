"""The shape of long-running work: generators of small frozen progress records.

Core jobs (simulate a dataset, train, batch-denoise) are plain generators that yield records
with at least ``done``, ``total`` and ``message``. They take a ``cancel`` event (a
:class:`threading.Event`), check it between steps and save what they must in ``finally``.
The CLI drives them with a progress bar (:func:`stmdenoise.cli.progress.drive`); the GUI
drives them from a worker in a ``QThread``. Nothing here knows about either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = ["ProgressRecord", "Progress", "JobCancelled"]


@runtime_checkable
class ProgressRecord(Protocol):
    """What every progress record offers to a progress bar."""

    @property
    def done(self) -> int: ...

    @property
    def total(self) -> int | None: ...

    @property
    def message(self) -> str: ...


@dataclass(frozen=True)
class Progress:
    """A minimal progress record: ``done`` of ``total`` units, with a short message."""

    done: int
    total: int | None
    message: str = ""


class JobCancelled(RuntimeError):
    """Raised by helpers that must abort a job that was cancelled (after saving its state)."""
