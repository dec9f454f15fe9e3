"""One journey per service end to end: the session runner on the real ports, the card emulator
behind pcscd, the scanner on a pty, a generated camera stream, mosquitto and the central. Each
test runs the journey file (the same the CLI and the demo run) and checks what the central
recorded."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

import pytest

from central.contributions import NoContributionDueError, contribution_due
from central.storage import Storage
from drivers.card.emulator import read_profile
from drivers.fingerprint.emulator.fingers import finger_template
from kiosk.journeys.live import run_journey
from kiosk.journeys.rig import EmulatedHardware
from kiosk.journeys.runner import JourneyResult
from kiosk.journeys.spec import load_journey
from tests.fixtures.journeys import JourneyStack


def run(stack: JourneyStack, rig: EmulatedHardware, name: str) -> JourneyResult:
    """Run journey `name`; fail with its whole masked transcript when it did not go as written."""
    lines: list[str] = []
    result = run_journey(load_journey(name), rig, stack.backend(), say=lines.append)
    assert result.ok, "\n".join([*lines, *result.problems])
    transcript = "\n".join(lines)
    declared = read_profile(load_journey(name).card)
    for secret in ("id_number", "card_number", "name", "pin"):
        value = str(getattr(declared, secret, "") or "")
        if len(value) >= 4:
            assert value not in transcript, f"{secret} shown unmasked"
    return result


def wait_for(what: str, check: Callable[[], bool], timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"{what} within {timeout_s} s"
        time.sleep(0.1)


def holder_id(profile: str) -> str:
    return str(read_profile(profile).id_number)  # type: ignore[union-attr]


def events_of(stack: JourneyStack, kind: str) -> list[str]:
    """Payloads (JSON text) of the business events of `kind` the central applied."""
    rows = stack.query("SELECT data FROM event_receipts WHERE kind = ?", (kind,))
    return [str(r[0]) for r in rows]


def test_inquiry(journey_stack: JourneyStack, terminal: EmulatedHardware) -> None:
    result = run(journey_stack, terminal, "query")
    views = [v for s in result.steps for v in s.views if v.screen == "inquiry"]
    assert max(v.rows for v in views) >= 1
    # the session's statistics reached the central: the inquiry completed
    wait_for(
        "session_stats at the central", lambda: bool(events_of(journey_stack, "session_stats"))
    )
    assert any(
        '"inquiry"' in e and "completed" in e for e in events_of(journey_stack, "session_stats")
    )


def test_certificate(journey_stack: JourneyStack, terminal: EmulatedHardware) -> None:
    result = run(journey_stack, terminal, "certificate")
    shown = next(v for s in result.steps for v in s.views if v.screen == "certificate")
    code = shown.text.split("qr=", 1)[1].split(" ", 1)[0].rstrip("}")
    assert len(code) == 19 and code.count("-") == 3  # the verification code, as a QR
    rows = journey_stack.query("SELECT 1 FROM certificates WHERE verification_code = ?", (code,))
    assert rows, "the central issued and keeps that certificate"


def test_utility_payment_charged_once(
    journey_stack: JourneyStack, terminal: EmulatedHardware
) -> None:
    id_number = holder_id("ssc3")
    before = journey_stack.wallet_cents(id_number)
    run(journey_stack, terminal, "payment")
    rows = journey_stack.query(
        "SELECT amount_cents FROM payments WHERE id_number = ? AND state = 'accepted'",
        (id_number,),
    )
    assert len(rows) == 1
    assert journey_stack.wallet_cents(id_number) == before - int(str(rows[0][0]))
    paid = journey_stack.query(
        "SELECT status FROM bills WHERE account_number = '319202140048' AND status = 'paid'"
        " AND paid_key IS NOT NULL"
    )
    assert len(paid) == 1


def test_activation_writes_the_card_and_confirms(
    journey_stack: JourneyStack, terminal: EmulatedHardware
) -> None:
    id_number = holder_id("ssc3")
    # An older enrolment of the same finger (the module matches it) with other bytes: after
    # the journey the central must hold the template enrolled on site instead.
    fresh = finger_template("f03")
    stale = fresh[:12] + bytes(b ^ 0x5A for b in fresh[12:])
    with Storage(journey_stack.central_config.storage.url) as db, db.transaction() as tx:
        tx.execute(
            "UPDATE persons SET finger_template = ? WHERE id_number = ?", (stale, id_number)
        )
    run(journey_stack, terminal, "activation")
    held = journey_stack.query(
        "SELECT finger_template FROM persons WHERE id_number = ?", (id_number,)
    )
    assert bytes(held[0][0]) == fresh != stale  # type: ignore[call-overload]
    enrolled = journey_stack.query(
        "SELECT data FROM affairs WHERE kind = 'fingerprint_enroll' AND id_number = ?",
        (id_number,),
    )
    assert len(enrolled) == 1 and hashlib.sha256(fresh).hexdigest() in str(enrolled[0][0])
    assert str(fresh.hex()) not in str(enrolled[0][0])  # the record keeps the digest only
    wait_for(
        "the activation confirmed at the central",
        lambda: bool(
            journey_stack.query(
                "SELECT 1 FROM activations WHERE id_number = ? AND state = 'confirmed'",
                (id_number,),
            )
        ),
    )
    consents = events_of(journey_stack, "consent")
    assert any('"given"' in c for c in consents)
    assert not any(word in c for c in consents for word in ("photo", "template", "image"))


def test_flexible_contribution(journey_stack: JourneyStack, terminal: EmulatedHardware) -> None:
    run(journey_stack, terminal, "flexible_contribution")
    rows = journey_stack.query(
        "SELECT amount_cents, reference FROM payments WHERE id_number = ?"
        " AND purpose = 'contribution' AND state = 'accepted'",
        (holder_id("ssc2"),),
    )
    assert len(rows) == 1 and int(str(rows[0][0])) > 0
    # the amount charged is the central's quote for that period, not the kiosk's arithmetic
    # (computed as the quote does; `contribution_due` itself now says the month is paid)
    rate = journey_stack.central_config.ledger.flexible_pension_rate_permille
    base = journey_stack.query(
        "SELECT base_cents FROM contributions WHERE id_number = ? AND insurance = 'pension'"
        " AND period <= ? ORDER BY period DESC LIMIT 1",
        (holder_id("ssc2"), str(rows[0][1])),
    )
    assert int(str(rows[0][0])) == (int(str(base[0][0])) * rate + 500) // 1000
    with (
        Storage(journey_stack.central_config.storage.url) as db,
        pytest.raises(NoContributionDueError, match="already_paid"),
    ):
        contribution_due(db, holder_id("ssc2"), str(rows[0][1]), rate)
    # The same month again at the kiosk: the quote says it is paid, no payment is offered.
    wallet = journey_stack.wallet_cents(holder_id("ssc2"))
    run(journey_stack, terminal, "contribution_already_paid")
    again = journey_stack.query(
        "SELECT state FROM payments WHERE id_number = ? AND purpose = 'contribution'",
        (holder_id("ssc2"),),
    )
    assert again == [("accepted",)] and journey_stack.wallet_cents(holder_id("ssc2")) == wallet


def test_applications_and_registrations_delivered_once(
    journey_stack: JourneyStack, terminal: EmulatedHardware
) -> None:
    run(journey_stack, terminal, "employment_certificate")
    run(journey_stack, terminal, "unemployment_registration")
    run(journey_stack, terminal, "training")
    wait_for("the application", lambda: len(events_of(journey_stack, "application")) == 1)
    wait_for("the registrations", lambda: len(events_of(journey_stack, "registration")) == 2)
    registrations = events_of(journey_stack, "registration")
    assert any("unemployment_registration" in r for r in registrations)
    assert any('"training"' in r and "course_id" in r for r in registrations)


def test_pin_change(journey_stack: JourneyStack, terminal: EmulatedHardware) -> None:
    result = run(journey_stack, terminal, "pin_change")
    assert any(v.title == "result.pin_changed" for s in result.steps for v in s.views)


def test_loss_report_then_cancel(journey_stack: JourneyStack, terminal: EmulatedHardware) -> None:
    card = str(read_profile("ssc2").card_number)  # type: ignore[union-attr]

    def state() -> str:
        return str(
            journey_stack.query("SELECT state FROM cards WHERE card_number = ?", (card,))[0][0]
        )

    run(journey_stack, terminal, "loss_report")
    assert state() == "temporary_lost"
    run(journey_stack, terminal, "loss_cancel")
    assert state() == "active"


def test_pension_qualification(journey_stack: JourneyStack, terminal: EmulatedHardware) -> None:
    run(journey_stack, terminal, "pension_qualification")
    rows = journey_stack.query(
        "SELECT year FROM pension_qualifications WHERE id_number = ? AND method != 'counter'",
        (holder_id("ssc3_retiree"),),
    )
    assert len(rows) == 1
