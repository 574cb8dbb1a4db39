"""How batch commands report on the terminal: one line per bad file, and one bad file never stops a batch.

The planning itself (folder expansion, output names, conflicts) is core:
:mod:`stmdenoise.outputs`, shared with the batch job the app drives. Its names are
re-exported here for the commands.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from stmdenoise.outputs import (
    OutputConflictError,
    OutputPlan,
    error_line,
    expand_inputs,
    failure_log,
    is_expected,
    log_traceback,
    plan_stems,
)

__all__ = [
    "OutputConflictError",
    "OutputPlan",
    "error_line",
    "expand_inputs",
    "failure_log",
    "plan_stems",
    "report_failure",
    "run_batch",
]


def report_failure(command: str, path: Path, exc: BaseException) -> None:
    """Print the one-line report of a skipped file; log the traceback of an unexpected error."""
    log = None if is_expected(exc) else log_traceback(command, path, exc)
    print(error_line(command, path, exc, log=log), file=sys.stderr)


def run_batch(
    command: str,
    files: Sequence[Path],
    problems: Mapping[Path, Exception],
    work: Callable[[Path, list[Path]], None],
    *,
    show: Callable[[Path], None] | None = None,
) -> int:
    """Run ``work(path, written)`` for each file, reporting failures in one line and going on.

    ``work`` appends each file it writes to ``written`` as soon as it exists, so the files
    written before a failure are still listed (``show``, default: print the path).

    Returns
    -------
    int
        The number of failed inputs (problems included).
    """
    failed = 0
    show = show or (lambda p: print(p))
    for path in files:
        if path in problems:
            failed += 1
            report_failure(command, path, problems[path])
            continue
        written: list[Path] = []
        try:
            work(path, written)
        except Exception as exc:  # noqa: BLE001 -- one bad file must not stop the batch
            failed += 1
            for f in written:
                show(f)
            report_failure(command, path, exc)
            continue
        for f in written:
            show(f)
    return failed
