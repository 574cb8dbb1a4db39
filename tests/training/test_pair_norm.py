"""Pair normalisation: a clean target in its noisy twin's units, the units the Denoiser works in."""

from __future__ import annotations

import numpy as np
import pytest

from stmdenoise.model.folder import NormalizationSpec
from stmdenoise.processing import robust_normalize
from stmdenoise.training import TrainConfig
from stmdenoise.training.data import OnTheFlySim, _Norm, _PairNorm


def _pair(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:64, 0:64]
    clean = 1e-11 * np.cos(xx / 3.0) + 3e-12 * yy / 64
    noisy = clean + 2e-11 * rng.standard_normal(clean.shape)
    return clean, noisy


def test_clean_target_uses_the_noisy_images_statistics() -> None:
    clean, noisy = _pair()
    pn = _PairNorm(0.5, 99.5, 0.8, 0.25, level=False)
    c, n = pn(clean, noisy)
    spec = NormalizationSpec(low_pct=0.5, high_pct=99.5, scale=0.8, squash=0.25)
    _, norm = robust_normalize(noisy)
    # the inverse the Denoiser applies to the network's output (noisy stats) returns the clean map
    np.testing.assert_allclose(norm.invert(spec.inverse(c)), clean, atol=1e-16)
    np.testing.assert_allclose(norm.invert(spec.inverse(n)), noisy, atol=1e-16)
    # the clean target keeps its true, smaller contrast relative to the noisy input
    assert np.std(c) < 0.7 * np.std(n)
    # own-statistics normalisation stretches it to the noisy input's range instead
    own = _Norm(0.5, 99.5, 0.8, 0.25)(clean)
    assert np.std(own) > 0.9 * np.std(n)


def test_pair_norm_levels_both_images_before_normalising() -> None:
    clean, noisy = _pair()
    tilt = 5e-10 * np.mgrid[0:64, 0:64][1] / 64
    c0, n0 = _PairNorm(0.5, 99.5, 0.8, 0.25, level=True)(clean, noisy)
    c1, n1 = _PairNorm(0.5, 99.5, 0.8, 0.25, level=True)(clean + tilt, noisy + tilt)
    np.testing.assert_allclose(c1, c0, atol=1e-5)
    np.testing.assert_allclose(n1, n0, atol=1e-5)


def test_on_the_fly_source_uses_the_pair_normaliser() -> None:
    from stmdenoise.physics import sample_pair

    kw = dict(
        seed=1,
        pixels=48,
        size=48 * 0.14e-9,
        preset="typical",
        pool=2,
        refresh=1,
        normalise=_Norm(0.5, 99.5, 0.8, 0.25),
    )
    own = OnTheFlySim(sample_pair, **kw)  # type: ignore[arg-type]
    paired = OnTheFlySim(sample_pair, normalise_pair=_PairNorm(0.5, 99.5, 0.8, 0.25, level=False), **kw)  # type: ignore[arg-type]
    np.testing.assert_allclose(own.pair(0)[1], paired.pair(0)[1], atol=1e-6)  # noisy: same either way
    assert not np.allclose(own.pair(0)[0], paired.pair(0)[0], atol=1e-3)


def test_config_rejects_an_unknown_pair_norm(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="pair_norm"):
        TrainConfig.from_dict({"variant": "cyclegan", "pair_norm": "clean", "out": str(tmp_path / "m")})
