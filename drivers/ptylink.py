"""A device emulator's end of a real pseudo-terminal, behind a stable symlink (like /dev/idcard).

The host opens the symlink with pyserial exactly as it would open a USB-serial adapter. A
`PtyLink` owns the pty master on its own thread and hands every byte it hears to a
`LinkHandler` (the emulated module, pure logic); what the handler answers is written back,
paced like a UART at the host's baud rate (10 bits a byte) so that timings are real.
`unplug()` closes the pty (the host's next read or write fails as on a USB unplug) and removes
the symlink; `replug()` makes a new pty at the same path.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import termios
import threading
import time
import tty
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

__all__ = ["LinkHandler", "Outgoing", "PtyLink"]

_log = logging.getLogger("drivers.ptylink")

_SPEEDS: dict[int, int] = {
    getattr(termios, f"B{rate}"): rate
    for rate in (9600, 19200, 38400, 57600, 115200, 230400)
    if hasattr(termios, f"B{rate}")
}


@dataclass(frozen=True, slots=True)
class Outgoing:
    """Bytes the module sends, after `delay` seconds of thinking."""

    data: bytes
    delay: float = 0.0


class LinkHandler(Protocol):
    """The emulated module: hears host bytes, answers with what it would send."""

    def receive(self, data: bytes) -> list[Outgoing]: ...

    def power_on(self) -> None: ...


class PtyLink:
    """Serves a `LinkHandler` on a pty whose slave is reachable at `link`.

    `pace` (default on) spaces the written bytes as a UART at the host's baud rate would;
    `pace_input` takes the host's bytes no faster than the line carries them (a printer that
    holds the host back with flow control), so the host's writes take real time;
    `latency_scale` scales the handler's think-time (0 = none)."""

    def __init__(
        self,
        handler: LinkHandler,
        link: str | Path,
        *,
        baudrate: int = 115200,
        pace: bool = True,
        pace_input: bool = False,
        latency_scale: float = 1.0,
        name: str = "pty-emulator",
    ) -> None:
        self.handler = handler
        self.link = Path(link)
        self.baudrate = baudrate
        self.pace = pace
        self.pace_input = pace_input
        self.latency_scale = latency_scale
        self.name = name
        self._master = self._slave = -1
        self._wake_r = self._wake_w = -1
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.plugged = False
        self.bytes_in = 0
        self.bytes_out = 0

    def start(self) -> PtyLink:
        self._plug()
        return self

    def stop(self) -> None:
        self._unplug()

    def __enter__(self) -> PtyLink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def unplug(self) -> None:
        _log.info("%s: unplugged %s", self.name, self.link)
        self._unplug()

    def replug(self) -> None:
        self.handler.power_on()
        self._plug()

    def host_baudrate(self) -> int | None:
        """The baud rate the host set on its end (None when unknown)."""
        try:
            return _SPEEDS.get(termios.tcgetattr(self._slave)[5])
        except (termios.error, OSError):
            return None

    def _plug(self) -> None:
        if self.plugged:
            return
        master, slave = os.openpty()
        tty.setraw(slave)  # raw at once, or the line discipline echoes and cooks bytes
        attrs = termios.tcgetattr(slave)
        speed = getattr(termios, f"B{self.baudrate}", termios.B115200)
        attrs[4] = attrs[5] = speed
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        self.link.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.link.with_name(self.link.name + ".new")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        os.symlink(os.ttyname(slave), tmp)
        os.replace(tmp, self.link)  # atomic: the host never sees a half-made link
        self._wake_r, self._wake_w = os.pipe()
        self._stop.clear()
        self.plugged = True
        self._thread = threading.Thread(target=self._serve, name=self.name, daemon=True)
        self._thread.start()

    def _unplug(self) -> None:
        if not self.plugged:
            return
        self.plugged = False
        self._stop.set()
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._thread = None
        with contextlib.suppress(FileNotFoundError):
            if self.link.is_symlink():
                self.link.unlink()
        for fd in (self._master, self._slave, self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._master = self._slave = self._wake_r = self._wake_w = -1

    def _serve(self) -> None:
        master, wake = self._master, self._wake_r
        poller = select.poll()
        poller.register(master, select.POLLIN)
        poller.register(wake, select.POLLIN)
        while not self._stop.is_set():
            try:
                ready = dict(poller.poll(500))
            except OSError:
                return
            if wake in ready or self._stop.is_set():
                return
            if master not in ready:
                continue
            try:
                data = os.read(master, 256 if self.pace_input else 65536)
            except BlockingIOError:
                continue
            except OSError:
                # EIO: the host closed its end; keep serving until it reopens.
                time.sleep(0.01)
                continue
            if not data:
                continue
            self.bytes_in += len(data)
            if self.pace_input:
                rate = self.host_baudrate() or self.baudrate
                if self._stop.wait(10.0 * len(data) / rate):
                    return
            try:
                replies = self.handler.receive(data)
            except Exception:  # a bug in an emulator must not look like a silent device
                _log.exception("%s: handler failed", self.name)
                continue
            for out in replies:
                pause = out.delay * self.latency_scale
                if pause and self._stop.wait(pause):
                    return
                self._write(out.data)

    def _write(self, data: bytes) -> None:
        rate = self.host_baudrate() or self.baudrate
        per_byte = 10.0 / rate if self.pace else 0.0
        chunk = 64
        for i in range(0, len(data), chunk):
            piece = data[i : i + chunk]
            deadline = time.monotonic() + 2.0
            view = memoryview(piece)
            while view:
                try:
                    n = os.write(self._master, view)
                except BlockingIOError:
                    if time.monotonic() > deadline or self._stop.wait(0.001):
                        return
                    continue
                except OSError:
                    return
                view = view[n:]
                self.bytes_out += n
            if per_byte and self._stop.wait(per_byte * len(piece)):
                return
