"""What the citizen (or a technician) asks for on the screen: imperative, sent by the UI.

PIN entry: the UI collects the digits into a `PinBuffer` itself (the keypad echoes only dots)
and sends one `EnterPin`; the machine hands the buffer to a `VerifyPin`/`ChangePin` effect and
keeps no copy; the runner wipes it after the card answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field

from drivers.personal import PinBuffer

__all__ = [
    "Back",
    "CallStaff",
    "Cancel",
    "Choose",
    "ChooseService",
    "Confirm",
    "ConsentGiven",
    "ConsentRefused",
    "EnterPin",
    "EnterText",
    "Intent",
    "MoreTime",
    "NextPage",
    "PrevPage",
    "Reveal",
    "SetElderly",
    "SetLanguage",
    "TechnicianAction",
    "TechnicianLogin",
    "TechnicianLogout",
    "Touch",
]


class Intent:
    """Base of every intent (the screen's request)."""

    __slots__ = ()


@dataclass(frozen=True, slots=True, eq=False)
class EnterPin(Intent):
    """The PIN typed on the pad (not compared, not kept: `eq=False` so no PIN comparison)."""

    pin: PinBuffer


@dataclass(frozen=True, slots=True)
class ChooseService(Intent):
    """A service tile on the menu (`kiosk.session.services.ServiceId` value)."""

    service: str


@dataclass(frozen=True, slots=True)
class Choose(Intent):
    """Any other option of the view: a menu group, tab, bill, course, utility, retry..."""

    option: str


@dataclass(frozen=True, slots=True)
class EnterText(Intent):
    """A typed value for the field of the view's `text_input` (or a form field by id)."""

    field: str
    value: str = dc_field(repr=False)


@dataclass(frozen=True, slots=True)
class Confirm(Intent):
    """The primary action: yes, pay, submit, continue."""


@dataclass(frozen=True, slots=True)
class Cancel(Intent):
    """End the session now (the card is given back)."""


@dataclass(frozen=True, slots=True)
class Back(Intent):
    """One screen back (to the menu from a service's first screen)."""


@dataclass(frozen=True, slots=True)
class MoreTime(Intent):
    """Extend the inactivity timer (answer to the timeout warning)."""


@dataclass(frozen=True, slots=True)
class CallStaff(Intent):
    """One-key call for a member of staff, from any screen."""


@dataclass(frozen=True, slots=True)
class SetLanguage(Intent):
    """Switch the language of the screens (``zh_CN``, ``en``)."""

    language: str


@dataclass(frozen=True, slots=True)
class SetElderly(Intent):
    """Large print and doubled time limits on or off."""

    enabled: bool


@dataclass(frozen=True, slots=True)
class Reveal(Intent):
    """Show one masked field of this view unmasked (or hide it again)."""

    field: str


@dataclass(frozen=True, slots=True)
class NextPage(Intent):
    """Next page of the view's table."""


@dataclass(frozen=True, slots=True)
class PrevPage(Intent):
    """Previous page of the view's table."""


@dataclass(frozen=True, slots=True)
class ConsentGiven(Intent):
    """Yes to the biometric check described on the consent screen."""


@dataclass(frozen=True, slots=True)
class ConsentRefused(Intent):
    """No to the biometric check: the non-biometric path or staff."""


@dataclass(frozen=True, slots=True)
class Touch(Intent):
    """Any touch on the screen: restarts the inactivity timer of the state."""


@dataclass(frozen=True, slots=True, eq=False)
class TechnicianLogin(Intent):
    """The technician's secret from the hidden maintenance screen (compared in constant time)."""

    secret: str = dc_field(repr=False)


@dataclass(frozen=True, slots=True)
class TechnicianAction(Intent):
    """A maintenance action (audited): ``device_test``, ``reload_config``, ``clear_card_left``..."""

    action: str


@dataclass(frozen=True, slots=True)
class TechnicianLogout(Intent):
    """Leave maintenance (the kiosk returns to service if nothing else keeps it out)."""
