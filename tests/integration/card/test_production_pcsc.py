"""Production trust through real pcscd + vpcd: the emulated PSAM is refused even with copied pins.

A provisioned terminal trusts a PSAM only if it proves the terminal's TAK (docs §6). The
emulated PSAM holds test keys only, so a terminal with a production TAK refuses it, whatever
reader name and ATR the terminal pins; the production check also fails while vpcd is installed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from drivers.card.crypto import Algorithm, diversify, key_check_value
from drivers.card.emulator import load_key_set
from drivers.card.psam import PsamClient, PsamUntrustedError
from drivers.card.security import TrustPolicy, verify_psam
from drivers.card.transport import PcscChannel
from kiosk.cli.main import root
from tests.integration.card import test_security_pcsc as sec
from tests.integration.card.test_security_pcsc import insert

psam_channel = sec.psam_channel  # the fixture, shared with the other security tests

# A stand-in for the province's production TAK: not derived from any test master key.
PRODUCTION_TAK = bytes.fromhex("8E3B1F0A9C4D7E26B5A1F3C8D2E4A6B0")


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
