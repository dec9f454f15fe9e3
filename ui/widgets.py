"""The few widgets every screen is built from (look in style.kv); behaviour only, no policy."""

from __future__ import annotations

from typing import Any

from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.label import Label
from kivy.uix.screenmanager import ScreenManager
from kivy.uix.widget import Widget

from ui.theme import ICONS

__all__ = [
    "Banner",
    "Body",
    "EntryPad",
    "Frame",
    "FrameFooter",
    "FrameHeader",
    "FullWindowScreens",
    "Headline",
    "IconText",
    "KButton",
    "PrimaryRow",
    "TextEntry",
    "TextLabel",
    "TimeoutOverlay",
]


class FullWindowScreens(ScreenManager):
    """The screen manager without Kivy's stencil clip (style.kv drops its rule): it fills the
    window, so the clip cut nothing, yet under a software GL its two window-sized stencil fills
    and the stencil test on every draw cost a third of each frame (each full-window fill is
    8-17 ms at 1080p on this machine's llvmpipe)."""


class HiddenIgnoresTouch:
    """A widget not drawn takes no touches: Kivy lets a *disabled* widget swallow every touch
    on its box, and hidden parts are disabled so the keypad skips them.

    Hidden means its own opacity or any ancestor's is 0: a collapsed row (height 0, opacity 0)
    still holds buttons of their own height, laid out where the row sits, and they covered the
    header's language button on the menu.
    """

    def is_hidden(self) -> bool:
        w: Any = self
        while w is not None:
            if getattr(w, "opacity", 1) == 0:
                return True
            parent = w.parent
            w = None if parent is w else parent
        return False

    def on_touch_down(self, touch: Any) -> bool:
        if self.is_hidden():
            return False
        return bool(super().on_touch_down(touch))  # type: ignore[misc]

    def on_touch_up(self, touch: Any) -> bool:
        if self.is_hidden():
            return False
        return bool(super().on_touch_up(touch))  # type: ignore[misc]

    def on_touch_move(self, touch: Any) -> bool:
        if self.is_hidden():
            return False
        return bool(super().on_touch_move(touch))  # type: ignore[misc]


class TextLabel(Label):
    """A label that wraps inside its width and grows to its text's height."""


class IconText(Label):
    """An icon glyph from the product's icon font, by name (theme.ICONS)."""

    icon = StringProperty("")

    def glyph(self, name: str) -> str:
        return ICONS.get(name, "")


class KButton(HiddenIgnoresTouch, ButtonBehavior, BoxLayout):
    """A touch target (>= 20 mm) with an optional icon and words; reachable from the keypad.

    `kind`: primary, outline, staff, tile, key, choice. `focused`: the keypad's target, which
    the window's one focus ring surrounds (ui/focus_ring.py).
    """

    text = StringProperty("")
    icon = StringProperty("")
    kind = StringProperty("outline")
    focusable = BooleanProperty(True)
    focused = BooleanProperty(False)
    action = StringProperty("")  # what the keypad/test sees: "confirm", "choice:pension", ...
    sub_text = StringProperty("")
    fit_text = BooleanProperty(False)  # width follows the words (header buttons)
    centred = BooleanProperty(False)  # words centred (primary and keys always are)
    bg_colour = ListProperty([1.0, 1.0, 1.0, 1.0])
    fg_colour = ListProperty([0.0, 0.0, 0.0, 1.0])
    natural_height = NumericProperty(0)  # what its words need (style.kv)
    row_height = NumericProperty(0)  # its row's tallest, when a ChoiceGrid evens a row
    bordered = BooleanProperty(False)  # an outline is drawn (style.kv: by kind, when live)
    centres_group = BooleanProperty(False)  # style.kv: icon and centred words as one group
    group_width = NumericProperty(0)  # style.kv: the icon, the gap and the words on one line
    words_width = NumericProperty(0)  # the words on one line (_measure_words)
    # the least padding (style.kv computes `padding` from these: a rule deriving from KButton
    # sets these, not `padding`, which the KButton rule would set back on its next change)
    pad_x = NumericProperty(0)
    pad_y = NumericProperty(0)

    def glyph(self, name: str) -> str:
        return ICONS.get(name, "")

    def on_kv_post(self, base_widget: Any) -> None:
        self.ids.lbl.bind(texture_size=self._measure_words)
        self.bind(centres_group=self._measure_words)
        self._measure_words()

    def _measure_words(self, *_a: Any) -> None:
        """How wide the words are on one line, for the centred group: Kivy's label reports
        the width it was given, not what its words take."""
        if not self.centres_group or not self.text:
            self.words_width = 0
            return
        core = self.ids.lbl._label
        self.words_width = core.get_extents(self.text)[0] if core is not None else 0


class Body(BoxLayout):
    """The content area of a Frame (children of a Frame in kv land here).

    A screen's kv lists every part it may show (error banner, notice, fields, table...) and
    collapses the ones a view leaves empty to height 0. A plain BoxLayout still puts its
    spacing around each of them, so a screen with five empty parts loses five gaps of height
    and a long table pushes the title off the top: here the spacing separates shown parts only.
    """

    def do_layout(self, *largs: Any) -> None:
        shown = [c for c in self.children if not _collapsed(c)]
        if not shown:
            super().do_layout(*largs)
            return
        sizes = [(c.size, c.size_hint, c.pos_hint, c.size_hint_min, c.size_hint_max)
                 for c in shown]
        for i, x, y, w, h in self._iterate_layout(sizes):
            c = shown[i]
            c.pos = x, y
            shw, shh = c.size_hint
            if shw is None:
                if shh is not None:
                    c.height = h
            elif shh is None:
                c.width = w
            else:
                c.size = (w, h)
        for c in self.children:
            if _collapsed(c):
                c.width = self.width - self.padding[0] - self.padding[2]
                c.pos = self.x + self.padding[0], self.top - self.padding[1]


def _collapsed(widget: Widget) -> bool:
    """A part of fixed height 0: nothing of it shows, so no gap for it either."""
    return widget.size_hint_y is None and widget.height <= 0


class FrameHeader(BoxLayout):
    """The blue bar: service name, step, voice controls, language, time left."""


class FrameFooter(HiddenIgnoresTouch, BoxLayout):
    """Back / Cancel / Call staff, always in the same place."""


class Frame(BoxLayout):
    """Header, body and footer of every citizen screen; kv children of a Frame go to its body."""

    # style.kv: the step and the footer's three ways follow `screen`, the time left follows the app
    step_text = StringProperty("")
    time_text = StringProperty("")
    footer = BooleanProperty(True)
    can_back = BooleanProperty(False)
    can_cancel = BooleanProperty(False)
    can_call_staff = BooleanProperty(False)
    footer_shown = BooleanProperty(True)  # style.kv: wanted, and something in it is live
    # rebind: kv rules reading self.screen.x bind to the screen set after they first ran
    screen = ObjectProperty(None, allownone=True, rebind=True)

    def __init__(self, **kwargs: Any) -> None:
        self._pending: list[Widget] = []
        super().__init__(**kwargs)

    def add_widget(self, widget: Widget, *args: Any, **kwargs: Any) -> None:
        if isinstance(widget, (FrameHeader, Body, FrameFooter)):
            super().add_widget(widget, *args, **kwargs)
            if isinstance(widget, Body):
                for w in self._pending:
                    widget.add_widget(w)
                self._pending = []
            return
        body = next((c for c in self.children if isinstance(c, Body)), None)
        if body is None:
            self._pending.append(widget)
        else:
            body.add_widget(widget, *args, **kwargs)


class EntryPad(HiddenIgnoresTouch, BoxLayout):
    """On-screen keypad for a number (account, ID number with X, phone): shows what is typed,
    Clear deletes one character, OK submits; the physical keypad types into it too."""

    value = StringProperty("")
    max_length = NumericProperty(20)
    min_length = NumericProperty(1)
    allow_x = BooleanProperty(False)
    submit_handler = ObjectProperty(None, allownone=True)

    def type_digit(self, digit: str) -> None:
        if len(self.value) < self.max_length:
            self.value += digit

    def delete(self) -> bool:
        if self.value:
            self.value = self.value[:-1]
            return True
        return False

    def submit(self) -> None:
        if len(self.value) >= self.min_length and self.submit_handler is not None:
            value, self.value = self.value, ""
            self.submit_handler(value)


class Banner(HiddenIgnoresTouch, BoxLayout):
    """A message with an icon, bold words and a side bar: never colour alone."""

    kind = StringProperty("error")
    icon = StringProperty("error")
    text = StringProperty("")


class Headline(BoxLayout):
    """The screen's title with its icon."""

    kind = StringProperty("primary")
    icon = StringProperty("")
    text = StringProperty("")


class PrimaryRow(HiddenIgnoresTouch, BoxLayout):
    """The primary action, centred above the footer."""

    text = StringProperty("")
    icon = StringProperty("done")
    action = StringProperty("confirm")
    shown = BooleanProperty(True)


class TimeoutOverlay(FloatLayout):
    """The inactivity warning with "more time", over the screen it belongs to."""

    shown = BooleanProperty(False)
    seconds = NumericProperty(0)

    def on_touch_down(self, touch: Any) -> bool:
        # Hidden: let touches through to the screen. Shown: modal, nothing behind reacts.
        if not self.shown:
            return False
        super().on_touch_down(touch)
        return True

    def on_touch_up(self, touch: Any) -> bool:
        if not self.shown:
            return False
        return bool(super().on_touch_up(touch))


class TextEntry(HiddenIgnoresTouch, BoxLayout):
    """A free-text field (an address, the technician's secret) with OK; typed on a keyboard."""

    password = BooleanProperty(False)
    max_length = NumericProperty(100)
    min_length = NumericProperty(1)
    submit_handler = ObjectProperty(None, allownone=True)

    def submit(self) -> None:
        box = self.ids.box
        value = box.text.strip()
        if len(value) >= self.min_length and self.submit_handler is not None:
            box.text = ""
            self.submit_handler(value)

    def clear(self) -> None:
        self.ids.box.text = ""
