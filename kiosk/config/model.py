"""The root config model: one field per section. Each section lives in its own module."""

from __future__ import annotations

from pydantic import Field

from kiosk.config.base import ConfigSection
from kiosk.config.camera import CameraConfig
from kiosk.config.card import CardConfig
from kiosk.config.card_emulator import CardEmulatorConfig
from kiosk.config.face import FaceConfig
from kiosk.config.fingerprint import FingerprintConfig
from kiosk.config.idcard import IdCardConfig
from kiosk.config.journal import JournalConfig
from kiosk.config.logging import LoggingConfig
from kiosk.config.mqtt import MqttConfig
from kiosk.config.printer import PrinterConfig
from kiosk.config.privacy import PrivacyConfig
from kiosk.config.psam import PsamConfig
from kiosk.config.session import PolicyConfig, SessionConfig
from kiosk.config.telemetry import TelemetryConfig
from kiosk.config.terminal import TerminalConfig

__all__ = ["KioskConfig"]


class KioskConfig(ConfigSection):
    """Everything a terminal is configured with. Validated once at start-up."""

    terminal: TerminalConfig = Field(default_factory=TerminalConfig)  # type: ignore[arg-type]
    logging: LoggingConfig = Field(default_factory=LoggingConfig)  # type: ignore[arg-type]
    privacy: PrivacyConfig = Field(default_factory=PrivacyConfig)  # type: ignore[arg-type]
    card: CardConfig = Field(default_factory=CardConfig)  # type: ignore[arg-type]
    psam: PsamConfig = Field(default_factory=PsamConfig)
    card_emulator: CardEmulatorConfig = Field(default_factory=CardEmulatorConfig)  # type: ignore[arg-type]
    camera: CameraConfig = Field(default_factory=CameraConfig)  # type: ignore[arg-type]
    face: FaceConfig = Field(default_factory=FaceConfig)  # type: ignore[arg-type]
    fingerprint: FingerprintConfig = Field(default_factory=FingerprintConfig)
    idcard: IdCardConfig = Field(default_factory=IdCardConfig)
    printer: PrinterConfig = Field(default_factory=PrinterConfig)
    mqtt: MqttConfig = Field(default_factory=MqttConfig)
    journal: JournalConfig = Field(default_factory=JournalConfig)
    telemetry: TelemetryConfig = Field(default_factory=TelemetryConfig)
    session: SessionConfig = Field(default_factory=SessionConfig)  # type: ignore[arg-type]
    policy: PolicyConfig = Field(default_factory=PolicyConfig)  # type: ignore[arg-type]
