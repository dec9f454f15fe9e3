"""Privacy helpers: a log filter that redacts what slips through, and a JSON encoder that refuses
personal values unless the caller reveals them on purpose.

The `Masked` and `PinBuffer` types themselves live in `drivers.personal` (drivers return them).
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from drivers.personal import Masked, PinBuffer

__all__ = ["PersonalDataError", "RedactionFilter", "dumps", "install_redaction", "redact_text"]

# 18-character resident ID numbers (GB 11643: 17 digits + digit or X), anywhere in text.
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[0-9Xx])(?![0-9A-Za-z])")
# Mainland mobile numbers (11 digits, 1 then 3-9), alone or after +86, not inside a longer run.
_PHONE = re.compile(r"(?:(?<=\+86)|(?<![0-9]))(1[3-9][0-9])[0-9]{4}([0-9]{4})(?![0-9])")
# Long digit runs (bank PANs are 16-19 digits): keep head and tail only.
_LONG_DIGITS = re.compile(r"(?<![0-9])(\d{3})\d{5,}(\d{4})(?![0-9])")


def redact_text(text: str) -> str:
    """Mask ID numbers, mobile phone numbers and long digit runs in free text (log lines,
    error details)."""
    text = _ID_NUMBER.sub(lambda m: m.group(1)[:3] + "*" * 11 + m.group(2), text)
    text = _PHONE.sub(lambda m: m.group(1) + "****" + m.group(2), text)
    return _LONG_DIGITS.sub(lambda m: m.group(1) + "*" * (len(m.group(0)) - 7) + m.group(2), text)


def _redact_arg(arg: object) -> object:
    if isinstance(arg, (Masked, PinBuffer)):
        return str(arg)
    if isinstance(arg, str):
        return redact_text(arg)
    if isinstance(arg, (bytes, bytearray)):
        # Raw bytes in a log line may be a PIN block or a record; show only the length.
        return f"<{len(arg)} bytes>"
    if arg is None or isinstance(arg, (bool, int, float)):
        return arg
    # Any other object (an exception passed as `%s`, a dict, a dataclass) is rendered by the
    # formatter later: redact its text now, keeping the object where nothing needs hiding.
    try:
        text = str(arg)
    except Exception:
        return arg
    redacted = redact_text(text)
    return arg if redacted == text else redacted


class RedactionFilter(logging.Filter):
    """Redacts ID numbers, long digit runs and raw bytes in every record's message and args.

    Attach it to handlers (not loggers) so that records from every library pass through it.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            if isinstance(record.args, dict):
                record.args = {k: _redact_arg(v) for k, v in record.args.items()}
            else:
                record.args = tuple(_redact_arg(a) for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redact_text(record.msg)
        else:
            record.msg = _redact_arg(record.msg)
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            # Render the traceback now, redacted, so formatters never see the raw exception text.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.exc_info = None
        if record.exc_text:
            # Also a traceback another (unfiltered) handler rendered first and left on the record.
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        return True


def install_redaction(handler: logging.Handler) -> logging.Handler:
    """Add the redaction filter to `handler` (idempotent) and return it."""
    if not any(isinstance(f, RedactionFilter) for f in handler.filters):
        handler.addFilter(RedactionFilter())
    return handler


class PersonalDataError(TypeError):
    """A personal value was about to be serialised without an explicit reveal."""


class _Encoder(json.JSONEncoder):
    def __init__(self, *args: Any, reveal: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._reveal = reveal

    def default(self, o: Any) -> Any:
        if isinstance(o, PinBuffer):
            raise PersonalDataError("a PIN is never serialised")
        if isinstance(o, Masked):
            if self._reveal:
                return o.reveal()
            raise PersonalDataError(f"personal value ({o.kind}) needs reveal=True to be serialised")
        return super().default(o)


def dumps(obj: Any, *, reveal: bool = False, **kwargs: Any) -> str:
    """`json.dumps` that refuses `Masked` values unless `reveal=True`, and PINs always."""
    return json.dumps(obj, cls=_Encoder, reveal=reveal, ensure_ascii=False, **kwargs)
