"""Hostile MQTT at the real central (mosquitto, two workers, SQLite): messages that used to
escape `decode` or storage are rejected, and no worker thread dies of them (issue 8)."""

from __future__ import annotations

import json
import time

from central.ingest import TelemetryIngest
from central.storage import Storage
from kiosk.contract import CONTRACT_VERSION, Channel, RpcMethod, Telemetry
from tests.fixtures.broker import Broker
from tests.fixtures.central import CentralHandle
from tests.integration.central.kiosk_client import Kiosk


def _wait(predicate: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached")


def _telemetry(kiosk: Kiosk, **over: object) -> dict[str, object]:
    return {
        **kiosk.envelope(),
        "v": CONTRACT_VERSION,
        "software_version": "1.0",
        "uptime_s": 1.0,
        **over,
    }


def test_hostile_telemetry_and_events_kill_no_worker(
    central: CentralHandle, broker: Broker
) -> None:
    hostile = Kiosk(broker, "SSK-HOSTILE-1")
    honest = Kiosk(broker, "SSK-HONEST-1")
    try:
        text = json.dumps(_telemetry(hostile))
        hostile.publish(Channel.TELEMETRY, _telemetry(hostile, seq=2**63))  # OverflowError
        hostile.publish(Channel.TELEMETRY, text.replace('"1.0"', '"\\ud800"').encode())
        hostile.publish(
            Channel.TELEMETRY, text.replace('"uptime_s": 1.0', '"uptime_s": ' + "9" * 5000).encode()
        )
        hostile.publish(Channel.TELEMETRY, b"[" * 200_000)  # RecursionError
        deep = '{"a":' * 3000 + "1" + "}" * 3000
        event = json.dumps({**hostile.envelope(), "kind": "audit"})[:-1] + f', "data": {deep}}}'
        hostile.publish(Channel.EVENTS, event.encode())
        hostile.publish(
            Channel.EVENTS, {**hostile.envelope(), "kind": "audit", "data": {"n": 2**64}}
        )
        bad_id = json.dumps({**hostile.envelope(), "kind": "nope"}).replace(
            hostile.envelope()["msg_id"][:4], "\\udc00"
        )
        hostile.publish(Channel.EVENTS, bad_id.encode())
        # The hostile event whose msg_id can be read gets a permanent rejection, not a retry.
        receipts = hostile.wait_receipts(1)
        assert {r["outcome"] for r in receipts} == {"rejected"}
        assert all(r["permanent"] for r in receipts)
        # An honest terminal's telemetry is still flushed: the flusher threads are alive.
        honest.publish(Channel.TELEMETRY, _telemetry(honest))
        _wait(lambda: central.query("SELECT terminal_id FROM terminals") == [("SSK-HONEST-1",)])
        for worker in central.service.workers:
            assert worker._flusher is not None and worker._flusher.is_alive()
        # A public method (personal ones need a card session since central trust): RPC is alive.
        assert honest.call(RpcMethod.TRAINING_CATALOGUE, {})["ok"]
        rejected = central.service.stats().rejected
        assert rejected["too_deep"] == 2
        assert rejected["schema"] == 5
        assert central.event_ids() == []
    finally:
        hostile.close()
        honest.close()


def test_a_row_the_database_refuses_is_dropped_not_retried_forever() -> None:
    """Defence behind the contract: a report that slips past it (built unchecked) and that the
    database can never take is dropped with a log; the other rows of the batch are written and
    the next flush is clean (it used to be put back and fail every flush)."""
    ingest = TelemetryIngest()
    good = Telemetry(
        msg_id="m-00000001",
        terminal_id="SSK-GOOD-1",
        boot_id="b",
        seq=1,
        wall=1.0,
        software_version="1.0",
        uptime_s=1.0,
    )
    poison = Telemetry.model_construct(
        **{**good.model_dump(), "terminal_id": "SSK-BAD-1", "seq": 2**63}
    )
    ingest.ingest(good, 10.0)
    ingest.ingest(poison, 10.0)
    with Storage("sqlite:///:memory:") as db:
        db.create_schema()
        assert ingest.flush(db) == 1
        assert ingest.dropped_rows == 1 and ingest.pending() == 0
        assert db.query("SELECT terminal_id, last_seq FROM terminals") == [("SSK-GOOD-1", 1)]
        assert ingest.flush(db) == 0
