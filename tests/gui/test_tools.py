"""Gwyddion's essentials in the app: grid maps, profile band and cursors, corrections, crop, export, wheel."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from stmdenoise.gui.profile import cursor_readout, profile_along
from stmdenoise.io import write_scan
from stmdenoise.scan import Scan
from tests.gui.conftest import file_mime, wait_idle


def _step_scan(tmp_path: Path) -> Path:
    """40 x 60 px, 0.2 nm pixels: a 100 pm step at column 30 on a tilted, noisy sample."""
    rng = np.random.default_rng(9)
    rows, cols = np.mgrid[0:40, 0:60]
    data = 100e-12 * (cols >= 30) + 2e-12 * rows + 1e-12 * cols + rng.normal(0, 0.5e-12, rows.shape)
    scan = Scan(data=data, pixel_size=(2e-10, 2e-10), channel="Z", unit="m", angle=-54.18)
    return write_scan(scan, tmp_path / "step.h5")


def test_profile_band_and_cursors_read_a_step_height_in_pm(qtbot, window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    window.scan_list.drop_mime(file_mime([_step_scan(tmp_path)]))
    wait_idle(qtbot, window)
    views = window.views
    views.level_box.setChecked(True)
    views.level_method.setCurrentIndex(views.level_method.findData("facet"))
    wait_idle(qtbot, window)
    assert window.session.raw.steps[-1].name == "level_facet"  # type: ignore[union-attr]
    views.width_box.setValue(9)  # a band of 9 lines
    views.set_profile_points((1e-9, 4e-9), (11e-9, 4e-9))  # across the step at x = 6 nm
    views.profile.set_cursors(1e-9, 9e-9)
    text = views.profile.readout()
    assert text.startswith("Δd = 8 nm")
    height = float(text.split("Δ = ")[1].split(" pm")[0])
    assert height == pytest.approx(100, abs=6)  # facet level keeps the step, removes the tilt
    assert "A→B" in views.profile_plot.titleLabel.text and "pm" in views.profile_plot.titleLabel.text
    # the scan angle is in the view's title
    assert "scan angle -54.18°" in views.raw.plot.titleLabel.text


def test_profile_band_averages_parallel_lines() -> None:
    data = np.tile(np.arange(10.0)[:, None], (1, 20))  # value = row
    # along row 4.5 (centre of row 4), band of 3 lines: rows 3, 4, 5 -> mean 4
    d, v = profile_along(data, (1.0, 1.0), (0.5, 4.5), (19.5, 4.5), width_px=3)
    np.testing.assert_allclose(v, 4.0)
    d1, v1 = profile_along(data, (1.0, 1.0), (0.5, 4.5), (19.5, 4.5))
    np.testing.assert_allclose(v1, 4.0)
    dist = np.arange(20) * 1e-9
    step = np.where(dist < 10e-9, 0.0, 1.5e-10)
    assert cursor_readout(dist, step, 2.0e-9, 15e-9, "m") == "Δd = 13 nm, Δ = 150 pm"
    with pytest.raises(ValueError, match="width_px"):
        profile_along(data, (1.0, 1.0), (0.5, 4.5), (19.5, 4.5), width_px=0)


def test_three_point_levelling_by_clicks_and_crop(qtbot, window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    window.scan_list.drop_mime(file_mime([_step_scan(tmp_path)]))
    wait_idle(qtbot, window)
    views, s = window.views, window.session
    views.level_method.setCurrentIndex(views.level_method.findData("three_points"))
    views.level_box.setChecked(True)
    assert "three points" in views.raw.note.toPlainText()
    views.pick_point(1e-9, 1e-9)
    assert "2 more point(s)" in views.raw.note.toPlainText()
    views.level_box.setChecked(False)  # start over
    views.level_box.setChecked(True)
    for x, y in ((1e-9, 1e-9), (5e-9, 7e-9), (1e-9, 7e-9)):  # three points on the lower terrace
        views.pick_point(x, y)
    wait_idle(qtbot, window)
    raw = s.raw
    assert raw is not None and raw.steps[-1].name == "level_three_points"
    lower = raw.data[:, :28]
    assert abs(float(np.median(lower))) < 2e-12
    assert float(np.median(raw.data[:, 32:])) == pytest.approx(100e-12, abs=5e-12)
    # crop to the shown area: zoom on the upper terrace, crop, uncrop
    views.set_view_rect(pg_rect(7e-9, 1e-9, 4e-9, 5e-9))
    views.crop_button.setChecked(True)
    wait_idle(qtbot, window)
    assert s.raw is not None and s.raw.shape[1] < 60 and s.raw.steps[-1].name == "crop_rect"
    views.crop_button.setChecked(False)
    wait_idle(qtbot, window)
    assert s.raw is not None and s.raw.shape == (40, 60)


def pg_rect(x: float, y: float, w: float, h: float):  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QRectF

    return QRectF(x, y, w, h)


def test_export_png_has_colour_bar_and_physical_aspect(qtbot, window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    scan = Scan(
        data=np.random.default_rng(1).normal(size=(60, 512)),
        pixel_size=(200e-9 / 60, 200e-9 / 512), channel="Z", unit="m",
    )  # fmt: skip
    window.scan_list.drop_mime(file_mime([write_scan(scan, tmp_path / "fast.h5")]))
    wait_idle(qtbot, window)
    window.views.set_colormap("inferno")
    out = window.session.export(
        tmp_path / "out.png", which="raw", colormap=window.views.colormap_box.currentText()
    )
    with Image.open(out) as img:
        meta = json.loads(img.text["stmdenoise"])
        w, h = img.size
    assert meta["colormap"] == "inferno" and meta["image_box"] == [0, 0, 512, 512]
    assert h == 512 and w > 512 + 40  # square image of 200 x 200 nm plus a colour bar


@pytest.mark.realdata
def test_grid_map_slider_shows_each_bias(qtbot, window, realdata_dir: Path) -> None:  # type: ignore[no-untyped-def]
    path = realdata_dir / "nanonis" / "Grid Experiment2001.3ds"
    window.scan_list.drop_mime(file_mime([path]))
    wait_idle(qtbot, window)
    text = window.scan_list.list.item(0).text()
    assert "bias ?" not in text and "maps)" in text
    slider = window.scan_list.slice_slider
    assert window.scan_list.slice_widget.isVisibleTo(window.scan_list)
    n = slider.maximum() + 1
    assert n == len(window.session.current_entry().sweep) > 10  # type: ignore[union-attr]
    first = np.array(window.session.raw.data)  # type: ignore[union-attr]
    slider.setValue(n - 1)
    wait_idle(qtbot, window)
    last = window.session.raw
    assert last is not None and window.session.index == n - 1
    assert not np.array_equal(first, last.data)
    assert last.header["sweep_index"] == str(n - 1)
    assert f"({n}/{n})" in window.scan_list.slice_label.text()
    assert "Bias" in window.views.raw.plot.titleLabel.text


def test_wheel_over_a_plot_scrolls_the_panel(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    window.docks["Training"].raise_()
    window.resize(1200, 500)  # the training form is taller than its dock
    qtbot.wait(50)
    area = window.docks["Training"].widget()
    bar = area.verticalScrollBar()
    assert bar.maximum() > 0
    bar.setValue(0)
    view = window.training.loss_view
    vp = view.viewport()
    centre = QPointF(vp.width() / 2, vp.height() / 2)
    vrange = window.training.loss_plot.getViewBox().viewRange()
    event = QWheelEvent(
        centre, vp.mapToGlobal(centre), QPoint(0, 0), QPoint(0, -240),
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False,
    )  # fmt: skip
    QApplication.sendEvent(vp, event)
    assert bar.value() > 0  # the panel scrolled
    assert window.training.loss_plot.getViewBox().viewRange() == vrange  # the plot did not zoom


@pytest.mark.realdata
def test_non_square_pixels_shown_at_physical_size(qtbot, window, realdata_dir: Path) -> None:  # type: ignore[no-untyped-def]
    """img_0045: 144 x 168 px of 100 x 100 nm (pixels 694 x 595 pm), angle -54.18°."""
    window.scan_list.drop_mime(file_mime([realdata_dir / "nanonis" / "img_0045.sxm"]))
    wait_idle(qtbot, window)
    raw = window.session.raw
    assert raw is not None and raw.shape == (168, 144)
    item = window.views.raw.image
    rect = item.mapRectToParent(item.boundingRect())
    assert rect.width() == pytest.approx(100e-9, rel=1e-6) and rect.height() == pytest.approx(
        100e-9, rel=1e-6
    )
    assert "scan angle -54.18°" in window.views.raw.plot.titleLabel.text
    rows = dict(window.metadata.rows())
    assert rows["Angle"] == "-54.18°" and rows["Field"] == "100 × 100 nm"
