"""Automatic checks of a rendered screen: clipped text, target sizes, off-window boxes."""

from __future__ import annotations

from typing import Any

from kivy.core.window import Window
from kivy.metrics import Metrics
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from tests.ui.driver import visible
from ui.widgets import HiddenIgnoresTouch, TimeoutOverlay

MIN_TARGET_MM = 15.0


def mm(px: float) -> float:
    return float(px * 25.4 / Metrics.dpi)


def window_box(w: Widget) -> tuple[float, float, float, float]:
    x, y = w.to_window(w.x, w.y)
    return x, y, x + w.width, y + w.height


def overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float],
            slack: float) -> bool:
    """Two window boxes (x0, y0, x1, y1) intersect by more than `slack` pixels each way."""
    return (a[0] < b[2] - slack and b[0] < a[2] - slack
            and a[1] < b[3] - slack and b[1] < a[3] - slack)


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
            if a in b.walk(restrict=True) or b in a.walk(restrict=True):
                continue
            if overlap(ba, bb, 1):
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
        box = window_box(lbl)
        for t, target_box in targets:
            if lbl in t.walk(restrict=True):
                continue
            if overlap(box, target_box, 2):
                bad.append(f"{lbl.text[:30]!r} over {getattr(t, 'action', '')}")
    return bad


def _takes_touches(w: Widget) -> bool:
    """Would Kivy hand this widget a touch on its box? Buttons do, and any disabled widget,
    unless it or an ancestor lets touches pass (hidden, or an overlay not shown)."""
    if not (w.disabled or isinstance(w, ButtonBehavior)):
        return False
    node: Any = w
    while node is not None and node is not node.parent:
        if isinstance(node, HiddenIgnoresTouch) and node.is_hidden():
            return False
        if isinstance(node, TimeoutOverlay) and not node.shown:
            return False
        node = node.parent
    return True


def hidden_touch_takers(root: Widget) -> list[str]:
    """A widget not drawn that would still take the touch meant for a shown button."""
    shown = set(visible(root))
    targets = [(w, window_box(w)) for w in shown
               if isinstance(w, ButtonBehavior) and not w.disabled]
    bad = []
    for w in root.walk(restrict=True):
        if w in shown or w.width <= 0 or w.height <= 0 or not _takes_touches(w):
            continue
        box = window_box(w)
        for t, target_box in targets:
            if overlap(box, target_box, 1) and w not in t.walk(restrict=True):
                bad.append(f"hidden {type(w).__name__} {getattr(w, 'action', '')!r} "
                           f"over {getattr(t, 'action', '')}")
    return bad


def check_screen(root: Any) -> list[str]:
    return ([f"clipped {m}" for m in clipped_labels(root)]
            + [f"small target {m}" for m in small_targets(root)]
            + [f"off window {m}" for m in off_window(root)]
            + [f"overlap {m}" for m in overlapping_targets(root)]
            + [f"text over {m}" for m in text_over_targets(root)]
            + [f"touch taken by {m}" for m in hidden_touch_takers(root)])
