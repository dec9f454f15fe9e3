"""No live frame or embedding leaves the kiosk, but the ID card login's one aligned face crop
(policy permitting, matched in the central's memory): what the camera code may import and write.

Static checks on the source (ast): the camera package talks to no network and stores nothing,
except the two writers named here, and only the technician's `kiosk camera check --snapshot`
writes a frame to a file (on the kiosk). The core and the central system never do; the central
imports only the pure matching modules, and only for the ID card login.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
CAMERA = sorted((ROOT / "drivers" / "camera").glob("*.py"))

# Anything that could carry a frame or an embedding off the kiosk, or keep it on disk.
NETWORK_OR_STORAGE = {
    "socket", "ssl", "http", "urllib", "requests", "paho", "psycopg", "smtplib", "ftplib",
    "sqlite3", "pickle", "shelve", "dbm", "multiprocessing", "xmlrpc", "asyncio", "kiosk",
    "central",
}  # fmt: skip

# Calls that write pixels or arrays somewhere: (module file, call name) pairs allowed.
WRITERS = {"imwrite", "VideoWriter", "imencode", "tofile", "save", "savez", "savetxt"}
ALLOWED_WRITERS = {
    ("frames.py", "imwrite"),  # save_image: the technician's annotated snapshot (CLI only)
    ("frames.py", "imencode"),  # encode_jpeg: bytes in memory (tests, bench, demo reference)
    ("synthetic.py", "VideoWriter"),  # generated demo streams of packaged photos, no citizen
    # generated QR test frames of random tokens (tests, bench/qr.py): no camera pixel, no citizen
    ("qr_frames.py", "VideoWriter"),
    ("qr_frames.py", "imencode"),
    ("qr_frames.py", "save"),
}


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imports(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _called_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Attribute):
                names.add(f.attr)
            elif isinstance(f, ast.Name):
                names.add(f.id)
    return names


@pytest.mark.parametrize("path", CAMERA, ids=lambda p: p.name)
def test_camera_code_talks_to_no_network_and_no_store(path: Path) -> None:
    bad = {n for n in _imports(_tree(path)) if n.split(".")[0] in NETWORK_OR_STORAGE}
    assert bad == set(), f"{path.name} imports {bad}"


@pytest.mark.parametrize("path", CAMERA, ids=lambda p: p.name)
def test_only_the_named_writers_put_pixels_anywhere(path: Path) -> None:
    tree = _tree(path)
    writes = {(path.name, n) for n in _called_names(tree) & WRITERS}
    assert writes <= ALLOWED_WRITERS, f"{path.name} writes with {writes - ALLOWED_WRITERS}"
    opened = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute | ast.Name)
        and (getattr(node.func, "attr", None) or getattr(node.func, "id", None))
        in ("open", "write_bytes", "write_text")
        and not _in_memory(node)
    ]
    assert opened == [], f"{path.name} opens or writes files"


def test_only_the_technician_snapshot_saves_a_frame() -> None:
    users = set()
    for pkg in ("kiosk", "ui", "central", "drivers"):
        for path in (ROOT / pkg).rglob("*.py"):
            if path.parent.name == "camera" and path.parent.parent.name == "drivers":
                continue
            if "save_image" in _called_names(_tree(path)):
                users.add(str(path.relative_to(ROOT)))
    assert users == {"kiosk/cli/camera.py"}


def _in_memory(call: ast.Call) -> bool:
    """`X.open(io.BytesIO(...))`: reading a header from bytes already in memory, no file."""
    first = call.args[0] if call.args else None
    return (
        isinstance(first, ast.Call)
        and isinstance(first.func, ast.Attribute)
        and first.func.attr == "BytesIO"
    )


# The ID card login's face match (central/idcard_login.py): the kiosk's own model and
# threshold, on the one crop the terminal sent; nothing of the camera's sources or writers.
CENTRAL_CAMERA = {"drivers.camera.verify", "drivers.camera.settings", "drivers.camera.errors"}


def test_the_central_system_sees_only_the_matching_code_and_only_for_the_id_card_login() -> None:
    for path in (ROOT / "central").rglob("*.py"):
        camera = {n for n in _imports(_tree(path)) if n.startswith("drivers.camera")}
        if path.relative_to(ROOT).as_posix() == "central/idcard_login.py":
            assert camera <= CENTRAL_CAMERA and camera, camera
        else:
            assert camera == set(), path
