"""Thread workers: records reach the GUI thread, exceptions become `failed`, cancel lets the job wind down."""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Iterator
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
        self.results: list[Any] = []
        self.finished = 0

    @Slot(object)
    def record(self, rec: Any) -> None:
        self.records.append(rec)
        self.threads.append(QThread.currentThread())

    @Slot(object)
    def returned(self, result: Any) -> None:
        self.results.append(result)

    @Slot(str)
    def failed(self, error: str) -> None:
        self.errors.append(error)

    @Slot()
    def done(self) -> None:
        self.finished += 1


def _start(pool: WorkerPool, sink: _Sink, job, name: str = "job"):  # type: ignore[no-untyped-def]
    return pool.start(
        job,
        name=name,
        on_record=sink.record,
        on_returned=sink.returned,
        on_failed=sink.failed,
        on_finished=sink.done,
    )


def test_records_arrive_in_the_gui_thread(qtbot) -> None:  # type: ignore[no-untyped-def]
    pool, sink = WorkerPool(), _Sink()
    worker_threads: list[int] = []

    def job(cancel: threading.Event) -> Generator[int, None, str]:
        worker_threads.append(threading.get_ident())
        yield from range(5)
        return "the result"

    _start(pool, sink, job)
    qtbot.waitUntil(lambda: sink.finished == 1 and not pool.busy, timeout=10000)
    assert sink.records == [0, 1, 2, 3, 4] and not sink.errors
    assert sink.results == ["the result"]  # the generator's return value, once
    assert all(t is QThread.currentThread() for t in sink.threads)
    assert worker_threads and worker_threads[0] != threading.get_ident()


def test_exception_becomes_failed_and_finally_runs(qtbot) -> None:  # type: ignore[no-untyped-def]
    pool, sink = WorkerPool(), _Sink()
    cleaned = threading.Event()

    def job(cancel: threading.Event) -> Iterator[int]:
        try:
            yield 1
            raise ValueError("bad header")
        finally:
            cleaned.set()

    _start(pool, sink, job)
    qtbot.waitUntil(lambda: sink.finished == 1 and not pool.busy, timeout=10000)
    assert sink.records == [1] and sink.errors == ["ValueError: bad header"] and cleaned.is_set()
    assert sink.results == []  # a failed job returns nothing


def test_cancel_lets_the_job_save_and_finish(qtbot) -> None:  # type: ignore[no-untyped-def]
    pool, sink = WorkerPool(), _Sink()
    started = threading.Event()

    def job(cancel: threading.Event) -> Generator[str, None, str]:
        i = 0
        while not cancel.is_set():
            started.set()
            cancel.wait(0.005)
            i += 1
            yield f"step {i}"
        yield "checkpoint saved"
        return f"stopped after {i}"

    worker = _start(pool, sink, job, name="train")
    assert started.wait(10)
    assert pool.names() == ["train"]
    pool.cancel("other")  # another job's name: nothing happens
    assert not worker.cancel_event.is_set()
    pool.cancel("train")
    qtbot.waitUntil(lambda: sink.finished == 1 and not pool.busy, timeout=10000)
    assert sink.records[-1] == "checkpoint saved" and not sink.errors
    assert sink.results == [f"stopped after {len(sink.records) - 1}"] and worker.was_cancelled


def test_a_blocking_call_with_a_progress_callback_becomes_a_job(qtbot) -> None:  # type: ignore[no-untyped-def]
    from stmdenoise.jobs import Progress, reporting

    pool, sink = WorkerPool(), _Sink()
    callers: list[int] = []

    def blocking(report: Callable[[Progress], None]) -> str:
        callers.append(threading.get_ident())
        for i in range(3):
            report(Progress(i + 1, 3, f"pass {i + 1}"))
        return "denoised"

    def job(cancel: threading.Event) -> Generator[Progress, None, str]:
        got = yield from reporting(blocking)
        return got

    _start(pool, sink, job)
    qtbot.waitUntil(lambda: sink.finished == 1 and not pool.busy, timeout=10000)
    assert [r.done for r in sink.records] == [1, 2, 3] and sink.results == ["denoised"]
    assert all(t is QThread.currentThread() for t in sink.threads) and callers[0] != threading.get_ident()


def test_shutdown_joins_running_threads(qtbot) -> None:  # type: ignore[no-untyped-def]
    pool, sink = WorkerPool(), _Sink()

    def job(cancel: threading.Event) -> Iterator[int]:
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

    def job(cancel: threading.Event) -> Iterator[int]:
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
