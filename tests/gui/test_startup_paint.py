"""The app paints its window before it imports torch; the example scan is denoised after that.

Runs ``stmdenoise.gui.app.main`` (what ``python -m stmdenoise.gui.app`` runs) in a fresh
interpreter, offscreen, with an application-wide event filter that notes the first paint of the
main window. Timing is not asserted (bench/bench_gui.py measures it); the order is.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

OBSERVER = textwrap.dedent(
    """
    import json, sys
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv[:1])
    seen = {}

    def window():
        from stmdenoise.gui.window import MainWindow
        return next((w for w in app.topLevelWidgets() if isinstance(w, MainWindow)), None)

    class FirstPaint(QObject):
        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.Paint and "paint" not in seen and obj is window():
                seen["paint"] = {
                    "torch": "torch" in sys.modules,
                    "scan_open": obj.session.raw is not None,
                    "denoised": obj.session.denoised is not None,
                }
            return False

    def poll():
        w = window()
        if w is not None and "paint" in seen and w.session.denoised is not None and not w.session.pool.busy:
            seen["denoised_after_paint"] = True
            seen["torch_at_end"] = "torch" in sys.modules
            w.shutdown()
            app.quit()

    flt = FirstPaint()
    app.installEventFilter(flt)
    timer = QTimer()
    timer.timeout.connect(poll)
    timer.start(50)
    QTimer.singleShot(240_000, app.quit)
    from stmdenoise.gui.app import main

    code = main(sys.argv[1:])
    print("RESULT " + json.dumps({"code": code, **seen}))
    """
)


def test_window_paints_before_torch_and_the_example_is_denoised_after(tmp_path: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    args = ["--example", "--new-instance", "--settings", str(tmp_path / "s.ini")]
    res = subprocess.run(
        [sys.executable, "-c", OBSERVER, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("RESULT ")]
    assert lines, res.stderr[-3000:]
    result = json.loads(lines[-1].removeprefix("RESULT "))
    assert result["paint"] == {"torch": False, "scan_open": False, "denoised": False}, result
    assert result.get("denoised_after_paint") and result["torch_at_end"], (result, res.stderr[-3000:])
