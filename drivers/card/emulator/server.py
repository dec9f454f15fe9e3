"""`CardEmulator`: one vpcd slot; the card connects to vpcd, kept off the network.

Why not vpcd's reversed mode (vpcd connecting to a listening card): in the installed vsmartcard
3.3 (Debian 12) a reversed-mode slot can never reconnect: `vicc_connect` tests `server_sock`
(-1 in reversed mode) instead of the host name and calls `select()` on fd -1, which glibc's
fortify turns into an abort of pcscd at the first card removal. So vpcd listens (normal mode)
and the emulator connects; to keep vpcd off the network, pcscd runs in its own network namespace
(only loopback) and the emulator's thread joins it (`netns`), see tests/fixtures/pcscd.py.

Threads: `start()` runs one daemon thread per slot that connects while a card is inserted and
answers vpcd; `insert`/`remove`/`swap`/`inject` may be called from any thread (one lock).
Removal = close the connection; vpcd notices at its next presence poll (pcscd polls every
0.4 s) or transmit. After a removal or a power loss the card stays away `absent_s`, so pcscd
sees the slot empty at least once. vpcd waits for an answer without any timeout, so SILENCE
ends by dropping the connection after `silence_s`.

Latency: TCP_NODELAY once and TCP_QUICKACK before every recv, otherwise Nagle on vpcd's side
and delayed ACK on ours cost ~48 ms per APDU (reference section 11).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from dataclasses import dataclass

from drivers.card.emulator.card import VirtualCard
from drivers.card.emulator.faults import Fault
from drivers.card.emulator.netns import enter_netns
from drivers.card.emulator.profiles import load_profile
from drivers.card.vpcd import Control, FrameDecoder, encode_frame

__all__ = ["GARBAGE", "CardEmulator"]

_log = logging.getLogger("drivers.card.emulator")

GARBAGE = bytes.fromhex("5AA55AA53C")
"""The GARBAGE fault's answer: a few bytes ending in an undefined status word A5 3C."""
_WRITE_INS = {0xDC, 0xD6, 0xE2}
_WRITE_FAULTS = {Fault.POWER_LOSS_AFTER_WRITE, Fault.WRITE_REFUSED, Fault.WRITE_DENIED}
_POLL_S = 0.2  # how often a blocking recv wakes up to notice stop()


@dataclass
class _Armed:
    fault: Fault
    skip: int


class CardEmulator:
    """One virtual card slot: connects to vpcd's port `port` on `host` while a card is in.

    `latency_s`: added before every APDU answer (emulated card processing time).
    `silence_s`: how long the SILENCE fault keeps quiet before the connection drops.
    `absent_s`: how long a removed (or power-cut) card stays away before it may reconnect.
    `retry_s`: pause between connection attempts while vpcd is not there (pcscd down).
    `netns`: path of a network namespace to connect from (e.g. /run/netns/ssk-vpcd), or None.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 35963,
        *,
        latency_s: float = 0.0,
        silence_s: float = 1.0,
        absent_s: float = 0.6,
        retry_s: float = 0.05,
        netns: str | None = None,
        name: str = "",
        reader_name: str = "",
    ) -> None:
        self.host = host
        self.port = port
        self.latency_s = latency_s
        self.silence_s = silence_s
        self.absent_s = absent_s
        self.retry_s = retry_s
        self.netns = netns
        self.name = name or f"slot@{port}"
        self.reader_name = reader_name
        """The PC/SC reader name of this slot, when the owner knows it (fixture, CLI)."""
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._card: VirtualCard | None = None
        self._armed: list[_Armed] = []
        self._fired: list[Fault] = []
        self._absent_until = 0.0
        self._apdu_count = 0
        self._connections = 0
        self._conn: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        """Start the slot thread (it connects whenever a card is inserted). Idempotent."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"vpcd-{self.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and close the connection (the card, if any, stays in the object)."""
        self._stop.set()
        self._wake.set()
        self._drop_connection()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> CardEmulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- observation ---------------------------------------------------------------------------

    @property
    def card(self) -> VirtualCard | None:
        """The card in the slot, or None."""
        with self._lock:
            return self._card

    @property
    def apdu_count(self) -> int:
        """Command APDUs received since start (control bytes not counted)."""
        with self._lock:
            return self._apdu_count

    @property
    def connections(self) -> int:
        """How many times the slot connected to vpcd."""
        with self._lock:
            return self._connections

    @property
    def connected(self) -> bool:
        """True while the slot holds a connection to vpcd."""
        with self._lock:
            return self._conn is not None

    @property
    def fired(self) -> list[Fault]:
        """Faults that have fired, in order."""
        with self._lock:
            return list(self._fired)

    @property
    def error(self) -> BaseException | None:
        """Why the slot thread could not run (e.g. the namespace could not be joined)."""
        return self._error

    # -- card handling -------------------------------------------------------------------------

    def insert(self, card: VirtualCard | str) -> VirtualCard:
        """Put a card (or a fresh card of profile `card`) into the slot; returns it.

        A card already in the slot is removed first (as `swap`).
        """
        new = load_profile(card) if isinstance(card, str) else card
        if self.card is not None:
            self.remove()
        new.power_off()
        with self._lock:
            self._card = new
        self._wake.set()
        _log.info("%s: card %s inserted", self.name, new.profile_name)
        return new

    def remove(self) -> VirtualCard | None:
        """Take the card out (vpcd notices at its next poll or transmit); returns it."""
        with self._lock:
            old, self._card = self._card, None
            if self._conn is not None:
                # vpcd knows this card: it must find the slot empty at one poll at least.
                self._absent_until = time.monotonic() + self.absent_s
        self._drop_connection()
        if old is not None:
            old.power_off()
            _log.info("%s: card %s removed", self.name, old.profile_name)
        return old

    def swap(self, card: VirtualCard | str) -> VirtualCard:
        """Remove the card and insert another (pcscd sees a removal, then an insertion)."""
        self.remove()
        return self.insert(card)

    def inject(self, fault: Fault, *, after: int = 0) -> None:
        """Arm a one-shot fault: it fires on the first APDU after `after` more normal ones
        (write faults: on the first write command after that point)."""
        with self._lock:
            self._armed.append(_Armed(fault, after))

    def clear_faults(self) -> None:
        """Disarm every pending fault and forget the fired list."""
        with self._lock:
            self._armed.clear()
            self._fired.clear()

    # -- connection ----------------------------------------------------------------------------

    def _drop_connection(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def _run(self) -> None:
        if self.netns:
            try:
                enter_netns(self.netns)
            except OSError as exc:
                self._error = exc
                _log.error("%s: cannot join network namespace: %s", self.name, exc)
                return
        while not self._stop.is_set():
            # Cleared before reading the state, so an insert() in between is never missed.
            self._wake.clear()
            with self._lock:
                card = self._card
                wait = self._absent_until - time.monotonic()
            if card is None or wait > 0:
                self._wake.wait(max(wait, 0.0) if card is not None else None)
                continue
            try:
                conn = socket.create_connection((self.host, self.port), timeout=2.0)
            except OSError:
                self._stop.wait(self.retry_s)
                continue
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.settimeout(_POLL_S)
            with self._lock:
                if self._card is not card:
                    conn.close()
                    continue
                self._conn = conn
                self._connections += 1
            try:
                self._serve_connection(conn)
            except Exception:
                _log.exception("%s: connection handler failed", self.name)
            finally:
                with self._lock:
                    if self._conn is conn:
                        self._conn = None
                with contextlib.suppress(OSError):
                    conn.close()

    def _serve_connection(self, conn: socket.socket) -> None:
        decoder = FrameDecoder()
        while not self._stop.is_set():
            with contextlib.suppress(OSError):
                # Re-armed before each recv: Linux clears QUICKACK once it has been used.
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            try:
                data = conn.recv(0x10002)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                return
            for msg in decoder.feed(data):
                if not self._handle(conn, msg):
                    return

    def _send(self, conn: socket.socket, payload: bytes) -> bool:
        try:
            conn.sendall(encode_frame(payload))
            return True
        except OSError:
            return False

    def _handle(self, conn: socket.socket, msg: bytes) -> bool:
        """Answer one vpcd message; False when the connection must end."""
        with self._lock:
            card = self._card
        if card is None:
            return False
        if len(msg) == 1:
            return self._control(conn, card, msg[0])
        return self._apdu(conn, card, msg)

    def _control(self, conn: socket.socket, card: VirtualCard, code: int) -> bool:
        if code == Control.GET_ATR:
            return self._send(conn, card.atr)
        if code == Control.POWER_ON:
            card.power_on()
        elif code == Control.POWER_OFF:
            card.power_off()
        elif code == Control.RESET:
            card.reset()
        else:
            _log.warning("%s: unknown vpcd control byte %02X", self.name, code)
        return True

    def _take_fault(self, ins: int) -> Fault | None:
        """Count one APDU against the armed faults; the one to fire now, if any (lock held)."""
        fire: Fault | None = None
        for armed in list(self._armed):
            if armed.skip > 0:
                armed.skip -= 1
                continue
            if fire is not None:
                continue
            if armed.fault in _WRITE_FAULTS and ins not in _WRITE_INS:
                continue
            fire = armed.fault
            self._armed.remove(armed)
            self._fired.append(fire)
        return fire

    def _lose_power(self, card: VirtualCard) -> None:
        """The card lost power but stays in the slot: away for `absent_s`, then back reset."""
        card.power_off()
        with self._lock:
            self._absent_until = time.monotonic() + self.absent_s
        self._drop_connection()

    def _apdu(self, conn: socket.socket, card: VirtualCard, apdu: bytes) -> bool:
        ins = apdu[1] if len(apdu) > 1 else -1
        with self._lock:
            self._apdu_count += 1
            fault = self._take_fault(ins)
        if fault is not None:
            _log.info("%s: fault %s on INS %02X", self.name, fault.value, ins)
        if fault is Fault.REMOVE_MID_COMMAND:
            self.remove()
            return False
        if fault is Fault.SILENCE:
            self._stop.wait(self.silence_s)
            self._lose_power(card)
            return False
        if fault is Fault.GARBAGE:
            return self._send(conn, GARBAGE)
        if fault is Fault.WRITE_REFUSED:
            return self._send(conn, b"\x65\x81")
        if fault is Fault.WRITE_DENIED:
            return self._send(conn, b"\x69\x82")
        try:
            response = card.execute(apdu)
        except Exception:
            _log.exception("%s: card OS failed on INS %02X", self.name, ins)
            response = b"\x6f\x00"
        if _log.isEnabledFor(logging.DEBUG):
            # Header and status word only: bodies carry PINs and personal data.
            _log.debug("%s: INS %02X -> SW %s", self.name, ins, response[-2:].hex().upper())
        if self.latency_s > 0:
            time.sleep(self.latency_s)
        ok = self._send(conn, response)
        if fault is Fault.POWER_LOSS_AFTER_WRITE:
            self._lose_power(card)
            return False
        return ok
