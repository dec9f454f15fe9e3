"""The headless agent against a real broker: presence, telemetry, remote commands, hostile input."""

from __future__ import annotations

import logging
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk.agent import Agent
from kiosk.app import KioskApp
from kiosk.contract import AckStatus, Command, PaymentPurpose, PresenceState
from tests.fixtures.broker import Broker
from tests.fixtures.kiosk_process import kiosk, write_config
from tests.fixtures.sync_central import MiniCentral
from tests.integration.sync.conftest import kiosk_config
from tests.integration.sync.test_drain import wait_until

TID = "SSK-AGT-0001"


@pytest.fixture
def agent(tmp_path: Path, broker: Broker, mini_central: MiniCentral) -> Iterator[Agent]:
    base = kiosk_config(broker.port)
    cfg = base.model_copy(
        update={
            "terminal": base.terminal.model_copy(
                update={"id": TID, "state_dir": str(tmp_path / "state")}
            )
        }
    )
    a = Agent(cfg, environ={})
    a.start()
    assert a.sync is not None and a.sync.transport.wait_connected(10)  # type: ignore[attr-defined]
    try:
        yield a
    finally:
        a.stop()


def command(name: str, args: dict[str, Any] | None = None, **over: Any) -> Command:
    now = time.time()
    fields: dict[str, Any] = {
        "command_id": str(uuid.uuid4()),
        "name": name,
        "args": args or {},
        "issued_at": now,
        "expires_at": now + 60,
    }
    fields.update(over)
    return Command(**fields)


def acks_of(central: MiniCentral, command_id: str) -> list[str]:
    with central.lock:
        return [a.status.value for a in central.acks if a.command_id == command_id]


def states_of(central: MiniCentral) -> list[tuple[str, str]]:
    with central.lock:
        return [(s.state.value, s.boot_id) for t, s in central.statuses if t == TID]


def test_birth_telemetry_and_stopped(agent: Agent, mini_central: MiniCentral) -> None:
    assert wait_until(lambda: ("online", agent.boot_id) in states_of(mini_central))
    assert wait_until(lambda: any(t.terminal_id == TID for t in mini_central.telemetry))
    t = mini_central.telemetry[-1]
    assert t.boot_id == agent.boot_id and t.software_version and t.disk_total_bytes > 0
    agent.stop()
    assert wait_until(lambda: states_of(mini_central)[-1] == ("stopped", agent.boot_id))


def test_remote_commands_are_acked_and_run_once(agent: Agent, mini_central: MiniCentral) -> None:
    ping = command("ping")
    mini_central.send_command(TID, ping)
    assert wait_until(
        lambda: acks_of(mini_central, ping.command_id) == ["accepted", "succeeded"]
    ), (acks_of(mini_central, ping.command_id), mini_central.malformed, len(mini_central.acks))

    mini_central.send_command(TID, ping)  # replay: refused at the edge, never run again
    time.sleep(0.3)
    assert acks_of(mini_central, ping.command_id) == ["accepted", "succeeded"]

    on = command("maintenance", {"enabled": True})
    mini_central.send_command(TID, on)
    assert wait_until(lambda: "succeeded" in acks_of(mini_central, on.command_id))
    assert wait_until(lambda: any(s.maintenance for _, s in mini_central.statuses))

    good = command("set_config", {"key": "telemetry.interval_s", "value": 5})
    bad = command("set_config", {"key": "telemetry.interval_s", "value": -1})
    mini_central.send_command(TID, good)
    mini_central.send_command(TID, bad)
    assert wait_until(lambda: acks_of(mini_central, good.command_id)[-1:] == ["succeeded"])
    assert wait_until(lambda: acks_of(mini_central, bad.command_id)[-1:] == ["failed"])
    assert agent.config.telemetry.interval_s == 5

    logging.getLogger("kiosk.test").warning("citizen %s asked", "11010519491231002X")
    logs = command("collect_logs", {"lines": 50})
    mini_central.send_command(TID, logs)
    assert wait_until(lambda: "succeeded" in acks_of(mini_central, logs.command_id))
    with mini_central.lock:
        lines = next(
            a.result["lines"]
            for a in mini_central.acks
            if a.command_id == logs.command_id and a.status is AckStatus.SUCCEEDED
        )
    assert any("citizen" in line for line in lines)
    assert not any("11010519491231002X" in line for line in lines)  # redacted

    rebirth = command("rebirth")
    births = len(states_of(mini_central))
    mini_central.send_command(TID, rebirth)
    assert wait_until(lambda: len(states_of(mini_central)) > births)


def test_hostile_commands_are_rejected_and_crash_nothing(
    agent: Agent, mini_central: MiniCentral
) -> None:
    expired = command("ping", expires_at=time.time() - 5)
    unknown = command("format_disk")
    bad_args = command("maintenance", {"enabled": "perhaps"})
    for c in (expired, unknown, bad_args):
        mini_central.send_command(TID, c)
    mini_central.send_command(TID, b"{definitely not json")
    mini_central.send_command(TID, b"x" * 300_000)
    mini_central.publish_raw(f"ssk/v1/{TID}/rpc/response", b'{"request_id": 5}')
    mini_central.publish_raw(f"ssk/v1/{TID}/events/receipt", b"[]")
    for c in (expired, unknown, bad_args):
        assert wait_until(lambda c=c: acks_of(mini_central, c.command_id) == ["rejected"])
    assert agent.sync is not None
    assert wait_until(lambda: agent.sync is not None and agent.sync.guard.rejected_total >= 7)
    reasons = dict(agent.sync.guard.rejections)
    for reason in ("expired", "unknown_command", "schema", "bad_json", "too_large"):
        assert reasons.get(reason), reasons
    ping = command("ping")  # still alive and serving
    mini_central.send_command(TID, ping)
    assert wait_until(lambda: acks_of(mini_central, ping.command_id) == ["accepted", "succeeded"])
    with mini_central.lock:
        detail = next(a.detail for a in mini_central.acks if a.command_id == expired.command_id)
    assert detail.startswith("expired")


def test_a_killed_agent_is_announced_offline_by_its_will(
    tmp_path: Path, broker: Broker, mini_central: MiniCentral
) -> None:
    config = write_config(tmp_path / "k", broker.port, terminal_id=TID)
    proc = kiosk(config, "agent")
    try:
        assert wait_until(lambda: any(s == "online" for s, _ in states_of(mini_central)))
        boot = next(b for s, b in states_of(mini_central) if s == "online")
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        # will_delay_s is 1 in the test profile: the broker publishes the will after it.
        assert wait_until(
            lambda: states_of(mini_central)[-1] == (PresenceState.OFFLINE.value, boot)
        )
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def test_a_terminated_agent_says_stopped(
    tmp_path: Path, broker: Broker, mini_central: MiniCentral
) -> None:
    config = write_config(tmp_path / "k", broker.port, terminal_id=TID)
    proc = kiosk(config, "agent")
    assert wait_until(lambda: any(s == "online" for s, _ in states_of(mini_central)))
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err.decode()[-2000:]
    assert wait_until(lambda: states_of(mini_central)[-1][0] == "stopped")
    time.sleep(1.5)  # longer than the will delay: no will may follow a clean stop
    assert states_of(mini_central)[-1][0] == "stopped"


def test_an_unknown_payment_is_reconciled_at_the_next_connection(
    agent: Agent, mini_central: MiniCentral, broker: Broker
) -> None:
    assert agent.payments is not None and agent.sync is not None
    mini_central.drop_payment_answers = 1
    outcome = agent.payments.submit(
        id_number="11010519491231002X",
        card_number="",
        purpose=PaymentPurpose.UTILITY_BILL,
        reference="B-1",
        amount_cents=700,
    )
    assert outcome.state == "unknown"
    broker.kill()
    assert wait_until(lambda: agent.sync is not None and not agent.sync.connected)
    broker.start()
    assert wait_until(lambda: agent.payments is not None and agent.payments.open_count() == 0)
    settled = agent.payments.get(outcome.payment_key)
    assert settled is not None and settled.state == "accepted"
    assert mini_central.charges[outcome.payment_key] == 1
    assert mini_central.rpc_methods["payment.submit"] == 1  # asked about, never re-sent


def test_the_composition_root_starts_and_stops_the_agent(
    tmp_path: Path, broker: Broker, mini_central: MiniCentral
) -> None:
    base = kiosk_config(broker.port)
    cfg = base.model_copy(
        update={
            "terminal": base.terminal.model_copy(
                update={"id": "SSK-APP-0001", "state_dir": str(tmp_path / "s")}
            )
        }
    )
    app = KioskApp(cfg)
    app.start()
    agent = app.init_agent(environ={})
    assert "agent" not in app.failed
    assert agent.sync is not None and agent.sync.transport.wait_connected(10)  # type: ignore[attr-defined]
    app.stop()
    assert agent.sync is None  # stopped through the component's stop action
