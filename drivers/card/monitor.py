"""Card and reader monitoring: a thread asleep in SCardGetStatusChange that posts `ReaderAdded`,
`ReaderRemoved`, `CardInserted`, `CardRemoved` and `DeviceHealthChanged` through a callback,
under a supervisor that re-establishes PC/SC with backoff when pcscd goes away.

pyscard's own CardMonitor/ReaderMonitor are process-wide singletons whose threads die on an
unexpected exception and poll with a fixed 60 s card request; this monitor uses pyscard's
`scard` layer directly so that it can survive a pcscd restart and stop promptly (SCardCancel).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from smartcard import scard

from drivers.card.errors import ReaderError
from drivers.card.reader import PNP
from drivers.card.settings import CardSettings
from drivers.vocabulary import (
    CardInserted,
    CardRemoved,
    DeviceEvent,
    DeviceHealth,
    DeviceHealthChanged,
    DeviceKind,
    ReaderAdded,
    ReaderRemoved,
)

__all__ = ["CardMonitor", "EventSink"]

EventSink = Callable[[DeviceEvent], None]

_SERVICE_GONE = {
    scard.SCARD_E_NO_SERVICE,
    scard.SCARD_E_SERVICE_STOPPED,
    scard.SCARD_E_INVALID_HANDLE,
    scard.SCARD_F_COMM_ERROR,
    scard.SCARD_E_NO_MEMORY,
}


class CardMonitor:
    """Watches the readers whose name contains `settings.reader` ("" = every reader).

    `sink` is called on the monitor thread; it must only enqueue (e.g. EventQueue.post). An
    exception from it is logged and swallowed. `health` is ONLINE when a watched reader exists,
    NO_DEVICE when pcscd runs without one, OFFLINE when pcscd is unreachable; each change is
    posted and logged once. `start()`/`stop()` from any thread; `stop()` returns within about
    one `monitor_poll_s`.
    """

    def __init__(
        self,
        sink: EventSink,
        settings: CardSettings,
        *,
        name: str = "card_reader",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sink = sink
        self._settings = settings
        self.name = name
        self._clock = clock
        self._log = logging.getLogger(f"drivers.card.monitor.{name}")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ctx: int | None = None
        self._ctx_lock = threading.Lock()
        self._readers: dict[str, int] = {}  # reader -> last known state flags
        self._cards: dict[str, str] = {}  # reader -> ATR hex of the card in it
        self.health = DeviceHealth.OFFLINE
        self._health_posted = False
        self.restarts = 0  # how often the supervisor re-established PC/SC
        self._established = False  # set once PC/SC answered: the next failure starts backoff over

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        """Start the monitor thread (idempotent)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._supervise, name=f"monitor-{self.name}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop and join the monitor thread."""
        self._stop.set()
        with self._ctx_lock:
            if self._ctx is not None:
                scard.SCardCancel(self._ctx)  # wake SCardGetStatusChange now
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    @property
    def readers(self) -> list[str]:
        """The watched readers as last seen (monitor thread's view)."""
        return list(self._readers)

    def card_in(self, reader: str) -> bool:
        """Whether the monitor last saw a card in `reader`."""
        return reader in self._cards

    # -- events --------------------------------------------------------------------------------

    def _post(self, event: DeviceEvent) -> None:
        try:
            self._sink(event)
        except Exception:
            self._log.exception("event sink failed on %s", type(event).__name__)

    def _set_health(self, health: DeviceHealth, detail: str) -> None:
        if health is self.health and self._health_posted:
            return
        self.health = health
        self._health_posted = True
        self._log.log(
            logging.INFO if health is DeviceHealth.ONLINE else logging.WARNING,
            "card reader %s: %s",
            health.value,
            detail,
        )
        self._post(
            DeviceHealthChanged(
                device=self.name,
                at=self._clock(),
                kind=DeviceKind.CARD_READER,
                health=health,
                detail=detail,
            )
        )

    def _forget_all(self) -> None:
        for reader in list(self._readers):
            self._drop_reader(reader)

    def _drop_reader(self, reader: str) -> None:
        if self._cards.pop(reader, None) is not None:
            self._post(CardRemoved(device=reader, at=self._clock()))
        self._readers.pop(reader, None)
        self._post(ReaderRemoved(device=reader, at=self._clock()))

    # -- threads -------------------------------------------------------------------------------

    def _supervise(self) -> None:
        backoff = self._settings.monitor_backoff_initial_s
        while not self._stop.is_set():
            try:
                self._watch()
                return  # stop requested
            except Exception as e:
                if self._established:
                    self._established = False
                    backoff = self._settings.monitor_backoff_initial_s
                self._forget_all()
                self._set_health(DeviceHealth.OFFLINE, str(e))
                self.restarts += 1
                self._log.debug("monitor restarts in %.2f s", backoff)
                if self._stop.wait(backoff):
                    return
                backoff = min(backoff * 2, self._settings.monitor_backoff_max_s)
            finally:
                self._release()
        # (the loop exits only on stop)

    def _release(self) -> None:
        with self._ctx_lock:
            if self._ctx is not None:
                scard.SCardReleaseContext(self._ctx)
                self._ctx = None

    def _watch(self) -> None:
        hresult, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if hresult != scard.SCARD_S_SUCCESS:
            raise ReaderError("pcscd is not available", hresult=hresult)
        with self._ctx_lock:
            self._ctx = ctx
        self._established = True
        pnp_state = scard.SCARD_STATE_UNAWARE
        poll_ms = int(self._settings.monitor_poll_s * 1000)
        while not self._stop.is_set():
            self._sync_readers(ctx)
            watch = [(PNP, pnp_state)] + [(r, s) for r, s in self._readers.items()]
            hresult, states = scard.SCardGetStatusChange(ctx, poll_ms, watch)
            if hresult in (scard.SCARD_E_TIMEOUT, scard.SCARD_E_CANCELLED):
                continue
            if hresult in (scard.SCARD_E_UNKNOWN_READER, scard.SCARD_E_READER_UNAVAILABLE):
                continue  # the reader list changed under us: list again
            if hresult != scard.SCARD_S_SUCCESS:
                raise ReaderError("PC/SC status wait failed", hresult=hresult)
            for reader, event, atr in states:
                state = event & ~scard.SCARD_STATE_CHANGED
                if reader == PNP:
                    pnp_state = state
                    continue
                if reader in self._readers:
                    self._readers[reader] = state
                    self._card_state(reader, state, atr)

    def _sync_readers(self, ctx: int) -> None:
        hresult, names = scard.SCardListReaders(ctx, [])
        if hresult in (scard.SCARD_E_NO_READERS_AVAILABLE, scard.SCARD_E_READER_UNAVAILABLE):
            names = []
        elif hresult in _SERVICE_GONE or hresult != scard.SCARD_S_SUCCESS:
            raise ReaderError("cannot list the readers", hresult=hresult)
        wanted = [n for n in names if self._settings.reader in n]
        for reader in [r for r in self._readers if r not in wanted]:
            self._drop_reader(reader)
        for reader in wanted:
            if reader not in self._readers:
                self._readers[reader] = scard.SCARD_STATE_UNAWARE
                self._post(ReaderAdded(device=reader, at=self._clock()))
        if self._readers:
            self._set_health(DeviceHealth.ONLINE, ", ".join(self._readers))
        else:
            self._set_health(DeviceHealth.NO_DEVICE, "no card reader connected")

    def _card_state(self, reader: str, state: int, atr: list[int]) -> None:
        present = bool(state & scard.SCARD_STATE_PRESENT) and not state & scard.SCARD_STATE_MUTE
        if present and reader not in self._cards:
            atr_hex = bytes(atr).hex().upper()
            self._cards[reader] = atr_hex
            self._post(CardInserted(device=reader, at=self._clock(), atr=atr_hex))
        elif not present and reader in self._cards:
            del self._cards[reader]
            self._post(CardRemoved(device=reader, at=self._clock()))
