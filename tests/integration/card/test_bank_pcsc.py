"""Bank card number through real pcscd + vpcd: PSE and AID, GPO formats 80 and 77, swap step."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from typer.testing import CliRunner

from drivers.card.bank import CardSwappedError, SwapStep, read_bank_card, read_card_identity
from drivers.card.emulator import PROFILE_DIR, load_profile
from kiosk.cli.main import root
from tests.integration.card.test_security_pcsc import insert


def _declared_pan(service: Any) -> str:
    """The PAN the profile in slot 0 declares (an SSC's financial app, or a bank card)."""
    declared = service.card.card.declared
    fin = declared.get("financial")
    return str(fin.pan if fin is not None else declared["pan"])


def _financial(profile: str, **changes: Any) -> dict[str, Any]:
    """The profile file's financial application, with some fields changed."""
    data = json.loads((PROFILE_DIR / f"{profile}.json").read_text(encoding="utf-8"))
    return {**data["financial"], **changes}


# Both GPO answer formats (80, 77), each found through the PSE and by AID, on the SSC's own
# financial application and on a separate bank card; the PAN from tag 5A or from track 2 (57).
@pytest.mark.parametrize(
    ("profile", "gpo_format", "records", "route"),
    [
        ("ssc3_financial", 1, "pan", "pse"),
        ("ssc3_financial", 1, "track2", "aid"),
        ("ssc3_financial", 2, "track2", "pse"),
        ("ssc3_financial", 2, "pan", "aid"),
        ("bank_card", 1, "track2", "pse"),
        ("bank_card", 1, "pan", "aid"),
        ("bank_card", 2, "pan", "pse"),
        ("bank_card", 2, "track2", "aid"),
        ("bank_card", 2, "both", "no_pse"),  # the card has no PSE: the AID list finds it
    ],
)
def test_bank_number(
    card_slot: Any,
    caplog: pytest.LogCaptureFixture,
    profile: str,
    gpo_format: int,
    records: str,
    route: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    financial = _financial(profile, gpo_format=gpo_format, records=records, pse=route != "no_pse")
    channel = insert(card_slot, profile, financial=financial)
    try:
        bank = read_bank_card(channel, use_pse=route != "aid")
    finally:
        channel.close()
    pan = _declared_pan(card_slot)
    assert bank.pan.reveal() == pan
    assert pan not in str(bank) and pan not in repr(bank)
    assert pan not in caplog.text and pan[-4:] in caplog.text  # logged, masked, APDUs traced
    assert bank.found_by == ("pse" if route == "pse" else "aid")
    assert bank.gpo_format == gpo_format
    assert bank.aid == bytes.fromhex("A000000333010101")


def test_swap_step_same_card_required_another_refused(card_slot: Any) -> None:
    ssc = load_profile("ssc3_financial")
    channel = insert(card_slot, ssc)
    try:
        first = read_card_identity(channel, channel.atr)
        step = SwapStep(first)
        step_atr, step_card_id = first.atr, first.card_id
    finally:
        channel.close()
    # SSC out, bank card in: read it in the same reader.
    card_slot.card.remove()
    card_slot.wait_absent(0)
    channel = insert(card_slot, "bank_card")
    try:
        step.record_bank_card(read_bank_card(channel))
        # A bank card is not the SSC coming back early.
        with pytest.raises(CardSwappedError):
            step.check_return(None)
    finally:
        channel.close()
    assert step.bank_card is not None
    card_slot.card.remove()
    card_slot.wait_absent(0)
    # Another social security card is refused: one of another batch (another ATR), and one of
    # the same batch (the SSC's ATR, another card identification code).
    for other in (
        load_profile("ssc3"),
        load_profile("ssc3_financial", card_serial="00BF7C7A48FB4999"),
    ):
        channel = insert(card_slot, other)
        try:
            identity = read_card_identity(channel, channel.atr)
            with pytest.raises(CardSwappedError):
                step.check_return(identity)
        finally:
            channel.close()
        card_slot.card.remove()
        card_slot.wait_absent(0)
    assert identity.atr == step_atr and identity.card_id != step_card_id
    # ...the same one is accepted.
    channel = insert(card_slot, ssc)
    try:
        step.check_return(read_card_identity(channel, channel.atr))
    finally:
        channel.close()


def test_cli_bank_masked_unless_reveal(card_slot: Any) -> None:
    insert(card_slot, "bank_card").close()
    pan = _declared_pan(card_slot)
    runner = CliRunner()
    masked = runner.invoke(root, ["--profile", "test", "card", "bank", "--timeout", "5"])
    assert masked.exit_code == 0, masked.output
    assert pan not in masked.output and pan[:6] in masked.output and pan[-4:] in masked.output
    shown = runner.invoke(root, ["--profile", "test", "card", "bank", "--reveal", "--timeout", "5"])
    assert shown.exit_code == 0 and pan in shown.output
