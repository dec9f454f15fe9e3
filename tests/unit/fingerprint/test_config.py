"""The [fingerprint] config section: bounds, validators and the settings handed to the driver."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from kiosk.config import load_config
from kiosk.config.fingerprint import FingerprintConfig


def test_defaults_follow_the_datasheet_timings() -> None:
    s = FingerprintConfig().to_settings()
    assert (s.baudrate, s.address, s.password) == (57600, 0xFFFFFFFF, 0)
    assert (s.query_timeout, s.gen_img_timeout, s.process_timeout, s.search_timeout) == (
        1.0, 1.5, 2.0, 3.0,
    )  # fmt: skip
    assert s.empty_library_at_start and s.autobaud


def test_packaged_and_test_profile_files_load() -> None:
    packaged = load_config(None).config.fingerprint
    assert packaged == FingerprintConfig()  # kiosk.toml repeats the model's defaults
    fast = load_config(None, profile="test").config.fingerprint
    assert fast.query_timeout_s < packaged.query_timeout_s
    assert fast.emulator_latency_scale == 0.0
    assert fast.to_settings(port="/tmp/x").port == "/tmp/x"


@pytest.mark.parametrize(
    ("key", "value"),
    [("baudrate", 12345), ("baudrate", 9600 * 13), ("emulator_profile", "gt511"),
     ("retries", -1), ("query_timeout_s", 0), ("address", 2**32), ("unknown_key", 1)],
)  # fmt: skip
def test_bad_values_are_refused(key: str, value: object) -> None:
    with pytest.raises(ValidationError):
        FingerprintConfig.model_validate({key: value})
