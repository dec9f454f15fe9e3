"""The ID card reader driver: a SAM_A module over pyserial, with deadlines, retries, resync and
reopen after unplug.

Owns the serial port (pyserial types never leave this module). A read is find → select → read
text and photo; a card moved away at any point gives `IdCardRemovedError` and nothing partial.
The WLT photo comes back as `WltPhoto`, opaque bytes for a licensed decoder: none ships with the
product, so it is never decoded, logged or stored (the doctor says so).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

import serial

from drivers.idcard.codec import (
    BadFrame,
    Command,
    FrameParser,
    Reply,
    Status,
    build_request,
    parse_read_payload,
    status_meaning,
)
from drivers.idcard.errors import (
    IdCardDisconnectedError,
    IdCardError,
    IdCardFrameError,
    IdCardModuleError,
    IdCardNoCardError,
    IdCardRemovedError,
    IdCardTimeoutError,
)
from drivers.idcard.layouts import IdCardHolder, decode_text
from drivers.idcard.settings import IdCardSettings
from drivers.vocabulary import DeviceEvent, DeviceHealth, DeviceHealthChanged, DeviceKind

__all__ = ["IdCardRead", "IdCardReader", "WltPhoto"]

_log = logging.getLogger("drivers.idcard")

# Status bytes after which asking again is worth it (the SAM or the RF link hiccuped).
_TRANSIENT = {Status.CHECKSUM_ERROR, Status.LENGTH_ERROR, Status.RANDOM_ERROR}


class WltPhoto:
    """The card's 1024-byte WLT photo, opaque. Masked in str/repr, refuses pickling, wipeable."""

    __slots__ = ("_data",)

    def __init__(self, data: bytes) -> None:
        self._data = bytearray(data)

    def __len__(self) -> int:
        return len(self._data)

    def reveal(self) -> bytes:
        """The bytes, for handing to a licensed decoder (in memory only)."""
        return bytes(self._data)

    def wipe(self) -> None:
        self._data[:] = b"\x00" * len(self._data)

    def __repr__(self) -> str:
        return f"<WLT photo, {len(self._data)} bytes, not decoded>"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("a card photo is never serialised")


@dataclass(frozen=True, slots=True)
class IdCardRead:
    """One complete read: the holder and the opaque photo."""

    holder: IdCardHolder
    photo: WltPhoto


class IdCardReader:
    """One SAM_A module on a serial port. Not thread-safe: one caller at a time (the effect
    runner); `cancel` events let another thread stop a wait for a card."""

    def __init__(
        self,
        settings: IdCardSettings,
        *,
        post: Callable[[DeviceEvent], None] | None = None,
        name: str = "id_card_reader",
    ) -> None:
        self.settings = settings
        self.name = name
        self._post = post
        self._port: serial.Serial | None = None
        self._parser = FrameParser(replies=True)
        self._health = DeviceHealth.OFFLINE
        self.retries_used = 0
        self.reopens = 0

    # --- lifecycle ----------------------------------------------------------------------------

    @property
    def health(self) -> DeviceHealth:
        return self._health

    def open(self) -> None:
        """Open the port and check the SAM answers; IdCardError when it does not."""
        self._open_port()
        self._transact(Command.SAM_STATUS, timeout=self.settings.query_timeout)
        self._set_health(DeviceHealth.ONLINE)

    def close(self) -> None:
        if self._port is not None:
            with contextlib.suppress(OSError, serial.SerialException):
                self._port.close()
        self._port = None
        self._set_health(DeviceHealth.OFFLINE)

    def __enter__(self) -> IdCardReader:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- operations ---------------------------------------------------------------------------

    def sam_id(self) -> str:
        """The SAM's id as printed on its label: `b0.b2-u32le@4-u32le@8-u32le@12`."""
        data = self._transact(Command.SAM_ID, timeout=self.settings.query_timeout).data
        if len(data) != 16:
            raise IdCardFrameError(f"a SAM id has 16 bytes, this one {len(data)}")
        parts = [int.from_bytes(data[i : i + 4], "little") for i in (4, 8, 12)]
        return f"{data[0]:02d}.{data[2]:02d}-{parts[0]}-{parts[1]:010d}-{parts[2]:010d}"

    def card_present(self) -> bool:
        """One find: True when a card is on the antenna."""
        reply = self._transact(Command.FIND_CARD, timeout=self.settings.find_timeout, check=False)
        if reply.sw3 == Status.CARD_FOUND:
            return True
        if reply.sw3 == Status.NO_CARD:
            return False
        self._module_error(reply)

    def wait_for_card(self, timeout: float, cancel: threading.Event | None = None) -> bool:
        """Poll for a card until `timeout`; False when none came (or `cancel` was set)."""
        deadline = time.monotonic() + timeout
        while True:
            if self.card_present():
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            wait = min(self.settings.poll_interval, remaining)
            if cancel is not None:
                if cancel.wait(wait):
                    return False
            else:
                time.sleep(wait)

    def read(self, *, today: dt.date | None = None) -> IdCardRead:
        """Find, select and read the card on the antenna.

        IdCardNoCardError when there is none; IdCardRemovedError when it went away mid-read;
        IdCardDataError when its text is impossible. Retries the whole sequence a bounded
        number of times when the module reports a failed read (a card held at the edge of the
        field)."""
        s = self.settings
        for attempt in range(s.read_attempts):
            if not self.card_present():
                if attempt:
                    raise IdCardRemovedError("the ID card was moved away during the read")
                raise IdCardNoCardError("no ID card on the reader", sw3=Status.NO_CARD)
            select = self._transact(Command.SELECT_CARD, timeout=s.find_timeout, check=False)
            if select.sw3 == Status.SELECT_FAILED:
                continue  # moved at the edge of the field: find again
            if select.sw3 != Status.OK:
                self._module_error(select)
            reply = self._transact(Command.READ_TEXT_PHOTO, timeout=s.read_timeout, check=False)
            if reply.sw3 == Status.NO_CARD:
                raise IdCardRemovedError("the ID card was moved away during the read", sw3=0x80)
            if reply.sw3 == Status.READ_FAILED:
                continue
            if reply.sw3 != Status.OK:
                self._module_error(reply)
            payload = parse_read_payload(reply.data)
            holder = decode_text(payload.text, today=today)
            return IdCardRead(holder=holder, photo=WltPhoto(payload.photo))
        raise IdCardModuleError(
            f"the ID card could not be read in {s.read_attempts} attempts", sw3=Status.READ_FAILED
        )

    # --- transport ----------------------------------------------------------------------------

    def _module_error(self, reply: Reply) -> NoReturn:
        if reply.sw3 in (Status.NO_CARD, Status.SELECT_FAILED):
            raise IdCardNoCardError("no ID card on the reader", sw3=reply.sw3)
        raise IdCardModuleError(f"ID card module: {status_meaning(reply.sw3)}", sw3=reply.sw3)

    def _open_port(self) -> None:
        s = self.settings
        try:
            self._port = serial.Serial(
                s.port, s.baudrate, timeout=s.read_slice, write_timeout=s.query_timeout
            )
        except (OSError, serial.SerialException) as e:
            self._set_health(DeviceHealth.NO_DEVICE)
            raise IdCardDisconnectedError(f"cannot open {s.port}: {e}") from None
        self._parser.reset()

    def _reopen(self) -> None:
        """The port failed: close it and reopen with backoff (a USB adapter coming back)."""
        s = self.settings
        self.close()
        pause = s.reopen_backoff
        for _ in range(s.reopen_attempts):
            time.sleep(pause)
            pause = min(pause * 2, s.reopen_backoff_max)
            try:
                self._open_port()
            except IdCardDisconnectedError:
                continue
            self.reopens += 1
            _log.info("ID card reader: reopened %s", s.port)
            return
        raise IdCardDisconnectedError(f"{s.port} vanished and did not come back")

    def _transact(
        self, command: Command, data: bytes = b"", *, timeout: float, check: bool = True
    ) -> Reply:
        """Send `command` and return the module's reply, retrying after silence, garbage or a
        checksum error on either side. With `check`, a non-OK status raises."""
        frame = build_request(command, data)
        last: IdCardError | None = None
        for attempt in range(self.settings.retries + 1):
            if attempt:
                self.retries_used += 1
            try:
                if self._port is None:
                    self._reopen()
                assert self._port is not None
                self._drain()
                self._port.write(frame)
                reply = self._read_reply(time.monotonic() + timeout)
            except (OSError, serial.SerialException) as e:
                _log.warning("ID card reader: port failed (%s); reopening", e)
                self._set_health(DeviceHealth.NO_DEVICE)
                self._port = None
                last = IdCardDisconnectedError(f"{self.settings.port} failed: {e}")
                continue
            if reply is None:
                last = IdCardTimeoutError(f"no answer to {command.name} within {timeout:.2f} s")
                continue
            if reply.sw3 in _TRANSIENT:
                last = IdCardModuleError(status_meaning(reply.sw3), sw3=reply.sw3)
                continue
            self._set_health(DeviceHealth.ONLINE)
            if check and not reply.ok:
                self._module_error(reply)
            return reply
        self._set_health(DeviceHealth.HARDWARE_ERROR)
        assert last is not None
        raise last

    def _read_reply(self, deadline: float) -> Reply | None:
        """The next good reply before `deadline`; None on silence. Bad frames are skipped."""
        assert self._port is not None
        while True:
            chunk = self._port.read(max(1, self._port.in_waiting))
            if chunk:
                for item in self._parser.feed(chunk):
                    if isinstance(item, BadFrame):
                        _log.debug("ID card reader: dropped a frame (%s)", item.reason)
                        continue
                    if isinstance(item, Reply):
                        return item
            if time.monotonic() >= deadline:
                return None

    def _drain(self) -> None:
        """Drop whatever is still on the line (a late answer to an abandoned request)."""
        assert self._port is not None
        if self._port.in_waiting:
            self._port.reset_input_buffer()
        self._parser.reset()

    def _set_health(self, health: DeviceHealth) -> None:
        if health is self._health:
            return
        self._health = health
        if self._post is not None:
            self._post(
                DeviceHealthChanged(self.name, kind=DeviceKind.ID_CARD_READER, health=health)
            )
