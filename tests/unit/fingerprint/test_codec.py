"""EF01 codec: reference examples, round trips, checksums and resynchronisation (hypothesis)."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.fingerprint import codec
from drivers.fingerprint.codec import BadFrame, Confirm, Packet, PacketParser, Pid

pids = st.sampled_from([Pid.COMMAND, Pid.DATA, Pid.ACK, Pid.END_DATA])
payloads = st.binary(min_size=1, max_size=256)
addresses = st.integers(0, 0xFFFFFFFF)


def independent_sum(frame: bytes) -> int:
    # Written apart from the codec: everything between the address and the checksum, summed.
    return sum(frame[6:-2]) % 65536


def test_reference_examples() -> None:
    # docs/fingerprint-module.md §1.2 worked examples, recomputed there against the ZFM-20 manual.
    assert (
        codec.cmd_verify_password(0).hex(" ") == "ef 01 ff ff ff ff 01 00 07 13 00 00 00 00 00 1b"
    )
    assert codec.cmd_gen_img().hex(" ") == "ef 01 ff ff ff ff 01 00 03 01 00 05"
    assert codec.cmd_template_count().hex(" ") == "ef 01 ff ff ff ff 01 00 03 1d 00 21"
    ack = bytes.fromhex("EF01FFFFFFFF0700030000 0A".replace(" ", ""))
    assert codec.parse_packet(ack) == Packet(0xFFFFFFFF, Pid.ACK, b"\x00")


def test_sys_para_of_issue_30_module() -> None:
    # A real module reporting 64-byte packets (Adafruit CircuitPython issue #30).
    frame = bytes.fromhex("EF01FFFFFFFF070013000000000000500003FFFFFFFF0001000C0476")
    pkt = codec.parse_packet(frame)
    p = codec.SystemParameters.decode(pkt.payload)
    assert (p.capacity, p.security_level, p.packet_size, p.baudrate) == (80, 3, 64, 115200)
    assert p.encode() == pkt.payload[1:]


@given(pids, payloads, addresses)
def test_round_trip(pid: int, payload: bytes, address: int) -> None:
    frame = codec.build_packet(pid, payload, address)
    assert len(frame) == 11 + len(payload)
    assert struct.unpack(">H", frame[-2:])[0] == independent_sum(frame)
    assert codec.parse_packet(frame) == Packet(address, pid, payload)


@given(pids, payloads, st.integers(0, 10_000), st.integers(0, 7))
def test_any_single_bit_flip_in_checked_region_is_rejected(
    pid: int, payload: bytes, where: int, bit: int
) -> None:
    frame = bytearray(codec.build_packet(pid, payload))
    i = 6 + where % (len(frame) - 6)  # PID, LEN, payload or checksum
    frame[i] ^= 1 << bit
    with pytest.raises(ValueError):
        codec.parse_packet(bytes(frame))


@given(
    st.lists(st.tuples(pids, payloads), min_size=1, max_size=5), st.binary(max_size=40), st.data()
)
def test_parser_resynchronises_after_garbage_in_any_slicing(
    frames: list[tuple[int, bytes]], garbage: bytes, data: st.DataObject
) -> None:
    stream = garbage.replace(b"\xef\x01", b"\xef\x02")  # no accidental header in the junk
    if stream.endswith(b"\xef"):
        stream += b"\x00"
    wire = stream + b"".join(codec.build_packet(p, pl) for p, pl in frames)
    parser = PacketParser()
    got: list[Packet | BadFrame] = []
    at = 0
    while at < len(wire):
        n = data.draw(st.integers(1, 64))
        parser.feed(wire[at : at + n])
        at += n
        got.extend(parser.packets())
    assert got == [Packet(0xFFFFFFFF, p, pl) for p, pl in frames]
    assert parser.discarded == len(stream)
    assert parser.buffered == 0


@given(payloads, payloads)
def test_parser_drops_a_corrupt_frame_and_finds_the_next(first: bytes, second: bytes) -> None:
    bad = bytearray(codec.build_packet(Pid.ACK, first))
    bad[-1] ^= 0xFF
    parser = PacketParser()
    parser.feed(bytes(bad) + codec.build_packet(Pid.ACK, second))
    items = list(parser.packets())
    assert isinstance(items[0], BadFrame) and items[0].reason == "checksum"
    assert items[-1] == Packet(0xFFFFFFFF, Pid.ACK, second)


def test_parser_rejects_impossible_length_and_lone_noise() -> None:
    parser = PacketParser()
    parser.feed(
        b"\x55\x00" + b"\xef\x01\xff\xff\xff\xff\x07\x01\x05" + codec.build_packet(7, b"\x00")
    )
    items = list(parser.packets())
    assert BadFrame("length", 1) in items
    assert items[-1] == Packet(0xFFFFFFFF, 7, b"\x00")


def test_needed_counts_the_rest_of_the_frame() -> None:
    frame = codec.build_packet(Pid.ACK, b"\x00" * 17)
    parser = PacketParser()
    assert parser.needed() == 12
    parser.feed(frame[:9])
    assert parser.needed() == len(frame) - 9
    parser.feed(frame[9:])
    assert list(parser.packets()) == [codec.parse_packet(frame)]


@given(st.binary(min_size=1, max_size=2000), st.sampled_from([32, 64, 128, 256]))
def test_chunking_round_trip(data: bytes, chunk: int) -> None:
    frames = codec.chunk_data(data, chunk)
    assert len(frames) == -(-len(data) // chunk)
    parsed = [codec.parse_packet(f) for f in frames]
    assert [p.pid for p in parsed] == [Pid.DATA] * (len(frames) - 1) + [Pid.END_DATA]
    assert b"".join(p.payload for p in parsed) == data
    out = bytearray()
    codec.append_data_packets(out, bytearray(data), chunk)
    assert bytes(out) == b"".join(frames)


def test_every_confirm_code_has_a_meaning() -> None:
    for code in Confirm:
        assert "unknown" not in codec.confirm_meaning(code)
    assert "0xEE" in codec.confirm_meaning(0xEE)


def test_reply_decoders() -> None:
    assert codec.decode_match(b"\x00\x00\x64") == 100
    assert codec.decode_search(b"\x00\x00\x05\x00\x90") == (5, 0x90)
    assert codec.decode_template_count(b"\x00\x01\x02") == 258
    table = b"\x00" + bytes([0b101]) + bytes(30) + b"\x80"
    assert codec.decode_index_table(table, 1) == [256, 258, 256 + 31 * 8 + 7]
    with pytest.raises(ValueError):
        codec.decode_search(b"\x00\x01")


def test_build_rejects_oversized_payload() -> None:
    with pytest.raises(ValueError):
        codec.build_packet(Pid.DATA, bytes(257))
    assert len(codec.build_packet(Pid.DATA, bytes(256))) == 267
