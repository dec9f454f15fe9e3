"""Timeouts (WCAG 2.2.1), card return, staff calls, maintenance and technician access."""

from __future__ import annotations

import pytest

from drivers.vocabulary import DeviceHealth, DeviceKind
from kiosk.session import effects as fx
from kiosk.session.events import (
    CardInserted,
    CardRemoved,
    DeviceHealthChanged,
    MaintenanceCommanded,
)
from kiosk.session.intents import (
    Back,
    CallStaff,
    Choose,
    ChooseService,
    MoreTime,
    SetElderly,
    SetLanguage,
    TechnicianAction,
    TechnicianLogin,
    TechnicianLogout,
    Touch,
)
from tests.unit.session.fakes import SECRET, Harness


def at_menu() -> Harness:
    h = Harness()
    h.insert_card()
    return h


def test_warning_gives_at_least_20_seconds_and_more_time_works_ten_times() -> None:
    h = at_menu()
    cfg = h.pol.session
    assert h.view.timeout is not None and not h.view.timeout.warning
    assert "MoreTime" not in h.view.intents
    for n in range(cfg.extensions):
        h.wait(cfg.answer_s - cfg.warning_s + 0.1)  # into the warning window
        t = h.view.timeout
        assert t is not None and t.warning and t.seconds_left >= 19.9
        assert t.extensions_left == cfg.extensions - n
        assert "MoreTime" in h.view.intents
        h.send(MoreTime(), dt=1.0)
        assert h.state == "menu" and h.view.timeout is not None
        assert not h.view.timeout.warning
    h.wait(cfg.answer_s - cfg.warning_s + 0.1)
    assert "MoreTime" not in h.view.intents  # ten extensions used: the warning still shows
    assert h.view.timeout is not None and h.view.timeout.warning
    h.wait(cfg.warning_s)
    assert h.state == "take_card" and h.st.session is None
    assert h.view.notices[0].key == "session.ended_timeout"
    assert any(isinstance(e, fx.WipePersonalData) for e in h.effects)


def test_activity_restarts_the_timer_without_using_an_extension() -> None:
    h = at_menu()
    cfg = h.pol.session
    h.wait(cfg.answer_s - 1)
    h.send(Touch(), dt=0.5)
    h.wait(cfg.answer_s - 1)
    assert h.state == "menu"
    assert h.view.timeout is not None and h.view.timeout.extensions_left == cfg.extensions


def test_elderly_mode_doubles_every_limit() -> None:
    h = at_menu()
    h.send(SetElderly(True))
    cfg = h.pol.session
    h.wait(cfg.answer_s + 1)
    assert h.state == "menu"  # would have ended in normal mode
    t = h.view.timeout
    assert t is not None and t.total_s == 2 * cfg.answer_s
    h.wait(cfg.answer_s)
    assert h.state == "take_card"


def test_a_timeout_in_every_citizen_state_ends_cleanly() -> None:
    h = at_menu()
    h.send(Choose("query"))
    h.send(ChooseService("inquiry"))
    assert h.state == "pin_entry"
    h.wait(h.pol.session.answer_s + 0.1)
    assert h.state == "take_card" and h.st.session is None


def test_card_left_alerts_staff_and_blocks_the_next_session_until_taken() -> None:
    h = at_menu()
    from kiosk.session.intents import Cancel

    h.send(Cancel())
    assert h.state == "take_card"
    assert h.view.timeout is not None and h.view.timeout.total_s == h.pol.session.take_card_s
    h.wait(h.pol.session.take_card_s + 0.1)
    assert h.state == "card_left"
    alerts = [e for e in h.effects if isinstance(e, fx.RaiseStaffAlert)]
    assert [(a.reason, a.step) for a in alerts] == [("card_left", "take_card")]
    assert h.st.terminal.stats.get("cards_left") == 1
    h.send(CardInserted())  # someone pushes the card back in: no session starts
    assert h.state == "card_left" and h.st.session is None
    h.send(CardRemoved())
    assert h.state == "idle"
    h.insert_card()
    assert h.state == "menu"


@pytest.mark.parametrize("where", ["idle", "menu", "pin_entry", "take_card"])
def test_call_staff_from_any_state(where: str) -> None:
    h = Harness()
    if where != "idle":
        h.insert_card()
    if where == "pin_entry":
        h.send(Choose("query"))
        h.send(ChooseService("inquiry"))
    if where == "take_card":
        from kiosk.session.intents import Cancel

        h.send(Cancel())
    assert h.state == where
    h.send(CallStaff())
    alert = [e for e in h.effects if isinstance(e, fx.RaiseStaffAlert)][-1]
    assert (alert.reason, alert.step) == ("call_staff", where)
    assert h.view.staff_called
    assert any(n.key == "notice.staff_coming" for n in h.view.notices)
    assert h.st.terminal.stats.get("staff_calls") == 1


def test_language_switch_and_reset_for_the_next_citizen() -> None:
    h = at_menu()
    h.send(SetLanguage("en"))
    h.send(SetLanguage("fr"))  # unknown: kept as it was
    assert h.view.language == "en"
    h.send(CardRemoved())
    assert h.view.language == "zh_CN"


def test_remote_maintenance_ends_the_session_and_is_audited() -> None:
    h = at_menu()
    h.send(MaintenanceCommanded(True, "cmd-1"))
    assert h.state == "take_card" and h.st.session is None
    h.send(CardRemoved())
    assert h.state == "out_of_service"
    assert h.view.body[0].key == "out_of_service.maintenance"
    h.send(CardInserted())
    assert h.state == "out_of_service"
    h.send(MaintenanceCommanded(False, "cmd-2"))
    assert h.state == "idle"
    audits = [e.payload for e in h.effects if isinstance(e, fx.RecordOutbox) and e.kind == "audit"]
    assert [(a["action"], a["command_id"]) for a in audits] == [
        ("maintenance_on", "cmd-1"), ("maintenance_off", "cmd-2")]


def test_technician_login_lockout_actions_and_audit() -> None:
    h = Harness()
    h.send(Choose("technician"))
    assert h.state == "technician_login"
    for _ in range(h.pol.session.technician_max_tries):
        h.send(TechnicianLogin("wrong"))
    assert h.view.text_input is not None and h.view.text_input.validation is not None
    assert h.view.text_input.validation.key == "maintenance.locked"
    h.send(TechnicianLogin(SECRET))  # right secret, but locked out
    assert h.state == "technician_login"
    h.wait(h.pol.session.technician_lockout_s + 1)
    assert h.state == "idle"  # the login screen timed out meanwhile
    h.send(Choose("technician"))
    h.send(TechnicianLogin(SECRET))
    assert h.state == "maintenance"
    h.send(TechnicianAction("device_test"))
    h.send(TechnicianAction("rm -rf"))
    h.send(TechnicianLogout())
    assert h.state == "idle"
    audits = [e.payload for e in h.effects if isinstance(e, fx.RecordOutbox) and e.kind == "audit"]
    actions = [(a["action"], a.get("outcome", "")) for a in audits]
    assert actions[:3] == [("login", "wrong_secret"), ("login", "wrong_secret"),
                           ("login", "locked")]
    assert ("login_refused_locked", "") in actions
    assert ("login", "ok") in actions and ("device_test", "") in actions
    assert ("unknown_action", "") in actions and actions[-1] == ("logout", "")
    assert all(SECRET not in repr(a) for a in audits)


def test_technician_login_is_disabled_without_a_credential() -> None:
    from dataclasses import replace

    h = Harness()
    h.pol = replace(h.pol, technician_secret=b"")
    h.send(Choose("technician"))
    h.send(TechnicianLogin(""))
    assert h.state == "technician_login"


def test_technician_login_screen_returns_where_it_came_from() -> None:
    h = Harness()
    h.send(DeviceHealthChanged(DeviceKind.CARD_READER, DeviceHealth.OFFLINE))
    h.send(Choose("technician"))
    h.send(Back())
    assert h.state == "out_of_service"
