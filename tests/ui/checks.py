"""Automatic checks of a rendered screen: clipped text, target sizes, off-window boxes."""

from __future__ import annotations

from typing import Any

from kivy.core.window import Window
from kivy.metrics import Metrics
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from tests.ui.driver import visible

MIN_TARGET_MM = 15.0


def mm(px: float) -> float:
    return float(px * 25.4 / Metrics.dpi)


def window_box(w: Widget) -> tuple[float, float, float, float]:
    x, y = w.to_window(w.x, w.y)
    return x, y, x + w.width, y + w.height


def clipped_labels(root: Widget) -> list[str]:
    """Labels whose rendered text is larger than the label (text cut or overflowing)."""
    bad = []
    for w in visible(root):
        if not isinstance(w, Label) or not w.text.strip():
            continue
        w.texture_update()
        tw, th = w.texture_size
        if tw > w.width + 2 or th > w.height + 2:
            bad.append(f"{w.text[:40]!r}: text {tw:.0f}x{th:.0f} in {w.width:.0f}x{w.height:.0f}")
    return bad


def small_targets(root: Widget) -> list[str]:
    bad = []
    for w in visible(root):
        if isinstance(w, ButtonBehavior) and not w.disabled:
            side = mm(min(w.width, w.height))
            if side < MIN_TARGET_MM:
                bad.append(f"{getattr(w, 'action', type(w).__name__)}: {side:.1f} mm")
    return bad


def off_window(root: Widget) -> list[str]:
    bad = []
    for w in visible(root):
        if isinstance(w, (Label, ButtonBehavior)):
            x0, y0, x1, y1 = window_box(w)
            if x0 < -1 or y0 < -1 or x1 > Window.width + 1 or y1 > Window.height + 1:
                bad.append(f"{type(w).__name__} {getattr(w, 'text', '')[:30]!r} at "
                           f"{x0:.0f},{y0:.0f}-{x1:.0f},{y1:.0f}")
    return bad


def overlapping_targets(root: Widget) -> list[str]:
    """Two touch targets whose boxes intersect: a tap could hit the wrong one."""
    boxes = [(w, window_box(w)) for w in visible(root)
             if isinstance(w, ButtonBehavior) and not w.disabled]
    bad = []
    for i, (a, ba) in enumerate(boxes):
        for b, bb in boxes[i + 1:]:
            if a in b.walk() or b in a.walk():
                continue
            if ba[0] < bb[2] - 1 and bb[0] < ba[2] - 1 and ba[1] < bb[3] - 1 and bb[1] < ba[3] - 1:
                bad.append(f"{getattr(a, 'action', '')} / {getattr(b, 'action', '')}")
    return bad


def text_over_targets(root: Widget) -> list[str]:
    """Text drawn over a touch target it does not belong to (a layout overflowing)."""
    targets = [(w, window_box(w)) for w in visible(root)
               if isinstance(w, ButtonBehavior) and not w.disabled]
    bad = []
    for lbl in visible(root):
        if not isinstance(lbl, Label) or not lbl.text.strip():
            continue
        x0, y0, x1, y1 = window_box(lbl)
        for t, (a, b, c, d) in targets:
            if lbl in t.walk():
                continue
            if x0 < c - 2 and a < x1 - 2 and y0 < d - 2 and b < y1 - 2:
                bad.append(f"{lbl.text[:30]!r} over {getattr(t, 'action', '')}")
    return bad


def check_screen(root: Any) -> list[str]:
    return ([f"clipped {m}" for m in clipped_labels(root)]
            + [f"small target {m}" for m in small_targets(root)]
            + [f"off window {m}" for m in off_window(root)]
            + [f"overlap {m}" for m in overlapping_targets(root)]
            + [f"text over {m}" for m in text_over_targets(root)])
