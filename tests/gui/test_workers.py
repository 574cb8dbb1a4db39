"""Thread workers: records reach the GUI thread, exceptions become `failed`, cancel lets the job wind down."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThread, Slot

from stmdenoise.gui.workers import WorkerPool


class _Sink(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[Any] = []
        self.threads: list[QThread] = []
        self.errors: list[str] = []
        self.finished = 0

    @Slot(object)
    def record(self, rec: Any) -> None:
        self.records.append(rec)
        self.threads.append(QThread.currentThread())

    @Slot(str)
    def failed(self, error: str) -> None:
        self.errors.append(error)

    @Slot()
    def done(self) -> None:
        self.finished += 1


def _start(pool: WorkerPool, sink: _Sink, job, name: str = "job"):  # type: ignore[no-untyped-def]
    return pool.start(job, name=name, on_record=sink.record, on_failed=sink.failed, on_finished=sink.done)


def test_records_arrive_in_the_gui_thread(qtbot) -> None:  # type: ignore[no-untyped-def]
    pool, sink = WorkerPool(), _Sink()
    worker_threads: list[int] = []

    def job(cancel: threading.Event, report: Any) -> Iterator[int]:
        worker_threads.append(threading.get_ident())
        report(-1)
        yield from range(5)

    _start(pool, sink, job)
    qtbot.waitUntil(lambda: sink.finished == 1 and not pool.busy, timeout=10000)
    assert sink.records == [-1, 0, 1, 2, 3, 4] and not sink.errors
    assert all(t is QThread.currentThread() for t in sink.threads)
    assert worker_threads and worker_threads[0] != threading.get_ident()


def test_exception_becomes_failed_and_finally_runs(qtbot) -> None:  # type: ignore[no-untyped-def]
    pool, sink = WorkerPool(), _Sink()
    cleaned = threading.Event()

    def job(cancel: threading.Event, report: Any) -> Iterator[int]:
        try:
            yield 1
            raise ValueError("bad header")
        finally:
            cleaned.set()

    _start(pool, sink, job)
    qtbot.waitUntil(lambda: sink.finished == 1 and not pool.busy, timeout=10000)
    assert sink.records == [1] and sink.errors == ["ValueError: bad header"] and cleaned.is_set()


def test_cancel_lets_the_job_save_and_finish(qtbot) -> None:  # type: ignore[no-untyped-def]
    pool, sink = WorkerPool(), _Sink()
    started = threading.Event()

    def job(cancel: threading.Event, report: Any) -> Iterator[str]:
        i = 0
        while not cancel.is_set():
            started.set()
            cancel.wait(0.005)
            i += 1
            yield f"step {i}"
        yield "checkpoint saved"

    worker = _start(pool, sink, job, name="train")
    assert started.wait(10)
    assert pool.names() == ["train"]
    pool.cancel("other")  # another job's name: nothing happens
    assert not worker.cancel_event.is_set()
    pool.cancel("train")
    qtbot.waitUntil(lambda: sink.finished == 1 and not pool.busy, timeout=10000)
    assert sink.records[-1] == "checkpoint saved" and not sink.errors


def test_shutdown_joins_running_threads(qtbot) -> None:  # type: ignore[no-untyped-def]
    pool, sink = WorkerPool(), _Sink()

    def job(cancel: threading.Event, report: Any) -> Iterator[int]:
        while not cancel.wait(0.01):
            yield 0

    for k in range(3):
        _start(pool, sink, job, name=f"j{k}")
    assert pool.busy
    assert pool.shutdown(timeout_ms=10000)
    assert not pool.busy


def test_a_shut_down_pool_starts_nothing(qtbot) -> None:  # type: ignore[no-untyped-def]
    # a closed window's debounce timer may fire after shutdown(); a thread started then would be
    # destroyed running with the window, and Qt aborts the whole process ("QThread: Destroyed ...")
    pool, sink = WorkerPool(), _Sink()
    ran = threading.Event()

    def job(cancel: threading.Event, report: Any) -> Iterator[int]:
        ran.set()
        yield 1

    assert pool.shutdown() and pool.closed
    assert _start(pool, sink, job) is None
    qtbot.wait(100)
    assert not pool.busy and not ran.is_set() and sink.records == []


def test_quality_timer_firing_after_window_shutdown_starts_no_thread(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from stmdenoise.gui.app import make_window
    from stmdenoise.io import read_scan

    win = make_window(tmp_path / "settings.ini")
    qtbot.addWidget(win)
    win.denoise_panel.auto_box.setChecked(False)
    example = Path(__file__).resolve().parents[2] / "resources" / "examples" / "cu111_simulated_typical.sxm"
    win.session.raw = read_scan(example)  # what a loaded scan would show
    win.shutdown()
    win.quality.recompute()  # what the pending 250 ms timer does when it fires late
    assert not win.session.pool.busy
