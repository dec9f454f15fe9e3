"""`python -m central.fleet`: run the fleet monitor alone, for trying it by hand."""

from __future__ import annotations

import argparse
import logging
import signal
import threading

from central.fleet.config import FleetConfig
from central.fleet.monitor import FleetMonitor
from central.logs import setup_logging


def main(argv: list[str] | None = None) -> int:
    """Serve the page until Ctrl-C or SIGTERM. Options override the `[fleet]` defaults."""
    defaults = FleetConfig()
    p = argparse.ArgumentParser(prog="python -m central.fleet", description=__doc__)
    p.add_argument("--broker-host", default=defaults.broker_host)
    p.add_argument("--broker-port", type=int, default=defaults.broker_port)
    p.add_argument("--http-host", default=defaults.http_host)
    p.add_argument("--http-port", type=int, default=defaults.http_port)
    p.add_argument("--stale-after", type=float, default=defaults.stale_after_s, metavar="S")
    p.add_argument("--flap-window", type=float, default=defaults.flap_window_s, metavar="S")
    p.add_argument("--flap-threshold", type=int, default=defaults.flap_threshold, metavar="K")
    p.add_argument("--command-expiry", type=float, default=defaults.command_expiry_s, metavar="S")
    p.add_argument("-v", "--verbose", action="store_true")
    a = p.parse_args(argv)
    # The same redaction as `kiosk-central`: request lines and rejected messages may carry
    # personal values (an ID number in a query string, a hostile payload).
    setup_logging(logging.DEBUG if a.verbose else logging.INFO)
    config = FleetConfig(
        broker_host=a.broker_host,
        broker_port=a.broker_port,
        http_host=a.http_host,
        http_port=a.http_port,
        stale_after_s=a.stale_after,
        flap_window_s=a.flap_window,
        flap_threshold=a.flap_threshold,
        command_expiry_s=a.command_expiry,
    )
    monitor = FleetMonitor.from_config(config)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    monitor.start()
    print(f"fleet monitor: {monitor.url}  (broker {a.broker_host}:{a.broker_port})", flush=True)
    done.wait()
    monitor.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
