"""The dependency rules of docs/architecture.md §1, checked on every module's imports (ast)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("drivers", "kiosk", "ui", "central")

# package -> top-level packages it must never import
FORBIDDEN: dict[str, set[str]] = {
    "drivers": {"kiosk", "ui", "central", "kivy"},
    "kiosk": {"ui", "central", "kivy"},
    "ui": {"central", "drivers", "smartcard", "serial", "cv2", "paho", "dlib"},  # core only
    "central": {"ui", "drivers", "kivy"},
}
# central may import exactly these modules of kiosk (the contract leaf) and the shared vocabulary
CENTRAL_ALLOWED_KIOSK = {"kiosk.contract"}
CENTRAL_ALLOWED_DRIVERS = {"drivers.vocabulary"}
LEAVES = {"drivers/vocabulary.py", "drivers/personal.py", "kiosk/contract.py"}


def _modules() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_down(path: Path) -> None:
    pkg = path.relative_to(ROOT).parts[0]
    for name in _imports(path):
        top = name.split(".")[0]
        if pkg == "central" and (
            name in CENTRAL_ALLOWED_KIOSK or name.startswith("kiosk.contract")
        ):
            continue
        if pkg == "central" and name in CENTRAL_ALLOWED_DRIVERS:
            continue
        if pkg == "ui" and name in ("drivers.vocabulary", "drivers.personal"):
            continue
        if str(path.relative_to(ROOT)) == KIOSK_UI_ENTRY and top == "ui":
            continue  # checked below: only inside the command functions
        assert top not in FORBIDDEN[pkg], f"{path.relative_to(ROOT)} imports {name}"


@pytest.mark.parametrize("leaf", sorted(LEAVES))
def test_leaf_modules_depend_on_nothing_of_ours(leaf: str) -> None:
    path = ROOT / leaf
    if not path.exists():
        pytest.fail(f"leaf module {leaf} is missing")
    ours = [n for n in _imports(path) if n.split(".")[0] in PACKAGES]
    assert ours == [], f"{leaf} must stay a leaf but imports {ours}"


# kiosk never imports ui, except the `kiosk ui` / `kiosk screenshots` commands, and those only
# inside their functions (so `kiosk` starts without Kivy; tests/ui/test_host.py checks it).
KIOSK_UI_ENTRY = "kiosk/cli/ui.py"


def _module_level_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_kiosk_reaches_ui_only_lazily_from_its_ui_command() -> None:
    entry = ROOT / KIOSK_UI_ENTRY
    assert any(n.split(".")[0] == "ui" for n in _imports(entry)), "kiosk ui imports the app"
    assert not [n for n in _module_level_imports(entry) if n.split(".")[0] in ("ui", "kivy")]


def test_kivy_only_inside_ui() -> None:
    for path in _modules():
        if path.relative_to(ROOT).parts[0] != "ui":
            assert "kivy" not in {n.split(".")[0] for n in _imports(path)}, path
