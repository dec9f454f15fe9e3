"""Typed errors of the camera layer, each with a stable `ErrorCode` and a human message."""

from __future__ import annotations

from drivers.vocabulary import ErrorCode

__all__ = [
    "CameraError",
    "CameraSourceRefusedError",
    "CameraUnavailableError",
    "FaceModelError",
    "ForbiddenModelError",
    "FrameInvalidError",
    "NoFaceError",
    "ReferencePhotoError",
]


class CameraError(Exception):
    """Root of the camera-layer errors. `code` is stable (ui translates it); `detail` keeps the
    raw cause (OpenCV message, file name, shape)."""

    code: ErrorCode = ErrorCode.CAMERA_UNAVAILABLE

    def __init__(self, message: str, *, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.message} ({self.detail})" if self.detail else self.message


class CameraUnavailableError(CameraError):
    """The source cannot be opened or stopped delivering frames."""


class CameraSourceRefusedError(CameraError):
    """A generated or file source was asked for on a production terminal (a camera only)."""

    code = ErrorCode.CAMERA_SOURCE_REFUSED


class FrameInvalidError(CameraError):
    """A frame is None, empty, or not an 8-bit BGR/grey image."""

    code = ErrorCode.FRAME_INVALID


class NoFaceError(CameraError):
    """No usable face in the image (live frame or reference photo)."""

    code = ErrorCode.FACE_NOT_FOUND


class ReferencePhotoError(CameraError):
    """The reference photo (card EF08 JPEG or central photo) cannot be decoded or has no face."""

    code = ErrorCode.FACE_NOT_FOUND


class FaceModelError(CameraError):
    """A model file is missing or cannot be loaded."""

    code = ErrorCode.INTERNAL


class ForbiddenModelError(FaceModelError):
    """A model whose licence excludes commercial use was asked for (dlib 68-point predictor)."""
