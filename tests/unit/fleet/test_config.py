"""FleetConfig: strict like the kiosk's config (a typo is an error naming the key)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from central.fleet.config import FleetConfig


def test_defaults_are_valid_and_frozen() -> None:
    c = FleetConfig()
    assert c.http_host == "127.0.0.1" and c.stale_after_s > 0
    with pytest.raises(ValidationError):
        c.http_port = 1


def test_unknown_key_is_an_error_naming_it() -> None:
    with pytest.raises(ValidationError, match="stale_after"):
        FleetConfig.model_validate({"stale_after": 5})


@pytest.mark.parametrize("bad", [{"stale_after_s": 0}, {"flap_threshold": 0}, {"http_port": 70000}])
def test_out_of_range_values_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        FleetConfig.model_validate(bad)
