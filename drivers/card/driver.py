"""`CardDriver`: the card layer's domain facade for the kiosk core and the CLI (a `Device`):
readers, waiting for a card, card sessions (read the holder, verify and change the PIN) and the
insertion monitor."""

from __future__ import annotations

import logging
from types import TracebackType

from drivers.card import reader as pcsc
from drivers.card.errors import CardError, PinPadUnavailableError, ReaderMissingError
from drivers.card.holder import CardHolder
from drivers.card.monitor import CardMonitor, EventSink
from drivers.card.pinpad import ReaderPinPad
from drivers.card.settings import CardSettings, PinEntry
from drivers.card.ssc import SecurityHook, SscApplication
from drivers.card.transport import PcscChannel
from drivers.personal import PinBuffer
from drivers.vocabulary import DeviceHealth, DeviceKind

__all__ = ["CardDriver", "CardSession"]


class CardSession:
    """One connected card in one reader. Use as a context manager; every operation holds a
    PC/SC transaction for its duration. Not thread safe (one session thread)."""

    def __init__(
        self, channel: PcscChannel, settings: CardSettings, hook: SecurityHook | None
    ) -> None:
        self.channel = channel
        self.reader = channel.reader
        self._settings = settings
        self.ssc = SscApplication(
            channel, security_hook=hook, logger=logging.getLogger(f"drivers.card.{channel.reader}")
        )
        self._pin_pad: ReaderPinPad | None = None
        self._pin_pad_checked = False

    @property
    def atr(self) -> bytes:
        """The card's ATR."""
        return self.channel.atr

    def read_holder(self) -> CardHolder:
        """Read EF05 and EF06 (docs/card.md §2, with the security hook) → `CardHolder`."""

        def read() -> CardHolder:
            with self.channel.transaction():
                return self.ssc.read_holder()

        return self.channel.run(read, "read holder")

    @property
    def pin_pad(self) -> ReaderPinPad | None:
        """The reader's secure PIN pad, or None (detected once per session)."""
        if not self._pin_pad_checked:
            self._pin_pad = ReaderPinPad.detect(
                self.channel.connection, self._settings, control=self.channel.control
            )
            self._pin_pad_checked = True
        return self._pin_pad

    def _pad_for(self, pin: PinBuffer | None) -> ReaderPinPad | None:
        mode = self._settings.pin_entry
        if pin is not None and mode is not PinEntry.READER:
            return None
        pad = self.pin_pad
        if pad is None and (pin is None or mode is PinEntry.READER):
            raise PinPadUnavailableError(f"reader {self.reader} has no secure PIN pad")
        return pad

    def verify_pin(self, pin: PinBuffer | None = None) -> None:
        """VERIFY: `pin` from the kiosk keypad (wiped here), or None to use the reader's PIN pad.
        With `pin_entry = reader` the PIN pad is required. Never retried."""
        try:
            pad = self._pad_for(pin)
        except CardError:
            if pin is not None:
                pin.wipe()
            raise

        def verify() -> None:
            with self.channel.transaction():
                self.ssc.verify_pin(pad if pad is not None else pin)  # type: ignore[arg-type]

        if pad is not None:
            verify()  # the citizen types: PcscChannel.control has the PIN pad's own deadline
        else:
            self.channel.run(verify, "verify PIN")

    def change_pin(self, old: PinBuffer | None = None, new: PinBuffer | None = None) -> None:
        """CHANGE PIN from two keypad buffers (wiped here), or on the reader's PIN pad (both
        None)."""
        try:
            pad = self._pad_for(old)
        except CardError:
            for buf in (old, new):
                if buf is not None:
                    buf.wipe()
            raise

        def change() -> None:
            with self.channel.transaction():
                if pad is not None:
                    self.ssc.change_pin(pad)
                else:
                    assert old is not None
                    self.ssc.change_pin(old, new)

        if pad is not None:
            change()
        else:
            self.channel.run(change, "change PIN")

    def close(self) -> None:
        """Disconnect with a card reset (a verified PIN or an authentication must not outlive
        the session; the card stays in the reader, powered); never raises."""
        self.channel.close()

    def __enter__(self) -> CardSession:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class CardDriver:
    """The card reader as a kiosk `Device` plus the card operations.

    Blocking calls (`wait_for_card`, `open`, session operations) run on the caller's thread;
    the insertion monitor runs on its own thread once `start()` is called with a sink.
    """

    kind = DeviceKind.CARD_READER

    def __init__(
        self,
        settings: CardSettings,
        *,
        sink: EventSink | None = None,
        security_hook: SecurityHook | None = None,
        name: str = "card_reader",
    ) -> None:
        self.settings = settings
        self.name = name
        self.security_hook = security_hook
        self._monitor = CardMonitor(sink, settings, name=name) if sink is not None else None

    # -- Device --------------------------------------------------------------------------------

    @property
    def health(self) -> DeviceHealth:
        """The monitor's view; without a monitor, a one-off check of pcscd and the readers."""
        if self._monitor is not None:
            return self._monitor.health
        try:
            pcsc.pick_reader(pcsc.list_readers(), self.settings.reader)
        except ReaderMissingError:
            return DeviceHealth.NO_DEVICE
        except CardError:
            return DeviceHealth.OFFLINE
        return DeviceHealth.ONLINE

    def start(self) -> None:
        """Start the insertion monitor (never raises: a missing pcscd shows as health)."""
        if self._monitor is not None:
            self._monitor.start()

    def stop(self) -> None:
        """Stop the monitor; idempotent."""
        if self._monitor is not None:
            self._monitor.stop()

    @property
    def monitor(self) -> CardMonitor | None:
        return self._monitor

    # -- operations ----------------------------------------------------------------------------

    def readers(self) -> list[str]:
        """All PC/SC reader names. Raises `ReaderError` when pcscd is not running."""
        return pcsc.list_readers()

    def reader_name(self, wanted: str | None = None) -> str:
        """The full name of the reader matching `wanted` (default: the configured one)."""
        return pcsc.pick_reader(
            pcsc.list_readers(), self.settings.reader if wanted is None else wanted
        )

    def wait_for_card(self, wanted: str | None = None, timeout_s: float | None = None) -> str:
        """Block until a card is in the reader; returns the reader name (`CardTimeoutError`)."""
        return pcsc.wait_for_card(
            self.settings.reader if wanted is None else wanted,
            self.settings.insert_timeout_s if timeout_s is None else timeout_s,
        )

    def open(self, reader: str | None = None) -> CardSession:
        """Connect to the card in `reader` (a name or substring; default the configured one)."""
        name = self.reader_name(reader)
        return CardSession(pcsc.connect(name, self.settings), self.settings, self.security_hook)

    def read_holder(
        self, reader: str | None = None, *, timeout_s: float | None = None
    ) -> CardHolder:
        """Wait for a card, read its holder, disconnect. Nothing partial: raises `CardError`."""
        name = self.wait_for_card(reader, timeout_s)
        with self.open(name) as session:
            return session.read_holder()
