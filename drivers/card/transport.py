"""Card transport: the `CardChannel` protocol, T=0 response handling (61xx → GET RESPONSE,
6Cxx → resend with the corrected Le), the pyscard implementation `PcscChannel` with a per-APDU
deadline, PC/SC error mapping and the redacting APDU tracer."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol, TypeVar

from smartcard import scard
from smartcard.CardConnectionObserver import CardConnectionObserver
from smartcard.Exceptions import CardConnectionException, NoCardException, SmartcardException

from drivers.card.apdu import CommandApdu, ResponseApdu, get_response
from drivers.card.errors import (
    CardError,
    CardProtocolError,
    CardRemovedError,
    CardTimeoutError,
    NoCardError,
    ReaderError,
    ReaderMissingError,
)
from drivers.card.settings import CardSettings
from drivers.personal import wipe_bytes

__all__ = [
    "ApduTracer",
    "CardChannel",
    "PcscChannel",
    "exchange_t0",
    "map_pcsc_error",
]

T = TypeVar("T")
_Lock = Any  # threading.Lock() instance (a factory function, not a class, in typeshed)


class CardChannel(Protocol):
    """A connection to one card. Not thread safe: one session uses it at a time."""

    def transmit(self, apdu: CommandApdu) -> ResponseApdu:
        """Send `apdu`, resolve T=0 61xx/6Cxx, return the final answer (any status word).

        Raises `CardRemovedError`, `CardTimeoutError`, `ReaderError` or `CardProtocolError`;
        never raises for a card status word (the caller maps it with `status.check`).
        """
        ...

    def transaction(self) -> AbstractContextManager[None]:
        """Exclusive access to the card for the block (SCardBeginTransaction/EndTransaction)."""
        ...


def exchange_t0(
    send: Callable[[CommandApdu], ResponseApdu], apdu: CommandApdu, max_rounds: int
) -> ResponseApdu:
    """Run one command through the T=0 rules (ISO 7816-3 §10.3.5, docs/card.md §2.3).

    `61xx`: the data so far is kept and GET RESPONSE (Le=xx) fetches more, possibly chained.
    `6Cxx`: the same command (or GET RESPONSE) is sent again with Le=xx. Both may happen on any
    command. At most `max_rounds` exchanges; more raises `CardProtocolError`.
    """
    data = bytearray()
    current = apdu
    for _ in range(max_rounds):
        resp = send(current)
        if resp.sw1 == 0x6C:
            if current.le is not None and current.le == (resp.sw2 or 256):
                raise CardProtocolError(
                    "the card asks for the Le it was given", sw1=resp.sw1, sw2=resp.sw2
                )
            current = current.with_le(resp.sw2 or 256)
            continue
        data += resp.data
        if resp.sw1 == 0x61:
            current = get_response(resp.sw2 or 256)
            continue
        return ResponseApdu(bytes(data), resp.sw1, resp.sw2)
    raise CardProtocolError(f"no final status word after {max_rounds} T=0 exchanges")


_REMOVED = {
    scard.SCARD_W_REMOVED_CARD,
    scard.SCARD_E_NO_SMARTCARD,
    scard.SCARD_W_RESET_CARD,
    scard.SCARD_W_UNPOWERED_CARD,
}
_SERVICE = {scard.SCARD_E_NO_SERVICE, scard.SCARD_E_SERVICE_STOPPED, scard.SCARD_E_INVALID_HANDLE}
_READER_GONE = {scard.SCARD_E_READER_UNAVAILABLE, scard.SCARD_E_UNKNOWN_READER}


def map_pcsc_error(exc: Exception, what: str) -> CardError:
    """Map a pyscard exception to our typed error, keeping the raw hresult."""
    hresult = getattr(exc, "hresult", None)
    if not isinstance(hresult, int) or hresult == -1:
        hresult = None
    if isinstance(exc, NoCardException) or hresult in (
        scard.SCARD_E_NO_SMARTCARD,
        scard.SCARD_W_REMOVED_CARD,
    ):
        if isinstance(exc, NoCardException) and "connect" in what:
            return NoCardError(f"{what}: no card in the reader", hresult=hresult)
        return CardRemovedError(f"{what}: the card was removed", hresult=hresult)
    if hresult in _REMOVED:
        return CardRemovedError(f"{what}: the card was reset or removed", hresult=hresult)
    if hresult in _SERVICE:
        return ReaderError(f"{what}: the PC/SC service is not available", hresult=hresult)
    if hresult in _READER_GONE:
        return ReaderMissingError(f"{what}: the reader is gone", hresult=hresult)
    if hresult == scard.SCARD_E_TIMEOUT:
        return CardTimeoutError(f"{what}: timed out", hresult=hresult)
    return ReaderError(f"{what}: {exc.__class__.__name__}", hresult=hresult)


class ApduTracer(CardConnectionObserver):  # type: ignore[misc]
    """pyscard observer logging APDU headers and status words at DEBUG, never data.

    Called on the thread that transmits; never raises into pyscard.
    """

    def __init__(self, logger: logging.Logger) -> None:
        self._log = logger
        self._last_ins = 0

    def update(self, observable: object, event: Any) -> None:
        try:
            if not self._log.isEnabledFor(logging.DEBUG):
                return
            args = event.args
            if event.type == "command" and isinstance(args, list) and args:
                first = args[0]
                if isinstance(first, int):  # control(): [code, bytes]
                    self._log.debug("> control 0x%08X", first)
                elif isinstance(first, list) and len(first) >= 4:
                    self._last_ins = first[1]
                    header = " ".join(f"{b:02X}" for b in first[:4])
                    self._log.debug("> %s", header)
            elif event.type == "response" and isinstance(args, list) and len(args) == 3:
                self._log.debug("< SW %02X%02X (%d bytes)", args[1], args[2], len(args[0]))
            elif event.type in ("connect", "reconnect", "disconnect"):
                self._log.debug("%s", event.type)
        except Exception:  # an observer must never break a transmit
            pass


class _Worker:
    """One daemon thread that runs blocking PC/SC calls so the caller can give up after a
    deadline (SCardTransmit has no timeout of its own; vpcd waits for a silent card forever).
    A daemon, because a call stuck in pcscd must not keep the process from exiting. The hand-off
    is a SimpleQueue and a plain lock used as a one-shot signal (cheaper than threading.Event,
    measured on the holder-read benchmark)."""

    def __init__(self, name: str) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], list[Any], _Lock]] = (
            queue.SimpleQueue()
        )
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            fn, box, done = self._jobs.get()
            try:
                box.append((True, fn()))
            except BaseException as e:  # handed back to the caller
                box.append((False, e))
            done.release()
            if fn is _stop:
                return

    @staticmethod
    def _signal() -> _Lock:
        done = threading.Lock()
        done.acquire()
        return done

    def call(self, fn: Callable[[], T], timeout_s: float) -> T:
        """Run `fn` on the worker; raise `TimeoutError` if it takes longer than `timeout_s`."""
        box: list[Any] = []
        done = self._signal()
        self._jobs.put((fn, box, done))
        if not done.acquire(timeout=timeout_s):
            raise TimeoutError
        ok, value = box[0]
        if ok:
            return value  # type: ignore[no-any-return]
        raise value

    def is_current(self) -> bool:
        """True when called on the worker thread itself."""
        return threading.current_thread() is self._thread

    def submit(self, fn: Callable[[], Any]) -> None:
        """Queue `fn` without waiting (used to clean up behind a stuck call)."""
        self._jobs.put((fn, [], self._signal()))

    def stop(self) -> None:
        self._jobs.put((_stop, [], self._signal()))


def _stop() -> None:
    return None


class PcscChannel:
    """`CardChannel` over a connected pyscard `CardConnection` (T=0 or T=1).

    Every APDU sent from outside `run()` has the deadline `settings.apdu_timeout_s`; inside
    `run()` the operation as a whole has `operation_timeout_s`. A deadline that passes leaves
    the channel unusable (the card's state is unknown), and `close()` then cleans up behind the
    stuck call without blocking. Use from one thread at a time.
    """

    def __init__(
        self,
        connection: Any,
        *,
        reader: str,
        settings: CardSettings,
        logger: logging.Logger | None = None,
    ) -> None:
        self._conn = connection
        self.reader = reader
        self._settings = settings
        self._log = logger or logging.getLogger(f"drivers.card.{reader}")
        self._broken: CardError | None = None
        self._worker = _Worker(f"pcsc-{reader}") if settings.apdu_timeout_s > 0 else None
        self._tracer: ApduTracer | None = None
        if settings.trace_apdus:
            self._tracer = ApduTracer(self._log.getChild("apdu"))
            connection.addObserver(self._tracer)

    # -- low level -----------------------------------------------------------------------------

    def run(self, fn: Callable[[], T], what: str) -> T:
        """Run a whole operation (many APDUs, e.g. a holder read) on the I/O thread under one
        deadline, `settings.operation_timeout_s`: one thread hop per operation instead of one
        per APDU (measured: the per-APDU hop doubled the time of a holder read). Errors raised
        by `fn` propagate unchanged; on timeout the channel becomes unusable."""
        if self._worker is None or self._worker.is_current():
            return fn()
        if self._broken is not None:
            raise self._broken
        try:
            return self._worker.call(fn, self._settings.operation_timeout_s)
        except TimeoutError:
            self._broken = CardTimeoutError(
                f"{what}: not finished within {self._settings.operation_timeout_s:g} s"
            )
            raise self._broken from None

    def _call(self, fn: Callable[[], T], what: str | CommandApdu) -> T:
        if self._broken is not None:
            raise self._broken
        try:
            if self._worker is None or self._worker.is_current():
                return fn()
            return self._worker.call(fn, self._settings.apdu_timeout_s)
        except TimeoutError:
            label = what.describe() if isinstance(what, CommandApdu) else what
            self._broken = CardTimeoutError(
                f"{label}: no answer within {self._settings.apdu_timeout_s:g} s"
            )
            raise self._broken from None
        except SmartcardException as e:
            # The label is built only on failure: describe() per APDU showed in the profile.
            label = what.describe() if isinstance(what, CommandApdu) else what
            err = map_pcsc_error(e, label)
            if isinstance(err, ReaderError) and not isinstance(err, ReaderMissingError):
                err = self._classify_failure(err, label)
            raise err from None

    def _classify_failure(self, err: CardError, what: str) -> CardError:
        # A transmit that fails because the card left mid-command reports an empty answer,
        # SCARD_E_NOT_TRANSACTED or a comm error, not "removed", and pcscd notices the removal
        # only at its next presence poll: wait up to `removal_probe_s` for the reader to change.
        hcontext = getattr(self._conn, "hcontext", None)
        if hcontext is None:
            return err
        try:
            hresult, states = scard.SCardGetStatusChange(
                hcontext, 0, [(self.reader, scard.SCARD_STATE_UNAWARE)]
            )
            if hresult == scard.SCARD_S_SUCCESS and states[0][1] & scard.SCARD_STATE_PRESENT:
                current = states[0][1] & ~scard.SCARD_STATE_CHANGED
                hresult, states = scard.SCardGetStatusChange(
                    hcontext,
                    int(self._settings.removal_probe_s * 1000),
                    [(self.reader, current)],
                )
                if hresult == scard.SCARD_E_TIMEOUT:
                    return CardProtocolError(
                        f"{what}: the card stopped answering", hresult=err.hresult
                    )
        except Exception:  # the probe is best effort
            return err
        return CardRemovedError(f"{what}: the card was removed", hresult=err.hresult)

    def _send(self, apdu: CommandApdu) -> ResponseApdu:
        raw = apdu.to_bytes()
        cmd = list(raw)
        if apdu.sensitive:
            wipe_bytes(raw)
        try:
            data, sw1, sw2 = self._call(lambda: self._conn.transmit(cmd), apdu)
        finally:
            if apdu.sensitive:
                for i in range(len(cmd)):
                    cmd[i] = 0
        return ResponseApdu(bytes(data), sw1, sw2)

    # -- CardChannel ---------------------------------------------------------------------------

    def transmit(self, apdu: CommandApdu) -> ResponseApdu:
        """See `CardChannel.transmit`; runs the T=0 rules on every protocol."""
        return exchange_t0(self._send, apdu, self._settings.t0_max_rounds)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """SCardBeginTransaction … SCardEndTransaction(LEAVE_CARD) around the block."""
        hcard = self._conn.hcard

        def begin() -> None:
            hresult = scard.SCardBeginTransaction(hcard)
            if hresult != scard.SCARD_S_SUCCESS:
                raise CardConnectionException("SCardBeginTransaction", hresult=hresult)

        def end() -> None:
            scard.SCardEndTransaction(hcard, scard.SCARD_LEAVE_CARD)

        self._call(begin, "begin transaction")
        try:
            yield
        finally:
            if self._broken is None:
                try:
                    self._call(end, "end transaction")
                except CardError as e:
                    # The card may be gone already; ending the transaction then is moot.
                    self._log.debug("end transaction: %s", e)

    # -- extras --------------------------------------------------------------------------------

    @property
    def atr(self) -> bytes:
        """The card's answer to reset."""
        return bytes(self._call(self._conn.getATR, "get ATR"))

    @property
    def protocol(self) -> int:
        """pyscard's protocol constant (1 = T=0, 2 = T=1)."""
        return int(self._conn.getProtocol())

    def control(self, code: int, data: bytes | bytearray) -> bytes:
        """SCardControl (PC/SC part 10 features, secure PIN entry). The deadline is the PIN pad
        timeout plus the APDU timeout, since the citizen types meanwhile."""
        cmd = list(data)
        try:
            if self._worker is None:
                return bytes(self._conn.control(code, cmd))
            timeout = self._settings.pin_pad_timeout_s + self._settings.apdu_timeout_s
            try:
                return bytes(self._worker.call(lambda: self._conn.control(code, cmd), timeout))
            except TimeoutError:
                self._broken = CardTimeoutError("control: no answer from the reader")
                raise self._broken from None
        except SmartcardException as e:
            raise map_pcsc_error(e, "control") from None
        finally:
            for i in range(len(cmd)):
                cmd[i] = 0

    @property
    def connection(self) -> Any:
        """The pyscard connection (for the PIN pad feature query inside drivers/card only)."""
        return self._conn

    def close(self) -> None:
        """Disconnect with the disposition chosen at connect (reader.connect: reset) and release
        the PC/SC context; never raises."""
        conn = self._conn

        def disconnect() -> None:
            try:
                if self._tracer is not None:
                    conn.deleteObserver(self._tracer)
                conn.disconnect()
                conn.release()
            except Exception as e:  # closing a dead connection is expected
                self._log.debug("disconnect: %s", e.__class__.__name__)

        if self._worker is None:
            disconnect()
        elif self._broken is not None and isinstance(self._broken, CardTimeoutError):
            # The worker is stuck in the timed-out call: clean up behind it, do not wait.
            self._worker.submit(disconnect)
            self._worker.stop()
        else:
            try:
                self._worker.call(disconnect, self._settings.apdu_timeout_s)
            except TimeoutError:
                self._log.warning("disconnect did not finish in time")
            self._worker.stop()
