"""PSAM client and cryptogram providers against an in-test PSAM written from docs/card-security.md
§5.

The fakes here (a PSAM and the security part of a user card) are deliberately small and follow
docs/card-security.md literally; the real emulator is exercised by tests/integration/card.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.card.apdu import CommandApdu, ResponseApdu
from drivers.card.crypto import Algorithm, cryptogram, diversify, process_key
from drivers.card.cryptogram import PsamCryptogramProvider, SoftwareCryptogramProvider
from drivers.card.psam import (
    KeyUsage,
    PsamClient,
    PsamCommandError,
    PsamKeyMissingError,
    PsamMissingError,
    parse_algorithms,
)

H = bytes.fromhex
MASTERS: dict[tuple[KeyUsage, Algorithm], bytes] = {
    (usage, alg): bytes([usage, alg]) * 8 for usage in KeyUsage for alg in Algorithm
}
TERMINAL = H("410100813475")


def _ok(data: bytes = b"") -> ResponseApdu:
    return ResponseApdu(data, 0x90, 0x00)


def _sw(sw: int) -> ResponseApdu:
    return ResponseApdu(b"", sw >> 8, sw & 0xFF)


class FakeChannel:
    """A channel over a handler; counts transactions and records commands."""

    def __init__(self, handler: Callable[[CommandApdu], ResponseApdu]) -> None:
        self.handler = handler
        self.sent: list[CommandApdu] = []
        self.transactions = 0

    def transmit(self, apdu: CommandApdu) -> ResponseApdu:
        self.sent.append(apdu)
        return self.handler(apdu)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self.transactions += 1
        yield


class FakePsam:
    """The docs/card-security.md §5 PSAM with the test master keys above (61xx resolved as the
    transport would)."""

    def __init__(self, masters: dict[tuple[KeyUsage, Algorithm], bytes] | None = None) -> None:
        self.masters = MASTERS if masters is None else masters
        self.selected = False
        self.key: tuple[Algorithm, bytes] | None = None

    def __call__(self, c: CommandApdu) -> ResponseApdu:
        if c.ins == 0xA4:
            self.selected = c.data == H("DF01")
            return _ok() if self.selected else _sw(0x6A82)
        if not self.selected:
            return _sw(0x6985)
        if c.ins == 0xB0 and c.p1 == 0x96:
            return _ok(TERMINAL)
        if c.ins == 0xCA:
            return _ok(H("A0020104A1040A0B0C27A20101"))
        if c.ins == 0x1A:
            try:
                usage, alg = KeyUsage(c.p1), Algorithm(c.p2)
            except ValueError:
                return _sw(0x6A88)
            master = self.masters.get((usage, alg))
            if master is None:
                return _sw(0x6A88)
            factor = bytes(c.data[:8]) if len(c.data) >= 8 else b"\0\0" + bytes(c.data)
            key = diversify(alg, master, factor)
            if len(c.data) == 16:
                key = process_key(alg, key, bytes(c.data[8:]))
            self.key = (alg, key)
            return _ok()
        if c.ins == 0xFA:
            if self.key is None:
                return _sw(0x6985)
            return _ok(cryptogram(self.key[0], self.key[1], bytes(c.data)))
        return _sw(0x6D00)


def test_psam_info_and_terminal_number() -> None:
    psam = PsamClient(FakeChannel(FakePsam()))
    info = psam.info()
    assert info.terminal_number == "410100813475"
    assert info.algorithms == (Algorithm.TDES, Algorithm.SM4)
    assert info.usages == (0x0A, 0x0B, 0x0C, 0x27)
    assert info.key_version == 1


def test_parse_algorithms_skips_unknown_and_refuses_truncation() -> None:
    assert parse_algorithms(H("A003010204"))[0] == (Algorithm.TDES, Algorithm.SM4)
    with pytest.raises(PsamCommandError):
        parse_algorithms(H("A00501"))


def test_no_psam_application_is_psam_missing() -> None:
    channel = FakeChannel(lambda c: _sw(0x6A82))
    with pytest.raises(PsamMissingError) as e:
        PsamClient(channel).terminal_number()
    assert e.value.code == "card.psam_missing" and e.value.sw == 0x6A82


@pytest.mark.parametrize("alg", list(Algorithm))
def test_psam_and_software_providers_agree(alg: Algorithm) -> None:
    channel = FakeChannel(FakePsam())
    psam = PsamCryptogramProvider(PsamClient(channel))
    soft = SoftwareCryptogramProvider(MASTERS)
    f, r, x = os.urandom(8), os.urandom(8), os.urandom(8)
    for usage in (KeyUsage.RKSSSE, KeyUsage.UK):
        a = psam.cryptogram(usage=usage, algorithm=alg, card_factor=f, data=x)
        assert a == soft.cryptogram(usage=usage, algorithm=alg, card_factor=f, data=x)
        assert len(a) == (8 if alg is Algorithm.TDES else 16)
    irk = psam.cryptogram(
        usage=KeyUsage.IRK, algorithm=alg, card_factor=f, data=x, process_factor=r
    )
    assert irk == soft.cryptogram(
        usage=KeyUsage.IRK, algorithm=alg, card_factor=f, data=x, process_factor=r
    )
    # INIT FOR DESCRYPT and DES CRYPT ran inside one transaction each time.
    assert channel.transactions == 3
    init = [c for c in channel.sent if c.ins == 0x1A]
    assert init[-1].header == H("801A27") + bytes([alg]) and init[-1].sensitive


def test_missing_key_is_typed() -> None:
    psam = PsamClient(FakeChannel(FakePsam(masters={})))
    with pytest.raises(PsamKeyMissingError) as e:
        psam.compute(KeyUsage.UK, Algorithm.SM4, bytes(8), bytes(8))
    assert e.value.sw == 0x6A88
    with pytest.raises(PsamKeyMissingError):
        SoftwareCryptogramProvider({}).cryptogram(
            usage=KeyUsage.UK, algorithm=Algorithm.SM4, card_factor=bytes(8), data=bytes(8)
        )


@given(st.binary(max_size=64))
def test_parse_algorithms_raises_only_psam_errors(data: bytes) -> None:
    with contextlib.suppress(PsamCommandError):
        algs, _, _ = parse_algorithms(data)
        assert all(isinstance(a, Algorithm) for a in algs)
