"""PC/SC readers through pyscard: list them, pick one by name, wait for a card, connect.

Every call opens its own short-lived PC/SC context, so a restarted pcscd is picked up by the
next call; pyscard types never leave this package.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

from smartcard import scard
from smartcard.Exceptions import SmartcardException
from smartcard.pcsc.PCSCCardConnection import PCSCCardConnection

from drivers.card.errors import (
    CardTimeoutError,
    NoCardError,
    ReaderError,
    ReaderMissingError,
)
from drivers.card.settings import CardSettings
from drivers.card.transport import PcscChannel, map_pcsc_error

__all__ = [
    "card_present",
    "connect",
    "list_readers",
    "pcsc_context",
    "pick_reader",
    "wait_for_card",
]

_log = logging.getLogger("drivers.card.reader")


@contextmanager
def pcsc_context() -> Iterator[int]:
    """A PC/SC context for the block; raises `ReaderError` when pcscd is not running."""
    hresult, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        raise ReaderError("the PC/SC service (pcscd) is not available", hresult=hresult)
    try:
        yield ctx
    finally:
        scard.SCardReleaseContext(ctx)


def _list(ctx: int) -> list[str]:
    hresult, readers = scard.SCardListReaders(ctx, [])
    if hresult in (scard.SCARD_E_NO_READERS_AVAILABLE, scard.SCARD_E_READER_UNAVAILABLE):
        return []
    if hresult != scard.SCARD_S_SUCCESS:
        raise ReaderError("cannot list the readers", hresult=hresult)
    return list(readers)


def list_readers() -> list[str]:
    """Names of the PC/SC readers, in pcscd's order (vpcd: "Virtual PCD 00 00", "... 00 01").

    Raises `ReaderError` when pcscd is not running; an empty list when it has no reader.
    """
    with pcsc_context() as ctx:
        return _list(ctx)


def pick_reader(readers: list[str], wanted: str) -> str:
    """The first reader whose name contains `wanted` (empty = the first reader); raises
    `ReaderMissingError` naming what was looked for and what exists."""
    for name in readers:
        if wanted in name:
            return name
    if not readers:
        raise ReaderMissingError("no card reader is connected")
    raise ReaderMissingError(f"no reader matches {wanted!r} (readers: {', '.join(readers)})")


def card_present(reader: str) -> bool:
    """True when a card sits in `reader` (one SCardGetStatusChange, no waiting)."""
    with pcsc_context() as ctx:
        hresult, states = scard.SCardGetStatusChange(ctx, 0, [(reader, scard.SCARD_STATE_UNAWARE)])
        if hresult != scard.SCARD_S_SUCCESS:
            raise map_pcsc_error(SmartcardException("status", hresult=hresult), "reader status")
        return bool(states[0][1] & scard.SCARD_STATE_PRESENT)


_UNAWARE = scard.SCARD_STATE_UNAWARE
PNP = "\\\\?PnP?\\Notification"  # pcsc-lite's pseudo reader that changes with the reader list


def wait_for_card(wanted: str, timeout_s: float) -> str:
    """Wait until a card is in the reader matching `wanted`; return that reader's name.

    Blocks the calling thread up to `timeout_s` seconds (raises `CardTimeoutError` then, or
    `ReaderMissingError` naming the readers that exist if none ever matched), asleep in
    SCardGetStatusChange between changes. A reader that appears meanwhile is picked up; raises
    `ReaderError` if pcscd goes away.
    """
    deadline = time.monotonic() + timeout_s
    known: dict[str, int] = {PNP: scard.SCARD_STATE_UNAWARE}
    with pcsc_context() as ctx:
        while True:
            matching = [r for r in _list(ctx) if wanted in r][:1]
            watch = [
                (name, known.get(name, scard.SCARD_STATE_UNAWARE)) for name in [PNP, *matching]
            ]
            remaining = deadline - time.monotonic()
            hresult, states = scard.SCardGetStatusChange(ctx, max(0, int(remaining * 1000)), watch)
            if hresult in (scard.SCARD_E_NO_SERVICE, scard.SCARD_E_SERVICE_STOPPED):
                raise ReaderError("the PC/SC service stopped", hresult=hresult)
            if hresult == scard.SCARD_S_SUCCESS:
                for name, event, _atr in states:
                    known[name] = event & ~scard.SCARD_STATE_CHANGED
                    if name != PNP and event & scard.SCARD_STATE_PRESENT:
                        return str(name)
            elif hresult != scard.SCARD_E_TIMEOUT:
                # A reader that vanished between list and wait: list again after a short pause.
                time.sleep(0.05)
            if time.monotonic() >= deadline:
                if not matching:
                    # Never a matching reader: say which readers exist rather than "no card".
                    pick_reader(_list(ctx), wanted)
                where = matching[0] if matching else (wanted or "any reader")
                raise CardTimeoutError(f"no card inserted in {where} within {timeout_s:g} s")


def _release_quietly(conn: PCSCCardConnection) -> None:
    # pcscd may be gone: then there is nothing left to release.
    with contextlib.suppress(SmartcardException):
        conn.release()


def connect(reader: str, settings: CardSettings) -> PcscChannel:
    """Connect to the card in `reader` (shared mode, T=0 or T=1 as negotiated).

    Raises `NoCardError` when the reader is empty, `ReaderMissingError` when it does not
    exist, `ReaderError` for other PC/SC failures.
    """
    conn = None
    try:
        conn = PCSCCardConnection(reader)
        # RESET on disconnect: a verified PIN or an authentication must not outlive the session.
        conn.connect(disposition=scard.SCARD_RESET_CARD)
    except SmartcardException as e:
        if conn is not None:
            _release_quietly(conn)
        err = map_pcsc_error(e, f"connect to {reader}")
        if isinstance(err, NoCardError):
            raise err from None
        if getattr(e, "hresult", None) in (
            scard.SCARD_E_UNKNOWN_READER,
            scard.SCARD_E_READER_UNAVAILABLE,
        ):
            raise ReaderMissingError(f"reader {reader!r} is gone", hresult=err.hresult) from None
        raise err from None
    _log.debug("connected to %s, protocol %s", reader, conn.getProtocol())
    return PcscChannel(conn, reader=reader, settings=settings)
