"""What each screen makes the GL fill per frame. Under the software GL every frame repaints the
whole window and a window-sized fill costs 8-17 ms at 1080p on this machine, so: nothing hidden
is drawn (Kivy draws a widget at opacity 0 all the same: ui/undrawn.py takes it out), no stencil
clip where nothing needs clipping, and no rectangle repaints the page the window's clear already
painted."""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any

import pytest
from kivy.core.window import Window
from kivy.graphics import (
    BorderImage,
    Color,
    Ellipse,
    Line,
    Rectangle,
    RoundedRectangle,
    StencilPush,
)
from kivy.graphics.instructions import InstructionGroup
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from ui.demo_views import demo_views
from ui.theme import ICONS

FILLS = (Rectangle, RoundedRectangle, Ellipse, BorderImage)


def _drawn_groups() -> set[int]:
    """The ids of every instruction group the window draws (its canvas tree, walked)."""
    seen: set[int] = set()
    todo: list[Any] = [Window.canvas]
    while todo:
        group = todo.pop()
        seen.add(id(group))
        todo.extend(c for c in group.children if isinstance(c, InstructionGroup))
    return seen


def _fills(widget: Any, hidden: bool = False,
           drawn: set[int] | None = None) -> list[tuple[float, bool, Any]]:
    """(area in px, under a hidden widget, instruction) of every filled shape below `widget`
    that the window draws."""
    hidden = hidden or widget.opacity == 0
    drawn = _drawn_groups() if drawn is None else drawn
    found = []
    for canvas in (widget.canvas.before, widget.canvas, widget.canvas.after):
        for ins in canvas.children if canvas is not None and id(canvas) in drawn else ():
            if isinstance(ins, FILLS):
                found.append((abs(ins.size[0] * ins.size[1]), hidden, ins))
    for child in widget.children:
        found.extend(_fills(child, hidden, drawn))
    return found


@pytest.mark.parametrize("elderly", [False, True], ids=["normal", "elderly"])
def test_screens_fill_the_window_about_once_and_hidden_parts_little(
    ui_driver: Any, elderly: bool,
) -> None:
    app = ui_driver.app
    window = Window.width * Window.height
    report = {}
    for name, view in demo_views("en", elderly).items():
        app.show(view)
        ui_driver.pump(2)
        fills = _fills(app.root)
        shown = sum(a for a, h, _ in fills if not h) / window
        hidden = sum(a for a, h, _ in fills if h) / window
        full = [i for a, _, i in fills if a >= 0.9 * window]
        report[name] = (round(shown, 2), round(hidden, 2), len(full))
    # before: 3.5-4.4 windows shown and 1.3-1.6 hidden on every screen (stencil clip, a page
    # rectangle, the timeout warning's shade and the fingerprint panel at opacity 0); then, up
    # to a third of the window of a collapsed row's buttons, the technician's hidden keypad
    bad = {k: v for k, v in report.items() if not (v[0] <= 1.6 and v[1] == 0 and v[2] == 0)}
    assert not bad, bad
    stencils = [i for c in (app.root.canvas.before, app.root.canvas.after)
                for i in c.children if isinstance(i, StencilPush)]
    assert not stencils, "the screen manager fills the window: nothing for a stencil to clip"


def _lines(widget: Any) -> list[tuple[float, Any, Any]]:
    """(alpha of the colour it is drawn in, the Line, its widget) of every line below `widget`."""
    found = []
    for canvas in (widget.canvas.before, widget.canvas, widget.canvas.after):
        alpha = 1.0
        for ins in canvas.children if canvas is not None else ():
            if isinstance(ins, Color):
                alpha = ins.rgba[3]
            elif isinstance(ins, Line):
                found.append((alpha, ins, widget))
    for child in widget.children:
        found.extend(_lines(child))
    return found


@pytest.mark.parametrize("elderly", [False, True], ids=["normal", "elderly"])
def test_no_screen_draws_wide_lines_nobody_sees(ui_driver: Any, elderly: bool) -> None:
    """Kivy draws a line wider than 1 px in a colour with alpha below 1 through a stencil: a
    push, the line, a fill of its bounding box, the line again, a pop. Every button's hidden
    focus rings and the border of every primary button went that way, and the software GL kept
    up to 0.7 MB of its heap per such line. Lines not shown are 1 px (Kivy's plain GL line),
    and a rounded border has a few segments a corner, not Kivy's default 30 with round joints.
    """
    app = ui_driver.app
    wide_hidden: dict[str, int] = {}
    heavy: dict[str, int] = {}
    for name, view in demo_views("en", elderly).items():
        app.show(view)
        ui_driver.pump(2)
        app._set_focus(None)  # no ring shown: every ring is a hidden line
        ui_driver.pump(1)
        lines = _lines(app.root)
        assert lines, name
        hidden = [ln for a, ln, _ in lines if a < 1 and ln.width > 1]
        if hidden:
            wide_hidden[name] = len(hidden)
        # points of a line as built: a 30-segment rounded rectangle is 124 of them
        many = [ln for _, ln, _ in lines if ln.rounded_rectangle and len(ln.points) > 2 * 40]
        if many:
            heavy[name] = len(many)
    app.focus_default()
    assert not wide_hidden, wide_hidden
    assert not heavy, heavy


def test_one_focus_ring_for_the_window_around_the_focused_target(ui_driver: Any) -> None:
    """Every focusable widget drew two rings of its own, transparent until it had the focus: a
    third of each screen's lines for one ring shown at a time. The window has one now, on top
    of the screen (the timeout warning's "more time" included), around the focused target."""
    from ui.theme import hex_rgba

    app = ui_driver.app
    ring = app.ring
    assert ring.parent is Window and Window.children[0] is ring, "drawn last, on top"
    yellow = tuple(hex_rgba("focus_outer"))
    for name, view in demo_views("en").items():
        app.show(view)
        ui_driver.pump(3)
        own = [ln for a, ln, w in _lines(app.root)
               if any(tuple(c.rgba) == yellow for c in w.canvas.after.children
                      if isinstance(c, Color))]
        assert not own, (name, "a widget draws a ring of its own")
        target = app.focused()
        if target is None:
            assert ring.drawn is None, name
            continue
        x, y = target.to_window(target.x, target.y)
        assert ring.drawn == (round(x, 1), round(y, 1), round(target.width, 1),
                              round(target.height, 1)), name
    screen: Any = app.screen
    screen.timeout_warning = True
    ui_driver.pump(2)
    app.focus_default()
    ui_driver.pump(1)
    assert ring.target is not None and ring.target.parent is not None
    assert ring.drawn is not None, "the warning's button is ringed above its shade"
    screen.timeout_warning = False
    ui_driver.pump(2)


def test_the_timeout_warning_is_drawn_only_while_it_shows(ui_driver: Any) -> None:
    app = ui_driver.app
    app.show(demo_views("en")["menu"])
    ui_driver.pump(2)
    screen: Any = app.screen
    overlay: Any = screen._overlay
    assert overlay not in screen.children
    screen.timeout_warning = True
    ui_driver.pump(2)
    assert overlay.parent is screen and screen.children[0] is overlay, "on top of the screen"
    shade = max(a for a, _, _ in _fills(overlay))
    assert shade >= 0.9 * Window.width * Window.height, "the warning shades the whole screen"
    screen.timeout_warning = False
    ui_driver.pump(1)
    assert overlay not in screen.children


@pytest.mark.parametrize("elderly", [False, True], ids=["normal", "elderly"])
def test_wizard_progress_says_each_step_by_shape_and_number(
    ui_driver: Any, elderly: bool,
) -> None:
    from ui.drawn import StepDots

    app = ui_driver.app
    view = replace(demo_views("zh_CN", elderly)["activation"], text_input=None)
    assert view.step is not None and (view.step.n, view.step.of) == (3, 8)
    app.show(view)
    ui_driver.pump(3)
    dots = next(w for w in app.screen.walk() if isinstance(w, StepDots))
    labels = sorted((w for w in dots.children if isinstance(w, Label)), key=lambda w: w.x)
    assert [w.text for w in labels] == [ICONS["done"]] * 2 + [str(i) for i in range(3, 9)]
    assert [w.bold for w in labels] == [False, False, True] + [False] * 5, "current is bold"
    assert all(w.font_name == "Icons" for w in labels[:2]), "a done step shows a check"
    gaps = {round(b.center_x - a.center_x) for a, b in itertools.pairwise(labels)}
    assert len(gaps) == 1, "evenly spaced on one line"
    assert labels[0].x >= dots.x and labels[-1].right <= dots.right
    assert {round(w.center_y) for w in labels} == {round(dots.center_y)}
    assert labels[0].height >= dots.height * 0.6, "large enough to read"


def _hidden_canvases(widget: Any, hidden: bool = False) -> list[tuple[str, Any]]:
    hidden = hidden or widget.opacity == 0
    found = [(type(widget).__name__, widget.canvas)] if hidden else []
    for child in widget.children:
        found.extend(_hidden_canvases(child, hidden))
    return found


@pytest.mark.parametrize("elderly", [False, True], ids=["normal", "elderly"])
def test_no_screen_draws_a_part_it_hides(ui_driver: Any, elderly: bool) -> None:
    """A part at opacity 0 (an empty banner, a collapsed row, the keypad the technician has
    not opened) is out of the window's drawing: Kivy would upload and draw every instruction
    of it in every frame."""
    app = ui_driver.app
    report = {}
    for name, view in demo_views("en", elderly).items():
        app.show(view)
        ui_driver.pump(2)
        drawn = _drawn_groups()
        hidden = _hidden_canvases(app.root)
        assert hidden or name in {"reading", "working"}, f"{name}: nothing hidden to check"
        still = [kind for kind, canvas in hidden if id(canvas) in drawn]
        if still:
            report[name] = still
    assert not report, report


def test_a_hidden_widget_comes_back_where_it_was_drawn(ui_driver: Any) -> None:
    """Taken out and put back, a widget keeps its place among its siblings (the one above it
    stays above), a child added beside a hidden one lands where Kivy places it, and a hidden
    widget removed leaves nothing of itself in its parent's drawing."""
    parent = Widget()
    first, middle, last = Widget(), Widget(), Widget()
    for child in (first, middle, last):
        parent.add_widget(child)
    order = [c.canvas for c in (first, middle, last)]
    assert [c for c in parent.canvas.children if c in order] == order

    middle.opacity = 0
    assert middle.canvas not in parent.canvas.children
    assert len(parent.canvas.children) == 3, "a stand-in holds the middle's place"
    between = Widget()
    parent.add_widget(between, index=1)  # drawn after the middle one, before the last
    middle.opacity = 1
    shown = [c for c in parent.canvas.children
             if c in order or c is between.canvas]
    assert shown == [first.canvas, middle.canvas, between.canvas, last.canvas]

    last.opacity = 0
    parent.remove_widget(last)
    assert last.canvas not in parent.canvas.children
    assert len(parent.canvas.children) == 3
    parent.add_widget(last)
    assert last.canvas not in parent.canvas.children, "added at opacity 0: still out"
    last.opacity = 1
    assert parent.canvas.children[-1] is last.canvas
