"""What a finished step shows (RESULT state) and the citizen's words for every error code."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.session.view import ErrorInfo, FieldView, Text, text

__all__ = ["ERROR_MESSAGES", "ResultInfo", "error_info"]


@dataclass(frozen=True, slots=True)
class ResultInfo:
    """The RESULT screen of a service: success with a receipt, or the error and the next step."""

    title: Text
    success: bool
    body: tuple[Text, ...] = ()
    fields: tuple[FieldView, ...] = ()
    error: ErrorInfo | None = None
    qr: str | None = None
    offer_menu: bool = True
    offer_staff: bool = False


# code → (message key, next-step key). Codes are drivers.vocabulary.ErrorCode values and the
# session's own reasons; an unknown code falls back to "internal" (never a traceback). These
# texts take no parameters (`error_info` has none to give); views that know more (tries left,
# the PIN length) use their own parametrised keys.
ERROR_MESSAGES: dict[str, tuple[str, str]] = {
    "card.removed": ("error.card_removed", "next.insert_again"),
    "card.unreadable": ("error.card_unreadable", "next.insert_again"),
    "card.not_ssc": ("error.card_not_ssc", "next.insert_ssc"),
    "card.expired": ("error.card_expired", "next.counter_new_card"),
    "card.data_invalid": ("error.card_unreadable", "next.counter"),
    "card.status": ("error.card_unreadable", "next.counter"),
    "card.protocol": ("error.card_unreadable", "next.insert_again"),
    "card.timeout": ("error.card_unreadable", "next.insert_again"),
    "card.auth_failed": ("error.card_auth_failed", "next.counter"),
    "card.write_failed": ("error.card_write_failed", "next.counter"),
    "card.pin_wrong": ("error.pin_not_right", "next.pin_again"),
    "card.pin_blocked": ("error.pin_blocked", "next.counter_unblock"),
    "card.pin_invalid_format": ("error.pin_length", "next.pin_again"),
    "card.pin_not_enabled": ("error.pin_not_enabled", "next.counter"),
    "card.psam_missing": ("error.terminal_fault", "next.other_kiosk"),
    "card.psam_untrusted": ("error.terminal_fault", "next.other_kiosk"),
    "card.reader_missing": ("error.terminal_fault", "next.other_kiosk"),
    "card.reader_error": ("error.terminal_fault", "next.other_kiosk"),
    "card_lost": ("error.card_lost", "next.cancel_loss_or_counter"),
    "card.lost": ("error.card_lost", "next.cancel_loss_or_counter"),
    "card_auth_failed": ("error.card_auth_failed", "next.counter"),
    "card_expired": ("error.card_expired", "next.counter_new_card"),
    "card.other": ("error.card_other", "next.counter"),
    "camera.unavailable": ("error.camera", "next.counter"),
    "camera.frame_invalid": ("error.camera", "next.counter"),
    "face.not_found": ("error.face_not_found", "next.face_again"),
    "face.quality": ("error.face_quality", "next.face_again"),
    "face.mismatch": ("error.face_mismatch", "next.face_again"),
    "face.liveness_failed": ("error.liveness", "next.face_again"),
    "face.too_many": ("error.face_too_many", "next.counter"),
    "fingerprint.timeout": ("error.finger_timeout", "next.finger_again"),
    "fingerprint.poor_image": ("error.finger_poor", "next.finger_again"),
    "fingerprint.mismatch": ("error.finger_mismatch", "next.finger_again"),
    "fingerprint.module_error": ("error.fingerprint_device", "next.counter"),
    "fingerprint.link_error": ("error.fingerprint_device", "next.counter"),
    "fingerprint.too_many": ("error.finger_too_many", "next.counter"),
    "sync.offline": ("error.offline", "next.later_or_counter"),
    "sync.rpc_timeout": ("error.no_answer", "next.later_or_counter"),
    "sync.rpc_rejected": ("error.refused", "next.counter"),
    "forbidden": ("error.refused", "next.counter"),
    "payment.unknown": ("error.payment_unknown", "next.payment_unknown"),
    "insufficient_balance": ("error.insufficient_balance", "next.top_up"),
    "bill_paid": ("error.bill_paid", "next.menu"),
    "already_paid": ("error.already_paid", "next.menu"),  # the contribution month is paid
    "no_contribution_base": ("error.no_contribution_base", "next.counter"),  # not flexible
    "payment_refused": ("error.payment_refused", "next.counter"),
    "consent_refused": ("error.consent_refused", "next.counter_alternative"),
    "no_answer": ("error.no_answer", "next.later_or_counter"),
    "activation_refused": ("error.activation_refused", "next.counter"),
    "fingerprint_not_recorded": ("error.fingerprint_not_recorded", "next.counter"),
    "activation_pending": ("error.activation_pending", "next.activation_pending"),
    "already_activated": ("error.already_activated", "next.menu"),
    "already_qualified": ("error.already_qualified", "next.menu"),
    "not_lost": ("error.not_lost", "next.menu"),
    "not_temporary": ("error.not_temporary", "next.counter"),
    "no_courses": ("error.no_courses", "next.menu"),
    "pin_mismatch": ("error.pin_mismatch", "next.pin_new_again"),
    # the resident ID card (activation's identity step)
    "idcard.mismatch": ("error.idcard_mismatch", "next.idcard_own"),
    "idcard.expired": ("error.idcard_expired", "next.idcard_renew"),
    "idcard.data_invalid": ("error.idcard_invalid", "next.idcard_counter"),
    "idcard.no_card": ("error.idcard_no_card", "next.idcard_again"),
    "idcard.module_error": ("error.idcard_device", "next.counter"),
    "idcard.link_error": ("error.idcard_device", "next.counter"),
    # the e-SSC QR login
    "essc.forbidden": ("error.essc_refused", "next.essc_refresh"),
    "essc.card_lost": ("error.essc_card_lost", "next.counter_lost_card"),
    "qr.timeout": ("error.qr_timeout", "next.essc_again"),
    # the ID card login (the central's refusals)
    "idcard_login.forbidden": ("error.idcard_login_refused", "next.idcard_login_card"),
    "idcard_login.face_mismatch": ("error.idcard_login_face", "next.idcard_login_card"),
    "idcard_login.not_recognised": ("error.idcard_login_unknown", "next.counter_with_id"),
    "idcard_login.rate_limited": ("error.idcard_login_limit", "next.idcard_login_later"),
    "internal": ("error.internal", "next.counter"),
}


def error_info(code: str) -> ErrorInfo:
    """The citizen's words for `code` (and what to do next)."""
    message, next_step = ERROR_MESSAGES.get(code, ERROR_MESSAGES["internal"])
    return ErrorInfo(message=text(message), next_step=text(next_step), code=code)
