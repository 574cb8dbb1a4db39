#!/usr/bin/env python3
"""Render the app icon's PNG sizes (and a Windows .ico) from ``resources/icons/stmdenoise.svg``.

    python installer/icons.py OUT_DIR

Writes ``OUT_DIR/hicolor/<N>x<N>/apps/stmdenoise.png`` (the freedesktop icon-theme layout that
``installer/linux/install.sh`` copies into ``~/.local/share/icons``), ``OUT_DIR/stmdenoise-<N>.png``
and ``OUT_DIR/stmdenoise.ico`` (16-256 px, for the Windows executable and installer). Uses Qt's
own SVG renderer (PySide6's QtSvg, already a dependency) on the offscreen platform, and Pillow
(also a dependency) for the .ico container.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SVG = ROOT / "resources" / "icons" / "stmdenoise.svg"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)


def render_icons(out_dir: Path, *, svg: Path = SVG, sizes: tuple[int, ...] = SIZES) -> list[Path]:
    """Render ``svg`` at each size into ``out_dir``; return the files written.

    Each file is written under a temporary name and renamed (no half-written icon).
    """
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PIL import Image
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 - keeps Qt's GUI state alive
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise ValueError(f"svg is not a valid SVG image: {svg}")
    written: list[Path] = []
    out_dir.mkdir(parents=True, exist_ok=True)
    for n in sizes:
        image = QImage(n, n, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        for path in (
            out_dir / f"stmdenoise-{n}.png",
            out_dir / "hicolor" / f"{n}x{n}" / "apps" / "stmdenoise.png",
        ):
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp.png")
            if not image.save(str(tmp), "PNG"):
                raise OSError(f"could not write {tmp}")
            os.replace(tmp, path)
            written.append(path)
    ico = out_dir / "stmdenoise.ico"
    tmp_ico = out_dir / "stmdenoise.tmp.ico"
    with Image.open(out_dir / f"stmdenoise-{max(s for s in sizes if s <= 256)}.png") as big:
        big.save(tmp_ico, format="ICO", sizes=[(s, s) for s in ICO_SIZES if s in sizes])
    os.replace(tmp_ico, ico)
    written.append(ico)
    scalable = out_dir / "hicolor" / "scalable" / "apps" / "stmdenoise.svg"
    scalable.parent.mkdir(parents=True, exist_ok=True)
    scalable.write_bytes(svg.read_bytes())
    written.append(scalable)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    args = parser.parse_args(argv)
    files = render_icons(args.out_dir)
    print(f"wrote {len(files)} icon files to {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
