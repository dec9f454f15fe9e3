"""The [psam] section: validation, the TAK credential and the trust policy it builds."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from drivers.card.crypto import Algorithm, key_check_value
from kiosk.config.psam import PsamConfig, TakCredentialError

TAK = bytes.fromhex("00112233445566778899AABBCCDDEEFF")


def test_defaults_and_validation() -> None:
    cfg = PsamConfig()
    assert cfg.enabled and cfg.slot == 1 and cfg.algorithm() is Algorithm.SM4
    assert PsamConfig(tak_algorithm="3des").algorithm() is Algorithm.TDES
    for bad in ({"tak_kcv": "12345"}, {"trusted_atrs": ["3B6"]}, {"slot": -1}, {"x": 1}):
        with pytest.raises(ValidationError):
            PsamConfig.model_validate(bad)


def test_load_tak(tmp_path: Path) -> None:
    cfg = PsamConfig()
    assert cfg.load_tak({}) is None
    env = {"CREDENTIALS_DIRECTORY": str(tmp_path)}
    with pytest.raises(TakCredentialError, match="psam-tak"):
        cfg.load_tak(env)
    (tmp_path / "psam-tak").write_text("zz\n")
    with pytest.raises(TakCredentialError, match="not hex"):
        cfg.load_tak(env)
    (tmp_path / "psam-tak").write_text("0011\n")
    with pytest.raises(TakCredentialError, match="2 bytes"):
        cfg.load_tak(env)
    (tmp_path / "psam-tak").write_text(TAK.hex().upper() + "\n")
    assert cfg.load_tak(env) == TAK


def test_trust_policy() -> None:
    kcv = key_check_value(Algorithm.SM4, TAK).hex()
    cfg = PsamConfig.model_validate(
        {"tak_kcv": kcv, "trusted_readers": ["R 01"], "trusted_atrs": ["3B6D00"]}
    )
    policy = cfg.trust_policy(production=True, tak=TAK)
    assert policy.production and policy.tak == TAK
    assert policy.tak_kcv == bytes.fromhex(kcv)
    assert policy.trusted_atrs == (bytes.fromhex("3B6D00"),)
    assert "0011" not in repr(policy)  # the key never shows in a repr
    assert PsamConfig().trust_policy(production=False, tak=None).tak_kcv is None
