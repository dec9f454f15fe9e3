"""Keypad-only use, language switching, masking and the wipe at session end, PIN privacy,
the timeout warning, and kiosk mode, all on the real app and session."""

from __future__ import annotations

import re
from typing import Any

from kivy.core.window import Window

from kiosk.session.events import CardInserted, CardRemoved
from tests.ui.driver import visible
from tests.ui.test_journeys import enter_pin_by_touch, insert_card_and_open
from tests.unit.session.fakes import CARD_NUMBER, ID_NUMBER, NAME, PERSONAL

ENTER, CLEAR, CANCEL = 13, 8, 27
DIGIT = {str(d): 48 + d for d in range(10)}


def _focused(ui: Any) -> Any:
    return ui.app.focused()


def _key_to(ui: Any, action: str, limit: int = 40) -> None:
    """Move the focus with the keypad's 6 until `action` is focused (a keypad user's way)."""
    for _ in range(limit):
        f = _focused(ui)
        if f is not None and f.action == action:
            return
        ui.key(DIGIT["6"])
    raise AssertionError(f"{action} not reachable by keypad on {ui.screen}")


def test_inquiry_from_the_keypad_alone_with_a_visible_focus(ui: Any) -> None:
    ui.core.post(CardInserted())
    ui.wait_screen("menu")
    ui.pump(3)
    assert _focused(ui) is not None, "a focus is shown from the start"
    _key_to(ui, "choice:query")
    target = _focused(ui)
    ui.pump(1)
    ring = ui.app.ring
    assert ring.target is target and ring.drawn is not None, "the focused target is ringed"
    x, y = target.to_window(target.x, target.y)
    assert (round(x, 1), round(y, 1)) == ring.drawn[:2], "the ring is around it"
    assert len(ring.canvas.children) >= 4, "two bands drawn"
    ui.key(ENTER)
    _key_to(ui, "choice:inquiry")
    ui.key(ENTER)
    ui.wait_screen("pin")
    for d in "123456":
        ui.key(DIGIT[d])
    assert ui.app.screen.count == 6
    ui.key(CLEAR)
    assert ui.app.screen.count == 5, "Clear deletes the last digit"
    ui.key(DIGIT["6"])
    ui.key(ENTER)
    ui.wait_screen("inquiry")
    ui.key(CANCEL)
    ui.wait_screen("take_card")


def test_escape_and_close_requests_do_not_leave_the_app(ui: Any) -> None:
    assert Window.dispatch("on_request_close") is True
    ui.key(CANCEL)  # Escape is the keypad's Cancel: never an exit
    assert ui.app.sm is not None and ui.app.root is not None


def test_language_switches_on_every_screen_it_reaches(ui: Any) -> None:
    insert_card_and_open(ui, "query", "inquiry")
    assert re.search(r"[\u4e00-\u9fff]", ui.shown_text())
    ui.tap_button(action="language", count=False)
    assert ui.app.lang == "en"
    shown = ui.shown_text()
    assert "Back" in shown and "Call staff" in shown
    assert not re.search(r"[\u4e00-\u9fff]", shown.replace("中文", "")), shown
    enter_pin_by_touch(ui)
    ui.wait_screen("inquiry")
    assert not re.search(r"[\u4e00-\u9fff]", ui.shown_text().replace("中文", ""))
    ui.tap_button(action="language", count=False)
    assert ui.app.lang == "zh_CN" and "返回" in ui.shown_text()
    assert not ui.app.catalogs.missing, sorted(ui.app.catalogs.missing)


def _personal_in_widgets(ui: Any) -> list[str]:
    found = []
    for screen in ui.app.sm.screens:
        for w in screen.walk():
            for attr in ("text", "value_text", "label_text"):
                value = getattr(w, attr, "")
                if isinstance(value, str) and any(p in value for p in PERSONAL):
                    found.append(f"{screen.name}:{type(w).__name__}.{attr}={value!r}")
        for prop in ("fields", "choices", "rows"):
            if any(p in repr(getattr(screen, prop, "")) for p in PERSONAL):
                found.append(f"{screen.name}.{prop}")
    return found


def test_personal_data_masked_then_revealed_then_gone_after_the_session(ui: Any) -> None:
    ui.core.post(CardInserted())
    ui.wait_screen("menu")
    ui.tap_button(action="choice:payments")
    shown = ui.shown_text()
    assert NAME not in shown and CARD_NUMBER not in shown, "masked by default"
    assert NAME[0] in shown, "the family name stays readable"
    ui.tap_button(action="reveal:name", count=False)
    assert NAME in ui.shown_text(), "the holder can reveal it"
    ui.tap_button(action="cancel")
    ui.wait_screen("take_card")
    ui.core.post(CardRemoved())
    ui.wait_screen("attract")
    assert _personal_in_widgets(ui) == []
    assert ID_NUMBER not in repr(ui.app.voice.last) and not ui.app.voice.history


def test_pin_digits_are_never_shown_nor_spoken(ui: Any) -> None:
    insert_card_and_open(ui, "query", "inquiry")
    ui.app.voice.wait_idle()
    spoken_before = len(ui.app.voice.history)
    beeps = ui.app.voice.beeps
    for d in "271828":
        ui.tap_button(action="key", text=d, count=False)
    texts = [t for t in ui.texts() if t not in "0123456789"]  # key caps are single digits
    assert not any("271828"[:k] in t for t in texts for k in range(2, 7)), texts
    assert any(t.count("\u25cf") == 6 for t in ui.texts()), "six fixed symbols"
    assert ui.app.voice.beeps - beeps == 6, "one identical beep per key"
    ui.app.voice.wait_idle()
    new = ui.app.voice.history[spoken_before:]
    assert all(not re.search(r"[0-9]", s.text) for s in new), new


def test_voice_speaks_each_screen_prompt_in_its_language_and_shows_it(ui: Any) -> None:
    ui.core.post(CardInserted())
    ui.wait_screen("menu")
    ui.app.voice.wait_idle()
    last = ui.app.voice.history[-1]
    assert last.language == "zh_CN" and last.wav is not None and last.wav.stat().st_size > 1000
    assert last.text in ui.shown_text(), "the spoken prompt is on the screen too"
    ui.tap_button(action="language", count=False)
    ui.app.voice.wait_idle()
    english = ui.app.voice.history[-1]
    assert english.language == "en" and english.text in ui.shown_text()
    n = len(ui.app.voice.history)
    ui.tap_button(action="repeat", count=False)
    ui.app.voice.wait_idle()
    assert len(ui.app.voice.history) == n + 1 and ui.app.voice.history[-1].text == english.text
    volume = ui.app.voice.volume
    ui.tap_button(action="volume_up", count=False)
    assert ui.app.voice.volume == min(100, volume + 10)


def test_timeout_warning_offers_more_time(ui: Any) -> None:
    ui.core.post(CardInserted())
    ui.wait_screen("menu")
    answer_s = 60.0
    ui.core.clock.advance(answer_s - 10)
    ui.core.wait_idle(1)
    ui.settle()
    ui.pump(2)
    assert ui.app.screen.timeout_warning, "the warning shows before the end"
    more = ui.button(action="more_time")
    assert _focused(ui) is not None
    assert _focused(ui) is more, "the keypad's Enter answers the warning"
    ui.tap(more)
    assert not ui.app.screen.timeout_warning
    assert ui.screen == "menu"


def test_scrambled_pin_pad_shuffles_the_digits(ui_driver: Any) -> None:
    from tests.ui.conftest import RunnerCore, connect

    for ui in connect(ui_driver, RunnerCore(scrambled_pin_pad=True)):
        insert_card_and_open(ui, "query", "inquiry")
        order = list(ui.app.screen.order)
        assert sorted(order) == list(range(10))
        keys = [int(b.text) for b in ui.buttons() if b.action == "key"]
        assert sorted(keys) == list(range(10))
        assert any(visible(ui.app.screen))
