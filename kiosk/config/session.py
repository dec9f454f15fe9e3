"""Session sections: [session] (time limits, technician access) and [policy] (what each service
needs, what runs offline, which devices it uses). Owned by kiosk.session (docs/session.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from drivers.camera.settings import MIN_CHALLENGES
from kiosk.config.base import ConfigSection

__all__ = ["PolicyConfig", "SessionConfig"]

_CREDENTIALS = {"card", "pin", "face", "fingerprint"}
_DEVICES = {"card_reader", "psam", "camera", "fingerprint", "printer", "id_card_reader"}
_SERVICES = {
    "inquiry",
    "certificate",
    "utility_payment",
    "flexible_contribution",
    "activation",
    "pin_change",
    "loss_report",
    "loss_cancel",
    "employment_certificate",
    "unemployment_registration",
    "training",
    "pension_qualification",
}


class SessionConfig(ConfigSection):
    """Time limits of a citizen session (WCAG 2.2.1) and technician access to maintenance."""

    answer_s: float = Field(
        60.0,
        ge=20,
        le=600,
        title="Inactivity limit of a screen (s)",
        description="Time without any touch before the warning ends; at least 20 s (WCAG 2.2.1).",
    )
    warning_s: float = Field(
        20.0,
        ge=20,
        le=120,
        title="Warning before the end (s)",
        description="The 'more time' warning shows this long before the limit: >= 20 s to answer.",
    )
    extensions: int = Field(10, ge=10, le=100, title="'More time' allowed per screen (>= 10)")
    elderly_factor: float = Field(2.0, ge=1, le=5, title="Time limits multiplied in elderly mode")
    take_card_s: float = Field(30.0, ge=10, le=300, title="Time to take the card at the end (s)")
    busy_timeout_s: float = Field(
        120.0, ge=5, le=900, title="Longest wait for a device or the central (s)"
    )
    page_rows: int = Field(5, ge=2, le=20, title="Table rows per page")
    page_rows_elderly: int = Field(3, ge=2, le=20, title="Table rows per page, elderly mode")
    scrambled_pin_pad: bool = Field(False, title="Shuffle the touchscreen PIN pad digits")
    pin_min_length: int = Field(6, ge=4, le=16, title="Shortest PIN the pad accepts")
    pin_max_length: int = Field(6, ge=4, le=16, title="Longest PIN the pad accepts")
    technician_credential: str = Field(
        "technician-secret",
        title="Technician secret credential name",
        description="File in $CREDENTIALS_DIRECTORY holding the local maintenance secret.",
    )
    technician_max_tries: int = Field(
        3, ge=1, le=10, title="Wrong technician secrets before lockout"
    )
    technician_lockout_s: float = Field(300.0, ge=10, le=86_400, title="Technician lockout (s)")

    @model_validator(mode="after")
    def _pin_bounds(self) -> SessionConfig:
        if self.pin_min_length > self.pin_max_length:
            raise ValueError("session.pin_min_length is above session.pin_max_length")
        if self.warning_s >= self.answer_s:
            raise ValueError("session.warning_s must be below session.answer_s")
        return self


def _default_credentials() -> dict[str, list[str]]:
    base = ["card", "pin"]
    out = {s: list(base) for s in _SERVICES}
    out["activation"] = ["card", "pin", "face", "fingerprint"]
    out["pension_qualification"] = ["card", "face"]
    return out


def _default_devices() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {s: ["card_reader"] for s in _SERVICES}
    out["activation"] = ["card_reader", "psam", "camera", "fingerprint"]
    out["pension_qualification"] = ["card_reader", "camera"]
    return out


class PolicyConfig(ConfigSection):
    """What each service needs and where it may run (docs/session.md, Policy): payments,
    queries, loss reports and card writes are online only; applications may be queued."""

    credentials: dict[str, list[str]] = Field(
        default_factory=_default_credentials,
        title="Credentials each service needs",
        description="service → subset of card, pin, face, fingerprint.",
    )
    devices: dict[str, list[str]] = Field(
        default_factory=_default_devices,
        title="Devices each service needs",
        description="service → subset of card_reader, psam, camera, fingerprint, printer.",
    )
    offline: list[str] = Field(
        default_factory=lambda: [
            "employment_certificate",
            "unemployment_registration",
        ],
        title="Services that run while the central is unreachable (queued)",
        description="Applications and registrations only; queries, payments, loss reports and "
        "card writes are online only.",
    )
    disabled: list[str] = Field(default_factory=list, title="Services not offered here")
    show_unavailable: bool = Field(
        False,
        title="Show services whose device is down (disabled, with the reason)",
        description="False: such services are hidden and a notice says where to get them.",
    )
    face_attempts: int = Field(3, ge=1, le=10, title="Face attempts per session")
    finger_attempts: int = Field(3, ge=1, le=10, title="Fingerprint attempts per session")
    face_challenges: int = Field(
        3,
        le=6,
        title="Liveness challenges per face attempt (at least 3)",
        description="A live camera draws face.challenge_count (3-6) itself; this bounds what a "
        "generated demo or test stream is asked. Fewer than 3 would let a short prepared "
        "recording guess the order, so it is refused.",
    )
    help_desk: Literal["counter", "service_desk", "other_kiosk"] = Field(
        "counter", title="Where the screen sends people for help (a message key desk.*)"
    )
    id_card_check: Literal["id_card", "id_card_or_typed", "typed"] = Field(
        "id_card_or_typed",
        title="How activation checks the holder's resident ID card",
        description="id_card: read on the ID card reader (activation hidden while it is down); "
        "id_card_or_typed: read, or typed (GB 11643 check digit) when the reader is down or "
        "the citizen chooses to; typed: the ID number is typed.",
    )
    id_card_timeout_s: float = Field(
        30.0, ge=5, le=120, title="Time to place the ID card on the reader (s)"
    )
    essc_login: bool = Field(
        True,
        title="Offer the e-SSC QR code login on the attract screen",
        description="Needs the camera and the central (which alone checks the code).",
    )
    qr_timeout_s: float = Field(
        45.0,
        ge=5,
        le=300,
        title="Time to show the e-SSC code to the camera (s)",
        description="Below session.busy_timeout_s (the scan state's guard).",
    )
    idcard_login: bool = Field(
        False,
        title="Offer the resident ID card login (records lookup) on the attract screen",
        description="Needs the ID card reader, the camera and the central, which matches the "
        "live face with its own photo and must allow it too ([trust] idcard_login): "
        "docs/idcard-reader.md.",
    )

    @field_validator("face_challenges")
    @classmethod
    def _enough_challenges(cls, value: int) -> int:
        if value < MIN_CHALLENGES:
            raise ValueError(
                f"a face check asks at least {MIN_CHALLENGES} liveness challenges, not {value}"
            )
        return value

    @model_validator(mode="after")
    def _known_names(self) -> PolicyConfig:
        for service, creds in self.credentials.items():
            if service not in _SERVICES:
                raise ValueError(f"policy.credentials: unknown service {service!r}")
            if not set(creds) <= _CREDENTIALS or "card" not in creds:
                raise ValueError(f"policy.credentials.{service}: card plus {sorted(_CREDENTIALS)}")
        for service, devs in self.devices.items():
            if service not in _SERVICES or not set(devs) <= _DEVICES:
                raise ValueError(f"policy.devices.{service}: unknown service or device")
        for name in (*self.offline, *self.disabled):
            if name not in _SERVICES:
                raise ValueError(f"policy: unknown service {name!r}")
        money = {
            "utility_payment",
            "flexible_contribution",
            "loss_report",
            "loss_cancel",
            "activation",
            "inquiry",
            "certificate",
            "pension_qualification",
            "pin_change",
            "training",
        }
        bad = sorted(money & set(self.offline))
        if bad:
            raise ValueError(f"policy.offline: {bad} are online only")
        return self

    def credentials_for(self, service: str) -> frozenset[str]:
        return frozenset(self.credentials.get(service, ["card", "pin"]))

    def devices_for(self, service: str) -> frozenset[str]:
        return frozenset(self.devices.get(service, ["card_reader"]))
