"""Drive a job generator from the terminal with a progress bar; Ctrl+C cancels cleanly."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Generator, Iterator
from typing import Any, TypeVar

from tqdm import tqdm

from stmdenoise.jobs import ProgressRecord

R = TypeVar("R", bound=ProgressRecord)

__all__ = ["drive"]


def drive(
    make_job: Callable[[threading.Event], Iterator[R] | Generator[R, None, Any]],
    *,
    description: str = "",
    on_record: Callable[[R], None] | None = None,
    quiet: bool = False,
) -> tuple[R | None, bool]:
    """Run ``make_job(cancel)`` to completion, showing a progress bar on stderr.

    Returns ``(last_record, completed)``; ``completed`` is False when the user pressed
    Ctrl+C, in which case the job was asked to stop and allowed to save its state.
    """
    cancel = threading.Event()
    job = make_job(cancel)
    last: R | None = None
    bar = tqdm(desc=description, unit="step", file=sys.stderr, disable=quiet, dynamic_ncols=True)
    try:
        try:
            for rec in job:
                last = rec
                if rec.total is not None and bar.total != rec.total:
                    bar.total = rec.total
                bar.n = rec.done
                if rec.message:
                    bar.set_postfix_str(rec.message, refresh=False)
                bar.refresh()
                if on_record is not None:
                    on_record(rec)
        except KeyboardInterrupt:
            cancel.set()
            # let the job reach its next cancel check and run its `finally` blocks
            for rec in job:
                last = rec
            print("\ncancelled; partial results were saved and a rerun resumes", file=sys.stderr)
            return last, False
    finally:
        bar.close()
    return last, True
