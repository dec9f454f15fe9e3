"""The [camera] and [face] sections: defaults agree with the driver settings, bad values stop."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from drivers.camera.settings import FaceSettings, SourceSettings
from kiosk.config import load_config
from kiosk.config.camera import CameraConfig
from kiosk.config.face import FaceConfig


def test_defaults_match_the_driver_defaults() -> None:
    assert CameraConfig.model_validate({}).to_settings() == SourceSettings()
    assert FaceConfig.model_validate({}).to_settings() == FaceSettings()


def test_packaged_and_test_profile_load() -> None:
    packaged = load_config(None).config
    assert packaged.face.to_settings().match_threshold == 0.5
    assert packaged.face.seed is None  # production draws challenges from OS randomness
    test = load_config(None, profile="test").config
    assert test.face.seed is not None
    assert test.camera.reconnect_initial_s < packaged.camera.reconnect_initial_s


def test_source_override() -> None:
    assert (
        CameraConfig.model_validate({}).to_settings(source="synthetic:still").source
        == "synthetic:still"
    )


@pytest.mark.parametrize(
    "bad",
    [
        {"challenges": ["blink"]},  # not offered with the 5-point model
        {"challenges": []},
        {"match_threshold": 0},
        {"scale_factor": 1.0},
        {"unknown_key": 1},
    ],
)
def test_bad_face_values_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        FaceConfig.model_validate(bad)
