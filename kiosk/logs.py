"""Logging set-up: stderr (journald under systemd), optional file, always redacted."""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from kiosk.config.logging import LoggingConfig
from kiosk.privacy import install_redaction

__all__ = ["setup_logging"]

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _CurrentStderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever `sys.stderr` is at emit time.

    A handler bound to the stderr of the moment keeps writing to it after it was replaced and
    closed (a CLI run in-process by tests, a daemon thread logging after the command returned),
    which ends in "I/O operation on closed file" tracebacks.
    """

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def setup_logging(config: LoggingConfig, *, stream: TextIO | None = None) -> None:
    """Configure the root logger once; every handler carries the redaction filter."""
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    handler: logging.Handler = (
        logging.StreamHandler(stream) if stream is not None else _CurrentStderrHandler()
    )
    handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(install_redaction(handler))
    if config.file:
        fh = logging.FileHandler(config.file, encoding="utf-8")
        fh.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(install_redaction(fh))
    root.setLevel(config.level)
