"""Spectral gain: inference, weights file, model-folder path, Denoiser routing, quiet refusal, training."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from stmdenoise.denoise import Denoiser, default_model_dir
from stmdenoise.jobs import JobCancelled, run_job
from stmdenoise.model.folder import (
    ModelFolderError,
    ModelInfo,
    NormalizationSpec,
    load_gain,
    load_model_folder,
    read_model_info,
    save_model_folder,
)
from stmdenoise.model.pdanet import ArchConfig, build_generators, init_weights
from stmdenoise.model.spectral_gain import (
    GAIN_FILE,
    GAIN_KIND,
    GainFeatures,
    GainSpec,
    GainWeights,
    _context,
    apply_gain,
    line_coherence,
)
from stmdenoise.scan import Scan

PX = 0.14e-9


def _weights(bias: float | None = None, seed: int = 0) -> GainWeights:
    """Random gain weights; ``bias`` pins the last layer (large: keep everything, very negative: remove)."""
    w = GainWeights.initial(np.random.default_rng(seed))
    if bias is None:
        return w
    layers = list(w.layers)
    last_w, last_b = layers[-1]
    layers[-1] = (np.zeros_like(last_w), np.full_like(last_b, bias))
    return GainWeights(tuple(layers), w.features)


def _folder(path: Path, gain: GainWeights | None, refuse: float | None = 0.42) -> Path:
    torch.manual_seed(0)
    arch = ArchConfig(ngf=4, n_blocks=1, ndf=4, fa_width=4)
    g_d, g_da = build_generators(arch, "pdanet")
    init_weights(g_d)
    init_weights(g_da)
    training = {"data": "/home/me/x.sxm"}
    spec = (
        None
        if gain is None
        else GainSpec(features=gain.features, refuse_line_coherence=refuse, training=training)
    )
    info = ModelInfo(
        arch=arch, variant="pdanet", normalization=NormalizationSpec(), pixel_size=PX, name="t",
        experimental_path=spec,
    )  # fmt: skip
    return save_model_folder(path, info, g_d, g_da, gain=gain)


def _noisy(rows: int = 96, cols: int = 112, seed: int = 0, noise: float = 1.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:rows, 0:cols]
    signal = np.cos(2 * np.pi * np.hypot(yy - 40, xx - 50) / 14.0)
    return signal + 0.02 * xx + noise * rng.standard_normal((rows, cols))


# --------------------------------------------------------------------------- inference


def test_output_keeps_grid_plane_and_unmeasured_rows() -> None:
    z = _noisy(70, 90)
    z[5, 3] = np.nan  # an unmeasured pixel: its row is left as it is
    z[60:, :] = np.nan  # an interrupted scan
    out = apply_gain(_weights(), z)
    assert out.shape == z.shape
    assert np.isnan(out[5, 3]) and np.isnan(out[60:]).all()
    np.testing.assert_array_equal(out[5, 4:], z[5, 4:])
    assert np.isfinite(out[:5]).all() and np.isfinite(out[6:60]).all()
    plane = 1e-9 + 2e-11 * np.arange(40)[:, None] - 3e-11 * np.arange(50)[None, :]
    np.testing.assert_allclose(apply_gain(_weights(), plane), plane, rtol=0, atol=1e-18)


def test_rows_across_an_unmeasured_line_are_never_neighbours() -> None:
    z = _noisy(100, 90)
    z[40] = np.nan  # a lost line in the middle
    z[96, 10] = np.nan  # leaves a 3-row run at the bottom: too short, left raw
    w = _weights()
    out = apply_gain(w, z)
    np.testing.assert_array_equal(out[:40], apply_gain(w, z[:40]))
    np.testing.assert_array_equal(out[41:96], apply_gain(w, z[41:96]))
    np.testing.assert_array_equal(out[97:], z[97:])
    assert np.isnan(out[40]).all() and np.isnan(out[96, 10])


def test_gain_near_one_keeps_the_scan_and_near_zero_keeps_only_the_tile_means() -> None:
    z = _noisy()
    keep = apply_gain(_weights(bias=30.0), z)
    np.testing.assert_allclose(keep, z, atol=1e-9)
    gone = apply_gain(_weights(bias=-60.0), z)
    # only each tile's mean survives: a smooth surface with a small fraction of the detail
    assert np.std(np.diff(gone, axis=1)) < 0.05 * np.std(np.diff(z, axis=1))


def test_a_gain_below_one_only_removes_power() -> None:
    """Whatever the weights, the filter cannot add structure: less detail power out than in."""
    for seed in range(3):
        z = _noisy(seed=seed)
        out = apply_gain(_weights(seed=seed), z)
        dz, do = np.diff(z, axis=1), np.diff(out, axis=1)
        assert np.sum(do**2) < np.sum(dz**2)


def test_trainable_twin_computes_the_same_gains() -> None:
    from stmdenoise.training.spectral_gain import _GainNet

    torch.manual_seed(3)
    net = _GainNet(GainFeatures(row_coherence=True, anisotropy=True, frequency=True))
    feats = np.random.default_rng(0).normal(size=(7, 5, net.net[0].in_features)).astype(np.float32)
    with torch.no_grad():
        want = net(torch.from_numpy(feats)).numpy()
    np.testing.assert_allclose(net.weights().gain(feats), want, rtol=1e-5, atol=1e-6)


def test_anisotropy_features_take_line_noise_for_floor_and_a_wave_for_signal() -> None:
    """Line offsets put power all along the kx = 0 column of k: above its ring's floor (where the
    base features would call it signal) but not above its own column's floor; a plane wave
    stands above both its column's and its row's floor."""
    from stmdenoise.processing import level_plane

    rng = np.random.default_rng(4)
    yy, xx = np.mgrid[0:128, 0:128]
    z = rng.normal(size=(128, 1)) * 3.0 + rng.normal(size=(128, 128)) * 0.3
    z = z + np.cos(2 * np.pi * (0.125 * xx + 0.1875 * yy))
    ctx = _context(level_plane(z), GainFeatures(anisotropy=True))
    assert ctx.axis_height is not None
    col, row = ctx.axis_height
    line = (32, 0)  # ky = 0.25 cycles/px on the kx = 0 column: line noise only
    wave = (24, 16)  # (0.1875, 0.125) cycles/px
    assert ctx.height[line] > 1.0  # the ring floor mistakes it for signal
    assert col[line] < 0.5
    assert col[wave] > 1.5 and row[wave] > 1.5
    assert _context(level_plane(z), GainFeatures()).axis_height is None


def test_feature_flags_travel_through_the_folder(tmp_path: Path) -> None:
    features = GainFeatures(row_coherence=True, anisotropy=True, frequency=True)
    gain = GainWeights.initial(np.random.default_rng(0), features=features)
    assert gain.layers[0][0].shape[0] == features.count == 16
    folder = _folder(tmp_path / "m", gain)
    cfg = json.loads((folder / "config.json").read_text())["experimental_path"]
    assert cfg["row_coherence"] is True and cfg["anisotropy"] is True and cfg["frequency"] is True
    loaded = load_gain(folder, read_model_info(folder))
    assert loaded is not None and loaded.features == features
    z = np.random.default_rng(1).normal(size=(70, 90))
    np.testing.assert_array_equal(apply_gain(loaded, z), apply_gain(gain, z))


def test_line_coherence_tells_quiet_from_noisy_scans() -> None:
    rows, cols = 128, 128
    yy, xx = np.mgrid[0:rows, 0:cols]
    quiet = np.cos(2 * np.pi * xx / 3.6) * np.cos(2 * np.pi * yy / 40.0)  # fine detail repeated line to line
    noisy = quiet + 3.0 * np.random.default_rng(0).standard_normal(quiet.shape)
    assert line_coherence(quiet) > 0.9
    assert line_coherence(noisy) < 0.2
    assert line_coherence(np.zeros((2, 50))) == 0.0  # too few lines: no evidence of quietness


# --------------------------------------------------------------------------- weights and folders


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ({"kind": "wavelet"}, "kind"),
        ({"kind": GAIN_KIND, "file": "../../etc/passwd"}, "plain file name"),
        ({"kind": GAIN_KIND, "file": "C:\\x.safetensors"}, "plain file name"),
        ({"kind": GAIN_KIND, "refuse_line_coherence": 3}, "refuse_line_coherence"),
        ({"kind": GAIN_KIND, "refuse_line_coherence": True}, "refuse_line_coherence"),
        ({"kind": GAIN_KIND, "row_coherence": "yes"}, "row_coherence"),
        ({"kind": GAIN_KIND, "anisotropy": 1}, "anisotropy"),
        ({"kind": GAIN_KIND, "frequency": "no"}, "frequency"),
        ([1, 2], "object"),
    ],
)
def test_spec_rejects_foreign_entries(entry: object, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        GainSpec.from_dict(entry)


def test_folder_round_trip_and_version(tmp_path: Path) -> None:
    gain = _weights()
    folder = _folder(tmp_path / "m", gain)
    cfg = json.loads((folder / "config.json").read_text())
    assert cfg["format_version"] == 2 and cfg["experimental_path"]["kind"] == GAIN_KIND
    assert cfg["experimental_path"]["training"] == {"data": "x.sxm"}  # no machine paths travel
    loaded = load_gain(folder, read_model_info(folder))
    assert loaded is not None
    for (w0, b0), (w1, b1) in zip(gain.layers, loaded.layers, strict=True):
        np.testing.assert_array_equal(w0, w1)
        np.testing.assert_array_equal(b0, b1)
    plain = _folder(tmp_path / "plain", None)
    assert json.loads((plain / "config.json").read_text())["format_version"] == 1  # 0.1 programs read it
    assert load_gain(plain, read_model_info(plain)) is None


def test_missing_or_damaged_gain_file_names_it(tmp_path: Path) -> None:
    folder = _folder(tmp_path / "m", _weights())
    (folder / GAIN_FILE).write_bytes(b"\x00" * 40)
    with pytest.raises(ModelFolderError, match=GAIN_FILE):
        Denoiser.from_folder(folder, device="cpu")
    (folder / GAIN_FILE).unlink()
    with pytest.raises(ModelFolderError, match=f"no {GAIN_FILE}"):
        Denoiser.from_folder(folder, device="cpu")


def test_weights_of_the_wrong_shape_are_refused(tmp_path: Path) -> None:
    folder = _folder(tmp_path / "m", _weights())
    wide = GainWeights.initial(
        np.random.default_rng(0), features=GainFeatures(anisotropy=True)
    )  # 14 inputs, spec says 10
    wide.save(folder / GAIN_FILE)
    with pytest.raises(ModelFolderError, match="does not fit"):
        Denoiser.from_folder(folder, device="cpu")


def test_saving_needs_gain_exactly_with_the_spec(tmp_path: Path) -> None:
    folder = _folder(tmp_path / "m", _weights())
    info, *_ = read_model_info(folder), None
    arch = info.arch
    g_d, g_da = build_generators(arch, "pdanet")
    with pytest.raises(ValueError, match="exactly when"):
        save_model_folder(tmp_path / "x", info, g_d, g_da)
    with pytest.raises(ValueError, match="exactly when"):
        save_model_folder(tmp_path / "y", replace(info, experimental_path=None), g_d, g_da, gain=_weights())


# --------------------------------------------------------------------------- Denoiser routing


@pytest.mark.parametrize("px", [12e-12, PX, 1.2e-9])
def test_experimental_scans_go_to_the_gain_on_their_own_grid(tmp_path: Path, px: float) -> None:
    den = Denoiser.from_folder(_folder(tmp_path / "m", _weights()), device="cpu")
    scan = Scan(1e-10 * _noisy(), pixel_size=(px, px), channel="Z", unit="m")
    plan = den.plan(scan)
    assert plan.runs and plan.native and plan.work_shape == scan.shape
    out = den.denoise(scan)
    assert out.shape == scan.shape and out.unit == "m"
    assert out.steps[-1].params["generator"] == GAIN_KIND
    sim = den.denoise(Scan(1e-10 * _noisy(), pixel_size=(PX, PX), header={"simulated": True}))
    assert sim.steps[-1].params["generator"] == "G_D"
    forced = den.denoise(scan, which="simulated") if px == PX else None
    assert forced is None or forced.steps[-1].params["generator"] == "G_D"


def test_a_plain_picture_without_pixel_size_is_denoised_by_the_gain(tmp_path: Path) -> None:
    den = Denoiser.from_folder(_folder(tmp_path / "m", _weights()), device="cpu")
    picture = Scan(_noisy(), pixel_size=None)
    assert den.plan(picture).runs
    assert den.denoise(picture).shape == picture.shape


def test_quiet_scans_are_declined_with_the_reason(tmp_path: Path) -> None:
    den = Denoiser.from_folder(_folder(tmp_path / "m", _weights()), device="cpu")
    yy, xx = np.mgrid[0:128, 0:128]
    quiet = Scan(1e-10 * np.cos(2 * np.pi * xx / 3.6) * np.cos(2 * np.pi * yy / 40), pixel_size=(PX, PX))
    assert den.plan(quiet).runs and "quiet scan" in den.checked_plan(quiet).refusal
    checked = den.denoise_checked(quiet)
    assert checked.model is None and checked.verdict.delivered == "raw"
    assert "quiet scan" in checked.verdict.reason and "line coherence" in checked.verdict.reason
    np.testing.assert_array_equal(checked.delivered.data, quiet.data)
    noisy = Scan(1e-10 * _noisy(128, 128), pixel_size=(PX, PX))
    assert den.denoise_checked(noisy).model is not None
    never = Denoiser.from_folder(_folder(tmp_path / "n", _weights(), refuse=None), device="cpu")
    assert never.denoise_checked(quiet).model is not None


def test_cancel_stops_the_gain(tmp_path: Path) -> None:
    den = Denoiser.from_folder(_folder(tmp_path / "m", _weights()), device="cpu")
    stop = threading.Event()
    stop.set()
    with pytest.raises(JobCancelled):
        den.denoise(Scan(_noisy(), pixel_size=(PX, PX)), cancel=stop)


def test_the_shipped_default_runs_real_scans_through_the_gain() -> None:
    den = Denoiser.from_folder(default_model_dir(), device="cpu")
    assert den.info.experimental_path is not None and den.gain is not None
    scan = Scan(1e-10 * _noisy(), pixel_size=(22e-12, 22e-12))  # a 22 pm/px scan: on its own grid
    assert den.plan(scan).native
    out = den.denoise(scan)
    assert out.steps[-1].params["generator"] == GAIN_KIND
    assert np.std(np.diff(out.data, axis=1)) < np.std(np.diff(scan.data, axis=1))


# --------------------------------------------------------------------------- training


def _two_direction_sxm(path: Path, seed: int) -> Path:
    from stmdenoise.io import write_sxm

    rng = np.random.default_rng(seed)
    surface = 1e-10 * _noisy(96, 96, seed=seed, noise=0.0)
    frames = [
        Scan(surface + 2e-11 * rng.standard_normal(surface.shape), pixel_size=(PX, PX), channel="Z",
             unit="m", direction=d)
        for d in ("forward", "backward")
    ]  # fmt: skip
    write_sxm(path, frames)
    return path


def test_feedback_error_currents_can_be_left_out_of_training() -> None:
    from stmdenoise.training.spectral_gain import real_examples

    rng = np.random.default_rng(0)
    surface = _noisy(96, 96, noise=0.0)
    table = "\tName\ton\tSetpoint\n\tlog Current\t{on}\t1.000E-10 A"

    def pair(unit: str, on: str) -> tuple[str, Scan, Scan]:
        header = {"Z-CONTROLLER": table.format(on=on)}
        f, b = (
            Scan(surface + rng.standard_normal(surface.shape), pixel_size=(PX, PX), unit=unit, header=header)
            for _ in range(2)
        )
        return f"x {unit} {on}", f, b

    pairs = [pair("A", "1"), pair("A", "0"), pair("m", "1")]
    assert [n for n, _ in real_examples(pairs, GainFeatures())] == ["x A 1", "x A 0", "x m 1"]
    kept = real_examples(pairs, GainFeatures(), skip_feedback_error=True)
    assert [n for n, _ in kept] == ["x A 0", "x m 1"]  # the constant-current current is left out


def test_train_gain_writes_a_new_folder_and_never_overwrites(tmp_path: Path) -> None:
    from stmdenoise.training.spectral_gain import GainRequest, train_gain_model

    base = _folder(tmp_path / "base", None)
    scan = _two_direction_sxm(tmp_path / "a.sxm", 0)
    req = GainRequest(inputs=(scan,), base=base, out=tmp_path / "new", steps=3, sim_pairs=1, refuse_quiet=0.5)
    res = run_job(train_gain_model(req, threading.Event()), lambda rec: None)
    assert res is not None and res.out == tmp_path / "new" and res.better is None  # nothing held out
    out = res.out
    info = read_model_info(out)
    assert info.experimental_path is not None and info.experimental_path.refuse_line_coherence == 0.5
    assert info.experimental_path.training["real_pairs"] == ["a.sxm Z"]
    assert "a.sxm" in info.experimental_path.training["real_files"]
    den = Denoiser.from_folder(out, device="cpu")
    assert den.denoise(Scan(_noisy(), pixel_size=(PX, PX))).steps[-1].params["generator"] == GAIN_KIND
    with pytest.raises(ValueError, match="already exists"):
        run_job(train_gain_model(req, threading.Event()), lambda rec: None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.sxm", "base", "new"]  # no partial folder left
    assert not info.experimental_path.two_direction  # a base without a gain measures nothing


def test_train_gain_records_where_its_noise_textures_came_from(tmp_path: Path) -> None:
    """--noise-textures: the textures come from the training scans (or --texture-scan's), never a
    held-out file, and the folder says which (docs/model-selection.md, candidate CO)."""
    from stmdenoise.training.spectral_gain import GainRequest, train_gain_model

    base = _folder(tmp_path / "base", None)
    a, b = _two_direction_sxm(tmp_path / "a.sxm", 0), _two_direction_sxm(tmp_path / "b.sxm", 1)
    common = {"base": base, "steps": 2, "sim_pairs": 2, "refuse_quiet": None, "noise_textures": 0.5}
    req = GainRequest(inputs=(a, b), out=tmp_path / "own", holdout=(b,), **common)  # type: ignore[arg-type]
    info = read_model_info(run_job(train_gain_model(req, threading.Event()), lambda rec: None).out)  # type: ignore[union-attr]
    training = info.experimental_path.training  # type: ignore[union-attr]
    assert training["noise_textures"] == ["a.sxm Z"] and training["request"]["noise_textures"] == 0.5
    req = GainRequest(inputs=(a,), out=tmp_path / "other", texture_scans=(b,), **common)  # type: ignore[arg-type]
    info = read_model_info(run_job(train_gain_model(req, threading.Event()), lambda rec: None).out)  # type: ignore[union-attr]
    assert info.experimental_path.training["noise_textures"] == ["b.sxm Z"]  # type: ignore[union-attr]
    assert info.experimental_path.training["request"]["texture_scans"] == ["b.sxm"]  # type: ignore[union-attr]


def test_train_gain_keeps_the_bases_two_direction_path(tmp_path: Path) -> None:
    """Retraining the gain on one's own scans must not switch off the two-direction Wiener."""
    from stmdenoise.training.spectral_gain import GainRequest, train_gain_model

    base = _folder(tmp_path / "base", _weights())
    info = read_model_info(base)
    assert info.experimental_path is not None
    two = replace(info, experimental_path=replace(info.experimental_path, two_direction=True))
    g = load_gain(base, info)
    _, g_d, g_da = load_model_folder(base)
    base2 = save_model_folder(tmp_path / "base2", two, g_d, g_da, gain=g)
    scan = _two_direction_sxm(tmp_path / "a.sxm", 0)
    req = GainRequest(inputs=(scan,), base=base2, out=tmp_path / "new", steps=3, sim_pairs=1)
    res = run_job(train_gain_model(req, threading.Event()), lambda rec: None)
    assert res is not None
    new = read_model_info(res.out).experimental_path
    assert new is not None and new.two_direction


def test_held_out_scans_are_never_trained_on_and_judged_in_the_card(tmp_path: Path) -> None:
    from stmdenoise.training.spectral_gain import GainRequest, train_gain_model

    base = _folder(tmp_path / "base", _weights())
    data = tmp_path / "scans"
    data.mkdir()
    _two_direction_sxm(data / "a.sxm", 4)
    held = _two_direction_sxm(data / "b.sxm", 5)
    req = GainRequest(inputs=(data,), base=base, out=tmp_path / "new", steps=3, sim_pairs=1, holdout=(held,))
    records: list[object] = []
    res = run_job(train_gain_model(req, threading.Event()), records.append)
    assert res is not None and res.rows and res.better is not None
    out = res.out
    info = read_model_info(out)
    assert info.experimental_path is not None
    assert info.experimental_path.training["real_pairs"] == ["a.sxm Z"]  # b.sxm never trained on
    card = (out / "MODEL_CARD.md").read_text()
    assert "Held out (never trained on): b.sxm" in card and "b.sxm Z" in card
    assert "best classical" in card and ("use it" in card or "keep using the base" in card)
    assert any("held-out" in getattr(r, "message", "") for r in records)


def test_cancelled_training_leaves_nothing(tmp_path: Path) -> None:
    from stmdenoise.training.spectral_gain import GainRequest, train_gain_model

    base = _folder(tmp_path / "base", None)
    scan = _two_direction_sxm(tmp_path / "a.sxm", 3)
    req = GainRequest(inputs=(scan,), base=base, out=tmp_path / "new", steps=50, sim_pairs=1)
    cancel = threading.Event()
    records = []

    def on_record(rec: object) -> None:
        records.append(rec)
        if getattr(rec, "message", "") == "training":
            cancel.set()

    with pytest.raises(JobCancelled):
        run_job(train_gain_model(req, cancel), on_record)
    assert records and sorted(p.name for p in tmp_path.iterdir()) == ["a.sxm", "base"]


def test_train_gain_refuses_the_test_scene(tmp_path: Path) -> None:
    from stmdenoise.training.real_pairs import TestSceneError
    from stmdenoise.training.spectral_gain import GainRequest, train_gain_model

    ko = tmp_path / "cu111_ko_group" / "experimental"
    ko.mkdir(parents=True)
    _two_direction_sxm(ko / "frame.sxm", 1)
    base = _folder(tmp_path / "base", None)
    req = GainRequest(inputs=(tmp_path,), base=base, out=tmp_path / "new", steps=1)
    with pytest.raises(TestSceneError):
        run_job(train_gain_model(req, threading.Event()), lambda rec: None)
    assert not (tmp_path / "new").exists()


def test_train_gain_command_line(tmp_path: Path) -> None:
    base = _folder(tmp_path / "base", None)
    scan = _two_direction_sxm(tmp_path / "a.sxm", 2)
    cmd = [sys.executable, "-m", "stmdenoise", "train-gain", str(scan), "--base", str(base),
           "--out", str(tmp_path / "m"), "--steps", "2", "--sim-pairs", "1", "--refuse-quiet", "-1",
           "--quiet"]  # fmt: skip
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert read_model_info(tmp_path / "m").experimental_path.refuse_line_coherence is None  # type: ignore[union-attr]
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert again.returncode == 2 and "already exists" in again.stderr


def test_terraces_add_steps_as_signal_to_the_same_simulated_pairs() -> None:
    from stmdenoise.training.spectral_gain import sim_examples

    def arrays(examples: list[Any]) -> list[dict[str, np.ndarray]]:
        return [{k: np.asarray(v) for k, v in e.items()} for e in examples]

    plain = arrays(sim_examples(2, 7, GainFeatures()))
    stepped = arrays(sim_examples(2, 7, GainFeatures(), terraces=0.5))
    assert np.array_equal(plain[0]["X"], stepped[0]["X"])  # every second pair: the first untouched
    assert not np.array_equal(plain[1]["X"], stepped[1]["X"])  # the second crosses steps
    # added to the clean and the noisy image alike: the noise the gain learns to remove is the same
    scale = float(np.abs(plain[1]["X"]).max())
    np.testing.assert_allclose(
        stepped[1]["T"] - stepped[1]["X"], plain[1]["T"] - plain[1]["X"], rtol=0, atol=1e-6 * scale
    )
    with pytest.raises(ValueError, match="terraces"):
        sim_examples(1, 7, GainFeatures(), terraces=1.5)


def test_train_gain_refuses_a_share_of_terraces_outside_0_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from stmdenoise.cli.main import main

    out = tmp_path / "never-written"
    assert main(["train-gain", str(tmp_path / "x.sxm"), "--out", str(out), "--terraces", "2"]) == 2
    assert "--terraces must be a share between 0 and 1" in capsys.readouterr().err
    assert not out.exists()


def test_what_the_network_keeps_of_a_tall_feature_is_kept_whole() -> None:
    """The sigmoid never reaches 1: a network pinned to keep (gain ~0.98) took 2 % off every
    component, a molecule standing far above the noise included, whose apparent height then read
    2 % low. Where it keeps a coefficient, the gain is raised to the Wiener gain of the tile's
    own floor (``kept_whole``): the molecule's strong components are kept whole, while a network
    pinned to remove still removes (docs/model-selection.md, candidates CF and DE)."""
    from stmdenoise.metrics.heights import strong_contrast
    from stmdenoise.model.spectral_gain import kept_whole

    rng = np.random.default_rng(5)
    yy, xx = np.mgrid[0:128, 0:128]
    molecule = 2e-9 * np.exp(-((yy - 64.0) ** 2 + (xx - 60.0) ** 2) / 60.0)
    z = molecule + 2e-13 * rng.normal(size=molecule.shape)
    keep = _weights(bias=2.0)  # with GAIN_BIAS: sigmoid(4) = 0.982
    assert float(keep.gain(np.zeros((1, keep.features.count), np.float32))[0]) < 0.99
    found = strong_contrast(z, apply_gain(keep, z))
    assert found is not None and found.kept > 0.999
    np.testing.assert_array_equal(kept_whole(np.array([0.5, 0.89]), np.array([9.0, 9.0])), [0.5, 0.89])
    removed = apply_gain(_weights(bias=-8.0), z)
    assert np.std(removed - z) > 0.5 * np.std(z - z.mean())  # suppression untouched
