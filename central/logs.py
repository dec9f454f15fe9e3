"""Log redaction for the central process: ID numbers and long digit runs that slip into a log
message are masked (ARCHITECTURE §9), since central may not import kiosk.privacy."""

from __future__ import annotations

import logging
import re

__all__ = ["RedactingFilter", "install_redaction", "redact"]

_ID_RE = re.compile(r"(?<![0-9A-Za-z])(\d{3})\d{11}(\d{3}[\dXx])(?![0-9A-Za-z])")
_DIGITS_RE = re.compile(r"(?<!\d)(\d{6})\d{3,}(\d{4})(?!\d)")  # bank numbers and the like


def redact(text: str) -> str:
    """Mask 18-character ID numbers (first 3, last 4 shown) and digit runs of 13+."""
    text = _ID_RE.sub(lambda m: m.group(1) + "*" * 11 + m.group(2), text)
    return _DIGITS_RE.sub(lambda m: m.group(1) + "*" * (len(m.group(0)) - 10) + m.group(2), text)


class RedactingFilter(logging.Filter):
    """Rewrites each record's final message through `redact` (args included)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def install_redaction(logger: logging.Logger | None = None) -> None:
    """Attach the filter to every handler of `logger` (default: the root logger)."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
