"""The activation saga: central approval → card write → read-back → confirmation.

Each step is recorded in the journal before it acts, has its own idempotency key (the saga key;
approval and confirmation are idempotent on it at the central, and the card record carries its
digest) and a recovery probe: ``activation.status`` for the approval, reading the card back for
the write. After a crash, `recover()` finishes a saga forward when the card can prove the write
(or can still be written), and otherwise compensates: an ``activation_cancelled`` event
releases the approval. The confirmation and the cancellation are outbox events, written in the
same SQLite transaction as the saga's final state, so they are delivered exactly once later.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from drivers.card import activation as card_activation
from drivers.card.errors import CardDataError, CardError
from drivers.card.psam import ApduChannel
from drivers.card.security import CardAuthenticator
from kiosk.clock import Clock
from kiosk.contract import (
    ActivationApproveParams,
    ActivationApproveResult,
    ActivationCancelled,
    ActivationConfirmed,
    ActivationState,
    ActivationStatusParams,
    ActivationStatusResult,
    EventKind,
    RpcMethod,
    new_msg_id,
)
from kiosk.journal.store import DataClass, Journal
from kiosk.sync.errors import SyncError
from kiosk.sync.rpc import RpcClient

__all__ = [
    "ActivationCard",
    "ActivationOutcome",
    "ActivationSaga",
    "CardWriteFailed",
    "CardWriteUnconfirmed",
    "DriverActivationCard",
]

log = logging.getLogger("kiosk.services.activation")
KIND = "activation"


class CardWriteUnconfirmed(Exception):  # noqa: N818 (an outcome, named after the driver's)
    """The write may or may not have happened: probe with `holds()`."""


class CardWriteFailed(Exception):  # noqa: N818
    """The card refused the write or does not hold the record (nothing usable written)."""


class ActivationCard(Protocol):
    """The saga's port to the card (the real one: `DriverActivationCard`)."""

    def write(self, activation_key: str) -> None:
        """Write the activation record tied to `activation_key` and read it back.

        Raises `CardWriteUnconfirmed` (probe later) or `CardWriteFailed`."""
        ...

    def holds(self, activation_key: str) -> bool | None:
        """Recovery probe: True when the card holds the record of this key, False when it
        does not, None when the card cannot be read now (absent, wrong card)."""
        ...


@dataclass(frozen=True, slots=True)
class ActivationOutcome:
    """`state`: done, compensated, failed, or running (stopped at an unreachable step)."""

    saga_key: str
    state: str
    step: str
    reason: str = ""


class ActivationSaga:
    """Runs and recovers activation sagas. Blocking: call off the UI thread.

    `on_step(name)` is called after each durable transition and card operation (tests use it
    to kill the process between steps).
    """

    def __init__(
        self,
        journal: Journal,
        rpc: RpcClient,
        clock: Clock,
        *,
        on_step: Callable[[str], None] = lambda step: None,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self._journal = journal
        self._rpc = rpc
        self._clock = clock
        self._on_step = on_step
        self._wake = wake
        # The central session token of a saga started in this process (memory only: a
        # recovered saga has none and only probes with activation.status, which needs none).
        self._tokens: dict[str, str] = {}

    def start(
        self,
        card: ActivationCard,
        *,
        id_number: str,
        card_number: str,
        saga_key: str | None = None,
        token: str = "",
    ) -> ActivationOutcome:
        """Run a new activation to its end (or as far as it can go). `token`: the central
        session token (card + PIN + face + fingerprint, docs/central-trust.md)."""
        key = saga_key or new_msg_id()
        self._journal.saga_create(
            key, KIND, "approve", {"id_number": id_number, "card_number": card_number}
        )
        self._on_step("created")
        self._tokens[key] = token
        try:
            return self._advance(key, card, recovering=False)
        finally:
            self._tokens.pop(key, None)

    def recover(self, card: ActivationCard) -> list[ActivationOutcome]:
        """Finish or compensate every saga a crash left running (at start-up, card at hand)."""
        return [
            self._advance(row.saga_key, card, recovering=True)
            for row in self._journal.sagas(KIND, "running")
        ]

    # ------------------------------------------------------------------ steps

    def _advance(self, key: str, card: ActivationCard, *, recovering: bool) -> ActivationOutcome:
        rewrites = 0
        while True:
            row = self._journal.saga_get(key)
            assert row is not None
            if row.state != "running":
                return ActivationOutcome(key, row.state, row.step, row.data.get("reason", ""))
            data = dict(row.data)
            try:
                if row.step == "approve":
                    self._approve(key, data, recovering)
                elif row.step == "write":
                    if recovering or rewrites:
                        held = card.holds(key)
                        self._on_step("probed")
                        if held is True:
                            self._journal.saga_update(key, step="verify")
                            continue
                        if held is None or rewrites:
                            self._compensate(key, data, "card not available to finish the write")
                            continue
                    rewrites += 1
                    self._write(key, data, card)
                elif row.step == "verify":
                    self._verify(key, data, card)
                else:
                    self._compensate(key, data, f"unknown step {row.step}")
            except SyncError as e:
                # Central unreachable: the saga stays where it is, recovered at the next start.
                log.warning("activation %s stopped at %s: %s", key, row.step, e)
                return ActivationOutcome(key, "running", row.step, str(e))

    def _approve(self, key: str, data: dict[str, Any], recovering: bool) -> None:
        result_state: ActivationState
        if recovering:
            status = self._rpc.call(
                RpcMethod.ACTIVATION_STATUS,
                ActivationStatusParams(activation_key=key),
                ActivationStatusResult,
            )
            if status.state is ActivationState.NONE:
                # Never approved: nothing to undo. (The approval request carried a deadline,
                # so a late copy is refused by the central.)
                self._journal.saga_update(key, step="approve", state="failed")
                return
            result_state, approval_id = status.state, status.approval_id
        else:
            result = self._rpc.call(
                RpcMethod.ACTIVATION_APPROVE,
                ActivationApproveParams(
                    activation_key=key,
                    id_number=data["id_number"],
                    card_number=data["card_number"],
                ),
                ActivationApproveResult,
                token=self._tokens.get(key, ""),
            )
            result_state, approval_id = result.state, result.approval_id
        if result_state in (ActivationState.APPROVED, ActivationState.CONFIRMED):
            data["approval_id"] = approval_id
            self._journal.saga_update(key, step="write", data=data)
            self._on_step("approved")
        else:
            data["reason"] = f"central: {result_state.value}"
            self._journal.saga_update(key, step="approve", state="failed", data=data)

    def _write(self, key: str, data: dict[str, Any], card: ActivationCard) -> None:
        try:
            card.write(key)
        except CardWriteUnconfirmed as e:
            log.warning("activation %s: card write unconfirmed (%s), probing", key, e)
            self._on_step("written")
            return  # next loop: step still `write`, rewrites>0 → probe
        except CardWriteFailed as e:
            self._on_step("written")
            self._compensate(key, data, f"card write failed: {e}")
            return
        self._on_step("written")
        self._journal.saga_update(key, step="verify")
        self._on_step("write-recorded")

    def _verify(self, key: str, data: dict[str, Any], card: ActivationCard) -> None:
        held = card.holds(key)
        self._on_step("read-back")
        if held is not True:
            self._compensate(key, data, "read-back does not show the record")
            return
        event = ActivationConfirmed(
            activation_key=key,
            approval_id=str(data.get("approval_id", "")),
            record_sha256=hashlib.sha256(key.encode()).hexdigest(),
        )
        with self._journal.transaction() as db:
            self._journal.enqueue_event(
                EventKind.ACTIVATION_CONFIRMED,
                event.model_dump(mode="json"),
                DataClass.AUDIT,
                db=db,
            )
            self._journal.saga_update(key, step="confirm", state="done", db=db)
        self._wake()
        self._on_step("confirmed")

    def _compensate(self, key: str, data: dict[str, Any], reason: str) -> None:
        log.warning("activation %s compensated: %s", key, reason)
        event = ActivationCancelled(
            activation_key=key, approval_id=str(data.get("approval_id", "")), reason=reason[:200]
        )
        data["reason"] = reason
        with self._journal.transaction() as db:
            self._journal.enqueue_event(
                EventKind.ACTIVATION_CANCELLED,
                event.model_dump(mode="json"),
                DataClass.AUDIT,
                db=db,
            )
            self._journal.saga_update(key, step="compensate", state="compensated", data=data, db=db)
        self._wake()


class DriverActivationCard:
    """`ActivationCard` over the card driver's activation API (drivers.card.activation).

    `channel`, `authenticator` and `verify_pin` come from an open card session with the PSAM;
    `terminal_number` is the PSAM terminal number (12 digits).
    """

    def __init__(
        self,
        channel: ApduChannel,
        authenticator: CardAuthenticator,
        verify_pin: Callable[[], None],
        terminal_number: str,
        clock: Clock,
    ) -> None:
        self._channel = channel
        self._auth = authenticator
        self._verify_pin = verify_pin
        self._terminal = terminal_number
        self._clock = clock

    def write(self, activation_key: str) -> None:
        act = card_activation
        record = act.ActivationRecord.for_activation(
            date=dt.datetime.fromtimestamp(self._clock.wall()).date(),
            terminal_number=self._terminal,
            idempotency_key=activation_key,
        )
        try:
            act.write_activation_record(self._channel, self._auth, record, self._verify_pin)
        except act.ActivationWriteUnconfirmedError as e:
            raise CardWriteUnconfirmed(str(e)) from None
        except CardError as e:
            raise CardWriteFailed(str(e)) from None

    def holds(self, activation_key: str) -> bool | None:
        try:
            record = card_activation.read_activation_record(self._channel, self._verify_pin)
        except CardDataError:
            return False
        except CardError:
            return None
        return record.matches_key(activation_key)
