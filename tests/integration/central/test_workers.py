"""Central workers on a real mosquitto: shared subscription load split, persistent sessions,
hostile payloads, telemetry ingest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from central.service import CentralService
from central.worker import CentralWorker
from kiosk.contract import CONTRACT_VERSION, Channel, RpcMethod
from tests.fixtures.broker import Broker
from tests.fixtures.central import TEST_HOLDER_ID, CentralHandle, start_test_central
from tests.fixtures.postgres import PostgresServer
from tests.integration.central.kiosk_client import Kiosk


def _wait(predicate: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached")


def test_two_workers_split_the_load_with_no_loss_and_no_duplicate(
    central: CentralHandle, broker: Broker
) -> None:
    kiosks = [Kiosk(broker, f"SSK-T-{i:04d}") for i in range(4)]
    try:
        sent: list[str] = []
        for _ in range(100):
            for k in kiosks:
                sent.append(k.event())
        for k in kiosks:
            receipts = k.wait_receipts(100)
            assert {r["outcome"] for r in receipts} == {"accepted"}
        assert sorted(central.event_ids()) == sorted(sent)
        per_worker = [w.stats.events_accepted for w in central.service.workers]
        assert sum(per_worker) == 400
        assert all(n > 0 for n in per_worker), per_worker  # both workers took a share
        assert central.service.stats().events_duplicate == 0
    finally:
        for k in kiosks:
            k.close()


def test_redelivered_events_are_receipted_as_duplicates(
    central: CentralHandle, broker: Broker
) -> None:
    kiosk = Kiosk(broker)
    try:
        body = {**kiosk.envelope(), "kind": "consent", "data": {"purpose": "photo"}}
        for _ in range(3):  # the kiosk retries: no receipt seen yet, say
            kiosk.publish(Channel.EVENTS, body)
        receipts = kiosk.wait_receipts(3)
        assert sorted(r["outcome"] for r in receipts) == ["accepted", "duplicate", "duplicate"]
        assert central.event_ids() == [body["msg_id"]]
    finally:
        kiosk.close()


def test_a_cleanly_stopped_worker_leaves_the_group(central: CentralHandle, broker: Broker) -> None:
    """Stopped on purpose, a worker unsubscribes first: the others take all the load at once."""
    kiosk = Kiosk(broker)
    service = central.service
    try:
        service.workers[1].stop()
        service._started.remove(service.workers[1])
        sent = [kiosk.event() for _ in range(60)]
        receipts = kiosk.wait_receipts(60)  # nothing waits for worker 1
        assert {r["msg_id"] for r in receipts} == set(sent)
        assert service.workers[0].stats.events_accepted == 60
        again = CentralWorker(1, central.config, boot_id=service.boot_id)
        again.start()
        service.workers[1] = again
        service._started.append(again)  # so the fixture stops it
        assert again.wait_ready(10)
        more = [kiosk.event() for _ in range(40)]
        kiosk.wait_receipts(100)
        assert sorted(central.event_ids()) == sorted(sent + more)
    finally:
        kiosk.close()


def test_kill_9_of_a_central_process_loses_nothing(
    tmp_path: Path, central: CentralHandle, broker: Broker
) -> None:
    """A second central process in the same group is killed (-9) and restarted: its share of
    the requests published meanwhile waits in its persistent session, and every event is
    applied exactly once."""
    cfg = tmp_path / "other.toml"
    cfg.write_text(
        f'[storage]\nurl = "{central.config.storage.url}"\n'
        f'[broker]\nport = {broker.port}\nclient_id_prefix = "other"\n'
        "[workers]\ncount = 1\n[run]\nfleet_monitor = false\nseed_if_empty = false\n"
    )

    def start_other() -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from central.cli import run; run()",
                "--config",
                str(cfg),
                "run",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert proc.stdout is not None and "running" in proc.stdout.readline()
        return proc

    kiosk = Kiosk(broker)
    other = start_other()
    try:
        _wait(lambda: "other-w0" in broker.log_file.read_text())
        warm = [kiosk.event() for _ in range(20)]  # the group now has three members
        kiosk.wait_receipts(20)
        other.kill()
        other.wait(10)
        sent = [kiosk.event() for _ in range(90)]
        # The in-process workers answer their two thirds; the killed process's third waits.
        _wait(lambda: len(kiosk.receipts) >= 20 + 50)
        time.sleep(0.5)
        waiting = 110 - len(kiosk.receipts)
        assert waiting > 0, "the broker queued nothing for the killed member"
        other = start_other()
        receipts = kiosk.wait_receipts(110, timeout=30)
        assert {r["msg_id"] for r in receipts} == set(warm + sent)
        assert sorted(central.event_ids()) == sorted(warm + sent)
    finally:
        kiosk.close()
        other.terminate()
        other.wait(20)


def test_hostile_payloads_are_rejected_and_crash_nothing(
    central: CentralHandle, broker: Broker
) -> None:
    kiosk = Kiosk(broker)
    try:
        env = kiosk.envelope()
        kiosk.publish(Channel.EVENTS, b"{not json")
        kiosk.publish(Channel.EVENTS, b"\xff\xfe\x00garbage")
        kiosk.publish(Channel.EVENTS, b"[1, 2, 3]")
        kiosk.publish(Channel.EVENTS, b"x" * (300 * 1024))  # oversized
        kiosk.publish(Channel.EVENTS, {**env, "kind": "launch_missiles"})  # unknown kind
        kiosk.publish(Channel.EVENTS, {**kiosk.envelope(), "v": 99, "kind": "audit"})  # version
        kiosk.publish(
            Channel.EVENTS, {**kiosk.envelope(), "kind": "audit", "terminal_id": "SSK-OTHER-1"}
        )  # someone else's id
        kiosk.publish(Channel.TELEMETRY, {"uptime_s": -1})
        kiosk.publish(
            Channel.RPC_REQUEST,
            {
                **kiosk.envelope(),
                "method": "drop.tables",
                "params": {},
                "deadline": time.time() + 10,
            },
        )
        # the three events that carried a msg_id get a permanent rejection receipt
        receipts = kiosk.wait_receipts(3)
        assert {r["outcome"] for r in receipts} == {"rejected"}
        assert all(r["permanent"] for r in receipts)
        # ... and the central still answers
        ok = kiosk.call(
            RpcMethod.PERSON_SUMMARY, {"id_number": TEST_HOLDER_ID}, token=kiosk.open_session()
        )
        assert ok["ok"]
        unknown_method = [r for r in kiosk.responses.values() if not r["ok"]]
        assert unknown_method and unknown_method[0]["error"]["code"] == "invalid_params"
        rejected = central.service.stats().rejected
        assert rejected["bad_json"] == 2 and rejected["too_large"] == 1
        assert rejected["schema"] >= 3 and rejected["version"] == 1
        assert rejected["terminal_mismatch"] == 1
        assert central.event_ids() == []
    finally:
        kiosk.close()


def test_telemetry_is_ingested_per_terminal(central: CentralHandle, broker: Broker) -> None:
    kiosks = [Kiosk(broker, f"SSK-T-{i:04d}") for i in range(3)]
    try:
        for round_ in range(3):
            for k in kiosks:
                k.publish(
                    Channel.TELEMETRY,
                    {
                        **k.envelope(),
                        "v": CONTRACT_VERSION,
                        "software_version": "1.0",
                        "uptime_s": float(round_),
                        "outbox_depth": round_,
                    },
                )
        _wait(lambda: len(central.query("SELECT terminal_id FROM terminals")) == 3)
        _wait(lambda: sum(r[0] for r in central.query("SELECT messages FROM terminals")) == 9)
        rows = central.query("SELECT terminal_id, telemetry FROM terminals ORDER BY terminal_id")
        assert [r[0] for r in rows] == ["SSK-T-0000", "SSK-T-0001", "SSK-T-0002"]
        assert all(json.loads(r[1])["outbox_depth"] == 2 for r in rows)
    finally:
        for k in kiosks:
            k.close()


def test_central_presence_is_retained(central: CentralHandle, broker: Broker) -> None:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from kiosk.contract import CENTRAL_STATUS_TOPIC

    seen: list[dict[str, object]] = []
    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.on_message = lambda _c, _u, m: seen.append(json.loads(m.payload))
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    try:
        client.subscribe(CENTRAL_STATUS_TOPIC, qos=1)
        _wait(lambda: bool(seen))
        first = seen[-1]
        assert (first["state"], first["boot_id"]) == ("online", central.service.boot_id)
        service: CentralService = central.service
        service.stop()
        _wait(lambda: seen[-1]["state"] == "stopped")
    finally:
        client.loop_stop()
        client.disconnect()


def test_two_workers_on_postgresql(
    tmp_path: Path, broker: Broker, postgres_server: PostgresServer
) -> None:
    """The same shared-subscription split with the ledger on PostgreSQL (by URL)."""
    handle = start_test_central(tmp_path, broker, storage_url=postgres_server.create_database())
    kiosks = [Kiosk(broker, f"SSK-PG-{i:04d}") for i in range(2)]
    try:
        sent = [k.event() for _ in range(100) for k in kiosks]
        for k in kiosks:
            assert {r["outcome"] for r in k.wait_receipts(100)} == {"accepted"}
        assert sorted(handle.event_ids()) == sorted(sent)
        assert all(w.stats.events_accepted > 0 for w in handle.service.workers)
        token = kiosks[0].open_session()
        answer = kiosks[0].call(
            RpcMethod.PERSON_SUMMARY, {"id_number": TEST_HOLDER_ID}, token=token
        )
        assert answer["ok"] and answer["result"]["wallet_balance_cents"] == 1_000_000
    finally:
        for k in kiosks:
            k.close()
        handle.service.stop()


def test_versions_outside_n_minus_1_and_n_are_refused(
    central: CentralHandle, broker: Broker
) -> None:
    kiosk = Kiosk(broker)
    try:
        old = kiosk.call(
            RpcMethod.PERSON_SUMMARY, {"id_number": TEST_HOLDER_ID}, v=CONTRACT_VERSION - 2
        )
        assert not old["ok"] and old["error"]["code"] == "unsupported_version"
        prev = kiosk.call(
            RpcMethod.PERSON_SUMMARY,
            {"id_number": TEST_HOLDER_ID},
            v=CONTRACT_VERSION - 1,
            token=kiosk.open_session(),
        )
        assert prev["ok"]
    finally:
        kiosk.close()


def test_workers_come_back_after_the_broker_is_killed(
    central: CentralHandle, broker: Broker
) -> None:
    broker.kill()
    broker.start()  # same port, same persistence folder
    _wait(lambda: all(w.wait_ready(0) for w in central.service.workers), timeout=30)
    kiosk = Kiosk(broker)
    try:
        msg_id = kiosk.event()
        assert kiosk.wait_receipts(1)[0]["msg_id"] == msg_id
        token = kiosk.open_session()
        assert kiosk.call(RpcMethod.PERSON_SUMMARY, {"id_number": TEST_HOLDER_ID}, token=token)[
            "ok"
        ]
    finally:
        kiosk.close()
