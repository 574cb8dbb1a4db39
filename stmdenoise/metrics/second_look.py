"""The second look of a current recorded with the Z feedback on: its other direction, negated.

With the feedback on (constant current) the Current channel is the feedback error, mostly the lag
on slopes, whose sign flips with the scan direction. The backward frame as stored is then no
second look at the forward one (:mod:`stmdenoise.io.feedback`), but the backward frame *negated*
about its mean is: on five constant-current files of ``../shared/realdata`` it agrees with the
forward current at coherence 0.98-0.99 at large scales and registers at the offset the Z channel
shows, where the frame as stored reaches at most 0.18 and registers at the edge of the search
(``python bench/feedback_error.py``, second table). :func:`negated_look` returns it when it agrees
(:data:`NEGATED_LOOK_COHERENCE`). :func:`second_look` is the one rule for which frame judges a
scan, used by the do-no-harm judge and the two-direction Wiener; the look it returns has its
columns following the piezo's hysteresis where one offset cannot register the two directions
(:func:`followed_look`, :mod:`stmdenoise.metrics.hysteresis`; not for feedback-error currents).

>>> import numpy as np
>>> from stmdenoise.scan import Scan
>>> rng = np.random.default_rng(0)
>>> slope = np.gradient(np.cumsum(np.cumsum(rng.normal(size=(96, 96)), 0), 1), axis=1)
>>> on = {"Z-Controller>Controller status": "ON"}
>>> fwd = Scan(1e-12 * (100 + slope), pixel_size=(1e-10, 1e-10), channel="Current", unit="A", header=on)
>>> bwd = fwd.with_data(1e-12 * (100 - slope), direction="backward")
>>> offset, look, coherence = negated_look(fwd, bwd)
>>> coherence > 0.99
True
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict

import numpy as np

from stmdenoise.io.feedback import feedback_error_channel
from stmdenoise.metrics._input import NotScorableError
from stmdenoise.metrics.contrast import contrast_mismatch
from stmdenoise.metrics.hysteresis import FastAxisWarp, fast_axis_warp, follow
from stmdenoise.metrics.registration import register_frames, trace_retrace_max_shift
from stmdenoise.scan import ProcessingStep, Scan

__all__ = [
    "FEEDBACK_ERROR_CAVEAT",
    "FOLLOW_STEP",
    "NEGATED_LOOK_COHERENCE",
    "followed_look",
    "negated_look",
    "second_look",
]

#: Name of the processing step a look gets when its columns follow the hysteresis (its
#: ``description`` says by how much; :func:`followed_look`).
FOLLOW_STEP = "follow_hysteresis"

#: Large-scale coherence from which the negated other direction counts as the second look
#: (0.98-0.99 where it holds on ``../shared/realdata``, 0.63 at most where it does not).
NEGATED_LOOK_COHERENCE = 0.9
#: The notice of a current recorded with the Z feedback on whose other direction, as stored or
#: negated, is no second look at it (:func:`negated_look`).
FEEDBACK_ERROR_CAVEAT = (
    "This current was recorded with the Z feedback on: it is mostly the feedback error, which "
    "differs between the two scan directions (the lag on slopes changes sign). The estimate counts "
    "that real difference as noise and would favour filters that smooth it away, so the other "
    "direction is not used to judge or replace the output here: its error is unknown."
)
#: How many recent (scan, partner) answers :func:`second_look` remembers.
MEMO_SIZE = 4

_Found = tuple[tuple[float, float], Scan, float | None] | None
#: offset, coherence (None: the partner as stored) and the warp its columns follow (None: none)
_Answer = tuple[tuple[float, float], float | None, FastAxisWarp | None] | None
#: (id(raw), id(partner)) -> weak references to both, and the offset and coherence (None: no look)
_memo: OrderedDict[tuple[int, int], tuple[weakref.ref[Scan], weakref.ref[Scan], _Answer]] = OrderedDict()
_memo_lock = threading.Lock()


def negated_look(raw: Scan, partner: Scan) -> tuple[tuple[float, float], Scan, float] | None:
    """``partner`` negated about its mean and registered onto ``raw``: ``(offset, look, coherence)``
    when the two agree at large scales (coherence at least :data:`NEGATED_LOOK_COHERENCE`,
    :func:`~stmdenoise.metrics.contrast.contrast_mismatch`), else None. Meant for a current recorded
    with the Z feedback on (the caller checks that); any other channel simply does not agree."""
    b = np.asarray(partner.data, dtype=np.float64)
    if partner.shape != raw.shape or not np.isfinite(b).any():
        return None
    look = _negated(partner)
    try:
        offset = register_frames(raw, look, max_shift=trace_retrace_max_shift(raw.shape))
        coherence = contrast_mismatch(raw, look, offset).coherence
    except (NotScorableError, ValueError):
        return None
    return (offset, look, coherence) if coherence >= NEGATED_LOOK_COHERENCE else None


def second_look(raw: Scan, partner: Scan) -> tuple[tuple[float, float], Scan, float | None] | None:
    """The second look that judges ``raw`` and the offset registering it onto ``raw``:
    ``(offset, partner, None)``, or for a current recorded with the Z feedback on
    (:func:`~stmdenoise.io.feedback.feedback_error_channel`) :func:`negated_look`'s
    ``(offset, negated partner, coherence)``, None when that does not agree.

    One denoise asks this up to three times for the same two scans (the plan's can-the-filter-serve
    check, the two-direction Wiener, the do-no-harm judge); scans are immutable, so the offset and
    coherence found for the last :data:`MEMO_SIZE` pairs of scan *objects* are remembered (weakly:
    nothing remembered keeps a scan or an image alive; a new object with equal data is measured
    afresh). Failures are not remembered.

    Raises
    ------
    NotScorableError, ValueError
        ``partner`` cannot be registered onto ``raw`` (no contrast, too few complete rows).
    """
    key = (id(raw), id(partner))
    with _memo_lock:
        hit = _memo.get(key)
        if hit is not None and hit[0]() is raw and hit[1]() is partner:
            _memo.move_to_end(key)
            if hit[2] is None:
                return None
            offset, coherence, warp = hit[2]
            look = partner if coherence is None else _negated(partner)
            return offset, look if warp is None else _follow(look, warp, offset), coherence
    found, warp = _measure(raw, partner)
    with _memo_lock:
        _memo[key] = (
            weakref.ref(raw),
            weakref.ref(partner),
            None if found is None else (found[0], found[2], warp),
        )
        _memo.move_to_end(key)
        while len(_memo) > MEMO_SIZE:
            _memo.popitem(last=False)
    return found


def _negated(partner: Scan) -> Scan:
    """``partner`` negated about its mean (the second look of a feedback-error current)."""
    b = np.asarray(partner.data, dtype=np.float64)
    return partner.with_data(2 * np.nanmean(b) - b)


def _measure(raw: Scan, partner: Scan) -> tuple[_Found, FastAxisWarp | None]:
    found: _Found
    if feedback_error_channel(raw):
        found = negated_look(raw, partner)
    else:
        found = register_frames(raw, partner, max_shift=trace_retrace_max_shift(raw.shape)), partner, None
    if found is None:
        return None, None
    offset, look, coherence = found
    warp = _warp(raw, look, offset)
    return (offset, look if warp is None else _follow(look, warp, offset), coherence), warp


def _warp(raw: Scan, look: Scan, offset: tuple[float, float]) -> FastAxisWarp | None:
    """The hysteresis warp of ``look`` onto ``raw``; never for a feedback-error current, whose
    negated look agrees with it at large scales but not edge by edge (the lag on slopes flips with
    the direction: docs/model-selection.md, candidates CC and CD)."""
    if feedback_error_channel(raw):
        return None
    return fast_axis_warp(np.asarray(raw.data), np.asarray(look.data), offset)


def _follow(look: Scan, warp: FastAxisWarp, offset: tuple[float, float]) -> Scan:
    step = ProcessingStep(FOLLOW_STEP, {"span_px": list(warp.span), "description": warp.describe()})
    return look.with_data(follow(np.asarray(look.data), warp, offset), step)


def followed_look(raw: Scan, look: Scan, offset: tuple[float, float]) -> Scan:
    """``look`` (registered onto ``raw`` by the rigid ``offset``) with its columns following the
    piezo's hysteresis where it displaces them along the lines beyond that offset
    (:func:`~stmdenoise.metrics.hysteresis.fast_axis_warp`; a :data:`FOLLOW_STEP` step says by
    how much), else ``look`` itself (always for a current recorded with the Z feedback on).
    :func:`second_look` applies it to every look it returns."""
    warp = _warp(raw, look, offset)
    return look if warp is None else _follow(look, warp, offset)
