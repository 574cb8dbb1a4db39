"""Candidate DK: a band where what the judge delivers is further from the surface than the raw scan
(beyond twice the paired SE against the second look) gets the raw scan's content back, and the
verdict says so with the repaired output's figures."""

from __future__ import annotations

import numpy as np
import pytest

from stmdenoise.fallback import RESTORE_MARGIN, restore_bands
from stmdenoise.metrics.bands import SHARED_COLUMN, Band, BandSums, default_bands
from stmdenoise.metrics.registration import hann_window
from stmdenoise.processing.spectrum import band_passed
from stmdenoise.safety import judge
from stmdenoise.scan import Scan
from tests.test_safety import PX, _looks

WAVE = 9.0  # px: the 8-16 Å band at PX


def _weakened(seed: int, share: float = 0.4) -> tuple[Scan, Scan, Scan, np.ndarray]:
    """``_looks``'s pair and an output that is the surface (plus a little noise) with ``share`` of
    its 9 px wave taken out: close to the surface everywhere but in that band, where the second
    look shows what is missing."""
    fwd, bwd, s = _looks(seed, noise=1.0)
    x = np.arange(s.shape[1])[None, :]
    wave = 0.8 * np.sin(2 * np.pi * x / WAVE)
    out = fwd.with_data(s - share * wave + 0.05 * np.random.default_rng(9).normal(size=s.shape))
    return fwd, bwd, out, s


def _true(out: np.ndarray, s: np.ndarray, raw: np.ndarray) -> np.ndarray:
    """True error per band (then all) relative to raw's."""
    bands = BandSums(default_bands(PX, s.shape), s.shape, PX)
    w = hann_window(s.shape)
    err = bands.sums(np.abs(np.fft.fft2((out - s) * w)) ** 2)
    return np.asarray(err / bands.sums(np.abs(np.fft.fft2((raw - s) * w)) ** 2))


def test_a_band_the_output_took_out_where_the_look_shows_signal_is_restored_and_named() -> None:
    fwd, bwd, out, s = _weakened(1)
    delivered, v = judge(fwd, out, bwd)
    assert v.delivered == "model" and v.harmful is False  # the judge's own test keeps it...
    assert v.model is not None and v.model.bands[2].error > 1.0  # ... though it is above raw in 8-16 Å
    assert v.restored is not None and [d.band.label for d in v.restored.bands] == ["8-16 Å"]
    before = v.restored.bands[0]
    assert before.difference > 2 * before.se
    # the report given as delivered is the repaired output's: at raw's error in that band
    assert v.delivered_fidelity is v.restored.report
    assert v.restored.report.bands[2].error == pytest.approx(1.0, abs=0.02)
    assert v.restored.report.overall.error < v.model.overall.error
    # against the truth: back to raw's error in the band, the model's elsewhere
    true_model, true_delivered = (
        _true(np.asarray(out.data), s, np.asarray(fwd.data)),
        _true(np.asarray(delivered.data), s, np.asarray(fwd.data)),
    )
    assert true_model[2] > 1.3 and true_delivered[2] == pytest.approx(1.0, abs=0.05)
    assert true_delivered[0] < 0.05 and true_delivered[-1] < true_model[-1]
    # the words: in the notices, the summary and the provenance
    said = [n for n in v.notices if "raw scan's content is delivered there" in n]
    assert len(said) == 1 and "8-16 Å (+" in said[0] and "the model's output" in said[0]
    assert f"estimated error of what is delivered {v.restored.report.overall.error:.2f}x raw." in said[0]
    assert "raw content in 8-16 Å" in v.summary()
    written = delivered.steps[-1].params["restored_bands"]
    assert written == [{"band": "8-16 Å", "difference": before.difference, "se": before.se}]
    assert delivered.steps[-1].params["delivered_fidelity"]["bands"][2]["error"] == pytest.approx(
        1.0, abs=0.02
    )


def test_an_output_below_raw_in_every_band_is_delivered_as_it_is() -> None:
    fwd, bwd, out, _ = _weakened(1, share=0.1)
    delivered, v = judge(fwd, out, bwd)
    assert v.restored is None and np.array_equal(delivered.data, out.data)
    assert v.to_dict()["restored_bands"] is None and "raw content" not in v.summary()


def test_the_warn_and_off_policies_deliver_the_models_output_unrepaired() -> None:
    fwd, bwd, out, _ = _weakened(1)
    for policy in ("warn", "off"):
        delivered, v = judge(fwd, out, bwd, policy=policy)
        assert v.restored is None and np.array_equal(delivered.data, out.data)
    delivered, v = judge(fwd, out, bwd, policy="refuse")  # not harmful: kept, and repaired
    assert v.restored is not None and not np.array_equal(delivered.data, out.data)


def test_restoring_touches_the_complete_rows_only_and_keeps_nan_rows() -> None:
    fwd, _, out, _ = _weakened(1)
    raw = np.asarray(fwd.data).copy()
    raw[150:] = np.nan  # an interrupted scan: its last rows unmeasured
    made = np.asarray(out.data).copy()
    made[150:] = np.nan
    band = Band(16e-10, 8e-10)
    fixed = restore_bands(out.with_data(made), fwd.with_data(raw), [band])
    assert np.isnan(fixed.data[150:]).all() and np.isfinite(fixed.data[:150]).all()
    # what changed is the raw scan's content in that band (and the margin), nothing else
    change = np.asarray(fixed.data[:150]) - made[:150]
    residual = raw[:150] - made[:150]
    lo, hi = PX / band.long - RESTORE_MARGIN / 150, PX / band.short + RESTORE_MARGIN / 150
    assert np.allclose(change, band_passed(residual, [(lo, hi)], column=SHARED_COLUMN / 192))
    assert np.abs(change).max() > 0.1
    with pytest.raises(ValueError, match="pixel size"):
        restore_bands(out, Scan(raw), [band])


def test_band_passed_keeps_the_frequencies_asked_for_and_refuses_nan() -> None:
    n = np.arange(32) + 0.5  # cosines about the pixel edges: pure under the mirroring
    fine, middle, broad = (np.cos(2 * np.pi * f * n) for f in (0.375, 0.25, 1 / 16))  # cycles per pixel
    image = np.tile(fine + middle + broad, (32, 1))
    assert np.allclose(band_passed(image, [(0.2, 0.3)]), middle, atol=1e-9)  # 0.25 cycles per pixel alone
    assert np.allclose(band_passed(image, [(0.2, 0.3), (0.0, 0.07)]), middle + broad, atol=1e-9)
    assert np.allclose(band_passed(image + 5.0, [(0.0, 0.6)]), image, atol=1e-9)  # never the mean
    with pytest.raises(ValueError, match="finite"):
        band_passed(np.full((4, 4), np.nan), [(0.1, 0.2)])


def test_the_shared_column_keeps_the_outputs_own_content() -> None:
    fwd, bwd, out, _ = _weakened(1)
    delivered, v = judge(fwd, out, bwd)
    assert v.restored is not None
    change = np.asarray(delivered.data) - np.asarray(out.data)
    # kx = 0 (what is constant along each line) is not touched: every line's mean stays the output's
    assert np.abs(change.mean(axis=1)).max() < 1e-9 < np.abs(change).max()
    assert "slow noise along the lines" in v.notices[-1]


def test_an_excess_in_the_shared_column_alone_is_not_named() -> None:
    """Line offsets both directions record alike count as surface to the estimate: an output that
    removes them reads as further from the surface in the whole band, but not outside the column,
    which is where the judge looks (:func:`stmdenoise.fallback.above_raw`)."""
    from stmdenoise.fallback import above_raw, raw_bands
    from stmdenoise.metrics.fidelity import PairedLooks

    fwd, bwd, s = _looks(4, noise=1.0)
    offsets = 0.5 * np.random.default_rng(11).normal(size=(s.shape[0], 1))  # the same in both looks
    fwd, bwd = fwd.with_data(np.asarray(fwd.data) + offsets), bwd.with_data(np.asarray(bwd.data) + offsets)
    out = fwd.with_data(s + 0.05 * np.random.default_rng(9).normal(size=s.shape))  # the surface: offsets gone
    paired = PairedLooks([out, fwd], fwd, bwd, bands=raw_bands(fwd))
    reps = paired.reports()
    whole = [
        d.band.label
        for d, b in zip(paired.difference(0, 1)[:-1], reps[1].bands, strict=True)
        if b.coherent >= 0.05 and d.difference > 2 * d.se
    ]
    assert whole == ["16-32 Å"]  # the whole-band test names the band the offsets fill...
    assert above_raw(paired, reps, 0, 1) == []  # ... the judge's, outside the column, does not
    # what it would restore there is nothing of the offsets: every line keeps the output's mean
    fixed = restore_bands(out, fwd, [Band(32e-10, 16e-10)])
    assert np.allclose(np.asarray(fixed.data).mean(axis=1), np.asarray(out.data).mean(axis=1))


@pytest.mark.parametrize(
    ("shape", "pixel", "nan_rows"),
    [
        ((40, 200), (1e-10, 1e-10), ()),
        ((200, 40), (2e-10, 1e-10), (0, 1, 199)),
        ((96, 96), (1e-10, 3e-10), (50,)),
    ],
)
def test_restoring_any_shape_pixel_and_gaps_keeps_what_was_unmeasured(
    shape: tuple[int, int], pixel: tuple[float, float], nan_rows: tuple[int, ...]
) -> None:
    rng = np.random.default_rng(sum(shape))
    raw = rng.normal(size=shape)
    out = 0.5 * raw
    raw[list(nan_rows)] = np.nan
    out[list(nan_rows)] = np.nan
    scan = Scan(raw, pixel_size=pixel, channel="Z")
    fixed = np.asarray(restore_bands(scan.with_data(out), scan, [Band(8 * 1.5e-10, 4 * 1.5e-10)]).data)
    assert np.array_equal(np.isnan(fixed), np.isnan(out))  # nothing measured appears, nothing is lost
    changed = np.flatnonzero(np.any(np.abs(np.nan_to_num(fixed - out)) > 1e-12, axis=1))
    assert changed.size  # the band was put back somewhere...
    from stmdenoise.metrics._input import scored_rows

    rows = scored_rows(raw)  # ... on the longest run of complete rows only
    assert rows.start <= changed.min() and changed.max() < rows.stop


def test_band_passed_is_the_fft_of_the_mirrored_image_that_bench_restore_compares_it_with() -> None:
    """``band_passed`` works through the DCT-II; ``bench/bench_restore.py``'s baseline builds the
    image mirrored to twice its size and masks its FFT: the same numbers, on odd and even sides
    (band edges off the bins: on a bin, the two compute that frequency to different last digits)."""
    from tests.bench_loader import load_bench

    bench = load_bench("bench_restore")
    rng = np.random.default_rng(4)
    for shape in ((33, 70), (64, 64), (90, 31)):
        a = rng.normal(size=shape)
        for ranges, column in (
            ([(0.0513, 0.1187)], 1.0 / shape[1]),
            ([(0.2013, 0.2987), (0.0, 0.0413)], 0.0),
        ):
            mirrored = bench.mirrored_band(a, ranges, column)
            assert np.allclose(band_passed(a, ranges, column=column), mirrored, atol=1e-12)
    fwd, bwd, out = bench.weakened_pair(64)
    assert fwd.shape == bwd.shape == out.shape == (64, 64)
