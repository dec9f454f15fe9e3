"""Inquiry: tabs per insurance (the view's choices), a paged table, a bar chart of
contributions per year, accounts and benefits as fields."""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty

from ui.screens.base import ViewScreen


class InquiryScreen(ViewScreen):
    columns = ListProperty([])
    rows = ListProperty([])
    page = NumericProperty(1)
    pages = NumericProperty(1)
    empty_text = StringProperty("")
    chart_title = StringProperty("")
    chart_points = ListProperty([])
    has_table = BooleanProperty(False)

    def render_more(self, view: Any) -> None:
        table = view.table
        self.has_table = table is not None
        if table is not None:
            self.columns = [self.app.t(c, self.app.lang) for c in table.columns]
            self.rows = [[self.tr(c) for c in row] for row in table.rows]
            self.page, self.pages = table.page, table.pages
            self.empty_text = self.tr(table.empty) if table.empty and not table.rows else ""
        else:
            self.columns, self.rows, self.empty_text = [], [], ""
        chart = view.chart
        if chart is not None and chart.series:
            self.chart_title = self.tr(chart.title)
            self.chart_points = [(x, float(v)) for x, v in chart.series[0].points]
        else:
            self.chart_title, self.chart_points = "", []

    def on_choice(self, option: str) -> None:
        self.app.intent("Choose", option=option)

    def wipe_more(self) -> None:
        self.columns, self.rows, self.chart_points = [], [], []
        self.chart_title = self.empty_text = ""
