"""The resident ID card reader as the core sees it: a device with health (device name
``id_card_reader``, polled so an unplugged reader shows before a citizen meets it) and the
session's `IdCardPort`.

`read_id_card(key, timeout_s)` waits for a card on the antenna and reads it; the holder's values
stay `Masked`, the card's WLT photo is wiped at once (no licensed decoder ships: it is never
decoded or kept), and every failure is an `IdCardReadFailed` with a stable code: no card in
time (``idcard.no_card``), impossible data such as a bad GB 11643 check digit
(``idcard.data_invalid``), or the module or its link (``idcard.module_error``,
``idcard.link_error``). What it read is compared with the social security card's holder in the
session core (kiosk/session/activation.py), never here and never logged.

The ID card is a login only where policy allows it, and then for records lookup: the card read
proves nothing to the central by itself (no licensed photo decoder, no SAM channel to it), so
the central matches a live face with its own photo (kiosk/session/idcard_login.py,
central/idcard_login.py, docs/idcard-reader.md).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable

from drivers.idcard.driver import IdCardReader
from drivers.idcard.errors import IdCardError
from drivers.vocabulary import DeviceEvent, DeviceHealth, DeviceKind, ErrorCode
from kiosk.clock import Clock, SystemClock
from kiosk.config.idcard import IdCardConfig
from kiosk.session.events import Event, IdCardRead, IdCardReadFailed

__all__ = ["IdCardDevice"]

_log = logging.getLogger("kiosk.idcard")


class IdCardDevice:
    """Device `id_card_reader` and the session's `IdCardPort` (read_id_card)."""

    kind = DeviceKind.ID_CARD_READER

    def __init__(
        self,
        config: IdCardConfig,
        *,
        post: Callable[[DeviceEvent], None] | None = None,
        clock: Clock | None = None,
        name: str = "id_card_reader",
        poll_s: float = 30.0,
    ) -> None:
        self.name = name
        self.config = config
        self._clock = clock or SystemClock()
        self._reader = IdCardReader(config.to_settings(), post=post, name=name)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._poll_s = poll_s
        self.reads = 0
        self.failures = 0

    @property
    def health(self) -> DeviceHealth:
        return self._reader.health

    def start(self) -> None:
        """Open the reader (a missing one is `no_device`, never an exception) and poll it."""
        self._refresh()
        self._stop.clear()
        self._thread = threading.Thread(target=self._poll, name="idcard-status", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        with self._lock:
            self._reader.close()

    def read_id_card(self, key: str, timeout_s: float) -> Event:
        """Wait up to `timeout_s` for an ID card and read it (see the module docstring)."""
        with self._lock:
            try:
                if self._reader.health is not DeviceHealth.ONLINE:
                    self._reopen()
                if not self._reader.wait_for_card(timeout_s, cancel=self._stop):
                    return IdCardReadFailed(key, ErrorCode.IDCARD_NO_CARD.value)
                today = dt.datetime.fromtimestamp(self._clock.wall()).date()
                read = self._reader.read(today=today)
            except IdCardError as e:
                self.failures += 1
                _log.info("ID card read failed: %s", e.code.value)  # the code only, no data
                return IdCardReadFailed(key, e.code.value)
        read.photo.wipe()  # opaque, undecoded: nothing of it stays
        self.reads += 1
        return IdCardRead(key, read.holder, read.holder.expired(today))

    def _refresh(self) -> None:
        with self._lock:
            try:
                if self._reader.health is DeviceHealth.ONLINE:
                    self._reader.sam_id()
                else:
                    self._reopen()
            except IdCardError as e:
                _log.info("ID card reader: %s", e)

    def _reopen(self) -> None:
        # Closing a reader that is already gone would post `offline` before `no_device` again.
        if self._reader.health not in (DeviceHealth.OFFLINE, DeviceHealth.NO_DEVICE):
            self._reader.close()
        self._reader.open()

    def _poll(self) -> None:
        while not self._stop.wait(self._poll_s):
            self._refresh()
