"""The scan list: files and folders dropped or opened, each with name, size and bias or its error."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, Qt, Signal, Slot
from PySide6.QtGui import QBrush, QColor, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from stmdenoise.gui.entries import format_bias, format_size, format_sweep
from stmdenoise.gui.session import Session

__all__ = ["ScanListPanel", "paths_from_mime"]


def paths_from_mime(mime: QMimeData) -> list[Path]:
    """Local files and folders carried by a drag (file URLs); other URLs are ignored."""
    return [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile()]


class ScanListPanel(QWidget):
    """List of opened scans with channel and direction selectors; accepts dropped files."""

    files_dropped = Signal(list)

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.list = QListWidget()
        self.list.setAlternatingRowColors(True)
        self.list.setWordWrap(True)
        self.list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setToolTip("Drop .sxm files or folders here; ↑/↓ move between scans")
        self.channel_box = QComboBox()
        self.channel_box.setToolTip("Channel of the selected scan")
        self.direction_box = QComboBox()
        self.direction_box.setToolTip("Fast-scan direction (backward frames are mirrored to match forward)")
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(self.channel_box, 2)
        row.addWidget(self.direction_box, 1)
        form.addRow("Channel", row)
        # a .3ds grid holds one map per sweep point (bias): choose it here
        self.slice_slider = QSlider(Qt.Orientation.Horizontal)
        self.slice_slider.setToolTip(
            "Map of the grid: one per sweep point (e.g. bias); ←/→ step through them"
        )
        self.slice_label = QLabel("")
        self.slice_label.setMinimumWidth(110)
        slice_row = QHBoxLayout()
        slice_row.addWidget(self.slice_slider, 1)
        slice_row.addWidget(self.slice_label)
        self.slice_widget = QWidget()
        self.slice_widget.setLayout(slice_row)
        slice_row.setContentsMargins(0, 0, 0, 0)
        form.addRow("Map", self.slice_widget)
        self._form = form
        self._sweep: list[float] = []
        self._sweep_label = ""
        form.setRowVisible(self.slice_widget, False)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.list, 1)
        lay.addLayout(form)
        self.setAcceptDrops(True)

        self.list.currentRowChanged.connect(self._row_changed)
        self.channel_box.textActivated.connect(self._channel_chosen)
        self.direction_box.textActivated.connect(self._direction_chosen)
        self.slice_slider.valueChanged.connect(self._slice_moved)
        self.slice_slider.sliderReleased.connect(self._slice_released)
        session.slices_changed.connect(self._slices_changed)
        session.entries_added.connect(self._entries_added)
        session.entry_changed.connect(self._entry_changed)
        session.current_changed.connect(self._current_changed)
        session.channels_changed.connect(self._channels_changed)

    # ------------------------------------------------------------------ drag and drop
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if paths_from_mime(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        self.drop_mime(event.mimeData())
        event.acceptProposedAction()

    def drop_mime(self, mime: QMimeData) -> int:
        """Open what a drag carries (the code path of a drop event); returns new entries."""
        paths = paths_from_mime(mime)
        if not paths:
            return 0
        self.files_dropped.emit([str(p) for p in paths])
        return self.session.open_paths(paths)

    # ------------------------------------------------------------------ session -> list
    @Slot(int, int)
    def _entries_added(self, first: int, count: int) -> None:
        for i in range(first, first + count):
            item = QListWidgetItem()
            self.list.addItem(item)
            self._render(i)

    @Slot(int)
    def _entry_changed(self, index: int) -> None:
        self._render(index)

    def _render(self, index: int) -> None:
        entry = self.session.entries[index]
        item = self.list.item(index)
        if item is None:
            return
        item.setText(entry.summary())
        if entry.error is not None:
            item.setForeground(QBrush(QColor(230, 90, 80)))
            item.setToolTip(f"{entry.path}\n{entry.error_reason()}")
        else:
            item.setData(Qt.ItemDataRole.ForegroundRole, None)
            bias = (
                format_sweep(entry.sweep, entry.sweep_label)
                if len(entry.sweep) > 1
                else format_bias(entry.bias)
            )
            item.setToolTip(
                f"{entry.path}\n{format_size(entry.size_bytes)}, {bias}, {len(entry.channels)} channel(s)"
            )

    @Slot(int)
    def _current_changed(self, index: int) -> None:
        if self.list.currentRow() != index:
            self.list.setCurrentRow(index)

    @Slot(list, str, list, str)
    def _channels_changed(self, names: list[str], current: str, dirs: list[str], direction: str) -> None:
        for box, items, cur in ((self.channel_box, names, current), (self.direction_box, dirs, direction)):
            box.blockSignals(True)
            box.clear()
            box.addItems(items)
            box.setCurrentText(cur)
            box.setEnabled(bool(items))
            box.blockSignals(False)

    @Slot(list, int)
    def _slices_changed(self, sweep: list[float], index: int) -> None:
        entry = self.session.current_entry()
        self._sweep = list(sweep)
        self._sweep_label = entry.sweep_label if entry is not None else ""
        self._form.setRowVisible(self.slice_widget, len(sweep) > 1)
        self.slice_slider.blockSignals(True)
        self.slice_slider.setRange(0, max(0, len(sweep) - 1))
        self.slice_slider.setValue(index)
        self.slice_slider.blockSignals(False)
        self._label_slice(index)

    def _label_slice(self, index: int) -> None:
        if not 0 <= index < len(self._sweep):
            self.slice_label.setText("")
            return
        value = self._sweep[index]
        name, _, unit = self._sweep_label.partition(" (")
        text = format_bias(value) if unit.startswith("V") else f"{value:.4g} {unit.rstrip(')')}"
        self.slice_label.setText(f"{name or 'sweep'} {text} ({index + 1}/{len(self._sweep)})")

    # ------------------------------------------------------------------ list -> session
    @Slot(int)
    def _slice_moved(self, index: int) -> None:
        self._label_slice(index)
        if not self.slice_slider.isSliderDown():  # keys, clicks; a drag loads on release
            self.session.set_slice(index)

    @Slot()
    def _slice_released(self) -> None:
        self.session.set_slice(self.slice_slider.value())

    @Slot(int)
    def _row_changed(self, row: int) -> None:
        if 0 <= row < len(self.session.entries) and row != self.session.current:
            self.session.select(row)

    @Slot(str)
    def _channel_chosen(self, name: str) -> None:
        self.session.set_channel(name)

    @Slot(str)
    def _direction_chosen(self, direction: str) -> None:
        self.session.set_direction(direction)
