"""Menu: large tiles with icons, only the services the view offers (policy and device health
decided); a disabled tile says why. Elderly mode shows fewer tiles per page."""

from __future__ import annotations

from typing import Any

from kivy.properties import ListProperty, NumericProperty

from kiosk.session.services import MenuGroup
from ui.screens.base import ViewScreen

_GROUPS = frozenset(g.value for g in MenuGroup)


class MenuScreen(ViewScreen):
    page = NumericProperty(0)
    page_choices = ListProperty([])
    pages = NumericProperty(1)

    def per_page(self) -> int:
        return 4 if self.app.elderly else 6

    def render_more(self, view: Any) -> None:
        self.page = min(self.page, max(0, (len(self.choices) - 1) // self.per_page()))
        self._paginate()

    def _paginate(self) -> None:
        n = self.per_page()
        self.pages = max(1, -(-len(self.choices) // n))
        self.page_choices = self.choices[self.page * n : (self.page + 1) * n]

    def turn(self, step: int) -> None:
        self.page = max(0, min(self.pages - 1, self.page + step))
        self._paginate()

    def on_choice(self, option: str) -> None:
        # A tile opens a group of services (Choose) or a service itself (ChooseService).
        if option in _GROUPS:
            self.app.intent("Choose", option=option)
        else:
            self.app.intent("ChooseService", service=option)

    def wipe_more(self) -> None:
        self.page = 0
        self.page_choices = []
