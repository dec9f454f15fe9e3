"""Production trust through real pcscd + vpcd: the emulated PSAM is refused even with copied pins.

A provisioned terminal trusts a PSAM only if it proves the terminal's TAK (docs/card-security.md
§6). The
emulated PSAM holds test keys only, so a terminal with a production TAK refuses it, whatever
reader name and ATR the terminal pins, even when pcscd lists the emulator under a production
reader's name and the emulated PSAM answers a production PSAM's ATR; the production check also
fails while vpcd is installed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from drivers.card import reader as pcsc
from drivers.card.crypto import Algorithm, diversify, key_check_value
from drivers.card.emulator import load_key_set, load_profile
from drivers.card.emulator.harness import FRIENDLY_NAME
from drivers.card.psam import PsamClient, PsamUntrustedError
from drivers.card.security import TrustPolicy, verify_psam
from drivers.card.transport import PcscChannel
from kiosk.cli.main import root
from tests.integration.card import test_security_pcsc as sec
from tests.integration.card.test_security_pcsc import insert, settings_for

psam_channel = sec.psam_channel  # the fixture, shared with the other security tests

# A stand-in for the province's production TAK: not derived from any test master key.
PRODUCTION_TAK = bytes.fromhex("8E3B1F0A9C4D7E26B5A1F3C8D2E4A6B0")
# What an attacker copies from a production terminal: its reader's PC/SC name (pcscd adds the
# slot suffix " 00 0x") and its PSAM's ATR, both visible to anyone with pcsc_scan.
PRODUCTION_READER = "ACS ACR39U ICC Reader"
PRODUCTION_PSAM_ATR = bytes.fromhex("3B6C0000804543414D50534D3130313031")


def _emulated_tak(terminal_number: str) -> bytes:
    master = bytes.fromhex(load_key_set("test").masters["sm4"]["tak"])
    return diversify(Algorithm.SM4, master, b"\0\0" + bytes.fromhex(terminal_number))


def _pinned(tak: bytes, reader: str, atr: bytes) -> TrustPolicy:
    return TrustPolicy(
        production=True,
        tak_algorithm=Algorithm.SM4,
        tak=tak,
        tak_kcv=key_check_value(Algorithm.SM4, tak),
        trusted_readers=(reader,),
        trusted_atrs=(atr,),
    )


def test_emulated_psam_refused_even_with_its_exact_name_and_atr(
    psam_slot: Any, psam_channel: PcscChannel
) -> None:
    reader, atr = psam_slot.reader_names[1], psam_channel.atr
    psam = PsamClient(psam_channel)
    with pytest.raises(PsamUntrustedError) as e:
        verify_psam(psam, _pinned(PRODUCTION_TAK, reader, atr), reader_name=reader, atr=atr)
    assert e.value.code == "card.psam_untrusted"
    # The same check passes for the key the emulated PSAM really holds: the proof is real.
    tak = _emulated_tak(psam.terminal_number())
    info = verify_psam(psam, _pinned(tak, reader, atr), reader_name=reader, atr=atr)
    assert info.terminal_number == psam.terminal_number()


@pytest.fixture
def production_env(psam_slot: Any, tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment of a production terminal pinned to the emulated PSAM's name and ATR."""
    creds = tmp_path / "credentials"
    creds.mkdir()
    (creds / "psam-tak").write_text(PRODUCTION_TAK.hex().upper() + "\n")
    psam_slot.wait_present(1)
    atr = psam_slot.psam.card.atr.hex().upper()
    yield {
        "CREDENTIALS_DIRECTORY": str(creds),
        "KIOSK__TERMINAL__MODE": "production",
        "KIOSK__PSAM__TAK_KCV": key_check_value(Algorithm.SM4, PRODUCTION_TAK).hex(),
        "KIOSK__PSAM__TRUSTED_READERS": json.dumps([psam_slot.reader_names[1]]),
        "KIOSK__PSAM__TRUSTED_ATRS": json.dumps([atr]),
    }


def test_cli_production_terminal_refuses_the_emulated_psam(
    production_env: dict[str, str], psam_slot: Any
) -> None:
    runner = CliRunner()
    result = runner.invoke(root, ["--profile", "test", "card", "psam"], env=production_env)
    assert result.exit_code == 7, result.output
    assert "card.psam_untrusted" in result.output
    # A holder read is refused too: no card data without a trusted PSAM.
    insert(psam_slot, "ssc3").close()
    read = runner.invoke(
        root, ["--profile", "test", "card", "read", "--timeout", "5"], env=production_env
    )
    assert read.exit_code != 0
    assert psam_slot.card.card.declared["name"] not in read.output


def test_cli_check_production_fails_with_vpcd_and_demo(
    production_env: dict[str, str], pcscd: Any
) -> None:
    runner = CliRunner()
    result = runner.invoke(
        root, ["--profile", "test", "card", "check-production"], env=production_env
    )
    assert result.exit_code == 1
    assert "FAIL  vpcd" in result.output
    assert "PASS  mode" in result.output and "PASS  tak " in result.output
    demo = runner.invoke(root, ["--profile", "test", "card", "check-production"])
    assert demo.exit_code == 1 and "FAIL  mode" in demo.output


def test_cli_psam_demo_shows_terminal_number_and_algorithms(psam_slot: Any) -> None:
    psam_slot.wait_present(1)
    result = CliRunner().invoke(root, ["--profile", "test", "card", "psam"])
    assert result.exit_code == 0, result.output
    assert psam_slot.psam.card.declared["terminal_number"] in result.output
    assert "3DES, SM4" in result.output


@pytest.fixture
def disguised(pcscd: Any, tmp_path: Path) -> Iterator[Any]:
    """pcscd lists the emulator under the production reader's name; the emulated PSAM (test
    keys) answers the production PSAM's ATR. Afterwards: the usual names, slots empty."""
    pcscd.friendly_name = PRODUCTION_READER
    try:
        pcscd.restart()
        pcscd.psam.insert(load_profile("psam", atr=PRODUCTION_PSAM_ATR.hex().upper()))
        pcscd.wait_present(1)
        yield pcscd
    finally:
        pcscd.friendly_name = FRIENDLY_NAME
        pcscd.card.remove()
        pcscd.psam.remove()
        pcscd.restart()


def test_production_refuses_the_emulated_psam_disguised_as_a_production_one(
    disguised: Any, tmp_path: Path
) -> None:
    card_reader, psam_reader = disguised.reader_names
    assert psam_reader == f"{PRODUCTION_READER} 00 01"
    assert pcsc.list_readers()[:2] == [card_reader, psam_reader]
    channel = pcsc.connect(psam_reader, settings_for(psam_reader))
    try:
        assert channel.atr == PRODUCTION_PSAM_ATR  # the copy is perfect...
        psam = PsamClient(channel)
        policy = _pinned(PRODUCTION_TAK, psam_reader, PRODUCTION_PSAM_ATR)
        with pytest.raises(PsamUntrustedError) as e:
            verify_psam(psam, policy, reader_name=psam_reader, atr=channel.atr)
        # ...and refused for the one thing it cannot copy: the TAK proof.
        assert "did not prove the terminal's production key" in e.value.message
    finally:
        channel.close()
    creds = tmp_path / "credentials"
    creds.mkdir()
    (creds / "psam-tak").write_text(PRODUCTION_TAK.hex() + "\n")
    env = {
        "CREDENTIALS_DIRECTORY": str(creds),
        "KIOSK__TERMINAL__MODE": "production",
        "KIOSK__PSAM__TAK_KCV": key_check_value(Algorithm.SM4, PRODUCTION_TAK).hex().upper(),
        "KIOSK__PSAM__READER": psam_reader,
        "KIOSK__PSAM__TRUSTED_READERS": json.dumps([psam_reader]),
        "KIOSK__PSAM__TRUSTED_ATRS": json.dumps([PRODUCTION_PSAM_ATR.hex().upper()]),
    }
    runner = CliRunner()
    result = runner.invoke(root, ["--profile", "test", "card", "psam"], env=env)
    assert result.exit_code == 7, result.output
    assert "card.psam_untrusted" in result.output
    assert "did not prove the terminal's production key" in result.output
    # A 2nd-generation card, readable without any key, is still not read by this terminal.
    insert(disguised, "ssc2").close()
    read = runner.invoke(
        root,
        ["--profile", "test", "card", "read", "--reader", card_reader, "--timeout", "5"],
        env=env,
    )
    assert read.exit_code != 0 and "card.psam_untrusted" in read.output
    assert disguised.card.card.declared["name"] not in read.output


def test_production_with_the_psam_switched_off_reads_nothing(card_slot: Any) -> None:
    insert(card_slot, "ssc2").close()
    env = {"KIOSK__TERMINAL__MODE": "production", "KIOSK__PSAM__ENABLED": "false"}
    read = CliRunner().invoke(
        root, ["--profile", "test", "card", "read", "--timeout", "5"], env=env
    )
    assert read.exit_code != 0 and "card.psam_untrusted" in read.output
    assert card_slot.card.card.declared["name"] not in read.output
    assert card_slot.card.card.declared["id_number"][:6] not in read.output


def test_cli_production_with_a_proved_psam_authenticates_every_card(
    psam_slot: Any, tmp_path: Path
) -> None:
    # A terminal provisioned for the (test) key set the PSAM really holds: the PSAM proves the
    # TAK, and then a user card is read only after INTERNAL AUTHENTICATE with it, even when the
    # config says `internal_auth = false`; a card of another key set is refused.
    psam_slot.wait_present(1)
    tak = _emulated_tak(str(psam_slot.psam.card.declared["terminal_number"]))
    creds = tmp_path / "credentials"
    creds.mkdir()
    (creds / "psam-tak").write_text(tak.hex())
    env = {
        "CREDENTIALS_DIRECTORY": str(creds),
        "KIOSK__TERMINAL__MODE": "production",
        "KIOSK__PSAM__TAK_KCV": key_check_value(Algorithm.SM4, tak).hex(),
        "KIOSK__PSAM__INTERNAL_AUTH": "false",
    }
    runner = CliRunner()
    insert(psam_slot, "ssc3").close()
    ok = runner.invoke(root, ["--profile", "test", "card", "read", "--timeout", "5"], env=env)
    assert ok.exit_code == 0, ok.output
    # The CLI logs to stderr, which the runner's output holds.
    assert "proved the terminal's TAK" in ok.output
    assert "card passed internal authentication (SM4)" in ok.output
    psam_slot.card.remove()
    psam_slot.wait_absent(0)
    insert(psam_slot, "ssc3", key_set="foreign").close()
    bad = runner.invoke(root, ["--profile", "test", "card", "read", "--timeout", "5"], env=env)
    assert bad.exit_code != 0 and "card.auth_failed" in bad.output
    assert "failed internal authentication" in bad.output  # before any key try was spent
    assert "id_number" not in bad.output
