"""The emulated module on a real pseudo-terminal, behind a stable symlink (like /dev/fingerprint).

The host opens the symlink with pyserial exactly as it would open a USB-serial adapter. The
emulator owns the pty master on its own thread. `unplug()` closes the pty (the host's next read or
write fails as on a USB unplug, docs/fingerprint-module.md §4.2 item 4) and removes the symlink;
`replug()` makes a new pty and points the symlink at it. The host's baud rate is read from the
slave's termios: when it differs from the module's, the module hears only garbage (fault F10).
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
from pathlib import Path

from drivers.fingerprint.emulator.module import FakeModule, Reply

__all__ = ["PtyEmulator"]

_log = logging.getLogger("drivers.fingerprint.emulator")

# termios speed constants -> bit/s, for the baud rates a module supports (9600 x N).
_SPEEDS: dict[int, int] = {
    getattr(termios, f"B{rate}"): rate
    for rate in (9600, 19200, 38400, 57600, 115200)
    if hasattr(termios, f"B{rate}")
}


class PtyEmulator:
    """Runs a `FakeModule` on a pty whose slave is reachable at `link`.

    Thread model: `start()` spawns one daemon thread that reads the master, feeds the module and
    writes its replies (sleeping for emulated latency and delay faults, like a busy module).
    `unplug()`, `replug()` and `stop()` may be called from any thread.
    """

    def __init__(self, module: FakeModule, link: str | Path) -> None:
        self.module = module
        self.link = Path(link)
        self._master = -1
        self._slave = -1
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._wake_r, self._wake_w = -1, -1
        self.plugged = False
        self.bytes_in = 0

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> PtyEmulator:
        """Create the pty, point the symlink at it and start serving. Returns self."""
        self._plug()
        return self

    def stop(self) -> None:
        """Stop serving, close the pty and remove the symlink. Idempotent."""
        self._unplug()

    def __enter__(self) -> PtyEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def unplug(self) -> None:
        """Simulate pulling the USB-serial adapter: the pty closes and the symlink goes away."""
        _log.info("emulator: unplugged %s", self.link)
        self._unplug()

    def replug(self) -> None:
        """Plug the adapter back: a new pty appears at the same symlink; the module power-cycles."""
        self.module.power_on()
        self._plug()
        _log.info("emulator: plugged in again at %s", self.link)

    @property
    def device(self) -> str:
        """The real pty slave path behind the symlink."""
        return os.ttyname(self._slave)

    def host_baudrate(self) -> int | None:
        """The baud rate the host set on the port (None when unknown)."""
        try:
            attrs = termios.tcgetattr(self._slave)
        except (termios.error, OSError):
            return None
        return _SPEEDS.get(attrs[5])

    def _plug(self) -> None:
        if self.plugged:
            return
        master, slave = os.openpty()
        # Raw at once, or the line discipline echoes and cooks bytes (docs/fingerprint-module.md
        # §4.2 item 2).
        tty.setraw(slave)
        attrs = termios.tcgetattr(slave)
        attrs[4] = attrs[5] = termios.B57600
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
        self._thread = threading.Thread(target=self._serve, name="fp-emulator", daemon=True)
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

    # --- serving ------------------------------------------------------------------------------

    def _serve(self) -> None:
        master, wake = self._master, self._wake_r
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([master, wake], [], [], 1.0)
            except (OSError, ValueError):
                return
            if wake in ready or self._stop.is_set():
                return
            if master not in ready:
                continue
            try:
                data = os.read(master, 4096)
            except BlockingIOError:
                continue
            except OSError:
                # EIO: no slave open (our own slave fd is closed only by unplug); stop serving.
                return
            if not data:
                continue
            self.bytes_in += len(data)
            baud = self.host_baudrate()
            if baud != self.module.baudrate:  # None: a rate a module cannot have
                # Wrong baud: the UART samples bits at the wrong rate; the module hears noise and
                # the host hears noise back. Modelled as a fixed scramble (deterministic tests).
                self.module.receive(bytes(b ^ 0x5A for b in data))
                self._write_all(master, bytes((b * 7 + 3) & 0xFF for b in data[:8]))
                continue
            try:
                replies = self.module.receive(data)
            except Exception:  # a module bug must not kill the port thread silently
                _log.exception("emulator: module failed on %d bytes", len(data))
                continue
            for reply in replies:
                if not self._deliver(master, reply):
                    return

    def _deliver(self, master: int, reply: Reply) -> bool:
        if reply.delay > 0 and self._stop.wait(reply.delay):
            return False
        if reply.pieces <= 1:
            return self._write_all(master, reply.data)
        step = max(1, len(reply.data) // reply.pieces)
        for at in range(0, len(reply.data), step):
            if not self._write_all(master, reply.data[at : at + step]):
                return False
            time.sleep(0.01)  # dribbling frame (fault F5): the host must not give up mid-frame
        return True

    def _write_all(self, master: int, data: bytes) -> bool:
        view = memoryview(data)
        while view:
            if self._stop.is_set():
                return False
            try:
                n = os.write(master, view)
            except BlockingIOError:
                select.select([], [master], [], 0.1)
                continue
            except OSError:
                return False
            view = view[n:]
        return True
