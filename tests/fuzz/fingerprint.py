"""Fingerprint entry points: the EF01 stream parser (never raises: bad frames are values) and
the reply decoders (ValueError)."""

from __future__ import annotations

from collections.abc import Callable

from drivers.fingerprint import codec
from drivers.fingerprint.codec import PacketParser, Pid
from tests.fuzz.target import Target

__all__ = ["fingerprint_targets"]

TOKENS = [b"\xef\x01", b"\xff\xff\xff\xff", b"\x07", b"\x02", b"\x08", b"\xff\xff", b"\x00\x00"]
DECODERS: list[Callable[[bytes], object]] = [
    codec.parse_packet,
    codec.SystemParameters.decode,
    codec.decode_match,
    codec.decode_search,
    codec.decode_template_count,
    lambda d: codec.decode_index_table(d, d[0] if d else 0),
]


def _run_stream(data: bytes) -> None:
    parser = PacketParser()
    for i in range(0, len(data), 7):  # bytes arrive in pieces, as from a serial port
        parser.feed(data[i : i + 7])
        for _ in parser.packets():
            pass


def _run_decoders(data: bytes) -> None:
    if data:
        DECODERS[data[0] % len(DECODERS)](data[1:])


def fingerprint_targets() -> list[Target]:
    acks = [
        codec.build_packet(Pid.ACK, bytes([0x00]) + bytes(16)),
        codec.build_packet(Pid.ACK, bytes([0x00, 0x00, 0x64])),
        codec.build_packet(Pid.ACK, bytes([0x00, 0x00, 0x05, 0x00, 0x90])),
        codec.cmd_gen_img() + codec.build_packet(Pid.END_DATA, bytes(128)),
    ]
    stream = [b"".join(acks), b"\x00\xff" + acks[0] + acks[1][:-3] + acks[2]]
    decoder_seeds = [bytes([i]) + a for i in range(len(DECODERS)) for a in acks] + [
        bytes([i]) + a[9:-2] for i in range(len(DECODERS)) for a in acks
    ]
    return [
        Target("fingerprint.stream", _run_stream, (), stream, TOKENS),
        Target("fingerprint.decoders", _run_decoders, (ValueError,), decoder_seeds, TOKENS),
    ]
