"""Views as a journey sees them: a flat, masked snapshot to print and to match `expect` on.

The session's views are frozen dataclasses (kiosk/session/views.py); this module reads them
by their public attributes only, renders every personal value through `str()` (so a `Masked`
shows its mask, exactly as on screen) and never calls `reveal()`.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kiosk.journeys.rig import ProfileSecrets
from kiosk.journeys.spec import Expect

__all__ = ["ViewSnapshot", "mismatches", "render"]

# attribute names, first found wins: the session's names first, then plain fallbacks
_SCREEN = ("state", "screen", "name")
_TITLE = ("title",)
_ALLOWS = ("intents", "allowed", "allows")


def _first(obj: object, names: Iterable[str]) -> Any:
    for name in names:
        if isinstance(obj, Mapping) and name in obj:
            return obj[name]
        if hasattr(obj, name):
            return getattr(obj, name)
    return None


def _word(value: object) -> str:
    """An enum as its value, a class as its name, None as "", anything else as str()."""
    if value is None:
        return ""
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, type):
        return value.__name__
    key = _first(value, ("key",))  # a message `Text`: its key
    if isinstance(key, str):
        return key
    return str(value)


def _error(view: object) -> str:
    """The error's stable code when it has one, else its message key."""
    error = _first(view, ("error",))
    if error is None:
        return ""
    code = _first(error, ("code",))
    if isinstance(code, str) and code:
        return code
    return _word(_first(error, ("message",)) or error)


def _rows(view: object) -> int:
    table = _first(view, ("table",))
    rows = _first(table, ("rows",)) if table is not None else _first(view, ("rows",))
    return len(rows or ())


def render(value: object, depth: int = 0) -> str:
    """The whole of `value` as one masked line: dataclasses and mappings by field, sequences
    by item, personal values through their own `str()` (the mask)."""
    if depth > 6:
        return "…"
    if value is None:
        return ""
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, str | int | float | bool):
        return str(value)
    if isinstance(value, bytes | bytearray):
        return f"<{len(value)} bytes>"
    key, params = getattr(value, "key", None), getattr(value, "params", None)
    if isinstance(key, str) and isinstance(params, tuple):  # a message `Text`
        shown = ",".join(f"{k}={render(v, depth + 1)}" for k, v in params)
        return f"{key}({shown})" if shown else key
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        parts = (
            f"{f.name}={render(getattr(value, f.name), depth + 1)}"
            for f in dataclasses.fields(value)
            if not f.name.startswith("_")
        )
        return "{" + " ".join(parts) + "}"
    if isinstance(value, Mapping):
        return "{" + " ".join(f"{k}={render(v, depth + 1)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple | set | frozenset):
        return "[" + ", ".join(render(v, depth + 1) for v in value) + "]"
    return str(value)  # Masked and friends mask themselves


@dataclass(frozen=True, slots=True)
class ViewSnapshot:
    """What a journey step checks: names of the screen, title, error and allowed intents, the
    number of list rows, and the full masked rendering."""

    screen: str
    title: str
    error: str
    allows: tuple[str, ...]
    rows: int
    text: str
    details: tuple[str, ...] = ()

    @classmethod
    def of(cls, view: object) -> ViewSnapshot:
        allows = _first(view, _ALLOWS) or ()
        return cls(
            screen=_word(_first(view, _SCREEN)),
            title=_word(_first(view, _TITLE)),
            error=_error(view),
            allows=tuple(sorted(_word(a) for a in allows)),
            rows=_rows(view),
            text=render(view),
            details=tuple(_details(view)),
        )

    def line(self) -> str:
        """One line for the transcript."""
        out = f"[{self.screen}] {self.title}"
        if self.error:
            out += f"  error={self.error}"
        return out

    def lines(self) -> list[str]:
        """The header line and what the screen shows below it (masked)."""
        return [self.line(), *(f"    {d}" for d in self.details)]


def _details(view: object) -> list[str]:
    out: list[str] = []
    for f in _first(view, ("fields",)) or ():
        label = _word(_first(f, ("label",)) or _first(f, ("id",)))
        out.append(f"{label}: {render(_first(f, ('value',)))}")
    rows = _rows(view)
    if rows:
        out.append(f"rows: {rows}")
    pin = _first(view, ("pin",))
    tries = _first(pin, ("tries_left",)) if pin is not None else None
    if tries is not None:
        out.append(f"PIN tries left: {tries}")
    error = _first(view, ("error",))
    if error is not None:
        nxt = _first(error, ("next_step",))
        out.append(f"error: {_error(view)}" + (f" → {_word(nxt)}" if nxt is not None else ""))
    intents = sorted(_word(a) for a in (_first(view, _ALLOWS) or ()))
    if intents:
        out.append("intents: " + " ".join(intents))
    return out


def _expand(fragment: str, secrets: ProfileSecrets) -> str:
    """`$id_number`, `$name`, `$card_number`, `$pin` stand for the card profile's values."""
    for key in ("id_number", "card_number", "name", "pin"):
        fragment = fragment.replace(f"${key}", getattr(secrets, key))
    return fragment


def mismatches(expect: Expect, snap: ViewSnapshot, secrets: ProfileSecrets) -> list[str]:
    """Every way `snap` differs from `expect` (empty: it matches)."""
    out: list[str] = []
    if expect.screen is not None and snap.screen != expect.screen:
        out.append(f"screen is {snap.screen!r}, expected {expect.screen!r}")
    if expect.title is not None and snap.title != expect.title:
        out.append(f"title is {snap.title!r}, expected {expect.title!r}")
    if expect.error is not None:
        want = "" if expect.error == "none" else expect.error
        if snap.error != want:
            out.append(f"error is {snap.error or 'none'!r}, expected {expect.error!r}")
    missing = [a for a in expect.allows if a not in snap.allows]
    if missing:
        out.append(f"intents {missing} not allowed (allowed: {list(snap.allows)})")
    for fragment in expect.text:
        if _expand(fragment, secrets) not in snap.text:
            out.append(f"{fragment!r} not shown")
    for fragment in expect.absent:
        raw = _expand(fragment, secrets)
        if raw and raw in snap.text:
            out.append(f"{fragment!r} is shown and must not be")
    if expect.rows_min is not None and snap.rows < expect.rows_min:
        out.append(f"{snap.rows} rows, expected at least {expect.rows_min}")
    return out
