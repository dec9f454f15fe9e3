"""The fleet monitor's config section (`[fleet]` in central.toml): broker, web, thresholds."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["FleetConfig"]


class FleetConfig(BaseModel):
    """Where the monitor listens and how it judges terminals. Strict and frozen, like the kiosk's.

    Times are seconds. `stale_after_s` should be a few telemetry periods (a kiosk sends telemetry
    every N s, so 3 N tolerates two lost messages). More than `flap_threshold` online<->offline
    transitions inside `flap_window_s` flag a terminal as flapping (one flapping
    device can starve a server of connection handling, so operators must see it).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    broker_host: str = Field(default="127.0.0.1")
    broker_port: int = Field(default=1883, ge=1, le=65535)
    # loopback unless behind a reverse proxy with operator login (the page has none of its own)
    http_host: str = Field(default="127.0.0.1")
    http_port: int = Field(default=8080, ge=0, le=65535, description="0 = any free port")
    stale_after_s: float = Field(default=90.0, gt=0, description="silence before stale")
    flap_window_s: float = Field(default=600.0, gt=0, description="window for transitions")
    flap_threshold: int = Field(default=4, ge=1, description="more transitions = flapping")
    command_expiry_s: float = Field(default=60.0, gt=0, description="lifetime of a command")
    push_interval_s: float = Field(default=0.5, gt=0, description="live stream change check")
    heartbeat_s: float = Field(default=15.0, gt=0, description="live stream keep-alive")
    reconnect_min_s: float = Field(default=1.0, gt=0, description="broker reconnect: first")
    reconnect_max_s: float = Field(default=60.0, gt=0, description="broker reconnect: longest")
    keepalive_s: int = Field(default=30, ge=5, description="MQTT keepalive")
    commands_kept: int = Field(default=5, ge=1, description="recent commands per terminal")
    rebirth_on_start: bool = Field(
        default=True,
        description="at (re)connect, send `rebirth` to each terminal whose retained status is "
        "online, for full state at once",
    )
