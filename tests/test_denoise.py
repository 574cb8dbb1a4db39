"""Denoiser: model folders in, Scans out (units, shape, NaN), tiling agreement, default model lookup."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

import stmdenoise
from stmdenoise.denoise import Denoiser, default_model_dir
from stmdenoise.jobs import JobCancelled
from stmdenoise.model.folder import ModelFolderError, ModelInfo, NormalizationSpec, save_model_folder
from stmdenoise.model.pdanet import ArchConfig, build_generators, init_weights
from stmdenoise.scan import Scan

PX = 0.14e-9


@pytest.fixture(autouse=True)
def _one_thread():  # type: ignore[no-untyped-def]
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _model(
    folder: Path,
    *,
    variant: str = "pdanet",
    dtype: torch.dtype = torch.float32,
    residual: bool = False,
    skip_blur: float = 0.0,
    native: tuple[float, float] | None = None,
) -> Path:
    torch.manual_seed(0)
    arch = ArchConfig(ngf=4, n_blocks=1, ndf=4, fa_width=4, residual=residual, skip_blur=skip_blur)
    g_d, g_da = build_generators(arch, variant)
    init_weights(g_d)
    init_weights(g_da)
    if variant == "pdanet":
        with torch.no_grad():  # make G_DA differ from G_D (the shared Up block stays shared)
            for p in g_da.down.parameters():
                p.mul_(1.5)
    info = ModelInfo(
        arch=arch,
        variant=variant,
        normalization=NormalizationSpec(),
        pixel_size=PX,
        name="tiny",
        native_pixel_size_range=native,
    )
    return save_model_folder(folder, info, g_d, g_da, dtype=dtype)


def _scan(rows: int = 96, cols: int = 80, px: float = PX, seed: int = 0) -> Scan:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:rows, 0:cols] * px
    z = 3e-11 * np.cos(2 * np.pi * np.hypot(yy - 4e-9, xx - 5e-9) / 1.5e-9) + 2e-10 * xx / 1e-8
    z += 5e-12 * rng.standard_normal(z.shape)
    return Scan(z, pixel_size=(px, px), channel="Z", unit="m", header={"bias": 0.1})


def test_denoised_scan_keeps_shape_units_metadata(tmp_path: Path) -> None:
    den = Denoiser.from_folder(_model(tmp_path / "m"), device="cpu")
    scan = _scan()
    out = den.denoise(scan)
    assert out.shape == scan.shape and out.unit == "m" and out.pixel_size == scan.pixel_size
    assert out.header["bias"] == 0.1 and out.channel == "Z"
    assert out.steps[-1].name == "denoise" and out.steps[-1].params["generator"] == "G_DA"
    assert np.isfinite(out.data).all()
    # same scale as the input (the tilt is added back), not the network's [-1, 1]
    assert abs(np.ptp(out.data) - np.ptp(scan.data)) < 0.5 * np.ptp(scan.data)


def test_experimental_and_simulated_use_different_generators(tmp_path: Path) -> None:
    den = Denoiser.from_folder(_model(tmp_path / "m"), device="cpu")
    scan = _scan()
    exp = den.denoise(scan, which="experimental").data
    sim = den.denoise(scan, which="simulated").data
    auto_sim = den.denoise(scan.replace(header={"simulated": True})).data
    assert np.max(np.abs(exp - sim)) > 1e-3 * np.ptp(exp)
    np.testing.assert_array_equal(sim, auto_sim)
    with pytest.raises(ValueError, match="which"):
        den.denoise(scan, which="both")  # type: ignore[arg-type]


def test_nan_regions_stay_nan_and_never_spread(tmp_path: Path) -> None:
    den = Denoiser.from_folder(_model(tmp_path / "m"), device="cpu")
    data = np.array(_scan().data)
    data[60:, :] = np.nan  # aborted scan
    data[10:14, 20:25] = np.nan
    out = den.denoise(Scan(data, pixel_size=(PX, PX), unit="m")).data
    np.testing.assert_array_equal(np.isnan(out), np.isnan(data))


def test_other_pixel_sizes_are_resampled_there_and_back(tmp_path: Path) -> None:
    den = Denoiser.from_folder(_model(tmp_path / "m"), device="cpu")
    for px in (0.07e-9, 0.3e-9):
        scan = _scan(rows=70, cols=90, px=px)
        out = den.denoise(scan)
        assert out.shape == (70, 90) and np.isfinite(out.data).all()


@pytest.mark.parametrize("residual", [False, True])
def test_tiled_inference_agrees_with_whole_image(tmp_path: Path, residual: bool) -> None:
    folder = _model(tmp_path / "m", residual=residual)
    whole = Denoiser.from_folder(folder, device="cpu", tile=4096)
    tiled = Denoiser.from_folder(folder, device="cpu", tile=256)
    scan = _scan(rows=640, cols=600, seed=1)
    calls: list[tuple[int, int]] = []
    a = whole.denoise(scan).data
    b = tiled.denoise(scan, progress=lambda d, t: calls.append((d, t))).data
    assert calls[-1][0] == calls[-1][1] > 2  # really tiled (two passes over several tiles)
    rng = np.ptp(a)
    psnr = 10 * np.log10(rng**2 / np.mean((a - b) ** 2))
    assert psnr >= 45, psnr


def test_four_passes_average_the_mirrored_scans_mirrored_back(tmp_path: Path) -> None:
    den = Denoiser.from_folder(_model(tmp_path / "m", residual=True), device="cpu")
    data = np.array(_scan(rows=90, cols=70, seed=2).data)
    data[80:, :] = np.nan  # an aborted scan: NaN rows must stay where they are in every pass
    scan = Scan(data, pixel_size=(PX, PX), unit="m")
    flips = [lambda a: a, lambda a: a[:, ::-1], lambda a: a[::-1, :], lambda a: a[::-1, ::-1]]
    singles = [f(den.denoise(scan.with_data(f(data))).data) for f in flips]
    for n in (2, 4):
        got = den.denoise(scan, passes=n)
        np.testing.assert_allclose(
            got.data, np.mean(singles[:n], axis=0), rtol=0, atol=1e-6 * np.nanmax(np.abs(data))
        )
        assert got.steps[-1].params["passes"] == n
        np.testing.assert_array_equal(np.isnan(got.data), np.isnan(data))
    # the untrained network is far from mirror-symmetric: the average is not any single pass
    assert np.nanmax(np.abs(singles[1] - singles[0])) > 1e-3 * np.nanmax(np.abs(singles[0]))
    calls: list[tuple[int, int]] = []
    den.denoise(scan, passes=4, progress=lambda d, t: calls.append((d, t)))
    assert [d for d, _ in calls] == sorted(d for d, _ in calls) and calls[-1][0] == calls[-1][1] == 4
    for bad in (0, 3, 8, True, 2.0):
        with pytest.raises(ValueError, match="passes"):
            den.denoise(scan, passes=bad)  # type: ignore[arg-type]


def test_cancel_between_tiles(tmp_path: Path) -> None:
    den = Denoiser.from_folder(_model(tmp_path / "m"), device="cpu", tile=128)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(JobCancelled):
        den.denoise(_scan(rows=300, cols=300), cancel=cancel)


def test_float16_weights_match_float32(tmp_path: Path) -> None:
    a = Denoiser.from_folder(_model(tmp_path / "a"), device="cpu").denoise(_scan()).data
    b = Denoiser.from_folder(_model(tmp_path / "b", dtype=torch.float16), device="cpu").denoise(_scan()).data
    assert (tmp_path / "b" / "weights.safetensors").stat().st_size < (
        tmp_path / "a" / "weights.safetensors"
    ).stat().st_size
    assert np.max(np.abs(a - b)) < 1e-2 * np.ptp(a)


def test_foreign_and_damaged_folders_give_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelFolderError, match="does not exist"):
        Denoiser.from_folder(tmp_path / "nothing", device="cpu")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelFolderError, match="config.json"):
        Denoiser.from_folder(tmp_path / "empty", device="cpu")
    folder = _model(tmp_path / "m")
    cfg = json.loads((folder / "config.json").read_text())
    # architecture that does not match the weights
    cfg["architecture"]["ngf"] = 8
    (folder / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelFolderError, match="shape"):
        Denoiser.from_folder(folder, device="cpu")
    cfg["architecture"]["ngf"] = 4
    cfg["format"] = "something-else"
    (folder / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelFolderError, match="not a stmdenoise model"):
        Denoiser.from_folder(folder, device="cpu")
    folder2 = _model(tmp_path / "m2")
    w = folder2 / "weights.safetensors"
    w.write_bytes(w.read_bytes()[:100])
    with pytest.raises(ModelFolderError, match="damaged"):
        Denoiser.from_folder(folder2, device="cpu")
    (folder2 / "config.json").write_text("{not json")
    with pytest.raises(ModelFolderError, match="JSON"):
        Denoiser.from_folder(folder2, device="cpu")


def test_default_model_dir_prefers_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STMDENOISE_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError):
        default_model_dir()
    _model(tmp_path / "models" / "a-model")
    assert default_model_dir().name == "a-model"
    _model(tmp_path / "models" / "cu111-default")
    assert default_model_dir().name == "cu111-default"


def test_denoise_cli_writes_each_format(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from stmdenoise.cli.main import main
    from stmdenoise.io import read_scan, write_scan

    folder = _model(tmp_path / "m")
    src = write_scan(_scan(), tmp_path / "in.h5")
    (tmp_path / "bad.sxm").write_bytes(b"not a scan")
    code = main(
        ["denoise", str(src), str(tmp_path / "bad.sxm"), "-o", str(tmp_path / "out"), "--model", str(folder),
         "--format", "tiff,h5,sxm", "--device", "cpu", "-q"]
    )  # fmt: skip
    assert code == 1  # the bad file is reported, the good one written
    captured = capsys.readouterr()
    assert "bad.sxm" in captured.err
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == ["in_Z_forward_denoised.h5", "in_Z_forward_denoised.tiff", "in_denoised.sxm"]
    back = read_scan(tmp_path / "out" / "in_Z_forward_denoised.h5")
    assert back.shape == (96, 80) and back.unit == "m"


def test_denoise_cli_passes_reach_the_output(tmp_path: Path) -> None:
    from stmdenoise.cli.main import main
    from stmdenoise.io import read_scan, write_scan

    folder = _model(tmp_path / "m")
    src = write_scan(_scan(), tmp_path / "in.h5")
    out = tmp_path / "out"
    args = [
        "denoise",
        str(src),
        "-o",
        str(out),
        "--model",
        str(folder),
        "--format",
        "h5",
        "--device",
        "cpu",
        "-q",
        # an untrained network removes far more along the lines than their noise: the default
        # policy would deliver the raw scan (metrics.line_noise); warn keeps its output to compare
        "--policy",
        "warn",
    ]
    assert main([*args, "--passes", "4"]) == 0
    back = read_scan(out / "in_Z_forward_denoised.h5")
    want = Denoiser.from_folder(folder, device="cpu").denoise(read_scan(src), passes=4)
    np.testing.assert_allclose(back.data, want.data, rtol=0, atol=1e-6 * np.ptp(want.data))
    steps = {st.name: st.params for st in back.steps}
    assert steps["denoise"]["passes"] == 4
    # provenance: the program that ran the step, beside the one that trained the model folder
    assert steps["denoise"]["program_version"] == stmdenoise.__version__
    assert steps["denoise"]["model_program_version"] == Denoiser.from_folder(folder).info.program_version
    # single look (no backward frame): delivered unmeasured, and the provenance says so
    assert back.steps[-1].name == "do_no_harm" and steps["do_no_harm"]["harmful"] is None
    with pytest.raises(SystemExit):
        main([*args, "--passes", "3"])


def test_scans_too_small_for_the_model_grid_are_refused_with_the_reason(tmp_path: Path) -> None:
    from stmdenoise.denoise import MIN_MODEL_PIXELS, ScanTooSmallError

    den = Denoiser.from_folder(_model(tmp_path / "m"), device="cpu")
    # 80 x 96 px of 0.02 nm: 1.6 x 1.9 nm, only 11 x 14 px at the model's 0.14 nm/px
    with pytest.raises(ScanTooSmallError, match=r"only 11 x 14 px.*at least 32 px"):
        den.denoise(_scan(px=0.02e-9))
    # on the model's grid the limit is the array itself; at the limit it is denoised
    with pytest.raises(ScanTooSmallError):
        den.denoise(_scan(rows=MIN_MODEL_PIXELS - 1, cols=64))
    assert den.denoise(_scan(rows=MIN_MODEL_PIXELS, cols=MIN_MODEL_PIXELS)).shape == (32, 32)


@pytest.mark.realdata
def test_cli_names_the_atomic_resolution_scan_it_refuses(tmp_path: Path, realdata_dir: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from stmdenoise.cli.main import main

    scan = realdata_dir / "nanonis" / "img_0071.sxm"  # 1.5 nm: 11 x 11 px at 0.14 nm/px
    model = str(_model(tmp_path / "m"))
    # default policy: the model is not run, and stderr says why; every Gaussian fallback would take
    # more of the atomic lattice (its 1.2-2.4 Å band all signal) than the noise there (a 1 px one
    # 2.8x raw's error in that band: docs/model-selection.md, candidate BX), so the raw scan is delivered
    code = main(
        ["denoise", str(scan), "-o", str(tmp_path / "out"), "--model", model, "--device", "cpu", "-q"]
    )
    assert code == 0
    err = capsys.readouterr().err
    assert "img_0071.sxm Z forward: raw" in err and "model not run" in err
    assert "shrunk 9" in err and "raw delivered (estimated error 1.00x raw)" in err
    # with --max-zoom the plan lets it through, and the size limit explains itself
    main(["denoise", str(scan), "-o", str(tmp_path / "o2"), "--model", model, "--device", "cpu", "-q",
          "--max-zoom", "20", "--policy", "refuse"])  # fmt: skip
    assert "at least 32 px" in capsys.readouterr().err
    assert not (tmp_path / "o2").exists() or not any((tmp_path / "o2").iterdir())


@pytest.mark.realdata
def test_denoise_real_aborted_createc_scan(tmp_path: Path, realdata_dir: Path) -> None:
    from stmdenoise.io import read_scan

    scan = read_scan(realdata_dir / "createc" / "createc_scan_step_20nm.dat")
    den = Denoiser.from_folder(_model(tmp_path / "m"), device="cpu")
    out = den.denoise(scan)
    assert out.shape == scan.shape and out.pixel_size == scan.pixel_size and out.unit == scan.unit
    np.testing.assert_array_equal(np.isnan(out.data), np.isnan(scan.data))


@pytest.mark.parametrize(("residual", "skip_blur"), [(False, 0.0), (True, 0.0), (True, 0.8)])
def test_onnx_runtime_backend_matches_pytorch(tmp_path: Path, residual: bool, skip_blur: float) -> None:
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    folder = _model(tmp_path / "m", residual=residual, skip_blur=skip_blur)
    scan = _scan(rows=90, cols=77)  # not a multiple of 4: padding happens outside the exported graph
    a = Denoiser.from_folder(folder, device="cpu", backend="torch").denoise(scan).data
    den = Denoiser.from_folder(folder, device="cpu", backend="onnx")
    b = den.denoise(scan).data
    assert den._onnx and all(r is not None for r in den._onnx.values())
    assert np.max(np.abs(a - b)) < 1e-4 * np.ptp(a)
    with pytest.raises(ValueError, match="backend"):
        Denoiser.from_folder(folder, device="cpu", backend="tensorrt")


def test_cuda_out_of_memory_retries_smaller_tiles_then_cpu(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    den = Denoiser.from_folder(_model(tmp_path / "m"), device="cpu", tile=1024, backend="torch")
    den.device = torch.device("cuda")  # pretend: every pass on "cuda" runs out of memory
    tried: list[tuple[str, int]] = []
    real_tiled = Denoiser._tiled

    def fake_tiled(self, gen, x, run, **kw):  # type: ignore[no-untyped-def]
        tried.append((run.device.type, run.tile))
        if run.device.type == "cuda":
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
        return real_tiled(self, gen, x, run, **kw)

    monkeypatch.setattr(Denoiser, "_tiled", fake_tiled)
    out = den.denoise(_scan())
    assert np.isfinite(out.data).all()
    assert tried[0] == ("cuda", 1024) and tried[1] == ("cuda", 512) and tried[-1][0] == "cpu"
    assert den.device.type == "cpu"


def test_soft_compression_keeps_features_far_beyond_the_percentiles() -> None:
    spec = NormalizationSpec()  # tanh(0.8 y)
    y = np.array([-9.0, -1.0, 0.0, 0.5, 1.0, 4.0, 9.0])
    x = spec.forward(y)
    assert np.all(np.abs(x) < 1) and np.all(np.diff(x) > 0)  # monotonic, never clipped
    np.testing.assert_allclose(spec.inverse(x), y, rtol=1e-6)
    linear = NormalizationSpec(squash=0.0, scale=0.8)
    assert linear.forward(np.array([10.0]))[0] == 1.0  # the linear map clips
    # folders written before the option existed read as linear
    assert NormalizationSpec.from_dict({"low_pct": 0.5, "high_pct": 99.5, "scale": 0.8}).squash == 0.0


def test_denoise_checked_never_delivers_worse_than_raw(tmp_path: Path) -> None:
    """An untrained tiny model is judged against the backward look and replaced where it harms."""
    from stmdenoise.metrics.fidelity import pair_fidelity
    from stmdenoise.safety import HarmError

    den = Denoiser.from_folder(_model(tmp_path / "m"), device="cpu")
    fwd = _scan(96, 96, seed=1)
    bwd = _scan(96, 96, seed=2).replace(direction="backward")
    got = den.denoise_checked(fwd, partner=bwd)
    v = got.verdict
    assert v.measured and v.model is not None and got.model is not None
    assert got.delivered.steps[-1].name == "do_no_harm"
    assert pair_fidelity(got.delivered, fwd, bwd).overall.error <= min(1.0, v.model.overall.error) + 1e-9
    if v.harmful:
        with pytest.raises(HarmError):
            den.denoise_checked(fwd, partner=bwd, policy="refuse")
    warned = den.denoise_checked(fwd, partner=bwd, policy="warn")
    assert np.array_equal(warned.delivered.data, got.model.data)


def test_denoise_checked_refuses_unfaithful_resampling_without_running(tmp_path: Path) -> None:
    den = Denoiser.from_folder(_model(tmp_path / "m"), device="cpu")
    fine = _scan(200, 200, px=PX / 4)  # would be shrunk 4x
    plan = den.plan(fine)
    assert not plan.runs and "shrunk 4x" in plan.refusal
    got = den.denoise_checked(fine)
    assert got.model is None and got.verdict.delivered == "raw"
    assert np.array_equal(got.delivered.data, fine.data) and "not denoised" in got.verdict.reason
    # the bare model pass still serves it when asked to (evaluation, --max-zoom)
    assert den.denoise(fine).shape == fine.shape
    assert den.denoise_checked(fine, max_zoom=5.0).model is not None


def test_denoiser_measures_its_speed_for_the_plan(tmp_path: Path) -> None:
    den = Denoiser.from_folder(_model(tmp_path / "m"), device="cpu")
    assert den.seconds_per_megapixel is None
    den.denoise(_scan(64, 64))
    assert den.seconds_per_megapixel is not None and den.seconds_per_megapixel > 0
    assert den.plan(_scan(64, 64)).seconds == pytest.approx(den.seconds_per_megapixel * 64 * 64 / 1e6)


@pytest.mark.realdata
def test_score_shows_the_fidelity_of_what_is_delivered(tmp_path: Path, realdata_dir: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """`stmdenoise score --model` reports the same forward/backward figures the app shows."""
    from stmdenoise.cli.main import main

    scan = realdata_dir / "createc" / "createc_scan_step_20nm.dat"
    assert main(["score", str(scan), "--model", str(_model(tmp_path / "m")), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    raw, den = rows
    assert raw["fidelity_error"] == 1.0 and raw["fidelity_kept"] == 1.0
    assert den["delivered"].startswith("gaussian")  # 39 pm/px: the tiny 0.14 nm/px model is not run
    assert 0 < den["fidelity_error"] < 1.0 and den["fidelity_worst_band"].endswith("Å")
    # the step stands far above the noise: what the delivered Gaussian keeps of it (heights)
    assert raw["heights_kept"] == 1.0 and 0.9 < den["heights_kept"] <= 1.0


def test_exported_tiff_carries_the_do_no_harm_verdict(tmp_path: Path) -> None:
    """Provenance: what was delivered, and why, travels with the exported file."""
    from stmdenoise.io import read_scan, write_scan

    den = Denoiser.from_folder(_model(tmp_path / "m"), device="cpu")
    fwd = _scan(96, 96, seed=1)
    got = den.denoise_checked(fwd, partner=_scan(96, 96, seed=2).replace(direction="backward"))
    back = read_scan(write_scan(got.delivered, tmp_path / "out.tiff"))
    params = {st.name: st.params for st in back.steps}["do_no_harm"]
    assert params["delivered"] == got.verdict.delivered and params["summary"] == got.verdict.summary()
    assert params["model_fidelity"]["overall"]["error"] == pytest.approx(got.verdict.model.overall.error)  # type: ignore[union-attr]


def test_a_scan_inside_the_native_range_runs_on_its_own_grid(tmp_path: Path) -> None:
    from stmdenoise.model.folder import load_model_folder
    from stmdenoise.processing import to_network

    folder = _model(tmp_path / "m", native=(0.5 * PX, 2 * PX))
    den = Denoiser.from_folder(folder, device="cpu", backend="torch")
    assert den.info.native_pixel_size_range == pytest.approx((0.5 * PX, 2 * PX))
    assert json.loads((folder / "config.json").read_text())["native_pixel_size_range_m"] == pytest.approx(
        [0.5 * PX, 2 * PX]
    )
    scan = _scan(px=0.1e-9)  # 0.1 nm/px: resampled to 0.14 nm/px without the range
    plan = den.plan(scan)
    assert plan.native and not plan.resampled and plan.work_shape == scan.shape
    out = den.denoise(scan)
    assert out.steps[-1].params["native_grid"] is True
    # the generator on the un-resampled normalised input, mapped back
    info, _, g_da = load_model_folder(folder)
    x, inverse = to_network(scan, info.normalization, None)
    assert x.shape == scan.shape
    with torch.no_grad():
        y = g_da(torch.from_numpy(x.astype(np.float32))[None, None])[0, 0].numpy()
    np.testing.assert_allclose(out.data, inverse(y), rtol=1e-4, atol=1e-5 * np.ptp(scan.data))
    # outside the range: resampled as before
    far = _scan(px=0.3e-9, rows=200, cols=200)
    assert den.plan(far).resampled and not den.plan(far).native


def test_without_a_native_range_every_scan_is_resampled_and_the_shipped_model_has_none(
    tmp_path: Path,
) -> None:
    from stmdenoise.model.folder import read_model_info

    root = Path(__file__).resolve().parents[1]
    shipped = read_model_info(root / "models" / "cu111-default")
    assert shipped.native_pixel_size_range is None
    assert "native_pixel_size_range_m" not in json.loads(
        (root / "models" / "cu111-default" / "config.json").read_text()
    )
    den = Denoiser.from_folder(_model(tmp_path / "m"), device="cpu", backend="torch")
    plan = den.plan(_scan(px=0.1e-9))
    assert plan.resampled and not plan.native and plan.work_pixel_size == PX
    assert "native_grid" not in den.denoise(_scan(px=0.1e-9)).steps[-1].params
    assert "native_pixel_size_range_m" not in json.loads((tmp_path / "m" / "config.json").read_text())


@pytest.mark.parametrize("bad", [[1e-10], [2e-10, 1e-10], [1e-13, 1e-10], ["a", 1e-10], True])
def test_a_damaged_native_range_is_refused(tmp_path: Path, bad: object) -> None:
    folder = _model(tmp_path / "m")
    cfg = json.loads((folder / "config.json").read_text())
    cfg["native_pixel_size_range_m"] = bad
    (folder / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelFolderError, match="native_pixel_size_range_m"):
        Denoiser.from_folder(folder, device="cpu")
