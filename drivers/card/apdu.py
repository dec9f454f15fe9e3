"""ISO 7816-4 APDU codec (pure): command and response APDUs and the builders of the commands the
social security card uses (docs/card.md §3)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "SSSE_AID",
    "ApduFormatError",
    "CommandApdu",
    "ResponseApdu",
    "change_pin",
    "external_authenticate",
    "get_challenge",
    "get_response",
    "internal_authenticate",
    "read_binary",
    "read_record",
    "read_record_by_tag",
    "select_by_name",
    "select_fid",
    "update_record",
    "verify",
]

# "sx1.sh.社会保障" in GBK: the SSSE DDF name every reader selects (docs/card.md §2.1).
SSSE_AID = bytes.fromhex("7378312E73682EC9E7BBE1B1A3D5CF")


class ApduFormatError(ValueError):
    """Bytes that are not a well-formed short APDU, or a field out of range."""


def _byte(name: str, v: int) -> None:
    if not 0 <= v <= 0xFF:
        raise ApduFormatError(f"{name} must be one byte, got {v}")


@dataclass(frozen=True, slots=True)
class CommandApdu:
    """A short command APDU (cases 1-4). `le` is the expected length 1..256 (256 encodes as 00)
    or None for no Le. `sensitive` marks commands carrying a PIN or key material: the tracer then
    logs the header only, and the caller wipes `data` (a bytearray) after the exchange."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes | bytearray = b""
    le: int | None = None
    sensitive: bool = field(default=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("cla", "ins", "p1", "p2"):
            _byte(name, getattr(self, name))
        if len(self.data) > 255:
            raise ApduFormatError("short APDU data is at most 255 bytes")
        if self.le is not None and not 1 <= self.le <= 256:
            raise ApduFormatError(f"Le must be 1..256, got {self.le}")

    @property
    def header(self) -> bytes:
        """CLA INS P1 P2."""
        return bytes((self.cla, self.ins, self.p1, self.p2))

    def to_bytes(self) -> bytearray:
        """The encoded APDU as a bytearray (wipe it after use when `sensitive`)."""
        out = bytearray(self.header)
        if self.data:
            out.append(len(self.data))
            out += self.data
        if self.le is not None:
            out.append(self.le & 0xFF)
        return out

    def to_list(self) -> list[int]:
        """The encoded APDU as the list of ints pyscard wants."""
        return list(self.to_bytes())

    def with_le(self, le: int) -> CommandApdu:
        """The same command with another Le (used on 6Cxx)."""
        return CommandApdu(self.cla, self.ins, self.p1, self.p2, self.data, le, self.sensitive)

    def describe(self) -> str:
        """Header and lengths only, never the data: safe for logs."""
        parts = [self.header.hex(" ").upper()]
        if not self.sensitive:
            if self.data:
                parts.append(f"Lc={len(self.data)}")
            if self.le is not None:
                parts.append(f"Le={self.le}")
        return " ".join(parts)

    @classmethod
    def from_bytes(cls, raw: bytes | bytearray) -> CommandApdu:
        """Parse a short APDU; raises `ApduFormatError` on any inconsistency."""
        if len(raw) < 4:
            raise ApduFormatError("an APDU has at least 4 header bytes")
        cla, ins, p1, p2 = raw[0], raw[1], raw[2], raw[3]
        body = raw[4:]
        if not body:
            return cls(cla, ins, p1, p2)
        if len(body) == 1:
            return cls(cla, ins, p1, p2, le=body[0] or 256)
        lc = body[0]
        if lc == 0:
            raise ApduFormatError("Lc=00 is not a short APDU")
        if len(body) == 1 + lc:
            return cls(cla, ins, p1, p2, bytes(body[1:]))
        if len(body) == 2 + lc:
            return cls(cla, ins, p1, p2, bytes(body[1 : 1 + lc]), body[-1] or 256)
        raise ApduFormatError(f"Lc={lc} does not match a body of {len(body)} bytes")


@dataclass(frozen=True, slots=True)
class ResponseApdu:
    """A response APDU: data and the status word SW1 SW2."""

    data: bytes
    sw1: int
    sw2: int

    def __post_init__(self) -> None:
        _byte("sw1", self.sw1)
        _byte("sw2", self.sw2)

    @property
    def sw(self) -> int:
        """SW1 SW2 as one int, 0x9000 on success."""
        return (self.sw1 << 8) | self.sw2

    @property
    def ok(self) -> bool:
        """True for 9000."""
        return self.sw == 0x9000

    def to_bytes(self) -> bytes:
        return self.data + bytes((self.sw1, self.sw2))

    @classmethod
    def from_bytes(cls, raw: bytes | bytearray) -> ResponseApdu:
        """Split data and status word; raises `ApduFormatError` if shorter than 2 bytes."""
        if len(raw) < 2:
            raise ApduFormatError("a response has at least the 2 status bytes")
        return cls(bytes(raw[:-2]), raw[-2], raw[-1])

    def describe(self) -> str:
        """Status word and data length only, never the data: safe for logs."""
        return f"SW={self.sw:04X} len={len(self.data)}"


def select_by_name(name: bytes, *, p2: int = 0x00, le: int | None = None) -> CommandApdu:
    """SELECT by DF name: `00 A4 04 P2 Lc name`."""
    return CommandApdu(0x00, 0xA4, 0x04, p2, bytes(name), le)


def select_fid(fid: int, p1: int = 0x02) -> CommandApdu:
    """SELECT by file identifier: `00 A4 P1 00 02 FID` (P1 02 = EF under the current DF, 00 =
    MF/DF/EF; real cards accept both, docs/card.md §2.2)."""
    if not 0 <= fid <= 0xFFFF:
        raise ApduFormatError("a FID is two bytes")
    return CommandApdu(0x00, 0xA4, p1, 0x00, fid.to_bytes(2, "big"))


def read_record(p1: int, p2: int, le: int) -> CommandApdu:
    """READ RECORD `00 B2 P1 P2 Le` (P2 00 = by record identifier/tag, 04 = by number,
    SFI<<3|4 = by number in the EF with that short identifier)."""
    return CommandApdu(0x00, 0xB2, p1, p2, le=le)


def read_record_by_tag(tag: int, value_len: int) -> CommandApdu:
    """READ RECORD by tag with Le = T + L + V (docs/card.md §2.3)."""
    return read_record(tag, 0x00, value_len + 2)


def read_binary(offset: int, le: int) -> CommandApdu:
    """READ BINARY `00 B0 off_hi off_lo Le` (offset < 0x8000)."""
    if not 0 <= offset <= 0x7FFF:
        raise ApduFormatError("READ BINARY offset is 15 bits")
    return CommandApdu(0x00, 0xB0, offset >> 8, offset & 0xFF, le=le)


def update_record(record: int, p2: int, data: bytes) -> CommandApdu:
    """UPDATE RECORD `00 DC rec P2 Lc data` (P2 04 = by number)."""
    return CommandApdu(0x00, 0xDC, record, p2, bytes(data))


def verify(pin_bcd: bytearray, *, p2: int = 0x00) -> CommandApdu:
    """VERIFY `00 20 00 P2 Lc <packed BCD PIN>`; the caller wipes `pin_bcd` afterwards."""
    return CommandApdu(0x00, 0x20, 0x00, p2, pin_bcd, sensitive=True)


def change_pin(old_bcd: bytearray, new_bcd: bytearray) -> tuple[CommandApdu, bytearray]:
    """CHANGE PIN `80 5E 01 00 Lc old ‖ FF ‖ new` (docs/card.md §3).

    Returns the command and the bytearray it carries: the caller wipes both inputs and that one.
    """
    body = bytearray(old_bcd)
    body.append(0xFF)
    body += new_bcd
    return CommandApdu(0x80, 0x5E, 0x01, 0x00, body, sensitive=True), body


def get_challenge(le: int = 8) -> CommandApdu:
    """GET CHALLENGE `00 84 00 00 Le` (8 or 16 random bytes)."""
    return CommandApdu(0x00, 0x84, 0x00, 0x00, le=le)


def external_authenticate(kid: int, cryptogram: bytes) -> CommandApdu:
    """EXTERNAL AUTHENTICATE `00 82 00 KID Lc cryptogram`."""
    return CommandApdu(0x00, 0x82, 0x00, kid, bytes(cryptogram), sensitive=True)


def internal_authenticate(data: bytes, le: int | None = None) -> CommandApdu:
    """INTERNAL AUTHENTICATE `00 88 00 00 Lc data [Le]` (data = process factor ‖ source)."""
    return CommandApdu(0x00, 0x88, 0x00, 0x00, bytes(data), le)


def get_response(le: int) -> CommandApdu:
    """GET RESPONSE `00 C0 00 00 Le` after 61xx (Le 256 encodes as 00)."""
    return CommandApdu(0x00, 0xC0, 0x00, 0x00, le=le)
