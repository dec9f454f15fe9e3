"""PIN pad: fixed symbols for digits, tries left, optional scrambled order; digits never spoken.

The digits go into a `PinBuffer` (never a str) that is handed over once with `EnterPin` and
replaced by a new empty buffer; the screen only knows how many digits there are.
"""

from __future__ import annotations

import random

from kivy.properties import ListProperty, NumericProperty, StringProperty

from drivers.personal import PinBuffer
from kiosk.session.intents import EnterPin
from ui.screens.base import ViewScreen

_FIXED_ORDER = (1, 2, 3, 4, 5, 6, 7, 8, 9, 0)  # telephone layout, as on the physical keypad


class PinScreen(ViewScreen):
    """Digits from touch or the keypad; Clear deletes one, Enter sends when long enough."""

    @property
    def accepts_digits(self) -> bool:
        return True

    count = NumericProperty(0)
    max_length = NumericProperty(6)
    min_length = NumericProperty(6)
    tries_text = StringProperty("")
    order = ListProperty(list(_FIXED_ORDER))

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._pin = PinBuffer()
        self._spec_key: object = None

    def render_more(self, view: object) -> None:
        spec = view.pin  # type: ignore[attr-defined]
        self.max_length = spec.max_length
        self.min_length = spec.min_length
        self.tries_text = (
            self.app.t("ui.pin.tries_left", self.app.lang, n=spec.tries_left)
            if spec.tries_left is not None else ""
        )
        key = (view.state, spec.purpose)  # type: ignore[attr-defined]
        if key != self._spec_key:  # a new PIN request: empty pad, new order when scrambled
            self._spec_key = key
            self._reset()
            self.order = (
                random.SystemRandom().sample(_FIXED_ORDER, 10) if spec.scrambled
                else list(_FIXED_ORDER)
            )

    def _reset(self) -> None:
        self._pin = PinBuffer()
        self.count = 0

    def on_digit(self, digit: int) -> bool:
        if len(self._pin) < self.max_length:
            self._pin.push(0x30 + digit)  # PinBuffer holds ASCII digits
            self.count = len(self._pin)
        self.app.voice.beep()  # the same tone for every key, and nothing is spoken
        return True

    def on_enter_key(self) -> bool:
        self.submit()
        return True

    def on_clear(self) -> bool:
        if len(self._pin):
            self._pin.pop()
            self.count = len(self._pin)
            self.app.voice.beep()
            return True
        return False

    def submit(self) -> None:
        if len(self._pin) < self.min_length:
            return
        pin, self._pin = self._pin, PinBuffer()
        self.count = 0
        self.app.send(EnterPin(pin))

    def voice_text(self) -> str:
        return super().voice_text()  # the prompt only: the view never holds digits

    def wipe_more(self) -> None:
        self._pin.wipe()
        self._reset()
        self._spec_key = None
        self.tries_text = ""
