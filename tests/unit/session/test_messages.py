"""Every message key the session uses has en and zh_CN text, and the catalogs compile."""

from __future__ import annotations

import ast
import gettext
import io
import re
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from kiosk.session import messages
from kiosk.session.results import ERROR_MESSAGES
from kiosk.session.view import Text, text

SESSION_SRC = Path(messages.__file__).parent
# A dotted key: lowercase words joined by dots, at least two parts, with a known first part.
KEY = re.compile(
    r"^(state|idle|take_card|card_left|out_of_service|desk|menu|group|service|notice|session|"
    r"pin|consent|face|retry|progress|working|tab|insurance|account|inquiry|chart|table|col|"
    r"status|field|certificate|utility|training|request|confirm|result|activation|swap|error|"
    r"next|validation|maintenance)\.[a-z_.]+$"
)


# Constants of the same shape that are not message keys: error codes (ErrorCode values mapped by
# results.ERROR_MESSAGES) and a prefix tested with startswith.
NOT_KEYS = set(ERROR_MESSAGES) | {"menu.reason.device"}


def literal_keys() -> set[str]:
    """String constants in kiosk/session that look like message keys (the static uses)."""
    found: set[str] = set()
    for path in SESSION_SRC.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                value = node.value
                if KEY.match(value) and not value.endswith(".") and value not in NOT_KEYS:
                    found.add(value)
    return found


def used_keys() -> set[str]:
    return literal_keys() | set(messages.dynamic_keys())


def test_the_scan_finds_the_keys_it_should() -> None:
    keys = used_keys()
    assert {"idle.insert_card", "error.pin_wrong", "state.menu.title", "working.payment",
            "validation.phone", "progress.reading_card", "desk.counter"} <= keys
    assert len(keys) > 250


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_every_key_has_text(language: str) -> None:
    cat = messages.catalog(language)
    missing = sorted(k for k in used_keys() if not cat.get(k, "").strip())
    assert missing == [], f"{language} lacks {missing}"


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_catalog_compiles_and_gettext_reads_it(language: str) -> None:
    with messages.po_path(language).open("rb") as f:
        cat = read_po(f, locale=language, domain="kiosk")
    assert not cat.fuzzy
    buf = io.BytesIO()
    write_mo(buf, cat)
    buf.seek(0)
    translations = gettext.GNUTranslations(buf)
    assert translations.gettext("state.idle.title") == messages.catalog(language)[
        "state.idle.title"
    ]


def test_placeholders_match_between_languages() -> None:
    en, zh = messages.catalog("en"), messages.catalog("zh_CN")
    field = re.compile(r"\{(\w+)\}")
    for key, english in en.items():
        assert set(field.findall(english)) == set(field.findall(zh[key])), key


def test_no_catalog_key_is_dead() -> None:
    # A key nobody uses is a translation nobody maintains: keep the catalogs to what is used.
    unused = sorted(set(messages.catalog("en")) - used_keys())
    assert unused == []


def test_render_fills_parameters_and_nested_messages() -> None:
    t = text("out_of_service.help", desk=text("desk.counter"))
    assert messages.render(t, "en") == "Please go to the service counter or use another machine."
    assert "服务窗口" in messages.render(t, "zh_CN")
    assert isinstance(t, Text)


def test_zh_texts_are_chinese() -> None:
    zh = messages.catalog("zh_CN")
    latin_only = [k for k, v in zh.items() if not re.search(r"[\u4e00-\u9fff]", v)]
    assert latin_only == []
