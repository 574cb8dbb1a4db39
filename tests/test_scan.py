from __future__ import annotations

import numpy as np
import pytest

from stmdenoise import ProcessingStep, Scan


def test_scan_is_read_only_and_float64() -> None:
    s = Scan(np.arange(6, dtype=np.float32).reshape(2, 3), pixel_size=(1e-10, 2e-10), channel="Z", unit="m")
    assert s.data.dtype == np.float64
    with pytest.raises(ValueError):
        s.data[0, 0] = 1.0
    assert s.shape == (2, 3)
    assert s.size == pytest.approx((2e-10, 6e-10))


def test_scan_copies_input() -> None:
    a = np.zeros((4, 4))
    s = Scan(a)
    a[0, 0] = 5
    assert s.data[0, 0] == 0


def test_measured_fraction_counts_nan() -> None:
    a = np.ones((4, 4))
    a[:1] = np.nan
    s = Scan(a)
    assert s.measured_fraction == pytest.approx(0.75)
    assert s.nan_fraction == pytest.approx(0.25)


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"data": np.zeros(4)}, "2-D"),
        ({"data": np.zeros((2, 2)), "pixel_size": (0.0, 1.0)}, "pixel_size"),
        ({"data": np.zeros((2, 2)), "direction": "sideways"}, "direction"),
        ({"data": np.zeros((2, 2)), "scan_direction": "left"}, "scan_direction"),
    ],
)
def test_scan_rejects_bad_arguments(kwargs: dict, word: str) -> None:
    with pytest.raises(ValueError, match=word):
        Scan(**kwargs)


def test_with_data_appends_provenance() -> None:
    s = Scan(np.zeros((2, 2)))
    t = s.with_data(np.ones((2, 2)), ProcessingStep("level_plane", {"order": 1}))
    assert t.steps[-1].to_dict() == {"name": "level_plane", "params": {"order": 1}}
    assert s.steps == ()
