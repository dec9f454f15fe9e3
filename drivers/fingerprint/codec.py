"""Pure codec of the ZhianTec/Synochip "EF01" packet protocol (ZFM-20, R30x, AS608, R50x).

Bytes in, typed values out: frame building, checksums, an incremental parser that resynchronises
on the `EF 01` header after garbage or a bad checksum, instruction and confirmation code tables
with human meanings, command builders and reply decoders. No I/O, threads, clocks or logging.
Layout (docs/fingerprint-module.md §1.2): `EF 01 | addr(4) | PID(1) | LEN(2) | payload | SUM(2)`,
big-endian, SUM = 16-bit sum of PID, both LEN bytes and the payload (the address is not summed).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum
from typing import NamedTuple

__all__ = [
    "DEFAULT_ADDRESS",
    "HEADER",
    "MAX_LEN",
    "MIN_FRAME",
    "PACKET_SIZES",
    "BadFrame",
    "Confirm",
    "Instruction",
    "Packet",
    "PacketParser",
    "Pid",
    "SystemParameters",
    "append_data_packets",
    "build_packet",
    "checksum",
    "chunk_data",
    "cmd_aura_led",
    "cmd_delete",
    "cmd_down_char",
    "cmd_empty",
    "cmd_gen_img",
    "cmd_get_echo",
    "cmd_img2tz",
    "cmd_load_char",
    "cmd_match",
    "cmd_read_index_table",
    "cmd_read_sys_para",
    "cmd_reg_model",
    "cmd_search",
    "cmd_soft_reset",
    "cmd_store",
    "cmd_template_count",
    "cmd_up_char",
    "cmd_verify_password",
    "command",
    "confirm_meaning",
    "decode_index_table",
    "decode_match",
    "decode_search",
    "decode_template_count",
    "packet_size_code",
    "parse_packet",
]

HEADER = b"\xef\x01"
DEFAULT_ADDRESS = 0xFFFFFFFF
MIN_FRAME = 12  # header 2 + address 4 + PID 1 + LEN 2 + confirm/instruction 1 + SUM 2
# LEN counts payload + SUM. The manual says 256 max, but a 256-byte data chunk needs 258 (FPM).
MAX_LEN = 256 + 2
# ReadSysPara packet-size code -> data chunk length in bytes (§1.6).
PACKET_SIZES: dict[int, int] = {0: 32, 1: 64, 2: 128, 3: 256}


class Pid(IntEnum):
    """Packet identifier (byte 6 of a frame)."""

    COMMAND = 0x01
    DATA = 0x02
    ACK = 0x07
    END_DATA = 0x08


class Instruction(IntEnum):
    """Instruction codes (first payload byte of a command packet), docs/fingerprint-module.md
    §1.4."""

    GEN_IMG = 0x01
    IMG2TZ = 0x02
    MATCH = 0x03
    SEARCH = 0x04
    REG_MODEL = 0x05
    STORE = 0x06
    LOAD_CHAR = 0x07
    UP_CHAR = 0x08
    DOWN_CHAR = 0x09
    UP_IMAGE = 0x0A
    DOWN_IMAGE = 0x0B
    DELETE_CHAR = 0x0C
    EMPTY = 0x0D
    SET_SYS_PARA = 0x0E
    READ_SYS_PARA = 0x0F
    ENROLL = 0x10
    IDENTIFY = 0x11
    SET_PWD = 0x12
    VFY_PWD = 0x13
    GET_RANDOM_CODE = 0x14
    SET_ADDER = 0x15
    READ_INF_PAGE = 0x16
    PORT_CONTROL = 0x17
    WRITE_NOTEPAD = 0x18
    READ_NOTEPAD = 0x19
    BURN_CODE = 0x1A  # firmware flashing: never sent by this codebase
    HIGH_SPEED_SEARCH = 0x1B
    TEMPLATE_NUM = 0x1D
    READ_INDEX_TABLE = 0x1F
    GET_IMAGE_EX = 0x28
    CANCEL = 0x30
    AUTO_ENROLL = 0x31
    AUTO_IDENTIFY = 0x32
    AURA_LED_CONFIG = 0x35
    CHECK_SENSOR = 0x36
    READ_PROD_INFO = 0x3C
    SOFT_RESET = 0x3D
    HANDSHAKE = 0x40
    GET_ECHO = 0x53


class Confirm(IntEnum):
    """Confirmation codes (first payload byte of an ACK), docs/fingerprint-module.md §1.5."""

    OK = 0x00
    PACKET_ERROR = 0x01
    NO_FINGER = 0x02
    IMAGE_FAIL = 0x03
    IMAGE_TOO_DRY = 0x04
    IMAGE_TOO_WET = 0x05
    IMAGE_DISORDERLY = 0x06
    TOO_FEW_FEATURES = 0x07
    NO_MATCH = 0x08
    NOT_FOUND = 0x09
    MERGE_FAIL = 0x0A
    PAGE_OUT_OF_RANGE = 0x0B
    READ_TEMPLATE_FAIL = 0x0C
    UPLOAD_FAIL = 0x0D
    CANNOT_RECEIVE = 0x0E
    UPLOAD_IMAGE_FAIL = 0x0F
    DELETE_FAIL = 0x10
    EMPTY_FAIL = 0x11
    LOW_POWER_FAIL = 0x12
    WRONG_PASSWORD = 0x13
    RESET_FAIL = 0x14
    NO_VALID_IMAGE = 0x15
    UPGRADE_FAIL = 0x16
    RESIDUAL_FINGER = 0x17
    FLASH_RW_ERROR = 0x18
    UNDEFINED_ERROR = 0x19
    INVALID_REGISTER = 0x1A
    REGISTER_CONFIG_ERROR = 0x1B
    NOTEPAD_PAGE_ERROR = 0x1C
    PORT_FAIL = 0x1D
    ENROLL_FAIL = 0x1E
    LIBRARY_FULL = 0x1F
    ADDRESS_ERROR = 0x20
    PASSWORD_REQUIRED = 0x21
    TEMPLATE_EMPTY = 0x22
    LIBRARY_EMPTY = 0x24
    TIMEOUT = 0x26
    ALREADY_EXISTS = 0x27
    SENSOR_ABNORMAL = 0x29
    HANDSHAKE_OK = 0x55
    UNSUPPORTED = 0xFC
    HARDWARE_ERROR = 0xFD
    EXECUTION_FAILURE = 0xFE


_MEANINGS: dict[int, str] = {
    0x00: "command executed",
    0x01: "error when receiving the packet",
    0x02: "no finger on the sensor",
    0x03: "failed to take the fingerprint image",
    0x04: "image too dry or too pale",
    0x05: "image too wet or too blurred",
    0x06: "image too disorderly to extract features",
    0x07: "too few feature points (image too small)",
    0x08: "the fingerprints do not match",
    0x09: "no matching fingerprint in the library",
    0x0A: "failed to combine the character files",
    0x0B: "page ID beyond the library",
    0x0C: "error reading the template or invalid template",
    0x0D: "error uploading the template",
    0x0E: "the module cannot receive the following data packets",
    0x0F: "error uploading the image",
    0x10: "failed to delete the template",
    0x11: "failed to clear the library",
    0x12: "cannot enter low-power state",
    0x13: "wrong password",
    0x14: "system reset failed",
    0x15: "no valid original image in the buffer",
    0x16: "online upgrade failed",
    0x17: "residual fingerprint, or the finger did not move between captures",
    0x18: "error writing flash",
    0x19: "undefined error",
    0x1A: "invalid register number",
    0x1B: "wrong register configuration",
    0x1C: "wrong notepad page number",
    0x1D: "failed to operate the communication port",
    0x1E: "automatic enrolment failed",
    0x1F: "the fingerprint library is full",
    0x20: "wrong module address",
    0x21: "the password must be verified first",
    0x22: "the template is empty",
    0x24: "the fingerprint library is empty",
    0x26: "operation timed out",
    0x27: "the fingerprint already exists",
    0x29: "sensor hardware error",
    0x55: "module ready (handshake)",
    0xFC: "unsupported command",
    0xFD: "hardware error",
    0xFE: "command execution failure",
}


def confirm_meaning(code: int) -> str:
    """Human meaning of a confirmation code; unknown codes are named with their hex value."""
    return _MEANINGS.get(code, f"unknown confirmation code 0x{code:02X}")


def checksum(pid: int, payload: bytes | bytearray | memoryview) -> int:
    """The 16-bit sum of PID, both LEN bytes and the payload (LEN = len(payload) + 2)."""
    length = len(payload) + 2
    return (pid + (length >> 8) + (length & 0xFF) + sum(payload)) & 0xFFFF


def build_packet(
    pid: int, payload: bytes | bytearray | memoryview, address: int = DEFAULT_ADDRESS
) -> bytes:
    """One complete frame. Raises ValueError when the payload does not fit LEN."""
    length = len(payload) + 2
    if length > MAX_LEN or len(payload) < 1:
        raise ValueError(f"payload of {len(payload)} bytes does not fit an EF01 packet")
    return b"".join(
        (
            HEADER,
            struct.pack(">IBH", address, pid, length),
            bytes(payload),
            struct.pack(">H", checksum(pid, payload)),
        )
    )


class Packet(NamedTuple):
    """One valid frame: address, PID and payload (instruction/confirm code first).

    Immutable; a NamedTuple rather than a frozen dataclass because one is built per reply on
    the driver's hot path and a frozen dataclass costs five times as much to create."""

    address: int
    pid: int
    payload: bytes

    @property
    def code(self) -> int:
        """First payload byte: the instruction (command) or confirmation code (ACK)."""
        return self.payload[0]


@dataclass(frozen=True, slots=True)
class BadFrame:
    """A header was found but the frame was rejected; the parser resumed its header search."""

    reason: str  # "checksum" or "length"
    skipped: int  # bytes dropped to resynchronise


def parse_packet(frame: bytes) -> Packet:
    """Decode exactly one complete frame. Raises ValueError on a bad header, length or sum."""
    if len(frame) < MIN_FRAME or frame[:2] != HEADER:
        raise ValueError("not an EF01 frame")
    address, pid, length = struct.unpack(">IBH", frame[2:9])
    if length < 3 or length > MAX_LEN or len(frame) != 9 + length:
        raise ValueError(f"bad length field {length}")
    payload = frame[9 : 7 + length]
    (rx_sum,) = struct.unpack(">H", frame[7 + length : 9 + length])
    if checksum(pid, payload) != rx_sum:
        raise ValueError("checksum mismatch")
    return Packet(address, pid, bytes(payload))


_FRAME_HEAD = struct.Struct(">IBH")  # address, PID, LEN after the 2 header bytes


class PacketParser:
    """Incremental frame parser over a byte stream, with resynchronisation.

    `feed()` bytes as they arrive, then iterate `packets()`: yields `Packet` for every valid frame
    and `BadFrame` for every rejected one. Garbage before a header (lone 0x55/0x00 after power-on,
    leftovers of an aborted transfer, a wrong baud rate) is skipped and counted in `discarded`.
    A frame with a bad LEN or checksum drops only its first header byte, so a real header hidden
    inside it is still found (FPM's sliding header match). Not thread-safe: one reader owns it.
    """

    __slots__ = ("_buf", "discarded")

    def __init__(self) -> None:
        self._buf = bytearray()
        self.discarded = 0

    def feed(self, data: bytes | bytearray) -> None:
        """Append received bytes."""
        self._buf += data

    def clear(self) -> None:
        """Forget buffered bytes (after the caller drained the line)."""
        self.discarded += len(self._buf)
        self._buf.clear()

    @property
    def buffered(self) -> int:
        """Bytes held that do not yet form a complete frame."""
        return len(self._buf)

    def needed(self) -> int:
        """How many more bytes the frame being assembled needs at least (>= 1)."""
        buf = self._buf
        if len(buf) < 9 or buf[:2] != HEADER:
            return max(1, MIN_FRAME - len(buf))
        (length,) = struct.unpack_from(">H", buf, 7)
        if length < 3 or length > MAX_LEN:
            return 1
        return max(1, 9 + int(length) - len(buf))

    def _skip(self, n: int) -> None:
        del self._buf[:n]
        self.discarded += n

    def next(self) -> Packet | BadFrame | None:
        """The next complete frame (or rejected frame) in the buffer, or None when incomplete.

        On the driver's hot path (one call per reply): the header, address, PID and LEN come
        from one precompiled unpack, and the checksum is summed inline (the same sum as
        `checksum`, whose LEN is the frame's LEN field here)."""
        buf = self._buf
        while True:
            if buf[:2] != HEADER:
                start = buf.find(HEADER)
                if start < 0:
                    # Keep a trailing 0xEF: it may be the first half of a header.
                    keep = 1 if buf.endswith(b"\xef") else 0
                    self._skip(len(buf) - keep)
                    return None
                self._skip(start)
            if len(buf) < 9:
                return None
            address, pid, length = _FRAME_HEAD.unpack_from(buf, 2)
            if length < 3 or length > MAX_LEN:
                self._skip(1)
                return BadFrame("length", 1)
            end = 9 + length
            if len(buf) < end:
                return None
            payload = bytes(buf[9 : end - 2])
            expected = (pid + (length >> 8) + (length & 0xFF) + sum(payload)) & 0xFFFF
            if expected != (buf[end - 2] << 8 | buf[end - 1]):
                self._skip(1)
                return BadFrame("checksum", 1)
            del buf[:end]
            return Packet(address, pid, payload)

    def packets(self) -> Iterator[Packet | BadFrame]:
        """Yield every complete frame (or rejected frame) now in the buffer."""
        while (item := self.next()) is not None:
            yield item


def chunk_data(data: bytes | bytearray, chunk: int, address: int = DEFAULT_ADDRESS) -> list[bytes]:
    """Split `data` into data packets of `chunk` bytes; the last one has PID 0x08 (END_DATA)."""
    if chunk not in PACKET_SIZES.values():
        raise ValueError(f"chunk size {chunk} is not 32, 64, 128 or 256")
    if not data:
        raise ValueError("no data to send")
    out: list[bytes] = []
    for offset in range(0, len(data), chunk):
        last = offset + chunk >= len(data)
        pid = Pid.END_DATA if last else Pid.DATA
        out.append(build_packet(pid, data[offset : offset + chunk], address))
    return out


def append_data_packets(
    out: bytearray, data: bytes | bytearray, chunk: int, address: int = DEFAULT_ADDRESS
) -> None:
    """Append the data packets of `data` to `out` without immutable copies of the payload, so a
    caller holding a template in a bytearray can wipe both afterwards."""
    if chunk not in PACKET_SIZES.values():
        raise ValueError(f"chunk size {chunk} is not 32, 64, 128 or 256")
    if not data:
        raise ValueError("no data to send")
    view = memoryview(data)
    for offset in range(0, len(data), chunk):
        part = view[offset : offset + chunk]
        pid = Pid.END_DATA if offset + chunk >= len(data) else Pid.DATA
        out += HEADER
        out += struct.pack(">IBH", address, pid, len(part) + 2)
        out += part
        out += struct.pack(">H", checksum(pid, part))
    view.release()


def packet_size_code(size: int) -> int:
    """Inverse of PACKET_SIZES. Raises ValueError for another size."""
    for code, n in PACKET_SIZES.items():
        if n == size:
            return code
    raise ValueError(f"no packet size code for {size} bytes")


# --- command builders: each returns a complete command frame ---------------------------------


# Frames of parameterless commands, built once per (instruction, address): the driver sends
# TempleteNum/GenImg/ReadSysPara in loops. Commands with parameters (a password) are not kept.
_PLAIN_COMMANDS: dict[tuple[int, int], bytes] = {}


def command(instruction: int, params: bytes = b"", address: int = DEFAULT_ADDRESS) -> bytes:
    """A command frame: instruction code then its parameters."""
    if params:
        return build_packet(Pid.COMMAND, bytes([instruction]) + params, address)
    key = (int(instruction), address)
    frame = _PLAIN_COMMANDS.get(key)
    if frame is None:
        frame = build_packet(Pid.COMMAND, bytes([instruction]), address)
        if len(_PLAIN_COMMANDS) < 1024:  # bounded: addresses come from config, not the line
            _PLAIN_COMMANDS[key] = frame
    return frame


def cmd_verify_password(password: int, address: int = DEFAULT_ADDRESS) -> bytes:
    """VfyPwd (0x13) with a 32-bit password."""
    return command(Instruction.VFY_PWD, struct.pack(">I", password), address)


def cmd_read_sys_para(address: int = DEFAULT_ADDRESS) -> bytes:
    """ReadSysPara (0x0F)."""
    return command(Instruction.READ_SYS_PARA, b"", address)


def cmd_template_count(address: int = DEFAULT_ADDRESS) -> bytes:
    """TempleteNum (0x1D)."""
    return command(Instruction.TEMPLATE_NUM, b"", address)


def cmd_gen_img(address: int = DEFAULT_ADDRESS) -> bytes:
    """GenImg (0x01): capture an image into the image buffer."""
    return command(Instruction.GEN_IMG, b"", address)


def cmd_img2tz(buffer_id: int, address: int = DEFAULT_ADDRESS) -> bytes:
    """Img2Tz (0x02): extract features of the image into char buffer 1 or 2."""
    return command(Instruction.IMG2TZ, bytes([buffer_id]), address)


def cmd_match(address: int = DEFAULT_ADDRESS) -> bytes:
    """Match (0x03): compare char buffers 1 and 2."""
    return command(Instruction.MATCH, b"", address)


def cmd_search(buffer_id: int, start: int, count: int, address: int = DEFAULT_ADDRESS) -> bytes:
    """Search (0x04) the library pages start..start+count-1 for the features in a buffer."""
    return command(Instruction.SEARCH, struct.pack(">BHH", buffer_id, start, count), address)


def cmd_reg_model(address: int = DEFAULT_ADDRESS) -> bytes:
    """RegModel (0x05): merge buffers 1 and 2 into one template."""
    return command(Instruction.REG_MODEL, b"", address)


def cmd_store(buffer_id: int, page: int, address: int = DEFAULT_ADDRESS) -> bytes:
    """Store (0x06) a char buffer into a library page."""
    return command(Instruction.STORE, struct.pack(">BH", buffer_id, page), address)


def cmd_load_char(buffer_id: int, page: int, address: int = DEFAULT_ADDRESS) -> bytes:
    """LoadChar (0x07) a library page into a char buffer."""
    return command(Instruction.LOAD_CHAR, struct.pack(">BH", buffer_id, page), address)


def cmd_up_char(buffer_id: int, address: int = DEFAULT_ADDRESS) -> bytes:
    """UpChar (0x08): the module sends a char buffer as data packets after its ACK."""
    return command(Instruction.UP_CHAR, bytes([buffer_id]), address)


def cmd_down_char(buffer_id: int, address: int = DEFAULT_ADDRESS) -> bytes:
    """DownChar (0x09): after its ACK the host sends the template as data packets."""
    return command(Instruction.DOWN_CHAR, bytes([buffer_id]), address)


def cmd_delete(page: int, count: int = 1, address: int = DEFAULT_ADDRESS) -> bytes:
    """DeletChar (0x0C) `count` pages from `page`."""
    return command(Instruction.DELETE_CHAR, struct.pack(">HH", page, count), address)


def cmd_empty(address: int = DEFAULT_ADDRESS) -> bytes:
    """Empty (0x0D): delete every template of the library."""
    return command(Instruction.EMPTY, b"", address)


def cmd_read_index_table(page: int, address: int = DEFAULT_ADDRESS) -> bytes:
    """ReadIndexTable (0x1F) page 0..3 (256 slots each)."""
    return command(Instruction.READ_INDEX_TABLE, bytes([page]), address)


def cmd_aura_led(
    control: int, speed: int, color: int, count: int, address: int = DEFAULT_ADDRESS
) -> bytes:
    """AuraLedConfig (0x35, R50x): control 1 breathing 2 flashing 3 on 4 off; colour index."""
    return command(Instruction.AURA_LED_CONFIG, bytes([control, speed, color, count]), address)


def cmd_soft_reset(address: int = DEFAULT_ADDRESS) -> bytes:
    """SoftRst (0x3D, R50x); the module answers, then sends a lone 0x55 when ready."""
    return command(Instruction.SOFT_RESET, b"", address)


def cmd_get_echo(address: int = DEFAULT_ADDRESS) -> bytes:
    """GetEcho (0x53): a live module answers confirmation 0x55."""
    return command(Instruction.GET_ECHO, b"", address)


# --- reply decoders: take the ACK payload (confirm code first) --------------------------------


@dataclass(frozen=True, slots=True)
class SystemParameters:
    """The 16 bytes of a ReadSysPara reply (§1.6); `packet_size` in bytes, `baudrate` in bit/s."""

    status: int
    system_id: int
    capacity: int
    security_level: int
    address: int
    packet_size: int
    baudrate: int

    @classmethod
    def decode(cls, ack_payload: bytes) -> SystemParameters:
        """Decode from an ACK payload (confirm + 16 bytes). Raises ValueError when malformed."""
        if len(ack_payload) < 17:
            raise ValueError(f"ReadSysPara reply has {len(ack_payload)} bytes, expected 17")
        status, sys_id, capacity, level, address, size_code, baud_n = struct.unpack(
            ">HHHHIHH", ack_payload[1:17]
        )
        if size_code not in PACKET_SIZES:
            raise ValueError(f"packet size code {size_code} is not 0..3")
        return cls(status, sys_id, capacity, level, address, PACKET_SIZES[size_code], 9600 * baud_n)

    def encode(self) -> bytes:
        """The 16 parameter bytes (without the confirm code)."""
        return struct.pack(
            ">HHHHIHH",
            self.status,
            self.system_id,
            self.capacity,
            self.security_level,
            self.address,
            packet_size_code(self.packet_size),
            self.baudrate // 9600,
        )


def _need(ack_payload: bytes, n: int, what: str) -> None:
    if len(ack_payload) < n:
        raise ValueError(f"{what} reply has {len(ack_payload)} bytes, expected {n}")


def decode_match(ack_payload: bytes) -> int:
    """Score of a Match reply (confirm + score(2))."""
    _need(ack_payload, 3, "Match")
    return int(struct.unpack_from(">H", ack_payload, 1)[0])


def decode_search(ack_payload: bytes) -> tuple[int, int]:
    """(page, score) of a Search reply (confirm + page(2) + score(2))."""
    _need(ack_payload, 5, "Search")
    page, score = struct.unpack_from(">HH", ack_payload, 1)
    return int(page), int(score)


def decode_template_count(ack_payload: bytes) -> int:
    """Count of a TempleteNum reply (confirm + count(2))."""
    _need(ack_payload, 3, "TempleteNum")
    return int(struct.unpack_from(">H", ack_payload, 1)[0])


def decode_index_table(ack_payload: bytes, page: int) -> list[int]:
    """Used slot numbers of a ReadIndexTable reply: byte i, bit j (LSB 0) -> 256*page + 8*i + j."""
    _need(ack_payload, 33, "ReadIndexTable")
    return [
        256 * page + 8 * i + j
        for i, byte in enumerate(ack_payload[1:33])
        for j in range(8)
        if byte >> j & 1
    ]
