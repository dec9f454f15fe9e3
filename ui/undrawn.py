"""Widgets at opacity 0 leave the drawing: their canvas is swapped out of the parent's for an
empty placeholder, and swapped back in the same place when the opacity returns.

Kivy draws a widget at opacity 0 in full: every instruction of it is uploaded and drawn in
every frame, only blended to nothing. A screen's kv lists every part it may show and hides
the parts a view leaves empty at opacity 0 (ui/widgets.py `Body`), so about a third of each
screen's instructions were drawn for nobody. Under the software GL each drawn instruction
costs frame time, and llvmpipe keeps about 64 KB for every vertex buffer it has drawn.
With the camera screen this gave back about 30 MB, and the median switch is about 15 % faster
(bench/ui.py, A/B runs).

`install()` wraps three methods of Kivy's Widget, once per process (KioskUi.build calls it):
a wrapper of every widget, because the hidden parts are plain BoxLayouts and Labels of the
kv files as well as the product's own classes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.graphics.instructions import InstructionGroup
from kivy.uix.widget import Widget

__all__ = ["install", "is_undrawn"]

_PLACEHOLDER = "_undrawn_placeholder"
_installed = False


def is_undrawn(widget: Any) -> bool:
    """True while `widget`'s canvas is out of its parent's drawing."""
    return getattr(widget, _PLACEHOLDER, None) is not None


def _host(widget: Any) -> Any:
    """The canvas group that holds the widget's canvas (its parent's), or None."""
    parent = widget.parent
    return None if parent is None else getattr(parent, "canvas", None)


def _take_out(widget: Any) -> None:
    if is_undrawn(widget):
        return
    host = _host(widget)
    if host is None:
        return
    index = host.indexof(widget.canvas)
    if index < 0:  # in the parent's canvas.before/after (add_widget(canvas=...)): left drawn
        return
    placeholder = InstructionGroup()
    host.remove(widget.canvas)
    host.insert(index, placeholder)
    setattr(widget, _PLACEHOLDER, placeholder)


def _put_back(widget: Any) -> None:
    placeholder = getattr(widget, _PLACEHOLDER, None)
    if placeholder is None:
        return
    setattr(widget, _PLACEHOLDER, None)
    host = _host(widget)
    if host is None:
        return
    index = host.indexof(placeholder)
    if index < 0:
        return
    host.remove(placeholder)
    host.insert(index, widget.canvas)


def _siblings_out(parent: Any) -> list[Any]:
    return [c for c in getattr(parent, "children", ()) if is_undrawn(c)]


def install() -> None:
    """Wrap Widget.on_opacity, add_widget and remove_widget (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    on_opacity: Callable[..., None] = Widget.on_opacity
    add_widget: Callable[..., None] = Widget.add_widget
    remove_widget: Callable[..., None] = Widget.remove_widget

    def opacity_changed(self: Any, instance: Any, value: float) -> None:
        on_opacity(self, instance, value)
        if value == 0:
            _take_out(self)
        else:
            _put_back(self)

    def add(self: Any, widget: Any, *args: Any, **kwargs: Any) -> None:
        # Kivy places a child by finding its siblings' canvases: the ones out of the drawing
        # are put back for the moment, so the new child lands where Kivy would place it.
        out = _siblings_out(self)
        for sibling in out:
            _put_back(sibling)
        add_widget(self, widget, *args, **kwargs)
        for sibling in out:
            _take_out(sibling)
        if widget.opacity == 0:
            _take_out(widget)

    def remove(self: Any, widget: Any, *args: Any, **kwargs: Any) -> None:
        _put_back(widget)  # Kivy removes the canvas it finds: the widget's own, not a stand-in
        remove_widget(self, widget, *args, **kwargs)

    Widget.on_opacity = opacity_changed
    Widget.add_widget = add
    Widget.remove_widget = remove
