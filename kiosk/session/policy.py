"""Build the machine's `Policy` from the terminal's config (and the technician credential)."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

from kiosk.config.model import KioskConfig
from kiosk.session.model import Policy

__all__ = ["build_policy", "load_technician_secret"]

log = logging.getLogger(__name__)


def load_technician_secret(name: str, environ: Mapping[str, str] | None = None) -> bytes:
    """The local maintenance secret from ``$CREDENTIALS_DIRECTORY/{name}``, stripped.

    Without it local technician login is disabled (remote maintenance still works): an
    empty secret never matches.
    """
    env = os.environ if environ is None else environ
    folder = env.get("CREDENTIALS_DIRECTORY")
    if folder:
        path = Path(folder) / name
        if path.is_file():
            return path.read_bytes().strip()
    log.info("no technician credential %s: local maintenance login disabled", name)
    return b""


def build_policy(config: KioskConfig, environ: Mapping[str, str] | None = None) -> Policy:
    """The frozen policy the machine and the runner use."""
    return Policy(
        session=config.session,
        policy=config.policy,
        terminal_id=config.terminal.id,
        default_language=config.terminal.locale,
        technician_secret=load_technician_secret(config.session.technician_credential, environ),
        card_reader=config.card.reader,
        essc_login=config.policy.essc_login,
        idcard_login=config.policy.idcard_login,
    )
