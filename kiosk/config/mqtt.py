"""MQTT section (owned by the sync layer)."""

from __future__ import annotations

from pydantic import Field

from kiosk.config.base import ConfigSection

__all__ = ["MqttConfig"]


class MqttConfig(ConfigSection):
    """Broker connection."""

    host: str = Field("127.0.0.1", title="Broker host")
    port: int = Field(1883, ge=1, le=65535, title="Broker port")
