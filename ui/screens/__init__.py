"""One screen per file, each with its .kv; `screen_for(view)` picks the screen of a view."""

from __future__ import annotations

from typing import Any

from ui.screens.activation import ActivationScreen
from ui.screens.affairs import AffairsScreen
from ui.screens.attract import AttractScreen
from ui.screens.base import ViewScreen
from ui.screens.call_staff import CallStaffScreen
from ui.screens.certificate import CertificateScreen
from ui.screens.consent import ConsentScreen
from ui.screens.error import ErrorScreen
from ui.screens.identity import IdentityScreen
from ui.screens.inquiry import InquiryScreen
from ui.screens.maintenance import MaintenanceScreen
from ui.screens.menu import MenuScreen
from ui.screens.out_of_service import OutOfServiceScreen
from ui.screens.pension import PensionScreen
from ui.screens.pin import PinScreen
from ui.screens.reading import ReadingScreen
from ui.screens.receipt import ReceiptScreen
from ui.screens.take_card import TakeCardScreen
from ui.screens.technician import TechnicianScreen
from ui.screens.utility import UtilityScreen
from ui.screens.working import WorkingScreen

__all__ = ["SCREENS", "screen_for"]

SCREENS: dict[str, type[ViewScreen]] = {
    "attract": AttractScreen,
    "reading": ReadingScreen,
    "pin": PinScreen,
    "consent": ConsentScreen,
    "identity": IdentityScreen,
    "menu": MenuScreen,
    "inquiry": InquiryScreen,
    "certificate": CertificateScreen,
    "utility": UtilityScreen,
    "activation": ActivationScreen,
    "affairs": AffairsScreen,
    "pension": PensionScreen,
    "working": WorkingScreen,
    "receipt": ReceiptScreen,
    "take_card": TakeCardScreen,
    "call_staff": CallStaffScreen,
    "error": ErrorScreen,
    "out_of_service": OutOfServiceScreen,
    "maintenance": MaintenanceScreen,
    "technician": TechnicianScreen,
}

# State name (kiosk.session.states.StateName) -> screen; states shared by services (working,
# confirm, result) pick the service's screen where it has one.
_BY_STATE: dict[str, str] = {
    "idle": "attract",
    "reading_card": "reading",
    "verifying_pin": "reading",
    "opening_session": "reading",
    "menu": "menu",
    "pin_entry": "pin",
    "pin_change_old": "pin",
    "pin_change_new": "pin",
    "pin_change_repeat": "pin",
    "consent": "consent",
    "face_check": "identity",
    "qr_scan": "identity",  # the camera preview while the e-SSC code is held up
    "idcard_read": "reading",  # the ID card login: the card on the reader
    "finger_check": "identity",
    "identity_retry": "identity",
    "inquiry": "inquiry",
    "certificate": "certificate",
    "utility_kind": "utility",
    "utility_account": "utility",
    "utility_bill": "utility",
    "activation_id": "activation",
    "activation_bank_swap": "activation",
    "activation_form": "activation",
    "activation_writing": "activation",
    "course_list": "affairs",
    "result": "receipt",
    "take_card": "take_card",
    "card_left": "take_card",
    "out_of_service": "out_of_service",
    "technician_login": "technician",
    "staff_called": "call_staff",
}
_BY_SERVICE: dict[str, str] = {
    "utility_payment": "utility",
    "flexible_contribution": "utility",
    "activation": "activation",
    "pension_qualification": "pension",
}


def screen_for(view: Any) -> str:
    """The screen that renders `view`."""
    state = str(view.state)
    if state == "maintenance":
        return "technician" if "TechnicianAction" in view.intents else "maintenance"
    if state in ("working", "confirm"):
        return _BY_SERVICE.get(view.service, "working" if state == "working" else "affairs")
    if state == "result" and view.error is not None:
        return "error"
    if state == "result" and view.service == "pension_qualification":
        return "pension"
    if view.pin is not None:
        return "pin"
    if state in _BY_STATE:
        return _BY_STATE[state]
    if view.error is not None:
        return "error"
    return "working" if view.progress is not None else "error"
