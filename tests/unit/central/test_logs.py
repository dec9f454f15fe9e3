"""The central's log redaction."""

from __future__ import annotations

import logging

import pytest

from central.logs import RedactingFilter, redact


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
