"""The hall's other devices in the citizen journeys, end to end: the card emulator behind the
real pcscd, the ID card reader and the receipt printer emulators on real pseudo-terminals, a
QR video as the camera's file source, mosquitto and the real central. Each test runs the
journey file (the same `kiosk journey` runs) and checks the paper (the printer emulator's
decoded text) or what the central recorded."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from central.essc import EsscAuthority
from central.storage import Storage
from kiosk.journeys.rig import EmulatedHardware
from tests.fixtures.journeys import LOST_CARD, JourneyStack
from tests.fixtures.pcscd import PcscdService
from tests.integration.journeys.test_journeys import events_of, holder_id, run, wait_for


class CentralIssuer:
    """The national platform's part, played by the reference central's key and database."""

    def __init__(self, stack: JourneyStack) -> None:
        self.url = stack.central_config.storage.url
        self.issued: list[str] = []

    def issue(self, kind: str, id_number: str, terminal_id: str) -> str:
        with Storage(self.url) as db:
            if kind == "lost":
                row = db.one("SELECT id_number FROM cards WHERE card_number = ?", (LOST_CARD,))
                assert row is not None
                id_number = str(row[0])
            if kind == "expired":
                past = EsscAuthority.load(None, clock=lambda: time.time() - 600)
                code = past.issue(db, id_number, ttl_s=60)
            else:
                authority = EsscAuthority.load(None)
                bound = "SSK-OTHER-0001" if kind == "other_terminal" else None
                code = authority.issue(db, id_number, ttl_s=120, terminal_id=bound)
                if kind == "replayed":
                    authority.redeem(db, terminal_id, code)  # the code was used once already
                if kind == "forged":
                    head, _, signature = code.rpartition(".")
                    code = f"{head}.{signature[::-1]}"
        self.issued.append(code)
        return code


@pytest.fixture
def hall(
    journey_stack: JourneyStack, pcscd: PcscdService, tmp_path: Path
) -> Iterator[EmulatedHardware]:
    """The emulated terminal with the e-SSC issuer (the ID card reader and the printer are
    attached per journey, as its file says)."""
    rig = EmulatedHardware(
        journey_stack.config,
        tmp_path / "rig",
        readers=pcscd,
        network=journey_stack,
        essc=CentralIssuer(journey_stack),
    )
    rig.start()
    try:
        yield rig
    finally:
        rig.stop()


def _stats(stack: JourneyStack) -> list[dict[str, object]]:
    return [json.loads(e) for e in events_of(stack, "session_stats")]


# --------------------------------------------------------------------------- printing


def test_payment_receipt_printed(journey_stack: JourneyStack, hall: EmulatedHardware) -> None:
    run(journey_stack, hall, "print_receipt")
    (paper,) = hall.printed()
    receipt_no = journey_stack.query(
        "SELECT receipt_no FROM payments WHERE id_number = ? AND state = 'accepted'",
        (holder_id("ssc3"),),
    )
    assert receipt_no, "the central accepted the payment"
    reference = str(receipt_no[-1][0])
    assert reference in paper and f"[QR {reference}]" in paper  # the reference and its QR
    assert holder_id("ssc3") not in paper


def test_statement_printed(journey_stack: JourneyStack, hall: EmulatedHardware) -> None:
    run(journey_stack, hall, "print_statement")
    (paper,) = hall.printed()
    assert "社会保险缴费明细" in paper and "养老保险" in paper
    rows = journey_stack.query(
        "SELECT COUNT(*) FROM contributions WHERE id_number = ? AND insurance = 'pension'",
        (holder_id("ssc3"),),
    )
    assert int(str(rows[0][0])) > 0
    months = [line for line in paper.splitlines() if line[:4].isdigit() and line[4:5] == "-"]
    assert months, "the statement lists the months shown on the screen"


def test_printer_failing_mid_document_offers_the_qr(
    journey_stack: JourneyStack, hall: EmulatedHardware
) -> None:
    result = run(journey_stack, hall, "print_failure")
    shown = next(
        v for s in result.steps for v in s.views if v.screen == "certificate" and v.error
    )
    code = shown.text.split("qr=", 1)[1].split(" ", 1)[0].rstrip("}")
    assert journey_stack.query(
        "SELECT 1 FROM certificates WHERE verification_code = ?", (code,)
    ), "the QR shows the certificate's verification code"
    papers = hall.printed()
    assert papers and code not in papers[-1]  # the paper ran out before the code
    wait_for(
        "the failed print in the session's statistics",
        lambda: any(s.get("print_failed") == 1 for s in _stats(journey_stack)),
    )


def test_printer_cover_open_is_said_plainly_and_nothing_prints(
    journey_stack: JourneyStack, hall: EmulatedHardware
) -> None:
    before = len(hall.printed())
    result = run(journey_stack, hall, "print_cover_open")
    shown = next(
        v for s in result.steps for v in s.views if v.screen == "certificate" and v.error
    )
    assert "printer.cover_open" in shown.text and "print.failed.cover_open" in shown.text
    assert len(hall.printed()) == before  # refused before a byte was sent


# --------------------------------------------------------------------------- the ID card


def test_activation_with_the_holders_id_card(
    journey_stack: JourneyStack, hall: EmulatedHardware
) -> None:
    run(journey_stack, hall, "activation_id_card")
    wait_for(
        "the activation confirmed at the central",
        lambda: bool(
            journey_stack.query(
                "SELECT 1 FROM activations WHERE id_number = ? AND state = 'confirmed'",
                (holder_id("ssc3_retiree"),),
            )
        ),
        timeout_s=30,
    )


@pytest.mark.parametrize("name", ["activation_id_card_mismatch", "activation_id_card_expired"])
def test_activation_stopped_by_the_id_card(
    journey_stack: JourneyStack, hall: EmulatedHardware, name: str
) -> None:
    before = journey_stack.query("SELECT COUNT(*) FROM activations")
    run(journey_stack, hall, name)
    assert journey_stack.query("SELECT COUNT(*) FROM activations") == before  # nothing started


# --------------------------------------------------------------------------- e-SSC


def test_essc_login_and_query(journey_stack: JourneyStack, hall: EmulatedHardware) -> None:
    run(journey_stack, hall, "essc_query")
    assert isinstance(hall.essc, CentralIssuer)
    assert len(hall.essc.issued) == 1  # one code shown to the camera, redeemed once
    used = journey_stack.query(
        "SELECT used_by FROM essc_codes WHERE id_number = ? AND used_at IS NOT NULL",
        (holder_id("ssc3"),),
    )
    assert used and str(used[-1][0]) == journey_stack.config.terminal.id
    wait_for(
        "an e-SSC session in the statistics",
        lambda: any(s.get("login") == "essc" for s in _stats(journey_stack)),
    )


@pytest.mark.parametrize("name", ["essc_expired", "essc_replayed", "essc_lost"])
def test_essc_refused(journey_stack: JourneyStack, hall: EmulatedHardware, name: str) -> None:
    run(journey_stack, hall, name)
