"""`stmdenoise info` pays only for what it uses: no torch (a command that does not denoise or train)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from stmdenoise.io import write_scan
from stmdenoise.scan import Scan

ROOT = Path(__file__).resolve().parents[2]


def test_info_does_not_import_torch(tmp_path: Path) -> None:
    scan = write_scan(
        Scan(np.ones((8, 8)), pixel_size=(1e-10, 1e-10), channel="Z", unit="m"), tmp_path / "a.h5"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "stmdenoise", "info", str(scan)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    assert "stmdenoise.cli.main" in imported  # the command really ran through the CLI
    assert "torch" not in imported and "stmdenoise.model" not in imported
