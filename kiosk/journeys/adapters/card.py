"""The session's card port on the real card layer: PSAM-authenticated read, PIN, bank card
swap, the central's challenge and the activation write, all on one card connection.

One `CardSession` stays open from the read to the end of the citizen session (the PIN state
and the RKSSSE authentication live in that connection, docs/card-security.md §4): the PIN is
verified once and the activation write relies on the card's own state, asked with an empty
VERIFY, never on a kept PIN. The bank card swap closes it; the returning card must be the same
social security card (ATR and card identification code) and is authenticated again.
Blocking calls: the effect runner calls them on its worker thread; a lock keeps them serial.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable

from drivers.card import reader as pcsc
from drivers.card.apdu import CommandApdu
from drivers.card.bank import (
    CardIdentity,
    CardSwappedError,
    SwapStep,
    read_bank_card,
    read_card_identity,
)
from drivers.card.cryptogram import PsamCryptogramProvider
from drivers.card.driver import CardDriver, CardSession
from drivers.card.errors import (
    CardError,
    PinBlockedError,
    PinWrongError,
    SecurityStatusError,
)
from drivers.card.holder import CardHolder, IssuerData
from drivers.card.photo import read_photo
from drivers.card.security import (
    CardAccess,
    CardAuthenticator,
    answer_challenge,
    make_security_hook,
)
from drivers.card.settings import CardSettings
from drivers.card.transport import PcscChannel
from drivers.personal import Masked, PersonalKind, PinBuffer, PinFormatError
from drivers.vocabulary import ErrorCode
from kiosk.card_access import OpenPsam, open_psam
from kiosk.clock import Clock
from kiosk.config import KioskConfig
from kiosk.config.terminal import Mode
from kiosk.services.activation import ActivationCard, DriverActivationCard
from kiosk.session.events import (
    BankCardRead,
    BankCardReadFailed,
    CardRead,
    CardReadFailed,
    Event,
    PinBlocked,
    PinChanged,
    PinChangeFailed,
    PinRejected,
    PinVerified,
)

__all__ = ["CardNotReadError", "ReaderCard"]

log = logging.getLogger("kiosk.journeys.card")


class CardNotReadError(CardError):
    """An operation needs the card read first (a session bug, never the citizen's)."""

    code = ErrorCode.CARD_UNREADABLE


def _code(e: CardError) -> str:
    return str(e.code.value)


class ReaderCard:
    """`CardPort` (kiosk/session/ports.py) on the reader and the PSAM of `config`.

    Also what the central session and the activation saga need of the present card:
    `card_id`, `card_number` and `answer()` (a `CardResponder`), and `activation_card()`.
    """

    def __init__(
        self, config: KioskConfig, clock: Clock, *, today: Callable[[], dt.date] | None = None
    ) -> None:
        self._config = config
        self._settings: CardSettings = config.card.driver_settings()
        self._clock = clock
        self._today = today or (lambda: dt.datetime.fromtimestamp(clock.wall()).date())
        self._lock = threading.RLock()
        self._psam: OpenPsam | None = None
        self._session: CardSession | None = None
        self._auth: CardAuthenticator | None = None
        self._holder: CardHolder | None = None
        self._identity: CardIdentity | None = None
        self._swap: SwapStep | None = None
        self.pin_verified = False

    # -- CardPort ------------------------------------------------------------------------------

    def read_card(self) -> Event:
        """Open the card with the PSAM, authenticate it (internal + RKSSSE) and read EF05/EF06.
        After a bank card swap only the same social security card is accepted."""
        with self._lock:
            swap = self._swap
            self._close_card()
            try:
                self._open()
                assert self._session is not None
                identity = read_card_identity(self._session.channel, self._session.atr)
                if swap is not None:
                    swap.check_return(identity)
                holder = self._session.read_holder()
            except CardSwappedError as e:
                self._swap = swap  # the right card may still come back
                self._close_card()
                return CardReadFailed(code=_code(e))
            except CardError as e:
                log.info("card read failed: %s", e.code.value)
                self._close_card()
                return CardReadFailed(code=_code(e))
            self._swap = None
            self._identity = identity
            self._holder = holder
            return CardRead(holder=holder, expired=holder.is_expired(self._today()))

    def verify_pin(self, pin: PinBuffer) -> Event:
        """VERIFY on the open card; the buffer is wiped by the driver whatever happens."""
        with self._lock:
            try:
                self._need_session().verify_pin(pin)
            except PinWrongError as e:
                return PinRejected(tries_left=e.tries_left)
            except PinBlockedError:
                return PinBlocked()
            finally:
                pin.wipe()
            self.pin_verified = True
            return PinVerified()

    def change_pin(self, old: PinBuffer, new: PinBuffer) -> Event:
        """CHANGE PIN on the open card (both buffers wiped)."""
        with self._lock:
            try:
                self._need_session().change_pin(old, new)
            except PinWrongError as e:
                return PinChangeFailed(reason=_code(e), tries_left=e.tries_left)
            except PinBlockedError:
                return PinBlocked()
            except PinFormatError:
                return PinChangeFailed(reason="format")
            except CardError as e:
                return PinChangeFailed(reason=_code(e))
            finally:
                old.wipe()
                new.wipe()
            self.pin_verified = True
            return PinChanged()

    def read_bank_card(self) -> Event:
        """Activation's swap step: the SSC has left, read the bank card now in the reader."""
        with self._lock:
            if self._identity is not None:
                self._swap = SwapStep(self._identity)
            self._close_card()
            swap = self._swap
            try:
                driver = CardDriver(self._settings)
                name = driver.wait_for_card(self._settings.reader or None)
                with driver.open(name) as session:
                    channel = session.channel
                    try:
                        identity: CardIdentity | None = read_card_identity(channel, session.atr)
                    except CardError:
                        identity = None  # not an SSC: a bank card, as asked
                    if swap is not None and swap.is_ssc(identity):
                        return BankCardReadFailed(code=ErrorCode.CARD_NOT_SSC.value)
                    bank = read_bank_card(channel, today=self._today())
            except CardError as e:
                return BankCardReadFailed(code=_code(e))
            if swap is not None:
                swap.record_bank_card(bank)
            pan = bank.pan
            return BankCardRead(bank_number=Masked(pan.reveal(), PersonalKind.BANK_NUMBER))

    def forget(self) -> None:
        """The session ended: close the card (reset: PIN and authentication states gone) and
        the PSAM, and drop the holder."""
        with self._lock:
            self._close_card()
            self._swap = None
            self._identity = None

    # -- what the central session and the saga need --------------------------------------------

    @property
    def issuer(self) -> IssuerData:
        session = self._need_session()
        return session.ssc.read_issuer()

    @property
    def card_id(self) -> bytes:
        holder = self._need_holder()
        return bytes.fromhex(holder.card_id)

    @property
    def card_number(self) -> str:
        return self._need_holder().card_number.reveal()

    @property
    def id_number(self) -> Masked:
        return self._need_holder().id_number

    def terminal_number(self) -> str:
        """The PSAM's terminal number (12 digits), written into the activation record."""
        if self._psam is None:
            raise CardNotReadError("no PSAM open: read the card first")
        return self._psam.info.terminal_number

    def answer(self, challenge: bytes) -> bytes:
        """INTERNAL AUTHENTICATE over the central's challenge on the open card."""
        with self._lock:
            session = self._need_session()

            def run() -> bytes:
                with session.channel.transaction():
                    return answer_challenge(session.channel, challenge)

            return session.channel.run(run, "answer the central's challenge")

    def photo(self) -> bytes:
        """The holder's EF08 photo (JPEG) from the open, authenticated card; the caller
        discards it after the face check."""
        with self._lock:
            session = self._need_session()
            photo = session.channel.run(lambda: read_photo(session.channel), "read photo")
            return bytes(photo.jpeg)

    def activation_card(self, terminal_number: str) -> ActivationCard:
        """The saga's port to this card: the write and the read-back on the open connection,
        with the PIN state the citizen proved (asked of the card, never a kept PIN)."""
        with self._lock:
            session = self._need_session()
            if self._auth is None:
                raise CardNotReadError("the card was not authenticated with the PSAM")
            return DriverActivationCard(
                session.channel, self._auth, self._pin_state(session), terminal_number, self._clock
            )

    # -- internals -----------------------------------------------------------------------------

    def _open(self) -> None:
        production = self._config.terminal.mode is Mode.PRODUCTION
        self._psam = open_psam(self._config, self._settings)

        def keep(access: CardAccess, auth: CardAuthenticator | None) -> None:
            self._auth = auth

        hook = make_security_hook(
            PsamCryptogramProvider(self._psam.client),
            require_internal=self._config.psam.internal_auth or production,
            on_access=keep,
        )
        driver = CardDriver(self._settings, security_hook=hook)
        name = driver.wait_for_card(self._settings.reader or None)
        self._session = driver.open(name)

    def _pin_state(self, session: CardSession) -> Callable[[], None]:
        def confirm() -> None:
            # ISO 7816-4: VERIFY without data answers 9000 while the PIN stays verified.
            resp = session.channel.transmit(CommandApdu(0x00, 0x20, 0x00, 0x00))
            if not resp.ok:
                raise SecurityStatusError(
                    "the PIN is no longer verified on this card", resp.sw1, resp.sw2
                )

        return confirm

    def _need_session(self) -> CardSession:
        if self._session is None:
            raise CardNotReadError("no card session: read the card first")
        return self._session

    def _need_holder(self) -> CardHolder:
        if self._holder is None:
            raise CardNotReadError("no card read in this session")
        return self._holder

    def _close_card(self) -> None:
        session, self._session = self._session, None
        psam, self._psam = self._psam, None
        self._auth = None
        self._holder = None
        self.pin_verified = False
        if session is not None:
            session.close()
        if psam is not None:
            psam.channel.close()

    def channel(self) -> PcscChannel:
        """The open card channel (tests and the benchmark's baseline)."""
        return self._need_session().channel


def reader_present(settings: CardSettings) -> bool:
    """True when a card is in the configured reader now (no connection made)."""
    try:
        pcsc.wait_for_card(settings.reader, 0.0)
    except CardError:
        return False
    return True
