"""Journey files: one citizen journey as data (steps, intents, expected views, outcome).

A journey is a TOML file in `config/journeys/` shared by `kiosk journey`, the end-to-end tests,
the demo and the benchmark. Each step does one thing (send an intent to the session, or act on
the emulated hardware: insert or pull the card, stop the broker...) and then waits until the
session's view matches `expect`, so a step never races the effect runner. Expected failures are
journeys too: their `expect` names the error the citizen sees, and `[outcome]` how it ended.

    name = "query"
    card = "ssc3"
    [[step]]
    device = "insert_card"
    expect = { screen = "pin_entry" }
    [[step]]
    intent = "EnterPin"
    args = { pin = "$pin" }          # $pin: the card profile's PIN, $wrong_pin: another one
    expect = { screen = "menu" }

Loading is strict (unknown keys, a missing field, a bad value are errors that name the file and
the step), so a typo in a journey fails where it is, never as a mysterious mismatch later.
"""

from __future__ import annotations

import tomllib
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from kiosk.config.loader import PROJECT_DIR

__all__ = [
    "JOURNEYS_DIR",
    "DeviceAction",
    "Expect",
    "Journey",
    "JourneyFileError",
    "Outcome",
    "Step",
    "journey_names",
    "load_journey",
]

JOURNEYS_DIR = PROJECT_DIR / "config" / "journeys"


class JourneyFileError(ValueError):
    """A journey file is missing or invalid; the message names the file and the field."""


class DeviceAction(StrEnum):
    """What a step can do to the emulated hardware and the network."""

    INSERT_CARD = "insert_card"  # the journey's card profile (or `profile`) into slot 0
    REMOVE_CARD = "remove_card"  # the citizen pulls the card
    INSERT_BANK_CARD = "insert_bank_card"  # activation's swap step: the bank card in slot 0
    RETURN_CARD = "return_card"  # the social security card back after the swap
    CARD_FAULT = "card_fault"  # arm one-shot card fault `profile` (e.g. remove_mid_command)
    BROKER_DOWN = "broker_down"  # the broker vanishes (SIGKILL)
    BROKER_UP = "broker_up"
    # The broker vanishes after the central applied the next payment and before its answer
    # goes out (a hook of the tests' central): the request is delivered, the answer lost.
    BROKER_DOWN_BEFORE_ANSWER = "broker_down_before_answer"
    CENTRAL_DOWN = "central_down"  # the central system stops answering (broker stays)
    CENTRAL_UP = "central_up"
    FINGER = "finger"  # put finger `profile` on the scanner ("none" lifts it)
    CAMERA = "camera"  # switch the camera to source spec `profile`
    WAIT = "wait"  # let `seconds` pass (timeouts run on the session's clock)
    PLACE_ID_CARD = "place_id_card"  # ID card `profile` on the reader (drivers/idcard/emulator)
    REMOVE_ID_CARD = "remove_id_card"  # the ID card taken off the reader
    PRINTER_FAULT = "printer_fault"  # `profile`: paper_out_mid, paper_out, cover_open, ok
    SHOW_ESSC = "show_essc"  # the phone's e-SSC code to the camera: `profile` valid, expired,
    # replayed, forged, other_terminal, lost (issued by the central for the journey's holder)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Expect(_Strict):
    """What the view must show after a step (every given key must hold).

    `screen`: the view's screen/state name; `title`: its title key; `error`: the error key
    shown to the citizen (or `none`); `allows`: intents the view must allow; `text`: fragments
    the rendered view must contain (field values are rendered masked, as on screen); `absent`:
    fragments it must not contain (e.g. "$id_number" checks the raw ID is nowhere); `rows_min`:
    at least this many list rows; `printed` / `not_printed`: fragments the last paper out of
    the emulated printer (its decoded text) must / must not hold ("$name" etc. allowed).
    """

    screen: str | None = None
    title: str | None = None
    error: str | None = None
    allows: tuple[str, ...] = ()
    text: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    rows_min: int | None = Field(default=None, ge=0)
    printed: tuple[str, ...] = ()
    not_printed: tuple[str, ...] = ()
    timeout_s: float = Field(default=15.0, gt=0, le=600)


class Step(_Strict):
    """One step: exactly one of `intent` (with `args`) or `device` (with `profile`/`seconds`),
    then the optional `expect`. With `at` (a screen name) the device action is armed instead
    and happens the moment that screen shows, or `seconds` after it (the card pulled while a
    payment is in flight)."""

    intent: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)
    device: DeviceAction | None = None
    profile: str | None = None
    seconds: float | None = Field(default=None, ge=0, le=600)
    at: str | None = None
    expect: Expect | None = None
    note: str = ""

    @model_validator(mode="after")
    def _one_action(self) -> Step:
        if (self.intent is None) == (self.device is None) and self.expect is None:
            raise ValueError("a step needs exactly one of intent or device (or only expect)")
        if self.intent is not None and self.device is not None:
            raise ValueError("a step has either intent or device, not both")
        if self.device is DeviceAction.WAIT and self.seconds is None:
            raise ValueError("device = wait needs seconds")
        if self.at is not None and self.device is None:
            raise ValueError("at (a screen name) arms a device action: it needs device")
        needs_profile = (DeviceAction.FINGER, DeviceAction.CAMERA, DeviceAction.CARD_FAULT,
                         DeviceAction.PLACE_ID_CARD, DeviceAction.PRINTER_FAULT,
                         DeviceAction.SHOW_ESSC)
        if self.device in needs_profile and not self.profile:
            raise ValueError(f"device = {self.device} needs profile")
        return self

    def describe(self) -> str:
        """One line for the CLI: what this step does."""
        if self.intent is not None:
            shown = {k: ("…" if k in _SECRET_ARGS else v) for k, v in self.args.items()}
            return f"intent {self.intent}" + (f" {shown}" if shown else "")
        if self.device is not None:
            extra = self.profile or (f"{self.seconds:g} s" if self.seconds is not None else "")
            when = f" when {self.at} shows" if self.at else ""
            return f"device {self.device.value}" + (f" {extra}" if extra else "") + when
        return "check the view"


# What a citizen types (a PIN, a phone, an ID number) is never echoed in the transcript.
_SECRET_ARGS = frozenset({"pin", "old_pin", "new_pin", "secret", "value"})


class Outcome(_Strict):
    """How the journey ends, as the session records it in its `session_stats` event:
    `session` the session's end reason (finished, cancelled, card_removed, timeout,
    card_expired...), `result` the outcome of the journey's service (completed, failed,
    abandoned; "none": no service was started), `reason` its failure code, `screen` the state
    the terminal rests in afterwards (take_card, idle, card_left...)."""

    session: str | None = None
    result: str | None = None
    reason: str | None = None
    screen: str | None = None


class Journey(_Strict):
    """A whole journey file."""

    name: str = Field(pattern=r"^[a-z0-9_]+$")
    description: str
    service: str | None = None
    card: str = "ssc3"
    camera: str = "synthetic:turn-left+look-up+turn-right"
    finger: str = "f03"
    elderly: bool = False
    language: str = "zh_CN"
    # The hall's other devices: "" = the terminal has no ID card reader; "none" = a reader
    # with no card on it; else the emulated ID card lying on it. `printer`: an emulated
    # receipt printer is attached.
    id_card: str = ""
    printer: bool = False
    # [policy] keys this journey's terminal runs with (e.g. idcard_login = true: a login the
    # default policy does not offer), validated as the terminal's config would be.
    policy: dict[str, bool | int | float | str] = Field(default_factory=dict)
    step: tuple[Step, ...] = Field(min_length=1)
    outcome: Outcome

    @property
    def steps(self) -> tuple[Step, ...]:
        return self.step

    @property
    def shows_essc(self) -> bool:
        """The journey shows an e-SSC code to the camera (the camera plays its video)."""
        return any(s.device is DeviceAction.SHOW_ESSC for s in self.step)


def journey_path(name_or_path: str, folder: Path = JOURNEYS_DIR) -> Path:
    """A journey by name (`config/journeys/NAME.toml`) or by file path."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" or candidate.parent != Path("."):
        return candidate
    return folder / f"{name_or_path}.toml"


def journey_names(folder: Path = JOURNEYS_DIR) -> list[str]:
    """Every journey shipped in `folder`, sorted."""
    return sorted(p.stem for p in folder.glob("*.toml"))


def load_journey(name_or_path: str, folder: Path = JOURNEYS_DIR) -> Journey:
    """Read and validate one journey; `JourneyFileError` names the file and the bad field."""
    path = journey_path(name_or_path, folder)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        known = ", ".join(journey_names(folder)) or "none"
        raise JourneyFileError(f"no journey {name_or_path!r} ({path}); known: {known}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise JourneyFileError(f"{path}: cannot read: {e}") from None
    except tomllib.TOMLDecodeError as e:
        raise JourneyFileError(f"{path}: {e}") from None
    try:
        return Journey.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        where = where.replace("step.", "step ", 1)
        raise JourneyFileError(f"{path}: {where}: {first['msg']}") from None
