"""The ID card login end to end: a real mosquitto and the real central (its trust allowing the
login), the ID card reader emulator on a real pseudo-terminal, a generated camera stream of the
holder's face (OpenCV VideoCapture on the synthetic video) and the whole session, run from the
journey files. Then the attacks, each with the attack itself through the broker: another
person's face with the victim's ID card, the policy off at the central while the kiosk asks,
this login's token used for a utility payment, and a login replayed past the rate limit."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from central.config import TrustConfig
from central.storage import Storage
from drivers.camera.results import Challenge
from drivers.camera.service import FaceVerifier
from drivers.idcard.emulator.profiles import PROFILES
from drivers.idcard.layouts import IdCardHolder, decode_text
from kiosk.contract import (
    LivenessStatement,
    PaymentPurpose,
    PaymentResult,
    PaymentSubmitParams,
    PersonParams,
    PersonSummary,
    RpcMethod,
)
from kiosk.journeys.live import LiveTerminal
from kiosk.journeys.rig import EmulatedHardware, profile_secrets
from kiosk.journeys.runner import JourneyRunner
from kiosk.journeys.spec import load_journey
from kiosk.services.errors import ForbiddenError, ServiceError, call
from kiosk.services.idcard_login import IdCardLoginClient
from tests.fixtures.faces import ScriptFrames
from tests.fixtures.journeys import JourneyStack
from tests.fixtures.pcscd import PcscdService
from tests.integration.journeys.test_journeys import events_of, holder_id, run, wait_for
from tests.integration.journeys.test_wipe import _holding

HOLDER = "ssc3_retiree"  # resident_retiree's ID card is this card holder's
BOTH = (Challenge.TURN_LEFT, Challenge.TURN_RIGHT)


def _central_with(stack: JourneyStack, **trust: object) -> None:
    """Restart the central with `[trust]` changed, its login attempts forgotten (test setup)."""
    stack.central_down()
    config = stack.central_config
    stack.central_config = config.model_copy(
        update={"trust": TrustConfig.model_validate({**config.trust.model_dump(), **trust})}
    )
    with Storage(stack.central_config.storage.url) as db:  # the window starts afresh
        db.execute("DELETE FROM idcard_login_attempts")
    stack.central_up()
    stack.wait_connected()


@pytest.fixture(scope="module")
def idcard_stack(journey_stack: JourneyStack) -> Iterator[JourneyStack]:
    _central_with(journey_stack, idcard_login=True, idcard_login_attempts=20)
    yield journey_stack


@pytest.fixture
def hall(
    idcard_stack: JourneyStack, pcscd: PcscdService, tmp_path: Path
) -> Iterator[EmulatedHardware]:
    rig = EmulatedHardware(idcard_stack.config, tmp_path / "rig", readers=pcscd,
                           network=idcard_stack)
    rig.start()
    try:
        yield rig
    finally:
        rig.stop()


def _id_card() -> IdCardHolder:
    """The holder's ID card as the SAM module reads it (the emulator's own card data)."""
    return decode_text(PROFILES["resident_retiree"].text())


def _live_crop(verifier: FaceVerifier, frames: ScriptFrames, person: str) -> bytearray:
    live = verifier.check_live(iter(frames("turn-left-right", person)), challenges=BOTH)
    assert live.result.passed and live.chip_jpeg is not None, live.result
    return live.chip_jpeg


STATEMENT = LivenessStatement(live=True, challenges=3, same_face=True)


def test_the_holder_logs_in_with_the_id_card_and_looks_up_records(
    idcard_stack: JourneyStack, hall: EmulatedHardware
) -> None:
    run(idcard_stack, hall, "idcard_query")
    rows = idcard_stack.query(
        "SELECT terminal_id, id_masked, outcome FROM idcard_login_attempts ORDER BY at"
    )
    assert rows[-1][0] == idcard_stack.config.terminal.id and rows[-1][2] == "accepted"
    assert holder_id(HOLDER) not in json.dumps([list(r) for r in rows], ensure_ascii=False)
    wait_for(
        "an ID card session in the statistics",
        lambda: any(
            json.loads(e).get("login") == "idcard" for e in events_of(idcard_stack, "session_stats")
        ),
    )


def test_another_persons_face_with_the_victims_id_card_is_refused(
    idcard_stack: JourneyStack, hall: EmulatedHardware
) -> None:
    """The session itself: the camera shows someone else, turning live; the central says no."""
    run(idcard_stack, hall, "idcard_other_face")
    last = idcard_stack.query("SELECT outcome FROM idcard_login_attempts ORDER BY at")[-1]
    assert last == ("idcard.face_mismatch",)


def test_a_tampered_kiosk_sending_another_face_gets_no_session(
    idcard_stack: JourneyStack, face_verifier: FaceVerifier, script_frames: ScriptFrames
) -> None:
    """A tampered terminal claims liveness for a crop of the attacker: the central's own
    comparison with its photo of the victim refuses it, whatever the terminal says."""
    rpc = idcard_stack.backend().rpc
    crop = _live_crop(face_verifier, script_frames, "grace_hopper")
    with pytest.raises(ServiceError) as refused:
        IdCardLoginClient(rpc).login(_id_card(), STATEMENT, crop)
    assert refused.value.remote_code == "idcard.face_mismatch"


def test_this_logins_token_cannot_pay_even_if_the_kiosk_asks(
    idcard_stack: JourneyStack, face_verifier: FaceVerifier, script_frames: ScriptFrames
) -> None:
    rpc = idcard_stack.backend().rpc
    session = IdCardLoginClient(rpc).login(
        _id_card(), STATEMENT, _live_crop(face_verifier, script_frames, "astronaut")
    )
    assert {c.value for c in session.credentials} == {"idcard_face"}
    person = PersonParams(id_number=session.id_number)
    summary = call(rpc, RpcMethod.PERSON_SUMMARY, person, PersonSummary, token=session.token)
    assert summary.name == _id_card().name.reveal()
    bill_id, amount = idcard_stack.query(
        "SELECT bill_id, amount_cents FROM bills WHERE holder_id = ? AND status = 'unpaid'",
        (session.id_number,),
    )[0]
    before = idcard_stack.wallet_cents(session.id_number)
    pay = PaymentSubmitParams(
        payment_key="idcard-pay-attack-1",
        id_number=session.id_number,
        purpose=PaymentPurpose.UTILITY_BILL,
        reference=str(bill_id),
        amount_cents=int(str(amount)),
    )
    with pytest.raises(ForbiddenError):
        call(rpc, RpcMethod.PAYMENT_SUBMIT, pay, PaymentResult, token=session.token)
    assert idcard_stack.wallet_cents(session.id_number) == before
    state = idcard_stack.query(
        "SELECT state FROM payments WHERE payment_key = ?", ("idcard-pay-attack-1",)
    )
    assert state == [("declined",)]  # burnt: no later copy of the key can charge


def test_policy_off_at_the_central_refuses_even_if_the_kiosk_asks(
    idcard_stack: JourneyStack, face_verifier: FaceVerifier, script_frames: ScriptFrames
) -> None:
    crop = _live_crop(face_verifier, script_frames, "astronaut")
    _central_with(idcard_stack, idcard_login=False)
    try:
        with pytest.raises(ForbiddenError):
            IdCardLoginClient(idcard_stack.backend().rpc).login(_id_card(), STATEMENT, crop)
    finally:
        _central_with(idcard_stack, idcard_login=True, idcard_login_attempts=20)
    rows = idcard_stack.query("SELECT outcome FROM idcard_login_attempts")
    assert rows == []  # refused before anything is looked at or counted


def test_a_replayed_login_is_stopped_by_the_rate_limit(
    idcard_stack: JourneyStack, face_verifier: FaceVerifier, script_frames: ScriptFrames
) -> None:
    """A recorded login request sent again and again: a few pass, then the central refuses
    this terminal and this ID number for the window."""
    _central_with(idcard_stack, idcard_login=True, idcard_login_attempts=3)
    try:
        client = IdCardLoginClient(idcard_stack.backend().rpc)
        crop = bytes(_live_crop(face_verifier, script_frames, "astronaut"))
        for _ in range(3):
            client.login(_id_card(), STATEMENT, crop)
        with pytest.raises(ServiceError) as limited:
            client.login(_id_card(), STATEMENT, crop)
        assert limited.value.remote_code == "idcard.rate_limited"
    finally:
        _central_with(idcard_stack, idcard_login=True, idcard_login_attempts=20)


def test_nothing_of_the_citizen_survives_an_id_card_session(
    idcard_stack: JourneyStack, hall: EmulatedHardware
) -> None:
    """The ID card's number and name, the crop: reachable while the session runs, nowhere in
    the ports, the runner or the ID card reader once it ended."""
    journey = load_journey("idcard_query")
    holder = _id_card()
    secrets = [holder.id_number.reveal(), holder.name.reveal()]
    hall.empty_slot()
    hall.camera_source = journey.camera
    hall.use_hall_devices(id_card=journey.id_card, printer=False)
    config = hall.config()
    config = config.model_copy(
        update={"policy": config.policy.model_copy(update={"idcard_login": True})}
    )
    live = LiveTerminal(config, idcard_stack.backend()).start()
    try:
        assert live.ports is not None and live.runner is not None
        roots = [live.ports, live.runner, live.id_card]
        mid = JourneyRunner(
            journey.model_copy(update={"step": journey.step[:3]}),
            hall, live, None, profile_secrets(journey.card),
        ).run()
        assert mid.ok, [p for s in mid.steps for p in s.problems]
        assert _holding(roots, secrets)  # the search does find the holder mid-session
        rest = JourneyRunner(
            journey.model_copy(update={"step": journey.step[-1:]}),
            hall, live, None, profile_secrets(journey.card),
        ).run()
        assert rest.ok, [p for s in rest.steps for p in s.problems]
        assert live.runner.wait_idle(10)
        assert _holding(roots, secrets) == []
        assert live.ports.identity.proofs.live_face is None
    finally:
        live.stop()
