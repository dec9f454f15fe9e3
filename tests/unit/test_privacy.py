"""Masked values, PIN buffers, the log redaction filter and the refusing JSON encoder."""

from __future__ import annotations

import io
import logging
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.personal import Masked, MaskPolicy, PersonalKind, PinBuffer, PinFormatError, mask_value
from kiosk.privacy import PersonalDataError, RedactionFilter, dumps, redact_text

ID = "110101199003071234"


def test_masked_never_shows_raw_value() -> None:
    m = Masked(ID, PersonalKind.ID_NUMBER)
    assert str(m) == "110***********1234"
    assert ID not in repr(m) and ID not in f"{m}" and ID not in "%s" % (m,)  # noqa: UP031 - the %-path logging uses
    assert m.reveal() == ID
    assert str(Masked("6217001234567890123", PersonalKind.BANK_NUMBER)) == "621700*********0123"
    assert str(Masked("张三丰", PersonalKind.NAME)) == "张**"


# The mask character itself is left out of the values: a hidden "*" masked as "*" would look
# unchanged without revealing anything (hypothesis found "0*").
@given(
    st.text(st.characters(blacklist_characters="*"), min_size=1, max_size=40),
    st.sampled_from(list(PersonalKind)),
)
def test_mask_never_returns_whole_value(value: str, kind: PersonalKind) -> None:
    masked = mask_value(kind, value)
    assert masked != value or set(value) <= {"*", " "}


def test_mask_policy_is_configurable() -> None:
    assert (
        mask_value(PersonalKind.ID_NUMBER, ID, MaskPolicy(id_head=6, id_tail=2))
        == "110101**********34"
    )


def test_pin_buffer_packs_bcd_and_wipes() -> None:
    pin = PinBuffer.from_bytes(b"12345")
    block = pin.packed_bcd()
    assert bytes(block) == bytes.fromhex("12345F")
    with pin.using():
        assert len(pin) == 5
    assert len(pin) == 0
    assert "12345" not in str(pin)
    with pytest.raises(PinFormatError):
        PinBuffer.from_bytes(b"12a4")
    with pytest.raises(PinFormatError):
        PinBuffer.from_bytes(b"123").packed_bcd()


def test_json_encoder_refuses_personal_values() -> None:
    with pytest.raises(PersonalDataError):
        dumps({"id": Masked(ID, PersonalKind.ID_NUMBER)})
    assert dumps({"id": Masked(ID, PersonalKind.ID_NUMBER)}, reveal=True) == '{"id": "' + ID + '"}'
    with pytest.raises(PersonalDataError):
        dumps({"pin": PinBuffer.from_bytes(b"1234")}, reveal=True)


def test_log_filter_redacts_what_slips_through() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactionFilter())
    log = logging.getLogger("test.redaction")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("holder %s bank %s raw %s", ID, "6217001234567890123", b"\x12\x34\x56")
        log.warning(f"inline {ID}")
        log.warning("as an object: %s %s", ValueError(f"no person {ID}"), {"id": ID})
        try:
            raise ValueError(f"bad record for {ID}")
        except ValueError:
            log.exception("failed")
    finally:
        log.removeHandler(handler)
    out = stream.getvalue()
    assert ID not in out and "6217001234567890123" not in out and "123456" not in out
    assert "110***********1234" in out and "<3 bytes>" in out


def test_redact_text_keeps_short_numbers() -> None:
    assert redact_text("took 1234 ms at 1700000000") == "took 1234 ms at 1700000000"


PHONE = "13912345678"


def test_phone_is_a_masked_kind_with_a_configurable_mask() -> None:
    assert str(Masked(PHONE, PersonalKind.PHONE)) == "139****5678"
    assert PHONE not in repr(Masked(PHONE, PersonalKind.PHONE))
    assert mask_value(PersonalKind.PHONE, PHONE, MaskPolicy(phone_head=0, phone_tail=2)) == (
        "*********78"
    )
    from kiosk.config import load_config

    cfg = load_config(None, profile="test").config.privacy
    assert (cfg.phone_head, cfg.phone_tail) == (3, 4)
    assert cfg.mask_policy().phone_tail == 4


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"phone {PHONE}.", "phone 139****5678."),
        (f"tel:+86{PHONE}", "tel:+86139****5678"),
        ("手机号15800001111已登记", "手机号158****1111已登记"),
        # Not mobile numbers: another first digit, part of a longer run, too short.
        ("order 23912345678", "order 23912345678"),
        ("t=1700000000 took 1234 ms", "t=1700000000 took 1234 ms"),
        ("1391234567", "1391234567"),
    ],
)
def test_redact_text_masks_mobile_numbers(text: str, expected: str) -> None:
    assert redact_text(text) == expected


def _log_through_filter(emit: Any) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactionFilter())
    log = logging.getLogger("test.redaction.phone")
    log.addHandler(handler)
    log.propagate = False
    try:
        emit(log)
    finally:
        log.removeHandler(handler)
    return stream.getvalue()


def test_log_filter_redacts_phones_and_tracebacks_rendered_elsewhere_first() -> None:
    def emit(log: logging.Logger) -> None:
        log.warning("callback %s", PHONE)
        # Another handler (without the filter) formats the record first and caches the raw
        # traceback on it; ours must still redact it.
        raw = io.StringIO()
        unfiltered = logging.StreamHandler(raw)
        log.addHandler(unfiltered)
        log.handlers.reverse()
        try:
            raise ValueError(f"no account for {ID} / {PHONE}")
        except ValueError:
            log.exception("lookup failed")
        finally:
            log.removeHandler(unfiltered)
        assert ID in raw.getvalue()  # the attack is real: the traceback carried the values
        log.warning("where", stack_info=True)

    out = _log_through_filter(emit)
    assert PHONE not in out and ID not in out
    assert "139****5678" in out and "110***********1234" in out and "lookup failed" in out
