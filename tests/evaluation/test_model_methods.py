"""The model rows of the fidelity tables: with or without the other look."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

from stmdenoise.scan import Scan
from stmdenoise.training.real_fidelity import model_methods


class _Recorder:
    """Stands in for a Denoiser: returns the scan and records which partner each call got."""

    def __init__(self) -> None:
        self.partners: list[Any] = []

    def denoise(self, scan: Scan, *, passes: int = 1, partner: Scan | None = None) -> Scan:
        self.partners.append(partner)
        return scan

    def denoise_checked(self, scan: Scan, *, partner: Scan | None = None, passes: int = 1) -> Any:
        self.partners.append(partner)
        return SimpleNamespace(delivered=scan)


def _pair() -> tuple[Scan, Scan]:
    z = np.random.default_rng(0).normal(size=(32, 32))
    px = (1e-10, 1e-10)
    return Scan(z, pixel_size=px), Scan(z[:, ::-1].copy(), pixel_size=px, direction="backward")


def test_the_model_rows_pass_the_other_look_by_default() -> None:
    fwd, bwd = _pair()
    rec = _Recorder()
    for m in model_methods(rec, "m"):
        assert np.array_equal(m.run(fwd, bwd), fwd.data)
    assert rec.partners == [bwd, bwd]


def test_single_frame_rows_never_show_the_model_the_other_look() -> None:
    fwd, bwd = _pair()
    rec = _Recorder()
    methods = model_methods(rec, "m", single_frame=True)
    assert [m.family for m in methods] == ["model", "delivered"]
    for m in methods:
        m.run(fwd, bwd)
    assert rec.partners == [None, None]
