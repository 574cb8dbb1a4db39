"""Paired crops around an image's extreme pixels (``--extreme-crops``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from stmdenoise.training import TrainConfig
from stmdenoise.training.data import crop_around, extreme_pixel, paired_crop_and_augment


@pytest.mark.parametrize("point", [(0, 0), (3, 250), (128, 128), (255, 255), (200, 10)])
def test_crop_around_holds_the_point_anywhere_inside(point: tuple[int, int]) -> None:
    rng = np.random.default_rng(0)
    image = np.zeros((256, 256))
    corners = {crop_around(image, point, 96, rng) for _ in range(400)}
    for r, c in corners:
        assert 0 <= r <= 160 and 0 <= c <= 160  # inside the image
        assert r <= point[0] < r + 96 and c <= point[1] < c + 96  # the point is in the crop
    if point == (128, 128):
        assert len(corners) > 100  # not always the same place in the crop


def test_crop_around_a_point_of_an_image_smaller_than_the_crop() -> None:
    assert crop_around(np.zeros((40, 50)), (10, 20), 96, np.random.default_rng(0)) == (0, 0)


def test_extreme_pixel_is_the_peak_or_the_core() -> None:
    image = np.zeros((64, 64))
    image[5, 60], image[40, 7] = 3.0, -2.0
    rng = np.random.default_rng(1)
    seen = {extreme_pixel(image, rng) for _ in range(50)}
    assert seen == {(5, 60), (40, 7)}


def test_paired_crops_around_a_point_stay_aligned() -> None:
    rng = np.random.default_rng(2)
    clean = rng.normal(size=(128, 128)).astype(np.float32)
    clean[100, 20] = 9.0
    noisy = 2 * clean
    a, b = paired_crop_and_augment(clean, noisy, 32, rng, around=(100, 20))
    assert a.max() == 9.0 and np.array_equal(b, 2 * a)


def test_extreme_crops_is_validated(tmp_path: Path) -> None:
    assert (
        TrainConfig.from_dict(
            {"variant": "paired", "extreme_crops": 0.5, "out": str(tmp_path / "m")}
        ).sim.extreme_crops
        == 0.5
    )
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="extreme_crops"):
            TrainConfig.from_dict({"variant": "paired", "extreme_crops": bad})
    with pytest.raises(ValueError, match="extreme_crops"):
        TrainConfig.from_dict({"variant": "cyclegan", "extreme_crops": 0.5})  # no paired crops to place
