"""Screenshots of every panel and tool of the app at 1366 x 768 and 1920 x 1080 (docs/gui.md).

Run under a real X server, e.g. Xvfb, from the repository root::

    Xvfb :119 -screen 0 1920x1080x24 &
    DISPLAY=:119 python docs/img/make_gui_screenshots.py [REALDATA_DIR]

REALDATA_DIR defaults to ``../shared/realdata``. Each picture is read back from the X server's
frame buffer (what a user sees), not rendered off-screen. Exported PNGs (colour bar, scale bar,
physical aspect) are written next to them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

# a tiny training run registers its model in the user folder: keep it out of the real one
os.environ.setdefault("STMDENOISE_USER_DIR", "/tmp/stmdenoise_screenshots/user")

from PySide6.QtWidgets import QApplication  # noqa: E402

from stmdenoise.gui.app import make_window, wait_until_idle  # noqa: E402
from stmdenoise.gui.window import MainWindow  # noqa: E402

OUT = Path(__file__).resolve().parent
ROOT = OUT.parent.parent
SIZES = ((1366, 768), (1920, 1080))


def _grab(win: MainWindow, name: str, size: tuple[int, int]) -> None:
    wait_until_idle(win, timeout_s=600)
    for _ in range(5):
        QApplication.processEvents()
    geo = win.frameGeometry()
    shot = win.screen().grabWindow(0, geo.x(), geo.y(), size[0], size[1])
    out = OUT / f"gui_{name}_{size[0]}x{size[1]}.png"
    shot.save(str(out))
    print(out.relative_to(ROOT))  # noqa: T201 - a script's report


def _window(size: tuple[int, int], settings: Path, *, auto: bool) -> MainWindow:
    win = make_window(settings)
    win.denoise_panel.auto_box.setChecked(auto)
    win.resize(*size)
    win.move(0, 0)
    win.show()
    return win


def _main_view(win: MainWindow, real: Path) -> None:
    """Createc step: facet levelled, denoised, profile across the step with A/B on the terraces."""
    win.session.open_paths([real / "createc" / "createc_scan_step_20nm.dat"])
    wait_until_idle(win, timeout_s=600)
    v = win.views
    v.level_method.setCurrentIndex(v.level_method.findData("facet"))
    v.level_box.setChecked(True)
    v.set_colormap("gold")
    wait_until_idle(win, timeout_s=600)
    v.width_box.setValue(15)
    v.set_profile_points((2e-9, 6e-9), (18e-9, 6e-9))
    v.profile.set_cursors(2e-9, 10e-9)


def _fft(win: MainWindow, real: Path) -> None:
    """Simulated Cu(111) standing waves: the FFT ring and its k_F / λ_F readout."""
    win.session.open_paths([ROOT / "resources" / "examples" / "cu111_simulated_typical.sxm"])
    win.views.set_colormap("viridis")
    win.docks["FFT"].raise_()
    wait_until_idle(win, timeout_s=600)
    win.fourier.find_ring()


def _grid(win: MainWindow, real: Path) -> None:
    """A .3ds grid: the map slider with the bias of each map."""
    win.session.open_paths([real / "nanonis" / "Grid Experiment2001.3ds"])
    wait_until_idle(win, timeout_s=600)
    slider = win.scan_list.slice_slider
    slider.setValue(slider.maximum() // 3)
    win.views.set_colormap("inferno")


def _nonsquare(win: MainWindow, real: Path) -> None:
    """Nanonis img_0045: non-square pixels, scan angle -54°, aborted (NaN) rows; three-point picks."""
    win.session.open_paths([real / "nanonis" / "img_0045.sxm"])
    wait_until_idle(win, timeout_s=600)
    v = win.views
    v.set_colormap("afmhot")
    v.align_box.setChecked(True)
    v.level_method.setCurrentIndex(v.level_method.findData("three_points"))
    v.level_box.setChecked(True)
    v.pick_point(10e-9, 5e-9)


def _folder(win: MainWindow, real: Path) -> None:
    """The whole real-data folder: the first readable scan shown, unreadable files say why."""
    win.session.open_paths([real])
    win.views.set_colormap("cividis")


def _crop(win: MainWindow, real: Path) -> None:
    """Crop: zoom on an area and keep only it (Createc step, polynomial 3 + line poly 1)."""
    win.session.open_paths([real / "createc" / "createc_scan_step_20nm.dat"])
    wait_until_idle(win, timeout_s=600)
    v = win.views
    v.level_method.setCurrentIndex(v.level_method.findData("poly3"))
    v.level_box.setChecked(True)
    v.align_method.setCurrentIndex(v.align_method.findData("poly1"))
    v.align_box.setChecked(True)
    wait_until_idle(win, timeout_s=600)
    from PySide6.QtCore import QRectF

    v.set_view_rect(QRectF(4e-9, 1e-9, 8e-9, 8e-9))
    v.crop_button.setChecked(True)


def _open_current(win: MainWindow, scan: Path, *, notices: bool = False) -> None:
    """Open ``scan``, select its Current channel (which denoises it) and, with ``notices``, scroll
    the Denoise panel to the end of the verdict, where its notices are."""
    win.session.open_paths([scan])
    wait_until_idle(win, timeout_s=600)
    win.session.set_channel("Current")
    if notices:
        wait_until_idle(win, timeout_s=600)
        bar = win.docks["Denoise"].widget().verticalScrollBar()
        bar.setValue(bar.maximum())


def _feedback(win: MainWindow, real: Path) -> None:
    """TR_img_0249 Current, recorded with the Z feedback on (96 rows): judged against its backward
    frame negated, and denoised with it (the two-direction Wiener in 16-row bands)."""
    _open_current(win, real / "nanonis" / "TR_img_0249.sxm")


def _quiet(win: MainWindow, real: Path) -> None:
    """img_0253 Current, a quiet scan (line coherence 0.60): the gain would decline it; its
    backward frame lets the two-direction Wiener (16-row bands) measure the little noise there is."""
    _open_current(win, real / "nanonis" / "img_0253.sxm")


def _contrast(win: MainWindow, real: Path) -> None:
    """Au_mica Current: the backward frame shows the large scales at 0.89x the contrast; the
    verdict names it (the estimate would favour filters that shrink the contrast)."""
    _open_current(win, real / "nanonis" / "Au_mica_2023_Y_A_diPAMY_195.sxm")


def _contrast_feedback(win: MainWindow, real: Path) -> None:
    """The Createc step's Current, recorded with the Z feedback on: judged against its backward
    frame negated, which shows the large scales at 0.59x the contrast; the verdict names it."""
    _open_current(win, real / "createc" / "createc_scan_step_20nm.dat", notices=True)


def _uneven(win: MainWindow, real: Path) -> None:
    """CO_img_0050 Current: its noise varies 493x between 16-row strips; the verdict says so, and
    the policy delivers the Gaussian that the check finds closer."""
    _open_current(win, real / "nanonis" / "CO_img_0050.sxm", notices=True)


def _open_alone(win: MainWindow, name: str, scan: Any) -> None:
    """Write ``scan`` as a one-channel .sxm without its other direction under the screenshots'
    temporary folder, open it in the window and wait for its denoise."""
    from stmdenoise.io.sxm_write import write_sxm

    path = Path("/tmp/stmdenoise_screenshots") / name
    path.unlink(missing_ok=True)
    write_sxm(path, [scan])
    win.session.open_paths([path])
    wait_until_idle(win, timeout_s=600)


def _open_forward_only(win: MainWindow, name: str, heights_a: Any, px_a: float) -> None:
    """:func:`_open_alone` for ``heights_a`` (Å), a forward Z frame of ``px_a`` Å/px."""
    from stmdenoise.scan import Scan

    px = px_a * 1e-10
    _open_alone(win, name, Scan(heights_a * 1e-10, pixel_size=(px, px), channel="Z", unit="m"))


def _open_constructed(win: MainWindow, name: str, case: tuple[str, float, float, int, int]) -> None:
    """The forward frame of ``bench/other_surfaces.py``'s ``case`` (surface, Å/px, noise, seed,
    pixels; ideal scanner), opened as ``name`` without its backward frame (:func:`_open_forward_only`)."""
    sys.path.insert(0, str(ROOT / "bench"))
    import other_surfaces

    surface, px_a, noise, seed, pixels = case
    _, fwd, _ = other_surfaces.make_case(surface, px_a, noise, "ideal", seed, pixels)
    _open_forward_only(win, name, fwd, px_a)


def _lattice(win: MainWindow, real: Path) -> None:
    """A Si(111)-7x7-like topograph saved without its backward frame (``bench/other_surfaces.py``,
    1 Å/px, noise 0.4x the surface's RMS): the spectral gain would remove most of its adatom
    lattice; until program 0.2.39 the check delivered the raw scan, since 0.2.40 the gain's output
    with the raw scan's strong peaks and broad periods back, and the panel says why."""
    _open_constructed(win, "si7x7_like_forward_only.sxm", ("si7x7", 1.0, 0.4, 5000, 256))


def _lattice_repaired(win: MainWindow, real: Path) -> None:
    """A moiré saved without its backward frame (``bench/other_surfaces.py``, 0.22 Å/px as the
    hidden moiré, 512 px, noise 1x the surface's RMS): the spectral gain keeps 38 % of the power at
    the moiré's peaks, which the check is not sure enough of to refuse; since program 0.2.38 the
    raw scan's content there is delivered and the panel says so."""
    _open_constructed(win, "moire_forward_only.sxm", ("moire", 0.22, 1.0, 5196, 512))


def _terrace_tv(win: MainWindow, real: Path) -> None:
    """A flat terrace with a few lone defects and both directions (``bench/other_surfaces.py``'s
    sparse surface, 1 Å/px, noise 0.4x the surface's RMS with pySPM_test Z's spectrum; seed 7601):
    the two-direction Wiener keeps the noise of the tiles that hold a defect; since program 0.2.45
    the judge delivers the total variation the backward frame puts closer, and the panel says why."""
    _open_constructed_pair(
        win, real, ("sparse", 1.0, 0.4, 7601), "nanonis/pySPM_test.sxm", "sparse_terrace_both.sxm"
    )


def _terrace_refined(win: MainWindow, real: Path) -> None:
    """A terrace of steps at 1 Å/px with both directions (``bench/other_surfaces.py``'s terrace,
    noise 1x the surface's RMS with img_0071 Z's spectrum; seed 5275): the two-direction Wiener's
    output is delivered, and since program 0.2.46 refined by total variation of it where the
    backward frame puts that closer and it keeps the output's signal (candidate EO2); the panel
    says by how much."""
    _open_constructed_pair(win, real, ("terrace", 1.0, 1.0, 5275), "nanonis/img_0071.sxm", "terrace_both.sxm")


def _open_constructed_pair(
    win: MainWindow, real: Path, case: tuple[str, float, float, int], source: str, name: str
) -> None:
    """``bench/other_surfaces.py``'s ``case`` (surface, Å/px, noise, seed; ideal scanner, 256 px)
    with ``source``'s Z noise spectrum, both directions saved as one .sxm ``name`` and opened."""
    from stmdenoise.io.sxm_write import write_sxm
    from stmdenoise.scan import Scan

    sys.path.insert(0, str(ROOT / "bench"))
    import other_surfaces

    surface, px_a, noise, seed = case
    _, fwd, bwd = other_surfaces.make_case(surface, px_a, noise, "ideal", seed, 256, (str(real), source, "Z"))
    px = (px_a * 1e-10, px_a * 1e-10)
    path = Path("/tmp/stmdenoise_screenshots") / name
    path.unlink(missing_ok=True)
    write_sxm(path, [
        Scan(fwd * 1e-10, pixel_size=px, channel="Z", unit="m"),
        Scan(bwd * 1e-10, pixel_size=px, channel="Z", unit="m", direction="backward"),
    ])  # fmt: skip
    win.session.open_paths([path])
    wait_until_idle(win, timeout_s=600)


def _rectangle(win: MainWindow, real: Path) -> None:
    """Atoms on a rectangular 7.68 x 3.84 Å cell (Si(100)-2x1-like rows, sharp enough to show their
    next combinations), 0.5 Å/px, 0.3x the noise, saved without its backward frame: the spectral
    gain would keep none of the lattice; since program 0.2.40 its strong peaks come back from the
    raw scan (0.2.39 and before: the raw scan) and the panel says why."""
    import numpy as np

    y, x = np.mgrid[0:256, 0:256].astype(float)
    u, v = x * np.cos(0.2) + y * np.sin(0.2), -x * np.sin(0.2) + y * np.cos(0.2)
    atoms = np.exp(-2 * (1 - np.cos(2 * np.pi * u / 15.36))) * np.exp(-2 * (1 - np.cos(2 * np.pi * v / 7.68)))
    z = 0.3 * (atoms - atoms.mean()) / atoms.std() + np.random.default_rng(1).normal(size=(256, 256))
    _open_forward_only(win, "rectangular_lattice_forward_only.sxm", z, 0.5)


def _line_noise(win: MainWindow, real: Path) -> None:
    """CO_img_0050's forward current saved without its backward frame: the spectral gain would blur
    the porphyrin's lobes away, removing 5x the noise neighbouring lines show along them, so the
    check delivers the raw scan and says why (docs/model-selection.md, candidate CB)."""
    from stmdenoise.training.real_fidelity import two_direction_frames

    ((_, fwd, _),) = two_direction_frames(real / "nanonis" / "CO_img_0050.sxm", ["Current"])
    _open_alone(win, "CO_img_0050_current_forward_only.sxm", fwd)


def _hysteresis(win: MainWindow, real: Path) -> None:
    """pySPM_test.sxm: its backward frame lies 5-25 px from the forward one along the lines (piezo
    hysteresis); the second look follows that, and the Denoise panel's notices (scrolled to) say
    by how much."""
    win.session.open_paths([real / "nanonis" / "pySPM_test.sxm"])
    wait_until_idle(win, timeout_s=600)
    bar = win.docks["Denoise"].widget().verticalScrollBar()
    bar.setValue(bar.maximum())


def _simulation(win: MainWindow, real: Path) -> None:
    win.docks["Simulation"].raise_()
    if win.simulation.preview_button.isEnabled():
        win.simulation.preview()


def _training(win: MainWindow, real: Path) -> None:
    """A few steps of a tiny model (user folder redirected to /tmp): the loss legend under the plot."""
    win.docks["Training"].raise_()
    panel = win.training
    folder = Path("/tmp/stmdenoise_screenshots/real")
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / "a.sxm"
    if not link.exists():
        link.symlink_to(real / "nanonis" / "img_0071.sxm")
    panel.real_edit.setText(str(folder))
    panel.steps_box.setValue(12)
    panel.crop_box.setValue(32)
    panel.batch_box.setValue(2)
    panel.device_box.setCurrentIndex(1)  # CPU
    panel.name_edit.setText("screenshot-tiny")
    tiny = dict(ngf=8, blocks=2, ndf=8, fa_width=8, sim_pixels=48, sim_size=48 * 0.14e-9, sim_pool=4)
    panel.start(panel.request(**tiny, preview_every=4, checkpoint_every=0))
    wait_until_idle(win, timeout_s=600)
    area = win.docks["Training"].widget()  # scroll so the loss plot ends with its legend row in view
    bottom = panel.loss_view.mapTo(panel, panel.loss_view.rect().bottomLeft()).y()
    area.verticalScrollBar().setValue(bottom - area.viewport().height() + 8)


SCENES: dict[str, tuple[Callable[[MainWindow, Path], None], bool]] = {
    "main": (_main_view, True),
    "fft": (_fft, False),
    "grid": (_grid, False),
    "nonsquare": (_nonsquare, False),
    "folder": (_folder, False),
    "crop": (_crop, False),
    "feedback": (_feedback, True),
    "contrast": (_contrast, True),
    "contrast_feedback": (_contrast_feedback, True),
    "uneven": (_uneven, True),
    "quiet": (_quiet, True),
    "lattice": (_lattice, True),
    "lattice_repaired": (_lattice_repaired, True),
    "rectangle": (_rectangle, True),
    "terrace_tv": (_terrace_tv, True),
    "terrace_refined": (_terrace_refined, True),
    "line_noise": (_line_noise, True),
    "hysteresis": (_hysteresis, True),
    "simulation": (_simulation, False),
    "training": (_training, False),
}


def _exports(real: Path) -> None:
    """Exported pictures: physical aspect, scale bar and colour bar."""
    from stmdenoise.io import read_scan, write_scan
    from stmdenoise.processing import level_facet

    step = level_facet(read_scan(real / "createc" / "createc_scan_step_20nm.dat"))
    for name, scan, cmap in (
        ("export_createc_step_gold.png", step, "gold"),
        ("export_img_0045_nonsquare.png", read_scan(real / "nanonis" / "img_0045.sxm"), "afmhot"),
    ):
        out = write_scan(scan, OUT / name, colormap=cmap, scale_bar=True, colour_bar=True)
        print(Path(out).relative_to(ROOT))  # noqa: T201 - a script's report


def main(argv: list[str]) -> int:
    """Write every screenshot; returns the exit code."""
    real = Path(argv[1]) if len(argv) > 1 else ROOT.parent / "shared" / "realdata"
    only = set(argv[2:])
    app = QApplication.instance() or QApplication([])
    settings_dir = Path("/tmp") / "stmdenoise_screenshots"
    settings_dir.mkdir(exist_ok=True)
    for size in SIZES:
        for name, (scene, auto) in SCENES.items():
            if only and name not in only:
                continue
            settings = settings_dir / f"{name}_{size[0]}.ini"
            settings.unlink(missing_ok=True)
            win = _window(size, settings, auto=auto)
            scene(win, real)
            _grab(win, name, size)
            win.shutdown()
            win.deleteLater()
            app.processEvents()
    if not only or "exports" in only:
        _exports(real)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
