"""The holder's photo (EF08) through real pcscd + vpcd: after RKSSSE, and via `kiosk card read`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from drivers.card.cryptogram import PsamCryptogramProvider
from drivers.card.emulator import PROFILE_DIR
from drivers.card.errors import SecurityStatusError
from drivers.card.photo import read_photo
from drivers.card.psam import PsamClient
from drivers.card.security import make_security_hook
from drivers.card.ssc import SscApplication
from drivers.card.transport import PcscChannel
from kiosk.cli.main import root
from tests.integration.card import test_security_pcsc as sec
from tests.integration.card.test_security_pcsc import insert

psam_channel = sec.psam_channel  # the fixture, shared with the other security tests


def _profile_photo(service: Any) -> bytes:
    return (PROFILE_DIR / str(service.card.card.declared["photo"])).read_bytes()


def test_photo_after_rkssse_is_the_profile_photo(card_slot: Any, psam_channel: PcscChannel) -> None:
    provider = PsamCryptogramProvider(PsamClient(psam_channel))
    channel = insert(card_slot, "ssc3")
    try:
        ssc = SscApplication(channel, security_hook=make_security_hook(provider))
        with channel.transaction():
            ssc.read_holder()
            photo = read_photo(channel)
        assert photo.jpeg == _profile_photo(card_slot)
        photo.wipe()
        assert len(photo) == 0
    finally:
        channel.close()


def test_photo_without_rkssse_is_refused(card_slot: Any) -> None:
    channel = insert(card_slot, "ssc3")
    try:
        SscApplication(channel).read_issuer()
        with pytest.raises(SecurityStatusError):
            read_photo(channel)
    finally:
        channel.close()


def test_cli_read_saves_the_photo(psam_slot: Any, tmp_path: Path) -> None:
    psam_slot.wait_present(1)
    insert(psam_slot, "ssc3").close()
    out = tmp_path / "holder.jpg"
    result = CliRunner().invoke(
        root, ["--profile", "test", "card", "read", "--photo", str(out), "--timeout", "5"]
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == _profile_photo(psam_slot)
    declared = psam_slot.card.card.declared
    # Masked on the screen: the ID number's middle never shows.
    assert declared["id_number"] not in result.output
    assert declared["id_number"][:3] in result.output


def test_cli_without_psam_shows_what_the_card_allows(card_slot: Any, tmp_path: Path) -> None:
    # No PSAM in slot 1: a 3rd-generation card shows its issuer data (EF05), says plainly why
    # the holder data is missing, and no photo is saved.
    insert(card_slot, "ssc3").close()
    declared = card_slot.card.card.declared
    runner = CliRunner()
    result = runner.invoke(root, ["--profile", "test", "card", "read", "--timeout", "5"])
    assert result.exit_code == 0, result.output
    assert "no PSAM" in result.output and "issuer data" in result.output
    assert f"region       {declared['region']}" in result.output
    assert "not readable without a PSAM" in result.output
    assert declared["card_number"] not in result.output  # masked
    assert "id_number" not in result.output and "birth_date" not in result.output  # no EF06
    out = tmp_path / "holder.jpg"
    photo = runner.invoke(
        root, ["--profile", "test", "card", "read", "--photo", str(out), "--timeout", "5"]
    )
    assert photo.exit_code != 0
    assert "photo needs PSAM authentication" in photo.output
    assert not out.exists()
