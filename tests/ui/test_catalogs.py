"""Every UI string is a catalog key present in both languages; both catalogs have one set of
keys; placeholders agree between languages."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from ui.i18n import UI_LOCALE, Catalogs

ROOT = Path(__file__).resolve().parents[2]
UI = ROOT / "ui"
_KEY_USE = re.compile(r"""(?:\bt\(\s*|text\(\s*|f)['"]((?:ui|demo)\.[a-z0-9_.{}]+)['"]""")


def _po_keys(lang: str) -> dict[str, str]:
    po = (UI_LOCALE / lang / "LC_MESSAGES" / "ui.po").read_text(encoding="utf-8")
    pairs = re.findall(r'^msgid "(.+)"\nmsgstr "(.*)"$', po, flags=re.M)
    return dict(pairs)


def _used_keys() -> set[str]:
    used: set[str] = set()
    for path in [*UI.rglob("*.kv"), *UI.rglob("*.py")]:
        used.update(_KEY_USE.findall(path.read_text(encoding="utf-8")))
    return used


def test_both_languages_have_the_same_keys_and_no_empty_text() -> None:
    zh, en = _po_keys("zh_CN"), _po_keys("en")
    assert set(zh) == set(en), set(zh) ^ set(en)
    assert all(zh.values()) and all(en.values())


def test_placeholders_agree_between_languages() -> None:
    zh, en = _po_keys("zh_CN"), _po_keys("en")
    fmt = string.Formatter()
    for key in zh:
        names = {f for _, f, _, _ in fmt.parse(zh[key]) if f}
        assert names == {f for _, f, _, _ in fmt.parse(en[key]) if f}, key


def test_every_key_the_screens_use_is_in_both_catalogs() -> None:
    used = _used_keys()
    assert len(used) > 40, "the scan finds the keys the screens use"
    cat = Catalogs()
    for key in sorted(used):
        if "{" in key:  # f-string keys: every field the views name
            prefix = key.split("{")[0]
            assert any(k.startswith(prefix) for k in _po_keys("en")), key
            continue
        for lang in ("zh_CN", "en"):
            assert cat.lookup(key, lang) is not None, f"{key} missing in {lang}"


def test_a_missing_key_is_reported_not_hidden() -> None:
    cat = Catalogs()
    assert cat.text("ui.no_such_key", "en") == "ui.no_such_key"
    assert ("en", "ui.no_such_key") in cat.missing


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_core_message_keys_have_a_catalog(lang: str) -> None:
    cat = Catalogs()
    assert cat.lookup("state.menu.title", lang), "the core's kiosk catalog is compiled"
