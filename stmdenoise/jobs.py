"""The shape of long-running work: generators of small frozen progress records.

One job contract for every caller (the CLI's :func:`stmdenoise.cli.progress.drive` and the
GUI's ``WorkerPool``)::

    job(cancel: threading.Event) -> Generator[Record, None, Result]

A job yields records with at least ``done``, ``total`` and ``message`` and *returns* its
result (the generator's return value, as superqt's ``GeneratorWorker`` has it): results never
ride in the last record. It checks ``cancel`` between steps and saves what it must in
``finally``. :func:`run_job` is the one loop that iterates a job and catches its return value;
:func:`reporting` turns a blocking call that takes a progress callback into such a generator.
Nothing here knows about the terminal or Qt.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, runtime_checkable

__all__ = ["ProgressRecord", "Progress", "JobCancelled", "Job", "run_job", "reporting"]

R = TypeVar("R")
T = TypeVar("T")

#: A job: called with the cancel event, returns a generator of records whose return value is the result.
Job = Callable[[threading.Event], Generator[R, None, T]]


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


def run_job(records: Iterable[R] | Generator[R, Any, T], on_record: Callable[[R], None]) -> T | None:
    """Iterate a job's generator to its end, passing each record to ``on_record``; return its result.

    The result is the generator's return value (None for a plain iterable). Exceptions of the
    job, and of ``on_record``, propagate; the generator can be resumed by a second call (the CLI
    does so after Ctrl+C to let the job reach its cancel check).

    Examples
    --------
    >>> def job():
    ...     yield Progress(1, 2)
    ...     yield Progress(2, 2)
    ...     return "result"
    >>> seen = []
    >>> run_job(job(), seen.append)
    'result'
    >>> [r.done for r in seen]
    [1, 2]
    """
    it = iter(records)
    while True:
        try:
            record = next(it)
        except StopIteration as stop:
            return stop.value
        on_record(record)


_END = object()


def reporting(call: Callable[[Callable[[R], None]], T]) -> Generator[R, None, T]:
    """Run ``call(report)`` in a helper thread; yield what it reports; return what it returns.

    For a blocking function that takes a progress callback (the Denoiser's network passes):
    the job stays a generator of records. The call should watch the job's cancel event itself;
    closing this generator early waits for the call to end. An exception of the call is raised
    here, in the thread that iterates.

    Examples
    --------
    >>> def blocking(report):
    ...     for i in range(3):
    ...         report(Progress(i + 1, 3))
    ...     return "done"
    >>> gen = reporting(blocking)
    >>> [r.done for r in gen]
    [1, 2, 3]
    """
    q: queue.SimpleQueue[Any] = queue.SimpleQueue()
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = call(q.put)
        except BaseException as exc:  # noqa: BLE001 -- handed to the iterating thread, re-raised there
            outcome["error"] = exc
        finally:
            q.put(_END)

    thread = threading.Thread(target=target, name="job-call", daemon=True)
    thread.start()
    try:
        while (item := q.get()) is not _END:
            yield item
    finally:
        thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
