"""The simulated path's grid matched to the standing waves (docs/model-selection.md, "The simulated path")."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from stmdenoise.denoise import Denoiser
from stmdenoise.physics import image_rng, sample_pair
from stmdenoise.physics.constants import CU111_WAVE_PERIOD
from stmdenoise.plan import WAVE_MAX_ZOOM, WAVE_MIN_EXCESS, wave_matched_pixel_size
from stmdenoise.processing import level_plane
from stmdenoise.processing.spectrum import standing_wave_peak
from stmdenoise.scan import Scan
from tests.batch.conftest import make_tiny_model

PX = 1.40625e-10


def _waves(period: float, noise: float = 0.3, size: int = 192, seed: int = 0) -> np.ndarray:
    """Circular standing waves around three scatterers, damped with distance, plus white noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size]
    img = np.zeros((size, size))
    for cy, cx in rng.uniform(0.2 * size, 0.8 * size, size=(3, 2)):
        r = np.hypot(y - cy, x - cx) + 1.0
        img += np.cos(2 * np.pi * r / period) / np.sqrt(r / period)
    return img + noise * rng.standard_normal(img.shape)


@pytest.mark.parametrize("period", [6.0, 10.5, 16.0, 25.0])
def test_the_period_of_standing_waves_is_found_through_noise(period: float) -> None:
    peak = standing_wave_peak(_waves(period))
    assert peak is not None and peak.excess >= WAVE_MIN_EXCESS
    assert abs(peak.period / period - 1) < 0.1


def test_noise_and_tiny_images_have_no_ring() -> None:
    rng = np.random.default_rng(1)
    white = standing_wave_peak(rng.standard_normal((192, 192)))
    assert white is not None and white.excess < WAVE_MIN_EXCESS
    lines = rng.standard_normal((192, 1)) * np.ones((1, 192)) + 0.1 * rng.standard_normal((192, 192))
    streaks = standing_wave_peak(lines)  # line offsets sit at kx = 0, which is left out
    assert streaks is not None and streaks.excess < WAVE_MIN_EXCESS
    x = np.arange(192)[None, :] * np.ones((192, 1))
    stripes = np.cos(2 * np.pi * x / 25.6) + 0.3 * rng.standard_normal((192, 192))
    mains = standing_wave_peak(stripes)  # straight along the slow axis: ky = 0, also left out
    assert mains is not None and mains.excess < WAVE_MIN_EXCESS
    assert standing_wave_peak(np.zeros((6, 40))) is None


def test_only_waves_far_from_cu111s_period_change_the_grid() -> None:
    cu = CU111_WAVE_PERIOD / PX  # 10.5 px
    assert wave_matched_pixel_size(Scan(_waves(cu), pixel_size=(PX, PX))) is None
    assert wave_matched_pixel_size(Scan(_waves(1.08 * cu), pixel_size=(PX, PX))) is None
    size, period = wave_matched_pixel_size(Scan(_waves(1.6 * cu), pixel_size=(PX, PX))) or (0, 0)
    assert abs(period / (1.6 * cu) - 1) < 0.1 and abs(size / (PX / 1.6) - 1) < 0.1
    # a scan at half the pixel size whose waves are Cu(111)'s: its own grid is already right
    assert wave_matched_pixel_size(Scan(_waves(2 * cu), pixel_size=(PX / 2, PX / 2))) is None
    # 8 px waves at a quarter of the pixel size: Cu(111)'s period would need 5x larger pixels
    far = wave_matched_pixel_size(Scan(_waves(8.0), pixel_size=(PX / 4, PX / 4)))
    assert far is not None and far[0] == pytest.approx(PX / 4 * WAVE_MAX_ZOOM)  # clipped
    noise = Scan(np.random.default_rng(2).standard_normal((192, 192)), pixel_size=(PX, PX))
    assert wave_matched_pixel_size(noise) is None
    assert wave_matched_pixel_size(Scan(_waves(1.6 * cu))) is None  # no pixel size: the plan asks


def _tiny(folder: Path) -> Denoiser:
    return Denoiser.from_folder(make_tiny_model(folder, pixel_size=PX), device="cpu")


def test_a_simulated_image_of_another_surface_state_is_worked_where_its_waves_are_cu111s(
    tmp_path: Path,
) -> None:
    den = _tiny(tmp_path / "m")
    cu = CU111_WAVE_PERIOD / PX
    long = Scan(1e-11 * _waves(1.7 * cu), pixel_size=(PX, PX), header={"simulated": True})
    plan = den.plan(long)
    assert plan.wave_period is not None and plan.resampled and plan.zoom[0] < 0.7
    assert "Cu(111)'s period" in plan.describe() and "shrunk" in plan.describe()
    out = den.denoise(long)
    assert out.shape == long.shape and out.pixel_size == long.pixel_size
    assert out.steps[-1].params["wave_period_px"] == pytest.approx(plan.wave_period, abs=0.01)
    assert np.isfinite(out.data).all()
    # Cu(111)'s own waves, and any experimental scan, keep the grid they have
    own = Scan(1e-11 * _waves(cu), pixel_size=(PX, PX), header={"simulated": True})
    assert den.plan(own).wave_period is None and not den.plan(own).resampled
    assert "wave_period_px" not in den.denoise(own).steps[-1].params
    real = Scan(1e-11 * _waves(1.7 * cu), pixel_size=(PX, PX))
    assert den.plan(real).wave_period is None and "wave_period_px" not in den.denoise(real).steps[-1].params


def test_simulated_cu111_pairs_are_left_on_their_grid() -> None:
    """The simulator's own Cu(111) scenes (what Table I scores) never trigger the matching, at a
    quarter of the typical noise and at the typical preset; its 1.25x surface state does."""
    from stmdenoise.physics import PRESETS
    from stmdenoise.physics.variety import scaled_noise

    for k in range(3):
        for factor in (0.25, 1.0):
            p = sample_pair(
                image_rng(77, k), pixels=192, size=27e-9, preset=scaled_noise(PRESETS["typical"], factor)
            )
            assert wave_matched_pixel_size(Scan(level_plane(p.noisy), pixel_size=(PX, PX))) is None
    p = sample_pair(image_rng(77, 0), pixels=192, size=27e-9, preset=scaled_noise(PRESETS["typical"], 0.25),
                    wavelength_scale=1.25)  # fmt: skip
    matched = wave_matched_pixel_size(Scan(level_plane(p.noisy), pixel_size=(PX, PX)))
    assert matched is not None and matched[0] == pytest.approx(1.25 * PX, rel=0.1)


def test_the_wave_grid_is_measured_once_per_image(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """plan() (the app's announcement) and denoise() ask for the same image's grid: one ring search."""
    import stmdenoise.denoise as den_mod

    calls = []
    view = den_mod.wave_matched_view

    def counted(scan: Scan) -> tuple[Scan, float | None]:
        calls.append(scan)
        return view(scan)

    monkeypatch.setattr(den_mod, "wave_matched_view", counted)
    den = _tiny(tmp_path / "m")
    long = 1e-11 * _waves(1.7 * CU111_WAVE_PERIOD / PX)
    image = Scan(long, pixel_size=(PX, PX), header={"simulated": True})
    den.plan(image)
    out = den.denoise(image)
    assert len(calls) == 1 and "wave_period_px" in out.steps[-1].params
    den.denoise(Scan(image.data.copy(), pixel_size=(PX, PX), header={"simulated": True}))
    assert len(calls) == 2  # another scan is measured anew
