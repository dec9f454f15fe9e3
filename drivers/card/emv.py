"""Pure EMV codec: BER-TLV, DOL/PDOL data, GET PROCESSING OPTIONS answers, AFL, PAN, PSE records.

Bytes in, values out: no I/O, clocks or logging (the PAN leaves this module only as `Masked`).
After EMV 4.3 Book 3 (annex B for BER-TLV, §5.4 for DOLs, §6.5.8 for GPO, §10.2 for the AFL)
and the PBOC 3.0 debit/credit application that UnionPay cards (AID A000000333010101) follow.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from drivers.card.tlv import (
    Tlv,
    TlvError,
    encode_ber,
    parse_ber,
    read_ber_length,
    read_ber_tag,
)
from drivers.personal import Masked, PersonalKind

__all__ = [
    "MAX_DOL_DATA",
    "PPSE_NAME",
    "PSE_NAME",
    "UNIONPAY_DEBIT_AID",
    "AflEntry",
    "DirectoryEntry",
    "EmvFormatError",
    "Fci",
    "GpoResponse",
    "Tlv",
    "build_dol_data",
    "encode_tlv",
    "find_all",
    "find_tag",
    "gpo_command_data",
    "pan_from_record_data",
    "pan_from_track2",
    "parse_afl",
    "parse_dol",
    "parse_fci",
    "parse_gpo_response",
    "parse_pse_record",
    "parse_tlv",
    "terminal_values",
]

PSE_NAME = b"1PAY.SYS.DDF01"  # contact payment system environment
PPSE_NAME = b"2PAY.SYS.DDF01"  # proximity (contactless) PSE
UNIONPAY_DEBIT_AID = bytes.fromhex("A000000333010101")


class EmvFormatError(ValueError):
    """EMV data that cannot be parsed; `code` is the stable card data error code."""

    code = "card.data_invalid"


def parse_tlv(data: bytes) -> list[Tlv]:
    """Parse a sequence of BER-TLV objects, descending into constructed ones.

    Raises `EmvFormatError` on truncated or malformed data (never another exception).
    """
    try:
        return parse_ber(bytes(data))
    except TlvError as e:
        raise EmvFormatError(str(e)) from None


def encode_tlv(tag: int, value: bytes) -> bytes:
    """Encode one BER-TLV object (short or long length form)."""
    try:
        return encode_ber(tag, bytes(value))
    except TlvError as e:
        raise EmvFormatError(str(e)) from None


def find_all(nodes: Iterable[Tlv], tag: int) -> Iterator[Tlv]:
    """Every object with `tag`, depth first, in card order."""
    for node in nodes:
        if node.tag == tag:
            yield node
        if node.children:
            yield from find_all(node.children, tag)


def find_tag(nodes: Iterable[Tlv], tag: int) -> bytes | None:
    """The value of the first object with `tag`, searching nested templates; None if absent."""
    for node in find_all(nodes, tag):
        return node.value
    return None


# --- DOL -----------------------------------------------------------------------------------

# Numeric ('n') terminal data: padded and truncated on the left (EMV Book 3 §5.4).
_NUMERIC_TAGS = frozenset({0x9F02, 0x9F03, 0x9F1A, 0x5F2A, 0x9A, 0x9C, 0x9F21, 0x5F36})


# The DOL data travels in one short APDU as `83 81 L <data>` (255 bytes at most): a card that
# asks for more is wrong, and is refused before anything of that size is allocated.
MAX_DOL_DATA = 252


def parse_dol(data: bytes) -> list[tuple[int, int]]:
    """Parse a data object list (tag, length pairs without values), e.g. a PDOL (9F38).

    Raises `EmvFormatError` when the lengths add up to more than `MAX_DOL_DATA` bytes.
    """
    out: list[tuple[int, int]] = []
    pos = 0
    total = 0
    data = bytes(data)
    try:
        while pos < len(data):
            tag, _, pos = read_ber_tag(data, pos)
            length, pos = read_ber_length(data, pos)
            total += length
            if total > MAX_DOL_DATA:
                raise EmvFormatError(f"DOL asks for more than {MAX_DOL_DATA} bytes")
            out.append((tag, length))
    except TlvError as e:
        raise EmvFormatError(f"DOL: {e}") from None
    return out


def build_dol_data(dol: Iterable[tuple[int, int]], values: Mapping[int, bytes]) -> bytes:
    """Concatenate the values a DOL asks for, each fitted to its length (EMV Book 3 §5.4).

    Unknown tags are sent as zeros; numeric data is fitted on the left, other data on the right.
    Raises `EmvFormatError` past `MAX_DOL_DATA` bytes (checked before each entry is built).
    """
    out = bytearray()
    for tag, length in dol:
        if length < 0 or len(out) + length > MAX_DOL_DATA:
            raise EmvFormatError(f"DOL asks for more than {MAX_DOL_DATA} bytes")
        value = values.get(tag)
        if value is None:
            out += bytes(length)
            continue
        if length == 0:
            continue  # value[-0:] would be the whole value
        if tag in _NUMERIC_TAGS:
            fitted = value[-length:] if len(value) >= length else bytes(length - len(value)) + value
        else:
            fitted = value[:length] if len(value) >= length else value + bytes(length - len(value))
        out += fitted
    return bytes(out)


def _bcd(number: int, size: int) -> bytes:
    digits = f"{number:0{size * 2}d}"
    return bytes.fromhex(digits[-size * 2 :])


def terminal_values(
    *,
    unpredictable: bytes,
    today: dt.date,
    amount_fen: int = 0,
    country: int = 156,
    currency: int = 156,
    now: dt.time | None = None,
) -> dict[int, bytes]:
    """Terminal data for a balance-free read (no money moves): the usual PDOL tags.

    `unpredictable` is 4 random bytes (9F37); country and currency default to China (156, CNY).
    9F66 asks for a contact-chip EMV read, offline-capable, no online PIN.
    """
    t = now or dt.time(0, 0, 0)
    return {
        0x9F66: bytes.fromhex("46000000"),  # TTQ: contact chip + qPBOC, reader is online-capable
        0x9F02: _bcd(amount_fen, 6),  # amount authorised
        0x9F03: _bcd(0, 6),  # amount other
        0x9F1A: _bcd(country, 2),  # terminal country code
        0x95: bytes(5),  # terminal verification results
        0x5F2A: _bcd(currency, 2),  # transaction currency code
        0x9A: bytes.fromhex(today.strftime("%y%m%d")),  # transaction date YYMMDD
        0x9C: b"\x31",  # transaction type: balance inquiry ("31"), never a purchase
        0x9F37: bytes(unpredictable[:4]),
        0x9F21: bytes.fromhex(t.strftime("%H%M%S")),
        0x9F35: b"\x14",  # terminal type: unattended, financial institution, online
        0x9F33: bytes.fromhex("E0E1C8"),  # terminal capabilities
        0x9F40: bytes.fromhex("6000F0A001"),  # additional terminal capabilities
        0x9F7A: b"\x00",  # electronic-cash terminal support indicator: no EC
        0xDF60: b"\x00",  # PBOC 3.0 CAPP transaction indicator: no
    }


def gpo_command_data(pdol: bytes | None, values: Mapping[int, bytes]) -> bytes:
    """The GPO data field: `83 L <PDOL data>`, or `83 00` when the card has no PDOL."""
    data = build_dol_data(parse_dol(pdol), values) if pdol else b""
    return encode_tlv(0x83, data)


# --- GPO and AFL ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AflEntry:
    """One application file locator entry: read records `first..last` of `sfi`."""

    sfi: int
    first: int
    last: int
    offline_count: int

    def records(self) -> range:
        return range(self.first, self.last + 1)


@dataclass(frozen=True, slots=True)
class GpoResponse:
    """Application interchange profile (2 bytes) and the AFL of a GPO answer."""

    aip: bytes
    afl: tuple[AflEntry, ...]
    response_format: int  # 1 (tag 80) or 2 (tag 77)
    track2: bytes | None = None  # some qPBOC cards put 57 into the format-2 answer


def parse_afl(data: bytes) -> tuple[AflEntry, ...]:
    """Parse an AFL (tag 94 or the tail of a format-1 answer): 4 bytes per entry."""
    if len(data) % 4:
        raise EmvFormatError(f"AFL length {len(data)} is not a multiple of 4")
    out = []
    for i in range(0, len(data), 4):
        sfi_byte, first, last, offline = data[i : i + 4]
        sfi = sfi_byte >> 3
        if not 1 <= sfi <= 30 or first == 0 or last < first or offline > last - first + 1:
            raise EmvFormatError(f"impossible AFL entry {data[i : i + 4].hex().upper()}")
        out.append(AflEntry(sfi, first, last, offline))
    return tuple(out)


def parse_gpo_response(data: bytes) -> GpoResponse:
    """Parse a GET PROCESSING OPTIONS answer, format 1 (`80`: AIP ‖ AFL) or 2 (`77`: 82, 94)."""
    nodes = parse_tlv(data)
    if not nodes:
        raise EmvFormatError("empty GPO answer")
    top = nodes[0]
    if top.tag == 0x80:
        if len(top.value) < 2:
            raise EmvFormatError("format-1 GPO answer shorter than its AIP")
        return GpoResponse(top.value[:2], parse_afl(top.value[2:]), 1)
    if top.tag == 0x77 and top.children is not None:
        aip = find_tag(top.children, 0x82)
        afl = find_tag(top.children, 0x94)
        if aip is None or len(aip) != 2:
            raise EmvFormatError("format-2 GPO answer without AIP (82)")
        track2 = find_tag(top.children, 0x57)
        return GpoResponse(aip, parse_afl(afl or b""), 2, track2)
    raise EmvFormatError(f"GPO answer template {top.tag:X} is neither 80 nor 77")


# --- PAN -----------------------------------------------------------------------------------


def _digits_of(data: bytes, stop: str) -> str:
    text = data.hex().upper()
    for i, ch in enumerate(text):
        if ch in stop:
            return text[:i]
    return text


def _checked_pan(digits: str) -> Masked:
    if not 12 <= len(digits) <= 19 or not digits.isdigit():
        raise EmvFormatError(f"PAN of {len(digits)} characters is not 12-19 digits")
    return Masked(digits, PersonalKind.BANK_NUMBER)


def pan_from_track2(track2: bytes) -> Masked:
    """The PAN of track 2 equivalent data (57 / 9F6B): digits up to the `D` separator."""
    text = track2.hex().upper()
    if "D" not in text:
        raise EmvFormatError("track 2 equivalent data without a D separator")
    return _checked_pan(text.split("D", 1)[0])


def pan_from_record_data(nodes: Iterable[Tlv]) -> Masked | None:
    """The PAN from records already read: tag 5A (cn, F-padded), else track 2 (57, 9F6B)."""
    node_list = list(nodes)
    pan = find_tag(node_list, 0x5A)
    if pan is not None:
        return _checked_pan(_digits_of(pan, "F"))
    for tag in (0x57, 0x9F6B):
        track2 = find_tag(node_list, tag)
        if track2 is not None:
            return pan_from_track2(track2)
    return None


# --- FCI and PSE ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DirectoryEntry:
    """One application of a PSE/PPSE directory (tag 61)."""

    aid: bytes
    label: str
    priority: int  # low nibble of 87; 0 = none given, 1 = highest

    def sort_key(self) -> tuple[int, bytes]:
        return (self.priority or 16, self.aid)


@dataclass(frozen=True, slots=True)
class Fci:
    """What a SELECT answer tells: DF name, directory SFI (88), PDOL (9F38), label, entries."""

    df_name: bytes | None
    sfi: int | None
    pdol: bytes | None
    label: str
    entries: tuple[DirectoryEntry, ...]


def _label(value: bytes | None) -> str:
    if not value:
        return ""
    return value.decode("ascii", errors="replace").strip()


def _entries(nodes: Iterable[Tlv]) -> tuple[DirectoryEntry, ...]:
    out = []
    for entry in find_all(nodes, 0x61):
        kids = entry.children or ()
        aid = find_tag(kids, 0x4F)
        if not aid:
            continue
        prio = find_tag(kids, 0x87)
        out.append(DirectoryEntry(aid, _label(find_tag(kids, 0x50)), prio[0] & 0x0F if prio else 0))
    return tuple(sorted(out, key=DirectoryEntry.sort_key))


def parse_fci(data: bytes) -> Fci:
    """Parse a SELECT answer (`6F` template); PPSE entries under BF0C are included."""
    nodes = parse_tlv(data)
    if not nodes or nodes[0].tag != 0x6F:
        raise EmvFormatError("SELECT answer is not an FCI template (6F)")
    sfi = find_tag(nodes, 0x88)
    if sfi and (len(sfi) != 1 or not 1 <= sfi[0] <= 30):
        # READ RECORD carries the SFI in 5 bits of P2 (EMV Book 1 §11.2): 31 is reserved.
        raise EmvFormatError(f"directory SFI {sfi.hex().upper()} is not 1..30")
    return Fci(
        df_name=find_tag(nodes, 0x84),
        sfi=sfi[0] if sfi else None,
        pdol=find_tag(nodes, 0x9F38),
        label=_label(find_tag(nodes, 0x50)),
        entries=_entries(nodes),
    )


def parse_pse_record(data: bytes) -> tuple[DirectoryEntry, ...]:
    """Parse one PSE directory record (`70` with `61` entries of 4F AID, 50 label, 87 prio)."""
    nodes = parse_tlv(data)
    if not nodes or nodes[0].tag != 0x70:
        raise EmvFormatError("PSE record is not a record template (70)")
    return _entries(nodes)
