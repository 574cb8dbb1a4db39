"""The PyInstaller spec, the Inno Setup script and the Linux desktop files agree, without building.

The full build (minutes, ~1 GB) is `python installer/build.py --smoke-test`; see installer/README.md.
"""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "installer" / "stmdenoise.spec"
ISS = ROOT / "installer" / "windows" / "stmdenoise.iss"


class _Recorder:
    """Stands in for PyInstaller's Analysis/PYZ/EXE/COLLECT and keeps what the spec passed."""

    calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __call__(self, *args: Any, **kwargs: Any) -> types.SimpleNamespace:
        _Recorder.calls.append((self.kind, args, kwargs))
        scripts = [(Path(s).stem, s, "PYSOURCE") for s in (args[0] if self.kind == "Analysis" else [])]
        return types.SimpleNamespace(
            pure=[],
            scripts=[("pyi_rth_pyside6", "rth.py", "PYSOURCE"), *scripts],
            binaries=[],
            datas=[],
            kind=self.kind,
            args=args,
            kwargs=kwargs,
        )


@pytest.fixture(scope="module")
def spec(monkeypatch_module: pytest.MonkeyPatch) -> dict[str, list[tuple[tuple[Any, ...], dict[str, Any]]]]:
    hooks = types.ModuleType("PyInstaller.utils.hooks")
    hooks.collect_data_files = lambda *a, **k: []  # type: ignore[attr-defined]
    hooks.collect_submodules = lambda name, *a, **k: [name]  # type: ignore[attr-defined]
    hooks.copy_metadata = lambda *a, **k: []  # type: ignore[attr-defined]
    for name in ("PyInstaller", "PyInstaller.utils"):
        monkeypatch_module.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch_module.setitem(sys.modules, "PyInstaller.utils.hooks", hooks)
    _Recorder.calls = []
    namespace = {"SPECPATH": str(SPEC.parent), "__file__": str(SPEC)}
    namespace.update({k: _Recorder(k) for k in ("Analysis", "PYZ", "EXE", "COLLECT")})
    exec(compile(SPEC.read_text(encoding="utf-8"), str(SPEC), "exec"), namespace)
    out: dict[str, list[tuple[tuple[Any, ...], dict[str, Any]]]] = {}
    for kind, args, kwargs in _Recorder.calls:
        out.setdefault(kind, []).append((args, kwargs))
    return out


@pytest.fixture(scope="module")
def monkeypatch_module() -> Any:
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def _bundled(spec: dict[str, Any]) -> dict[str, Path]:
    """Destination folder in the bundle -> source folder, from the Analysis datas."""
    ((args, kwargs),) = spec["Analysis"]
    return {dest: Path(src) for src, dest in kwargs["datas"]}


def test_bundle_carries_the_shipped_model_and_the_example_scan(spec: dict[str, Any]) -> None:
    datas = _bundled(spec)
    assert datas["models"] == ROOT / "models"
    assert datas["resources"] == ROOT / "resources"
    # where the app looks for them: install_root() is _internal/, the folder above the package
    model = datas["models"] / "cu111-default"
    assert (model / "config.json").is_file()
    assert any(model.glob("*.safetensors")), "the model's weights"
    assert (datas["resources"] / "examples" / "cu111_simulated_typical.sxm").is_file()
    assert (datas["resources"] / "style.qss").is_file()


def test_two_executables_share_one_folder(spec: dict[str, Any]) -> None:
    exes = {kw["name"]: (args, kw) for args, kw in spec["EXE"]}
    assert set(exes) == {"stmdenoise-gui", "stmdenoise"}
    assert exes["stmdenoise-gui"][1]["console"] is False  # no console window on Windows
    assert exes["stmdenoise"][1]["console"] is True
    gui_scripts = [s[0] for s in exes["stmdenoise-gui"][0][1]]
    cli_scripts = [s[0] for s in exes["stmdenoise"][0][1]]
    assert "entry_gui" in gui_scripts and "entry_cli" not in gui_scripts
    assert "entry_cli" in cli_scripts and "entry_gui" not in cli_scripts
    ((args, kw),) = spec["Analysis"]
    for script in args[0]:
        assert Path(script).is_file()
    ((_, coll_kw),) = spec["COLLECT"]
    assert coll_kw["name"] == "STM-Denoise"
    assert "stmdenoise" in kw["hiddenimports"]  # lazily imported panels' modules


def _iss_defines(text: str) -> dict[str, str]:
    return dict(re.findall(r'^\s*#define\s+(\w+)\s+"([^"]*)"', text, flags=re.M))


def test_windows_installer_matches_the_bundle_layout(spec: dict[str, Any]) -> None:
    text = ISS.read_text(encoding="utf-8")
    defines = _iss_defines(text)
    gui_name = next(kw["name"] for _, kw in spec["EXE"] if kw["console"] is False)
    assert defines["AppExe"] == f"{gui_name}.exe"  # what PyInstaller names it on Windows
    ((_, coll_kw),) = spec["COLLECT"]
    assert (
        defines["Bundle"].replace("\\", "/") == f"../../dist/{coll_kw['name']}"
    )  # build.py's --dist default
    assert "SetupIconFile=..\\..\\build\\icons\\stmdenoise.ico" in text  # where build.py renders it
    assert "OutputBaseFilename={#SetupName}" in text and '"STM-Denoise-Setup"' in text
    # Start menu, optional desktop shortcut, uninstaller
    assert re.search(r'^Name: "\{group\}\\\{#AppName\}"; Filename: "\{app\}\\\{#AppExe\}"', text, re.M)
    assert re.search(r'^Name: "\{autodesktop\}\\.*Tasks: desktopicon', text, re.M)
    assert "{uninstallexe}" in text
    # "Open with STM Denoise" for .sxm and .dat; .dat's default program is never taken over
    for ext in (".sxm", ".dat"):
        assert f'Subkey: "Software\\Classes\\SystemFileAssociations\\{ext}\\shell\\STMDenoise"' in text
        assert f'Subkey: "Software\\Classes\\{ext}\\OpenWithProgids"' in text
    assert not re.search(r'Subkey: "Software\\Classes\\\.dat"; ValueType: string; ValueName: ""', text)
    sxm_default = next(
        line for line in text.splitlines() if line.startswith('Root: HKA; Subkey: "Software\\Classes\\.sxm";')
    )
    assert "createvalueifdoesntexist" in sxm_default  # never overrides the user's choice
    assert '""{app}\\{#AppExe}"" ""%1""' in text  # one file per start: the single instance collects them


def test_linux_desktop_entry_and_mime_types_agree() -> None:
    import xml.etree.ElementTree as ET

    from stmdenoise.io import createc

    linux = ROOT / "installer" / "linux"
    desktop = (linux / "stmdenoise.desktop.in").read_text(encoding="utf-8")
    listed = set(re.search(r"^MimeType=(.*)$", desktop, re.M).group(1).strip(";").split(";"))  # type: ignore[union-attr]
    ns = {"m": "http://www.freedesktop.org/standards/shared-mime-info"}
    root = ET.parse(linux / "stmdenoise-mime.xml").getroot()
    types_ = {t.get("type"): t for t in root.findall("m:mime-type", ns)}
    assert listed == set(types_)
    assert "Exec=@APP@/stmdenoise-gui %F" in desktop and "Icon=stmdenoise" in desktop
    sxm = types_["application/x-nanonis-sxm"]
    assert sxm.find("m:glob", ns).get("pattern") == "*.sxm"  # type: ignore[union-attr]
    magic = {t: [m.get("value") for m in el.iter(f"{{{ns['m']}}}match")] for t, el in types_.items()}
    assert magic["application/x-nanonis-sxm"] == [":NANONIS_VERSION:"]
    (createc_magic,) = magic["application/x-createc-dat"]
    assert createc.is_createc(createc_magic.encode() + b"32]\r\n")  # what the reader recognises
    assert types_["application/x-createc-dat"].find("m:glob", ns) is None  # not every .dat file
