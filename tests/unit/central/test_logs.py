"""The central's log redaction."""

from __future__ import annotations

import io
import logging

import pytest

from central.logs import RedactingFilter, redact, setup_logging


def test_redact() -> None:
    assert redact("id 11010519491231002X paid") == "id 110***********002X paid"
    assert redact("card 6217001234567890123") == "card 621700*********0123"
    assert redact("amount 12345 period 202610") == "amount 12345 period 202610"


def test_filter_masks_args(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("central.test")
    caplog.handler.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO):
        log.info("person %s", "330303199202140048")
    assert "330303199202140048" not in caplog.text and "330***********0048" in caplog.text


def test_phone_numbers_are_masked() -> None:
    assert redact("call 13912345678 or +8615800001111") == "call 139****5678 or +86158****1111"
    assert redact("ref 23912345678 t=1700000000") == "ref 23912345678 t=1700000000"


def test_tracebacks_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    """An ID number in an exception message reaches the log only masked, even when another
    handler rendered the traceback first."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    log = logging.getLogger("central.test.traceback")
    log.addHandler(handler)
    try:
        with caplog.at_level(logging.INFO):
            try:
                raise ValueError("no person 330303199202140048, phone 13912345678")
            except ValueError:
                log.exception("lookup failed")
    finally:
        log.removeHandler(handler)
    out = stream.getvalue()
    assert "Traceback" in out and "ValueError: no person 330***********0048" in out
    assert "330303199202140048" not in out and "13912345678" not in out
    assert "139****5678" in out


def test_setup_logging_filters_every_root_handler() -> None:
    root = logging.getLogger()
    saved = list(root.handlers)
    for h in saved:
        root.removeHandler(h)
    try:
        setup_logging(logging.INFO)
        assert root.handlers
        assert all(any(isinstance(f, RedactingFilter) for f in h.filters) for h in root.handlers)
    finally:
        for h in list(root.handlers):
            root.removeHandler(h)
        for h in saved:
            root.addHandler(h)
