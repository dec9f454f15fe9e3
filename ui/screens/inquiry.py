"""Inquiry: tabs per insurance (the view's choices), a paged table, a bar chart of
contributions per year, accounts and benefits as fields."""

from __future__ import annotations

from typing import Any

from kivy.properties import ListProperty, StringProperty

from ui.screens.base import ViewScreen


class InquiryScreen(ViewScreen):
    chart_title = StringProperty("")
    chart_points = ListProperty([])

    def render_more(self, view: Any) -> None:
        chart = view.chart
        if chart is not None and chart.series:
            self.chart_title = self.tr(chart.title)
            self.chart_points = [(x, float(v)) for x, v in chart.series[0].points]
        else:
            self.chart_title, self.chart_points = "", []

    def on_choice(self, option: str) -> None:
        self.app.intent("Choose", option=option)

    def wipe_more(self) -> None:
        self.chart_points = []
        self.chart_title = ""
