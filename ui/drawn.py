"""Widgets that draw themselves (a chart, the wizard's progress, pictures and the QR code):
canvas instructions and real text laid out in Python, no policy. Imported by ui/widgets.py so
the kv classes are registered with the rest."""

from __future__ import annotations

import io
from typing import Any

from kivy.core.image import Image as CoreImage
from kivy.graphics import Color, Ellipse, Line, Rectangle
from kivy.metrics import dp, sp
from kivy.properties import ListProperty, NumericProperty, StringProperty
from kivy.uix.image import Image
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from ui.theme import ICONS, TYPE, hex_rgba

__all__ = ["BarChart", "FitImage", "QrImage", "StepDots"]


class FitImage(Image):
    """A picture fitted inside its box ('contain'), drawn as one rectangle (style.kv). Kivy's
    Image rule clips with the stencil for its 'cover' mode: three box-sized fills a frame, which
    the camera preview paid 30 times a second under the software GL."""


class QrImage(FitImage):
    """A QR code of `data` (segno), drawn with nearest-neighbour scaling so modules stay sharp."""

    data = StringProperty("")

    def on_data(self, _w: Widget, data: str) -> None:
        if not data:
            self.texture = None
            return
        import segno

        buf = io.BytesIO()
        segno.make(data, error="m").save(buf, kind="png", scale=10, border=4)
        buf.seek(0)
        tex = CoreImage(buf, ext="png").texture
        tex.mag_filter = "nearest"
        tex.min_filter = "nearest"
        self.texture = tex


class BarChart(Widget):
    """Bars per x label with the value written above each and the label below (real text, not
    colour, carries the information); a zero bar is an outlined box marked with `gap_text`."""

    points = ListProperty([])  # [(label, value)]
    gap_text = StringProperty("")
    value_format = StringProperty("{:,.0f}")
    font_name = StringProperty("Body")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bind(pos=self._redraw, size=self._redraw, points=self._redraw)

    def _redraw(self, *_a: Any) -> None:
        self.canvas.clear()
        self.clear_widgets()
        if not self.points:
            return
        n = len(self.points)
        top = max(v for _, v in self.points) or 1.0
        label_h = sp(34)
        value_h = sp(34)
        usable = max(self.height - label_h - value_h - dp(8), dp(10))
        slot = self.width / n
        bar_w = min(slot * 0.6, dp(120))
        with self.canvas:
            Color(*hex_rgba("text"))
            Line(points=[self.x, self.y + label_h, self.right, self.y + label_h], width=dp(1.5))
        for i, (label, value) in enumerate(self.points):
            x = self.x + i * slot + (slot - bar_w) / 2
            h = max(usable * value / top, 0.0)
            base = self.y + label_h
            with self.canvas:
                if value > 0:
                    Color(*hex_rgba("bar"))
                    Rectangle(pos=(x, base), size=(bar_w, h))
                else:
                    Color(*hex_rgba("text"))
                    Line(rectangle=(x, base, bar_w, dp(24)), width=dp(1.5))
            shown = self.value_format.format(value) if value > 0 else self.gap_text
            for text, y in ((str(label), self.y), (shown, base + max(h, dp(24)) + dp(4))):
                lbl = Label(
                    text=text, font_name=self.font_name, font_size=sp(26),
                    color=hex_rgba("text"), size=(slot, label_h), pos=(self.x + i * slot, y),
                    halign="center", valign="middle",
                )
                lbl.text_size = lbl.size
                self.add_widget(lbl)


class StepDots(Widget):
    """Wizard progress: step `n` of `of` as a row of numbered circles on one line, left under
    the title. Shape says the state, not colour alone: a step done is a filled circle with a
    check, the current one filled with its number inside a ring, one to come an outlined circle
    with its number. (It was a run of glyphs, ●1 ●2 ◉3 ○4, under a line that did not meet them:
    cluttered in large print.)"""

    n = NumericProperty(0)
    of = NumericProperty(0)
    font_name = StringProperty("Body")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bind(pos=self._redraw, size=self._redraw, n=self._redraw, of=self._redraw)

    def _redraw(self, *_a: Any) -> None:
        self.canvas.clear()
        self.clear_widgets()
        count = int(self.of)
        if count <= 0:
            return
        radius = min(self.height * 0.34, dp(30))
        slot = min(self.width / count, radius * 4.2)
        cy = self.center_y
        centres = [self.x + radius + dp(12) + i * slot for i in range(count)]
        with self.canvas:
            for i in range(count - 1):  # connectors: done ones thick, the rest thin
                done = i + 1 < self.n
                Color(*hex_rgba("primary" if done else "text_secondary"))
                Line(points=[centres[i] + radius, cy, centres[i + 1] - radius, cy],
                     width=dp(3) if done else dp(1.2))
            for i, cx in enumerate(centres):
                step = i + 1
                if step <= self.n:
                    Color(*hex_rgba("primary"))
                    Ellipse(pos=(cx - radius, cy - radius), size=(2 * radius, 2 * radius))
                    if step == self.n:
                        Line(circle=(cx, cy, radius + dp(7)), width=dp(3))
                else:
                    Color(*hex_rgba("page"))
                    Ellipse(pos=(cx - radius, cy - radius), size=(2 * radius, 2 * radius))
                    Color(*hex_rgba("primary"))
                    Line(circle=(cx, cy, radius), width=dp(2))
        for i, cx in enumerate(centres):
            step = i + 1
            done = step < self.n
            lbl = Label(
                text=ICONS["done"] if done else str(step),
                font_name="Icons" if done else self.font_name, bold=step == self.n,
                # a size of the type scale: another size is another 2.5 MB CJK font face
                font_size=sp(TYPE["body"]), color=hex_rgba("on_primary" if step <= self.n
                                                       else "primary"),
                size=(2 * radius, 2 * radius), pos=(cx - radius, cy - radius),
                halign="center", valign="middle",
            )
            lbl.text_size = lbl.size
            self.add_widget(lbl)
