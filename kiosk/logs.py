"""Logging set-up: stderr (journald under systemd), optional file, always redacted."""

from __future__ import annotations

import logging
import sys

from kiosk.config.logging import LoggingConfig
from kiosk.privacy import install_redaction

__all__ = ["setup_logging"]

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(config: LoggingConfig, *, stream: object = None) -> None:
    """Configure the root logger once; every handler carries the redaction filter."""
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    handler: logging.Handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(install_redaction(handler))
    if config.file:
        fh = logging.FileHandler(config.file, encoding="utf-8")
        fh.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(install_redaction(fh))
    root.setLevel(config.level)
