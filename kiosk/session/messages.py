"""The session's message catalogs (gettext domain ``kiosk``, kiosk/locale/<lang>/LC_MESSAGES).

msgid is the dotted key a `Text` carries; msgstr the citizen's words. The UI may load the same
files with its own gettext machinery; `render` serves the CLI, logs for staff and tests.
`dynamic_keys` lists the keys the machine builds at run time (per state, service, tab...), so a
test can check every one is translated.
"""

from __future__ import annotations

import functools
from pathlib import Path

from babel.messages.pofile import read_po

from kiosk.session.view import Text

__all__ = ["DOMAIN", "LOCALE_DIR", "catalog", "dynamic_keys", "po_path", "render"]

DOMAIN = "kiosk"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def catalog(language: str) -> dict[str, str]:
    """key → text of one language (empty translations left out)."""
    with po_path(language).open("rb") as f:
        cat = read_po(f, locale=language, domain=DOMAIN)
    return {str(m.id): str(m.string) for m in cat if m.id and m.string}


def render(message: Text, language: str) -> str:
    """The message in `language`, parameters filled (masked values stay masked)."""
    return message.render(catalog(language))


def dynamic_keys() -> frozenset[str]:
    """Keys built from names at run time (the literal ones are found in the source)."""
    from kiosk.config.session import PolicyConfig
    from kiosk.session import activation
    from kiosk.session.flows import INQUIRY_TABS, UTILITIES
    from kiosk.session.machine import TECHNICIAN_ACTIONS
    from kiosk.session.results import ERROR_MESSAGES
    from kiosk.session.services import MenuGroup, ServiceId
    from kiosk.session.states import StateName

    keys: set[str] = set()
    keys |= {f"state.{s.value}.title" for s in StateName}
    keys |= {f"group.{g.value}" for g in MenuGroup}
    for service in ServiceId:
        keys |= {f"service.{service.value}", f"consent.purpose.{service.value}"}
    keys |= {f"tab.{t}" for t in INQUIRY_TABS}
    keys |= {f"insurance.{t}" for t in INQUIRY_TABS[:5]}
    keys |= {"account.pension", "account.medical", "inquiry.chart", "inquiry.table"}
    keys |= {f"utility.{u}" for u in UTILITIES}
    for what in ("employment_certificate", "unemployment_registration"):
        keys |= {f"request.{what}", f"confirm.{what}"}
    for action in ("report_loss", "cancel_loss"):
        keys |= {f"result.{action}", f"result.{action}.body", f"working.{action}",
                 f"confirm.{action}.warning"}
    keys |= {"consent.uses.face", "consent.uses.fingerprint"}
    desk = PolicyConfig.model_fields["help_desk"].annotation
    keys |= {f"desk.{d}" for d in getattr(desk, "__args__", ())}
    keys |= {f"field.{f}" for f in (*activation.FORM_FIELDS, *activation.EDITABLE)}
    for action in TECHNICIAN_ACTIONS:
        keys |= {f"maintenance.action.{action}", f"maintenance.done.{action}"}
    keys |= {f"pin.{p}" for p in ("old", "new", "repeat")}
    keys |= {f"progress.activation.{s}"
             for s in ("fingerprint", "approval", "card_write", "read_back", "confirmation")}
    keys |= {"retry.face", "retry.finger", "status.paid", "status.unpaid"}
    keys |= {f"swap.{s}" for s in ("remove_ssc", "insert_bank", "reading_bank", "remove_bank",
                                   "remove_bank_retry", "insert_ssc", "reading_ssc")}
    keys |= {f"menu.reason.device.{d}"
             for d in ("card_reader", "psam", "camera", "fingerprint", "printer",
                       "id_card_reader")}
    from kiosk.session.printing import PRINT_FAILURES

    keys |= {f"print.{t}" for t in ("insured_certificate", "payment_receipt",
                                    "contribution_statement")}
    keys |= set(PRINT_FAILURES.values())
    keys |= {"print.again", "print.done", "print.printing", "print.use_qr", "print.use_screen",
             "receipt.contribution", "qr.hold", "qr.refresh_hint"}
    keys |= {"consent.purpose.idcard_login", "consent.idcard_central", "idle.idcard",
             "idcard_login.place", "idcard_login.scope", "progress.idcard_read",
             "result.idcard_login_refused"}
    keys |= {"menu.reason.offline", "menu.reason.card_lost", "result.queued", "result.sent"}
    keys |= {"out_of_service.maintenance", "out_of_service.device"}
    for message, next_step in ERROR_MESSAGES.values():
        keys |= {message, next_step}
    return frozenset(keys)
