"""One view per screen with fictitious demo data: `kiosk screenshots` and the UI tests render
these when no session runs. The data are invented (no real person)."""

from __future__ import annotations

from dataclasses import replace

from drivers.personal import Masked, PersonalKind
from kiosk.session.services import SERVICE_ICONS, ServiceId
from kiosk.session.view import (
    Chart,
    Choice,
    ErrorInfo,
    FieldView,
    PinSpec,
    Progress,
    Series,
    Step,
    Table,
    Text,
    TextKind,
    TextSpec,
    TimeoutInfo,
    View,
    text,
)

__all__ = ["DEMO_ID", "DEMO_NAME", "demo_views"]

DEMO_NAME = "王玥"
DEMO_ID = "110101195806120012"
_CITIZEN = frozenset({"Back", "Cancel", "CallStaff", "SetLanguage", "MoreTime", "Touch"})


def _timer(left: float = 58, warning: bool = False) -> TimeoutInfo:
    return TimeoutInfo(seconds_left=left, warning=warning, extensions_left=10, total_s=60)


def _holder() -> tuple[FieldView, ...]:
    return (
        FieldView("name", text("demo.field.name"), Masked(DEMO_NAME, PersonalKind.NAME),
                  revealable=True),
        FieldView("id_number", text("demo.field.id_number"),
                  Masked(DEMO_ID, PersonalKind.ID_NUMBER), revealable=True),
    )


def _tile(service: ServiceId, enabled: bool = True, reason: Text | None = None) -> Choice:
    """A menu tile with the service's own icon (the one its screen's heading shows)."""
    return Choice(service.value, text(f"demo.service.{service.value}"), SERVICE_ICONS[service],
                  enabled, reason)


def demo_views(language: str = "zh_CN", elderly: bool = False) -> dict[str, View]:
    """Screen name -> a view that shows it."""
    t = text
    views = {
        "attract": View("idle", t("demo.attract.title"), (t("demo.attract.body"),),
                        intents=frozenset({"SetLanguage", "SetElderly", "CallStaff"})),
        "reading": View("reading_card", t("demo.reading.title"), (t("demo.reading.body"),),
                        progress=Progress(t("demo.reading.progress")),
                        intents=frozenset({"CallStaff", "SetLanguage"})),
        "pin": View("pin_entry", t("demo.pin.title"), (t("demo.pin.body"),),
                    step=Step(2, 4), pin=PinSpec(6, 6, tries_left=2),
                    error=ErrorInfo(t("demo.pin.wrong", n=2), t("demo.pin.wrong_next")),
                    intents=_CITIZEN | {"EnterPin"}, timeout=_timer()),
        "consent": View("consent", t("demo.consent.title"),
                        (t("demo.consent.purpose"), t("demo.consent.kept"),
                         t("demo.consent.alternative")), step=Step(3, 4),
                        intents=_CITIZEN | {"ConsentGiven", "ConsentRefused"},
                        timeout=_timer()),
        "identity": View("face_check", t("demo.face.title"), (t("demo.face.body"),),
                         notices=(t("demo.face.quality_far"),), step=Step(3, 4),
                         intents=frozenset({"Cancel", "CallStaff", "SetLanguage"})),
        "menu": View("menu", t("demo.menu.title"), (t("demo.menu.body"),), choices=(
            _tile(ServiceId.INQUIRY), _tile(ServiceId.CERTIFICATE),
            _tile(ServiceId.UTILITY_PAYMENT), _tile(ServiceId.ACTIVATION),
            _tile(ServiceId.PENSION_QUALIFICATION),
            _tile(ServiceId.LOSS_REPORT, enabled=False, reason=t("demo.service.offline")),
        ), intents=_CITIZEN | {"ChooseService", "Reveal"}, timeout=_timer()),
        "inquiry": View(
            "inquiry", t("demo.inquiry.title"), fields=(
                FieldView("balance", t("demo.inquiry.balance"), "48,236.50"),
                FieldView("months", t("demo.inquiry.months"), "312"),
            ),
            choices=(Choice("pension", t("demo.insurance.pension"), selected=True),
                     Choice("medical", t("demo.insurance.medical")),
                     Choice("unemployment", t("demo.insurance.unemployment"))),
            table=Table(("demo.col.period", "demo.col.base", "demo.col.personal",
                         "demo.col.employer"),
                        (("2024-06", "6,820.00", "545.60", "1,091.20"),
                         ("2024-05", "6,820.00", "545.60", "1,091.20"),
                         ("2024-04", "6,820.00", "545.60", "1,091.20"),
                         ("2024-03", "6,500.00", "520.00", "1,040.00")), page=1, pages=3),
            chart=Chart(t("demo.inquiry.chart"), (Series(t("demo.insurance.pension"), (
                ("2019", 5980.0), ("2020", 6120.0), ("2021", 0.0), ("2022", 6370.0),
                ("2023", 6480.0), ("2024", 3273.6))),)),
            intents=_CITIZEN | {"Choose", "NextPage", "PrevPage"}, timeout=_timer()),
        "certificate": View("certificate", t("demo.certificate.title"),
                            (t("demo.certificate.body"),), fields=_holder(),
                            qr="https://verify.example.invalid/c/8F3K-2Q7M-XW4P",
                            notices=(t("demo.certificate.valid"),),
                            intents=_CITIZEN | {"Confirm", "Reveal"}, timeout=_timer()),
        "utility": View("utility_account", t("demo.utility.title"), (t("demo.utility.body"),),
                        step=Step(2, 4), text_input=TextSpec("account", TextKind.DIGITS, 12, 8),
                        intents=_CITIZEN | {"EnterText"}, timeout=_timer()),
        "activation": View("activation_form", t("demo.activation.title"),
                           (t("demo.activation.body"),), step=Step(3, 8),
                           text_input=TextSpec("phone", TextKind.PHONE, 11, 11,
                                               validation=t("demo.activation.phone_invalid")),
                           intents=_CITIZEN | {"EnterText"}, timeout=_timer()),
        "affairs": View("course_list", t("demo.affairs.title"), (t("demo.affairs.body"),),
                        choices=(Choice("c1", t("demo.course.1")),
                                 Choice("c2", t("demo.course.2")),
                                 Choice("c3", t("demo.course.3"), enabled=False,
                                        reason=t("demo.course.full"))),
                        intents=_CITIZEN | {"Choose"}, timeout=_timer()),
        "pension": View("confirm", t("demo.pension.title"), (t("demo.pension.body"),),
                        fields=_holder(), service="pension_qualification",
                        intents=_CITIZEN | {"Confirm", "Reveal"}, timeout=_timer()),
        "working": View("working", t("demo.working.title"), (t("demo.working.body"),),
                        progress=Progress(t("demo.working.progress"), 0.6),
                        intents=frozenset({"CallStaff", "SetLanguage"})),
        "receipt": View("result", t("demo.receipt.title"), (t("demo.receipt.body"),),
                        fields=(FieldView("ref", t("demo.receipt.reference"), "PAY-20240612-0031"),
                                FieldView("amount", t("demo.receipt.amount"), "128.40"),
                                FieldView("account", t("demo.receipt.account"),
                                          Masked("031245678901", PersonalKind.CARD_NUMBER))),
                        notices=(t("demo.receipt.printed"),), service="utility_payment",
                        intents=_CITIZEN | {"Confirm"}, timeout=_timer()),
        "take_card": View("take_card", t("demo.take_card.title"), (t("demo.take_card.body"),),
                          timeout=_timer(25), intents=frozenset({"CallStaff", "SetLanguage"})),
        "call_staff": View("staff_called", t("demo.staff.title"), (t("demo.staff.body"),),
                           staff_called=True, intents=_CITIZEN | {"Confirm"}),
        "error": View("result", t("demo.error.title"),
                      error=ErrorInfo(t("demo.error.message"), t("demo.error.next")),
                      intents=_CITIZEN, timeout=_timer()),
        "out_of_service": View("out_of_service", t("demo.oos.title"), (t("demo.oos.body"),),
                               error=ErrorInfo(t("demo.oos.reason"), t("demo.oos.next")),
                               intents=frozenset({"SetLanguage"})),
        "maintenance": View("maintenance", t("demo.maintenance.title"),
                            (t("demo.maintenance.body"),), intents=frozenset({"SetLanguage"})),
        "technician": View("maintenance", t("demo.technician.title"),
                           (t("demo.technician.body"),),
                           fields=(FieldView("card_reader", t("demo.device.card_reader"),
                                             t("demo.health.online")),
                                   FieldView("camera", t("demo.device.camera"),
                                             t("demo.health.offline"))),
                           choices=(Choice("device_test", t("demo.tech.device_test"), "build"),
                                    Choice("reload_config", t("demo.tech.reload_config"),
                                           "settings")),
                           intents=frozenset({"TechnicianAction", "TechnicianLogout",
                                              "SetLanguage"})),
    }
    return {k: replace(v, language=language, elderly=elderly) for k, v in views.items()}
