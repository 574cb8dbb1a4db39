"""Screenshot of File > Batch denoise folder… after a finished batch over ../shared/realdata (docs/batch.md).

Run under a real X server from the repository root::

    Xvfb :99 -screen 0 1920x1080x24 &
    DISPLAY=:99 python docs/img/make_batch_screenshot.py [REALDATA_DIR]

The picture is read back from the X server's frame buffer (what a user sees).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("STMDENOISE_USER_DIR", tempfile.mkdtemp(prefix="stmdenoise_shot_"))

from PySide6.QtWidgets import QApplication  # noqa: E402

from stmdenoise.gui.app import make_window, wait_until_idle  # noqa: E402

OUT = Path(__file__).resolve().parent
ROOT = OUT.parent.parent


def main() -> int:
    real = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "realdata"
    win = make_window(Path(tempfile.mkdtemp()) / "settings.ini")
    win.denoise_panel.auto_box.setChecked(False)
    win.resize(1366, 768)
    win.move(0, 0)
    win.show()
    win.views.level_method.setCurrentIndex(win.views.level_method.findData("plane"))
    win.views.level_box.setChecked(True)
    win.views.set_colormap("gold")
    dlg = win.batch_dialog()
    dlg.add_inputs([real])
    dlg.output.setText(str(Path(tempfile.mkdtemp(prefix="batch_out_")) / "denoised"))
    dlg.device.setCurrentIndex(dlg.device.findData("cpu"))
    dlg.move(200, 60)
    dlg.start()
    wait_until_idle(win, timeout_s=900)
    for _ in range(10):
        QApplication.processEvents()
    geo = dlg.frameGeometry()
    shot = dlg.screen().grabWindow(0, geo.x(), geo.y(), geo.width(), geo.height())
    out = OUT / "gui_batch_dialog.png"
    shot.save(str(out))
    print(out.relative_to(ROOT))  # noqa: T201 - a script's report
    win.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
