"""State names: `View.state` is one of these (the UI picks its screen layout by it)."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["CITIZEN_FACING", "StateName"]


class StateName(StrEnum):
    """Every state of the session machine."""

    IDLE = "idle"  # attract screen: insert your card
    READING_CARD = "reading_card"
    QR_SCAN = "qr_scan"  # e-SSC login: camera preview, hold the app's code up
    IDCARD_READ = "idcard_read"  # ID card login: lay the resident ID card on the reader
    MENU = "menu"
    PIN_ENTRY = "pin_entry"
    VERIFYING_PIN = "verifying_pin"
    CONSENT = "consent"
    FACE_CHECK = "face_check"
    FINGER_CHECK = "finger_check"
    IDENTITY_RETRY = "identity_retry"  # a biometric check failed: try again or staff
    OPENING_SESSION = "opening_session"
    WORKING = "working"  # waiting for the central or a device, with progress
    # inquiry
    INQUIRY = "inquiry"  # tabs: one per insurance, accounts, benefits, chart
    # certificate
    CERTIFICATE = "certificate"
    # utility payment
    UTILITY_KIND = "utility_kind"
    UTILITY_ACCOUNT = "utility_account"
    UTILITY_BILL = "utility_bill"
    # activation wizard
    ACTIVATION_ID = "activation_id"
    ACTIVATION_BANK_SWAP = "activation_bank_swap"
    ACTIVATION_FORM = "activation_form"
    ACTIVATION_WRITING = "activation_writing"
    # affairs
    COURSE_LIST = "course_list"
    PIN_CHANGE_OLD = "pin_change_old"
    PIN_CHANGE_NEW = "pin_change_new"
    PIN_CHANGE_REPEAT = "pin_change_repeat"
    # common ends
    CONFIRM = "confirm"
    RESULT = "result"
    TAKE_CARD = "take_card"
    CARD_LEFT = "card_left"  # card not taken: staff alerted, next session blocked
    OUT_OF_SERVICE = "out_of_service"
    TECHNICIAN_LOGIN = "technician_login"
    MAINTENANCE = "maintenance"


CITIZEN_FACING: frozenset[StateName] = frozenset(
    {
        StateName.MENU,
        StateName.PIN_ENTRY,
        StateName.CONSENT,
        StateName.IDENTITY_RETRY,
        StateName.INQUIRY,
        StateName.CERTIFICATE,
        StateName.UTILITY_KIND,
        StateName.UTILITY_ACCOUNT,
        StateName.UTILITY_BILL,
        StateName.ACTIVATION_ID,
        StateName.ACTIVATION_BANK_SWAP,
        StateName.ACTIVATION_FORM,
        StateName.COURSE_LIST,
        StateName.PIN_CHANGE_OLD,
        StateName.PIN_CHANGE_NEW,
        StateName.PIN_CHANGE_REPEAT,
        StateName.CONFIRM,
        StateName.RESULT,
        StateName.TECHNICIAN_LOGIN,
    }
)
"""States waiting for the citizen: inactivity timer with warning and 'more time'."""
