"""bench/other_surfaces.py: its surfaces are what its docstring says; one case runs end to end."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from stmdenoise.training.noise_textures import textured_noise
from tests.bench_loader import load_bench

other = load_bench("other_surfaces")


def test_the_hysteresis_scanner_displaces_trace_and_retrace_oppositely() -> None:
    xf, yf = other.positions(64, 0.5, 1.0, 1.5, True)
    xb, yb = other.positions(64, 0.5, 1.0, 1.5, False)
    assert np.array_equal(yf, yb)
    gap = (xf - xb)[0] / 0.5  # pixels
    assert gap[0] == pytest.approx(2.0) and gap[-1] == pytest.approx(2.0)
    assert gap.max() == pytest.approx(2 * (1.0 + 1.5), abs=0.01)  # mid-line: lag plus hysteresis
    ideal = other.positions(64, 0.5, 0.0, 0.0, True)[0]
    assert np.array_equal(ideal, other.positions(64, 0.5, 0.0, 0.0, False)[0])


def test_the_7x7_like_surface_has_adatoms_and_corner_holes_on_their_lattices() -> None:
    img = other.si7x7(160.0, np.random.default_rng(0))
    inner = img[40:-40, 40:-40]  # 10 Å from the edges, as the bench's margin keeps the scan
    assert inner.max() == pytest.approx(0.8, abs=0.1) and inner.min() < -0.9
    # the strongest periods: the corner holes' rows (26.88 Å lattice: 23.3 Å) and the adatoms'
    # (7.68 Å: 6.65 Å)
    f = np.abs(np.fft.fft2(img - img.mean())) ** 2
    k = np.hypot(*np.meshgrid(np.fft.fftfreq(img.shape[0]), np.fft.fftfreq(img.shape[1]), indexing="ij"))
    f[k < 1 / 400] = 0
    top = {round(float(other.FINE / k.flat[i]), 1) for i in np.argsort(f.ravel())[::-1][:12]}
    assert any(p == pytest.approx(26.88 * math.sqrt(3) / 2, rel=0.06) for p in top)
    assert any(p == pytest.approx(7.68 * math.sqrt(3) / 2, rel=0.04) for p in top)


def test_one_case_runs_through_the_checked_path_with_the_truth() -> None:
    from stmdenoise.denoise import Denoiser, default_model_dir

    den = Denoiser.from_folder(default_model_dir(), device="cpu")
    row = other.run_case(den, "si7x7", 1.0, 1.0, "ideal", 5000, 128)
    assert 0.0 < row["model_true"][0] < 0.5 and 0.0 < row["delivered_true"][0] <= 1.0
    assert row["oracle_sigma"] in other.ORACLE_SIGMAS and math.isfinite(row["model_est"])
    assert len(row["model_true"]) == 1 + len(row["bands"])
    # the ideal scanner's looks sit at one offset; noise-free, the registration finds it
    assert row["clean_offset"] == [0.0, 0.0] and math.isfinite(row["model_est_clean_offset"])
    text = other.summary([row])
    assert "cases" in text and "Registration of the backward frame" in text
    assert row["scars_named"] == 0 and "Scars named by the verdict (none drawn here): 0 of 1" in text
    assert row["seams_named"] is False and "Seams named by the verdict: 0 of 1 cases" in text
    # the judge's choice against the truth: a delivered output further than the closest choice
    assert "The judge against the truth:" in text
    overall = {"model_true": 0.1, "single_true": 0.3, "oracle_true": 0.2, "delivered_true": 0.3}
    wrong = {**row, **{k: [v, *row[k][1:]] for k, v in overall.items()}, "delivered": "model, single frame"}
    judged = other._judge_summary([wrong, {**wrong, "delivered_true": [0.1]}])
    assert "mean +0.1000; more than 0.005 on 1 of 2 cases; worst +0.2000 (si7x7, 1 Å/px" in judged
    assert "model, single frame delivered)" in judged
    seamed = other.summary([{**row, "seams_named": True, "model_seam": 4.25}, row])
    assert (
        "Seams named by the verdict: 1 of 2 cases; largest band-boundary ratio of a model output 4.2"
        in seamed
    )
    # the strict per-band test against the raw frame, read against the truth
    for family in ("model", "delivered"):
        paired = row[f"{family}_vs_raw"]
        assert len(paired) == len(row["bands"])
        assert all(len(b) == 5 and b[1] >= 0 and b[4] >= 0 for b in paired)
    assert "The strict test (above raw beyond 2 paired SE" in text and "model named in" in text
    # named over the whole band in every band, outside the column in none
    flagged = {**row, "model_vs_raw": [[1.0, 0.1, 1.0, 0.05, 0.1]] * len(row["bands"]),
               "model_true": [0.5] + [2.0] + [0.5] * (len(row["bands"]) - 1),
               "signal_bands": [True] * len(row["bands"])}  # fmt: skip
    said = other.summary([flagged])
    n = len(row["bands"])
    assert f"over whole bands: model named in {n} (case, band), 1 confirmed, 0 missed" in said
    assert "outside the shared column: model named in 0 (case, band), 0 confirmed, 1 missed" in said


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        *(("--noise", v, "--noise must be positive numbers") for v in ("", "0,1", "-1", "x", "nan")),
        *(
            ("--surfaces", v, "--surfaces must name some of si7x7, moire, terrace, si100")
            for v in ("", "si7x7,cu111", "x")
        ),
        *(("--pixel-sizes", v, "--pixel-sizes must be") for v in ("x", "0", "-1", "nan", "50")),
        # a surface's seeds stay its own: with 2 draws, an offset of 99 would reach the next surface's
        *(("--seed-offset", v, "--seed-offset must be 0 to") for v in ("-1", "99")),
    ],
)
def test_bad_options_are_refused_with_their_reason(
    option: str, value: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        other.main([option, value])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_the_si100_like_surface_has_dimer_rows_on_a_rectangular_cell() -> None:
    """Its strongest periods: the dimer rows (7.68 Å across) and the dimers along them (3.84 Å), 90° apart."""
    img = other.si100(160.0, np.random.default_rng(3))
    f = np.abs(np.fft.fft2(img - img.mean())) ** 2
    ky, kx = np.meshgrid(np.fft.fftfreq(img.shape[0]), np.fft.fftfreq(img.shape[1]), indexing="ij")
    k = np.hypot(ky, kx)
    f[k < 1 / 400] = 0
    f[ky < 0] = 0  # one of each mirror pair
    order = np.argsort(f.ravel())[::-1]
    rows, dimers = order[0], next(i for i in order if abs(other.FINE / k.flat[i] - 3.84) < 0.15)
    assert other.FINE / k.flat[rows] == pytest.approx(7.68, rel=0.04)
    angle = math.degrees(
        math.atan2(ky.flat[rows], kx.flat[rows]) - math.atan2(ky.flat[dimers], kx.flat[dimers])
    )
    assert abs(angle) % 180 == pytest.approx(90, abs=3)


def test_a_quiet_single_frame_is_counted_as_declined_not_as_a_lattice() -> None:
    from stmdenoise.denoise import Denoiser, default_model_dir

    den = Denoiser.from_folder(default_model_dir(), device="cpu")
    row = other.run_case(den, "si100", 1.0, 0.4, "ideal", 5300, 256)  # adjacent lines repeat the dimers
    assert row["single_path"] == "declined" and row["single_delivered"] == "raw"
    assert "declined a quiet frame" in other.summary([row]) and "quiet frame" in other._table([row])


@pytest.mark.realdata
def test_real_noise_textures_have_the_real_scans_colour_and_a_fresh_phase(realdata_dir: Path) -> None:
    """--noise-texture real: each source's noise (forward minus its registered backward look) is far
    more coloured than white noise (real scans: 57-900x more power per bin at |k| < 0.05 than above
    0.3 cycles/px), and every draw is new noise of that colour, not a copy of the scan."""
    k = np.hypot(np.fft.fftfreq(128)[:, None], np.fft.fftfreq(128)[None, :])
    for source in other.REAL_NOISE_SOURCES:
        spectrum = other.real_noise_spectrum(str(realdata_dir), *source)
        assert spectrum.sum() == pytest.approx(1.0) and spectrum[0, 0] == 0.0
        a, b = (textured_noise(spectrum, (128, 128), np.random.default_rng(s)) for s in (0, 1))
        assert a.std() == pytest.approx(1.0) and abs(np.corrcoef(a.ravel(), b.ravel())[0, 1]) < 0.2
        power = np.abs(np.fft.fft2(a)) ** 2
        assert power[(k > 0) & (k < 0.05)].mean() > 20 * power[k > 0.3].mean(), source
    clean, fwd, bwd = other.make_case(
        "terrace", 1.0, 0.4, "ideal", 5200, 128, (str(realdata_dir), *other.REAL_NOISE_SOURCES[0])
    )
    assert (fwd - clean).std() == pytest.approx(0.4 * clean.std(), rel=1e-6)


def test_pixel_sizes_replace_each_surfaces_own(tmp_path: Path) -> None:
    """An overview-like Si(111)-7x7 at 2 Å per pixel, where the surface's own sizes are 0.5 and 1."""
    args = ["--seeds", "1", "--pixels", "128", "--noise", "1", "--scanners", "ideal", "--surfaces", "si7x7"]
    assert other.main([*args, "--pixel-sizes", "2", "--out", str(tmp_path)]) == 0
    rows = json.loads((tmp_path / "other_surfaces.json").read_text())
    assert [r["px_A"] for r in rows] == [2.0] and rows[0]["surface"] == "si7x7"


def test_the_frames_alone_comparison_counts_what_changed() -> None:
    """bench/other_surfaces_compare.py: means, the 0.005 and strict above-raw counts, the changed
    frames, and a repaired frame delivered raw; two runs of different cases are refused."""
    compare = load_bench("other_surfaces_compare")

    def row(seed: int, errors: list[float], delivered: str = "model") -> dict[str, object]:
        return {
            "surface": "si7x7", "px_A": 1.0, "noise": 0.4, "scanner": "ideal", "seed": seed,
            "noise_texture": "constructed", "single_delivered_true": errors,
            "signal_bands": [True, False], "single_delivered": delivered,
        }  # fmt: skip

    before = [row(1, [0.30, 1.000, 2.0]), row(2, [0.20, 1.003, 0.5]), row(3, [0.10, 0.5, 0.5])]
    after = [row(1, [0.25, 0.900, 2.0]), row(2, [0.20, 1.003, 0.5]), row(3, [1.00, 1.0, 1.0], "raw")]
    text = compare.compare(before, after)
    assert "0.2000 -> 0.4833" in text
    assert "by more than 0.005: 0 -> 0 (strictly 1 -> 1)" in text
    assert "Changed: 2, closer 1; largest increase +0.90000;" in text
    assert "delivered repaired before and raw after: 1" in text
    assert "| si7x7 | 1 | 0.4 | ideal | 1 | 0.3000 | 0.2500 | 1.00>0.90* 2.00>2.00 |" in text
    with pytest.raises(ValueError, match="different cases"):
        compare.compare(before, after[:2] + [row(4, [0.1, 0.5, 0.5])])


def test_the_two_direction_comparison_reads_what_is_delivered_with_the_partner() -> None:
    """``--two-direction``: the same counts over ``delivered_true``, and the cases whose delivered
    output changed kind (the model's, a fallback's)."""
    compare = load_bench("other_surfaces_compare")

    def row(seed: int, errors: list[float], delivered: str) -> dict[str, object]:
        return {
            "surface": "sparse", "px_A": 1.0, "noise": 0.4, "scanner": "ideal", "seed": seed,
            "noise_texture": "constructed", "delivered_true": errors, "delivered": delivered,
            "single_delivered_true": [0.5, 0.5, 0.5], "single_delivered": "model",
            "signal_bands": [True, True],
        }  # fmt: skip

    before = [row(1, [0.60, 0.9, 1.02], "model"), row(2, [0.20, 0.5, 0.5], "model")]
    after = [row(1, [0.40, 0.5, 0.8], "total variation 4"), row(2, [0.20, 0.5, 0.5], "model")]
    text = compare.compare(before, after, two_direction=True)
    assert text.startswith(
        "2 two-direction scans. Mean true error of what is delivered (raw = 1): 0.4000 -> 0.3000."
    )
    assert "by more than 0.005: 1 -> 0" in text
    assert "changed kind on 1 (model -> total variation 4)" in text
    assert "| sparse | 1 | 0.4 | ideal | 1 | 0.6000 | 0.4000 | 0.90>0.50* 1.02>0.80* |" in text
    assert "0.5000 -> 0.5000" in compare.compare(before, after)  # the frames alone: unchanged


@pytest.mark.realdata
def test_a_flat_terrace_with_a_few_defects_gets_total_variation_where_it_is_the_closer(
    realdata_dir: Path,
) -> None:
    """Candidate EM: on a flat metal terrace with a few lone defects and a real scan's noise
    spectrum, the two-direction Wiener keeps the noise of the tiles that hold a defect; the judge
    delivers total variation there, closer to the truth than the model's output (0.2.44 delivered
    the model's output: 0.68 of raw's true error against total variation's 0.46; seed 7601 of the
    session's probes, docs/model-selection.md). The refinement of the model's output never takes a
    fallback's place (candidate EO2)."""
    from stmdenoise.denoise import Denoiser, default_model_dir

    den = Denoiser.from_folder(default_model_dir(), device="cpu")
    texture = (str(realdata_dir), "nanonis/pySPM_test.sxm", "Z")
    row = other.run_case(den, "sparse", 1.0, 0.4, "ideal", 7601, 256, texture)
    assert row["delivered"].startswith("total variation") and row["delivered"].endswith("x noise")
    assert row["delivered_true"][0] < 0.8 * row["model_true"][0]
    assert row["delivered_est"] < row["model_est"]


@pytest.mark.realdata
def test_a_terrace_gets_the_model_output_refined_by_total_variation_closer_to_the_truth(
    realdata_dir: Path,
) -> None:
    """Candidate EN: on a terrace at 1 Å/px with img_0071 Z's noise spectrum the two-direction
    Wiener's output keeps noise that total variation of it, at a weight in units of the raw scan's
    noise level, removes; the judge delivers that, closer to the truth (0.2.45 delivered the
    model's output: 0.170 of raw's true error against 0.096; seed 5275, offset 75 of the session's
    probes, docs/model-selection.md)."""
    from stmdenoise.denoise import Denoiser, default_model_dir

    den = Denoiser.from_folder(default_model_dir(), device="cpu")
    texture = (str(realdata_dir), "nanonis/img_0071.sxm", "Z")
    row = other.run_case(den, "terrace", 1.0, 1.0, "ideal", 5275, 256, texture)
    assert row["delivered"].startswith("model + total variation") and row["delivered"].endswith("x noise")
    assert row["delivered_true"][0] < 0.7 * row["model_true"][0]
    assert row["delivered_est"] < row["model_est"]


@pytest.mark.realdata
def test_the_refinement_keeps_lone_defects_heights_where_plain_total_variation_lowers_them(
    realdata_dir: Path,
) -> None:
    """Candidate EN2: on EM's sparse terrace (seed 7601) plain total variation of the model's output
    is estimated closest at 16x the noise but keeps 0.86 of the strong features' heights (the
    model's output 0.93): the choice refuses it; one Bregman iteration keeps them and is chosen, its
    features' heights against the truth as the model's output has them. The judge delivers neither:
    it delivers a total-variation fallback there, and a refinement never takes a fallback's place
    (candidate EO2)."""
    import numpy as np

    import stmdenoise.refine as rf
    from stmdenoise.denoise import Denoiser, default_model_dir
    from stmdenoise.fallback import raw_bands
    from stmdenoise.metrics.fidelity import PairedLooks
    from stmdenoise.metrics.second_look import second_look
    from stmdenoise.processing.smoothing import tv_smooth
    from stmdenoise.scan import Scan

    a = 1e-10
    texture = (str(realdata_dir), "nanonis/pySPM_test.sxm", "Z")
    clean, fwd_a, bwd_a = other.make_case("sparse", 1.0, 0.4, "ideal", 7601, 256, texture)
    fwd = Scan(fwd_a * a, pixel_size=(a, a), channel="Z", unit="m")
    bwd = Scan(bwd_a * a, pixel_size=(a, a), channel="Z", unit="m", direction="backward")
    checked = Denoiser.from_folder(default_model_dir(), device="cpu").denoise_checked(fwd, partner=bwd)
    model = checked.model
    plain = [
        model.with_data(np.asarray(tv_smooth(np.asarray(model.data), w, noise_of=fwd)))
        for w in rf.REFINE_TV_WEIGHTS
    ]
    outputs = [fwd, model, *plain]
    offset, look, _ = second_look(fwd, bwd)
    paired = PairedLooks(outputs, fwd, look, offset=offset, bands=raw_bands(fwd))
    reps = paired.reports()
    assert rf.best_refinement(fwd, outputs, reps, paired, 1, range(2, len(outputs))) is None
    best_plain = min(range(2, len(outputs)), key=lambda i: reps[i].overall.error)
    assert rf._kept(fwd, outputs[best_plain]) < rf._kept(fwd, model) - 0.05  # what the guard refused
    bregman = [fwd, model, *rf.refinements(fwd, model)]
    paired = PairedLooks(bregman, fwd, look, offset=offset, bands=raw_bands(fwd))
    chosen = rf.best_refinement(fwd, bregman, paired.reports(), paired, 1, range(2, len(bregman)))
    assert chosen is not None and rf._kept(fwd, bregman[chosen]) >= rf._kept(fwd, model) - 0.01

    def features(scan: Scan) -> float:
        return float(other.features_kept(clean, np.asarray(scan.data) / a))

    assert features(bregman[chosen]) >= features(model) - 0.01 > features(outputs[best_plain])
    # the judge delivers the total-variation fallback it chose without the refinement (EO2)
    assert checked.verdict.refined is None and checked.verdict.delivered.startswith("total variation")
