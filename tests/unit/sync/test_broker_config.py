"""The shipped production broker config keeps what it acknowledged, long enough for the sessions
the kiosk and the central ask for."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from kiosk.config import load_config

ROOT = Path(__file__).resolve().parents[3]
PRODUCTION = ROOT / "config" / "mosquitto" / "production.conf"
UNITS = {"h": 3600, "d": 86_400, "w": 7 * 86_400, "m": 30 * 86_400, "y": 365 * 86_400}


def settings() -> dict[str, str]:
    out: dict[str, str] = {}
    for line in PRODUCTION.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            key, _, value = line.partition(" ")
            out[key] = value.strip()
    return out


def seconds(value: str) -> int:
    match = re.fullmatch(r"(\d+)([hdwmy])", value)
    assert match, value
    return int(match[1]) * UNITS[match[2]]


def test_production_broker_persists_to_disk() -> None:
    conf = settings()
    assert conf["persistence"] == "true"
    assert conf["persistence_location"].startswith("/var/lib/mosquitto")
    # Periodic saves: a broker crash loses at most this window, which is why a business row is
    # finished only on the central's receipt, never on the PUBACK.
    assert int(conf["autosave_interval"]) > 0


def test_offline_sessions_outlive_the_session_expiry_both_ends_ask_for() -> None:
    conf = settings()
    kept = seconds(conf["persistent_client_expiration"])
    kiosk = load_config(profile=None, environ={}).config.mqtt.session_expiry_s
    central = tomllib.loads((ROOT / "config" / "central.toml").read_text())["broker"][
        "session_expiry_s"
    ]
    assert kiosk > 0 and central > 0  # persistent sessions on both ends
    assert kept >= kiosk and kept >= central
    assert int(conf["max_queued_messages"]) >= 10_000  # a long outage's backlog fits


def test_production_broker_requires_certificates_and_the_acl() -> None:
    conf = settings()
    assert conf["require_certificate"] == "true" and conf["use_identity_as_username"] == "true"
    assert conf["allow_anonymous"] == "false" and conf["acl_file"].endswith("ssk.acl")
