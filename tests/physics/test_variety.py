"""The broad simulated world (issue 15): lattice as signal, other wavelengths, noise levels,
stronger tips, interference stripes, held-out artefact families."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from stmdenoise.physics import PRESETS, apply_artefacts, sample_pair
from stmdenoise.physics.constants import CU111_LATTICE
from stmdenoise.physics.variety import ARTEFACT_FAMILIES, Variety, sample_varied_pair, scaled_noise, without


def _radial_power(img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = img - img.mean()
    p = np.abs(np.fft.fft2(a)) ** 2
    fy = np.fft.fftfreq(a.shape[0])[:, None]
    fx = np.fft.fftfreq(a.shape[1])[None, :]
    return np.hypot(fy, fx), p


def _mean_frequency(img: np.ndarray) -> float:
    f, p = _radial_power(img)
    keep = f > 0.01
    return float(np.sum(f[keep] * p[keep]) / np.sum(p[keep]))


def test_lattice_signal_is_in_the_clean_image_at_the_lattice_frequency() -> None:
    kw = dict(pixels=96, size=96 * 0.5e-10, step_probability=0.0, n_impurities=2)
    plain = sample_pair(np.random.default_rng(3), **kw)  # type: ignore[arg-type]
    latt = sample_pair(np.random.default_rng(3), lattice_signal=2.0, **kw)  # type: ignore[arg-type]
    f, p_plain = _radial_power(plain.clean)
    _, p_latt = _radial_power(latt.clean)
    f_lattice = 0.5e-10 / (np.sqrt(3) / 2 * CU111_LATTICE)  # cycles per pixel of the row spacing
    band = np.abs(f - f_lattice) < 0.03
    assert p_latt[band].sum() > 20 * p_plain[band].sum()
    assert latt.params["lattice_signal"] == 2.0
    json.dumps(latt.params)


def test_wavelength_scale_shortens_the_standing_waves() -> None:
    kw = dict(pixels=128, size=20e-9, step_probability=0.0, n_impurities=(6, 6), bias=0.01)
    f1 = _mean_frequency(sample_pair(np.random.default_rng(4), **kw).clean)  # type: ignore[arg-type]
    f2 = _mean_frequency(sample_pair(np.random.default_rng(4), wavelength_scale=2.0, **kw).clean)  # type: ignore[arg-type]
    assert 1.5 < f2 / f1 < 2.6
    with pytest.raises(ValueError, match="wavelength_scale"):
        sample_pair(np.random.default_rng(0), pixels=32, size=5e-9, wavelength_scale=0.0)


def test_vibration_paints_periodic_stripes() -> None:
    clean = np.zeros((64, 64))
    clean[32, 32] = 1.0
    cfg = dataclasses.replace(
        without(PRESETS["typical"], ARTEFACT_FAMILIES),
        spread=1.0,
        vibration_amplitude=1.0,
        vibration_frequency=37.0,  # 0.116 cycles per pixel at 3.1 ms per pixel
    )
    noisy, params = apply_artefacts(
        clean, preset=cfg, pixel_size=1e-10, rng=np.random.default_rng(0), scale=1.0
    )
    # one pure tone along the raster: its 2-D spectrum is concentrated in a few bins
    _, p = _radial_power(noisy)
    top = np.sort(p.ravel())[::-1]
    assert top[:32].sum() > 0.5 * p.sum()  # 32 of 4096 bins
    assert params["vibration_amplitude"] == 1.0


def test_without_and_scaled_noise() -> None:
    cfg = without(PRESETS["typical"], ARTEFACT_FAMILIES)
    for fields in ARTEFACT_FAMILIES.values():
        assert all(getattr(cfg, name) == 0 for name in fields)
    with pytest.raises(ValueError, match="unknown artefact family"):
        without(PRESETS["typical"], ["telepathy"])
    assert scaled_noise(PRESETS["typical"], 0.25).streak_noise == pytest.approx(
        0.25 * PRESETS["typical"].streak_noise
    )


def test_noise_scale_sets_the_noise_level() -> None:
    def residual(scale: float) -> float:
        quiet = [f for f in ARTEFACT_FAMILIES if f not in ("white_noise", "streaks", "flicker")]
        v = Variety(
            noise_scale=(scale, scale),
            tip_blur_scale=(1.0, 1.0),
            lattice_probability=0.0,
            double_tip_probability=0.0,
            vibration_probability=0.0,
            held_out=tuple(quiet),
        )
        p = sample_varied_pair(np.random.default_rng(8), pixels=64, size=9e-9, preset="mild", variety=v)
        d = p.noisy - p.clean
        return float(np.std(np.diff(d, axis=1)))  # the plane and offsets drop out of the differences

    assert residual(3.0) == pytest.approx(12 * residual(0.25), rel=0.2)


def test_held_out_family_never_appears_and_pairs_are_reproducible() -> None:
    v = Variety(held_out=("scars", "double_tip"), double_tip_probability=1.0)
    a = sample_varied_pair(np.random.default_rng(11), pixels=48, size=7e-9, variety=v)
    b = sample_varied_pair(np.random.default_rng(11), pixels=48, size=7e-9, variety=v)
    np.testing.assert_array_equal(a.noisy, b.noisy)
    art = a.params["artefacts"]
    assert art["config"]["scar_rate"] == 0 and art["scars"] == []
    assert art["double_tip"] is False
    assert a.params["variety"]["held_out"] == ["scars", "double_tip"]
    json.dumps(a.params)
    with pytest.raises(ValueError, match="unknown artefact family"):
        Variety(held_out=("nope",))


def test_pixel_size_factor_changes_the_pixel_size() -> None:
    v = Variety(pixel_size_factor=(2.0, 2.0))
    p = sample_varied_pair(np.random.default_rng(1), pixels=32, size=5e-9, variety=v)
    assert p.pixel_size == pytest.approx(2 * 5e-9 / 32)
