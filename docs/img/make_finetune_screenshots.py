"""Screenshots of every page of File > Fine-tune on my scans... (docs/finetune.md).

Run under a real X server from the repository root::

    Xvfb :121 -screen 0 1366x768x24 &
    DISPLAY=:121 python docs/img/make_finetune_screenshots.py [REALDATA_DIR]

A tiny base model (8 channels, one block; seconds to train) and a few steps keep it short: the
pictures show the pages, not a good model. REALDATA_DIR defaults to ``../shared/realdata``.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

# the tiny model and the fine-tuned one go to a throw-away user folder, never the real one
os.environ.setdefault("STMDENOISE_USER_DIR", tempfile.mkdtemp(prefix="stmdenoise_ft_shots_"))

from PySide6.QtWidgets import QApplication  # noqa: E402

from stmdenoise.gui.app import make_window, wait_until_idle  # noqa: E402
from stmdenoise.gui.finetune_wizard import FinetuneWizard, ResultPage  # noqa: E402
from stmdenoise.gui.tasks import user_models_dir  # noqa: E402

OUT = Path(__file__).resolve().parent
ROOT = OUT.parent.parent


def _tiny_base() -> Path:
    from stmdenoise.training import TrainConfig, train

    out = user_models_dir() / "tiny-base"
    cfg = TrainConfig.from_dict(dict(
        variant="paired", steps=1, crop=32, batch=1, ngf=8, blocks=1, sim_pixels=64, sim_size=2.2e-9,
        sim_pool=1, out=str(out), device="cpu", preview_every=0, checkpoint_every=0,
    ))  # fmt: skip
    for _ in train(cfg):
        pass
    return out


def _grab(wiz: FinetuneWizard, name: str) -> None:
    for _ in range(10):
        QApplication.processEvents()
    geo = wiz.frameGeometry()
    shot = wiz.screen().grabWindow(0, geo.x(), geo.y(), geo.width(), geo.height())
    out = OUT / f"finetune_{name}.png"
    shot.save(str(out))
    print(out.relative_to(ROOT))  # noqa: T201 - a script's report


def main(real: Path) -> None:
    app = QApplication.instance() or QApplication(sys.argv)
    base = _tiny_base()
    win = make_window(Path(os.environ["STMDENOISE_USER_DIR"]) / "settings.ini")
    win.denoise_panel.auto_box.setChecked(False)
    win.show()
    win.open_finetune_wizard()
    wiz: FinetuneWizard = win.finetune_wizard
    wiz.move(0, 0)
    n = real / "nanonis"
    wiz.scans.add_paths([str(n / f) for f in ("CO_img_0050.sxm", "TR_img_0249.sxm", "img_0045.sxm")])
    wiz.scans.add_paths([str(n / "TR_dIdV_00006.dat")])
    _grab(wiz, "1_scans")
    wiz.next()
    _grab(wiz, "2_holdout")
    wiz.next()
    _grab(wiz, "3_method")
    wiz.next()
    sp = wiz.settings_page
    sp.base.setCurrentIndex(sp.base.findData(str(base)))
    sp.device.setCurrentIndex(sp.device.findData("cpu"))
    sp.name.setText("my-porphyrin")
    sp.steps.setValue(30)
    _grab(wiz, "4_settings")
    wiz.next()
    # mid-run: losses and a preview have arrived
    while not (len(wiz.training.history.get("total", [])) >= 12 and wiz.training.last_preview):
        app.processEvents()
    _grab(wiz, "5_training")
    while not isinstance(wiz.currentPage(), ResultPage):
        app.processEvents()
    wait_until_idle(win, timeout_s=600)
    _grab(wiz, "6_result")
    wiz.reject()
    _gain_pages(app, win, n)
    win.shutdown()
    win.close()


def _gain_pages(app: QApplication, win: object, n: Path) -> None:
    """The same wizard retraining the shipped model's spectral gain (Method and Result pages)."""
    from stmdenoise.paths import default_model_dir

    win.open_finetune_wizard()  # type: ignore[attr-defined]
    wiz: FinetuneWizard = win.finetune_wizard  # type: ignore[attr-defined]
    wiz.move(0, 0)
    wiz.scans.add_paths([str(n / f) for f in ("CO_img_0050.sxm", "TR_img_0249.sxm", "img_0071.sxm")])
    wiz.next()
    wiz.next()
    wiz.method.adapt.setCurrentIndex(wiz.method.adapt.findData("gain"))
    _grab(wiz, "7_gain_method")
    wiz.next()
    sp = wiz.settings_page
    sp.base.setCurrentIndex(sp.base.findData(str(default_model_dir())))
    sp.name.setText("my-gain")
    sp.steps.setValue(400)
    wiz.next()
    while not isinstance(wiz.currentPage(), ResultPage):
        app.processEvents()
    wait_until_idle(win, timeout_s=600)  # type: ignore[arg-type]
    _grab(wiz, "8_gain_result")
    wiz.reject()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "realdata")
