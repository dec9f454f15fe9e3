"""The policy from config: defaults, the technician credential, validation of [policy]."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from kiosk.config.loader import load_config
from kiosk.config.session import PolicyConfig, SessionConfig
from kiosk.session.policy import build_policy


def test_defaults_follow_the_requirements() -> None:
    cfg = load_config(profile="test").config
    pol = build_policy(cfg, environ={})
    assert pol.policy.credentials_for("inquiry") == {"card", "pin"}
    assert pol.policy.credentials_for("utility_payment") == {"card", "pin"}
    assert pol.policy.credentials_for("activation") == {"card", "pin", "face", "fingerprint"}
    assert pol.policy.credentials_for("pension_qualification") == {"card", "face"}
    assert set(pol.policy.offline) == {"employment_certificate", "unemployment_registration"}
    assert pol.session.warning_s >= 20 and pol.session.extensions >= 10
    assert pol.technician_secret == b""  # no credential: local login disabled
    assert pol.terminal_id == cfg.terminal.id


def test_technician_secret_from_the_credentials_directory(tmp_path: Path) -> None:
    (tmp_path / "technician-secret").write_bytes(b"s3cret\n")
    pol = build_policy(load_config(profile="test").config,
                       environ={"CREDENTIALS_DIRECTORY": str(tmp_path)})
    assert pol.technician_secret == b"s3cret"


@pytest.mark.parametrize("bad", [
    {"offline": ["utility_payment"]},  # money never offline
    {"offline": ["loss_report"]},
    {"credentials": {"inquiry": ["pin"]}},  # every service needs the card
    {"credentials": {"inquiry": ["card", "iris"]}},
    {"devices": {"inquiry": ["teleporter"]}},
    {"disabled": ["nope"]},
])
def test_policy_validation_names_the_problem(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError) as err:
        PolicyConfig.model_validate(bad)
    assert "policy" in str(err.value)


@pytest.mark.parametrize("bad", [
    {"answer_s": 10},  # WCAG: at least 20 s
    {"warning_s": 10},
    {"extensions": 5},
    {"warning_s": 60, "answer_s": 60},
    {"pin_min_length": 8, "pin_max_length": 6},
])
def test_session_limits_refuse_what_wcag_forbids(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        SessionConfig.model_validate(bad)
