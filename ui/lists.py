"""What a view lists, as widgets (look in style.kv): the choices as a grid of buttons, the
fields as label/value rows, and the table page. Behaviour only, no policy; ui/app.py imports
this module so its kv classes are registered."""

from __future__ import annotations

from typing import Any

from kivy.factory import Factory
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from ui.theme import hex_rgba
from ui.widgets import IconText, KButton

__all__ = ["ChoiceGrid", "FieldList", "FieldRow", "PagedTable", "TableCell", "TableRow",
           "TableView"]


class ChoiceGrid(GridLayout):
    """Buttons for a list of choices: dicts with id, text, icon, enabled, reason, action."""

    items = ListProperty([])
    kind = StringProperty("tile")
    choose_handler = ObjectProperty(None, allownone=True)
    button_height = NumericProperty(0)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._buttons: list[KButton] = []
        self.bind(cols=self._even_rows)

    def _even_rows(self, *_a: Any) -> None:
        """Every button of a row as tall as the row's tallest: a tile whose reason wrapped was
        taller, and the grid sat the others of its row lower (the menu's tiles stepped)."""
        cols = max(int(self.cols or 1), 1)
        for start in range(0, len(self._buttons), cols):
            row = self._buttons[start:start + cols]
            tallest = max(b.natural_height for b in row)
            for b in row:
                b.row_height = tallest

    def on_items(self, *_a: Any) -> None:
        self.clear_widgets()
        self._buttons = []
        for item in self.items:
            selected = item.get("selected", False)
            btn = KButton(
                text=item["text"], icon="check_circle" if selected else item.get("icon", ""),
                kind="primary" if selected else self.kind,
                action=item.get("action", f"choice:{item['id']}"),
                sub_text=item.get("reason", ""), disabled=not item.get("enabled", True),
            )
            if self.button_height:
                btn.height = self.button_height
            btn.bind(on_release=lambda _b, ident=item["id"]: self._chosen(ident),
                     natural_height=self._even_rows)
            self.add_widget(btn)
            self._buttons.append(btn)
        self._even_rows()

    def _chosen(self, ident: str) -> None:
        if self.choose_handler is not None:
            self.choose_handler(ident)


class FieldList(GridLayout):
    """Labelled values, one column unless the screen asks for more (`cols`); a revealable
    (masked) one has an eye button the holder taps."""

    items = ListProperty([])  # dicts: id, label, value, revealable, revealed, reveal_text
    reveal_handler = ObjectProperty(None, allownone=True)

    def on_items(self, *_a: Any) -> None:
        self.clear_widgets()
        for item in self.items:
            row = Factory.FieldRow(
                label_text=item["label"], value_text=item["value"],
                revealable=item.get("revealable", False), revealed=item.get("revealed", False),
                reveal_text=item.get("reveal_text", ""), field_id=item["id"],
            )
            row.bind(on_reveal=lambda _r, fid: self._reveal(fid))
            self.add_widget(row)

    def _reveal(self, field_id: str) -> None:
        if self.reveal_handler is not None:
            self.reveal_handler(field_id)


class FieldRow(BoxLayout):
    """One `label: value` line (see style.kv)."""

    label_text = StringProperty("")
    value_text = StringProperty("")
    revealable = BooleanProperty(False)
    revealed = BooleanProperty(False)
    reveal_text = StringProperty("")
    field_id = StringProperty("")
    __events__ = ("on_reveal",)

    def on_reveal(self, field_id: str) -> None:
        pass


class TableRow(ButtonBehavior, BoxLayout):
    """One table row; when the view gives row ids it is a touch target (`Choose(row_id)`)."""

    selectable = BooleanProperty(False)
    focusable = BooleanProperty(False)
    focused = BooleanProperty(False)
    action = StringProperty("")
    header = BooleanProperty(False)
    cells_height = NumericProperty(0)  # the tallest cell (wrapped or large text)

    def add_widget(self, widget: Widget, *args: Any, **kwargs: Any) -> None:
        super().add_widget(widget, *args, **kwargs)
        widget.bind(height=self._fit)
        self._fit()

    def _fit(self, *_a: Any) -> None:
        self.cells_height = max((c.height for c in self.children), default=0)


class TableView(BoxLayout):
    """A table page: a bold header row on the surface colour, then the rows; rows with ids
    are tappable and reachable from the keypad."""

    table_columns = ListProperty([])
    table_rows = ListProperty([])
    row_ids = ListProperty([])
    row_handler = ObjectProperty(None, allownone=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bind(table_columns=self._rebuild, table_rows=self._rebuild, row_ids=self._rebuild)

    def _rebuild(self, *_a: Any) -> None:
        self.clear_widgets()
        if not self.table_columns:
            return
        self.add_widget(self._row(self.table_columns, header=True))
        for i, row in enumerate(self.table_rows):
            ident = self.row_ids[i] if i < len(self.row_ids) else ""
            self.add_widget(self._row(row, ident=ident))

    def _row(self, cells: Any, *, header: bool = False, ident: str = "") -> TableRow:
        row = TableRow(header=header, selectable=bool(ident), focusable=bool(ident),
                       action=f"row:{ident}" if ident else "", disabled=not ident)
        for i, cell in enumerate(cells):
            row.add_widget(TableCell(text=str(cell), bold=header or bool(ident), header=header,
                                     halign="left" if i == 0 else "right"))
        if ident:
            row.add_widget(IconText(icon="chevron_right", color=hex_rgba("primary")))
            row.bind(on_release=lambda _r, rid=ident: self._chosen(rid))
        return row

    def _chosen(self, ident: str) -> None:
        if self.row_handler is not None:
            self.row_handler(ident)


class TableCell(Label):
    """One cell of a TableView; `header` cells are bold on the surface colour."""

    header = BooleanProperty(False)


class PagedTable(BoxLayout):
    """The screen's table page with previous/next page buttons (`screen` is the ViewScreen)."""

    screen = ObjectProperty(None, allownone=True, rebind=True)
