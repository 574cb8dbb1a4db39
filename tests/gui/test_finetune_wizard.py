"""File > Fine-tune on my scans...: walk the wizard with a tiny model; cancel is never a finished model."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QWizard

from stmdenoise.gui.finetune_wizard import FinetuneWizard, ResultPage, runs_dir
from stmdenoise.gui.tasks import list_models, user_models_dir
from tests.gui.conftest import file_mime, wait_idle


@pytest.fixture
def tiny_base() -> Path:
    """A tiny ``paired`` model (8 channels, 1 block) in the user's models folder, at 34 pm/px."""
    from stmdenoise.training import TrainConfig, train

    out = user_models_dir() / "tiny-base"
    cfg = TrainConfig.from_dict(dict(
        variant="paired", steps=1, crop=32, batch=1, ngf=8, blocks=1, sim_pixels=64, sim_size=2.2e-9,
        sim_pool=1, out=str(out), device="cpu", preview_every=0, checkpoint_every=0,
    ))  # fmt: skip
    for _ in train(cfg):
        pass
    return out


def _walk_to_training(qtbot, window, realdata_dir: Path, *, steps: int, name: str) -> FinetuneWizard:  # type: ignore[no-untyped-def]
    window.open_finetune_wizard()
    wiz: FinetuneWizard = window.finetune_wizard
    n = realdata_dir / "nanonis"
    # a drop of files on the list, as from a file manager
    assert wiz.scans.list.drop_mime(file_mime([n / "CO_img_0050.sxm", n / "TR_img_0249.sxm"]))
    wiz.scans.add_paths([str(n / "TR_dIdV_00006.dat")])
    assert wiz.scans.list.count() == 3 and "NOT usable" in wiz.scans.list.item(2).text()
    assert wiz.scans.isComplete()
    wiz.next()
    assert wiz.currentPage() is wiz.holdout
    assert [p.name for p in wiz.holdout.held()] == ["TR_img_0249.sxm"]  # picked automatically
    wiz.next()
    assert "Anchor" in wiz.method.text.text()
    wiz.next()
    sp = wiz.settings_page
    sp.base.setCurrentIndex(sp.base.findData(str(user_models_dir() / "tiny-base")))
    sp.device.setCurrentIndex(sp.device.findData("cpu"))
    sp.name.setText(name)
    sp.steps.setValue(steps)
    assert "steps" in sp.estimate.text()
    wiz.next()
    assert wiz.currentPage() is wiz.training
    return wiz


def test_walk_the_wizard_save_and_denoise(qtbot, window, realdata_dir: Path, tiny_base: Path) -> None:  # type: ignore[no-untyped-def]
    wiz = _walk_to_training(qtbot, window, realdata_dir, steps=3, name="ft-gui")
    qtbot.waitUntil(lambda: isinstance(wiz.currentPage(), ResultPage), timeout=300000)
    wait_idle(qtbot, window)
    res = wiz.training.result
    assert res is not None and not res.cancelled and res.steps == 3
    assert wiz.training.curves and wiz.training.last_preview  # live losses and a preview arrived
    page = wiz.result_page
    assert page.table.rowCount() == 1 and page.table.item(0, 0).text().startswith("TR_img_0249")
    assert page.make_default.isChecked() == (not res.flagged)  # a flagged model is not made default
    page.make_default.setChecked(True)  # the explicit click
    with qtbot.waitSignal(wiz.model_registered, timeout=10000):
        dest = page.save()
    assert dest == user_models_dir() / "ft-gui" and (dest / "MODEL_CARD.md").is_file()
    assert window.settings.model == "ft-gui"
    # offered in the selector, and it denoises a scan shown in the app (its own model output, even
    # when the do-no-harm policy would deliver a fallback: "warn" shows it flagged)
    assert window.denoise_panel.select_model("ft-gui")
    assert window.session.model is not None and window.session.model.path == dest
    window.denoise_panel.policy_box.setCurrentIndex(1)
    window.denoise_panel.auto_box.setChecked(True)
    scan = realdata_dir / "nanonis" / "TR_img_0249.sxm"
    window.scan_list.drop_mime(file_mime([scan]))
    qtbot.waitUntil(lambda: window.session.denoised is not None, timeout=120000)
    wait_idle(qtbot, window)
    den = window.session.denoised
    assert den.steps[-1].params["delivered"] == "model", den.steps[-1].params
    assert any(st.name == "denoise" and st.params["model"] == "ft-gui" for st in den.steps)
    page.restore_shipped()
    assert window.settings.model != "ft-gui"
    wiz.done(QWizard.DialogCode.Accepted)


def test_a_cancelled_run_is_not_offered_as_a_model(
    qtbot, window, realdata_dir: Path, tiny_base: Path
) -> None:  # type: ignore[no-untyped-def]
    wiz = _walk_to_training(qtbot, window, realdata_dir, steps=100000, name="ft-cancel")
    qtbot.waitUntil(lambda: wiz.training.history.get("total"), timeout=300000)
    wiz.training.cancel()
    wait_idle(qtbot, window, timeout=120000)
    res = wiz.training.result
    assert res is not None and res.cancelled and res.checkpoint is not None and res.checkpoint.is_file()
    assert not wiz.training.isComplete()  # the Result page cannot be reached
    assert (runs_dir() / "ft-cancel" / "INCOMPLETE").is_file()
    assert all(m.name != "ft-cancel" for m in list_models())
    window.denoise_panel.refresh()
    assert not window.denoise_panel.select_model("ft-cancel")
    wiz.reject()


def test_the_wizard_retrains_the_spectral_gain(qtbot, window, realdata_dir: Path) -> None:  # type: ignore[no-untyped-def]
    from stmdenoise.gui.finetune_pages import ADAPT_CHOICES
    from stmdenoise.model.folder import read_model_info
    from stmdenoise.paths import default_model_dir

    window.open_finetune_wizard()
    wiz: FinetuneWizard = window.finetune_wizard
    n = realdata_dir / "nanonis"
    wiz.scans.add_paths([str(n / "CO_img_0050.sxm"), str(n / "TR_img_0249.sxm")])
    wiz.next()
    assert [p.name for p in wiz.holdout.held()] == ["TR_img_0249.sxm"]
    wiz.next()
    method = wiz.method
    method.adapt.setCurrentIndex(method.adapt.findData("gain"))
    assert method.adapts_gain() and not method.anchor.isEnabled() and len(ADAPT_CHOICES) == 2
    assert "spectral" in method.text.text()
    wiz.next()
    sp = wiz.settings_page
    sp.base.setCurrentIndex(sp.base.findData(str(default_model_dir())))
    sp.name.setText("gain-gui")
    sp.steps.setValue(5)
    wiz.next()
    assert wiz.currentPage() is wiz.training and "nothing is kept" in wiz.training.cancel_button.text()
    qtbot.waitUntil(lambda: isinstance(wiz.currentPage(), ResultPage), timeout=300000)
    wait_idle(qtbot, window)
    res = wiz.training.result
    assert res is not None and not res.cancelled and res.start == "spectral gain"
    page = wiz.result_page
    # judged on the held-out scan's primary channel, as the network's fine-tune is
    assert page.table.rowCount() == 1 and page.table.item(0, 0).text().startswith("TR_img_0249")
    assert page.make_default.isChecked() == (not res.flagged)
    page.make_default.setChecked(False)
    with qtbot.waitSignal(wiz.model_registered, timeout=10000):
        dest = page.save()
    info = read_model_info(dest)
    assert (
        info.experimental_path is not None
        and "TR_img_0249.sxm" in info.experimental_path.training["request"]["holdout"]
    )
    assert "CO_img_0050.sxm Z" in info.experimental_path.training["real_pairs"]
    assert (dest / "MODEL_CARD.md").is_file() and window.denoise_panel.select_model("gain-gui") is not None
    wiz.done(QWizard.DialogCode.Accepted)
