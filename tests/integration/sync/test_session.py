"""Persistent session, lane priority and RPC errors against a real broker."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from kiosk.contract import (
    CENTRAL_STATUS_TOPIC,
    BillsParams,
    BillsResult,
    Channel,
    Command,
    EventKind,
    PaymentResult,
    PaymentStatusParams,
    PersonParams,
    PersonSummary,
    PresenceState,
    RpcMethod,
    StatusMessage,
    Telemetry,
    UtilityKind,
    encode,
)
from kiosk.journal import DataClass, Lane
from kiosk.sync import OfflineError, RpcRejectedError, RpcTimeoutError
from tests.fixtures.broker import Broker
from tests.fixtures.sync_central import MiniCentral
from tests.integration.sync.conftest import Factory
from tests.integration.sync.test_drain import wait_until
from tests.integration.sync.test_security import raw_client


class Control:
    """A minimal AgentControl recording what it was asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def set_maintenance(self, enabled: bool) -> None:
        self.calls.append(("maintenance", enabled))

    def reload_config(self) -> str:
        return "nothing"

    def set_config(self, key: str, value: Any) -> dict[str, Any]:
        return {}

    def restart_app(self) -> None:
        pass

    def rebirth(self) -> None:
        self.calls.append(("rebirth", None))

    def log_tail(self, lines: int) -> list[str]:
        return []


def test_a_command_sent_while_the_kiosk_was_stopped_arrives_after_restart(
    tmp_path: Path, make_sync: Factory, mini_central: MiniCentral
) -> None:
    journal_path = tmp_path / "persist.sqlite3"
    sync, journal = make_sync("SSK-SES-0001", journal_path=journal_path, control=Control())
    assert sync.transport.wait_connected(10)  # type: ignore[attr-defined]
    sync.stop()
    journal.close()
    now = time.time()
    cmd = Command(
        command_id=str(uuid.uuid4()),
        name="maintenance",
        args={"enabled": True},
        issued_at=now,
        expires_at=now + 60,
    )
    mini_central.send_command("SSK-SES-0001", cmd)  # queued by the broker in the session
    control = Control()
    sync2, _ = make_sync("SSK-SES-0001", journal_path=journal_path, control=control)
    assert sync2.transport.wait_connected(10)  # type: ignore[attr-defined]
    assert wait_until(lambda: ("maintenance", True) in control.calls)


def test_business_rows_drain_before_telemetry(
    make_sync: Factory, mini_central: MiniCentral, broker: Broker
) -> None:
    sync, journal = make_sync("SSK-PRI-0001", start=False)

    def report(env: dict[str, Any]) -> Telemetry:
        return Telemetry(software_version="t", uptime_s=1.0, **env)

    for i in range(30):
        journal.enqueue_message(
            report,
            Channel.TELEMETRY,
            Lane.TELEMETRY,
            DataClass.OPERATIONAL,
        )
        journal.enqueue_event(EventKind.SESSION_STATS, {"i": i})
    order: list[str] = []
    watcher = raw_client(broker.port, "watcher-pri")
    watcher.on_message = lambda c, u, m: order.append(m.topic.rsplit("/", 1)[-1])
    watcher.subscribe([("ssk/v1/SSK-PRI-0001/events", 1), ("ssk/v1/SSK-PRI-0001/telemetry", 1)])
    time.sleep(0.2)
    try:
        sync.start()
        assert wait_until(lambda: order.count("telemetry") >= 30 and order.count("events") >= 30)
    finally:
        watcher.loop_stop()
        watcher.disconnect()
    assert order.index("telemetry") >= 30  # every business row went first


def test_rpc_errors_are_typed(
    make_sync: Factory, mini_central: MiniCentral, broker: Broker
) -> None:
    sync, _ = make_sync("SSK-RPC-0001")
    assert sync.transport.wait_connected(10)  # type: ignore[attr-defined]
    ok = sync.rpc.call(
        RpcMethod.PERSON_SUMMARY, PersonParams(id_number="11010519491231002X"), PersonSummary
    )
    assert ok.name == "张三"
    with pytest.raises(RpcRejectedError) as e:
        sync.rpc.call(
            RpcMethod.BILLS,
            BillsParams(utility=UtilityKind.WATER, account_number="12345678"),
            BillsResult,
        )
    assert e.value.remote_code == "unsupported"
    mini_central.stop()  # nobody answers any more
    with pytest.raises(RpcTimeoutError):
        sync.rpc.call(
            RpcMethod.PAYMENT_STATUS,
            PaymentStatusParams(payment_key="k-00000001"),
            PaymentResult,
            timeout=0.5,
        )
    broker.kill()
    assert wait_until(lambda: not sync.connected)
    with pytest.raises(OfflineError):
        sync.rpc.call(
            RpcMethod.PERSON_SUMMARY, PersonParams(id_number="11010519491231002X"), PersonSummary
        )


def test_a_new_central_boot_triggers_a_rebirth(
    make_sync: Factory, mini_central: MiniCentral
) -> None:
    control = Control()
    sync, _ = make_sync("SSK-RBT-0001", control=control)
    assert sync.transport.wait_connected(10)  # type: ignore[attr-defined]

    def birth(boot: str) -> None:
        status = StatusMessage(
            msg_id=str(uuid.uuid4()),
            terminal_id="central",
            boot_id=boot,
            seq=1,
            wall=time.time(),
            state=PresenceState.ONLINE,
        )
        assert mini_central.client is not None
        mini_central.client.publish(CENTRAL_STATUS_TOPIC, encode(status), qos=1, retain=True)

    birth("central-boot-1")
    assert wait_until(lambda: sync._central_boot == "central-boot-1")
    assert control.calls == []  # first sight: nothing to redo
    birth("central-boot-2")
    assert wait_until(lambda: ("rebirth", None) in control.calls)
    mini_central.publish_raw(CENTRAL_STATUS_TOPIC, b"{garbage")  # hostile: rejected, no crash
    assert wait_until(lambda: sync.guard.rejections["bad_json"] == 1)
