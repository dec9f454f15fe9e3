"""Journal section (owned by kiosk.journal): file, key, retention per data class."""

from __future__ import annotations

from pydantic import Field

from kiosk.config.base import ConfigSection

__all__ = ["JournalConfig"]


class JournalConfig(ConfigSection):
    """Where the journal lives, its key and how long each data class is kept."""

    path: str = Field(
        default="journal.sqlite3",
        title="Journal file",
        description="Relative paths are under state_dir.",
    )
    key_credential: str = Field(
        default="journal-key",
        title="Key credential name",
        description="File in $CREDENTIALS_DIRECTORY: 32 bytes, raw or hex or base64.",
    )
    busy_timeout_s: float = Field(default=5.0, gt=0, le=120, title="SQLite busy timeout (s)")
    personal_retention_days: float = Field(
        default=30.0, ge=0, le=3650, title="Personal data kept after confirmation (days)"
    )
    audit_retention_days: float = Field(
        default=3650.0, ge=0, le=36_500, title="Audit records kept after confirmation (days)"
    )
    operational_retention_days: float = Field(
        default=7.0, ge=0, le=3650, title="Operational rows (telemetry, stats) kept (days)"
    )
    max_telemetry_backlog: int = Field(
        default=1000, ge=1, le=1_000_000, title="Unsent telemetry rows kept (oldest dropped)"
    )
    purge_interval_s: float = Field(
        default=3600.0, gt=0, le=86_400, title="Retention purge every (s)"
    )
    command_memory_days: float = Field(
        default=8.0, gt=0, le=365, title="Executed command ids remembered (days), replay protection"
    )
