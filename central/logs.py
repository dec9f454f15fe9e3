"""Log redaction for the central process: ID numbers, mobile phone numbers and long digit runs
that slip into a log message or a traceback are masked (docs/architecture.md, "Privacy"), since
central may not import kiosk.privacy. Both entry points (`kiosk-central`, `python -m
central.fleet`) set up logging through `setup_logging`, so every handler carries the filter."""

from __future__ import annotations

import logging
import re

__all__ = ["RedactingFilter", "install_redaction", "redact", "setup_logging"]

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_ID_RE = re.compile(r"(?<![0-9A-Za-z])(\d{3})\d{11}(\d{3}[\dXx])(?![0-9A-Za-z])")
# Mainland mobile numbers: 11 digits, 1 then 3-9, alone or after +86, not inside a longer run.
_PHONE_RE = re.compile(r"(?:(?<=\+86)|(?<!\d))(1[3-9]\d)\d{4}(\d{4})(?!\d)")
_DIGITS_RE = re.compile(r"(?<!\d)(\d{6})\d{3,}(\d{4})(?!\d)")  # bank numbers and the like


def redact(text: str) -> str:
    """Mask 18-character ID numbers (first 3, last 4 shown), 11-digit mobile numbers (first 3,
    last 4) and digit runs of 13+."""
    text = _ID_RE.sub(lambda m: m.group(1) + "*" * 11 + m.group(2), text)
    text = _PHONE_RE.sub(lambda m: m.group(1) + "****" + m.group(2), text)
    return _DIGITS_RE.sub(lambda m: m.group(1) + "*" * (len(m.group(0)) - 10) + m.group(2), text)


class RedactingFilter(logging.Filter):
    """Rewrites each record's final message, its traceback and its stack through `redact`.

    The traceback is rendered here (and `exc_info` dropped) so that no formatter ever sees the
    raw exception text; one an earlier handler already rendered is redacted as well."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.exc_info = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install_redaction(logger: logging.Logger | None = None) -> None:
    """Attach the filter to every handler of `logger` (default: the root logger)."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())


def setup_logging(level: int = logging.INFO) -> None:
    """Log to stderr at `level` with the redaction filter on every root handler."""
    logging.basicConfig(level=level, format=FORMAT)
    install_redaction()
