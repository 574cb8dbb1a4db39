"""Drive a job generator from the terminal with a progress bar; Ctrl+C cancels cleanly."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Generator, Iterator
from typing import Any, TypeVar

from tqdm import tqdm

from stmdenoise.jobs import ProgressRecord, run_job

R = TypeVar("R", bound=ProgressRecord)
T = TypeVar("T")

__all__ = ["drive"]


def drive(
    make_job: Callable[[threading.Event], Generator[R, Any, T] | Iterator[R]],
    *,
    description: str = "",
    on_record: Callable[[R], None] | None = None,
    quiet: bool = False,
) -> tuple[T | None, bool]:
    """Run the job ``make_job(cancel)`` to its end, showing a progress bar on stderr.

    Returns ``(result, completed)``: ``result`` is the job's return value (see
    :mod:`stmdenoise.jobs`); ``completed`` is False when the user pressed Ctrl+C, in which
    case the job was asked to stop and allowed to save its state (and still returns its result).
    """
    cancel = threading.Event()
    job = make_job(cancel)
    bar = tqdm(desc=description, unit="step", file=sys.stderr, disable=quiet, dynamic_ncols=True)

    def show(rec: R) -> None:
        if rec.total is not None and bar.total != rec.total:
            bar.total = rec.total
        bar.n = rec.done
        if rec.message:
            bar.set_postfix_str(rec.message, refresh=False)
        bar.refresh()
        if on_record is not None:
            on_record(rec)

    try:
        try:
            return run_job(job, show), True
        except KeyboardInterrupt:
            cancel.set()
            # let the job reach its next cancel check and run its `finally` blocks
            result = run_job(job, lambda rec: None)
            print("\ncancelled; partial results were saved and a rerun resumes", file=sys.stderr)
            return result, False
    finally:
        bar.close()
