"""Typed errors of the service clients, one per thing the session must tell apart.

Every service call goes through `call()`, which turns the sync layer's errors and the central's
error codes into these. Messages never carry personal values (the central's never do either:
docs/central-trust.md); `code` is stable, for the screen's wording and the statistics.
"""

from __future__ import annotations

from typing import TypeVar

from kiosk.contract import Message, RpcMethod
from kiosk.sync.errors import OfflineError, RpcRejectedError, RpcTimeoutError
from kiosk.sync.rpc import RpcClient

__all__ = [
    "CardLostError",
    "DeclinedError",
    "ForbiddenError",
    "InvalidRequestError",
    "NotFoundError",
    "ServiceError",
    "UnknownOutcomeError",
    "UnreachableError",
    "call",
]

R = TypeVar("R", bound=Message)


class ServiceError(Exception):
    """Root of the service clients' errors. `remote_code` is the central's code, if any."""

    code = "service.error"

    def __init__(self, message: str, *, remote_code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.remote_code = remote_code


class ForbiddenError(ServiceError):
    """The central refused: no valid session token, or it does not cover this request (wrong
    person, terminal or missing credential), or the card failed the challenge."""

    code = "service.forbidden"


class CardLostError(ForbiddenError):
    """The card is reported lost: no service until the loss report is cancelled."""

    code = "service.card_lost"


class NotFoundError(ServiceError):
    """What was asked for does not exist (no such bill account, course, certificate...)."""

    code = "service.not_found"


class DeclinedError(ServiceError):
    """A business rule said no (insufficient funds, course full, already registered...)."""

    code = "service.declined"


class InvalidRequestError(ServiceError):
    """The request broke the contract: a kiosk bug, never the citizen's fault."""

    code = "service.invalid_request"


class UnreachableError(ServiceError):
    """The central could not be asked (not connected): nothing was sent, nothing happened."""

    code = "service.unreachable"


class UnknownOutcomeError(ServiceError):
    """Sent, but no answer in time (or a transient central failure): the effect is unknown;
    repeat with the SAME idempotency key, never a new one."""

    code = "service.unknown"


_BY_REMOTE: dict[str, type[ServiceError]] = {
    "forbidden": ForbiddenError,
    "card_lost": CardLostError,
    "not_found": NotFoundError,
    "declined": DeclinedError,
    "invalid_params": InvalidRequestError,
    "unsupported_version": InvalidRequestError,
    "deadline_passed": UnknownOutcomeError,
    "internal": UnknownOutcomeError,
}


def error_for(e: RpcRejectedError) -> ServiceError:
    """The typed error of a central rejection (an unknown code is `ServiceError`)."""
    cls = _BY_REMOTE.get(e.remote_code)
    if cls is None:
        cls = UnknownOutcomeError if not e.permanent else ServiceError
    return cls(f"{e.method}: {e.remote_code}", remote_code=e.remote_code)


def call(
    rpc: RpcClient,
    method: RpcMethod,
    params: Message,
    result_type: type[R],
    *,
    token: str = "",
    timeout: float | None = None,
    request_id: str | None = None,
) -> R:
    """One RPC with the service errors: `UnreachableError`, `UnknownOutcomeError`,
    `ForbiddenError` / `CardLostError`, `NotFoundError`, `DeclinedError`, `ServiceError`."""
    try:
        return rpc.call(
            method, params, result_type, token=token, timeout=timeout, request_id=request_id
        )
    except OfflineError as e:
        raise UnreachableError(str(e)) from None
    except RpcTimeoutError as e:
        raise UnknownOutcomeError(str(e)) from None
    except RpcRejectedError as e:
        raise error_for(e) from None
