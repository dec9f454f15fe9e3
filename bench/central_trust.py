"""What trusting only a present card costs: a session open against bare RPC round trips.

Starts its own mosquitto on a free loopback port and the real central (2 workers in the shared
subscription, SQLite, a small seed with the test holder). A kiosk-side paho client measures, in
the same run:
- `bare_rpc_ms`: a public read (``certificate.verify`` of an unknown code: one indexed lookup),
  the baseline round trip through broker and worker;
- `write_rpc_ms`: a public durable write (``payment.status`` of a new key, which voids it: one
  committed row), the baseline of a round trip that must survive a crash;
- `session_open_ms`: ``session.challenge`` + the card's answer (the emulator's cipher code, as
  the card computes it) + ``session.open`` (challenge consumed, answer recomputed, token signed);
- `authorized_rpc_ms`: ``person.summary`` with the token (HMAC check, policy, card state).

An open is two round trips with one durable write each (the challenge stored, then consumed:
replay protection must survive a crash and be shared by every worker), so its baseline is two
write round trips. Figure lines, then the headline LAST:
`ratio=<session_open / (2 x write_rpc)> target<=1.5` (what the checks themselves add: the card's
answer recomputed, the token signed).
"""

from __future__ import annotations

import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kiosk.contract import RpcMethod  # noqa: E402
from tests.fixtures.broker import start_broker  # noqa: E402
from tests.fixtures.central import TEST_HOLDER_ID, start_test_central  # noqa: E402
from tests.integration.central.kiosk_client import Kiosk, wait_central_online  # noqa: E402

ROUNDS = 150
WARMUP = 20


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="bench-trust-") as tmp:
        broker = start_broker(Path(tmp) / "broker")
        central = start_test_central(Path(tmp) / "central", broker)
        kiosk = None
        try:
            wait_central_online(broker)
            kiosk = Kiosk(broker, "SSK-BENCH-01")
            bare: list[float] = []
            writes: list[float] = []
            opens: list[float] = []
            authorized: list[float] = []
            token = ""
            for i in range(WARMUP + ROUNDS):
                t0 = time.perf_counter()
                r = kiosk.call(RpcMethod.CERTIFICATE_VERIFY, {"verification_code": "AAAA-BBBB"})
                t1 = time.perf_counter()
                w = kiosk.call(RpcMethod.PAYMENT_STATUS, {"payment_key": f"bench-void-{i:06d}"})
                t1b = time.perf_counter()
                token = kiosk.open_session()
                t2 = time.perf_counter()
                p = kiosk.call(RpcMethod.PERSON_SUMMARY, {"id_number": TEST_HOLDER_ID}, token=token)
                t3 = time.perf_counter()
                assert r["ok"] and w["ok"] and p["ok"], (r, w, p)
                if i >= WARMUP:
                    bare.append(t1 - t0)
                    writes.append(t1b - t1)
                    opens.append(t2 - t1b)
                    authorized.append(t3 - t2)
            bare_ms, write_ms = _median_ms(bare), _median_ms(writes)
            open_ms, auth_ms = _median_ms(opens), _median_ms(authorized)
            print(f"figure=bare_rpc_ms value={bare_ms:.2f} target<20")
            print(f"figure=write_rpc_ms value={write_ms:.2f} target<20")
            print(f"figure=session_open_ms value={open_ms:.2f} target<{2 * write_ms * 1.5:.2f}")
            print(f"figure=authorized_rpc_ms value={auth_ms:.2f} target<{bare_ms * 1.5:.2f}")
            print(f"figure=rounds value={ROUNDS} target>=100")
            print(f"ratio={open_ms / (2 * write_ms):.3f} target<=1.5")
        finally:
            if kiosk is not None:
                kiosk.close()
            central.service.stop()
            broker.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
