"""Run core generators off the GUI thread (superqt-style thread workers).

A job is a callable ``make_job(cancel, report)`` returning an iterable of records; the worker
iterates it in a :class:`QThread`, emits every record through :attr:`GeneratorWorker.yielded`,
checks the ``cancel`` event between records (the job gets the same event and stops at its
next step, after saving what it must, as ``stmdenoise.cli.progress.drive`` lets it), turns an exception into
:attr:`GeneratorWorker.failed` and always emits :attr:`GeneratorWorker.finished` last (from a
``finally`` block). ``report`` lets a job that wraps a blocking call with a progress callback
emit intermediate records on the same signal.

Connect these signals only to ``@Slot`` methods of objects living in the GUI thread: PySide6
runs a lambda connected to a moved worker's signal in the worker thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

__all__ = ["JobFactory", "GeneratorWorker", "WorkerPool"]

log = logging.getLogger(__name__)

JobFactory = Callable[[threading.Event, Callable[[Any], None]], Iterable[Any]]


class GeneratorWorker(QObject):
    """Iterate one job in a worker thread and emit what it yields."""

    yielded = Signal(object)
    failed = Signal(str)
    finished = Signal()

    def __init__(self, make_job: JobFactory, *, name: str = "job") -> None:
        super().__init__()
        self._make_job = make_job
        self.name = name
        self.cancel_event = threading.Event()
        self.was_cancelled = False

    def cancel(self) -> None:
        """Ask the job to stop at its next step (thread-safe)."""
        self.cancel_event.set()

    @Slot()
    def run(self) -> None:
        """Iterate the job; runs in the worker thread."""
        try:
            job = self._make_job(self.cancel_event, self.yielded.emit)
            for record in job:
                self.yielded.emit(record)
                if self.cancel_event.is_set() and not self.was_cancelled:
                    # keep iterating: the job saw the same event and winds down by itself
                    # (a training run saves its checkpoint and yields a last record)
                    log.info("%s: cancel requested; letting the job finish its current step", self.name)
                    self.was_cancelled = True
            self.was_cancelled = self.cancel_event.is_set()
        except Exception as exc:  # every failure becomes a signal; the app must go on
            log.exception("%s failed", self.name)
            self.failed.emit(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
        finally:
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
        on_failed: Callable[[str], None] | None = None,
        on_finished: Callable[[], None] | None = None,
    ) -> GeneratorWorker | None:
        """Start ``make_job`` in a new thread; the callbacks must be ``@Slot`` methods.

        Returns None, starting nothing, once :meth:`shutdown` has run: a timer of a closed window
        that fires late must not start a thread nobody will join (Qt aborts the process when a
        running ``QThread`` is destroyed with its window).
        """
        if self._closed:
            log.info("pool is shut down; not starting %s", name)
            return None
        worker = GeneratorWorker(make_job, name=name)
        thread = QThread()
        thread.setObjectName(name)
        worker.moveToThread(thread)
        if on_record is not None:
            worker.yielded.connect(on_record)
        if on_failed is not None:
            worker.failed.connect(on_failed)
        if on_finished is not None:
            worker.finished.connect(on_finished)
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
