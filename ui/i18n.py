"""Translations for the screens: gettext catalogs for UI strings (domain `ui`, ui/locale) and
the core's message keys (domain `kiosk`, kiosk/locale). Kivy-free.

Every msgid is a dotted key (`attract.title`), never an English sentence, so a key that no
catalog translates is visible as such and counted in `missing` (a test fails on any).
"""

from __future__ import annotations

import gettext
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Protocol

from drivers.personal import Masked

__all__ = ["KIOSK_LOCALE", "LANGUAGES", "UI_LOCALE", "Catalogs", "TextLike"]

log = logging.getLogger("ui.i18n")

UI_LOCALE = Path(__file__).resolve().parent / "locale"
KIOSK_LOCALE = Path(__file__).resolve().parents[1] / "kiosk" / "locale"
LANGUAGES: tuple[str, ...] = ("zh_CN", "en")


class TextLike(Protocol):
    """A message key with parameters (kiosk.session.view.Text)."""

    @property
    def key(self) -> str: ...

    @property
    def params(self) -> tuple[tuple[str, object], ...]: ...


def _load(domain: str, folder: Path, lang: str) -> gettext.NullTranslations:
    try:
        return gettext.translation(domain, str(folder), [lang])
    except OSError:
        log.warning("no %s catalog for %s in %s (run scripts/compile-catalogs.sh)", domain, lang,
                    folder)
        return gettext.NullTranslations()


class Catalogs:
    """Looks keys up in the UI catalog, then the core's; formats parameters; records misses."""

    def __init__(
        self, languages: Iterable[str] = LANGUAGES, *, ui_dir: Path = UI_LOCALE,
        kiosk_dir: Path = KIOSK_LOCALE,
    ) -> None:
        self.languages = tuple(languages)
        self._domains = {
            lang: (_load("ui", ui_dir, lang), _load("kiosk", kiosk_dir, lang))
            for lang in self.languages
        }
        self.missing: set[tuple[str, str]] = set()

    def lookup(self, key: str, lang: str) -> str | None:
        """The catalog text of `key` in `lang`, or None."""
        for domain in self._domains.get(lang, ()):
            found = domain.gettext(key)
            if found != key:
                return found
        return None

    def text(self, key: str, lang: str, params: Mapping[str, object] | None = None) -> str:
        """The translated text; a missing key shows as itself and is recorded."""
        template = self.lookup(key, lang)
        if template is None:
            self.missing.add((lang, key))
            log.warning("missing %s translation of %r", lang, key)
            template = key
        if not params:
            return template
        shown = {k: self.cell(v, lang) for k, v in params.items()}
        try:
            return template.format(**shown)
        except (KeyError, IndexError, ValueError):
            log.warning("catalog text of %r does not fit its parameters %s", key, sorted(shown))
            self.missing.add((lang, key))
            return template

    def render(self, value: TextLike, lang: str) -> str:
        """A `Text` (key + parameters) in `lang`."""
        return self.text(value.key, lang, dict(value.params))

    def cell(self, value: object, lang: str) -> str:
        """Any value a view holds: a `Masked` shows masked, a `Text` translated, else str()."""
        if isinstance(value, Masked):
            return value.masked
        if hasattr(value, "key") and hasattr(value, "params"):
            return self.render(value, lang)
        if isinstance(value, float):
            return f"{value:,.2f}"
        return str(value)
