"""The MQTT message contract between kiosks and the central system: topics, payloads, versions.

A dependency-free leaf (standard library and pydantic only): `kiosk`, `central` and the fleet
monitor all import it, and both ends validate every message with it (docs/architecture.md §6).

Conventions
- Topics: ``ssk/v1/{terminal_id}/{channel}``; build them with `topic()`, parse with
  `parse_topic()`, never with string literals elsewhere. The central side consumes with shared
  subscriptions built by `shared_filter()` (``$share/central/ssk/v1/+/{channel}``).
- Every kiosk→central message carries the `Envelope` fields: contract version `v`, `msg_id` (a
  UUID that is also the idempotency key; created once, reused on every retry), `terminal_id`,
  `boot_id`, per-terminal `seq`, `mono` (monotonic seconds of that boot), `wall` (epoch seconds)
  and `clock_synced` (False before NTP sync: `wall` may then be wrong; keep receive time too).
- Money is integer cents (fen). Periods are ``YYYYMM``. Times are epoch seconds (float).
- The central accepts contract versions N-1 and N (`ACCEPTED_VERSIONS`). Version 1 had no
  `mono`/`clock_synced` (they default to 0.0 / True here, so a v1 message validates).
- A payload larger than `MAX_PAYLOAD_BYTES` or nested deeper than `MAX_JSON_DEPTH` is refused
  before parsing; integers are 64-bit signed, floats finite, strings valid Unicode (no lone
  surrogates) and at most `MAX_STR_CHARS` unless the field says otherwise (docs/hostile-input.md).

Flows
- Business events: kiosk publishes `BusinessEvent` on ``events`` (QoS 1) from its durable outbox;
  the central applies ``msg_id`` once and answers an `EventReceipt` on ``events/receipt``. The
  kiosk finishes the row only on that receipt (never on PUBACK); a receipt `rejected` with
  ``permanent=True`` moves the row to dead; ``duplicate`` counts as accepted. The kiosk
  subscribes to receipts at QoS 0 (a lost receipt only makes it send the row again).
- RPC: kiosk publishes `RpcRequest` on ``rpc/request`` with MQTT 5 Response Topic =
  ``topic(id, Channel.RPC_RESPONSE)`` and Correlation Data = ``request_id`` as ASCII; the central
  answers `RpcResponse` there (same correlation data, and ``request_id`` in the body). A request
  received after its ``deadline`` is refused with error code ``deadline_passed``. Param and result
  models per method are in `RPC_SCHEMAS`.
- Payments: ``payment.submit`` carries a ``payment_key`` applied at most once by the central
  ledger. ``payment.status`` of a key the central has never seen answers ``not_found`` AND voids
  the key, so that a late submit with that key is declined (reason ``voided``): a kiosk that
  lost the answer can reconcile safely and never charges twice.
- Commands: central publishes `Command` on ``cmd`` (QoS 1, MQTT Message Expiry set too); the
  kiosk answers `CommandAck` on ``cmd/ack``: ``accepted`` then ``succeeded``/``failed``, or
  ``rejected`` (expired, replayed, unknown, bad args) with a reason. A command is never
  retained: the kiosk refuses a retained one every time (one ``rejected`` ack per id).
- Presence: retained `StatusMessage` on ``status``: ``online`` (birth), ``offline`` (the last
  will, with will delay) and ``stopped`` (published by the kiosk before a clean disconnect); each
  carries the ``boot_id`` so a stale will can be told from a current birth.
"""

from __future__ import annotations

import functools
import json
import math
import re
import uuid
from enum import StrEnum
from typing import Any, Literal, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

__all__ = [
    "ACCEPTED_VERSIONS",
    "CARD_CREDENTIALS",
    "CENTRAL_STATUS_TOPIC",
    "COMMAND_ARGS",
    "CONTRACT_VERSION",
    "EVENT_SCHEMAS",
    "FINGERPRINT_TEMPLATE_MAX_BYTES",
    "INT64_MAX",
    "INT64_MIN",
    "KIOSK_PUBLISHES",
    "KIOSK_SUBSCRIBES",
    "MAX_JSON_DEPTH",
    "MAX_PAYLOAD_BYTES",
    "MAX_STR_CHARS",
    "RPC_SCHEMAS",
    "SHARE_GROUP",
    "TOPIC_ROOT",
    "AccountKind",
    "AccountsParams",
    "AccountsResult",
    "AccumulatedAccount",
    "AckStatus",
    "ActivationApproveParams",
    "ActivationApproveResult",
    "ActivationCancelled",
    "ActivationConfirmed",
    "ActivationState",
    "ActivationStatusParams",
    "ActivationStatusResult",
    "AffairResult",
    "AffairState",
    "BenefitPayment",
    "BenefitsParams",
    "BenefitsResult",
    "BillsParams",
    "BillsResult",
    "BusinessEvent",
    "CertificateParams",
    "CertificateVerifyParams",
    "CertificateVerifyResult",
    "Channel",
    "CollectLogsArgs",
    "Command",
    "CommandAck",
    "CommandName",
    "ContractError",
    "ContributionQuote",
    "ContributionQuoteParams",
    "ContributionRecord",
    "ContributionsParams",
    "ContributionsResult",
    "Credential",
    "EmploymentCertificateParams",
    "Envelope",
    "EsscLoginParams",
    "EventKind",
    "EventReceipt",
    "FaceProof",
    "FingerprintEnrollParams",
    "FingerprintEnrollResult",
    "FingerprintParams",
    "FingerprintProof",
    "FingerprintResult",
    "IdCardLoginParams",
    "InsuranceKind",
    "InsuredCertificate",
    "InsuredPeriod",
    "JourneyStats",
    "LivenessStatement",
    "LossParams",
    "LossResult",
    "MaintenanceArgs",
    "Message",
    "OutboxSends",
    "PaymentPurpose",
    "PaymentResult",
    "PaymentState",
    "PaymentStatusParams",
    "PaymentSubmitParams",
    "PensionQualification",
    "PensionQualifyParams",
    "PersonParams",
    "PersonSummary",
    "PhotoParams",
    "PhotoResult",
    "PresenceState",
    "ReceiptOutcome",
    "RpcError",
    "RpcMethod",
    "RpcRequest",
    "RpcResponse",
    "SessionChallenge",
    "SessionChallengeParams",
    "SessionElevateParams",
    "SessionOpenParams",
    "SessionPurpose",
    "SessionStats",
    "SessionTokenResult",
    "SetConfigArgs",
    "StaffAlert",
    "StaffAlertReason",
    "StatusMessage",
    "Telemetry",
    "TrainingCatalogue",
    "TrainingCatalogueParams",
    "TrainingCourse",
    "TrainingSignupParams",
    "UnemploymentRegisterParams",
    "UtilityBill",
    "UtilityKind",
    "YearPoint",
    "YearlyParams",
    "YearlySeries",
    "decode",
    "encode",
    "load_json",
    "new_msg_id",
    "parse_topic",
    "shared_filter",
    "topic",
    "topic_filter",
]

CONTRACT_VERSION = 2
"""N: the version this module writes."""
ACCEPTED_VERSIONS = frozenset({CONTRACT_VERSION - 1, CONTRACT_VERSION})
"""N-1 and N: what a receiver accepts, so a fleet can be upgraded gradually."""
MAX_PAYLOAD_BYTES = 256 * 1024
"""Largest payload either end accepts (a reference photo fits; anything larger is hostile)."""
MAX_JSON_DEPTH = 32
"""Deepest nesting of arrays and objects accepted (real messages nest 4 deep)."""
MAX_STR_CHARS = 4096
"""Longest string a field holds unless it sets its own `max_length` (a photo, a template)."""
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
"""Every integer on the wire fits a signed 64-bit column (SQLite INTEGER, PostgreSQL BIGINT)."""
TOPIC_ROOT = "ssk/v1"
SHARE_GROUP = "central"
CENTRAL_STATUS_TOPIC = "ssk/central/status"
"""Retained birth of the central system (`StatusMessage`, terminal_id ``central``); a kiosk
that sees a new central boot_id republishes its full state (rebirth)."""

TERMINAL_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,47}$")
_PERIOD = r"^\d{4}(0[1-9]|1[0-2])$"
_DATE = r"^\d{4}-\d{2}-\d{2}$"


class Channel(StrEnum):
    """The last part(s) of a terminal topic ``ssk/v1/{terminal_id}/{channel}``."""

    STATUS = "status"  # kiosk → central, retained presence
    TELEMETRY = "telemetry"  # kiosk → central, QoS 1, may be fire-and-forget
    EVENTS = "events"  # kiosk → central, business events from the outbox
    EVENT_RECEIPT = "events/receipt"  # central → kiosk, application-level receipts
    RPC_REQUEST = "rpc/request"  # kiosk → central
    RPC_RESPONSE = "rpc/response"  # central → kiosk
    CMD = "cmd"  # central → kiosk
    CMD_ACK = "cmd/ack"  # kiosk → central


KIOSK_PUBLISHES = frozenset(
    {Channel.STATUS, Channel.TELEMETRY, Channel.EVENTS, Channel.RPC_REQUEST, Channel.CMD_ACK}
)
"""Channels a kiosk writes (the broker ACL lets it write only these, under its own id)."""
KIOSK_SUBSCRIBES = frozenset({Channel.EVENT_RECEIPT, Channel.RPC_RESPONSE, Channel.CMD})
"""Channels a kiosk reads; anything else arriving at a kiosk is rejected at the edge."""


def topic(terminal_id: str, channel: Channel) -> str:
    """The topic of `channel` for one terminal. Raises ValueError for an invalid terminal id."""
    if not TERMINAL_ID_RE.match(terminal_id):
        raise ValueError(f"invalid terminal id {terminal_id!r}")
    return f"{TOPIC_ROOT}/{terminal_id}/{channel.value}"


def topic_filter(channel: Channel) -> str:
    """``ssk/v1/+/{channel}``: one channel of every terminal."""
    return f"{TOPIC_ROOT}/+/{channel.value}"


def shared_filter(channel: Channel, group: str = SHARE_GROUP) -> str:
    """``$share/{group}/ssk/v1/+/{channel}``: the central's load-shared subscription."""
    return f"$share/{group}/{topic_filter(channel)}"


def parse_topic(name: str) -> tuple[str, Channel] | None:
    """``(terminal_id, channel)`` of a terminal topic, or None if it is not one of ours."""
    prefix = TOPIC_ROOT + "/"
    if not name.startswith(prefix):
        return None
    terminal_id, _, rest = name[len(prefix) :].partition("/")
    if not TERMINAL_ID_RE.match(terminal_id):
        return None
    try:
        return terminal_id, Channel(rest)
    except ValueError:
        return None


def new_msg_id() -> str:
    """A fresh message id / idempotency key (UUID4 text)."""
    return str(uuid.uuid4())


# --------------------------------------------------------------------------- base models


class Message(BaseModel):
    """Base of every payload: strict (unknown fields are errors), frozen, and wire-safe: what
    pydantic does not bound by itself (integer fields, free-form `Any` data) is checked by
    `_check_wire_value`, so whatever validates can be encoded and stored."""

    # pydantic itself refuses NaN/inf in float fields and lone surrogates in str fields.
    model_config = ConfigDict(
        extra="forbid", frozen=True, str_max_length=MAX_STR_CHARS, allow_inf_nan=False
    )

    @model_validator(mode="after")
    def wire_safe(self) -> Message:
        values = self.__dict__
        for name in _fields_to_check(type(self)):
            value = values[name]
            if type(value) is int and INT64_MIN <= value <= INT64_MAX:
                continue  # the common case, inline: this runs for every message
            _check_wire_value(value, 0)
        return self


class Envelope(Message):
    """Fields every kiosk→central message carries (docs/architecture.md §6)."""

    v: int = Field(default=CONTRACT_VERSION, description="Contract version of the sender.")
    msg_id: str = Field(min_length=8, max_length=64, description="UUID; the idempotency key.")
    terminal_id: str = Field(pattern=TERMINAL_ID_RE.pattern)
    boot_id: str = Field(min_length=1, max_length=64, description="Changes at every process start.")
    seq: int = Field(
        ge=0, le=INT64_MAX, description="Per-terminal sequence number, monotonic across boots."
    )
    mono: float = Field(
        default=0.0, ge=0, description="Monotonic seconds of this boot when created."
    )
    wall: float = Field(ge=0, description="Epoch seconds when created (may be wrong if unsynced).")
    clock_synced: bool = Field(
        default=True, description="False before NTP sync: do not trust `wall`."
    )


# --------------------------------------------------------------------------- presence


class PresenceState(StrEnum):
    """States of the retained status topic."""

    ONLINE = "online"
    OFFLINE = "offline"  # the last will: the connection was lost
    STOPPED = "stopped"  # a clean shutdown, published by the kiosk itself


class StatusMessage(Envelope):
    """Retained presence of one terminal (or of the central, on `CENTRAL_STATUS_TOPIC`)."""

    state: PresenceState
    software_version: str = ""
    started_wall: float = Field(default=0.0, ge=0, description="Epoch seconds the process started.")
    maintenance: bool = False


# --------------------------------------------------------------------------- telemetry


class OutboxSends(Message):
    """Outbox publishes since boot: `resent` of them were re-sends of a row already published
    (no receipt in time, or the central came back online); `receipted` rows were finished by
    the central's receipt."""

    published: int = Field(default=0, ge=0)
    resent: int = Field(default=0, ge=0)
    receipted: int = Field(default=0, ge=0)


class Telemetry(Envelope):
    """Periodic health report (every `telemetry.interval_s`)."""

    software_version: str
    uptime_s: float = Field(ge=0)
    devices: dict[str, str] = Field(
        default_factory=dict, description="device name → drivers.vocabulary.DeviceHealth value"
    )
    device_details: dict[str, str] = Field(
        default_factory=dict,
        description="device name → its specific condition where it has one (the printer's"
        " paper_near_end, paper_out, cover_open, no_answer...): the health alone says user_error"
        " for both paper out and cover open, and online while paper runs low",
    )
    outbox_depth: int = Field(default=0, ge=0, description="Business rows not yet receipted.")
    outbox_oldest_age_s: float = Field(default=0.0, ge=0)
    dead_rows: int = Field(default=0, ge=0)
    unknown_payments: int = Field(default=0, ge=0)
    sessions: int = Field(default=0, ge=0, description="Citizen sessions served since boot.")
    errors: dict[str, int] = Field(default_factory=dict, description="error code → count")
    connects: int = Field(default=0, ge=0, description="Successful broker connections since boot.")
    disconnects: int = Field(default=0, ge=0)
    rejected_inbound: int = Field(
        default=0, ge=0, description="Hostile/malformed inbound messages."
    )
    disk_free_bytes: int = Field(default=0, ge=0)
    disk_total_bytes: int = Field(default=0, ge=0)
    temperature_c: float | None = None
    maintenance: bool = False
    historical: bool = Field(default=False, description="True when replayed from the backlog.")
    outbox_sends: OutboxSends | None = Field(
        default=None, description="Publishes, re-sends, receipts; absent from older kiosks."
    )


# --------------------------------------------------------------------------- business events


class EventKind(StrEnum):
    """Non-monetary business events that may be created offline and delivered later."""

    APPLICATION = "application"
    REGISTRATION = "registration"
    CONSENT = "consent"
    AUDIT = "audit"
    SESSION_STATS = "session_stats"
    ACTIVATION_CONFIRMED = "activation_confirmed"
    ACTIVATION_CANCELLED = "activation_cancelled"
    STAFF_ALERT = "staff_alert"


class BusinessEvent(Envelope):
    """One outbox row on the wire. `msg_id` is the key the central applies exactly once."""

    kind: EventKind
    data: dict[str, Any] = Field(default_factory=dict)


class ActivationConfirmed(Message):
    """`data` of an ACTIVATION_CONFIRMED event: the card holds the record (read back)."""

    activation_key: str
    approval_id: str
    record_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class ActivationCancelled(Message):
    """`data` of an ACTIVATION_CANCELLED event: the approval is released (compensation)."""

    activation_key: str
    approval_id: str = ""
    reason: str = Field(max_length=200)


class StaffAlertReason(StrEnum):
    """Why a kiosk calls for staff."""

    CALL_STAFF = "call_staff"  # the citizen pressed "call staff"
    CARD_LEFT = "card_left"  # the card was left in the reader after the session
    REPEATED_FAILURES = "repeated_failures"  # the same step failed again and again
    DEVICE_FAULT = "device_fault"


class StaffAlert(Message):
    """`data` of a STAFF_ALERT event: where help is needed. Never personal data: the step is a
    state name, hall/site come from the terminal's config."""

    alert_id: str = Field(min_length=8, max_length=64)
    reason: StaffAlertReason
    step: str = Field(default="", max_length=60)
    hall: str = Field(default="", max_length=60)
    site: str = Field(default="", max_length=60)
    raised_at: float = Field(default=0.0, ge=0)


class JourneyStats(Message):
    """One journey of a session in a SESSION_STATS event."""

    # Statistics are read by the fleet monitor, which must not turn a newer kiosk's extra
    # field into a malformed message: unknown fields are ignored here (and only here).
    model_config = ConfigDict(extra="ignore", frozen=True)

    service: str = Field(max_length=40)
    outcome: str = Field(max_length=20, description="completed, abandoned or failed")
    duration_s: float = Field(default=0.0, ge=0)
    failure: str = Field(default="", max_length=60, description="A failure code, never a value.")


class SessionStats(Message):
    """`data` of a SESSION_STATS event: one citizen session and its journeys (kiosk/session),
    counted per terminal and service by the fleet monitor. Never a personal value."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    session_key: str = Field(default="", max_length=64)
    reason: str = Field(default="", max_length=60, description="Why the session ended.")
    duration_s: float = Field(default=0.0, ge=0)
    journeys: list[JourneyStats] = Field(default_factory=list, max_length=50)


EVENT_SCHEMAS: dict[EventKind, type[Message]] = {
    EventKind.ACTIVATION_CONFIRMED: ActivationConfirmed,
    EventKind.ACTIVATION_CANCELLED: ActivationCancelled,
    EventKind.STAFF_ALERT: StaffAlert,
}
"""Kinds whose `data` has a fixed schema; other kinds carry free-form data."""


class ReceiptOutcome(StrEnum):
    """What the central did with a business event."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"  # already applied: as good as accepted
    REJECTED = "rejected"


class EventReceipt(Message):
    """Central → kiosk on ``events/receipt``: the application-level receipt of one event."""

    v: int = CONTRACT_VERSION
    msg_id: str = Field(description="The msg_id of the receipted BusinessEvent.")
    outcome: ReceiptOutcome
    permanent: bool = Field(default=True, description="For REJECTED: False means retry later.")
    reason: str = Field(default="", max_length=200)


# --------------------------------------------------------------------------- RPC


class RpcMethod(StrEnum):
    """Methods of the central RPC service."""

    PERSON_SUMMARY = "person.summary"
    CONTRIBUTIONS = "contributions.list"
    ACCOUNTS = "accounts.get"
    BENEFITS = "benefits.list"
    BILLS = "bills.query"
    PAYMENT_SUBMIT = "payment.submit"
    PAYMENT_STATUS = "payment.status"
    PHOTO_REFERENCE = "photo.reference"
    FINGERPRINT_REFERENCE = "fingerprint.reference"
    ACTIVATION_APPROVE = "activation.approve"
    ACTIVATION_STATUS = "activation.status"
    # Central trust (docs/central-trust.md): a present card proves itself, the central issues a
    # short-lived session token every personal method needs.
    SESSION_CHALLENGE = "session.challenge"
    SESSION_OPEN = "session.open"
    SESSION_ELEVATE = "session.elevate"
    # Services (docs/services.md).
    CONTRIBUTIONS_YEARLY = "contributions.yearly"
    CERTIFICATE_ISSUE = "certificate.issue"
    CERTIFICATE_VERIFY = "certificate.verify"
    EMPLOYMENT_CERTIFICATE = "affairs.employment_certificate"
    UNEMPLOYMENT_REGISTER = "affairs.unemployment_register"
    TRAINING_CATALOGUE = "training.catalogue"
    TRAINING_SIGNUP = "training.signup"
    LOSS_REPORT = "card.loss_report"
    LOSS_CANCEL = "card.loss_cancel"
    PENSION_QUALIFY = "pension.qualify"
    # e-SSC QR login (docs/essc-login.md): the phone's code instead of the card.
    ESSC_LOGIN = "essc.login"
    # The resident ID card plus a face match the central computes itself (docs/idcard-reader.md),
    # where `[trust] idcard_login` allows it: records lookup only.
    IDCARD_LOGIN = "session.open_idcard"
    # Activation's fingerprint enrolment and the flexible-employment quote (docs/services.md).
    FINGERPRINT_ENROLL = "fingerprint.enroll"
    CONTRIBUTION_QUOTE = "contribution.quote"


class RpcRequest(Envelope):
    """Kiosk → central. `msg_id` is also the request id and the MQTT 5 correlation data."""

    method: RpcMethod
    params: dict[str, Any] = Field(default_factory=dict)
    deadline: float = Field(ge=0, description="Epoch seconds; the central refuses it after.")
    session_token: str = Field(
        default="", max_length=2048, description="From session.open/elevate; personal methods."
    )


class RpcError(Message):
    """Why a call failed. `code`: ``not_found``, ``invalid_params``, ``deadline_passed``,
    ``declined``, ``unsupported_version``, ``internal``... and, for ``contribution.quote``,
    ``already_paid`` (the month is paid), ``no_contribution_base``, ``invalid_period``."""

    code: str = Field(max_length=64)
    message: str = Field(default="", max_length=500)
    permanent: bool = True


class RpcResponse(Message):
    """Central → kiosk on ``rpc/response``: exactly one of `result` / `error`."""

    v: int = CONTRACT_VERSION
    request_id: str
    ok: bool
    result: dict[str, Any] | None = None
    error: RpcError | None = None
    server_wall: float = 0.0


class InsuranceKind(StrEnum):
    """The five social insurances."""

    PENSION = "pension"
    MEDICAL = "medical"
    UNEMPLOYMENT = "unemployment"
    WORK_INJURY = "work_injury"
    MATERNITY = "maternity"


class PersonParams(Message):
    """Params of ``person.summary``. `id_number` is the 18-character resident ID."""

    id_number: str = Field(min_length=15, max_length=18)
    card_number: str = Field(default="", max_length=32)


class PersonSummary(Message):
    """Result of ``person.summary``."""

    id_number: str
    name: str
    gender: Literal["M", "F", ""] = ""
    birth_date: str = Field(default="", description="YYYY-MM-DD or empty")
    region: str = ""
    insured_since: str = Field(default="", description="YYYYMM or empty")
    status: str = Field(default="active", description="active, suspended, retired, deceased")
    insurances: list[InsuranceKind] = Field(default_factory=list)
    card_number: str = ""
    card_activated: bool = False
    wallet_balance_cents: int = 0


class ContributionsParams(Message):
    """Params of ``contributions.list``: one insurance, periods inclusive."""

    id_number: str = Field(min_length=15, max_length=18)
    insurance: InsuranceKind
    from_period: str = Field(pattern=_PERIOD)
    to_period: str = Field(pattern=_PERIOD)
    page: int = Field(default=1, ge=1, le=10_000)
    page_size: int = Field(default=0, ge=0, le=120, description="0: every record at once.")


class ContributionRecord(Message):
    """One month of one insurance."""

    period: str = Field(pattern=_PERIOD)
    insurance: InsuranceKind
    base_cents: int = Field(ge=0)
    employer_cents: int = Field(ge=0)
    personal_cents: int = Field(ge=0)
    paid: bool = True
    employer: str = ""


class ContributionsResult(Message):
    """Result of ``contributions.list``."""

    records: list[ContributionRecord] = Field(default_factory=list)
    total: int = Field(default=0, ge=0, description="Records in the whole period range.")
    page: int = Field(default=1, ge=1)
    pages: int = Field(default=1, ge=0)


class AccountKind(StrEnum):
    """Accumulated individual accounts."""

    PENSION = "pension"
    MEDICAL = "medical"


class AccountsParams(Message):
    """Params of ``accounts.get``."""

    id_number: str = Field(min_length=15, max_length=18)


class AccumulatedAccount(Message):
    """One accumulated account."""

    kind: AccountKind
    balance_cents: int
    contributed_cents: int = 0
    interest_cents: int = 0
    months: int = Field(default=0, ge=0)
    as_of: str = Field(default="", description="YYYY-MM-DD")


class AccountsResult(Message):
    """Result of ``accounts.get``."""

    accounts: list[AccumulatedAccount] = Field(default_factory=list)


class BenefitsParams(Message):
    """Params of ``benefits.list``: periods inclusive."""

    id_number: str = Field(min_length=15, max_length=18)
    from_period: str = Field(pattern=_PERIOD)
    to_period: str = Field(pattern=_PERIOD)


class BenefitPayment(Message):
    """One benefit payment (pension, unemployment benefit, reimbursement...)."""

    period: str = Field(pattern=_PERIOD)
    kind: str = Field(max_length=40)
    amount_cents: int
    paid_on: str = Field(default="", description="YYYY-MM-DD")
    bank_account: str = Field(default="", description="Masked by the central (first 6, last 4).")


class BenefitsResult(Message):
    """Result of ``benefits.list``."""

    payments: list[BenefitPayment] = Field(default_factory=list)


class UtilityKind(StrEnum):
    """Utilities whose bills a citizen can pay."""

    WATER = "water"
    POWER = "power"
    GAS = "gas"


class BillsParams(Message):
    """Params of ``bills.query``: bills of one utility account number."""

    utility: UtilityKind
    account_number: str = Field(min_length=4, max_length=32)
    unpaid_only: bool = True


class UtilityBill(Message):
    """One utility bill."""

    bill_id: str
    utility: UtilityKind
    account_number: str
    holder: str = Field(default="", description="Masked holder name.")
    period: str = Field(pattern=_PERIOD)
    amount_cents: int = Field(ge=0)
    due_date: str = ""
    paid: bool = False


class BillsResult(Message):
    """Result of ``bills.query``."""

    bills: list[UtilityBill] = Field(default_factory=list)


class PaymentPurpose(StrEnum):
    """What a payment pays."""

    UTILITY_BILL = "utility_bill"
    CONTRIBUTION = "contribution"  # flexible-employment contribution


class PaymentSubmitParams(Message):
    """Params of ``payment.submit`` (debits the citizen's electronic wallet at the central).

    `payment_key` is created once by the kiosk before sending and applied at most once; the
    request's envelope `deadline` is enforced by the central (after it: refused, key recorded).
    """

    payment_key: str = Field(min_length=8, max_length=64)
    id_number: str = Field(min_length=15, max_length=18)
    card_number: str = Field(default="", max_length=32)
    purpose: PaymentPurpose
    reference: str = Field(
        default="", max_length=64, description="bill_id for UTILITY_BILL, period for CONTRIBUTION"
    )
    amount_cents: int = Field(gt=0, le=INT64_MAX)


class PaymentState(StrEnum):
    """A payment as the central ledger knows it (and `unknown`, only ever on the kiosk)."""

    ACCEPTED = "accepted"  # charged exactly once
    DECLINED = "declined"  # not charged (insufficient funds, deadline passed, voided...)
    NOT_FOUND = "not_found"  # never seen; the key is now void (see module docstring)
    UNKNOWN = "unknown"  # kiosk-side only: sent, no answer yet


class PaymentStatusParams(Message):
    """Params of ``payment.status``."""

    payment_key: str = Field(min_length=8, max_length=64)


class PaymentResult(Message):
    """Result of ``payment.submit`` and ``payment.status``."""

    payment_key: str
    state: PaymentState
    amount_cents: int = 0
    balance_after_cents: int | None = None
    receipt_no: str = ""
    reason: str = Field(default="", max_length=200)


class PhotoParams(Message):
    """Params of ``photo.reference`` (asked only after the citizen's consent)."""

    id_number: str = Field(min_length=15, max_length=18)


class PhotoResult(Message):
    """Result of ``photo.reference``: a JPEG, base64; used in memory only."""

    image_b64: str = Field(max_length=MAX_PAYLOAD_BYTES)
    format: Literal["jpeg", "png"] = "jpeg"
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class FingerprintParams(Message):
    """Params of ``fingerprint.reference``; `finger` 0-9 (ISO finger position - 1) or -1=any."""

    id_number: str = Field(min_length=15, max_length=18)
    finger: int = Field(default=-1, ge=-1, le=9)


class FingerprintResult(Message):
    """Result of ``fingerprint.reference``: a module character file (512 bytes), base64."""

    template_b64: str = Field(max_length=4096)
    finger: int = Field(ge=0, le=9)
    format: Literal["zhiantec-char"] = "zhiantec-char"
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


FINGERPRINT_TEMPLATE_MAX_BYTES = 2048
"""The largest template `fingerprint.enroll` takes (a module character file is 512 bytes)."""


class FingerprintEnrollParams(Message):
    """Params of ``fingerprint.enroll``: the template activation enrolled on site becomes the
    holder's reference at the central, once per `enrol_key`. The token must carry card, PIN,
    face and fingerprint of this person and card (docs/central-trust.md)."""

    enrol_key: str = Field(min_length=8, max_length=64)
    id_number: str = Field(min_length=15, max_length=18)
    card_number: str = Field(min_length=1, max_length=32)
    finger: int = Field(default=1, ge=0, le=9)
    template_b64: str = Field(min_length=4, max_length=4 * -(-FINGERPRINT_TEMPLATE_MAX_BYTES // 3))


class FingerprintEnrollResult(Message):
    """Result of ``fingerprint.enroll``: the new reference, named by its digest only."""

    enrol_key: str
    reference: str = Field(pattern=r"^sha256:[0-9a-f]{32}$")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    repeated: bool = False


class ContributionQuoteParams(Message):
    """Params of ``contribution.quote``: what a flexible-employment pension contribution for
    `period` (YYYYMM) costs. The central computes it from the person's record; the payment
    (purpose CONTRIBUTION, reference = period) must carry exactly that amount."""

    id_number: str = Field(min_length=15, max_length=18)
    period: str = Field(pattern=r"^[0-9]{4}(0[1-9]|1[0-2])$")


class ContributionQuote(Message):
    """Result of ``contribution.quote``: the base of the person's latest pension contribution
    up to `period`, the rate in per mille, and the amount due. A month already paid is not
    quoted (error ``already_paid``), and a second payment of it with another key is declined
    with reason ``already_paid``; the same key replayed answers its first outcome."""

    period: str
    base_cents: int = Field(ge=0)
    rate_permille: int = Field(ge=0, le=1000)
    amount_cents: int = Field(gt=0)


class ActivationApproveParams(Message):
    """Params of ``activation.approve``: step 1 of the activation saga (idempotent on key)."""

    activation_key: str = Field(min_length=8, max_length=64)
    id_number: str = Field(min_length=15, max_length=18)
    card_number: str = Field(max_length=32)


class ActivationState(StrEnum):
    """An activation as the central knows it."""

    NONE = "none"  # never approved (nothing to compensate)
    APPROVED = "approved"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    DECLINED = "declined"


class ActivationApproveResult(Message):
    """Result of ``activation.approve``: `record_hex` is what the kiosk writes to the card."""

    activation_key: str
    state: ActivationState
    approval_id: str = ""
    record_hex: str = Field(default="", pattern=r"^([0-9A-Fa-f]{2})*$")
    reason: str = ""


class ActivationStatusParams(Message):
    """Params of ``activation.status`` (the saga's recovery probe for step 1)."""

    activation_key: str = Field(min_length=8, max_length=64)


class ActivationStatusResult(Message):
    """Result of ``activation.status``."""

    activation_key: str
    state: ActivationState
    approval_id: str = ""
    record_hex: str = ""


# --- central trust (docs/central-trust.md) -------------------------------------------------


class Credential(StrEnum):
    """What a session has proven at the kiosk; each personal method needs a set of them."""

    CARD = "card"  # the card answered the central's challenge (INTERNAL AUTHENTICATE)
    PIN = "pin"  # the card verified the holder's PIN in this card session
    FACE = "face"  # face matched the central's reference photo, with liveness
    FINGERPRINT = "fingerprint"  # fingerprint matched the central's template
    ESSC = "essc"  # an e-SSC QR code, checked by the central, stands in for card + PIN
    IDCARD_FACE = "idcard_face"  # ID card read + live face the central matched to its photo


CARD_CREDENTIALS = frozenset(
    {Credential.CARD, Credential.PIN, Credential.FACE, Credential.FINGERPRINT}
)
"""Everything a session with the card present can prove (an e-SSC session is another kind)."""


class SessionPurpose(StrEnum):
    """Why a session is opened: a lost card may open only a ``loss_cancel`` session."""

    SERVICE = "service"
    LOSS_CANCEL = "loss_cancel"


class SessionChallengeParams(Message):
    """Params of ``session.challenge``: nothing personal, the terminal is the topic's."""

    purpose: SessionPurpose = SessionPurpose.SERVICE


class SessionChallenge(Message):
    """Result of ``session.challenge``: 16 random bytes, process factor R (8) ‖ data S (8), that
    the card answers with INTERNAL AUTHENTICATE; usable once, by this terminal, until expiry."""

    challenge_id: str = Field(min_length=8, max_length=64)
    challenge_hex: str = Field(pattern=r"^[0-9A-F]{32}$")
    expires_at: float = Field(ge=0)


class SessionOpenParams(Message):
    """Params of ``session.open``: the card's answer to a challenge and the card's identity."""

    challenge_id: str = Field(min_length=8, max_length=64)
    card_id_hex: str = Field(pattern=r"^[0-9A-Fa-f]{32}$", description="EF05 tag 01, 16 bytes.")
    card_number: str = Field(min_length=1, max_length=32)
    answer_hex: str = Field(pattern=r"^([0-9A-Fa-f]{16}|[0-9A-Fa-f]{32})$")
    pin_verified: bool = False
    purpose: SessionPurpose = SessionPurpose.SERVICE


class FaceProof(Message):
    """A face check done on site: matched against the central's reference photo, with liveness.
    No image travels; `reference_sha256` names the reference photo the kiosk compared with."""

    matched: bool
    liveness: bool
    score: float = Field(ge=0, le=1)
    reference_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class FingerprintProof(Message):
    """A fingerprint matched on site against the central's template (named by its digest)."""

    matched: bool
    score: int = Field(ge=0, le=100_000)
    template_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class SessionElevateParams(Message):
    """Params of ``session.elevate`` (with the current token): a fresh card answer (the card is
    still there) and the proofs of what was checked on site since."""

    challenge_id: str = Field(min_length=8, max_length=64)
    answer_hex: str = Field(pattern=r"^([0-9A-Fa-f]{16}|[0-9A-Fa-f]{32})$")
    pin_verified: bool = False
    face: FaceProof | None = None
    fingerprint: FingerprintProof | None = None


class SessionTokenResult(Message):
    """Result of ``session.open`` and ``session.elevate``: the token to send with every
    personal request of this session (in `RpcRequest.session_token`), bound to the terminal,
    the person and the credentials proven, until `expires_at`."""

    token: str = Field(max_length=2048)
    expires_at: float = Field(ge=0)
    credentials: list[Credential] = Field(default_factory=list)
    id_number_masked: str = Field(default="", max_length=18)
    id_number: str = Field(default="", max_length=18, description="The card holder's, for params.")
    purpose: SessionPurpose = SessionPurpose.SERVICE
    card_state: Literal["active", "temporary_lost"] = "active"


class EsscLoginParams(Message):
    """Params of ``essc.login``: the e-SSC QR code's text, passed on unchanged (opaque)."""

    token: str = Field(min_length=8, max_length=1024)


class LivenessStatement(Message):
    """The terminal's word on the live check it ran (the central cannot see it: it trusts the
    authenticated terminal for it, as for `pin_verified`)."""

    live: bool
    challenges: int = Field(ge=0, le=8, description="Head movements asked and answered.")
    same_face: bool = Field(description="One face followed from the first frame to the last.")


class IdCardLoginParams(Message):
    """Params of ``session.open_idcard``: the resident ID card as the SAM module read it, the
    live check's statement, and ONE aligned face crop (dlib's 150x150 chip, JPEG, base64) of
    the live check's closing frame. The central matches the crop against its own reference
    photo and discards it (docs/idcard-reader.md)."""

    id_number: str = Field(min_length=15, max_length=18)
    name: str = Field(min_length=1, max_length=64)
    card_type: Literal["resident", "foreign_permanent", "hmt_residence"] = "resident"
    valid_until: str = Field(
        default="", pattern=r"^(\d{4}-\d{2}-\d{2})?$", description="ISO date; empty: long-term."
    )
    liveness: LivenessStatement
    face_jpeg_b64: str = Field(min_length=16, max_length=65536, repr=False)


# --- services (docs/services.md) -----------------------------------------------------------


class YearlyParams(Message):
    """Params of ``contributions.yearly``: one insurance, years inclusive."""

    id_number: str = Field(min_length=15, max_length=18)
    insurance: InsuranceKind
    from_year: int = Field(ge=1950, le=2100)
    to_year: int = Field(ge=1950, le=2100)


class YearPoint(Message):
    """One year of one insurance: what a chart shows."""

    year: int
    months_paid: int = Field(ge=0, le=12)
    months_unpaid: int = Field(default=0, ge=0, le=12)
    average_base_cents: int = Field(ge=0)
    employer_cents: int = Field(ge=0)
    personal_cents: int = Field(ge=0)


class YearlySeries(Message):
    """Result of ``contributions.yearly``: every year of the range, oldest first."""

    insurance: InsuranceKind
    points: list[YearPoint] = Field(default_factory=list)


class CertificateParams(Message):
    """Params of ``certificate.issue``: the insured certificate (参保证明) of the holder."""

    request_key: str = Field(min_length=8, max_length=64)
    id_number: str = Field(min_length=15, max_length=18)
    insurances: list[InsuranceKind] = Field(default_factory=list, max_length=5)


class InsuredPeriod(Message):
    """One uninterrupted run of paid months of one insurance."""

    insurance: InsuranceKind
    from_period: str = Field(pattern=_PERIOD)
    to_period: str = Field(pattern=_PERIOD)
    months: int = Field(ge=1)


class InsuredCertificate(Message):
    """Result of ``certificate.issue`` (and inside ``certificate.verify``): a document signed by
    the central (Ed25519 over `document`, the canonical JSON of the other fields). The holder's
    name and ID number are masked (family name; first 3, last 4); the verification code finds it."""

    certificate_id: str
    verification_code: str = Field(pattern=r"^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$")
    holder_name_masked: str
    id_number_masked: str
    issued_at: float
    periods: list[InsuredPeriod] = Field(default_factory=list)
    document: str = Field(max_length=32_768)
    signature_b64: str = Field(max_length=200)
    key_id: str = Field(max_length=64)


class CertificateVerifyParams(Message):
    """Params of ``certificate.verify``: a verification code read off a printout or QR."""

    verification_code: str = Field(min_length=4, max_length=32)


class CertificateVerifyResult(Message):
    """Result of ``certificate.verify``: `valid` only when found and the signature checks."""

    valid: bool
    certificate: InsuredCertificate | None = None
    reason: str = Field(default="", max_length=200)


class AffairState(StrEnum):
    """What the central did with an application or registration."""

    ACCEPTED = "accepted"
    DECLINED = "declined"


class AffairResult(Message):
    """Result of every application/registration: applied once per `request_key`; a repeat of
    the key answers the same result (with `repeated` True)."""

    request_key: str
    kind: str = Field(max_length=40)
    state: AffairState
    reference_no: str = ""
    reason: str = Field(default="", max_length=200)
    repeated: bool = False


class EmploymentCertificateParams(Message):
    """Params of ``affairs.employment_certificate`` (就业失业登记证明 request)."""

    request_key: str = Field(min_length=8, max_length=64)
    id_number: str = Field(min_length=15, max_length=18)
    purpose: str = Field(min_length=1, max_length=100)
    delivery: Literal["pickup", "mail"] = "pickup"


class UnemploymentRegisterParams(Message):
    """Params of ``affairs.unemployment_register`` (失业登记)."""

    request_key: str = Field(min_length=8, max_length=64)
    id_number: str = Field(min_length=15, max_length=18)
    last_employer: str = Field(min_length=1, max_length=80)
    separation_date: str = Field(pattern=_DATE)
    reason: Literal["contract_ended", "dismissed", "resigned", "employer_closed", "other"]
    contact_phone: str = Field(pattern=r"^1\d{10}$")


class TrainingCatalogueParams(Message):
    """Params of ``training.catalogue``: a category filter (empty: all)."""

    category: str = Field(default="", max_length=40)


class TrainingCourse(Message):
    """One vocational training course."""

    course_id: str
    title: str
    category: str
    start_date: str = Field(pattern=_DATE)
    hours: int = Field(ge=1)
    seats: int = Field(ge=0)
    seats_left: int = Field(ge=0)
    subsidised: bool = True


class TrainingCatalogue(Message):
    """Result of ``training.catalogue``."""

    courses: list[TrainingCourse] = Field(default_factory=list)


class TrainingSignupParams(Message):
    """Params of ``training.signup``: one seat of one course, once per key and per person."""

    request_key: str = Field(min_length=8, max_length=64)
    id_number: str = Field(min_length=15, max_length=18)
    course_id: str = Field(min_length=1, max_length=32)


class LossParams(Message):
    """Params of ``card.loss_report`` and ``card.loss_cancel`` (temporary loss, 临时挂失)."""

    request_key: str = Field(min_length=8, max_length=64)
    id_number: str = Field(min_length=15, max_length=18)
    card_number: str = Field(min_length=1, max_length=32)


class LossResult(Message):
    """Result of a loss report or cancellation: the card's state afterwards."""

    request_key: str
    card_state: Literal["active", "temporary_lost"]
    reference_no: str = ""
    repeated: bool = False


class PensionQualifyParams(Message):
    """Params of ``pension.qualify``: record this year's qualification (card + face)."""

    request_key: str = Field(min_length=8, max_length=64)
    id_number: str = Field(min_length=15, max_length=18)
    year: int = Field(ge=2000, le=2100)


class PensionQualification(Message):
    """Result of ``pension.qualify``: the recorded qualification of `year`."""

    request_key: str
    year: int
    qualified: bool
    recorded_at: float = 0.0
    reference_no: str = ""
    next_due: str = Field(default="", description="YYYY-MM-DD: when to qualify again.")
    repeated: bool = False


RPC_SCHEMAS: dict[RpcMethod, tuple[type[Message], type[Message]]] = {
    RpcMethod.PERSON_SUMMARY: (PersonParams, PersonSummary),
    RpcMethod.CONTRIBUTIONS: (ContributionsParams, ContributionsResult),
    RpcMethod.ACCOUNTS: (AccountsParams, AccountsResult),
    RpcMethod.BENEFITS: (BenefitsParams, BenefitsResult),
    RpcMethod.BILLS: (BillsParams, BillsResult),
    RpcMethod.PAYMENT_SUBMIT: (PaymentSubmitParams, PaymentResult),
    RpcMethod.PAYMENT_STATUS: (PaymentStatusParams, PaymentResult),
    RpcMethod.PHOTO_REFERENCE: (PhotoParams, PhotoResult),
    RpcMethod.FINGERPRINT_REFERENCE: (FingerprintParams, FingerprintResult),
    RpcMethod.ACTIVATION_APPROVE: (ActivationApproveParams, ActivationApproveResult),
    RpcMethod.ACTIVATION_STATUS: (ActivationStatusParams, ActivationStatusResult),
    RpcMethod.SESSION_CHALLENGE: (SessionChallengeParams, SessionChallenge),
    RpcMethod.SESSION_OPEN: (SessionOpenParams, SessionTokenResult),
    RpcMethod.SESSION_ELEVATE: (SessionElevateParams, SessionTokenResult),
    RpcMethod.CONTRIBUTIONS_YEARLY: (YearlyParams, YearlySeries),
    RpcMethod.CERTIFICATE_ISSUE: (CertificateParams, InsuredCertificate),
    RpcMethod.CERTIFICATE_VERIFY: (CertificateVerifyParams, CertificateVerifyResult),
    RpcMethod.EMPLOYMENT_CERTIFICATE: (EmploymentCertificateParams, AffairResult),
    RpcMethod.UNEMPLOYMENT_REGISTER: (UnemploymentRegisterParams, AffairResult),
    RpcMethod.TRAINING_CATALOGUE: (TrainingCatalogueParams, TrainingCatalogue),
    RpcMethod.TRAINING_SIGNUP: (TrainingSignupParams, AffairResult),
    RpcMethod.LOSS_REPORT: (LossParams, LossResult),
    RpcMethod.LOSS_CANCEL: (LossParams, LossResult),
    RpcMethod.PENSION_QUALIFY: (PensionQualifyParams, PensionQualification),
    RpcMethod.ESSC_LOGIN: (EsscLoginParams, SessionTokenResult),
    RpcMethod.IDCARD_LOGIN: (IdCardLoginParams, SessionTokenResult),
    RpcMethod.FINGERPRINT_ENROLL: (FingerprintEnrollParams, FingerprintEnrollResult),
    RpcMethod.CONTRIBUTION_QUOTE: (ContributionQuoteParams, ContributionQuote),
}
"""method → (params model, result model): both ends validate with these."""


# --------------------------------------------------------------------------- commands


class CommandName(StrEnum):
    """Remote commands a kiosk understands (kiosk handlers are `handle_<name>`)."""

    PING = "ping"
    MAINTENANCE = "maintenance"  # args MaintenanceArgs: on / off
    RELOAD_CONFIG = "reload_config"
    SET_CONFIG = "set_config"  # args SetConfigArgs: a validated key
    COLLECT_LOGS = "collect_logs"  # args CollectLogsArgs: redacted log tail in the ack
    RESTART_APP = "restart_app"
    REBIRTH = "rebirth"  # republish the full state (status, telemetry)


class MaintenanceArgs(Message):
    """Args of ``maintenance``."""

    enabled: bool


class SetConfigArgs(Message):
    """Args of ``set_config``: a dotted key (``section.field``) and its new value."""

    key: str = Field(pattern=r"^[a-z_]+\.[a-z_]+$")
    value: str | int | float | bool


class CollectLogsArgs(Message):
    """Args of ``collect_logs``."""

    lines: int = Field(default=200, ge=1, le=2000)


COMMAND_ARGS: dict[CommandName, type[Message] | None] = {
    CommandName.PING: None,
    CommandName.MAINTENANCE: MaintenanceArgs,
    CommandName.RELOAD_CONFIG: None,
    CommandName.SET_CONFIG: SetConfigArgs,
    CommandName.COLLECT_LOGS: CollectLogsArgs,
    CommandName.RESTART_APP: None,
    CommandName.REBIRTH: None,
}
"""command → args model (None: no args)."""


class Command(Message):
    """Central → kiosk on ``cmd``. Rejected when expired or when `command_id` was seen."""

    v: int = CONTRACT_VERSION
    command_id: str = Field(min_length=8, max_length=64)
    name: str = Field(max_length=40, description="A CommandName; unknown names are rejected.")
    args: dict[str, Any] = Field(default_factory=dict)
    issued_at: float = Field(ge=0, description="Epoch seconds.")
    expires_at: float = Field(ge=0, description="Epoch seconds; after it the kiosk rejects it.")


class AckStatus(StrEnum):
    """Command acknowledgement states."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class CommandAck(Envelope):
    """Kiosk → central on ``cmd/ack``."""

    command_id: str
    status: AckStatus
    detail: str = Field(default="", max_length=500)
    result: dict[str, Any] = Field(default_factory=dict)


# --------------------------------------------------------------------------- codec


class ContractError(ValueError):
    """An inbound payload that breaks the contract. `reason` is stable: ``too_large``,
    ``too_deep``, ``bad_json``, ``schema``, ``version`` (and ``unencodable`` from `encode`)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        # The detail may quote hostile input: keep it valid UTF-8 for logs, receipts and acks.
        detail = detail.encode("utf-8", "backslashreplace").decode("utf-8")
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)


M = TypeVar("M", bound=BaseModel)


@functools.cache
def _fields_to_check(model: type[BaseModel]) -> tuple[str, ...]:
    """Fields pydantic does not bound by itself: integers (range) and free-form `Any` data."""
    return tuple(n for n, f in model.model_fields.items() if _unbounded(f.annotation))


def _unbounded(annotation: Any) -> bool:
    if annotation is int or annotation is Any:
        return True
    return any(_unbounded(arg) for arg in get_args(annotation))


def _check_wire_value(value: Any, depth: int) -> None:
    """Raise ValueError (a pydantic validation error in a validator) for what no receiver can
    store or write back: integers outside int64, non-finite floats, lone surrogates, nesting."""
    kind = type(value)
    if kind is str:
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("string holds a lone surrogate") from None
        if len(value) > MAX_PAYLOAD_BYTES:
            raise ValueError(f"string longer than {MAX_PAYLOAD_BYTES}")
    elif kind is int:
        if not INT64_MIN <= value <= INT64_MAX:
            raise ValueError("integer outside the signed 64-bit range")
    elif kind is float:
        if not math.isfinite(value):
            raise ValueError("number is not finite")
    elif kind is dict or kind is list or kind is tuple:
        if depth >= MAX_JSON_DEPTH:
            raise ValueError(f"nested deeper than {MAX_JSON_DEPTH}")
        if kind is dict:
            for key in value:
                if not (type(key) is str and key.isascii()):
                    _check_wire_value(key, depth + 1)
            value = value.values()
        for item in value:
            _check_wire_value(item, depth + 1)
    elif value is None or kind is bool or isinstance(value, BaseModel):
        return  # a nested model checked itself
    elif isinstance(value, _OversizedInt):
        raise ValueError("integer outside the signed 64-bit range")
    elif isinstance(value, str):  # StrEnum and other subclasses: check the plain value
        _check_wire_value(str.__str__(value), depth)
    elif isinstance(value, int):
        _check_wire_value(int(value), depth)
    elif isinstance(value, float):
        _check_wire_value(float(value), depth)


# Strings first (their brackets do not count), then any bracket: depth in one C-speed scan.
_JSON_TOKEN = re.compile(r'"(?:[^"\\]++|\\.)*+"|[\[\]{}]')


def _json_depth(text: str) -> int:
    depth = deepest = 0
    for token in _JSON_TOKEN.findall(text):
        if token in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif token in "]}":
            depth -= 1
    return deepest


class _OversizedInt:
    """An integer literal of more digits than int64 holds, kept unconverted (int() of 5000
    digits is a ValueError, and costs quadratic time before that): any field refuses it as a
    schema error, so the rest of the message (its msg_id) can still be read and answered."""

    __slots__ = ("digits",)

    def __init__(self, digits: int) -> None:
        self.digits = digits

    def __repr__(self) -> str:
        return f"<integer of {self.digits} digits>"


def _bounded_int(literal: str) -> int | _OversizedInt:
    if len(literal) > 20:  # int64 is 19 digits and a sign
        return _OversizedInt(len(literal))
    return int(literal)


def load_json(payload: bytes | bytearray | str) -> Any:
    """Parse an inbound payload within the contract's bounds (size, depth, strict UTF-8; an
    integer literal too long to convert is kept as a marker every model refuses; ranges and
    finiteness are the models' part). Raises `ContractError` (never anything else)."""
    try:
        raw = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
    except UnicodeEncodeError as e:
        raise ContractError("bad_json", str(e)[:200]) from None
    if len(raw) > MAX_PAYLOAD_BYTES:
        raise ContractError("too_large", f"{len(raw)} bytes > {MAX_PAYLOAD_BYTES}")
    try:
        # Strict: json.loads(bytes) would decode with surrogatepass (ED A0 80 → lone surrogate).
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ContractError("bad_json", str(e)[:200]) from None
    if text.count("[") + text.count("{") > MAX_JSON_DEPTH and _json_depth(text) > MAX_JSON_DEPTH:
        raise ContractError("too_deep", f"nested deeper than {MAX_JSON_DEPTH}")
    # Non-finite numbers (NaN, 1e999) parse, and every model refuses them; an integer past
    # int64 parses too (4300 digits at most, Python's own bound) and every model refuses it.
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError) as e:
        raise ContractError("bad_json", str(e)[:200]) from None
    except ValueError:
        pass  # an integer past 4300 digits: parse again keeping long integers unconverted
    try:
        return json.loads(text, parse_int=_bounded_int)
    except (ValueError, RecursionError) as e:
        raise ContractError("bad_json", str(e)[:200]) from None


def encode(message: BaseModel) -> bytes:
    """Compact UTF-8 JSON of a contract message. Raises `ContractError` ``unencodable`` for a
    model built without validation (`model_construct`) that holds what JSON cannot carry."""
    try:
        return message.model_dump_json(exclude_none=False).encode("utf-8")
    except (ValueError, UnicodeError) as e:  # PydanticSerializationError is a ValueError
        raise ContractError("unencodable", str(e)[:200]) from None


def decode(model: type[M], payload: bytes | bytearray | str | dict[str, Any]) -> M:
    """Validate `payload` as `model`. Raises `ContractError` (never anything else)."""
    data: Any = payload if isinstance(payload, dict) else load_json(payload)
    if not isinstance(data, dict):
        raise ContractError("schema", "payload is not a JSON object")
    version = data.get("v", CONTRACT_VERSION)
    if not isinstance(version, int) or version not in ACCEPTED_VERSIONS:
        raise ContractError(
            "version", f"contract version {version!r} not in {sorted(ACCEPTED_VERSIONS)}"
        )
    try:
        return model.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ContractError("schema", f"{where}: {first['msg']}") from None
    except RecursionError:  # a dict payload built by the caller, nested past any bound
        raise ContractError("too_deep", "payload nested too deeply") from None
