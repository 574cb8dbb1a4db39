"""Hostile inputs in a memory-capped child process (issue 16): readers, model configs, CLI batches.

Each example mutates valid files of every format (a header number replaced by a hostile value,
bytes flipped, cut, extended or zeroed) and reads them in a child whose address space is
capped with ``resource.setrlimit`` (``tests/fuzz_harness.py``). Allowed outcomes: accepted or a
clean error (ScanFormatError / ModelFolderError; one ``stmdenoise CMD: error:`` line per bad
file in a batch). A hang, a MemoryError, any other exception or a changed input fails.
Bounded: a few examples of a dozen files each (about 20 s in all on a 2-core machine).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz_harness import make_configs, make_files, run_child

BOUNDED = settings(
    max_examples=2,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _bad(results: list[dict[str, object]]) -> list[dict[str, object]]:
    return [r for r in results if r["outcome"] not in ("clean", "accepted")]


@BOUNDED
@given(seed=st.integers(min_value=0, max_value=2**31))
def test_readers_fail_only_cleanly_under_a_memory_cap(
    tmp_path_factory: pytest.TempPathFactory, seed: int
) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    files = make_files(folder, 16, seed)
    results = run_child("readers", files)
    assert len(results) == len(files)
    assert not _bad(results)


def test_audit_files_and_cli_batch_under_a_memory_cap(tmp_path: Path) -> None:
    """The audit's worst files (zlib and PNG bombs, a tiny .npy claiming 80 GB, DAC-Type=1e11 bit)
    and mutated ones through ``info`` and ``export`` at once: one clean line each, inputs unchanged."""
    (tmp_path / "in").mkdir()
    files = make_files(tmp_path / "in", 24, seed=11)
    assert any(p.name.startswith("special_") for p in files)
    results = run_child("readers", files)
    assert not _bad(results)
    cli = run_child("cli", files, out_dir=tmp_path / "out")
    assert [r["file"] for r in cli] == ["info", "export", "inputs"]
    assert not _bad(cli), cli


@BOUNDED
@given(seed=st.integers(min_value=0, max_value=2**31))
def test_model_configs_fail_only_cleanly_under_a_memory_cap(
    tmp_path_factory: pytest.TempPathFactory, seed: int
) -> None:
    folder = tmp_path_factory.mktemp("models")
    configs = make_configs(folder, 8, seed)
    results = run_child("models", configs, mem_mb=4096)
    assert len(results) == len(configs)
    assert not _bad(results)
