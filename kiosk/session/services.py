"""The services of the menu, their groups, and the credentials a session can prove."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "CARD_ONLY",
    "GROUPS",
    "GROUP_ICONS",
    "IDCARD_LOOKUPS",
    "SERVICE_ICONS",
    "Credential",
    "MenuGroup",
    "ServiceId",
    "group_of",
]


class Credential(StrEnum):
    """What the citizen proved in this session."""

    CARD = "card"
    PIN = "pin"
    FACE = "face"
    FINGERPRINT = "fingerprint"
    ESSC = "essc"  # an e-SSC QR code redeemed at the central: stands in for card + PIN
    IDCARD_FACE = "idcard_face"  # the ID card and the central's face match: records only


class ServiceId(StrEnum):
    """Every service of the menu (`ChooseService.service`)."""

    INQUIRY = "inquiry"
    CERTIFICATE = "certificate"
    UTILITY_PAYMENT = "utility_payment"
    FLEXIBLE_CONTRIBUTION = "flexible_contribution"
    ACTIVATION = "activation"
    PIN_CHANGE = "pin_change"
    LOSS_REPORT = "loss_report"
    LOSS_CANCEL = "loss_cancel"
    EMPLOYMENT_CERTIFICATE = "employment_certificate"
    UNEMPLOYMENT_REGISTRATION = "unemployment_registration"
    TRAINING = "training"
    PENSION_QUALIFICATION = "pension_qualification"


class MenuGroup(StrEnum):
    """Menu tiles (≤ 6 per screen); each opens the list of its services."""

    QUERY = "query"
    PAYMENTS = "payments"
    CARD = "card"
    AFFAIRS = "affairs"


GROUPS: dict[MenuGroup, tuple[ServiceId, ...]] = {
    MenuGroup.QUERY: (ServiceId.INQUIRY, ServiceId.CERTIFICATE),
    MenuGroup.PAYMENTS: (ServiceId.UTILITY_PAYMENT, ServiceId.FLEXIBLE_CONTRIBUTION),
    MenuGroup.CARD: (
        ServiceId.ACTIVATION,
        ServiceId.PIN_CHANGE,
        ServiceId.LOSS_REPORT,
        ServiceId.LOSS_CANCEL,
    ),
    MenuGroup.AFFAIRS: (
        ServiceId.EMPLOYMENT_CERTIFICATE,
        ServiceId.UNEMPLOYMENT_REGISTRATION,
        ServiceId.TRAINING,
        ServiceId.PENSION_QUALIFICATION,
    ),
}

GROUP_ICONS: dict[MenuGroup, str] = {
    MenuGroup.QUERY: "search",
    MenuGroup.PAYMENTS: "payments",
    MenuGroup.CARD: "credit_card",
    MenuGroup.AFFAIRS: "work",
}

SERVICE_ICONS: dict[ServiceId, str] = {
    ServiceId.INQUIRY: "list_alt",
    ServiceId.CERTIFICATE: "description",
    ServiceId.UTILITY_PAYMENT: "bolt",
    ServiceId.FLEXIBLE_CONTRIBUTION: "savings",
    ServiceId.ACTIVATION: "medical_services",
    ServiceId.PIN_CHANGE: "password",
    ServiceId.LOSS_REPORT: "report",
    ServiceId.LOSS_CANCEL: "restore",
    ServiceId.EMPLOYMENT_CERTIFICATE: "badge",
    ServiceId.UNEMPLOYMENT_REGISTRATION: "work_off",
    ServiceId.TRAINING: "school",
    ServiceId.PENSION_QUALIFICATION: "how_to_reg",
}


def group_of(service: str) -> str:
    """The menu group a service is listed in ('' for none)."""
    for group, services in GROUPS.items():
        if service in services:
            return group.value
    return ""


CARD_ONLY: frozenset[str] = frozenset(
    {
        ServiceId.ACTIVATION,
        ServiceId.PIN_CHANGE,
        ServiceId.LOSS_CANCEL,
        ServiceId.PENSION_QUALIFICATION,
    }
)
"""Services only the physical card can do (a card write, the card's PIN, the found card, the
card's challenge for the face step): not offered in an e-SSC session (docs/essc-login.md)."""

IDCARD_LOOKUPS: frozenset[str] = frozenset({ServiceId.INQUIRY, ServiceId.CERTIFICATE})
"""What an ID card login offers: the records lookups the central serves to its `idcard_face`
token (central/trust.py DEFAULT_ALTERNATIVES); nothing that pays, writes or changes a record."""
