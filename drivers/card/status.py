"""Status words (pure): every SW of the reference (docs/card.md §4) mapped, in the context of the
command that received it, to a typed error with a human message."""

from __future__ import annotations

from enum import StrEnum

from drivers.card.errors import (
    AuthenticationFailedError,
    KeyBlockedError,
    PinBlockedError,
    PinNotEnabledError,
    PinWrongError,
    SecurityStatusError,
    StatusWordError,
)

__all__ = ["SW_MESSAGES", "Context", "check", "describe", "error_for", "is_success"]


class Context(StrEnum):
    """Which command a status word answers; 63Cx, 6983 and 6984 mean different things."""

    GENERIC = "generic"
    SELECT = "select"
    READ = "read"
    VERIFY = "verify"  # VERIFY and CHANGE PIN
    EXTERNAL_AUTH = "external_auth"


# Fixed status words of docs/card.md §4 (SI_3rdCard respError[], juejin COS table).
SW_MESSAGES: dict[int, str] = {
    0x9000: "success",
    0x6581: "memory error on the card",
    0x6700: "wrong length",
    0x6981: "command incompatible with the file structure",
    0x6982: "security status not satisfied",
    0x6983: "authentication method blocked",
    0x6984: "referenced data or challenge invalid",
    0x6985: "conditions of use not satisfied",
    0x6986: "command not allowed (no current EF)",
    0x6988: "secure messaging data objects or MAC incorrect",
    0x6A80: "wrong data field",
    0x6A81: "function not supported, or card or application locked",
    0x6A82: "file or application not found",
    0x6A83: "record not found",
    0x6A86: "wrong P1/P2",
    0x6A88: "referenced data or key not found",
    0x6D00: "instruction not supported",
    0x6E00: "class not supported",
    0x9303: "application permanently locked",
    0x9401: "insufficient balance",
    0x9302: "MAC2 error",
    0x9406: "MAC unavailable",
}


def is_success(sw1: int, sw2: int) -> bool:
    """9000, or 61xx (more data waiting; the transport fetches it)."""
    return (sw1 == 0x90 and sw2 == 0x00) or sw1 == 0x61


def describe(sw1: int, sw2: int) -> str:
    """A human description of any status word, including the families 61xx, 6Cxx and 63Cx."""
    sw = (sw1 << 8) | sw2
    if sw in SW_MESSAGES:
        return SW_MESSAGES[sw]
    if sw1 == 0x61:
        return f"{sw2 or 256} bytes of response waiting (T=0)"
    if sw1 == 0x6C:
        return f"wrong Le, the card has {sw2 or 256} bytes"
    if sw1 == 0x63 and sw2 & 0xF0 == 0xC0:
        return f"verification failed, {sw2 & 0x0F} tries left"
    if sw1 in (0x62, 0x63):
        return (
            "warning: the card's non-volatile memory may have changed"
            if sw1 == 0x63
            else ("warning: the card's non-volatile memory is unchanged")
        )
    if sw1 == 0x64:
        return "execution error, memory unchanged"
    if sw1 == 0x65:
        return "execution error, memory changed"
    if sw1 == 0x67:
        return "wrong length"
    if sw1 == 0x68:
        return "function in CLA not supported"
    if sw1 == 0x69:
        return "command not allowed"
    if sw1 == 0x6A:
        return "wrong parameters"
    if sw1 == 0x6B:
        return "wrong P1/P2"
    return "unknown status word"


def error_for(sw1: int, sw2: int, context: Context = Context.GENERIC) -> StatusWordError | None:
    """The typed error a status word means in `context`, or None on success (9000, 61xx).

    63Cx: wrong PIN with tries left after VERIFY, failed authentication after EXTERNAL
    AUTHENTICATE; 6983: PIN blocked after VERIFY, key blocked otherwise; 6984 after VERIFY: the
    PIN is not enabled yet (docs/card.md §3.1, §4).
    """
    if is_success(sw1, sw2):
        return None
    sw = (sw1 << 8) | sw2
    text = describe(sw1, sw2)
    if sw1 == 0x63 and sw2 & 0xF0 == 0xC0:
        if context is Context.VERIFY:
            return PinWrongError(f"wrong PIN, {sw2 & 0x0F} tries left", sw1, sw2)
        if context is Context.EXTERNAL_AUTH:
            return AuthenticationFailedError(
                f"external authentication failed, {sw2 & 0x0F} tries left", sw1, sw2
            )
        return StatusWordError(text, sw1, sw2)
    if sw == 0x6983:
        if context is Context.VERIFY:
            return PinBlockedError("the PIN is blocked", sw1, sw2)
        return KeyBlockedError("the authentication key is blocked", sw1, sw2)
    if sw == 0x6984 and context is Context.VERIFY:
        return PinNotEnabledError("the PIN has not been enabled on this card", sw1, sw2)
    if sw == 0x6982:
        return SecurityStatusError(text, sw1, sw2)
    return StatusWordError(text, sw1, sw2)


def check(sw1: int, sw2: int, context: Context = Context.GENERIC) -> None:
    """Raise the typed error of a non-success status word (see `error_for`)."""
    err = error_for(sw1, sw2, context)
    if err is not None:
        raise err
