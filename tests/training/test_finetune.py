"""Fine-tuning on real scans: checks, hold-out, the job (finish, cancel, resume), the CLI."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from stmdenoise.training.finetune import (
    INCOMPLETE_NAME,
    FinetuneRequest,
    ScanCheck,
    check_scans,
    finetune,
    native_pixel_size_range,
    pick_holdout,
    working_pixel_size,
)

ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT / "models" / "cu111-default"


def _run(req: FinetuneRequest, cancel: threading.Event | None = None, cancel_at: int | None = None):  # type: ignore[no-untyped-def]
    gen = finetune(req, cancel)
    records = []
    try:
        while True:
            rec = next(gen)
            records.append(rec)
            if (
                cancel is not None
                and cancel_at is not None
                and rec.stage == "train"
                and rec.done >= cancel_at
            ):
                cancel.set()
    except StopIteration as stop:
        return records, stop.value


def test_check_scans_says_why_each_file_is_usable_or_not(realdata_dir: Path) -> None:
    checks = {c.path.name: c for c in check_scans([realdata_dir / "nanonis"])}
    assert checks["CO_img_0050.sxm"].usable and checks["CO_img_0050.sxm"].has_backward
    assert checks["BRSTM_img_0062.sxm"].channel == "Current"  # constant height: Z is flat
    assert not checks["img_0045.sxm"].usable and "mostly NaN" in checks["img_0045.sxm"].reason
    assert not checks["TR_dIdV_00006.dat"].usable and "spectrum" in checks["TR_dIdV_00006.dat"].reason
    assert (
        not checks["Grid Experiment2001.3ds"].usable
        and "too small" in checks["Grid Experiment2001.3ds"].reason
    )
    assert all(len(c.sha256) == 64 for c in checks.values())


def test_the_ko_frames_are_listed_as_not_usable(shared_dir: Path) -> None:
    ko = shared_dir / "reference" / "cu111_ko_group" / "experimental"
    checks = check_scans([ko])
    assert checks and not any(c.usable for c in checks)
    assert all("test scene" in c.reason for c in checks)


def test_pick_holdout_keeps_a_training_scan_and_takes_two_direction_scans() -> None:
    def c(name: str, frames: int = 2, usable: bool = True) -> ScanCheck:
        return ScanCheck(Path(name), usable, "", 1e-10, (64, 64), frames)

    checks = [c("a.sxm"), c("b.sxm"), c("c.sxm", frames=1), c("d.sxm", usable=False)]
    assert pick_holdout(checks, 1) == [Path("b.sxm")]
    assert pick_holdout(checks, 5) == [Path("a.sxm"), Path("b.sxm")]  # c.sxm (no backward) trains
    assert pick_holdout([c("a.sxm")], 1) == []  # the only scan is kept for training
    with pytest.raises(ValueError, match="n must be"):
        pick_holdout(checks, -1)


def test_working_pixel_size_is_the_median_of_the_training_scans() -> None:
    def c(px: float) -> ScanCheck:
        return ScanCheck(Path("x"), True, "", px, (64, 64), 2)

    assert working_pixel_size([c(30e-12), c(40e-12), c(35e-12)], 1.4e-10) == pytest.approx(35e-12)
    assert working_pixel_size([c(1.405e-10)], 1.4e-10) == 1.4e-10  # within 1 %: the base's


def test_native_range_when_the_training_scans_span_at_most_2x() -> None:
    def c(px: float, usable: bool = True) -> ScanCheck:
        return ScanCheck(Path("x"), usable, "", px, (64, 64), 2)

    lo, hi = native_pixel_size_range([c(30e-12), c(40e-12), c(60e-12)])  # type: ignore[misc]
    assert lo == pytest.approx(20e-12) and hi == pytest.approx(90e-12)  # min / 1.5, max * 1.5
    assert native_pixel_size_range([c(30e-12), c(61e-12)]) is None  # more than 2x: the median rule
    assert native_pixel_size_range([c(30e-12), c(100e-12, usable=False)]) is not None
    with pytest.raises(ValueError, match="no usable"):
        native_pixel_size_range([c(30e-12, usable=False)])


def test_finetune_cancel_resume_finish_and_judge(realdata_dir: Path, tmp_path: Path) -> None:
    from stmdenoise.denoise import Denoiser
    from stmdenoise.gui.tasks import list_models, user_models_dir

    n = realdata_dir / "nanonis"
    out = user_models_dir() / "mine"
    req = FinetuneRequest(
        scans=(str(n / "CO_img_0050.sxm"), str(n / "TR_img_0249.sxm")), base=str(BASE), out=str(out),
        steps=4, device="cpu", holdout=1, batch=1, crop=32, preview_every=1, checkpoint_every=0,
    )  # fmt: skip
    cancel = threading.Event()
    records, res = _run(req, cancel, cancel_at=2)
    assert res.cancelled and res.model_dir is None and res.checkpoint is not None and res.checkpoint.is_file()
    assert records[-1].cancelled
    assert (out / INCOMPLETE_NAME).is_file() and not (out / "config.json").exists()
    assert res.holdout_scans == ((n / "TR_img_0249.sxm").resolve(),)
    assert all(m.path != out for m in list_models())  # an unfinished run is never offered
    previews = [r.preview for r in records if r.preview]
    assert previews and {"raw", "finetuned"} <= set(previews[0])
    with pytest.raises(ValueError, match="--resume"):
        next(finetune(req))

    records, res = _run(FinetuneRequest(**{**req.__dict__, "resume": True}))
    assert not res.cancelled and res.steps == 4
    assert [r.done for r in records if r.stage == "train"] == [3, 4]  # continued, not restarted
    assert not (out / INCOMPLETE_NAME).exists() and not (out / "checkpoint").exists()
    assert any(m.path == out for m in list_models())
    card = (out / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert res.checks[0].sha256 in card and "TR_img_0249" in card and "best classical" in card
    methods = {r.method for r in res.rows}
    assert "Raw input" in methods and any(m.startswith("fine-tuned") for m in methods)
    assert any(m.startswith("base") for m in methods)
    s = res.summary
    worse_than_base = s["base_scans"] > 0 and s["finetuned_where_both"] > s["base_where_both"]
    assert res.flagged == (s["finetuned"] > 1.0 or worse_than_base)
    assert "| TR_img_0249.sxm Z | 1.00 |" in res.table
    d = Denoiser.from_folder(out, device="cpu")
    assert d.pixel_size == pytest.approx(res.pixel_size) and res.pixel_size == pytest.approx(
        35.7e-12, rel=0.01
    )
    # one training scan (35.7 pm): trained on its own grid, served natively within 1.5x of it
    assert d.info.native_pixel_size_range == pytest.approx((35.7e-12 / 1.5, 35.7e-12 * 1.5), rel=0.01)
    assert d.info.training["native_pixel_size_range_m"] == pytest.approx(list(d.info.native_pixel_size_range))
    assert "native pixel-size range" in card
    with pytest.raises(ValueError, match="already holds a model"):
        next(finetune(req))


def test_cli_finetune_prints_checks_holdout_and_table(
    realdata_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from stmdenoise.cli.main import main

    n = realdata_dir / "nanonis"
    shutil.copyfile(n / "CO_img_0050.sxm", tmp_path / "CO_img_0050.sxm")
    code = main([
        "finetune", str(tmp_path), "--holdout-scan", str(n / "TR_img_0249.sxm"), "--base", str(BASE),
        "--out", str(tmp_path / "ft"), "--steps", "2", "--device", "cpu", "--batch", "1", "-q",
    ])  # fmt: skip
    text = capsys.readouterr().out
    assert code in (0, 1)  # 1: flagged (two steps rarely beat the raw scan)
    assert "CO_img_0050.sxm [Z]: usable" in text and "Held out (never trained on): TR_img_0249.sxm" in text
    assert "| Raw input |" in text and (tmp_path / "ft" / "config.json").is_file()


# ---------------------------------------------------------------------- the starting weights
PX_BASE = 0.14e-9


@pytest.fixture(scope="module")
def tiny_residual_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny residual ``paired`` model (skip blur 0.45 px, as cu111-default) at 0.14 nm/px."""
    import torch

    from stmdenoise.model.folder import ModelInfo, NormalizationSpec, save_model_folder
    from stmdenoise.model.pdanet import ArchConfig, build_generators, init_weights

    torch.manual_seed(0)
    arch = ArchConfig(ngf=4, n_blocks=1, ndf=4, fa_width=4, residual=True, skip_blur=0.45)
    g_d, g_da = build_generators(arch, "paired")
    init_weights(g_d)
    info = ModelInfo(
        arch=arch, variant="paired", normalization=NormalizationSpec(), pixel_size=PX_BASE, name="tiny-res"
    )
    return save_model_folder(tmp_path_factory.mktemp("base") / "tiny-res", info, g_d, g_da)


def _skip_only(gen, x):  # type: ignore[no-untyped-def]
    """The residual skip path alone: tanh(blur(atanh(x)))."""
    import torch

    from stmdenoise.model.generator import safe_atanh

    return torch.tanh(gen._skip(safe_atanh(x)))


def test_identity_start_is_the_skip_path(tiny_residual_base: Path) -> None:
    import torch

    from stmdenoise.model.folder import load_model_folder
    from stmdenoise.training.finetune import zero_up_output

    _, gen, _ = load_model_folder(tiny_residual_base, device=torch.device("cpu"))
    gen.eval()
    x = torch.from_numpy(np.random.default_rng(0).uniform(-0.9, 0.9, (1, 1, 40, 36)).astype(np.float32))
    with torch.no_grad():
        before = gen(x)
        zero_up_output(gen)
        after = gen(x)
        skip = _skip_only(gen, x)
    assert not torch.allclose(before, skip, atol=1e-3)  # the Up block did add something
    torch.testing.assert_close(after, skip, atol=1e-6, rtol=1e-5)
    assert not torch.allclose(skip, x, atol=1e-3)  # the skip is the blurred input, not x itself


def test_choose_start_is_one_rule() -> None:
    from stmdenoise.training.finetune import choose_start

    def never() -> float:
        raise AssertionError("the base model need not be run")

    far = dict(base_pixel_size=140e-12, pixel_size=33.5e-12, residual=True)
    near = dict(base_pixel_size=140e-12, pixel_size=100e-12, residual=True)
    choice, why = choose_start("auto", base_error=never, **far)  # type: ignore[arg-type]
    assert choice == "identity" and "MAX_ZOOM" in why
    assert choose_start("auto", base_error=lambda: 3.0, **near)[0] == "identity"  # type: ignore[arg-type]
    assert choose_start("auto", base_error=lambda: 0.9, **near)[0] == "base"  # type: ignore[arg-type]
    assert choose_start("auto", base_error=lambda: float("nan"), **near)[0] == "base"  # type: ignore[arg-type]
    assert choose_start("base", base_error=never, **far) == ("base", "asked for")  # type: ignore[arg-type]
    assert choose_start("identity", base_error=never, **near)[0] == "identity"  # type: ignore[arg-type]
    assert choose_start("auto", base_error=never, **{**far, "residual": False})[0] == "base"  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="residual"):
        choose_start("identity", base_error=never, **{**far, "residual": False})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="start must be"):
        FinetuneRequest(scans=("x",), base="b", out="o", start="zero")


def test_auto_start_is_identity_for_a_base_far_from_the_scans_pixel_size(
    realdata_dir: Path, tiny_residual_base: Path, tmp_path: Path
) -> None:
    import torch

    from stmdenoise.model.folder import load_model_folder

    req = FinetuneRequest(
        scans=(str(realdata_dir / "nanonis" / "CO_img_0050.sxm"),), base=str(tiny_residual_base),
        out=str(tmp_path / "ft"), steps=1, lr=0.0, device="cpu", holdout=0, batch=1, crop=32,
        lambda_anchor=0.0, preview_every=0, checkpoint_every=0,
    )  # fmt: skip
    records, res = _run(req)
    assert res.start == "identity" and "MAX_ZOOM" in res.start_reason  # 35.7 pm vs 140 pm: 3.9x
    assert any(r.message.startswith("start: identity (auto:") for r in records)
    assert "start: identity (auto:" in (tmp_path / "ft" / "MODEL_CARD.md").read_text(encoding="utf-8")
    info, gen, _ = load_model_folder(tmp_path / "ft", device=torch.device("cpu"))
    assert info.training["start"] == "identity"
    x = torch.from_numpy(np.random.default_rng(1).uniform(-0.9, 0.9, (1, 1, 32, 32)).astype(np.float32))
    with torch.no_grad():  # lr 0: the saved network is still the skip path alone
        torch.testing.assert_close(gen.eval()(x), _skip_only(gen, x), atol=1e-6, rtol=1e-5)


def test_cli_start_flag(
    realdata_dir: Path, tiny_residual_base: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from stmdenoise.cli.main import main

    scan = str(realdata_dir / "nanonis" / "CO_img_0050.sxm")
    args = ["finetune", scan, "--base", str(tiny_residual_base), "--steps", "1", "--device", "cpu",
            "--batch", "1", "--crop", "32", "--holdout", "0", "--lambda-anchor", "0", "-q"]  # fmt: skip
    assert main([*args, "--out", str(tmp_path / "a"), "--start", "base"]) == 0
    assert "Start: base (asked for)" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main([*args, "--out", str(tmp_path / "b"), "--start", "zero"])


def test_best_weights_keep_the_lowest_validation_error() -> None:
    import torch

    from stmdenoise.processing import NormalizationSpec
    from stmdenoise.training.finetune_state import BestWeights, validation_error
    from stmdenoise.training.real_pairs import AlignedPair

    gen = torch.nn.Conv2d(1, 1, 1, bias=False)
    spec = NormalizationSpec(squash=0.5)
    x = np.linspace(-0.5, 0.5, 64, dtype=np.float32).reshape(8, 8)
    pair = AlignedPair(x, np.asarray(spec.inverse(x), dtype=np.float32), "a", (0.0, 0.0))
    best = BestWeights()
    with torch.no_grad():
        gen.weight.fill_(1.0)  # the identity: no error against a noise-free target
    assert validation_error(gen, [pair], spec, torch.device("cpu")) < 1e-10
    assert best.offer(0, validation_error(gen, [pair], spec, torch.device("cpu")), gen)
    with torch.no_grad():
        gen.weight.fill_(0.5)
    worse = validation_error(gen, [pair], spec, torch.device("cpu"))
    assert worse > 1e-3 and not best.offer(25, worse, gen)
    best.restore(gen)
    assert float(gen.weight.detach()) == 1.0 and best.step == 0
    assert best.to_dict()["validation"] == [[0, best.error], [25, worse]]
    assert np.isnan(validation_error(gen, [], spec, torch.device("cpu")))
