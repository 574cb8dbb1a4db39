"""Opening real scans the way a drop does; channel/direction switching; bad files; navigation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from tests.gui.conftest import file_mime, wait_idle

pytestmark = pytest.mark.realdata


def test_drop_real_scans_opens_them_and_shows_the_first(qtbot, window, realdata_dir: Path) -> None:  # type: ignore[no-untyped-def]
    files = [realdata_dir / "nanonis" / "img_0071.sxm", realdata_dir / "nanonis" / "TR_img_0249.sxm"]
    assert window.scan_list.drop_mime(file_mime(files)) == 2
    wait_idle(qtbot, window)
    entries = window.session.entries
    assert [e.name for e in entries] == ["img_0071.sxm", "TR_img_0249.sxm"]
    assert all(e.error is None and e.loaded for e in entries)
    raw = window.session.raw
    assert raw is not None and raw.source is not None and raw.source.name == "img_0071.sxm"
    assert raw.shape == (100, 96) and raw.unit == "m"
    # the list says name, size and bias; the view holds the data in physical coordinates
    text = window.scan_list.list.item(0).text()
    assert "img_0071.sxm" in text and "kB" in text and ("mV" in text or " V" in text)
    shown = window.views.raw.image.image
    np.testing.assert_array_equal(shown, raw.data)
    rect = window.views.raw.image.mapRectToParent(window.views.raw.image.boundingRect())
    assert rect.width() == pytest.approx(raw.size[1], rel=1e-6)
    assert rect.height() == pytest.approx(raw.size[0], rel=1e-6)
    rows = dict(window.metadata.rows())
    assert rows["File"] == "img_0071.sxm" and "Bias" in rows and rows["Pixels"].startswith("96 × 100")
    # the line profile samples the raw data across the scan
    assert len(window.views.raw_curve.getData()[1]) > 10


def test_dropping_a_folder_finds_scans_recursively(qtbot, window, realdata_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    nested = tmp_path / "session" / "day2"
    nested.mkdir(parents=True)
    (tmp_path / "session" / "a.sxm").symlink_to(realdata_dir / "nanonis" / "img_0071.sxm")
    (nested / "b.sxm").symlink_to(realdata_dir / "nanonis" / "TR_img_0249.sxm")
    (nested / "notes.txt").write_text("not a scan")
    window.scan_list.drop_mime(file_mime([tmp_path / "session"]))
    wait_idle(qtbot, window)
    assert sorted(e.name for e in window.session.entries) == ["a.sxm", "b.sxm"]
    # dropping the same folder again adds nothing
    assert window.scan_list.drop_mime(file_mime([tmp_path / "session"])) == 0


def test_switch_channel_and_direction(qtbot, window, realdata_dir: Path) -> None:  # type: ignore[no-untyped-def]
    window.scan_list.drop_mime(file_mime([realdata_dir / "nanonis" / "TR_img_0249.sxm"]))
    wait_idle(qtbot, window)
    box = window.scan_list.channel_box
    names = [box.itemText(i) for i in range(box.count())]
    assert names[:2] == ["Z", "Current"] and len(names) == 7
    forward = window.session.raw
    box.setCurrentText("Current")
    box.textActivated.emit("Current")
    wait_idle(qtbot, window)
    current = window.session.raw
    assert current is not None and current.channel == "Current" and current.unit == "A"
    assert window.views.hist.axis.labelUnits == "A"
    window.scan_list.direction_box.textActivated.emit("backward")
    wait_idle(qtbot, window)
    back = window.session.raw
    assert back is not None and back.channel == "Current" and back.direction == "backward"
    assert not np.array_equal(back.data, current.data, equal_nan=True)
    assert forward is not None and forward.channel == "Z"
    # the choice sticks when moving to another scan with the same channel
    window.scan_list.drop_mime(file_mime([realdata_dir / "nanonis" / "img_0071.sxm"]))
    wait_idle(qtbot, window)
    window.session.select(1)
    wait_idle(qtbot, window)
    assert (window.session.raw.channel, window.session.raw.direction) == ("Current", "backward")


def test_corrupted_file_shows_its_error_and_the_app_goes_on(qtbot, window, realdata_dir: Path) -> None:  # type: ignore[no-untyped-def]
    bad = next((realdata_dir / "corrupted").glob("*.sxm"))
    good = realdata_dir / "nanonis" / "img_0071.sxm"
    window.scan_list.drop_mime(file_mime([bad, good]))
    wait_idle(qtbot, window)
    first, second = window.session.entries
    assert first.error is not None and "needs" in first.error and second.error is None
    item = window.scan_list.list.item(0)
    assert bad.name in item.text() and "bytes" in item.text()
    window.session.select(1)
    assert window.session.raw is not None and window.session.raw.source.name == good.name
    window.session.select(0)
    assert window.session.raw is None and window.views.raw.image.image is None
    assert "needs" in window.statusBar().currentMessage()


def test_arrow_keys_move_between_scans(qtbot, window, realdata_dir: Path) -> None:  # type: ignore[no-untyped-def]
    files = [realdata_dir / "nanonis" / n for n in ("img_0071.sxm", "TR_img_0249.sxm", "CO_img_0050.sxm")]
    window.scan_list.drop_mime(file_mime(files))
    wait_idle(qtbot, window)
    lst = window.scan_list.list
    lst.setFocus()
    lst.setCurrentRow(0)
    QTest.keyClick(lst, Qt.Key.Key_Down)
    assert window.session.current == 1
    assert window.session.raw.source.name == "TR_img_0249.sxm"
    QTest.keyClick(lst, Qt.Key.Key_Down)
    QTest.keyClick(lst, Qt.Key.Key_Up)
    assert window.session.current == 1
    window.next_scan()
    assert window.session.current == 2


def test_processing_toggles_level_the_displayed_data(qtbot, window, realdata_dir: Path) -> None:  # type: ignore[no-untyped-def]
    window.scan_list.drop_mime(file_mime([realdata_dir / "nanonis" / "img_0071.sxm"]))
    wait_idle(qtbot, window)
    before = window.session.raw
    window.views.level_box.setChecked(True)
    window.views.align_box.setChecked(True)
    after = window.session.raw
    assert [s.name for s in after.steps] == ["align_rows", "level_plane"]
    assert abs(np.nanmean(after.data)) < abs(np.nanmean(before.data))
    np.testing.assert_array_equal(window.views.raw.image.image, after.data)


def test_cursor_readout_profile_line_and_export(qtbot, window, realdata_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QPointF

    from stmdenoise.io import read_scan

    window.scan_list.drop_mime(file_mime([realdata_dir / "nanonis" / "img_0071.sxm"]))
    wait_idle(qtbot, window)
    raw = window.session.raw
    views = window.views
    # cursor over pixel (row 10, col 20): position in nm and the height in pm
    dy, dx = raw.pixel_size
    vb = views.raw.plot.getViewBox()
    scene_pos = vb.mapViewToScene(QPointF((20 + 0.5) * dx, (10 + 0.5) * dy))
    with qtbot.waitSignal(views.cursor_text) as sig:
        views.graphics.scene().sigMouseMoved.emit(scene_pos)
    text = sig.args[0]
    assert "row 10, col 20" in text and "nm" in text and text.endswith(" pm")
    assert f"{raw.data[10, 20] * 1e12:.4g} pm" in text
    # the profile line is drawn once: moving it on the raw view moves it on the others
    roi = views.rois[0]
    start = (0.2 * raw.size[1], 0.1 * raw.size[0])
    end = (0.8 * raw.size[1], 0.9 * raw.size[0])
    for handle, p in zip(roi.getHandles(), (start, end), strict=True):
        roi.movePoint(handle, QPointF(*p), coords="parent")
    for other in views.rois[1:]:
        pts = [other.mapToParent(h.pos()) for h in other.getHandles()]
        assert (pts[0].x(), pts[0].y()) == pytest.approx(start)
        assert (pts[1].x(), pts[1].y()) == pytest.approx(end)
    distance, values = views.raw_curve.getData()
    assert distance[-1] == pytest.approx(np.hypot(end[0] - start[0], end[1] - start[1]))
    # export writes through stmdenoise.io and reads back with its calibration
    out = window.session.export(tmp_path / "raw.tiff", which="raw")
    back = read_scan(out)
    np.testing.assert_allclose(back.data, raw.data, rtol=1e-6)
    assert back.pixel_size == pytest.approx(raw.pixel_size)
    with pytest.raises(ValueError, match="denoised"):
        window.session.export(tmp_path / "d.tiff", which="denoised")


def test_whole_realdata_folder_every_entry_shows_or_says_why(qtbot, window, realdata_dir: Path) -> None:  # type: ignore[no-untyped-def]
    window.scan_list.drop_mime(file_mime([realdata_dir]))
    wait_idle(qtbot, window, timeout=180000)
    entries = window.session.entries
    assert len(entries) >= 14 and all(e.loaded for e in entries)
    assert any(e.error for e in entries) and sum(e.error is None for e in entries) >= 12
    for i, entry in enumerate(entries):  # flip through everything, as a user would with ↓
        window.session.select(i)
        wait_idle(qtbot, window)
        raw = window.session.raw
        if entry.error is None:
            assert raw is not None and raw.source is not None and raw.source.name == entry.name
            assert window.views.raw.image.image is not None
        else:
            assert raw is None and entry.error_reason()


def test_a_constant_image_gets_a_histogram_around_its_value(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    """A flat Z channel (a constant-height scan) used to get pyqtgraph's ±0.5 histogram range,
    which the axis labelled "±500 mm"; it is shown around its value instead."""
    from stmdenoise.scan import Scan

    flat = Scan(np.full((64, 64), 17.24e-12), pixel_size=(1.5e-11, 1.5e-11), channel="Z", unit="m")
    window.views.show_raw(flat)
    window.views.auto_levels()
    bottom, top = window.views.hist.vb.viewRange()[1]
    assert bottom < 17.24e-12 < top and top - bottom < 1e-12
