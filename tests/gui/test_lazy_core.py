"""Building the main window loads neither the Denoiser nor the training loop.

(The training panel reads its fields from the torch-free ``stmdenoise.training.options``,
which imports the lazy ``stmdenoise.training`` package but nothing of the loop.)
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_window_start_up_imports_neither_denoise_nor_training(tmp_path: Path) -> None:
    code = textwrap.dedent(
        f"""
        import sys
        from PySide6.QtWidgets import QApplication
        from stmdenoise.gui.app import make_window
        app = QApplication([])
        win = make_window({str(tmp_path / "settings.ini")!r})
        heavy = ("stmdenoise.denoise", "stmdenoise.training.loop", "stmdenoise.training.data")
        loaded = sorted(m for m in heavy if m in sys.modules)
        print("loaded:" + ",".join(loaded))
        win.shutdown()
        """
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "STMDENOISE_USER_DIR": str(tmp_path / "user")}
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().splitlines()[-1] == "loaded:"
