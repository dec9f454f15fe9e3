"""MQTT section (owned by the sync layer): broker, session, TLS, backoff, drain and RPC timings."""

from __future__ import annotations

from pydantic import Field

from kiosk.config.base import ConfigSection

__all__ = ["MqttConfig"]


class MqttConfig(ConfigSection):
    """Broker connection and every sync timing (seconds unless the name says otherwise)."""

    host: str = Field(default="127.0.0.1", title="Broker host")
    port: int = Field(default=1883, ge=1, le=65535, title="Broker port")
    keepalive_s: int = Field(default=30, ge=2, le=600, title="MQTT keepalive (s)")
    connect_timeout_s: float = Field(
        default=10.0, gt=0, le=120, title="TCP/TLS connect timeout (s)"
    )
    session_expiry_s: int = Field(
        default=259_200,
        ge=0,
        le=4_294_967_295,
        title="Session expiry (s)",
        description="Kept by the broker after a disconnect; above the longest planned outage.",
    )
    will_delay_s: int = Field(
        default=30,
        ge=0,
        le=3600,
        title="Will delay (s)",
        description="Offline is announced after it.",
    )
    # TLS (plain TCP on loopback for the local demo)
    tls: bool = Field(default=False, title="Use TLS")
    ca_file: str = Field(default="", title="CA bundle that signed the broker certificate")
    cert_file: str = Field(default="", title="Client certificate (PEM)")
    key_file: str = Field(default="", title="Client private key (PEM)")
    tls_insecure: bool = Field(default=False, title="Skip broker host name check (tests only)")
    # reconnect: decorrelated jitter, random first delay after a good connection drops
    backoff_base_s: float = Field(default=1.0, gt=0, le=60, title="Backoff base (s)")
    backoff_cap_s: float = Field(default=300.0, gt=0, le=3600, title="Backoff cap (s)")
    first_delay_max_s: float = Field(
        default=30.0, ge=0, le=600, title="Random first reconnect delay, upper bound (s)"
    )
    stable_after_s: float = Field(
        default=30.0,
        ge=0,
        le=3600,
        title="Connection stable after (s)",
        description="Resets the backoff.",
    )
    # outbox drain
    drain_rate_per_s: float = Field(
        default=50.0, gt=0, le=1_000_000, title="Backlog drain rate (msg/s)"
    )
    drain_burst: int = Field(default=20, ge=1, le=100_000, title="Drain token bucket size")
    max_inflight: int = Field(default=20, ge=1, le=65_535, title="Unacknowledged QoS 1 publishes")
    receipt_timeout_s: float = Field(
        default=60.0, gt=0, le=86_400, title="Re-send a business row without a receipt after (s)"
    )
    idle_poll_s: float = Field(default=0.5, gt=0, le=60, title="Outbox poll when idle (s)")
    # RPC and commands
    rpc_timeout_s: float = Field(default=10.0, gt=0, le=300, title="Default RPC timeout (s)")
    command_max_age_s: float = Field(
        default=3600.0, gt=0, le=604_800, title="Commands issued longer ago are rejected (s)"
    )
    stop_timeout_s: float = Field(default=3.0, gt=0, le=60, title="Wait for the stopped status (s)")
    payment_deadline_s: float = Field(
        default=20.0,
        gt=0,
        le=600,
        title="Payment deadline (s)",
        description="The central refuses after it.",
    )
    reconcile_interval_s: float = Field(
        default=60.0,
        gt=0,
        le=86_400,
        title="Retry open payments every (s)",
        description="While connected, unknown payments are asked about again at this interval.",
    )
