"""What a screen shows: frozen, Kivy-free descriptions the UI renders and tests assert on.

Text is a message key (gettext domain ``kiosk``, msgid = the dotted key) with parameters, never an
English sentence, so the UI translates. Personal values stay `Masked`: a field marked `revealed`
lets the UI call `reveal()` for that one view; nothing here ever holds a PIN.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeAlias

from drivers.personal import Masked

__all__ = [
    "Cell",
    "Chart",
    "Choice",
    "ErrorInfo",
    "FieldView",
    "PinSpec",
    "Progress",
    "Series",
    "Step",
    "Table",
    "Text",
    "TextKind",
    "TextSpec",
    "TimeoutInfo",
    "View",
    "text",
]

ParamValue: TypeAlias = "str | int | float | Masked | Text"
"""A parameter: plain, masked, or a nested message the UI translates first."""


@dataclass(frozen=True, slots=True)
class Text:
    """A message key and its parameters (``{name}`` placeholders in the catalog text)."""

    key: str
    params: tuple[tuple[str, ParamValue], ...] = ()

    def params_dict(self) -> dict[str, ParamValue]:
        return dict(self.params)

    def render(self, catalog: Mapping[str, str]) -> str:
        """The text with its parameters, masked values shown masked (tests, CLI)."""
        template = catalog.get(self.key, self.key)
        values = _Params(
            {k: v.render(catalog) if isinstance(v, Text) else str(v) for k, v in self.params}
        )
        return template.format_map(values)


class _Params(dict[str, str]):
    """A missing parameter renders empty instead of raising: a screen never shows a traceback."""

    def __missing__(self, key: str) -> str:
        return ""


def text(key: str, **params: ParamValue) -> Text:
    """`Text(key, params)` from keyword arguments, in a stable order."""
    return Text(key, tuple(sorted(params.items())))


Cell = str | Masked | Text
"""A value on the screen: plain (amounts, periods), a masked personal value, or a message."""


@dataclass(frozen=True, slots=True)
class FieldView:
    """One labelled value. `revealed` is True only after the holder tapped reveal on this view."""

    id: str
    label: Text
    value: Cell
    revealable: bool = False
    revealed: bool = False

    def display(self) -> str | Text:
        """What the UI shows: the masked form unless revealed (raw only then)."""
        if isinstance(self.value, Masked):
            return self.value.reveal() if self.revealed else self.value.masked
        return self.value


@dataclass(frozen=True, slots=True)
class Step:
    """Wizard position: step `n` of `of` (1-based)."""

    n: int
    of: int


@dataclass(frozen=True, slots=True)
class Table:
    """Rows of one page; `columns` are message keys, `row_ids` identify rows for `Choose`."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    page: int = 1
    pages: int = 1
    row_ids: tuple[str, ...] = ()
    empty: Text | None = None


@dataclass(frozen=True, slots=True)
class Series:
    """One chart series: `label` key and (x label, value) points, e.g. year → yuan."""

    label: Text
    points: tuple[tuple[str, float], ...]
    unit: str = "yuan"


@dataclass(frozen=True, slots=True)
class Chart:
    """A bar chart of one or more series."""

    title: Text
    series: tuple[Series, ...]


@dataclass(frozen=True, slots=True)
class Choice:
    """A tile, button or list entry; a disabled one says why (`reason`) and where to get help."""

    id: str
    label: Text
    icon: str = ""
    enabled: bool = True
    reason: Text | None = None
    selected: bool = False


@dataclass(frozen=True, slots=True)
class Progress:
    """`fraction` in 0..1, or None while the length is unknown (indeterminate)."""

    label: Text
    fraction: float | None = None


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """What went wrong in the citizen's words, and what to do next."""

    message: Text
    next_step: Text
    code: str = ""  # the stable error code (drivers.vocabulary.ErrorCode), for statistics


@dataclass(frozen=True, slots=True)
class TimeoutInfo:
    """Inactivity timer of the state (WCAG 2.2.1): the UI shows the warning with "more time"."""

    seconds_left: float
    warning: bool
    extensions_left: int
    total_s: float


@dataclass(frozen=True, slots=True)
class PinSpec:
    """The PIN pad: the UI collects digits into a `PinBuffer` and sends `EnterPin`."""

    min_length: int
    max_length: int
    tries_left: int | None = None
    scrambled: bool = False
    purpose: str = "verify"  # verify, old, new, repeat


class TextKind(StrEnum):
    """Which keypad the UI offers."""

    DIGITS = "digits"
    ID_NUMBER = "id_number"  # digits and X
    PHONE = "phone"
    TEXT = "text"


@dataclass(frozen=True, slots=True)
class TextSpec:
    """A text input for `field`; `validation` is the message of the last refused value."""

    field: str
    kind: TextKind
    max_length: int
    min_length: int = 1
    validation: Text | None = None
    value: Cell = ""


@dataclass(frozen=True, slots=True)
class View:
    """Everything one screen shows. `intents` are the intent class names the state accepts."""

    state: str
    title: Text
    body: tuple[Text, ...] = ()
    step: Step | None = None
    fields: tuple[FieldView, ...] = ()
    table: Table | None = None
    chart: Chart | None = None
    choices: tuple[Choice, ...] = ()
    intents: frozenset[str] = field(default_factory=frozenset)
    progress: Progress | None = None
    error: ErrorInfo | None = None
    notices: tuple[Text, ...] = ()
    voice: Text | None = None
    timeout: TimeoutInfo | None = None
    pin: PinSpec | None = None
    text_input: TextSpec | None = None
    qr: str | None = None
    preview: str = ""  # a device whose live picture the screen shows ("camera": the QR scan)
    language: str = "zh_CN"
    elderly: bool = False
    staff_called: bool = False
    service: str = ""
