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
# drivers.camera.verify: the ID card login's face match runs at the central with the kiosk's own
# model and threshold (central/idcard_login.py); verify is pure of the kiosk and of I/O but the
# model files, and `settings`/`errors` are its plain data and typed errors.
CENTRAL_ALLOWED_DRIVERS = {
    "drivers.vocabulary",
    "drivers.camera.verify",
    "drivers.camera.settings",
    "drivers.camera.errors",
}
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
        assert top not in FORBIDDEN[pkg], f"{path.relative_to(ROOT)} imports {name}"


@pytest.mark.parametrize("leaf", sorted(LEAVES))
def test_leaf_modules_depend_on_nothing_of_ours(leaf: str) -> None:
    path = ROOT / leaf
    if not path.exists():
        pytest.fail(f"leaf module {leaf} is missing")
    ours = [n for n in _imports(path) if n.split(".")[0] in PACKAGES]
    assert ours == [], f"{leaf} must stay a leaf but imports {ours}"


# kiosk never imports ui, not even lazily: the touchscreen's commands reach the `kiosk` CLI
# through the entry point group `kiosk.commands` (pyproject.toml, read by kiosk/cli/main.py).


def test_the_ui_commands_come_from_the_entry_point_group_not_an_import() -> None:
    import typer.main

    from kiosk.cli.main import COMMAND_GROUP, command_plugins, root

    plugins = {ep.name: ep.value for ep in command_plugins()}
    assert plugins.get("ui") == "ui.cli:register", plugins
    assert COMMAND_GROUP == "kiosk.commands"
    commands = typer.main.get_command(root).commands  # type: ignore[attr-defined]
    assert {"ui", "screenshots", "demo-screens"} <= set(commands)
    kiosk_ui = [p for p in (ROOT / "kiosk").rglob("*.py")
                if "ui" in {n.split(".")[0] for n in _imports(p)}]
    assert kiosk_ui == []


def test_kivy_only_inside_ui() -> None:
    for path in _modules():
        if path.relative_to(ROOT).parts[0] != "ui":
            assert "kivy" not in {n.split(".")[0] for n in _imports(path)}, path


def test_the_camera_modules_central_may_import_stay_pure() -> None:
    """What central imports of drivers.camera (the ID card login's face match) reaches no kiosk,
    no device I/O and no thread of the camera layer, transitively."""
    seen: set[str] = set()
    todo = [m for m in CENTRAL_ALLOWED_DRIVERS if m.startswith("drivers.camera")]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for imported in _imports(ROOT / (name.replace(".", "/") + ".py")):
            if imported.startswith("drivers."):
                todo.append(imported)
            assert imported.split(".")[0] not in {"kiosk", "serial", "smartcard", "threading"}, (
                f"{name} imports {imported}"
            )
    assert "drivers.camera.source" not in seen and "drivers.camera.service" not in seen, seen
