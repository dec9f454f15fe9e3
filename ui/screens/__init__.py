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

# State-name words -> screen, first match wins (the session names states; the screen follows).
_BY_STATE: tuple[tuple[str, str], ...] = (
    ("technician", "technician"),
    ("maintenance", "maintenance"),
    ("out_of_service", "out_of_service"),
    ("outofservice", "out_of_service"),
    ("take_card", "take_card"),
    ("takecard", "take_card"),
    ("staff", "call_staff"),
    ("idle", "attract"),
    ("attract", "attract"),
    ("reading", "reading"),
    ("card_inserted", "reading"),
    ("cardinserted", "reading"),
    ("consent", "consent"),
    ("face", "identity"),
    ("finger", "identity"),
    ("identity", "identity"),
    ("menu", "menu"),
    ("activation", "activation"),
    ("survival", "pension"),
    ("pension_qual", "pension"),
    ("qualification", "pension"),
    ("certificate", "certificate"),
    ("utility", "utility"),
    ("bill", "utility"),
    ("affair", "affairs"),
    ("registration", "affairs"),
    ("training", "affairs"),
    ("receipt", "receipt"),
    ("result", "receipt"),
    ("working", "working"),
    ("query", "inquiry"),
    ("inquiry", "inquiry"),
)


def screen_for(view: Any) -> str:
    """The screen that renders `view`: what the view carries first, then its state's name."""
    state = str(view.state).lower()
    if view.pin is not None:
        return "pin"
    for word, screen in _BY_STATE:
        if word in state:
            if screen in ("reading", "working") and view.error is not None:
                return "error"
            return screen
    if view.qr:
        return "certificate"
    if view.table is not None or view.chart is not None:
        return "inquiry"
    if view.error is not None:
        return "error"
    if view.progress is not None:
        return "working"
    return "error" if not view.choices else "affairs"
