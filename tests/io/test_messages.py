"""Reader messages are readable text: the bytes of a foreign file never appear as a Python literal."""

from __future__ import annotations

from pathlib import Path

import pytest

from stmdenoise.io import ScanFormatError, read_scan
from stmdenoise.io.errors import describe_bytes


def test_unknown_format_names_its_start_as_text(tmp_path: Path) -> None:
    path = tmp_path / "notes.xyz"
    path.write_bytes("8STiVIEW export".encode("utf-16-le"))
    with pytest.raises(ScanFormatError) as info:
        read_scan(path)
    text = str(info.value)
    assert "b'" not in text and "\\x00" not in text
    assert '"8STiVIEW" (binary)' in text


def test_describe_bytes() -> None:
    assert describe_bytes(b"\x89PNG\r\n") == '"·PNG··" (binary)'
    assert describe_bytes(b"[Paramco32]") == '"[Paramco32]"'
