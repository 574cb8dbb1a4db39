"""The session: scans opened in one window, the current selection and its results.

Panels call the session's methods and listen to its signals; the session never touches a
widget (napari-style separation). Long work goes through the :class:`WorkerPool`.

One source of truth per view
----------------------------
What the views show is identified by :attr:`Session.view_key`, a :class:`ViewKey` of the scan
shown (:class:`ScanId`: file, channel, direction, slice) and a *generation* that grows every
time what the views show changes (another scan, channel, direction, slice, background/line
correction, crop, model, passes, or a denoised result arriving or going). A panel that
computes something for the view starts its job with ``session.start_view_job(...)`` (or
``pool.start(..., tag=key)``); the job's records then arrive as ``Tagged(key, record)`` and the
slot drops them unless ``session.is_current(tagged.tag)``. :attr:`Session.view_changed`
announces each new key: panels clear what they computed for the old one there.

Status texts are derived, never appended: :meth:`Session.denoise_state` is recomputed from
the state (model, shown scan, cached result, running job, last failure or cancel for this
key, auto-denoise) and emitted as ``denoise_state_changed`` (and ``denoise_status`` /
``denoise_progress``) whenever any of these changes.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from stmdenoise.gui.entries import (
    FileRecord,
    ResultCache,
    ResultKey,
    ScanEntry,
    channel_directions,
    channel_names,
    expand_paths,
    read_files,
    read_one,
    skipped_files,
)
from stmdenoise.gui.tasks import (
    DenoiserCache,
    DenoiseRecord,
    DenoiseResult,
    ModelInfo,
    denoise_job,
    preprocess,
    second_look,
)
from stmdenoise.gui.view_key import DenoiseState, ScanId, ViewKey
from stmdenoise.gui.workers import GeneratorWorker, JobFactory, Tagged, WorkerPool
from stmdenoise.io import ChannelInfo, write_scan
from stmdenoise.scan import Scan

__all__ = ["Session", "ScanId", "ViewKey", "DenoiseState"]

log = logging.getLogger(__name__)


class Session(QObject):
    """State of one window: entries, selection, view options, denoised results."""

    entries_added = Signal(int, int)  # first index, count
    entry_changed = Signal(int)
    current_changed = Signal(int)
    channels_changed = Signal(list, str, list, str)  # names, current, directions, current direction
    raw_changed = Signal(object)  # Scan | None (after the level/align toggles)
    denoised_changed = Signal(object)  # Scan | None
    denoise_status = Signal(str)
    denoise_progress = Signal(int, int)  # done, total (0, 0 when idle)
    message = Signal(str)
    view_changed = Signal(object)  # ViewKey of what is shown now
    denoise_state_changed = Signal(object)  # DenoiseState (the same facts as denoise_status/progress)
    slices_changed = Signal(list, int)  # sweep values (or []) and the current slice

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = WorkerPool(self)
        self.entries: list[ScanEntry] = []
        self.current = -1
        self.channel: str | None = None
        self.direction = "forward"
        self.index = 0  # slice of a .3ds grid
        self.level: bool | str = (
            False  # background: False/"none", True/"plane", "poly2", ... (tasks.BACKGROUNDS)
        )
        self.align: bool | str = False  # line correction: False/"none", True/"median", "poly1", ...
        self.points: tuple[tuple[float, float], ...] = ()  # three (row, col) of "three_points"
        self.crop: tuple[tuple[int, int], tuple[int, int]] | None = None  # rows, cols of the shown frame
        self.generation = 0
        self.model: ModelInfo | None = None
        self.device = "auto"
        self.passes = 1  # network passes averaged over mirrored copies (Denoiser.denoise)
        self.policy = "fallback"  # do-no-harm policy (stmdenoise.safety.POLICIES)
        self.auto_denoise = True
        self.raw: Scan | None = None
        self.denoised: Scan | None = None
        self.results = ResultCache()
        self.denoisers = DenoiserCache()
        self._denoise_running: ResultKey | None = None
        self._denoise_wanted: tuple[ResultKey, Scan] | None = None
        self._denoise_progress: tuple[ResultKey, int, int, str] | None = None
        self._denoise_outcome: dict[ResultKey, str] = {}  # "cancelled" or the failure, per key
        self._denoise_done: dict[ResultKey, str] = {}  # last record's message of a finished job
        self._denoise_state = DenoiseState("idle", "")
        self._show_when_read = -1
        self._read_errors: list[int] = []

    # ------------------------------------------------------------------ opening files
    def open_paths(self, paths: Iterable[str | Path]) -> int:
        """Add files (folders expanded recursively) and read them in the background.

        Returns the number of new entries; files already open are selected instead.
        """
        paths = list(paths)
        files = expand_paths(paths)
        skipped = skipped_files(paths)
        self._skipped_note = f"; {skipped} skipped (not scan files)" if skipped else ""
        known = {e.path.resolve(): i for i, e in enumerate(self.entries)}
        new = [f for f in files if f.resolve() not in known]
        if not new:
            if files:
                self.select(known[files[0].resolve()])
            else:
                self.message.emit("no scan files found" + self._skipped_note)
            return 0
        first = len(self.entries)
        self._show_when_read = first  # a drop shows the first new file as soon as it is read
        self.entries.extend(ScanEntry(path=f) for f in new)
        self.entries_added.emit(first, len(new))
        self.pool.start(
            lambda cancel: read_files(new, cancel),
            name="read",
            on_record=self._file_read,
            on_failed=self._job_failed,
        )
        self.message.emit(f"reading {len(new)} file(s){self._skipped_note}…")
        return len(new)

    def index_of(self, path: Path) -> int:
        """Index of the entry for ``path`` (-1 when not open)."""
        target = path.resolve()
        for i, e in enumerate(self.entries):
            if e.path.resolve() == target:
                return i
        return -1

    @Slot(object)
    def _file_read(self, rec: FileRecord) -> None:
        i = self.index_of(rec.path)
        if i < 0:
            return
        entry = self.entries[i]
        entry.size_bytes = rec.size_bytes
        entry.loaded = True
        good = rec.error is None and rec.scan is not None
        if not good:
            entry.error = rec.error or "unreadable"
            self._read_errors.append(i)
        elif rec.scan is not None:
            entry.channels = list(rec.channels) or [
                ChannelInfo(rec.scan.channel, rec.scan.unit, (rec.scan.direction,))
            ]
            entry.bias = rec.scan.bias
            entry.sweep, entry.sweep_label = rec.sweep, rec.sweep_label
            entry.scans[(rec.scan.channel, rec.scan.direction, 0)] = rec.scan
        self.entry_changed.emit(i)
        # show the first readable new file: an error entry is shown only when nothing else is
        # (or when it is what the user selected)
        if self.current == i or (good and (self.current < 0 or self._show_when_read >= 0)):
            self._show_when_read = -1
            self.select(i)
        if rec.done == rec.total:
            if self.current < 0 and self._read_errors:
                self.select(self._read_errors[0])
            bad = len(self._read_errors)
            self._read_errors = []
            note = f", {bad} unreadable" if bad else ""
            self.message.emit(f"read {rec.total} file(s){note}{getattr(self, '_skipped_note', '')}")

    @Slot(str)
    def _job_failed(self, error: str) -> None:
        self.message.emit(error)

    # ------------------------------------------------------------------ selection
    def select(self, index: int) -> None:
        """Show entry ``index`` (its channel and direction chosen as before when it has them)."""
        if not 0 <= index < len(self.entries):
            raise ValueError(f"index must be in [0, {len(self.entries)}), got {index}")
        changed = index != self.current
        self.current = index
        if changed:
            self.crop = None  # a crop belongs to one frame
            self.points = ()
            self.current_changed.emit(index)
        entry = self.entries[index]
        if entry.error is not None or not entry.loaded:
            self.channels_changed.emit([], "", [], "")
            self.slices_changed.emit([], 0)
            self._set_raw(None)
            if entry.error is not None:
                self.message.emit(f"{entry.name}: {entry.error_reason()}")
            return
        if changed:
            self.message.emit("")  # an error shown for the previous entry is not about this one
        names = channel_names(entry.channels)
        if self.channel not in names:
            default = next(iter(entry.scans), None)
            self.channel = default[0] if default else (names[0] if names else "")
        dirs = channel_directions(entry.channels, self.channel or "")
        if self.direction not in dirs:
            self.direction = dirs[0]
        self.channels_changed.emit(names, self.channel or "", dirs, self.direction)
        sweep = entry.sweep_values(self.channel or "")
        if not 0 <= self.index < max(1, len(sweep)):
            self.index = 0
        self.slices_changed.emit(sweep, self.index)
        self._show_current()

    def set_channel(self, name: str) -> None:
        """Show channel ``name`` of the current entry."""
        if name == self.channel:
            return
        self.channel = name
        if self.current >= 0:
            self.select(self.current)

    def set_direction(self, direction: str) -> None:
        """Show the ``"forward"`` or ``"backward"`` frame."""
        if direction not in ("forward", "backward"):
            raise ValueError(f"direction must be 'forward' or 'backward', got {direction!r}")
        if direction == self.direction:
            return
        self.direction = direction
        if self.current >= 0:
            self.select(self.current)

    def set_slice(self, index: int) -> None:
        """Show map ``index`` of a ``.3ds`` grid (one per sweep point, e.g. bias)."""
        entry = self.current_entry()
        n = len(entry.sweep_values(self.channel or "")) if entry is not None else 0
        if not 0 <= index < max(1, n):
            raise ValueError(f"index must be in [0, {max(1, n)}), got {index}")
        if index == self.index:
            return
        self.index = index
        self._show_current()

    def set_processing(
        self,
        *,
        level: bool | str,
        align: bool | str,
        points: tuple[tuple[float, float], ...] | None = None,
    ) -> None:
        """Choose the background (``level``) and line correction (``align``) of the shown data.

        ``level``: True for a plane, or a key of ``tasks.BACKGROUNDS``; ``align``: True for the
        median, or a key of ``tasks.ROW_METHODS``; ``points``: the three pixels of ``"three_points"``.
        """
        self.level, self.align = level, align
        if points is not None:
            self.points = tuple(points)
        self._show_current()

    def set_crop(self, rows: tuple[int, int] | None, cols: tuple[int, int] | None = None) -> None:
        """Show only ``rows`` x ``cols`` (pixels of the frame as read); None shows it whole.

        Three-point levelling points are dropped: they were picked in the other frame.
        """
        self.crop = None if rows is None or cols is None else (tuple(rows), tuple(cols))  # type: ignore[assignment]
        self.points = ()
        self._show_current()

    def current_entry(self) -> ScanEntry | None:
        """The selected entry, if any."""
        return self.entries[self.current] if 0 <= self.current < len(self.entries) else None

    def scan_id(self) -> ScanId | None:
        """Identity of the frame shown (None when none is)."""
        entry = self.current_entry()
        if entry is None or entry.error is not None or not entry.loaded or not self.channel:
            return None
        return ScanId(str(entry.path), self.channel, self.direction, self.index)

    @property
    def view_key(self) -> ViewKey:
        """Tag for jobs computing something for the current view (see the module docstring)."""
        return ViewKey(self.scan_id(), self.generation)

    def is_current(self, key: Any) -> bool:
        """True when ``key`` (a job's tag) is still the view's key: its results may be shown."""
        return isinstance(key, ViewKey) and key == self.view_key

    def start_view_job(
        self,
        make_job: JobFactory,
        *,
        name: str,
        on_record: Callable[[Any], None] | None = None,
        on_returned: Callable[[Any], None] | None = None,
        on_failed: Callable[[Any], None] | None = None,
        on_finished: Callable[[Any], None] | None = None,
    ) -> GeneratorWorker | None:
        """Start a job for the current view; callbacks receive ``Tagged`` records and results (see above)."""
        return self.pool.start(
            make_job,
            name=name,
            on_record=on_record,
            on_returned=on_returned,
            on_failed=on_failed,
            on_finished=on_finished,
            tag=self.view_key,
        )

    def _show_current(self) -> None:
        entry = self.current_entry()
        if entry is None or entry.error is not None or not entry.loaded or not self.channel:
            return
        key = (self.channel, self.direction, self.index)
        scan = entry.scans.get(key)
        if scan is None:
            self._advance()  # what was shown is no longer what is selected
            self.pool.start(
                read_one(entry.path, self.channel, self.direction, self.index),
                name="read-channel",
                on_returned=self._channel_read,
                on_failed=self._job_failed,
                tag=key,
            )
            return
        try:
            # crop first: the background is fitted to what is kept, and three-point clicks are
            # in the coordinates of the cropped frame the user sees
            shown = scan
            if self.crop is not None:
                from stmdenoise.processing.spectrum import crop_rect

                shown = crop_rect(shown, rows=self.crop[0], cols=self.crop[1])
            shown = preprocess(shown, level=self.level, align=self.align, points=self.points)
        except ValueError as exc:
            self.message.emit(str(exc))
            shown = scan
        self._set_raw(shown)

    @Slot(object)
    def _channel_read(self, t: Tagged) -> None:
        scan = t.value
        if not isinstance(scan, Scan) or scan.source is None:
            return
        i = self.index_of(scan.source)
        if i < 0:
            return
        channel, direction, index = t.tag
        self.entries[i].scans[(channel, direction, index)] = scan
        if i == self.current and (channel, direction, index) == (self.channel, self.direction, self.index):
            self._show_current()

    def _advance(self) -> None:
        """Start a new generation of the view: late results of the old one are dropped."""
        self.generation += 1
        self.view_changed.emit(self.view_key)

    def _set_raw(self, scan: Scan | None) -> None:
        self.raw = scan
        self.generation += 1
        self.raw_changed.emit(scan)
        self.view_changed.emit(self.view_key)
        key = self.result_key()
        cached = self.results.get(key) if key is not None else None
        self._set_denoised(cached)
        if cached is None and scan is not None and self.auto_denoise and self.model is not None:
            self.denoise()
        self._update_denoise_state()

    def _set_denoised(self, scan: Scan | None) -> None:
        self.denoised = scan
        self.generation += 1  # what the views show changed: jobs for the old pair are stale
        self.denoised_changed.emit(scan)
        self.view_changed.emit(self.view_key)

    # ------------------------------------------------------------------ denoising
    def result_key(self) -> ResultKey | None:
        """Cache key of the denoised version of what is shown now."""
        if self.raw is None or self.model is None or self.raw.source is None:
            return None
        return ResultKey(
            str(self.raw.source),
            self.raw.channel,
            self.raw.direction,
            str(self.model.path),
            str(self.level) + ":" + ",".join(f"{r:g}/{c:g}" for r, c in self.points),
            str(self.align) + (f":crop{self.crop}" if self.crop else ""),
            self.passes,
            index=self.index,
            policy=self.policy,
        )

    def set_model(
        self, model: ModelInfo | None, device: str = "auto", passes: int = 1, policy: str = "fallback"
    ) -> None:
        """Choose the model, device, passes and do-no-harm policy (shows the cached result if any)."""
        self.model, self.device, self.passes, self.policy = model, device, passes, policy
        self._advance()
        key = self.result_key()
        cached = self.results.get(key) if key is not None else None
        self._set_denoised(cached)
        if cached is None and self.raw is not None and self.auto_denoise and model is not None:
            self.denoise()
        self._update_denoise_state()

    def set_auto_denoise(self, on: bool) -> None:
        """Denoise each shown scan automatically (or only on request)."""
        self.auto_denoise = bool(on)
        if on and self.raw is not None and self.denoised is None and self.model is not None:
            self.denoise()
        self._update_denoise_state()

    def denoise(self) -> bool:
        """Denoise what is shown with the chosen model (from the cache when done before)."""
        key = self.result_key()
        if key is None or self.raw is None or self.model is None:
            self._update_denoise_state()
            return False
        self._denoise_outcome.pop(key, None)
        cached = self.results.get(key)
        if cached is not None:
            self._set_denoised(cached)
            self._update_denoise_state()
            return True
        self._denoise_wanted = (key, self.raw)
        if self._denoise_running is None:
            self._start_denoise()
        elif self._denoise_running != key:
            self.pool.cancel("denoise")
        self._update_denoise_state()
        return True

    def _start_denoise(self) -> None:
        if self._denoise_wanted is None or self.model is None:
            return
        key, scan = self._denoise_wanted
        self._denoise_wanted = None
        self._denoise_running = key
        self._denoise_progress = None
        partner = self._second_look(key, scan)
        self.pool.start(
            denoise_job(scan, Path(key.model), self.device, self.denoisers, key.passes, partner, key.policy),
            name="denoise",
            on_record=self._denoise_record,
            on_returned=self._denoise_returned,
            on_failed=self._denoise_failed,
            on_finished=self._denoise_finished,
            tag=key,
        )

    def _second_look(self, key: ResultKey, scan: Scan) -> Callable[[], Scan | None]:
        """Loader of the other scan direction, processed as the view is (for the fidelity check)."""
        if self.crop is not None or self.level == "three_points" or key.index:
            return lambda: None  # a crop or clicked points belong to this frame only; grids have one
        i = self.index_of(Path(key.path))
        other = "backward" if key.direction == "forward" else "forward"
        known = self.entries[i].scans.get((key.channel, other, 0)) if i >= 0 else None
        return second_look(scan, known, level=self.level, align=self.align)  # type: ignore[arg-type]

    @Slot(object)
    def _denoise_record(self, t: Tagged) -> None:
        key, rec = t.tag, t.value
        if not isinstance(rec, DenoiseRecord):
            return
        if key == self._denoise_running and self._denoise_outcome.get(key) != "cancelled":
            self._denoise_progress = (key, rec.done, rec.total or 0, rec.message)
        self._update_denoise_state()

    @Slot(object)
    def _denoise_returned(self, t: Tagged) -> None:
        key, got = t.tag, t.value
        if not isinstance(got, DenoiseResult):  # None: the job was cancelled
            return
        self.results.put(key, got.scan)  # kept even when the view moved on
        if key == self.result_key():
            self._set_denoised(got.scan)
        self._denoise_done[key] = got.message  # what was delivered (the do-no-harm verdict)
        self._update_denoise_state()

    @Slot(object)
    def _denoise_failed(self, t: Tagged) -> None:
        if self._denoise_outcome.get(t.tag) != "cancelled":
            self._denoise_outcome[t.tag] = f"denoising failed: {t.value}"
        self._update_denoise_state()

    @Slot(object)
    def _denoise_finished(self, key: ResultKey) -> None:
        if key == self._denoise_running:
            self._denoise_running = None
            self._denoise_progress = None
        if self._denoise_wanted is not None:
            self._start_denoise()
        self._update_denoise_state()

    @property
    def denoising(self) -> bool:
        """True from the start of a denoising job until its ``finished`` callback has run."""
        return self._denoise_running is not None

    def cancel_denoise(self) -> None:
        """Stop the running denoising job (its late progress records are dropped)."""
        self._denoise_wanted = None
        if self._denoise_running is not None:
            self._denoise_outcome[self._denoise_running] = "cancelled"
        self._denoise_progress = None
        self.pool.cancel("denoise")
        self._update_denoise_state()

    def denoise_state(self) -> DenoiseState:
        """The denoising status of what is shown now, derived from the state (never appended)."""
        if self.model is None:
            return DenoiseState("no_model", "choose a model")
        if self.raw is None:
            return DenoiseState("idle", "")
        name = self.model.name
        key = self.result_key()
        if self.denoised is not None:
            done = self._denoise_done.get(key) if key is not None else None
            return DenoiseState("done", f"{name}: {done}" if done else f"denoised with {name}")
        outcome = self._denoise_outcome.get(key) if key is not None else None
        if outcome == "cancelled":
            return DenoiseState("cancelled", "denoising cancelled; press Denoise to run it again")
        if outcome is not None:
            return DenoiseState("failed", outcome)
        if key is not None and key == self._denoise_running:
            prog = self._denoise_progress
            if prog is not None and prog[0] == key:
                return DenoiseState("running", prog[3] or f"denoising with {name}…", prog[1], prog[2])
            return DenoiseState(
                "running", f"denoising {self.raw.source.name if self.raw.source else ''} with {name}…"
            )
        if self.auto_denoise:
            return DenoiseState("waiting", f"waiting to denoise with {name}…")
        return DenoiseState("waiting", "not denoised yet: press Denoise (automatic denoising is off)")

    def _update_denoise_state(self) -> None:
        state = dataclasses.replace(self.denoise_state(), busy=self._denoise_running is not None)
        if state == self._denoise_state:
            return
        self._denoise_state = state
        self.denoise_state_changed.emit(state)
        self.denoise_status.emit(state.text)
        self.denoise_progress.emit(state.done, state.total)

    def export(
        self, path: Path, *, which: str = "denoised", colormap: str = "afmhot", colour_bar: bool = True
    ) -> Path:
        """Write the shown raw or denoised scan to ``path`` (format from the extension).

        Uses :func:`stmdenoise.io.write_scan`: atomic, and it refuses to overwrite the input
        file. A ``.png`` picture has the scan's physical aspect, a scale bar and (by default) a
        colour bar.
        """
        if which not in ("raw", "denoised"):
            raise ValueError(f"which must be 'raw' or 'denoised', got {which!r}")
        scan = self.raw if which == "raw" else self.denoised
        if scan is None:
            raise ValueError(f"there is no {which} image to export")
        inputs = [scan.source] if scan.source is not None else []
        return Path(
            write_scan(scan, path, inputs=inputs, colormap=colormap, scale_bar=True, colour_bar=colour_bar)
        )

    def shutdown(self) -> bool:
        """Cancel and join every worker thread (window close, test teardown)."""
        return self.pool.shutdown()
