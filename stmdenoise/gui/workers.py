"""Run core generators off the GUI thread (superqt-style thread workers).

A job follows the one contract of :mod:`stmdenoise.jobs`: ``make_job(cancel)`` returns a
generator of records whose return value is the result. The worker iterates it in a
:class:`QThread`, emits every record through :attr:`GeneratorWorker.yielded` and the result
through :attr:`GeneratorWorker.returned` (when the job ends without an exception, cancelled or
not), checks the ``cancel`` event between records (the job gets the same event and stops at
its next step, after saving what it must, as ``stmdenoise.cli.progress.drive`` lets it), turns
an exception into :attr:`GeneratorWorker.failed` and always emits
:attr:`GeneratorWorker.finished` last (from a ``finally`` block). A job wrapping a blocking call
with a progress callback is made a generator by :func:`stmdenoise.jobs.reporting`.

Connect these signals only to ``@Slot`` methods of objects living in the GUI thread: PySide6
runs a lambda connected to a moved worker's signal in the worker thread.

Stale results: a job started with ``WorkerPool.start(..., tag=key)`` delivers
:class:`Tagged` objects instead (``Tagged(key, record)`` to ``on_record``, ``Tagged(key,
message)`` to ``on_failed``, ``Tagged(key, result)`` to ``on_returned``, the key to
``on_finished``), so a slot can drop what a job
started for another scan or another generation of the view sends late (see
``Session.view_key``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from stmdenoise.jobs import run_job

__all__ = ["JobFactory", "GeneratorWorker", "WorkerPool", "Tagged"]

log = logging.getLogger(__name__)

#: ``make_job(cancel)``: a generator of records returning the result (see :mod:`stmdenoise.jobs`).
JobFactory = Callable[[threading.Event], Generator[Any, Any, Any] | Iterator[Any]]

#: ``tag`` of a worker whose signals carry bare records.
NO_TAG: Any = None


@dataclass(frozen=True)
class Tagged:
    """What a tagged job delivers: the ``tag`` it was started with and a record, result or error text."""

    tag: Any
    value: Any


class GeneratorWorker(QObject):
    """Iterate one job in a worker thread and emit what it yields."""

    yielded = Signal(object)
    returned = Signal(object)
    failed = Signal(str)
    finished = Signal()
    # the same four, for a worker started with a tag:
    # Tagged(tag, record), Tagged(tag, result), Tagged(tag, text), tag
    tagged_yielded = Signal(object)
    tagged_returned = Signal(object)
    tagged_failed = Signal(object)
    tagged_finished = Signal(object)

    def __init__(self, make_job: JobFactory, *, name: str = "job", tag: Any = NO_TAG) -> None:
        super().__init__()
        self._make_job = make_job
        self.name = name
        self.tag = tag
        self.cancel_event = threading.Event()
        self.was_cancelled = False

    def cancel(self) -> None:
        """Ask the job to stop at its next step (thread-safe)."""
        self.cancel_event.set()

    def _emit(self, record: Any) -> None:
        if self.tag is NO_TAG:
            self.yielded.emit(record)
        else:
            self.tagged_yielded.emit(Tagged(self.tag, record))

    def _record(self, record: Any) -> None:
        self._emit(record)
        if self.cancel_event.is_set() and not self.was_cancelled:
            # keep iterating: the job saw the same event and winds down by itself
            # (a training run saves its checkpoint and returns)
            log.info("%s: cancel requested; letting the job finish its current step", self.name)
            self.was_cancelled = True

    @Slot()
    def run(self) -> None:
        """Iterate the job; runs in the worker thread."""
        try:
            result = run_job(self._make_job(self.cancel_event), self._record)
            self.was_cancelled = self.cancel_event.is_set()
            if self.tag is NO_TAG:
                self.returned.emit(result)
            else:
                self.tagged_returned.emit(Tagged(self.tag, result))
        except Exception as exc:  # every failure becomes a signal; the app must go on
            log.exception("%s failed", self.name)
            text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            if self.tag is NO_TAG:
                self.failed.emit(text)
            else:
                self.tagged_failed.emit(Tagged(self.tag, text))
        finally:
            if self.tag is not NO_TAG:
                self.tagged_finished.emit(self.tag)
            self.finished.emit()


class WorkerPool(QObject):
    """Own the worker threads of one window: start them, cancel them, join them on close."""

    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._running: dict[GeneratorWorker, QThread] = {}
        self._closed = False

    def start(
        self,
        make_job: JobFactory,
        *,
        name: str,
        on_record: Callable[[Any], None] | None = None,
        on_returned: Callable[[Any], None] | None = None,
        on_failed: Callable[[Any], None] | None = None,  # str, or Tagged with a tag
        on_finished: Callable[..., None] | None = None,
        tag: Any = NO_TAG,
    ) -> GeneratorWorker | None:
        """Start ``make_job`` in a new thread; the callbacks must be ``@Slot`` methods.

        ``on_returned`` receives the job's result (its generator's return value) when it ends
        without an exception, before ``on_finished``. With a ``tag`` (anything but None, e.g.
        ``Session.view_key``) the callbacks receive :class:`Tagged` records, results and error
        texts and ``on_finished`` the tag, so they can drop what arrives for a view that is no
        longer shown.

        Returns None, starting nothing, once :meth:`shutdown` has run: a timer of a closed window
        that fires late must not start a thread nobody will join (Qt aborts the process when a
        running ``QThread`` is destroyed with its window).
        """
        if self._closed:
            log.info("pool is shut down; not starting %s", name)
            return None
        worker = GeneratorWorker(make_job, name=name, tag=tag)
        thread = QThread()
        thread.setObjectName(name)
        worker.moveToThread(thread)
        tagged = tag is not NO_TAG
        if on_record is not None:
            (worker.tagged_yielded if tagged else worker.yielded).connect(on_record)
        if on_returned is not None:
            (worker.tagged_returned if tagged else worker.returned).connect(on_returned)
        if on_failed is not None:
            (worker.tagged_failed if tagged else worker.failed).connect(on_failed)
        if on_finished is not None:
            (worker.tagged_finished if tagged else worker.finished).connect(on_finished)
        # direct: quit() is thread-safe, and a queued call would deadlock shutdown()'s wait()
        worker.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        thread.finished.connect(self._thread_done)
        thread.started.connect(worker.run)
        self._running[worker] = thread
        was_busy = len(self._running) > 1
        thread.start()
        if not was_busy:
            self.busy_changed.emit(True)
        return worker

    @Slot()
    def _thread_done(self) -> None:
        for worker, thread in list(self._running.items()):
            if thread.isFinished():
                thread.wait()
                del self._running[worker]
                worker.deleteLater()
                thread.deleteLater()
        if not self._running:
            self.busy_changed.emit(False)

    @property
    def closed(self) -> bool:
        """True once :meth:`shutdown` has run: :meth:`start` starts nothing any more."""
        return self._closed

    @property
    def busy(self) -> bool:
        """True while any worker thread is running."""
        return bool(self._running)

    def names(self) -> list[str]:
        """Names of the running jobs."""
        return [w.name for w in self._running]

    def cancel(self, name: str | None = None) -> None:
        """Cancel the running jobs called ``name`` (all jobs when None)."""
        for worker in self._running:
            if name is None or worker.name == name:
                worker.cancel()

    def shutdown(self, *, timeout_ms: int = 30000) -> bool:
        """Cancel every job, join its thread and refuse new ones; False if one did not stop in time."""
        self._closed = True
        ok = True
        for worker, thread in list(self._running.items()):
            worker.cancel()
            if not thread.wait(timeout_ms):
                log.error("worker %s did not stop within %d ms", worker.name, timeout_ms)
                ok = False
        self._thread_done()
        return ok
