"""Printed documents from data files: a template (kiosk/documents/templates/NAME.toml) and the
data of one journey become a printer `Document`, in Chinese or English.

A template declares which of its values are personal; those must arrive as `Masked` and print
masked (privacy rules, README "Privacy"): a raw string for a personal key is refused, so a
receipt cannot print a whole ID number by mistake. Values are formatted with `str.format`
fields (`{amount}`); tables (`rows`) lay out a list of records in columns measured in printer
cells (a CJK character takes two).
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from typing import Any, Literal

from drivers.personal import Masked
from drivers.printer.document import Block, Document, Feed, Line, Qr, Rule
from drivers.printer.encode import line_width

__all__ = ["TEMPLATES", "DocumentError", "Language", "render_document"]

Language = Literal["zh_CN", "en"]
TEMPLATES = ("payment_receipt", "insured_certificate", "contribution_statement", "test_page")


class DocumentError(ValueError):
    """A template or its data is wrong (a missing value, a raw personal value, a bad block)."""


@cache
def _template(name: str) -> dict[str, Any]:
    if name not in TEMPLATES:
        raise DocumentError(f"unknown document {name!r}; known: {', '.join(TEMPLATES)}")
    text = resources.files("kiosk.documents").joinpath(f"templates/{name}.toml").read_text("utf-8")
    return tomllib.loads(text)


def _cells(text: str) -> int:
    return sum(1 if ord(c) < 0x2E80 else 2 for c in text)


def _pad(text: str, width: int, align: str) -> str:
    while _cells(text) > width and text:
        text = text[:-1]
    gap = width - _cells(text)
    return " " * gap + text if align == "right" else text + " " * gap


class _Values(string.Formatter):
    def __init__(self, personal: set[str]) -> None:
        self.personal = personal

    def get_value(self, key: int | str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        if isinstance(key, int) or key not in kwargs:
            raise DocumentError(f"the document needs a value for {key!r}")
        value = kwargs[key]
        if key in self.personal and not isinstance(value, Masked):
            raise DocumentError(f"{key!r} is personal: it must be a Masked value")
        return value

    def format_field(self, value: Any, format_spec: str) -> Any:
        if isinstance(value, Masked):
            return value.masked  # printed masked, always
        return super().format_field(value, format_spec)


def _text(spec: Any, lang: Language) -> str:
    if isinstance(spec, str):
        return spec
    if isinstance(spec, dict) and lang in spec:
        return str(spec[lang])
    raise DocumentError(f"text {spec!r} has no {lang} version")


def render_document(
    name: str, data: Mapping[str, Any], *, lang: Language = "zh_CN", paper_dots: int = 576
) -> Document:
    """The document `name` filled with `data` in `lang`."""
    template = _template(name)
    fmt = _Values(set(template.get("personal", [])))
    width = line_width(paper_dots)
    blocks: list[Block] = []

    def fill(spec: Any, values: Mapping[str, Any]) -> str:
        return fmt.vformat(_text(spec, lang), (), values)

    for block in template.get("block", []):
        kind = block.get("kind")
        if kind == "line":
            blocks.append(
                Line(
                    fill(block["text"], data),
                    align=block.get("align", "left"),
                    bold=bool(block.get("bold", False)),
                    size=int(block.get("size", 1)),
                )
            )
        elif kind == "field":
            label = _text(block["label"], lang)
            value = fill(block["value"], data)
            room = width - _cells(label) - 1
            blocks.append(Line(label + " " + _pad(value, room, "right")))
        elif kind == "rule":
            blocks.append(Rule(block.get("char", "-")))
        elif kind == "feed":
            blocks.append(Feed(int(block.get("lines", 1))))
        elif kind == "qr":
            blocks.append(Qr(fill(block["data"], data), module=int(block.get("module", 6))))
        elif kind == "rows":
            blocks.extend(_rows(block, data, lang, width, fill))
        else:
            raise DocumentError(f"unknown block kind {kind!r} in {name}")
    return Document(name=name, blocks=tuple(blocks))


def _rows(
    block: dict[str, Any],
    data: Mapping[str, Any],
    lang: Language,
    width: int,
    fill: Any,
) -> list[Block]:
    records = data.get(block["source"])
    if not isinstance(records, Sequence):
        raise DocumentError(f"the document needs a list for {block['source']!r}")
    columns = block["columns"]
    total = sum(int(c["width"]) for c in columns)
    if total > width:
        raise DocumentError(f"columns of {block['source']} need {total} cells, paper has {width}")
    head = "".join(
        _pad(_text(c["title"], lang), int(c["width"]), c.get("align", "left")) for c in columns
    )
    out: list[Block] = [Line(head.rstrip(), bold=True)]
    for record in records:
        row = "".join(
            _pad(fill(c["value"], record), int(c["width"]), c.get("align", "left")) for c in columns
        )
        out.append(Line(row.rstrip()))
    if not records:
        out.append(Line(_text(block.get("empty", {"zh_CN": "（无记录）", "en": "(none)"}), lang)))
    return out
