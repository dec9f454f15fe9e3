"""RPC client over MQTT 5: request/response with response topic, correlation data and timeouts."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from kiosk.clock import Clock
from kiosk.contract import (
    RPC_SCHEMAS,
    Channel,
    ContractError,
    Message,
    RpcMethod,
    RpcRequest,
    RpcResponse,
    decode,
    encode,
    topic,
)
from kiosk.sync.edge import Accepted
from kiosk.sync.errors import OfflineError, RpcProtocolError, RpcRejectedError, RpcTimeoutError
from kiosk.sync.transport import Transport

__all__ = ["RpcClient"]

log = logging.getLogger("kiosk.sync.rpc")
R = TypeVar("R", bound=Message)


@dataclass(slots=True)
class _Pending:
    method: RpcMethod
    done: threading.Event = field(default_factory=threading.Event)
    response: RpcResponse | None = None


class RpcClient:
    """Calls central methods. `call` blocks the calling thread (never the network thread).

    Errors: `OfflineError` (not connected: nothing was sent), `RpcTimeoutError` (sent, no answer:
    the effect is unknown), `RpcRejectedError` (the central said no; `remote_code`).
    """

    def __init__(
        self,
        transport: Transport,
        *,
        terminal_id: str,
        stamp: Callable[[], dict[str, Any]],
        clock: Clock,
        default_timeout_s: float,
    ) -> None:
        self._transport = transport
        self._stamp = stamp
        self._clock = clock
        self.default_timeout_s = default_timeout_s
        self.request_topic = topic(terminal_id, Channel.RPC_REQUEST)
        self.response_topic = topic(terminal_id, Channel.RPC_RESPONSE)
        self._pending: dict[str, _Pending] = {}
        self._lock = threading.Lock()
        self.calls = 0
        self.timeouts = 0
        self.unsolicited = 0

    def call(
        self,
        method: RpcMethod,
        params: Message,
        result_type: type[R],
        *,
        timeout: float | None = None,
        deadline: float | None = None,
        request_id: str | None = None,
        token: str = "",
    ) -> R:
        """Call `method` and return its validated result.

        `timeout` (s, default from config) bounds the wait; `deadline` (epoch s, default now +
        timeout) is sent to the central, which refuses the request after it. `request_id`
        reuses an id (for the payment client) instead of a fresh one. `token` is the central
        session token personal methods need (kiosk/services/central_session.py).
        """
        expected_params, expected_result = RPC_SCHEMAS[method]
        if not isinstance(params, expected_params) or result_type is not expected_result:
            raise TypeError(f"{method.value} takes {expected_params.__name__}")
        if not self._transport.connected:
            raise OfflineError(f"{method.value}: not connected to the broker")
        wait = self.default_timeout_s if timeout is None else timeout
        env = self._stamp()
        if request_id is not None:
            env["msg_id"] = request_id
        request = RpcRequest(
            method=method,
            params=params.model_dump(mode="json"),
            deadline=deadline if deadline is not None else env["wall"] + wait,
            session_token=token,
            **env,
        )
        rid = request.msg_id
        slot = _Pending(method)
        with self._lock:
            self._pending[rid] = slot
            self.calls += 1
        try:
            self._transport.publish(
                self.request_topic,
                encode(request),
                qos=1,
                response_topic=self.response_topic,
                correlation=rid.encode("ascii"),
                expiry_s=max(1, int(wait + 0.999)),
            )
            if not slot.done.wait(wait):
                with self._lock:
                    self.timeouts += 1
                raise RpcTimeoutError(method.value, rid, wait)
        finally:
            with self._lock:
                self._pending.pop(rid, None)
        response = slot.response
        assert response is not None
        if not response.ok or response.result is None:
            err = response.error
            raise RpcRejectedError(
                method.value,
                err.code if err else "unknown",
                err.message if err else "no result",
                err.permanent if err else True,
            )
        try:
            return decode(result_type, response.result)
        except ContractError as e:
            raise RpcProtocolError(method.value, "bad_response", str(e), True) from None

    def on_response(self, accepted: Accepted) -> None:
        """Router handler for ``rpc/response`` (network thread)."""
        response = accepted.message
        assert isinstance(response, RpcResponse)
        with self._lock:
            slot = self._pending.get(response.request_id)
            if slot is None:
                self.unsolicited += 1
        if slot is None:
            # Late (after a timeout) or forged: nobody waits for it.
            log.info("response to an unknown or finished request %s", response.request_id)
            return
        slot.response = response
        slot.done.set()
