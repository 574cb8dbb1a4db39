"""Where the program finds its shipped files (example scans, models) and the user's files."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "install_root",
    "examples_dir",
    "example_scans",
    "shipped_models_dir",
    "default_model_dir",
    "user_data_dir",
]


def install_root() -> Path:
    """Folder holding ``resources/`` and ``models/``.

    ``STMDENOISE_HOME`` overrides it (used by the bundled installer); otherwise it is the
    source tree the package was installed from (editable install) or lives in.
    """
    env = os.environ.get("STMDENOISE_HOME")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent


def examples_dir() -> Path:
    """Folder of the example scans shipped with the program."""
    return install_root() / "resources" / "examples"


def example_scans() -> list[Path]:
    """Shipped example scans, sorted by name (empty if none are installed)."""
    d = examples_dir()
    return sorted(p for p in d.glob("*.sxm") if p.is_file()) if d.is_dir() else []


def shipped_models_dir() -> Path:
    """Folder of the model folders shipped with the program."""
    return install_root() / "models"


def default_model_dir() -> Path:
    """The shipped default model folder under ``models/`` (see :func:`shipped_models_dir`).

    A folder named ``default`` or whose name contains ``default`` wins; otherwise the first
    model folder by name. Raises FileNotFoundError when no model is installed.
    """
    root = shipped_models_dir()
    folders = sorted(p for p in root.glob("*") if (p / "config.json").is_file()) if root.is_dir() else []
    if not folders:
        raise FileNotFoundError(
            f"no model folder (with config.json) in {root}; train one with `stmdenoise train`"
        )
    preferred = [p for p in folders if "default" in p.name.lower()]
    return (preferred or folders)[0]


def user_data_dir() -> Path:
    """Per-user folder for logs, settings-independent data and the user's own models.

    ``%LOCALAPPDATA%\\stmdenoise`` on Windows, ``~/Library/Application Support/stmdenoise``
    on macOS, ``$XDG_DATA_HOME/stmdenoise`` (default ``~/.local/share/stmdenoise``) elsewhere.
    ``STMDENOISE_USER_DIR`` overrides it (tests use this).
    """
    env = os.environ.get("STMDENOISE_USER_DIR")
    if env:
        return Path(env)
    if os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif os.uname().sysname == "Darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    return base / "stmdenoise"
