"""The emulated fingerprint module: a pure state machine, written from the module's side.

It takes the bytes the host sent and returns the bytes to send back, with delays. Its framing is
written here after the ZFM-20 manual (docs/fingerprint-module.md §1.2-1.7) and deliberately does not
use the host codec, so the driver and the emulator cannot agree on the same mistake.
"""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass

from drivers.fingerprint.emulator.behaviours import Quality, Sensor
from drivers.fingerprint.emulator.faults import FaultKind, FaultPlan
from drivers.fingerprint.emulator.fingers import finger_key, finger_template, match_score
from drivers.fingerprint.emulator.profiles import ModelProfile

__all__ = ["FakeModule", "Reply"]

_log = logging.getLogger("drivers.fingerprint.emulator")

_START = b"\xef\x01"
_CMD, _DATA, _ACK, _END = 0x01, 0x02, 0x07, 0x08
_CHUNK = {0: 32, 1: 64, 2: 128, 3: 256}


@dataclass(frozen=True, slots=True)
class Reply:
    """Bytes to write after waiting `delay` seconds; `pieces` > 1 dribbles them out."""

    delay: float
    data: bytes
    pieces: int = 1


def _sum16(region: bytes) -> int:
    # The module sums everything from the PID up to the last payload byte.
    total = 0
    for b in region:
        total += b
    return total & 0xFFFF


class FakeModule:
    """A ZFM/R30x/AS608/R50x module: address, password, parameters, two char buffers, a library.

    `receive(data)` may be called with any slicing of the host's byte stream; it returns the
    replies for every complete command found. Not thread-safe: one transport thread owns it.
    """

    def __init__(
        self,
        profile: ModelProfile,
        *,
        sensor: Sensor | None = None,
        faults: FaultPlan | None = None,
        address: int = 0xFFFFFFFF,
        password: int = 0,
        baudrate: int = 57600,
        security_level: int = 3,
        latency_scale: float = 0.0,
    ) -> None:
        self.profile = profile
        self.sensor = sensor or Sensor()
        self.faults = faults or FaultPlan()
        self.address = address
        self.password = password
        self.baudrate = baudrate
        self.security_level = security_level
        self.latency_scale = latency_scale
        self.packet_code = profile.packet_code
        self.library: dict[int, bytes] = {}
        self.commands_seen: list[int] = []
        # Payload sizes of the data packets the host sent (DownChar), and how many downloads
        # were ruined by a packet of the wrong size: a real module's data packets are exactly
        # its packet size (the last may be shorter), so a host that assumed 128 fails here.
        self.data_packet_sizes: list[int] = []
        self.bad_downloads = 0
        self._rx = bytearray()
        self.power_on()

    # --- lifecycle ----------------------------------------------------------------------------

    def power_on(self) -> None:
        """Power cycle: RAM (buffers, image, password state) is lost, flash (library) is kept."""
        self._buffers: dict[int, bytes | None] = {1: None, 2: None}
        self._image: tuple[str, Quality] | None = None
        self._verified = self.password == 0
        self._download: tuple[int, bytearray] | None = None
        self._rx.clear()
        self._announce = self.profile.ready_byte

    def char_buffer(self, buffer_id: int) -> bytes | None:
        """What char buffer 1 or 2 holds now (RAM; tests check nothing of a citizen stays)."""
        return self._buffers.get(buffer_id)

    @property
    def chunk(self) -> int:
        """Data packet size in bytes."""
        return _CHUNK[self.packet_code]

    # --- framing ------------------------------------------------------------------------------

    def _frame(self, pid: int, payload: bytes) -> bytes:
        region = bytes([pid]) + (len(payload) + 2).to_bytes(2, "big") + payload
        return _START + self.address.to_bytes(4, "big") + region + _sum16(region).to_bytes(2, "big")

    def _ack(self, code: int, results: bytes = b"") -> bytes:
        return self._frame(_ACK, bytes([code]) + results)

    def receive(self, data: bytes) -> list[Reply]:
        """Feed bytes from the host; return the replies to send, in order."""
        self._rx += data
        out: list[Reply] = []
        while True:
            at = self._rx.find(_START)
            if at < 0:
                del self._rx[: max(0, len(self._rx) - 1)]
                return out
            del self._rx[:at]
            if len(self._rx) < 9:
                return out
            length = int.from_bytes(self._rx[7:9], "big")
            if length < 3 or length > 258:
                del self._rx[:1]
                continue
            total = 9 + length
            if len(self._rx) < total:
                return out
            frame = bytes(self._rx[:total])
            del self._rx[:total]
            addr = int.from_bytes(frame[2:6], "big")
            pid = frame[6]
            payload = frame[9 : total - 2]
            if addr != self.address:
                continue  # a foreign address gets no reply (ZFM-20 manual §4.6)
            if _sum16(frame[6 : total - 2]) != int.from_bytes(frame[total - 2 :], "big"):
                if pid == _CMD:
                    out.extend(self._send([self._ack(0x01)], 0x00))
                continue
            if pid in (_DATA, _END):
                self._on_data(pid, payload)
            elif pid == _CMD and payload:
                out.extend(self._command(payload[0], payload[1:]))

    def _send(self, frames: list[bytes], instruction: int) -> list[Reply]:
        data = b"".join(frames)
        delay = 0.0
        if self.latency_scale > 0:
            # Processing time plus the time the bytes take on the wire (10 bits per byte).
            delay = self.latency_scale * (
                self.profile.latency.get(instruction, 0.02) + len(data) * 10 / self.baudrate
            )
        pieces = 1
        prefix = b""
        for fault in self.faults.take():
            if fault.kind is FaultKind.DROP:
                return []
            if fault.kind is FaultKind.DELAY:
                delay += fault.delay
            elif fault.kind is FaultKind.GARBAGE:
                prefix += fault.garbage
            elif fault.kind is FaultKind.BAD_CHECKSUM:
                # Flip a bit of one frame's checksum: line noise on a long USB cable.
                end = 0
                for _ in range(fault.frame + 1):
                    if end + 9 > len(data):
                        break
                    end += 9 + int.from_bytes(data[end + 7 : end + 9], "big")
                else:
                    data = data[: end - 1] + bytes([data[end - 1] ^ 0x01]) + data[end:]
            elif fault.kind is FaultKind.DRIBBLE:
                pieces = 4
            elif fault.kind is FaultKind.TRUNCATE:
                data = data[: len(data) // 2]
        data = prefix + data
        if self._announce:
            # R50x: a lone 0x55 after power-on, before anything else (docs/fingerprint-module.md
            # §1.1).
            data = b"\x55" + data
            self._announce = False
        return [Reply(delay, data, pieces)]

    # --- data phase (DownChar) ----------------------------------------------------------------

    def _on_data(self, pid: int, payload: bytes) -> None:
        if self._download is None:
            return  # data nobody asked for is ignored
        buffer_id, acc = self._download
        self.data_packet_sizes.append(len(payload))
        if len(payload) > self.chunk or (pid == _DATA and len(payload) != self.chunk):
            # A packet of another size than ReadSysPara announced: the module's buffer is
            # ruined (it holds no usable template) and the rest of the transfer is ignored.
            _log.warning(
                "emulator: data packet of %d bytes, module uses %d", len(payload), self.chunk
            )
            self.bad_downloads += 1
            self._buffers[buffer_id] = None
            self._download = None
            return
        acc += payload
        if pid == _END:
            self._buffers[buffer_id] = bytes(acc)
            self._download = None

    # --- instructions -------------------------------------------------------------------------

    def _command(self, ins: int, params: bytes) -> list[Reply]:
        self.commands_seen.append(ins)
        if ins not in self.profile.instructions:
            return self._send([self._ack(0xFC)], ins)
        if not self._verified and ins != 0x13:
            return self._send([self._ack(0x21)], ins)
        handler = _HANDLERS.get(ins)
        if handler is None:
            return self._send([self._ack(0xFC)], ins)
        try:
            frames = handler(self, params)
        except (IndexError, struct.error, ValueError):
            frames = [self._ack(0x01)]  # malformed parameters: "error when receiving the packet"
        return self._send(frames, ins)

    def _gen_img(self, params: bytes) -> list[bytes]:
        touch = self.sensor.poll()
        if touch is None or touch.finger is None:
            return [self._ack(0x02)]
        if touch.quality is Quality.IMAGE_FAIL:
            self._image = None
            return [self._ack(0x03)]
        self._image = (touch.finger, touch.quality)
        return [self._ack(0x00)]

    def _img2tz(self, params: bytes) -> list[bytes]:
        buffer_id = params[0]
        if buffer_id not in self._buffers:
            return [self._ack(0x01)]
        if self._image is None:
            return [self._ack(0x15)]
        finger, quality = self._image
        if quality is Quality.POOR:
            return [self._ack(0x07)]
        if quality is Quality.SMUDGED:
            return [self._ack(0x06)]
        self._buffers[buffer_id] = finger_template(finger, self.profile.template_size)
        return [self._ack(0x00)]

    def _match(self, params: bytes) -> list[bytes]:
        score = match_score(self._buffers[1], self._buffers[2])
        return [self._ack(0x00 if score else 0x08, score.to_bytes(2, "big"))]

    def _search(self, params: bytes) -> list[bytes]:
        buffer_id, start, count = struct.unpack(">BHH", params[:5])
        probe = self._buffers.get(buffer_id)
        for page in sorted(self.library):
            if start <= page < start + count:
                score = match_score(probe, self.library[page])
                if score:
                    return [self._ack(0x00, struct.pack(">HH", page, score))]
        return [self._ack(0x09, b"\x00\x00\x00\x00")]

    def _reg_model(self, params: bytes) -> list[bytes]:
        a, b = self._buffers[1], self._buffers[2]
        if not match_score(a, b):
            return [self._ack(0x0A)]
        self._buffers[2] = a
        return [self._ack(0x00)]

    def _store(self, params: bytes) -> list[bytes]:
        buffer_id, page = struct.unpack(">BH", params[:3])
        if page >= self.profile.capacity:
            return [self._ack(0x0B)]
        tpl = self._buffers.get(buffer_id)
        if tpl is None:
            return [self._ack(0x01)]
        self.library[page] = tpl
        return [self._ack(0x00)]

    def _load_char(self, params: bytes) -> list[bytes]:
        buffer_id, page = struct.unpack(">BH", params[:3])
        if page >= self.profile.capacity:
            return [self._ack(0x0B)]
        if page not in self.library:
            return [self._ack(0x0C)]
        self._buffers[buffer_id] = self.library[page]
        return [self._ack(0x00)]

    def _up_char(self, params: bytes) -> list[bytes]:
        tpl = self._buffers.get(params[0])
        if tpl is None:
            return [self._ack(0x0D)]
        frames = [self._ack(0x00)]
        n = self.chunk
        for offset in range(0, len(tpl), n):
            pid = _END if offset + n >= len(tpl) else _DATA
            frames.append(self._frame(pid, tpl[offset : offset + n]))
        return frames

    def _down_char(self, params: bytes) -> list[bytes]:
        if params[0] not in self._buffers:
            return [self._ack(0x0E)]
        self._download = (params[0], bytearray())
        return [self._ack(0x00)]

    def _delete(self, params: bytes) -> list[bytes]:
        page, count = struct.unpack(">HH", params[:4])
        if page + count > self.profile.capacity:
            return [self._ack(0x10)]
        for p in range(page, page + count):
            self.library.pop(p, None)
        return [self._ack(0x00)]

    def _empty(self, params: bytes) -> list[bytes]:
        self.library.clear()
        return [self._ack(0x00)]

    def _set_sys_para(self, params: bytes) -> list[bytes]:
        number, value = params[0], params[1]
        if number == 4 and 1 <= value <= 12:
            self.baudrate = 9600 * value
        elif number == 5 and 1 <= value <= 5:
            self.security_level = value
        elif number == 6 and value in _CHUNK:
            self.packet_code = value
        else:
            return [self._ack(0x1A)]
        return [self._ack(0x00)]

    def _read_sys_para(self, params: bytes) -> list[bytes]:
        status = 0b0100 if self._verified else 0
        body = struct.pack(
            ">HHHHIHH",
            status,
            self.profile.system_id,
            self.profile.capacity,
            self.security_level,
            self.address,
            self.packet_code,
            self.baudrate // 9600,
        )
        return [self._ack(0x00, body)]

    def _set_pwd(self, params: bytes) -> list[bytes]:
        self.password = int.from_bytes(params[:4], "big")
        return [self._ack(0x00)]

    def _vfy_pwd(self, params: bytes) -> list[bytes]:
        if len(params) < 4:
            return [self._ack(0x01)]
        if int.from_bytes(params[:4], "big") != self.password:
            self._verified = self.password == 0
            return [self._ack(0x13)]
        self._verified = True
        return [self._ack(0x00)]

    def _random(self, params: bytes) -> list[bytes]:
        return [self._ack(0x00, b"\x12\x34\x56\x78")]

    def _set_adder(self, params: bytes) -> list[bytes]:
        self.address = int.from_bytes(params[:4], "big")
        # already framed with the new address (docs/fingerprint-module.md §1.3)
        return [self._ack(0x00)]

    def _template_num(self, params: bytes) -> list[bytes]:
        return [self._ack(0x00, len(self.library).to_bytes(2, "big"))]

    def _index_table(self, params: bytes) -> list[bytes]:
        page = params[0]
        bits = bytearray(32)
        for slot in self.library:
            if slot // 256 == page:
                bits[(slot % 256) // 8] |= 1 << (slot % 8)
        return [self._ack(0x00, bytes(bits))]

    def _notepad_read(self, params: bytes) -> list[bytes]:
        return [self._ack(0x00, bytes(32))]

    def _notepad_write(self, params: bytes) -> list[bytes]:
        return [self._ack(0x00)]

    def _aura(self, params: bytes) -> list[bytes]:
        control, _speed, color, _count = params[:4]
        _log.debug("aura LED control=%d colour=%d", control, color)
        return [self._ack(0x00)]

    def _echo(self, params: bytes) -> list[bytes]:
        return [self._ack(0x55)]

    def _soft_reset(self, params: bytes) -> list[bytes]:
        self.power_on()
        self._verified = self.password == 0
        return [self._ack(0x00)]

    def _ok(self, params: bytes) -> list[bytes]:
        return [self._ack(0x00)]

    def has_key(self, finger: str) -> bool:
        """True when a library page holds `finger` (for tests)."""
        key = finger_key(finger_template(finger, self.profile.template_size))
        return any(finger_key(t) == key for t in self.library.values())


_HANDLERS = {
    0x01: FakeModule._gen_img,
    0x02: FakeModule._img2tz,
    0x03: FakeModule._match,
    0x04: FakeModule._search,
    0x05: FakeModule._reg_model,
    0x06: FakeModule._store,
    0x07: FakeModule._load_char,
    0x08: FakeModule._up_char,
    0x09: FakeModule._down_char,
    0x0C: FakeModule._delete,
    0x0D: FakeModule._empty,
    0x0E: FakeModule._set_sys_para,
    0x0F: FakeModule._read_sys_para,
    0x12: FakeModule._set_pwd,
    0x13: FakeModule._vfy_pwd,
    0x14: FakeModule._random,
    0x15: FakeModule._set_adder,
    0x17: FakeModule._ok,
    0x18: FakeModule._notepad_write,
    0x19: FakeModule._notepad_read,
    0x1B: FakeModule._search,
    0x1D: FakeModule._template_num,
    0x1F: FakeModule._index_table,
    0x28: FakeModule._gen_img,
    0x35: FakeModule._aura,
    0x36: FakeModule._ok,
    0x3D: FakeModule._soft_reset,
    0x40: FakeModule._ok,
    0x53: FakeModule._echo,
}
