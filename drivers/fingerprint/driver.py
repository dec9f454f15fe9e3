"""The fingerprint driver: EF01 modules over pyserial, with resync, retries and reopen on replug.

Owns the serial port (pyserial types never leave this module) and turns module operations into
domain calls: `verify(reference_template)`, `enroll()`, `info()`, `self_test()`. Citizen checks are
1:1 in the module's RAM (reference into char buffer 2, live finger into buffer 1, Match); the
module's own library serves only the technician self-test and is emptied at start-up.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import serial

from drivers.fingerprint import codec
from drivers.fingerprint.codec import (
    BadFrame,
    Confirm,
    Instruction,
    Packet,
    PacketParser,
    Pid,
    SystemParameters,
)
from drivers.fingerprint.errors import (
    CaptureTimeoutError,
    FingerprintDisconnectedError,
    FingerprintError,
    FingerprintModuleError,
    FingerprintProtocolError,
    FingerprintTimeoutError,
    PasswordError,
    PoorImageError,
)
from drivers.fingerprint.results import (
    FingerprintMatch,
    ModuleInfo,
    Prompt,
    SearchResult,
    SelfTestReport,
)
from drivers.fingerprint.settings import FingerprintSettings
from drivers.personal import wipe_bytes
from drivers.vocabulary import (
    DeviceEvent,
    DeviceHealth,
    DeviceHealthChanged,
    DeviceKind,
    FingerPlaced,
    FingerRemoved,
)

__all__ = ["DriverStats", "FingerprintDriver", "PromptCallback"]

PromptCallback = Callable[[Prompt], None]

# Confirmation codes that mean "the image was not good enough", not "the module is broken".
_POOR_IMAGE = {
    Confirm.IMAGE_FAIL,
    Confirm.IMAGE_TOO_DRY,
    Confirm.IMAGE_TOO_WET,
    Confirm.IMAGE_DISORDERLY,
    Confirm.TOO_FEW_FEATURES,
    Confirm.NO_VALID_IMAGE,
}


# Payload length of a successful ACK per instruction (confirm + results); others are 1.
_ACK_ONLY = (int(Pid.ACK),)
_ACK_LEN: dict[int, int] = {
    Instruction.READ_SYS_PARA: 17,
    Instruction.TEMPLATE_NUM: 3,
    Instruction.MATCH: 3,
    Instruction.SEARCH: 5,
    Instruction.HIGH_SPEED_SEARCH: 5,
    Instruction.READ_INDEX_TABLE: 33,
    Instruction.GET_RANDOM_CODE: 5,
}


# Size of the blank written over the char buffers when no template size is known (a failed
# enrolment): the ZFM-20/R30x template size; a real module takes any length up to its own.
_BLANK_TEMPLATE_BYTES = 512


# Auto-baud probe order: the factory default, then the other rates of the R503 manual's list
# (N = 1, 2, 4, 6, 12); the odd multiples of 9600 are left out to bound a silent start-up.
_BAUD_PROBE_ORDER = (57600, 115200, 9600, 19200, 38400)


class _LinkTimeoutError(Exception):
    """No complete reply before the deadline (internal: retried)."""


class _LinkCorruptError(Exception):
    """A reply failed its checksum or had the wrong shape (internal: retried)."""


class _LinkGoneError(Exception):
    """The port raised: the adapter is gone (internal: reopen, then retried)."""


@dataclass(slots=True)
class DriverStats:
    """Counters for health reports and tests (not thread-safe snapshots; read them idle)."""

    commands: int = 0
    retries: int = 0
    timeouts: int = 0
    bad_frames: int = 0
    garbage_bytes: int = 0
    drains: int = 0
    reopens: int = 0
    unclear_buffers: int = 0  # checks after which the char buffers could not be overwritten


class FingerprintDriver:
    """One EF01 module on one serial port.

    Threads: every public method may be called from any thread; a lock serialises them, and each
    blocks the caller until the module answered (capture waits up to `capture_timeout`).
    Errors: `FingerprintError` subclasses only; the link errors (`FingerprintTimeoutError`,
    `FingerprintProtocolError`, `FingerprintDisconnectedError`) come after the bounded retries.
    Health changes are logged once each and posted as `DeviceHealthChanged` through `post`.
    """

    kind = DeviceKind.FINGERPRINT

    def __init__(
        self,
        settings: FingerprintSettings,
        *,
        name: str = "fingerprint",
        post: Callable[[DeviceEvent], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.name = name
        self._post = post
        self._sleep = sleep
        self._now = monotonic
        self._log = logging.getLogger(f"drivers.fingerprint.{name}")
        self._lock = threading.RLock()
        self._port: serial.Serial | None = None
        self._parser = PacketParser()
        self._dirty = False  # something unread may sit in the input: drain before the next command
        self._params: SystemParameters | None = None
        self._health = DeviceHealth.OFFLINE
        self._ever_opened = False
        self._led_supported: bool | None = None
        self._baudrate = settings.baudrate  # changes when auto-baud finds the module elsewhere
        self._probed = False
        self._empty_on_open = False  # set by start(): the kiosk service, not a one-shot tool
        self._fd = -1
        self._poller = select.poll()
        self._slice_ms = settings.read_slice * 1000
        self._sys_para_raw = b""  # the ReadSysPara payload `_params` was decoded from
        self.stats = DriverStats()

    # --- Device protocol ----------------------------------------------------------------------

    @property
    def health(self) -> DeviceHealth:
        """Current health in the shared vocabulary."""
        return self._health

    @property
    def parameters(self) -> SystemParameters | None:
        """The module's parameters read at the last (re)open, or None before."""
        return self._params

    def start(self) -> None:
        """Open the port, handshake, and empty the module's library (nothing of a citizen stays).

        From here on, every (re)open empties the library right after the handshake (when
        `empty_library_at_start` is set): a module absent at start-up, or replugged (perhaps a
        different one), is emptied before its first use. Never raises: a missing or silent
        module is reported through `health` instead."""
        with self._lock:
            self._empty_on_open = self.settings.empty_library_at_start
            try:
                if self._port is not None and self._empty_on_open:
                    self._close()  # opened before start(): reopen, so the library is emptied
                self._ensure_open()
            except FingerprintError as e:
                self._log.warning("fingerprint module not ready: %s", e)

    def stop(self) -> None:
        """Close the port. Idempotent."""
        with self._lock:
            self._close()
            self._set_health(DeviceHealth.OFFLINE, "stopped")

    def open(self) -> SystemParameters:
        """Open the port and handshake (VfyPwd + ReadSysPara) if not open yet; return parameters.

        Raises FingerprintDisconnectedError, FingerprintTimeoutError, PasswordError."""
        with self._lock:
            self._ensure_open()
            assert self._params is not None
            return self._params

    def close(self) -> None:
        """Close the port (alias of stop without the health change)."""
        with self._lock:
            self._close()

    def __enter__(self) -> FingerprintDriver:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- health -------------------------------------------------------------------------------

    def _set_health(self, health: DeviceHealth, detail: str = "") -> None:
        if health == self._health:
            return
        self._health = health
        if health is DeviceHealth.ONLINE or detail == "stopped":
            self._log.info("fingerprint module %s %s", health.value, detail)
        else:
            self._log.warning("fingerprint module %s: %s", health.value, detail)
        self._emit(
            DeviceHealthChanged(
                device=self.name, at=self._now(), kind=self.kind, health=health, detail=detail
            )
        )

    def _emit(self, event: DeviceEvent) -> None:
        if self._post is None:
            return
        try:
            self._post(event)
        except Exception:  # the core's queue must not break the device thread
            self._log.exception("posting %s failed", type(event).__name__)

    # --- port ---------------------------------------------------------------------------------

    def _open_port(self) -> None:
        s = self.settings
        try:
            port = serial.Serial(
                s.port,
                self._baudrate,
                timeout=s.read_slice,
                write_timeout=max(s.query_timeout, 1.0),
                exclusive=True,
            )
        except (serial.SerialException, OSError, ValueError) as e:
            raise _LinkGoneError(str(e)) from None
        self._port = port
        self._fd = port.fileno()  # cached: the hot path reads and writes it directly
        self._poller = select.poll()
        self._poller.register(self._fd, select.POLLIN)
        self._parser = PacketParser()
        self._dirty = False

    def _close(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            # Closing a vanished adapter may fail; it is gone either way.
            with contextlib.suppress(serial.SerialException, OSError):
                port.close()

    def _ensure_open(self) -> None:
        """Open (or reopen after an unplug) with exponential backoff, then handshake."""
        if self._port is not None:
            return
        s = self.settings
        backoff = s.reopen_backoff
        last = ""
        for attempt in range(max(1, s.reopen_attempts)):
            if attempt:
                self._sleep(backoff)
                backoff = min(backoff * 2, s.reopen_backoff_max)
            try:
                self._open_port()
            except _LinkGoneError as e:
                last = str(e)
                continue
            break
        else:
            self._set_health(DeviceHealth.NO_DEVICE, f"cannot open {s.port}: {last}")
            raise FingerprintDisconnectedError(f"fingerprint scanner not found at {s.port}")
        if self._ever_opened:
            self.stats.reopens += 1
            self._log.info("reopened %s", s.port)
        self._ever_opened = True
        try:
            try:
                self._handshake()
            except FingerprintTimeoutError:
                # A module left at another baud rate by a previous tool (reference F10) is
                # silent or answers garbage: probe the other rates once before giving up.
                if not (s.autobaud and not self._probed and self._probe_baud()):
                    raise
                self._handshake()
            if self._empty_on_open:
                self._empty_library()
        except FingerprintError:
            self._close()  # a half-open link would skip the handshake (and Empty) next time
            raise

    def _empty_library(self) -> None:
        """Empty the module's library on this link (no reopen: called while opening)."""
        ack = self._run(
            "Empty", codec.cmd_empty(self._addr), self.settings.flash_timeout, reopen=False
        )
        self._check("Empty", ack)
        self._log.info("module library emptied")

    def _probe_baud(self) -> bool:
        # Once per driver: a module that is silent at every rate must not cost a probe per call.
        self._probed = True
        port = self._port
        assert port is not None
        tried = self._baudrate
        for rate in _BAUD_PROBE_ORDER:
            if rate == tried:
                continue
            try:
                port.baudrate = rate
            except (serial.SerialException, ValueError, OSError):
                continue
            self._dirty = True
            try:
                self._run(
                    "VfyPwd",
                    codec.cmd_verify_password(self.settings.password, self._addr),
                    self.settings.query_timeout,
                    retries=0,
                    reopen=False,
                )
            except (FingerprintTimeoutError, FingerprintProtocolError):
                continue
            self._log.warning("module answers at %d baud, not the configured %d", rate, tried)
            self._baudrate = rate
            return True
        with contextlib.suppress(serial.SerialException, ValueError, OSError):
            port.baudrate = tried
        return False

    def _handshake(self) -> None:
        ack = self._run(
            "VfyPwd",
            codec.cmd_verify_password(self.settings.password, self._addr),
            self.settings.query_timeout,
            reopen=False,
        )
        if ack.code in (Confirm.WRONG_PASSWORD, Confirm.PASSWORD_REQUIRED):
            self._set_health(DeviceHealth.HARDWARE_ERROR, "wrong module password")
            raise PasswordError("VfyPwd", ack.code)
        self._check("VfyPwd", ack)
        ack = self._run(
            "ReadSysPara",
            codec.cmd_read_sys_para(self._addr),
            self.settings.query_timeout,
            reopen=False,
        )
        self._check("ReadSysPara", ack)
        try:
            # The data packet size is read from the module, never assumed (Adafruit issue #30).
            self._params = SystemParameters.decode(ack.payload)
        except ValueError as e:
            raise FingerprintProtocolError(f"ReadSysPara: {e}") from None
        self._sys_para_raw = ack.payload
        self._set_health(DeviceHealth.ONLINE)

    @property
    def _addr(self) -> int:
        return self.settings.address

    # --- exchange -----------------------------------------------------------------------------

    def _drain(self) -> None:
        """Discard input until the line is quiet (only after a timeout or a bad frame)."""
        port = self._port
        assert port is not None
        self.stats.drains += 1
        self._parser.clear()
        port.reset_input_buffer()
        end = self._now() + self.settings.drain_max
        quiet_since = self._now()
        while self._now() < end and self._now() - quiet_since < self.settings.drain_quiet:
            waiting = port.in_waiting
            if waiting:
                port.read(waiting)
                quiet_since = self._now()
            else:
                self._sleep(min(0.01, self.settings.drain_quiet))
        self._dirty = False

    def _receive(self, pids: tuple[int, ...], deadline: float) -> Packet:
        """The next valid frame with one of `pids` from our module, before `deadline`.

        Reads whatever has arrived (the parser keeps bytes beyond the frame for the next call),
        with a per-read slice so both the command deadline and the in-frame silence limit
        (`byte_timeout`) are enforced; pyserial's own read(n) has no inter-byte deadline when
        the total timeout is long (docs/fingerprint-module.md §4.2 item 6)."""
        parser = self._parser
        fd = self._fd
        poll = self._poller.poll
        slice_ms = self._slice_ms
        last_progress = self._now()
        # A healthy line leaves nothing buffered between commands: wait for the reply first.
        pending = parser.buffered
        while True:
            if pending:
                before = parser.discarded
                while (item := parser.next()) is not None:
                    if isinstance(item, BadFrame):
                        self.stats.bad_frames += 1
                        self._dirty = True
                        if item.reason == "checksum":
                            # Our reply was damaged on the line: retry the whole command.
                            raise _LinkCorruptError(item.reason)
                        continue  # an impossible LEN is a false header inside junk
                    if item.address != self._addr or item.pid not in pids:
                        self._dirty = True  # a stale or foreign frame: ignore it, keep reading
                        continue
                    self.stats.garbage_bytes += parser.discarded - before
                    return item
                self.stats.garbage_bytes += parser.discarded - before
            try:
                ready = poll(slice_ms)
                chunk = os.read(fd, 4096) if ready else b""
                if ready and not chunk:
                    # Readable with no data: the device went away (pyserial reports the same).
                    raise _LinkGoneError("device reports readiness to read but returned no data")
            except BlockingIOError:
                chunk = b""
            except OSError as e:
                raise _LinkGoneError(str(e)) from None
            now = self._now()
            if chunk:
                parser.feed(chunk)
                last_progress = now
                pending = True
                continue
            pending = parser.buffered
            if now >= deadline:
                raise _LinkTimeoutError("no reply")
            if pending and now - last_progress > self.settings.byte_timeout:
                raise _LinkTimeoutError("reply stopped mid-frame")

    def _write(self, data: bytes | bytearray) -> None:
        """Write all of `data` in one go.

        pyserial 3.5 (POSIX) follows every os.write with a select() for writability even when
        everything went out: one more syscall per command, measurable in bench/fingerprint.py.
        The port is pyserial's (opened, configured, non-blocking); only the write is direct."""
        port = self._port
        assert port is not None
        fd = self._fd
        try:
            n = os.write(fd, data)
            if n == len(data):
                return
            view = memoryview(data)[n:]
            deadline = self._now() + self.settings.query_timeout
            while view:
                if self._now() > deadline:
                    raise _LinkGoneError("write stalled")
                select.select([], [fd], [], self.settings.read_slice)
                try:
                    view = view[os.write(fd, view) :]
                except BlockingIOError:
                    continue
        except (serial.SerialException, OSError, ValueError) as e:
            raise _LinkGoneError(f"write failed: {e}") from None

    def _exchange(
        self,
        frame: bytes,
        timeout: float,
        *,
        data_out: bytes | bytearray | None = None,
        data_in: bytearray | None = None,
    ) -> Packet:
        """One attempt: send `frame`, read its ACK, then the data phase if any.

        `data_out` is cut into data packets here, at each attempt, with the packet size read
        from the module on this very link: after a replug it may be another module."""
        port = self._port
        assert port is not None
        if data_out is not None:
            if self._params is None:
                raise FingerprintProtocolError("no parameters read yet: packet size unknown")
            frames = bytearray()
            try:
                codec.append_data_packets(frames, data_out, self._params.packet_size, self._addr)
                return self._exchange_body(frame, timeout, frames, data_in)
            finally:
                wipe_bytes(frames)
        return self._exchange_body(frame, timeout, None, data_in)

    def _exchange_body(
        self, frame: bytes, timeout: float, frames_out: bytearray | None, data_in: bytearray | None
    ) -> Packet:
        if self._dirty:
            self._drain()
        self.stats.commands += 1
        self._write(frame)
        deadline = self._now() + timeout
        want = _ACK_LEN.get(frame[9], 1)
        while True:
            ack = self._receive(_ACK_ONLY, deadline)
            if ack.payload[0] != Confirm.OK:
                return ack
            if len(ack.payload) == want:
                break
            # A well-formed ACK of the wrong size belongs to an earlier command (a late reply,
            # reference fault F4): skip it, and drain before the next command.
            self._dirty = True
        if frames_out is not None:
            self._write(frames_out)
        if data_in is not None:
            wipe_bytes(data_in)  # a retried transfer: forget the partial template first
            del data_in[:]
            deadline = self._now() + self.settings.data_timeout
            while True:
                pkt = self._receive((Pid.DATA, Pid.END_DATA), deadline)
                data_in += pkt.payload
                if len(data_in) > self.settings.max_template_bytes:
                    self._dirty = True
                    raise _LinkCorruptError("data phase longer than any template")
                if pkt.pid == Pid.END_DATA:
                    break
        return ack

    def _run(
        self,
        name: str,
        frame: bytes,
        timeout: float,
        *,
        data_out: bytes | bytearray | None = None,
        data_in: bytearray | None = None,
        retries: int | None = None,
        reopen: bool = True,
    ) -> Packet:
        """Send a command with bounded retries; reopen the port when the adapter vanished."""
        attempts = 1 + (self.settings.retries if retries is None else retries)
        failure: Exception | None = None
        for attempt in range(attempts):
            if attempt:
                self.stats.retries += 1
            try:
                if self._port is None:
                    if not reopen:
                        raise _LinkGoneError("port closed during the handshake")
                    self._ensure_open()
                ack = (
                    self._exchange_body(frame, timeout, None, data_in)
                    if data_out is None
                    else self._exchange(frame, timeout, data_out=data_out, data_in=data_in)
                )
                if self._health is not DeviceHealth.ONLINE and self._params is not None:
                    self._set_health(DeviceHealth.ONLINE)
                return ack
            except _LinkTimeoutError as e:
                self.stats.timeouts += 1
                self._dirty = True
                failure = e
                self._log.debug("%s: %s (attempt %d/%d)", name, e, attempt + 1, attempts)
            except _LinkCorruptError as e:
                failure = e
                self._log.debug("%s: bad frame %s (attempt %d/%d)", name, e, attempt + 1, attempts)
            except _LinkGoneError as e:
                failure = e
                self._close()
                self._set_health(DeviceHealth.NO_DEVICE, f"port lost: {e}")
                if not reopen:
                    raise FingerprintDisconnectedError(f"fingerprint scanner lost: {e}") from None
        if isinstance(failure, _LinkCorruptError):
            self._set_health(DeviceHealth.HARDWARE_ERROR, f"{name}: corrupt replies")
            raise FingerprintProtocolError(f"{name}: replies kept failing their checks ({failure})")
        if isinstance(failure, _LinkGoneError):
            raise FingerprintDisconnectedError(f"fingerprint scanner lost: {failure}")
        self._set_health(DeviceHealth.OFFLINE, f"{name}: module silent")
        raise FingerprintTimeoutError(f"{name}: the module did not answer after {attempts} tries")

    @staticmethod
    def _check(name: str, ack: Packet, *, ok: tuple[int, ...] = (Confirm.OK,)) -> int:
        code = ack.payload[0]
        if code not in ok:
            raise FingerprintModuleError(name, code)
        return code

    def _simple(self, name: str, frame: bytes, timeout: float | None = None) -> Packet:
        with self._lock:
            ack = self._run(
                name, frame, self.settings.query_timeout if timeout is None else timeout
            )
            self._check(name, ack)
            return ack

    # --- module operations ----------------------------------------------------------------------

    def template_count(self) -> int:
        """Templates stored in the module's library (TempleteNum)."""
        return codec.decode_template_count(
            self._simple("TempleteNum", codec.cmd_template_count(self._addr)).payload
        )

    def read_parameters(self) -> SystemParameters:
        """ReadSysPara now (also refreshes `parameters`)."""
        with self._lock:
            self._ensure_open()
            ack = self._simple("ReadSysPara", codec.cmd_read_sys_para(self._addr))
            if self._params is not None and ack.payload == self._sys_para_raw:
                # The same 17 bytes decode to the same immutable value: skip the dataclass
                # construction (half of a ReadSysPara's CPU in bench/fingerprint.py).
                return self._params
            try:
                self._params = SystemParameters.decode(ack.payload)
            except ValueError as e:
                raise FingerprintProtocolError(f"ReadSysPara: {e}") from None
            self._sys_para_raw = ack.payload
            return self._params

    def info(self) -> ModuleInfo:
        """Parameters read from the module now (ReadSysPara + TempleteNum)."""
        with self._lock:
            p = self.read_parameters()
            return ModuleInfo(
                capacity=p.capacity,
                security_level=p.security_level,
                packet_size=p.packet_size,
                templates_stored=self.template_count(),
                baudrate=p.baudrate,
                address=p.address,
                system_id=p.system_id,
                status=p.status,
            )

    def _gen_img(self) -> int:
        with self._lock:
            ack = self._run("GenImg", codec.cmd_gen_img(self._addr), self.settings.gen_img_timeout)
        if ack.code in (Confirm.OK, Confirm.NO_FINGER):
            return ack.code
        if ack.code in _POOR_IMAGE:
            raise PoorImageError("GenImg", ack.code)
        raise FingerprintModuleError("GenImg", ack.code)

    def capture(
        self,
        buffer_id: int,
        *,
        timeout: float | None = None,
        on_prompt: PromptCallback | None = None,
        prompt: Prompt = Prompt.PLACE_FINGER,
    ) -> None:
        """Wait for a finger (polling GenImg), then extract its features into char buffer 1 or 2.

        Raises CaptureTimeoutError when no finger came within `timeout` (default
        `capture_timeout`), PoorImageError when the image is unusable."""
        with self._lock:
            self._ensure_open()
            if on_prompt is not None:
                on_prompt(prompt)
            deadline = self._now() + (self.settings.capture_timeout if timeout is None else timeout)
            while self._gen_img() == Confirm.NO_FINGER:
                if self._now() >= deadline:
                    raise CaptureTimeoutError("no finger was placed on the scanner in time")
                self._sleep(self.settings.poll_interval)
            self._emit(FingerPlaced(device=self.name, at=self._now()))
            ack = self._run(
                "Img2Tz", codec.cmd_img2tz(buffer_id, self._addr), self.settings.process_timeout
            )
            if ack.code in _POOR_IMAGE:
                raise PoorImageError("Img2Tz", ack.code)
            self._check("Img2Tz", ack)

    def wait_for_lift(
        self, *, timeout: float | None = None, on_prompt: PromptCallback | None = None
    ) -> None:
        """Poll until the finger left the window. Raises CaptureTimeoutError."""
        with self._lock:
            if on_prompt is not None:
                on_prompt(Prompt.LIFT_FINGER)
            deadline = self._now() + (self.settings.lift_timeout if timeout is None else timeout)
            while self._gen_img() != Confirm.NO_FINGER:
                if self._now() >= deadline:
                    raise CaptureTimeoutError("the finger was not lifted in time")
                self._sleep(self.settings.poll_interval)
            self._emit(FingerRemoved(device=self.name, at=self._now()))

    def match(self) -> FingerprintMatch:
        """Match char buffer 1 against buffer 2 in the module."""
        with self._lock:
            ack = self._run("Match", codec.cmd_match(self._addr), self.settings.process_timeout)
        if ack.code == Confirm.NO_MATCH:
            return FingerprintMatch(False, 0)
        self._check("Match", ack)
        try:
            return FingerprintMatch(True, codec.decode_match(ack.payload))
        except ValueError as e:
            raise FingerprintProtocolError(f"Match: {e}") from None

    def register_model(self) -> None:
        """Merge buffers 1 and 2 into one template (RegModel). 0x0A: the two captures differ."""
        self._simple("RegModel", codec.cmd_reg_model(self._addr), self.settings.process_timeout)

    def upload_template(self, buffer_id: int = 1) -> bytearray:
        """The template in a char buffer (UpChar), chunked as the module's packet size.

        The caller owns the returned bytearray and should `wipe_bytes` it after use."""
        data = bytearray()
        with self._lock:
            self._ensure_open()
            ack = self._run(
                "UpChar",
                codec.cmd_up_char(buffer_id, self._addr),
                self.settings.query_timeout,
                data_in=data,
            )
        self._check("UpChar", ack)
        return data

    def download_template(self, buffer_id: int, template: bytes | bytearray) -> None:
        """Load `template` into a char buffer (DownChar + data packets of the module's size,
        as ReadSysPara reported it on the current link)."""
        with self._lock:
            self._ensure_open()
            ack = self._run(
                "DownChar",
                codec.cmd_down_char(buffer_id, self._addr),
                self.settings.query_timeout,
                data_out=template,
            )
            self._check("DownChar", ack)

    def verify(
        self,
        reference_template: bytes | bytearray,
        *,
        timeout: float | None = None,
        on_prompt: PromptCallback | None = None,
    ) -> FingerprintMatch:
        """1:1 check of the live finger against `reference_template`, in the module's RAM.

        The reference goes into char buffer 2, the live capture into buffer 1, the module
        matches. Raises CaptureTimeoutError, PoorImageError, link and module errors."""
        with self._lock:
            try:
                for _ in range(2):
                    reopens = self.stats.reopens
                    self.download_template(2, reference_template)
                    self.capture(1, timeout=timeout, on_prompt=on_prompt)
                    result = self.match()
                    if self.stats.reopens == reopens:
                        break
                    # The adapter was replugged mid-check: the module lost its RAM (the
                    # reference in buffer 2), so a "no match" would be false. Check once more.
                    self._log.info("module power-cycled during the check; checking again")
            finally:
                self._forget_buffers(len(reference_template))
            self._log.info(
                "1:1 fingerprint check: matched=%s score=%d", result.matched, result.score
            )
            return result

    def enroll(self, *, on_prompt: PromptCallback | None = None) -> bytearray:
        """Capture the same finger twice (with a lift between), build the model, upload it.

        Returns the template (the caller hands it on, then wipes it). Raises
        FingerprintModuleError(0x0A) when the two captures are not the same finger."""
        with self._lock:
            template = bytearray()
            try:
                self.capture(1, on_prompt=on_prompt)
                self.wait_for_lift(on_prompt=on_prompt)
                self.capture(2, on_prompt=on_prompt, prompt=Prompt.PLACE_AGAIN)
                self.register_model()
                template = self.upload_template(1)
                return template
            finally:
                self._forget_buffers(len(template) or _BLANK_TEMPLATE_BYTES)

    def _forget_buffers(self, size: int) -> None:
        """Overwrite both char buffers with a blank template of `size` bytes, so no citizen's
        features stay in the module's RAM after a check (the library is emptied at start-up).

        Best effort on the current link (no reopen, no retry): a module that went away lost
        its RAM anyway. Never raises; a failure is logged and counted."""
        if self._port is None or self._params is None:
            return
        blank = bytes(size)
        for buffer_id in (1, 2):
            try:
                ack = self._run(
                    "DownChar",
                    codec.cmd_down_char(buffer_id, self._addr),
                    self.settings.query_timeout,
                    data_out=blank,
                    retries=0,
                    reopen=False,
                )
            except FingerprintError as e:
                self.stats.unclear_buffers += 1
                self._log.warning("char buffers not cleared: %s", e)
                return
            if ack.code != Confirm.OK:
                self.stats.unclear_buffers += 1
                self._log.warning("char buffer %d not cleared: 0x%02X", buffer_id, ack.code)
                return

    # --- technician only: the module's library --------------------------------------------------

    def store(self, buffer_id: int, page: int) -> None:
        """Store a char buffer in the library (technician self-test only)."""
        self._simple(
            "Store", codec.cmd_store(buffer_id, page, self._addr), self.settings.flash_timeout
        )

    def search(self, buffer_id: int, start: int = 0, count: int | None = None) -> SearchResult:
        """Search the library for a char buffer (technician self-test only)."""
        with self._lock:
            params = self.open()
            n = params.capacity - start if count is None else count
            ack = self._run(
                "Search",
                codec.cmd_search(buffer_id, start, n, self._addr),
                self.settings.search_timeout,
            )
        if ack.code == Confirm.NOT_FOUND:
            return SearchResult(False, 0, 0)
        self._check("Search", ack)
        try:
            page, score = codec.decode_search(ack.payload)
        except ValueError as e:
            raise FingerprintProtocolError(f"Search: {e}") from None
        return SearchResult(True, page, score)

    def delete(self, page: int, count: int = 1) -> None:
        """Delete `count` library pages from `page`."""
        self._simple(
            "DeletChar", codec.cmd_delete(page, count, self._addr), self.settings.flash_timeout
        )

    def empty(self) -> None:
        """Delete every template of the module's library."""
        self._simple("Empty", codec.cmd_empty(self._addr), self.settings.flash_timeout)

    def led(self, control: int, color: int, *, speed: int = 0x80, count: int = 0) -> bool:
        """Aura LED (R50x). Returns False, once and quietly, on models without one."""
        if self._led_supported is False:
            return False
        with self._lock:
            try:
                ack = self._run(
                    "AuraLedConfig",
                    codec.cmd_aura_led(control, speed, color, count, self._addr),
                    self.settings.query_timeout,
                    retries=0,
                )
            except FingerprintTimeoutError:
                ack = None
        self._led_supported = ack is not None and ack.code == Confirm.OK
        if not self._led_supported:
            self._log.info("module has no Aura LED; LED control disabled")
        return self._led_supported

    def self_test(self, *, on_prompt: PromptCallback | None = None) -> SelfTestReport:
        """Technician self-test through the module's library: store, search, delete, empty.

        Uses the technician's finger; the library is emptied at the end whatever happens."""
        steps: list[tuple[str, bool, str]] = []

        def step(name: str, fn: Callable[[], str | None], done: str = "ok") -> bool:
            try:
                steps.append((name, True, fn() or done))
                return True
            except FingerprintError as e:
                steps.append((name, False, str(e)))
                return False

        with self._lock:
            ok = step("handshake", lambda: f"packet size {self.open().packet_size} bytes")
            ok = ok and step("empty library", self.empty, "emptied")
            ok = ok and step("capture", lambda: self.capture(1, on_prompt=on_prompt))
            ok = ok and step("store", lambda: self.store(1, 0), "stored in page 0")
            ok = ok and step("count", lambda: self._expect_count(1))
            ok = ok and step("lift", lambda: self.wait_for_lift(on_prompt=on_prompt))
            ok = ok and step(
                "capture again",
                lambda: self.capture(2, on_prompt=on_prompt, prompt=Prompt.PLACE_AGAIN),
            )
            ok = ok and step("search", self._expect_found)
            ok = ok and step("delete", lambda: self.delete(0), "page 0 deleted")
            ok = ok and step("count after delete", lambda: self._expect_count(0))
            step("empty library again", self.empty, "emptied")
        return SelfTestReport(tuple(steps))

    def _expect_count(self, n: int) -> str:
        got = self.template_count()
        if got != n:
            raise FingerprintProtocolError(f"library holds {got} templates, expected {n}")
        return f"{got} stored"

    def _expect_found(self) -> str:
        res = self.search(2)
        if not res.found or res.page != 0:
            raise FingerprintModuleError("Search", Confirm.NOT_FOUND)
        return f"found in page {res.page}, score {res.score}"
