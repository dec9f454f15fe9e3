"""The 68-point landmark model (non-commercial licence) is absent and can never be loaded."""

from __future__ import annotations

import site
import subprocess
import sys
from pathlib import Path

import pytest

from drivers.camera.errors import FaceModelError, ForbiddenModelError
from drivers.camera.models import LANDMARKS_5, RECOGNITION, model_dir, model_path


def test_68_point_model_is_not_in_the_installed_package() -> None:
    files = sorted(p.name for p in model_dir().iterdir())
    assert LANDMARKS_5 in files and RECOGNITION in files
    assert not [f for f in files if f.startswith("shape_predictor_68_face_landmarks")], (
        "run scripts/setup.sh: it deletes the 68-point model (licence excludes commercial use)"
    )


def test_68_point_model_is_nowhere_in_the_environment() -> None:
    roots = {Path(p) for p in site.getsitepackages()} | {Path(sys.prefix)}
    found = [p for r in roots if r.is_dir() for p in r.rglob("shape_predictor_68_face_landmarks*")]
    assert found == []


def test_setup_removes_the_68_point_model(tmp_path: Path) -> None:
    # the very line of scripts/setup.sh, run on a venv layout holding the model files
    setup = Path(__file__).resolve().parents[3] / "scripts" / "setup.sh"
    lines = [
        line
        for line in setup.read_text(encoding="utf-8").splitlines()
        if line.startswith("find .venv") and "shape_predictor_68_face_landmarks" in line
    ]
    assert len(lines) == 1, "scripts/setup.sh must delete the 68-point model from .venv"
    models = tmp_path / ".venv" / "lib" / "python3.11" / "site-packages" / "face_recognition_models"
    (models / "models").mkdir(parents=True)
    for name in ("shape_predictor_68_face_landmarks.dat", LANDMARKS_5, RECOGNITION):
        (models / "models" / name).write_bytes(b"x")
    subprocess.run(["bash", "-c", lines[0]], cwd=tmp_path, check=True)
    assert sorted(p.name for p in (models / "models").iterdir()) == sorted(
        [LANDMARKS_5, RECOGNITION]
    )


@pytest.mark.parametrize(
    "name",
    [
        "shape_predictor_68_face_landmarks.dat",
        "shape_predictor_68_face_landmarks_GTX.dat",
        "/somewhere/shape_predictor_68_face_landmarks.dat",
    ],
)
def test_model_path_refuses_the_68_point_model(name: str) -> None:
    with pytest.raises(ForbiddenModelError) as e:
        model_path(name)
    assert "commercial" in str(e.value)


def test_missing_model_is_a_typed_error() -> None:
    with pytest.raises(FaceModelError):
        model_path("no_such_model.dat")


def test_allowed_models_resolve() -> None:
    assert model_path(LANDMARKS_5).stat().st_size > 1_000_000
    assert model_path(RECOGNITION).stat().st_size > 10_000_000
