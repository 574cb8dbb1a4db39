"""Hexagonal, square and rectangular lattices: found where a scan shows one, not in noise or
interference, and how much an output keeps; on the shared real scans only the one real lattice
there (the do-no-harm check must not refuse the others)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from stmdenoise.metrics.lattice import lattice_kept, lattices, removes
from tests.lattice_scenes import atoms as _square_atoms


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


def test_no_lattice_in_any_shared_real_frame_but_the_molecular_network(shared_dir: Path) -> None:
    """The Ko Cu(111) frames (about 90 interference peaks each) and every shared scan show no
    lattice, except the forward current of the ordered molecular network (STM_nanonis_generic_4_5),
    an oblique lattice whose reciprocal vectors include a pair 90° apart: a real one."""
    from stmdenoise.io import read_plain_image
    from stmdenoise.training.real_fidelity import two_direction_frames

    frames = [
        ("ko", read_plain_image(p, nm_per_px=0.071))
        for p in sorted((shared_dir / "reference" / "cu111_ko_group" / "experimental").glob("*.jpg"))
    ]
    for path in sorted((shared_dir / "realdata").rglob("*")):
        if path.suffix in (".sxm", ".dat") and "corrupted" not in path.parts:
            try:
                pairs = two_direction_frames(path, ["Z", "Current"])
            except Exception:  # noqa: BLE001 - spectra (.dat) and unreadable files hold no frames
                continue
            frames += [(path.name, s) for _, f, b in pairs for s in (f, b)]
    assert len(frames) >= 20
    found = {}
    for name, scan in frames:
        px = None if scan.pixel_size is None else float(np.sqrt(scan.pixel_size[0] * scan.pixel_size[1]))
        if got := lattices(scan.data, px):
            found[(name, scan.channel, scan.direction)] = got
    assert list(found) == [("STM_nanonis_generic_4_5.sxm", "Current", "forward")]
    (network,) = next(iter(found.values()))
    assert network.kind == "rectangular" and network.describe() == "4.65 x 4 Å"


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


@pytest.mark.parametrize(("period", "short"), [(15.36, 7.68), (8.0, 5.0), (12.0, 6.0)])
@pytest.mark.parametrize("turn", [0.0, 0.2])
def test_a_rectangular_lattice_of_atoms_is_found_with_its_two_sides(
    period: float, short: float, turn: float, rng: np.random.Generator
) -> None:
    """Si(100)-2x1-like dimer rows (7.68 x 3.84 Å at 0.5 Å/px) and other rectangles, 0.3x the noise:
    neither six peaks at one |k| nor four, but two 90° apart with their harmonics."""
    z = 0.3 * _square_atoms(period, turn, short=short) + rng.normal(size=(256, 256))
    rect = [lat for lat in lattices(z, 1e-10) if lat.kind == "rectangular"]
    assert rect, lattices(z, 1e-10)
    best = min(rect, key=lambda lat: abs(lat.period_px - period))
    assert best.period_px == pytest.approx(period, rel=0.05)
    assert best.short_px == pytest.approx(short, rel=0.05)


@pytest.mark.parametrize(("period", "short"), [(12.0, 7.0), (9.0, 4.5)])
def test_two_unrelated_waves_at_right_angles_are_not_a_lattice(
    period: float, short: float, rng: np.random.Generator
) -> None:
    """Two interference stripes 90° apart add; they make no harmonics k1 ± k2 (atoms multiply)."""
    y, x = np.mgrid[0:256, 0:256].astype(float)
    stripes = np.cos(2 * np.pi * x / period) + np.cos(2 * np.pi * (y + 0.3 * x) / short / np.hypot(1, 0.3))
    assert lattices(0.5 * stripes + rng.normal(size=(256, 256)), 1e-10) == []


def test_a_rectangular_lattice_removed_is_told_from_one_kept(rng: np.random.Generator) -> None:
    clean = 0.3 * _square_atoms(15.36, 0.2, short=7.68)
    z = clean + rng.normal(size=clean.shape)
    kept = [(lat, k) for lat, k in lattice_kept(z, clean, 1e-10) if lat.kind == "rectangular"]
    assert kept and not any(removes(lat, k) for lat, k in kept)
    blurred = [(lat, k) for lat, k in lattice_kept(z, ndimage.gaussian_filter(z, 2.5), 1e-10)]
    assert blurred and all(removes(lat, k) for lat, k in blurred)


def test_the_peak_search_reads_local_maxima_as_a_maximum_filter_would() -> None:
    """The 5 x 5 local-maximum test read at chosen bins only equals the wrapped maximum filter over
    the whole spectrum, at the corners and edges too (the spectrum wraps) and with ties."""
    from stmdenoise.metrics.lattice import _local_maxima

    rng = np.random.default_rng(3)
    power = rng.exponential(size=(37, 50))
    power[0, 0] = power[36, 49] = power[0, 48] = 50.0  # neighbours across the wrap: ties
    power[10, 10] = power[11, 11] = 60.0  # two maxima of one neighbourhood, tied
    bins = np.argwhere(np.ones(power.shape, dtype=bool))
    want = (power == ndimage.maximum_filter(power, 5, mode="wrap"))[bins[:, 0], bins[:, 1]]
    got = _local_maxima(power, bins)
    assert want.sum() > 10 and np.array_equal(got, want)
    assert got[0] and got[10 * 50 + 10] and got[11 * 50 + 11]
    assert _local_maxima(power, bins[:0]).shape == (0,)
