"""Mouse wheel inside scrolling panels: it scrolls the panel; Ctrl + wheel zooms the plot under it.

A pyqtgraph view takes every wheel event for zooming, so a tall panel in a scroll area could not
be scrolled with the mouse over one of its plots. :class:`WheelScrollsPanel` hands plain wheel
events to the scroll area instead.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QAbstractScrollArea, QApplication, QGraphicsView, QScrollArea

__all__ = ["WheelScrollsPanel", "route_wheel_to_scroll_area"]


class WheelScrollsPanel(QObject):
    """Event filter for the viewports of graphics views inside ``area``."""

    def __init__(self, area: QScrollArea) -> None:
        super().__init__(area)
        self.area = area

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() != QEvent.Type.Wheel or not isinstance(event, QWheelEvent):
            return False
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            return False  # Ctrl + wheel: the plot zooms
        QApplication.sendEvent(self.area.viewport(), event)
        return True


def route_wheel_to_scroll_area(area: QScrollArea) -> WheelScrollsPanel:
    """Make plain wheel events over every graphics view inside ``area`` scroll ``area``."""
    filt = WheelScrollsPanel(area)
    for view in area.findChildren(QGraphicsView):
        if isinstance(view, QAbstractScrollArea):
            view.viewport().installEventFilter(filt)
    return filt
