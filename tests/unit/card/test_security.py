"""Card authentication and PSAM trust, against the in-test PSAM and a docs/card-security.md §3
card."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from drivers.card.apdu import CommandApdu, ResponseApdu
from drivers.card.crypto import Algorithm, cryptogram, diversify, key_check_value, process_key
from drivers.card.cryptogram import PsamCryptogramProvider, SoftwareCryptogramProvider
from drivers.card.errors import AuthenticationFailedError, KeyBlockedError, StatusWordError
from drivers.card.psam import KeyUsage, PsamClient, PsamUntrustedError
from drivers.card.security import (
    CardAuthenticationError,
    CardAuthenticator,
    ChallengeMissingError,
    TrustPolicy,
    algorithm_from_fci,
    card_algorithm,
    card_factor_from_id,
    find_vpcd,
    open_card_access,
    verify_psam,
)
from tests.unit.card.test_psam import MASTERS, TERMINAL, FakeChannel, FakePsam, _ok, _sw

H = bytes.fromhex
CARD_ID = H("330300D156000005") + H("99110145AABBCCDD")


class FakeCard:
    """The security commands of a user card, docs/card-security.md §3 (3 tries per key)."""

    def __init__(self, alg: Algorithm, masters: dict[tuple[KeyUsage, Algorithm], bytes]) -> None:
        f = card_factor_from_id(CARD_ID)
        self.alg = alg
        self.keys = {u: diversify(alg, masters[(u, alg)], f) for u in KeyUsage}
        self.challenge: bytes | None = None
        self.tries = {0x0A: 3, 0x0B: 3}
        self.state: set[int] = set()

    def __call__(self, c: CommandApdu) -> ResponseApdu:
        if c.ins == 0x84:
            self.challenge = os.urandom(c.le or 8)
            return _ok(self.challenge)
        if c.ins == 0x82:
            kid = c.p2
            if kid not in self.tries:
                return _sw(0x6A88)
            if self.tries[kid] == 0:
                return _sw(0x6983)
            if self.challenge is None:
                return _sw(0x6984)
            usage = KeyUsage.RKSSSE if kid == 0x0A else KeyUsage.UK
            want = cryptogram(self.alg, self.keys[usage], self.challenge)
            self.challenge = None
            if bytes(c.data) != want:
                self.tries[kid] -= 1
                return _sw(0x63C0 | self.tries[kid]) if self.tries[kid] else _sw(0x6983)
            self.tries[kid] = 3
            self.state.add(kid)
            return _ok()
        if c.ins == 0x88:
            r, s = bytes(c.data[:8]), bytes(c.data[8:16])
            return _ok(cryptogram(self.alg, process_key(self.alg, self.keys[KeyUsage.IRK], r), s))
        return _sw(0x6D00)


def _auth(card: FakeCard, provider: object) -> CardAuthenticator:
    return CardAuthenticator(
        FakeChannel(card),
        provider,  # type: ignore[arg-type]
        algorithm=card.alg,
        card_factor=card_factor_from_id(CARD_ID),
    )


@pytest.mark.parametrize("alg", list(Algorithm))
def test_mutual_authentication_with_the_psam(alg: Algorithm) -> None:
    card = FakeCard(alg, MASTERS)
    provider = PsamCryptogramProvider(PsamClient(FakeChannel(FakePsam())))
    auth = _auth(card, provider)
    auth.internal_authenticate()
    auth.authenticate_read()
    auth.authenticate_update()
    assert card.state == {0x0A, 0x0B}


def test_key_mismatch_fails_both_ways_with_tries_then_blocks() -> None:
    other = {k: bytes(16) for k in MASTERS}
    card = FakeCard(Algorithm.SM4, other)
    auth = _auth(card, SoftwareCryptogramProvider(MASTERS))
    with pytest.raises(CardAuthenticationError) as ie:
        auth.internal_authenticate()
    assert ie.value.code == "card.auth_failed"
    tries = []
    for _ in range(2):
        with pytest.raises(AuthenticationFailedError) as e:
            auth.authenticate_read()
        tries.append(e.value.tries_left)
    assert tries == [2, 1]
    with pytest.raises(KeyBlockedError):
        auth.authenticate_read()
    with pytest.raises(KeyBlockedError):
        auth.authenticate_read()


def test_no_challenge_and_unknown_kid() -> None:
    card = FakeCard(Algorithm.TDES, MASTERS)
    channel = FakeChannel(card)
    # An EXTERNAL AUTHENTICATE without GET CHALLENGE first: 6984 is typed.
    resp = channel.transmit(CommandApdu(0x00, 0x82, 0x00, 0x0A, bytes(8)))
    assert resp.sw == 0x6984
    card.challenge = None
    real = channel.handler

    def drop_challenge(c: CommandApdu) -> ResponseApdu:
        r = real(c)
        if c.ins == 0x84:
            card.challenge = None
        return r

    channel.handler = drop_challenge
    auth = CardAuthenticator(
        channel,
        SoftwareCryptogramProvider(MASTERS),
        algorithm=Algorithm.TDES,
        card_factor=card_factor_from_id(CARD_ID),
    )
    with pytest.raises(ChallengeMissingError):
        auth.authenticate_read()
    channel.handler = real
    with pytest.raises(StatusWordError) as e:
        auth.external_authenticate(0x07, KeyUsage.UK)
    assert e.value.sw == 0x6A88


def test_algorithm_choice() -> None:
    assert algorithm_from_fci(H("6F0A840253539F0C03860104")) is Algorithm.SM4
    assert algorithm_from_fci(H("9F0C03860101")) is Algorithm.TDES
    assert algorithm_from_fci(H("9F0C038601")) is None
    assert algorithm_from_fci(None) is None
    assert card_algorithm("3.00") is Algorithm.SM4
    assert card_algorithm("2.00") is Algorithm.TDES
    assert card_algorithm("3.00", H("9F0C03860101")) is Algorithm.TDES


def test_without_a_psam_the_driver_says_so() -> None:
    access, auth = open_card_access(
        FakeChannel(FakeCard(Algorithm.SM4, MASTERS)), None, card_id=CARD_ID, spec_version="3.00"
    )
    assert auth is None and not access.read_authenticated
    assert "no PSAM" in access.note and "EF05" in access.note


def test_open_card_access_with_provider() -> None:
    card = FakeCard(Algorithm.SM4, MASTERS)
    access, auth = open_card_access(
        FakeChannel(card), SoftwareCryptogramProvider(MASTERS), card_id=CARD_ID, spec_version="3.00"
    )
    assert access.internal_authenticated and access.read_authenticated and auth is not None
    assert card.state == {0x0A}


TAK_TEST = diversify(Algorithm.SM4, MASTERS[(KeyUsage.TAK, Algorithm.SM4)], b"\0\0" + TERMINAL)


def _policy(tak: bytes, **kw: object) -> TrustPolicy:
    return TrustPolicy(
        production=True,
        tak=tak,
        tak_kcv=key_check_value(Algorithm.SM4, tak),
        **kw,  # type: ignore[arg-type]
    )


def test_production_accepts_a_psam_that_proves_the_tak() -> None:
    psam = PsamClient(FakeChannel(FakePsam()))
    info = verify_psam(psam, _policy(TAK_TEST), reader_name="R 01", atr=b"\x3b")
    assert info.terminal_number == "410100813475"


def test_production_refuses_a_psam_with_copied_name_and_atr() -> None:
    production_tak = H("00112233445566778899AABBCCDDEEFF")
    psam = PsamClient(FakeChannel(FakePsam()))
    policy = _policy(production_tak, trusted_readers=("R 01",), trusted_atrs=(b"\x3b",))
    with pytest.raises(PsamUntrustedError) as e:
        verify_psam(psam, policy, reader_name="R 01", atr=b"\x3b")
    assert e.value.code == "card.psam_untrusted"


def test_production_policy_errors() -> None:
    psam = PsamClient(FakeChannel(FakePsam()))
    with pytest.raises(PsamUntrustedError, match="trusted reader"):
        verify_psam(psam, _policy(TAK_TEST, trusted_readers=("X",)), reader_name="R", atr=b"")
    with pytest.raises(PsamUntrustedError, match="ATR"):
        verify_psam(psam, _policy(TAK_TEST, trusted_atrs=(b"\1",)), reader_name="R", atr=b"\2")
    with pytest.raises(PsamUntrustedError, match="credential"):
        verify_psam(psam, TrustPolicy(production=True), reader_name="R", atr=b"")
    bad_kcv = TrustPolicy(production=True, tak=TAK_TEST, tak_kcv=b"\0\0\0")
    with pytest.raises(PsamUntrustedError, match="check value"):
        verify_psam(psam, bad_kcv, reader_name="R", atr=b"")
    no_tak_key = PsamClient(FakeChannel(FakePsam(masters={})))
    with pytest.raises(PsamUntrustedError, match="cannot prove"):
        verify_psam(no_tak_key, _policy(TAK_TEST), reader_name="R", atr=b"")
    # Demo mode only needs a PSAM that answers.
    assert verify_psam(psam, TrustPolicy(production=False), reader_name="R", atr=b"").key_version


def test_find_vpcd(tmp_path: Path) -> None:
    lib = tmp_path / "libifdvpcd.so"
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "other").write_text("LIBPATH /usr/lib/pcsc/drivers/ifd-ccid.bundle\n")
    assert find_vpcd([lib], [conf]) == []
    lib.write_bytes(b"")
    (conf / "virtual").write_text("LIBPATH /usr/lib/pcsc/drivers/serial/libifdvpcd.so\n")
    assert find_vpcd([lib], [conf, tmp_path / "missing"]) == [str(lib), str(conf / "virtual")]
