"""The job contract: records are yielded, the result is returned; blocking calls become generators."""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator

import pytest

from stmdenoise.jobs import Progress, reporting, run_job


def test_run_job_returns_the_generators_return_value() -> None:
    def job() -> Generator[Progress, None, dict[str, int]]:
        for i in range(3):
            yield Progress(i + 1, 3)
        return {"pairs": 3}

    seen: list[Progress] = []
    assert run_job(job(), seen.append) == {"pairs": 3}
    assert [r.done for r in seen] == [1, 2, 3]
    assert run_job(iter([Progress(1, 1)]), seen.append) is None  # a plain iterable returns nothing


def test_reporting_raises_the_calls_exception_in_the_iterating_thread() -> None:
    def failing(report: Callable[[Progress], None]) -> None:
        report(Progress(1, 2))
        raise OSError("disk full")

    seen: list[Progress] = []
    with pytest.raises(OSError, match="disk full"):
        run_job(reporting(failing), seen.append)
    assert [r.done for r in seen] == [1]


def test_reporting_runs_the_call_in_another_thread_and_waits_for_it_when_closed() -> None:
    cancel = threading.Event()
    finished = threading.Event()
    threads: list[int] = []

    def endless(report: Callable[[Progress], None]) -> str:
        threads.append(threading.get_ident())
        i = 0
        while not cancel.is_set():
            i += 1
            report(Progress(i, None))
            cancel.wait(0.001)
        finished.set()
        return "stopped"

    gen = reporting(endless)
    assert next(gen).done == 1
    cancel.set()
    gen.close()  # a caller that stops iterating: the call saw cancel and ended first
    assert finished.is_set() and threads[0] != threading.get_ident()


def test_the_examples_of_the_job_helpers_run() -> None:
    import doctest

    import stmdenoise.jobs

    result = doctest.testmod(stmdenoise.jobs)
    assert result.attempted >= 6 and result.failed == 0
