"""PIQE and BRISQUE against the published MATLAB / LIVE values on the TID2013 calibration set."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from stmdenoise.metrics import brisque, piqe

IMAGES = ["I03.bmp", "I04.bmp", "I06.bmp", "I08.bmp", "I19.bmp"]


def rgb2gray_matlab(path: Path) -> NDArray[np.uint8]:
    """MATLAB's rgb2gray on uint8: 0.298936 R + 0.587043 G + 0.114021 B, rounded half up."""
    rgb = np.asarray(Image.open(path).convert("RGB"), dtype=np.float64)
    return np.floor(rgb @ np.array([0.298936, 0.587043, 0.114021]) + 0.5).astype(np.uint8)


@pytest.fixture(scope="module")
def reference(shared_dir: Path) -> dict[str, dict[str, str]]:
    iqa = shared_dir / "iqa"
    if not (iqa / "REFERENCE.tsv").is_file():
        pytest.skip(f"{iqa / 'REFERENCE.tsv'} is absent: the IQA calibration set is not beside this checkout")
    with open(iqa / "REFERENCE.tsv", newline="") as fh:
        return {row["image"]: row for row in csv.DictReader(fh, delimiter="\t")}


@pytest.fixture(scope="module")
def grey_images(shared_dir: Path) -> dict[str, NDArray[np.uint8]]:
    return {name: rgb2gray_matlab(shared_dir / "iqa" / name) for name in IMAGES}


@pytest.mark.parametrize("name", IMAGES)
def test_piqe_reproduces_matlab(name: str, reference: dict[str, dict[str, str]], grey_images: dict) -> None:
    assert piqe(grey_images[name]) == pytest.approx(float(reference[name]["matlab_piqe"]), abs=0.01)


@pytest.mark.parametrize("name", ["I03.bmp", "I04.bmp", "I06.bmp", "I08.bmp"])
def test_brisque_reproduces_live_release(
    name: str, reference: dict[str, dict[str, str]], grey_images: dict
) -> None:
    expected = float(reference[name]["live_brisquescore_m"])
    assert brisque(grey_images[name]) == pytest.approx(expected, abs=0.2)


def test_brisque_i19_stays_near_live_value(reference: dict[str, dict[str, str]], grey_images: dict) -> None:
    # I19's flat patches make the AGGD fits depend on round-off (docs/metrics.md); we sit 1.5
    # below the LIVE value (70.76 vs 72.26), where the best open ports are 5-8 points off.
    expected = float(reference["I19.bmp"]["live_brisquescore_m"])
    assert brisque(grey_images["I19.bmp"]) == pytest.approx(expected, abs=2.0)
