"""pyserial stays inside the driver; the codec and the emulator stay pure and independent."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PKG = ROOT / "drivers" / "fingerprint"


def imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_serial_is_imported_by_the_driver_only() -> None:
    users = {
        str(p.relative_to(ROOT)): {
            n for n in imports(p) if n == "serial" or n.startswith("serial.")
        }
        for p in PKG.rglob("*.py")
    }
    users = {path: names for path, names in users.items() if names}
    # discovery lists the ports (names only, as str); all serial I/O stays in the driver
    assert users == {
        "drivers/fingerprint/driver.py": {"serial"},
        "drivers/fingerprint/discovery.py": {"serial.tools"},
    }


def test_codec_does_no_io() -> None:
    assert imports(PKG / "codec.py") <= {
        "__future__",
        "struct",
        "collections.abc",
        "dataclasses",
        "enum",
        "typing",
    }


def test_emulator_module_does_not_use_the_host_codec() -> None:
    for path in (PKG / "emulator").glob("*.py"):
        assert "drivers.fingerprint.codec" not in imports(path), path
        assert "drivers.fingerprint.driver" not in imports(path), path
