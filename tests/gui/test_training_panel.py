"""The training panel's fields come from the settings' metadata, and its settings reach TrainConfig."""

from __future__ import annotations

from pathlib import Path

from stmdenoise.training.options import option, options


def test_fields_are_generated_from_the_settings_metadata(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    panel = window.training
    assert set(panel.fields) == {o.key for o in options() if o.gui}
    crop = option("crop")
    assert panel.crop_box.minimum() == crop.low and panel.crop_box.singleStep() == crop.multiple_of
    assert panel.crop_box.value() == crop.default and crop.help in panel.crop_box.toolTip()
    variants = [panel.variant_box.itemText(i) for i in range(panel.variant_box.count())]
    assert variants == list(option("variant").choices or ()) and panel.variant_box.currentText() == "pdanet"


def test_the_panel_builds_the_config_the_cli_would(qtbot, window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from stmdenoise.training import TrainConfig

    panel = window.training
    panel.variant_box.setCurrentText("supervised")
    panel.steps_box.setValue(321)
    panel.real_edit.setText(str(tmp_path))
    panel.name_edit.setText("m")
    cfg = panel.request(lambda_sup=0.0)
    assert cfg.variant == "supervised" and cfg.run.steps == 321 and cfg.run.real == (str(tmp_path),)
    assert cfg.lambda_sup == 0.0  # an explicit 0 stays 0
    flat = cfg.to_flat()
    assert TrainConfig.from_dict(flat) == cfg


def test_bad_settings_are_reported_before_a_thread_starts(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    panel = window.training
    panel.variant_box.setCurrentText("pdanet")
    panel.real_edit.setText("")  # pdanet needs experimental scans
    panel.start_button.click()
    assert panel.status.text().startswith("cannot train:") and "experimental scans" in panel.status.text()
    assert "train" not in window.session.pool.names()
