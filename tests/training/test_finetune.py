"""Fine-tuning on real scans: checks, hold-out, the job (finish, cancel, resume), the CLI."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from stmdenoise.training.finetune import (
    INCOMPLETE_NAME,
    FinetuneRequest,
    ScanCheck,
    check_scans,
    finetune,
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
