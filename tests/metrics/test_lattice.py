"""Hexagonal and square lattices: found where a scan shows one, not in noise or interference, and how
much an output keeps; none on the shared real scans (the do-no-harm check must not refuse them)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from stmdenoise.metrics.lattice import lattice_kept, lattices, removes


def _square_atoms(period: float, turn: float = 0.0, n: int = 256) -> np.ndarray:
    """Atoms (round bumps) on a square lattice: its peaks and their (1,1) harmonics; unit std."""
    y, x = np.mgrid[0:n, 0:n].astype(float)
    u, v = x * np.cos(turn) + y * np.sin(turn), -x * np.sin(turn) + y * np.cos(turn)
    k = 2 * np.pi / period
    atoms = np.exp(-2 * (1 - np.cos(k * u))) * np.exp(-2 * (1 - np.cos(k * v)))
    return np.asarray((atoms - atoms.mean()) / atoms.std())


def _waves(period: float, angles: tuple[float, ...], n: int = 256) -> np.ndarray:
    y, x = np.mgrid[0:n, 0:n].astype(float)
    k = 2 * np.pi / period
    return np.asarray(sum(np.cos(k * (x * np.cos(a) + y * np.sin(a))) for a in angles))


HEX = (0.2, 0.2 + np.pi / 3, 0.2 + 2 * np.pi / 3)


@pytest.mark.parametrize("period", [4.0, 7.5, 16.0, 40.0, 60.0])
def test_a_hexagonal_lattice_in_noise_is_found_at_its_period(period: float, rng: np.random.Generator) -> None:
    z = 0.5 * _waves(period, HEX) + rng.normal(size=(256, 256))
    found = lattices(z, 1e-10)
    assert len(found) == 1
    assert found[0].period_px == pytest.approx(period, rel=0.05)
    assert found[0].period_m == pytest.approx(period * 1e-10, rel=0.05)
    assert len(found[0].bins) >= 3 and found[0].ratio >= 30


def test_noise_interference_stripes_and_two_bare_waves_are_not_lattices(rng: np.random.Generator) -> None:
    noise = rng.normal(size=(256, 256))
    assert lattices(noise, 1e-10) == []
    stripes = 2.0 * _waves(6.0, (0.4,)) + 1.0 * _waves(9.0, (1.3,)) + noise  # two unrelated families
    assert lattices(stripes, 1e-10) == []
    crossed = 0.5 * _waves(8.0, (0.1, 0.1 + np.pi / 2)) + noise  # 90° apart, but no (1,1) harmonics
    assert lattices(crossed, 1e-10) == []


def test_no_lattice_is_looked_for_finer_than_a_tip_resolves(rng: np.random.Generator) -> None:
    z = 0.5 * _waves(5.0, HEX) + rng.normal(size=(256, 256))
    assert len(lattices(z, 1e-10)) == 1  # 5 Å
    assert lattices(z, 0.3e-10) == []  # 1.5 Å: under RESOLUTION
    assert len(lattices(z)) == 1  # no pixel size: only the 3 px floor


def test_what_an_output_keeps_of_each_lattice(rng: np.random.Generator) -> None:
    clean = 0.5 * _waves(7.5, HEX)
    z = clean + rng.normal(size=clean.shape)
    ((lat, blurred),) = lattice_kept(z, ndimage.gaussian_filter(z, 2.5), 1e-10)
    assert blurred < 0.05 and lat.period_px == pytest.approx(7.5, rel=0.05)
    assert removes(lat, blurred) and lat.snr > 30
    ((_, denoised),) = lattice_kept(z, clean, 1e-10)
    assert denoised > 0.9 and not removes(lat, denoised)
    assert lattice_kept(z, z[:-1], 1e-10) == []  # shapes differ: nothing to compare


def test_no_hexagon_in_any_shared_real_frame(shared_dir: Path) -> None:
    from stmdenoise.io import read_plain_image
    from stmdenoise.training.real_fidelity import two_direction_frames

    frames = [
        read_plain_image(p, nm_per_px=0.071)
        for p in sorted((shared_dir / "reference" / "cu111_ko_group" / "experimental").glob("*.jpg"))
    ]
    for path in sorted((shared_dir / "realdata").rglob("*")):
        if path.suffix in (".sxm", ".dat") and "corrupted" not in path.parts:
            try:
                pairs = two_direction_frames(path, ["Z", "Current"])
            except Exception:  # noqa: BLE001 - spectra (.dat) and unreadable files hold no frames
                continue
            frames += [s for _, f, b in pairs for s in (f, b)]
    assert len(frames) >= 20
    for scan in frames:
        px = None if scan.pixel_size is None else float(np.sqrt(scan.pixel_size[0] * scan.pixel_size[1]))
        assert lattices(scan.data, px) == [], scan.describe()


@pytest.mark.parametrize("amplitude", [0.15, 0.5, 2.0])
def test_the_surface_itself_is_never_taken_for_a_lattice_removed(amplitude: float) -> None:
    """The noise's cross term with the lattice makes ``kept`` of a perfect output scatter around 1;
    the margin of :func:`removes` must cover it at every signal-to-noise ratio."""
    clean = amplitude * _waves(7.5, HEX)
    for seed in range(12):
        z = clean + np.random.default_rng(seed).normal(size=clean.shape)
        assert len(lattice_kept(z, clean, 1e-10)) == 1
        for lat, kept in lattice_kept(z, clean, 1e-10):
            assert not removes(lat, kept), (seed, lat.snr, kept)
        for lat, kept in lattice_kept(z, ndimage.gaussian_filter(z, 1.5), 1e-10):
            assert removes(lat, kept), (seed, lat.snr, kept)  # a 1.5 px blur takes 45 % of its amplitude


@pytest.mark.parametrize("period", [5.0, 8.0, 12.0])
@pytest.mark.parametrize("turn", [0.0, 0.3])
def test_a_square_lattice_of_atoms_is_found_at_its_period(
    period: float, turn: float, rng: np.random.Generator
) -> None:
    z = 0.3 * _square_atoms(period, turn) + rng.normal(size=(256, 256))
    found = lattices(z, 1e-10)
    assert [lat.kind for lat in found][-1:] == ["square"]
    assert found[-1].period_px == pytest.approx(period, rel=0.05)  # the longest: the lattice itself
    assert len(found[-1].bins) == 2


@pytest.mark.parametrize("amplitude", [0.3, 1.0])
def test_a_square_lattice_removed_is_told_from_one_kept(amplitude: float) -> None:
    clean = amplitude * _square_atoms(8.0)
    for seed in range(8):
        z = clean + np.random.default_rng(seed).normal(size=clean.shape)
        kept = {lat.kind: (lat, k) for lat, k in lattice_kept(z, clean, 1e-10)}
        assert "square" in kept
        assert not removes(*kept["square"]), (seed, kept["square"])
        blurred = {lat.kind: (lat, k) for lat, k in lattice_kept(z, ndimage.gaussian_filter(z, 2.0), 1e-10)}
        assert removes(*blurred["square"]), (seed, blurred["square"])
