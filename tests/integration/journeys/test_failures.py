"""Every failure a citizen can meet, end to end through the emulator, pcscd, mosquitto and the
central: each journey file says what the screen shows; the tests check what the central and
the journal did (charged at most once, compensated, alerted, nothing personal left)."""

from __future__ import annotations

import json

from central.storage import Storage
from drivers.card.emulator import read_profile
from drivers.fingerprint.emulator.fingers import finger_template
from kiosk.journeys.live import LiveTerminal
from kiosk.journeys.rig import EmulatedHardware, profile_secrets
from kiosk.journeys.runner import JourneyRunner
from kiosk.journeys.spec import load_journey
from tests.fixtures.journeys import JourneyStack
from tests.integration.journeys.test_journeys import events_of, holder_id, run, wait_for


def _payments(stack: JourneyStack, id_number: str) -> list[tuple[object, ...]]:
    return stack.query(
        "SELECT payment_key, state, amount_cents FROM payments WHERE id_number = ?", (id_number,)
    )


def test_wrong_pin_shows_the_tries_left(
    journey_stack: JourneyStack, terminal: EmulatedHardware
) -> None:
    result = run(journey_stack, terminal, "wrong_pin")
    shown = [v for s in result.steps for v in s.views if "PIN tries left: 2" in v.details]
    assert shown, "the PIN screen shows the tries left"


def test_blocked_pin(journey_stack: JourneyStack, terminal: EmulatedHardware) -> None:
    run(journey_stack, terminal, "pin_blocked")


def test_expired_card(journey_stack: JourneyStack, terminal: EmulatedHardware) -> None:
    run(journey_stack, terminal, "expired_card")


def test_card_reported_lost(journey_stack: JourneyStack, terminal: EmulatedHardware) -> None:
    run(journey_stack, terminal, "lost_card")


def test_insufficient_balance_charges_nothing(
    journey_stack: JourneyStack, terminal: EmulatedHardware
) -> None:
    id_number = holder_id("ssc2")
    journey_stack.set_wallet_cents(id_number, 1)
    run(journey_stack, terminal, "insufficient_balance")
    assert journey_stack.wallet_cents(id_number) == 1
    assert [(p[1]) for p in _payments(journey_stack, id_number)] == ["declined"]


def test_central_offline(journey_stack: JourneyStack, terminal: EmulatedHardware) -> None:
    run(journey_stack, terminal, "central_offline")


def test_central_down_mid_payment_is_voided_and_charges_nothing(
    journey_stack: JourneyStack, terminal: EmulatedHardware
) -> None:
    """Nobody applied the request: reconciliation asks about the key, the central voids it."""
    id_number = holder_id("ssc3")
    before = journey_stack.wallet_cents(id_number)
    journal = journey_stack.agent.journal
    assert journal is not None
    states = ("sending", "unknown", "accepted", "declined", "void")
    known = {r.payment_key for r in journal.payments(states)}
    run(journey_stack, terminal, "central_down_mid_payment")
    payments = journey_stack.agent.payments
    assert payments is not None
    journey_stack.wait_connected()
    wait_for("the unknown payment reconciled", lambda: payments.open_count() == 0, 30)
    new = [r for r in journal.payments(states) if r.payment_key not in known]
    assert [r.state for r in new] == ["void"]  # asked about, never applied: void for good
    ledger = journey_stack.query(
        "SELECT state FROM payments WHERE payment_key = ?", (new[0].payment_key,)
    )
    assert ledger == [("void",)]
    assert journey_stack.wallet_cents(id_number) == before


def test_broker_lost_after_the_central_charged_is_reconciled_exactly_once(
    journey_stack: JourneyStack, terminal: EmulatedHardware
) -> None:
    """The broker dies between the central's charge and its answer: the kiosk says the
    outcome is unknown, then learns by key that it was charged, once."""
    id_number = holder_id("ssc3")
    before = journey_stack.wallet_cents(id_number)
    known = {p[0] for p in _payments(journey_stack, id_number)}
    journey_stack.lost_answers.clear()
    result = run(journey_stack, terminal, "broker_lost_mid_payment")
    told = [v for s in result.steps for v in s.views if v.error == "payment.unknown"]
    # in the citizen's words (catalog keys: "...You will not be charged twice", what next)
    assert told and "error.payment_unknown" in told[-1].text
    assert "next.payment_unknown" in told[-1].text
    # The central did charge, and its answer was the one the broker's loss swallowed.
    assert len(journey_stack.lost_answers) == 1
    key, answer = journey_stack.lost_answers[0]
    assert answer.ok and answer.result is not None and answer.result["state"] == "accepted"
    payments = journey_stack.agent.payments
    journal = journey_stack.agent.journal
    assert payments is not None and journal is not None
    journey_stack.wait_connected()
    wait_for(
        "the payment reconciled by key",
        lambda: (payments.get(key) or payments.get("-")) is not None
        and payments.get(key).state == "accepted",  # type: ignore[union-attr]
        30,
    )
    row = journal.payment_get(key)
    assert row is not None and row.state == "accepted" and row.result.get("receipt_no")
    new = [p for p in _payments(journey_stack, id_number) if p[0] not in known]
    amount = int(answer.result["amount_cents"])
    assert new == [(key, "accepted", amount)]  # one key, one charge: never sent again
    assert journey_stack.wallet_cents(id_number) == before - amount
    paid = journey_stack.query("SELECT paid_key FROM bills WHERE paid_key = ?", (key,))
    assert len(paid) == 1


def test_card_pulled_during_payment(
    journey_stack: JourneyStack, terminal: EmulatedHardware
) -> None:
    id_number = holder_id("ssc3")
    before = journey_stack.wallet_cents(id_number)
    known = {p[0] for p in _payments(journey_stack, id_number)}
    run(journey_stack, terminal, "card_pulled_during_payment")
    payments = journey_stack.agent.payments
    assert payments is not None
    wait_for("the payment settled", lambda: payments.open_count() == 0, 30)
    new = [p for p in _payments(journey_stack, id_number) if p[0] not in known]
    assert len(new) <= 1
    charged = sum(int(str(p[2])) for p in new if p[1] == "accepted")
    assert journey_stack.wallet_cents(id_number) == before - charged


def test_card_pulled_during_the_card_write_is_compensated(
    journey_stack: JourneyStack, terminal: EmulatedHardware
) -> None:
    run(journey_stack, terminal, "card_pulled_during_write")
    id_number = holder_id("ssc3")
    wait_for(
        "the approval released at the central",
        lambda: bool(
            journey_stack.query(
                "SELECT 1 FROM activations WHERE id_number = ? AND state = 'cancelled'",
                (id_number,),
            )
        ),
    )
    confirmed = journey_stack.query(
        "SELECT 1 FROM activations WHERE id_number = ? AND state = 'confirmed'", (id_number,)
    )
    assert not confirmed  # never half done: no confirmation without the record on the card


def test_face_mismatch(journey_stack: JourneyStack, terminal: EmulatedHardware) -> None:
    run(journey_stack, terminal, "face_mismatch")


def test_liveness_failure(journey_stack: JourneyStack, terminal: EmulatedHardware) -> None:
    run(journey_stack, terminal, "liveness_failure")


def test_fingerprint_unknown(journey_stack: JourneyStack, terminal: EmulatedHardware) -> None:
    run(journey_stack, terminal, "fingerprint_unknown")


def test_consent_refused_records_the_decision_only(
    journey_stack: JourneyStack, terminal: EmulatedHardware
) -> None:
    run(journey_stack, terminal, "consent_refused")
    wait_for(
        "the refusal at the central",
        lambda: any('"refused"' in c for c in events_of(journey_stack, "consent")),
    )
    refused = [json.loads(c) for c in events_of(journey_stack, "consent") if '"refused"' in c]
    assert refused[-1]["service"] == "pension_qualification"


def test_timeout_without_answer(journey_stack: JourneyStack, terminal: EmulatedHardware) -> None:
    run(journey_stack, terminal, "timeout")


def test_card_left_in_the_reader_alerts_staff(
    journey_stack: JourneyStack, terminal: EmulatedHardware
) -> None:
    run(journey_stack, terminal, "card_left")
    wait_for(
        "the staff alert at the central",
        lambda: any("card_left" in a for a in events_of(journey_stack, "staff_alert")),
    )
    alert = json.loads(next(a for a in events_of(journey_stack, "staff_alert") if "card_left" in a))
    assert alert["step"] == "take_card"
    declared = read_profile("ssc3")
    for value in (declared.id_number, declared.card_number, declared.name):  # type: ignore[union-attr]
        assert str(value) not in json.dumps(alert, ensure_ascii=False)


def test_activation_cancelled_at_confirm_keeps_the_central_reference(
    journey_stack: JourneyStack, terminal: EmulatedHardware
) -> None:
    """The new fingerprint waits, unsent, in the identity port for the citizen's Confirm; a
    cancel at the summary wipes it: the central's reference and its enrolment records are as
    they were, no approval was asked for, and the kiosk keeps no template."""
    id_number = holder_id("ssc3")
    fresh = finger_template("f03")
    stale = fresh[:12] + bytes(b ^ 0x5A for b in fresh[12:])  # an older enrolment, same finger
    with Storage(journey_stack.central_config.storage.url) as db, db.transaction() as tx:
        tx.execute("UPDATE persons SET finger_template = ? WHERE id_number = ?", (stale, id_number))

    def recorded() -> tuple[bytes, int, int]:
        held = journey_stack.query(
            "SELECT finger_template FROM persons WHERE id_number = ?", (id_number,)
        )
        enrolments = journey_stack.query(
            "SELECT COUNT(*) FROM affairs WHERE kind = 'fingerprint_enroll' AND id_number = ?",
            (id_number,),
        )
        approvals = journey_stack.query(
            "SELECT COUNT(*) FROM activations WHERE id_number = ?", (id_number,)
        )
        reference = bytes(held[0][0])  # type: ignore[call-overload]
        return reference, int(str(enrolments[0][0])), int(str(approvals[0][0]))

    before = recorded()
    assert before[0] == stale
    journey = load_journey("activation_cancelled")
    at_confirm = next(
        i for i, s in enumerate(journey.step) if s.expect and s.expect.screen == "confirm"
    )
    terminal.empty_slot()
    terminal.card_profile = journey.card
    terminal.camera_source = journey.camera
    terminal.place_finger(journey.finger)
    live = LiveTerminal(terminal.config(), journey_stack.backend()).start()
    try:
        assert live.ports is not None and live.runner is not None
        secrets = profile_secrets(journey.card)
        part = journey.model_copy(update={"step": journey.step[: at_confirm + 1]})
        mid = JourneyRunner(part, terminal, live, None, secrets).run()
        assert mid.ok, [p for s in mid.steps for p in s.problems]
        assert live.ports.identity.holds_enrolment  # enrolled, checked, not sent
        assert recorded() == before
        rest = journey.model_copy(update={"step": journey.step[at_confirm + 1 :]})
        end = JourneyRunner(rest, terminal, live, None, secrets).run()
        assert end.ok, [p for s in end.steps for p in s.problems]
        assert live.runner.wait_idle(10)
        assert not live.ports.identity.holds_enrolment  # wiped with the session
    finally:
        live.stop()
    assert recorded() == before  # the reference, no enrolment, no approval
