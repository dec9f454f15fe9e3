"""Card security through real pcscd + vpcd + the emulator: mutual authentication, its failures.

SM4 on the 3rd-generation profile, 3DES on the 2nd-generation one; the PSAM in slot 1 computes
every cryptogram. Key mismatch (a card from another key set), wrong cryptograms with the key's
try counter, a blocked key, and a 3rd-generation card read without a PSAM.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from drivers.card import reader as pcsc
from drivers.card.crypto import Algorithm
from drivers.card.cryptogram import PsamCryptogramProvider, SoftwareCryptogramProvider
from drivers.card.emulator import PROFILE_DIR, VirtualCard, load_key_set, load_profile
from drivers.card.errors import (
    AuthenticationFailedError,
    CardDataError,
    KeyBlockedError,
    SecurityStatusError,
)
from drivers.card.photo import read_photo
from drivers.card.psam import KeyUsage, PsamClient
from drivers.card.security import (
    CardAccess,
    CardAuthenticationError,
    CardAuthenticator,
    card_factor_from_id,
    make_security_hook,
)
from drivers.card.settings import CardSettings
from drivers.card.ssc import SscApplication
from drivers.card.transport import PcscChannel
from kiosk.config import load_config


def settings_for(reader: str) -> CardSettings:
    """The test profile's [card] settings pointed at one reader."""
    base = load_config(None, profile="test").config.card.driver_settings()
    return dataclasses.replace(base, reader=reader)


@pytest.fixture
def psam_channel(psam_slot: Any) -> Iterator[PcscChannel]:
    """A connection to the test PSAM in slot 1."""
    name = psam_slot.reader_names[1]
    psam_slot.wait_present(1)
    channel = pcsc.connect(name, settings_for(name))
    try:
        yield channel
    finally:
        channel.close()


def insert(service: Any, profile: str | VirtualCard, **overrides: Any) -> PcscChannel:
    """Put a card (or a new card of profile `profile`) in slot 0 and connect to it."""
    card = load_profile(profile, **overrides) if isinstance(profile, str) else profile
    service.card.insert(card)
    service.wait_present(0)
    name = service.reader_names[0]
    return pcsc.connect(name, settings_for(name))


@pytest.mark.parametrize(("profile", "alg"), [("ssc3", Algorithm.SM4), ("ssc2", Algorithm.TDES)])
def test_mutual_authentication_then_holder(
    card_slot: Any, psam_channel: PcscChannel, profile: str, alg: Algorithm
) -> None:
    provider = PsamCryptogramProvider(PsamClient(psam_channel))
    seen: list[CardAccess] = []
    channel = insert(card_slot, profile)
    try:
        ssc = SscApplication(
            channel,
            security_hook=make_security_hook(provider, on_access=lambda a, _: seen.append(a)),
        )
        with channel.transaction():
            holder = ssc.read_holder()
        assert seen[0].algorithm is alg
        assert seen[0].internal_authenticated and seen[0].read_authenticated
        declared = card_slot.card.card.declared
        assert holder.id_number.reveal() == declared["id_number"]
        assert holder.name.reveal() == declared["name"]
        # And the terminal side again, explicitly, on the same selection: UK as well.
        auth = CardAuthenticator(
            channel,
            provider,
            algorithm=alg,
            card_factor=card_factor_from_id(bytes.fromhex(holder.card_id)),
        )
        auth.internal_authenticate()
        auth.authenticate_update()
    finally:
        channel.close()


def test_key_mismatch_fails_internal_authentication(
    card_slot: Any, psam_channel: PcscChannel
) -> None:
    provider = PsamCryptogramProvider(PsamClient(psam_channel))
    channel = insert(card_slot, "ssc3", key_set="foreign")
    try:
        ssc = SscApplication(channel, security_hook=make_security_hook(provider))
        with pytest.raises(CardAuthenticationError) as e:
            ssc.read_holder()
        assert e.value.code == "card.auth_failed"
        # The card was checked first, so no EXTERNAL AUTHENTICATE was tried with the wrong
        # keys: the citizen's card lost no try of its read key.
        assert card_slot.card.card.key_tries == {0x0A: 3, 0x0B: 3}
    finally:
        channel.close()


def test_wrong_cryptogram_counts_tries_then_blocks(card_slot: Any) -> None:
    # The terminal's keys do not match the card's (a foreign key set), so each EXTERNAL
    # AUTHENTICATE is wrong: 63C2, 63C1, 63C0, then the key is blocked (6983) and stays so.
    wrong = SoftwareCryptogramProvider(
        {(u, a): bytes([0x5A]) * 16 for u in KeyUsage for a in Algorithm}
    )
    channel = insert(card_slot, "ssc3")
    try:
        ssc = SscApplication(channel)
        issuer = ssc.read_issuer()
        auth = CardAuthenticator(
            channel, wrong, algorithm=Algorithm.SM4, card_factor=card_factor_from_id(issuer.card_id)
        )
        tries = []
        for _ in range(3):
            with pytest.raises(AuthenticationFailedError) as e:
                auth.authenticate_read()
            tries.append(e.value.tries_left)
        assert tries == [2, 1, 0]
        with pytest.raises(KeyBlockedError):
            auth.authenticate_read()
    finally:
        channel.close()


def test_third_generation_without_psam_reads_only_ef05(card_slot: Any) -> None:
    channel = insert(card_slot, "ssc3")
    try:
        ssc = SscApplication(channel)
        issuer = ssc.read_issuer()
        assert issuer.generation == 3
        with pytest.raises(SecurityStatusError, match="PSAM"):
            ssc.read_holder()
    finally:
        channel.close()


def test_right_cryptogram_restores_tries_and_a_blocked_key_stays_blocked(
    card_slot: Any, psam_channel: PcscChannel
) -> None:
    # The try counter of a key is the card's: a right cryptogram (from the PSAM) sets it back to
    # 3, three wrong ones block it, and then even the right cryptogram is refused, also after
    # the card was taken out and put back (the counter is in the card's memory, not the session).
    wrong = SoftwareCryptogramProvider(
        {(u, a): bytes([0xA5]) * 16 for u in KeyUsage for a in Algorithm}
    )
    right = PsamCryptogramProvider(PsamClient(psam_channel))
    card = load_profile("ssc3")
    channel = insert(card_slot, card)
    try:
        issuer = SscApplication(channel).read_issuer()
        factor = card_factor_from_id(issuer.card_id)
        bad = CardAuthenticator(channel, wrong, algorithm=Algorithm.SM4, card_factor=factor)
        good = CardAuthenticator(channel, right, algorithm=Algorithm.SM4, card_factor=factor)
        with pytest.raises(AuthenticationFailedError) as e:
            bad.authenticate_read()
        assert e.value.tries_left == 2 and e.value.sw == 0x63C2
        good.authenticate_read()
        tries = []
        for _ in range(3):
            with pytest.raises(AuthenticationFailedError) as e:
                bad.authenticate_read()
            tries.append(e.value.tries_left)
        assert tries == [2, 1, 0]
        with pytest.raises(KeyBlockedError) as blocked:
            good.authenticate_read()
        assert blocked.value.sw == 0x6983 and blocked.value.code == "card.auth_failed"
        good.authenticate_update()  # another key (UK, KID 0B) keeps its own counter
    finally:
        channel.close()
    card_slot.card.remove()
    card_slot.wait_absent(0)
    channel = insert(card_slot, card)  # the same card, powered up again
    try:
        SscApplication(channel).read_issuer()
        good = CardAuthenticator(channel, right, algorithm=Algorithm.SM4, card_factor=factor)
        with pytest.raises(KeyBlockedError):
            good.authenticate_read()
    finally:
        channel.close()


@pytest.mark.parametrize(("profile", "alg"), [("ssc3", Algorithm.SM4), ("ssc2", Algorithm.TDES)])
def test_hsm_provider_replaces_the_psam(card_slot: Any, profile: str, alg: Algorithm) -> None:
    # The `CryptogramProvider` seam: an HSM-style provider holding the test master keys (no
    # PSAM in slot 1 at all) authenticates the emulated card both ways and opens EF06/EF08.
    keys = load_key_set("test").masters
    usages = {KeyUsage.IRK: "irk", KeyUsage.RKSSSE: "rkssse", KeyUsage.UK: "uk"}
    hsm = SoftwareCryptogramProvider(
        {
            (usage, a): bytes.fromhex(keys["sm4" if a is Algorithm.SM4 else "3des"][name])
            for usage, name in usages.items()
            for a in Algorithm
        }
    )
    seen: list[CardAccess] = []
    channel = insert(card_slot, profile)
    try:
        ssc = SscApplication(
            channel, security_hook=make_security_hook(hsm, on_access=lambda a, _: seen.append(a))
        )
        declared = card_slot.card.card.declared
        with channel.transaction():
            holder = ssc.read_holder()
            if declared["photo"]:
                photo = read_photo(channel)
                assert photo.jpeg == (PROFILE_DIR / str(declared["photo"])).read_bytes()
                photo.wipe()
            else:  # EF08 is readable (RKSSSE passed) but blank on this card
                with pytest.raises(CardDataError, match="holds no photo"):
                    read_photo(channel)
        assert seen[0].algorithm is alg and seen[0].internal_authenticated
        assert holder.id_number.reveal() == declared["id_number"]
    finally:
        channel.close()
