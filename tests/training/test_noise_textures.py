"""Real scans' noise textures (stmdenoise.training.noise_textures) and train-gain --noise-textures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import ndimage

from stmdenoise.model.spectral_gain import GainFeatures
from stmdenoise.scan import Scan
from stmdenoise.training.noise_textures import noise_texture, scan_textures, textured_noise
from stmdenoise.training.spectral_gain import sim_examples

PX = 0.1e-9
K = np.hypot(np.fft.fftfreq(128)[:, None], np.fft.fftfreq(128)[None, :])


def _slow_noise(rng: np.random.Generator, n: int) -> np.ndarray:
    """Noise with most of its power at long periods (as real scans' is), plus a white floor."""
    return ndimage.gaussian_filter(rng.normal(size=(n, n)), 6) * 20 + rng.normal(size=(n, n))


def _pair(seed: int = 0, header: dict[str, str] | None = None, channel: str = "Z") -> tuple[Scan, Scan]:
    rng = np.random.default_rng(seed)
    n = 128
    surface = ndimage.gaussian_filter(rng.normal(size=(n, n)), 3) * 40
    f, b = surface + _slow_noise(rng, n), surface + _slow_noise(rng, n)
    unit = "A" if channel == "Current" else "m"
    fwd = Scan(1e-12 * f, pixel_size=(PX, PX), channel=channel, unit=unit, header=header or {})
    return fwd, fwd.with_data(1e-12 * b, direction="backward")


def _long_over_short(power: np.ndarray) -> float:
    return float(power[(K > 0) & (K < 0.05)].mean() / power[K > 0.3].mean())


def test_a_texture_is_the_colour_of_the_two_directions_difference_not_of_the_surface() -> None:
    fwd, bwd = _pair()
    texture = noise_texture(fwd, bwd)
    assert texture.sum() == pytest.approx(1.0) and texture[0, 0] == 0.0 and texture.min() >= 0.0
    noise_only = _slow_noise(np.random.default_rng(5), 128)
    assert _long_over_short(texture) == pytest.approx(
        _long_over_short(np.abs(np.fft.fft2(noise_only)) ** 2), rel=0.5
    )
    # the surface (the same in both frames) is not in it: more surface changes nothing
    more = 1e-12 * ndimage.gaussian_filter(np.random.default_rng(9).normal(size=(128, 128)), 3) * 400
    louder = fwd.with_data(np.asarray(fwd.data) + more), bwd.with_data(np.asarray(bwd.data) + more)
    np.testing.assert_allclose(noise_texture(*louder), texture, atol=1e-12)


def test_textured_noise_keeps_the_colour_with_a_fresh_phase_each_draw() -> None:
    texture = noise_texture(*_pair())
    a, b = (textured_noise(texture, (128, 128), np.random.default_rng(s)) for s in (0, 1))
    assert a.std() == pytest.approx(1.0) and abs(np.corrcoef(a.ravel(), b.ravel())[0, 1]) < 0.2
    assert _long_over_short(np.abs(np.fft.fft2(a)) ** 2) > 20
    # any shape: the texture is read in cycles per pixel
    assert textured_noise(texture, (40, 300), np.random.default_rng(2)).shape == (40, 300)


def test_feedback_error_currents_and_unregistrable_pairs_give_no_texture() -> None:
    z = ("a Z", *_pair(0))
    current = ("a Current", *_pair(1, header={"Z-Controller>Controller status": "ON"}, channel="Current"))
    flat = Scan(np.zeros((64, 64)), pixel_size=(PX, PX), channel="Z", unit="m")
    blank = ("blank Z", flat, flat.with_data(np.zeros((64, 64)), direction="backward"))
    assert [name for name, _ in scan_textures([z, current, blank])] == ["a Z"]
    assert [name for name, _ in scan_textures([current], skip_feedback_error=False)] == ["a Current"]


def _arrays(examples: list[Any]) -> list[dict[str, np.ndarray]]:
    return [{k: np.asarray(v) for k, v in e.items()} for e in examples]


def test_noise_textures_add_noise_to_the_noisy_images_of_a_share_of_the_same_pairs() -> None:
    texture = noise_texture(*_pair())
    plain = _arrays(sim_examples(2, 7, GainFeatures()))
    none = _arrays(sim_examples(2, 7, GainFeatures(), textures=[texture], texture_share=0.0))
    textured = _arrays(sim_examples(2, 7, GainFeatures(), textures=[texture], texture_share=0.5))
    for a, b in zip(plain, none, strict=True):  # share 0: the pairs of old, bit for bit
        assert all(np.array_equal(a[k], b[k]) for k in a)
    assert all(np.array_equal(plain[0][k], textured[0][k]) for k in plain[0])  # every second pair
    # what the gain must remove (noisy minus clean, levelled alike) grows by the added noise, at
    # the pair's own noise level
    own = plain[1]["X"] - plain[1]["T"]
    added = np.sum((textured[1]["X"] - textured[1]["T"] - own) ** 2)
    assert 0.2 * np.sum(own**2) < added < 5 * np.sum(own**2)
    with pytest.raises(ValueError, match="texture_share"):
        sim_examples(1, 7, GainFeatures(), textures=[texture], texture_share=1.5)
    with pytest.raises(ValueError, match="at least one noise texture"):
        sim_examples(1, 7, GainFeatures(), texture_share=0.5)


def test_train_gain_says_why_it_cannot_take_noise_textures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from stmdenoise.cli.main import main

    out = tmp_path / "never-written"
    assert main(["train-gain", str(tmp_path / "x.sxm"), "--out", str(out), "--noise-textures", "2"]) == 2
    assert "--noise-textures must be a share between 0 and 1" in capsys.readouterr().err
    assert main(["train-gain", "--out", str(out), "--texture-scan", str(tmp_path)]) == 2
    assert "--texture-scan needs --noise-textures" in capsys.readouterr().err
    empty = tmp_path / "nothing-here"
    empty.mkdir()
    code = main(["train-gain", "--out", str(out), "--noise-textures", "0.5", "--texture-scan", str(empty),
                 "--steps", "1", "--sim-pairs", "1", "--holdout", "0", "--quiet"])  # fmt: skip
    assert code == 2 and "no noise texture" in capsys.readouterr().err
    assert not out.exists()
