"""What every screen does with a view: turn it into plain properties its kv lays out.

A screen holds no state of its own beyond the last view's rendering, and `wipe()` empties every
property (the session ended: nothing personal may remain in any widget).
"""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.factory import Factory
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.screenmanager import Screen
from kivy.uix.widget import Widget

__all__ = ["ViewScreen"]


class ViewScreen(Screen):
    """Base of every screen: title, paragraphs, fields, choices, error, progress, step."""

    title_text = StringProperty("")
    body_text = StringProperty("")
    notice_text = StringProperty("")
    error_text = StringProperty("")
    next_text = StringProperty("")
    step_text = StringProperty("")
    progress = NumericProperty(-1.0)  # 0..1, or -1 when unknown
    progress_text = StringProperty("")
    fields = ListProperty([])
    choices = ListProperty([])
    can_confirm = BooleanProperty(False)
    can_back = BooleanProperty(False)
    can_cancel = BooleanProperty(False)
    # a citizen can always ask for staff, except where the session would not hear it (out of
    # service, maintenance, the technician's screens): there the button is not shown
    can_call_staff = BooleanProperty(True)
    view = ObjectProperty(None, allownone=True)
    columns = ListProperty([])  # the view's table page
    rows = ListProperty([])
    row_ids = ListProperty([])
    page = NumericProperty(1)
    pages = NumericProperty(1)
    empty_text = StringProperty("")
    entry_field = StringProperty("")  # the view's text_input field, "" when none
    entry_max = NumericProperty(20)
    entry_min = NumericProperty(1)
    entry_allow_x = BooleanProperty(False)
    entry_text_mode = BooleanProperty(False)  # free text (keyboard), not the number pad
    entry_secret = BooleanProperty(False)
    entry_label = StringProperty("")
    entry_validation = StringProperty("")
    timeout_warning = BooleanProperty(False)
    timeout_seconds = NumericProperty(0)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._overlay = Factory.TimeoutOverlay()
        self.bind(timeout_warning=self._show_overlay,
                  timeout_seconds=self._overlay.setter("seconds"))

    def _show_overlay(self, _screen: Any, shown: bool) -> None:
        """The inactivity warning is on the screen only while shown: at opacity 0 Kivy still
        draws a widget, and the warning's window-sized shade was one more full-window blend
        in every frame of every screen."""
        overlay = self._overlay
        overlay.shown = shown
        if shown and overlay.parent is None:
            self.add_widget(overlay)  # last added: drawn on top, first to get touches
        elif not shown and overlay.parent is self:
            self.remove_widget(overlay)

    @property
    def app(self) -> Any:
        return App.get_running_app()

    def tr(self, value: Any) -> str:
        """A view value in the screen's language (Text, Masked, str)."""
        if value is None:
            return ""
        return str(self.app.catalogs.cell(value, self.app.lang))

    def render(self, view: Any) -> None:
        """Fill the properties from `view` (kiosk.session.view.View)."""
        self.view = view
        intents = view.intents
        self.title_text = self.tr(view.title)
        self.body_text = "\n".join(self.tr(t) for t in view.body)
        self.notice_text = "\n".join(self.tr(t) for t in view.notices)
        err = view.error
        self.error_text = self.tr(err.message) if err else ""
        self.next_text = self.tr(err.next_step) if err else ""
        self.step_text = (
            self.app.t("ui.frame.step", self.app.lang, n=view.step.n, of=view.step.of)
            if view.step else ""
        )
        prog = view.progress
        self.progress = -1.0 if prog is None or prog.fraction is None else float(prog.fraction)
        self.progress_text = self.tr(prog.label) if prog else ""
        reveal_show = self.app.t("ui.frame.reveal", self.app.lang)
        reveal_hide = self.app.t("ui.frame.hide", self.app.lang)
        self.fields = [
            {
                "id": f.id, "label": self.tr(f.label), "value": self.tr(f.display()),
                "revealable": f.revealable, "revealed": f.revealed,
                "reveal_text": reveal_hide if f.revealed else reveal_show,
            }
            for f in view.fields
        ]
        self.choices = [
            {
                "id": c.id, "text": self.tr(c.label), "icon": c.icon, "enabled": c.enabled,
                "reason": self.tr(c.reason) if c.reason is not None else "",
                "selected": c.selected,
            }
            for c in view.choices
        ]
        self.can_confirm = "Confirm" in intents
        self.can_back = "Back" in intents
        self.can_cancel = "Cancel" in intents
        self.can_call_staff = "CallStaff" in intents
        table = view.table
        if table is not None:
            self.columns = [self.app.t(c, self.app.lang) for c in table.columns]
            self.rows = [[self.tr(c) for c in row] for row in table.rows]
            self.row_ids = list(table.row_ids)
            self.page, self.pages = table.page, table.pages
            self.empty_text = self.tr(table.empty) if table.empty and not table.rows else ""
        else:
            self.columns, self.rows, self.row_ids = [], [], []
            self.page, self.pages, self.empty_text = 1, 1, ""
        ti = view.text_input
        self.entry_field = ti.field if ti is not None else ""
        if ti is not None:
            self.entry_max = ti.max_length
            self.entry_min = ti.min_length
            self.entry_allow_x = str(ti.kind) in ("id_number", "TextKind.ID_NUMBER")
            self.entry_text_mode = str(ti.kind) in ("text", "TextKind.TEXT")
            self.entry_secret = ti.field == "secret"
            label = self.app.catalogs.lookup(f"field.{ti.field}", self.app.lang)
            self.entry_label = label or self.app.t(f"ui.entry.{ti.field}", self.app.lang)
            self.entry_validation = self.tr(ti.validation) if ti.validation else ""
        else:
            self.entry_validation = ""
        timeout = view.timeout
        self.timeout_warning = bool(timeout and timeout.warning and "MoreTime" in intents)
        self.timeout_seconds = int(timeout.seconds_left) if timeout else 0
        self.render_more(view)

    def render_more(self, view: Any) -> None:
        """Screen-specific parts of the view (tables, PIN spec, QR...)."""

    def wipe(self) -> None:
        """Forget the view and everything shown from it."""
        self.view = None
        for name in ("title_text", "body_text", "notice_text", "error_text", "next_text",
                     "step_text", "progress_text"):
            setattr(self, name, "")
        self.fields = []
        self.choices = []
        self.columns, self.rows, self.row_ids = [], [], []
        self.empty_text = ""
        self.progress = -1.0
        self.timeout_warning = False
        self.wipe_more()

    def wipe_more(self) -> None:
        """Screen-specific wipe."""

    def voice_text(self) -> str:
        """What is spoken on entering: the view's voice prompt, else title, text and error."""
        view = self.view
        if view is not None and view.voice is not None:
            return self.tr(view.voice)
        parts = [self.title_text, self.body_text, self.error_text, self.next_text]
        return "。".join(p for p in parts if p) if self.app.lang == "zh_CN" else \
            ". ".join(p for p in parts if p)

    # --- keypad -------------------------------------------------------------------------
    @property
    def accepts_digits(self) -> bool:
        return bool(self.entry_field) and "entry" in self.ids and not self.entry_text_mode

    @property
    def takes_typing(self) -> bool:
        """A free-text field is open: keys go to it, not to focus moves."""
        return bool(self.entry_field) and self.entry_text_mode

    def on_digit(self, digit: int) -> bool:
        """A digit key; True when the screen used it (else it moves the focus)."""
        if self.entry_field and "entry" in self.ids:
            self.ids.entry.type_digit(str(digit))
            return True
        return False

    def on_enter_key(self) -> bool:
        """The Enter key on a screen with an open text input submits it."""
        if self.entry_field and "entry" in self.ids:
            target = self.ids.text_entry if self.entry_text_mode else self.ids.entry
            target.submit()
            return True
        return False

    def on_clear(self) -> bool:
        """The Clear key; True when the screen used it (else it means Back)."""
        if self.entry_field and "entry" in self.ids:
            return bool(self.ids.entry.delete())
        return False

    def choose_row(self, row_id: str) -> None:
        """A tapped table row (a bill, a course...)."""
        self.app.intent("Choose", option=row_id)

    def submit_entry(self, value: str) -> None:
        """The on-screen or physical keypad's OK on a text input."""
        self.app.intent("EnterText", field=self.entry_field, value=value)

    def focusables(self) -> list[Widget]:
        """Targets the keypad can reach, in reading order (top to bottom, left to right)."""
        pool = (self._overlay.walk(restrict=True) if self.timeout_warning
                else self.walk(restrict=True))
        found = [
            w for w in pool
            if getattr(w, "focusable", False) and not w.disabled and w.opacity > 0
            and w.width > 0 and w.height > 0
        ]
        return sorted(found, key=lambda w: (-round(w.to_window(*w.center)[1] / 20),
                                            w.to_window(*w.center)[0]))

    def default_focus(self) -> Widget | None:
        """The primary action when there is one."""
        from ui.widgets import FrameFooter, FrameHeader

        items = self.focusables()
        for w in items:
            if getattr(w, "kind", "") == "primary":
                return w

        def in_bar(w: Widget, bar: type) -> bool:
            p = w.parent
            while p is not None and p is not self:
                if isinstance(p, bar):
                    return True
                p = p.parent
            return False

        content = [w for w in items
                   if not in_bar(w, FrameHeader) and not in_bar(w, FrameFooter)]
        choices = [w for w in content if str(getattr(w, "action", "")).startswith(
            ("choice:", "row:", "key"))]
        # nothing to do in the content (reading, an error): the footer's way on, not the
        # header's Repeat, whose ring reads as "press this"
        footer = [w for w in items if in_bar(w, FrameFooter)]
        return (choices or content or footer or items or [None])[0]
