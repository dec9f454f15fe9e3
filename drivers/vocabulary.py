"""Shared device vocabulary: health states, device events and stable error codes.

A dependency-free leaf module: `drivers`, `kiosk`, `ui` and `central` may all import it without
breaking the layering. Health states follow CEN/XFS device status so that operators see the
same words a bank ATM fleet uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "CardInserted",
    "CardRemoved",
    "DeviceEvent",
    "DeviceFault",
    "DeviceHealth",
    "DeviceHealthChanged",
    "DeviceKind",
    "ErrorCode",
    "FingerPlaced",
    "FingerRemoved",
    "ReaderAdded",
    "ReaderRemoved",
]


class DeviceHealth(StrEnum):
    """Health of one device, after CEN/XFS `fwDevice`."""

    ONLINE = "online"
    OFFLINE = "offline"
    NO_DEVICE = "no_device"
    HARDWARE_ERROR = "hardware_error"
    USER_ERROR = "user_error"
    BUSY = "busy"
    FRAUD_ATTEMPT = "fraud_attempt"


class DeviceKind(StrEnum):
    """The kinds of device a terminal has."""

    CARD_READER = "card_reader"
    PSAM = "psam"
    CAMERA = "camera"
    FINGERPRINT = "fingerprint"
    PRINTER = "printer"
    ID_CARD_READER = "id_card_reader"


class ErrorCode(StrEnum):
    """Stable error codes that `ui/` translates and `central` counts; never reuse a value."""

    # card
    CARD_REMOVED = "card.removed"
    CARD_UNREADABLE = "card.unreadable"
    CARD_NOT_SSC = "card.not_ssc"
    CARD_EXPIRED = "card.expired"
    CARD_DATA_INVALID = "card.data_invalid"
    CARD_STATUS = "card.status"
    CARD_PROTOCOL = "card.protocol"
    CARD_TIMEOUT = "card.timeout"
    PIN_WRONG = "card.pin_wrong"
    PIN_BLOCKED = "card.pin_blocked"
    PIN_NOT_ENABLED = "card.pin_not_enabled"
    PIN_INVALID_FORMAT = "card.pin_invalid_format"
    PIN_ENTRY_CANCELLED = "card.pin_entry_cancelled"  # on the reader's PIN pad
    CARD_AUTH_FAILED = "card.auth_failed"
    CARD_WRITE_FAILED = "card.write_failed"
    PSAM_MISSING = "card.psam_missing"
    PSAM_UNTRUSTED = "card.psam_untrusted"
    READER_MISSING = "card.reader_missing"
    READER_ERROR = "card.reader_error"
    # camera and face
    CAMERA_UNAVAILABLE = "camera.unavailable"
    FRAME_INVALID = "camera.frame_invalid"
    FACE_NOT_FOUND = "face.not_found"
    FACE_QUALITY = "face.quality"
    FACE_MISMATCH = "face.mismatch"
    LIVENESS_FAILED = "face.liveness_failed"
    FACE_ATTEMPTS_EXHAUSTED = "face.attempts_exhausted"  # per session or per card
    CAMERA_SOURCE_REFUSED = "camera.source_refused"  # generated/file source on production
    # fingerprint
    FINGER_TIMEOUT = "fingerprint.timeout"
    FINGER_POOR_IMAGE = "fingerprint.poor_image"
    FINGER_MISMATCH = "fingerprint.mismatch"
    FINGERPRINT_MODULE = "fingerprint.module_error"
    FINGERPRINT_LINK = "fingerprint.link_error"
    # resident ID card reader
    IDCARD_NO_CARD = "idcard.no_card"
    IDCARD_DATA_INVALID = "idcard.data_invalid"
    IDCARD_MODULE = "idcard.module_error"
    IDCARD_LINK = "idcard.link_error"
    # receipt printer
    PRINTER_OFFLINE = "printer.offline"
    PRINTER_PAPER_OUT = "printer.paper_out"
    PRINTER_COVER_OPEN = "printer.cover_open"  # nobody at the kiosk can fix it: staff must
    PRINTER_FAULT = "printer.fault"
    # sync and services
    OFFLINE = "sync.offline"
    RPC_TIMEOUT = "sync.rpc_timeout"
    RPC_REJECTED = "sync.rpc_rejected"
    PAYMENT_UNKNOWN = "payment.unknown"
    CONFIG_INVALID = "config.invalid"
    INTERNAL = "internal"


@dataclass(frozen=True, slots=True)
class DeviceEvent:
    """Base of every event a device thread posts to the core queue (past tense)."""

    device: str
    at: float = field(default=0.0, compare=False)  # monotonic seconds, from the injected clock


@dataclass(frozen=True, slots=True)
class DeviceHealthChanged(DeviceEvent):
    """A device moved from one health state to another (posted once per change)."""

    kind: DeviceKind = DeviceKind.CARD_READER
    health: DeviceHealth = DeviceHealth.OFFLINE
    detail: str = ""


@dataclass(frozen=True, slots=True)
class DeviceFault(DeviceEvent):
    """A device operation failed in a way the core should know about."""

    code: ErrorCode = ErrorCode.INTERNAL
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ReaderAdded(DeviceEvent):
    """A card reader appeared (plugged in, or pcscd came back)."""


@dataclass(frozen=True, slots=True)
class ReaderRemoved(DeviceEvent):
    """A card reader disappeared."""


@dataclass(frozen=True, slots=True)
class CardInserted(DeviceEvent):
    """A card was inserted into a reader; `atr` is its answer-to-reset in hex."""

    atr: str = ""


@dataclass(frozen=True, slots=True)
class CardRemoved(DeviceEvent):
    """The card left the reader."""


@dataclass(frozen=True, slots=True)
class FingerPlaced(DeviceEvent):
    """The fingerprint module saw a finger on its window."""


@dataclass(frozen=True, slots=True)
class FingerRemoved(DeviceEvent):
    """The finger was lifted from the window."""
