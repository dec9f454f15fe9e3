"""Typed configuration: one pydantic model per section, loaded in layers."""

from kiosk.config.loader import ConfigError, ConfigIssue, LoadedConfig, load_config
from kiosk.config.model import KioskConfig

__all__ = ["ConfigError", "ConfigIssue", "KioskConfig", "LoadedConfig", "load_config"]
