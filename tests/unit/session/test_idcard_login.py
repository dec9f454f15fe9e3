"""The ID card login in the pure session: offered only by policy with the reader, camera and
central there; ID card → consent → live face → the central's session → a menu of lookups only;
each refusal in the citizen's words with the next step; the end wipes everything."""

from __future__ import annotations

import datetime as dt

import pytest

from drivers.vocabulary import DeviceHealth, DeviceKind
from kiosk.session import effects as fx
from kiosk.session.events import (
    CardRemoved,
    CentralReachability,
    CentralSessionOpened,
    CentralSessionRefused,
    DeviceHealthChanged,
    EffectFailed,
    FaceFailed,
    IdCardRead,
    IdCardReadFailed,
)
from kiosk.session.intents import (
    Back,
    Cancel,
    Choose,
    ChooseService,
    Confirm,
    ConsentGiven,
    ConsentRefused,
)
from kiosk.session.messages import catalog, dynamic_keys
from kiosk.session.model import Input
from kiosk.session.services import IDCARD_LOOKUPS, MenuGroup
from tests.unit.session.fakes import ID_NUMBER, NAME, Harness, id_card, make_policy
from tests.unit.session.test_journeys import of


def choice_ids(h: Harness) -> set[str]:
    return {c.id for c in h.view.choices}


def ready(auto: bool = True, **policy: object) -> Harness:
    """A terminal whose policy offers the ID card login and whose reader reported online."""
    h = Harness(pol=make_policy(dict(policy), idcard=True), auto=auto)
    h.send(DeviceHealthChanged(DeviceKind.ID_CARD_READER, DeviceHealth.ONLINE))
    return h


def at_menu() -> Harness:
    h = ready()
    assert "idcard" in choice_ids(h)
    h.send(Choose("idcard"))
    assert h.state == "consent", h.state
    h.send(ConsentGiven())
    assert h.state == "menu", h.state
    return h


def test_offered_only_with_policy_reader_camera_and_central() -> None:
    off = Harness()
    off.send(DeviceHealthChanged(DeviceKind.ID_CARD_READER, DeviceHealth.ONLINE))
    assert "idcard" not in choice_ids(off)  # policy off (the default)
    off.send(Choose("idcard"))
    assert off.state == "idle" and off.st.session is None
    never_reported = Harness(pol=make_policy(idcard=True))
    assert "idcard" not in choice_ids(never_reported)  # an optional reader counts once online
    for event in (
        DeviceHealthChanged(DeviceKind.CAMERA, DeviceHealth.OFFLINE),
        DeviceHealthChanged(DeviceKind.ID_CARD_READER, DeviceHealth.OFFLINE),
        CentralReachability(False),
    ):
        h = ready()
        h.send(event)
        assert "idcard" not in choice_ids(h), event
    both = Harness(pol=make_policy(essc=True, idcard=True))
    both.send(DeviceHealthChanged(DeviceKind.ID_CARD_READER, DeviceHealth.ONLINE))
    assert [c.id for c in both.view.choices] == ["essc", "idcard"]
    assert {c.label.key for c in both.view.choices} == {"idle.essc", "idle.idcard"}


def test_the_login_reads_asks_consent_checks_liveness_and_opens_at_the_central() -> None:
    h = ready(auto=False)
    (read,) = h.send(Choose("idcard"))
    assert isinstance(read, fx.ReadIdCard) and read.timeout_s == 30.0
    v = h.view
    assert v.state == "idcard_read" and v.body[0].key == "idcard_login.place"
    assert "Cancel" in v.intents
    h.send(IdCardRead(read.key, id_card()))
    assert h.state == "consent"
    assert [t.key for t in h.view.body][:3] == [
        "consent.purpose.idcard_login", "consent.uses.face", "consent.idcard_central"]
    effects = h.send(ConsentGiven())
    record = next(e for e in effects if isinstance(e, fx.RecordOutbox))
    assert record.payload["service"] == "idcard_login" and record.payload["biometrics"] == ["face"]
    assert ID_NUMBER not in repr(record.payload)  # Masked: the journal encrypts it
    (capture,) = [e for e in effects if isinstance(e, fx.CaptureLiveFace)]
    assert capture.challenges == 3  # the shipped [policy] face_challenges, the least allowed
    assert not [e for e in effects if isinstance(e, fx.CaptureFace)]  # no reference here
    assert h.state == "face_check"
    from kiosk.session.events import FaceLive

    (opening,) = h.send(FaceLive())
    assert isinstance(opening, fx.OpenIdCardSession)
    assert opening.holder.id_number.reveal() == ID_NUMBER and opening.holder.name.reveal() == NAME
    assert ID_NUMBER not in repr(opening) and NAME not in repr(opening)
    h.send(CentralSessionOpened("tok-idcard", frozenset({"idcard_face"})))
    assert h.state == "menu"
    assert h.st.session is not None and h.st.session.proven == frozenset({"idcard_face"})
    assert h.st.terminal.stats.get("idcard_logins.opened") == 1


def test_the_menu_offers_the_lookups_only_and_a_query_needs_no_pin() -> None:
    h = at_menu()
    offered: set[str] = set()
    for group in MenuGroup:
        h.send(Choose(group.value))
        offered |= choice_ids(h)
        h.send(Back())
    assert offered == set(IDCARD_LOOKUPS) == {"inquiry", "certificate"}
    h.ports.calls.clear()
    h.send(Choose("query"))
    h.send(ChooseService("inquiry"))
    assert h.state == "inquiry" and not of(h, fx.VerifyPin)
    assert not of(h, fx.OpenCentralSession)  # the token already covers it
    assert {name for name, _ in h.ports.calls} == {"call"}
    h.send(ChooseService("utility_payment"))  # not offered: ignored
    assert h.state == "inquiry"


def test_the_session_end_wipes_it_all_and_asks_no_card_back() -> None:
    h = at_menu()
    forgotten = h.ports.forgotten
    h.send(CardRemoved())  # no card belongs to this session
    assert h.state == "menu"
    effects = h.send(Cancel())
    assert h.state == "idle" and h.st.session is None  # no take-card step
    assert any(isinstance(e, fx.CloseCentralSession) for e in effects)
    assert any(isinstance(e, fx.WipePersonalData) for e in effects)
    assert h.ports.forgotten == forgotten + 1
    (stats,) = [p for kind, p, _ in h.ports.outbox if kind == "session_stats"]
    assert stats["login"] == "idcard" and ID_NUMBER not in repr(stats)


@pytest.mark.parametrize(
    ("reason", "message", "next_step"),
    [
        ("forbidden", "error.idcard_login_refused", "next.idcard_login_card"),
        ("idcard.face_mismatch", "error.idcard_login_face", "next.idcard_login_card"),
        ("idcard.not_recognised", "error.idcard_login_unknown", "next.counter_with_id"),
        ("idcard.rate_limited", "error.idcard_login_limit", "next.idcard_login_later"),
        ("idcard.expired", "error.idcard_expired", "next.idcard_renew"),
        ("sync.offline", "error.offline", "next.later_or_counter"),
    ],
)
def test_the_centrals_refusals_end_in_plain_words(
    reason: str, message: str, next_step: str
) -> None:
    h = ready()
    h.ports.overrides["open_idcard_session"] = lambda holder: CentralSessionRefused(reason)
    h.send(Choose("idcard"))
    h.send(ConsentGiven())
    v = h.view
    assert h.state == "result" and v.error is not None
    assert v.error.message.key == message and v.error.next_step.key == next_step
    assert "Choose" not in v.intents  # nothing else to offer without an identity
    for lang in ("zh_CN", "en"):
        assert catalog(lang).get(message) and catalog(lang).get(next_step), (lang, message)
    h.send(Confirm())
    assert h.state == "idle" and h.st.session is None


def test_an_expired_or_unread_card_stops_before_any_face() -> None:
    h = ready()
    h.ports.overrides["read_id_card"] = lambda key, t: IdCardRead(
        key, id_card(valid_until=dt.date(2020, 1, 1)), expired=True)
    h.send(Choose("idcard"))
    assert h.state == "result" and h.view.error is not None
    assert h.view.error.message.key == "error.idcard_expired"
    assert not of(h, fx.CaptureLiveFace) and not of(h, fx.OpenIdCardSession)
    h = ready()
    h.ports.overrides["read_id_card"] = lambda key, t: IdCardReadFailed(key, "idcard.no_card")
    h.send(Choose("idcard"))
    assert h.view.error is not None and h.view.error.message.key == "error.idcard_no_card"
    h = ready(auto=False)
    (read,) = h.send(Choose("idcard"))
    assert isinstance(read, fx.ReadIdCard)
    h.send(EffectFailed("ReadIdCard", "idcard.link_error", read.key))
    assert h.view.error is not None and h.view.error.message.key == "error.idcard_device"


def test_consent_refused_ends_with_the_alternative() -> None:
    h = ready()
    h.send(Choose("idcard"))
    h.send(ConsentRefused())
    assert h.state == "result" and h.view.error is not None
    assert h.view.error.message.key == "error.consent_refused"
    assert not of(h, fx.CaptureLiveFace)
    assert [p["decision"] for kind, p, _ in h.ports.outbox if kind == "consent"] == ["refused"]


def test_a_failed_live_check_offers_a_retry_then_stops() -> None:
    h = ready(face_attempts=2)
    h.ports.overrides["capture_live_face"] = lambda a, c: FaceFailed("face.liveness_failed")
    h.send(Choose("idcard"))
    h.send(ConsentGiven())
    assert h.state == "identity_retry" and h.view.error is not None
    assert h.view.error.message.key == "error.liveness"
    h.send(Choose("retry"))
    assert len(of(h, fx.CaptureLiveFace)) == 2 and not of(h, fx.CaptureFace)
    assert h.state == "result" and h.view.error is not None
    assert h.view.error.message.key == "error.face_too_many"
    assert ("repeated_failure", "face_check") in h.ports.alerts
    assert not of(h, fx.OpenIdCardSession)


def test_a_token_of_another_kind_is_not_taken_for_an_id_card_session() -> None:
    h = ready()
    h.ports.overrides["open_idcard_session"] = lambda holder: CentralSessionOpened(
        "tok", frozenset({"card", "pin"}))
    h.send(Choose("idcard"))
    h.send(ConsentGiven())
    assert h.state == "result"


def test_every_new_message_is_in_both_catalogs() -> None:
    keys = {k for k in dynamic_keys() if "idcard_login" in k or k in (
        "idle.idcard", "progress.idcard_read", "consent.idcard_central", "next.counter_with_id",
        "state.idcard_read.title")}
    assert len(keys) >= 14
    for lang in ("zh_CN", "en"):
        missing = sorted(k for k in keys if not catalog(lang).get(k))
        assert not missing, (lang, missing)


@pytest.mark.parametrize("missing", ["id_card", "live_face", "idcard_session"])
def test_the_runner_offers_no_id_card_login_without_its_ports(missing: str) -> None:
    from dataclasses import replace

    from kiosk.clock import FakeClock
    from kiosk.session.runner import SessionRunner
    from tests.unit.session.fakes import FakePorts

    ports = FakePorts()
    full = ports.bundle()
    bundle = {
        "id_card": replace(full, id_card=None),
        "live_face": replace(full, live_face=None),
        "idcard_session": replace(full, idcard_session=None),
    }[missing]
    online = DeviceHealthChanged(DeviceKind.ID_CARD_READER, DeviceHealth.ONLINE)
    with SessionRunner(make_policy(idcard=True), bundle, FakeClock(), tick_s=0) as r:
        r.post(online)
        assert r.wait_idle(5)
        assert "idcard" not in {c.id for c in r.view.choices}
    with SessionRunner(make_policy(idcard=True), ports.bundle(), FakeClock(), tick_s=0) as r:
        r.post(online)
        assert r.wait_idle(5)
        assert "idcard" in {c.id for c in r.view.choices}


@pytest.mark.parametrize("answered", [0, 2, 3])
def test_no_answer_in_time_refuses_without_a_menu(answered: int) -> None:
    """The reader, the camera or the central silent past the busy guard: refused, and no way
    into a menu without an identity."""
    from kiosk.session.events import FaceLive

    h = ready(auto=False)
    (read,) = h.send(Choose("idcard"))
    assert isinstance(read, fx.ReadIdCard)
    steps: list[Input] = [IdCardRead(read.key, id_card()), ConsentGiven(), FaceLive()]
    steps = steps[:answered]
    for step in steps:
        h.send(step)
    h.wait(h.pol.session.busy_timeout_s + 1)
    v = h.view
    assert h.state == "result" and v.error is not None
    assert v.error.message.key == "error.no_answer"
    assert "Choose" not in v.intents
    h.send(Confirm())
    assert h.state == "idle" and h.st.session is None
