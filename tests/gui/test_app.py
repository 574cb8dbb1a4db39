"""Entry points: `stmdenoise-gui --screenshot`, `python -m stmdenoise`, the log file, first run."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from stmdenoise.__main__ import main as module_main
from stmdenoise.gui import app
from stmdenoise.paths import user_data_dir


@pytest.mark.realdata
def test_screenshot_renders_a_real_scan(qtbot, realdata_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "shot.png"
    code = app.main(
        [
            "--screenshot",
            str(out),
            "--size",
            "1000x700",
            "--settings",
            str(tmp_path / "s.ini"),
            str(realdata_dir / "nanonis" / "img_0071.sxm"),
        ]
    )
    assert code == 0
    img = QImage(str(out))
    assert (img.width(), img.height()) == (1000, 700)
    # the log goes to the user data folder (no console for a gui-script on Windows)
    log = user_data_dir() / "logs" / "stmdenoise-gui.log"
    assert "starting" in log.read_text(encoding="utf-8")


def test_python_m_stmdenoise_keeps_the_cli(capsys, realdata_dir: Path) -> None:  # type: ignore[no-untyped-def]
    assert module_main(["info", str(realdata_dir / "nanonis" / "img_0071.sxm")]) == 0
    assert "img_0071" in capsys.readouterr().out


def test_first_run_opens_the_example_scan(qtbot, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from stmdenoise.paths import example_scans

    if not example_scans():
        pytest.skip("no example scan in resources/examples yet")
    settings = tmp_path / "s.ini"
    out = tmp_path / "first.png"
    assert app.main(["--screenshot", str(out), "--settings", str(settings)]) == 0
    assert out.is_file()
    from stmdenoise.gui.settings import AppSettings

    assert AppSettings(settings).first_run_done


def test_example_opens_after_the_first_run_only_when_asked(tmp_path: Path) -> None:
    from stmdenoise.gui.settings import AppSettings
    from stmdenoise.paths import example_scans

    if not example_scans():
        pytest.skip("no example scan in resources/examples yet")
    settings = AppSettings(tmp_path / "s.ini")
    example = [str(p) for p in example_scans()]
    parse = app.build_parser().parse_args
    assert app.startup_files(parse([]), settings) == example  # first run
    assert settings.first_run_done
    assert app.startup_files(parse([]), settings) == []  # later starts: an empty window
    assert app.startup_files(parse(["--example"]), settings) == example  # python bootstrap.py app
    assert app.startup_files(parse(["--example", "--no-example"]), settings) == []
    assert app.startup_files(parse(["--example", "a.sxm"]), settings) == ["a.sxm"]  # given files win
