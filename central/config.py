"""The central system's config model (`config/central.toml`) and its layered loader.

Layers, later wins: packaged defaults (`config/central.toml`), the operator's file (`--config` or
`$CENTRAL_CONFIG`), then environment overrides `CENTRAL__SECTION__KEY=value` (read as a TOML
value where it parses, else as a string). Like the kiosk's: unknown keys are errors, and every
error names the file, the line where it can be told, the key, the value and the reason.
Relative paths are resolved against the project directory.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from central.config_bounds import ConfigInputError, env_tree, parse_toml, value_problems
from central.fleet.config import FleetConfig

__all__ = [
    "DEFAULTS_FILE",
    "PROJECT_DIR",
    "BrokerConfig",
    "CentralConfig",
    "CentralConfigError",
    "ConfigIssue",
    "LedgerConfig",
    "RunConfig",
    "SeedConfig",
    "StorageConfig",
    "TrustConfig",
    "WorkersConfig",
    "load_central_config",
    "resolve_path",
]

PROJECT_DIR = Path(__file__).resolve().parents[1]
DEFAULTS_FILE = PROJECT_DIR / "config" / "central.toml"
ENV_PREFIX = "CENTRAL__"


def resolve_path(path: str | Path) -> Path:
    """A config path: absolute as is, relative to the project directory otherwise."""
    p = Path(path)
    return p if p.is_absolute() else PROJECT_DIR / p


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class StorageConfig(_Section):
    """Where the ledger and the seed data live."""

    url: str = Field(
        default="sqlite:///var/central/central.db",
        title="Database URL",
        description="sqlite:///relative/or//absolute/path.db, or postgresql://user@host:port/db",
    )
    busy_timeout_s: float = Field(
        default=10.0, gt=0, le=600, title="How long a writer waits for a locked SQLite database (s)"
    )
    connect_timeout_s: float = Field(
        default=10.0, gt=0, le=600, title="PostgreSQL connect timeout (s)"
    )

    @field_validator("url")
    @classmethod
    def _check_scheme(cls, url: str) -> str:
        if not url.startswith(("sqlite://", "postgresql://", "postgres://")):
            raise ValueError("url must start with sqlite:// or postgresql://")
        return url


class BrokerConfig(_Section):
    """The MQTT broker the workers consume from (MQTT 5, persistent sessions)."""

    host: str = Field(default="127.0.0.1", title="Broker host")
    port: int = Field(default=1883, ge=1, le=65535, title="Broker port")
    client_id_prefix: str = Field(
        default="central", min_length=1, max_length=40, title="Worker client ids are PREFIX-w<N>"
    )
    share_group: str = Field(
        default="central",
        pattern=r"^[A-Za-z0-9_-]+$",
        title="Shared-subscription group ($share/GROUP/...)",
    )
    session_expiry_s: int = Field(
        default=259200,
        ge=0,
        le=4294967295,
        title="MQTT 5 session expiry: the broker keeps our queue (s)",
    )
    keepalive_s: int = Field(default=30, ge=5, le=3600, title="MQTT keepalive (s)")
    reconnect_min_s: float = Field(default=0.5, gt=0, le=60, title="First reconnect delay (s)")
    reconnect_max_s: float = Field(default=30.0, gt=0, le=3600, title="Longest reconnect delay (s)")
    connect_timeout_s: float = Field(
        default=10.0, gt=0, le=600, title="Wait for the first CONNACK (s)"
    )
    receive_maximum: int = Field(
        default=1000, ge=1, le=65535, title="MQTT 5 Receive Maximum: unacknowledged QoS 1 in flight"
    )
    tls_ca_file: str | None = Field(
        default=None, title="CA bundle for a TLS listener (None = plain TCP)"
    )
    tls_cert_file: str | None = Field(default=None, title="Client certificate (PEM)")
    tls_key_file: str | None = Field(default=None, title="Client key (PEM)")
    username: str | None = Field(default=None, title="Username (when the broker wants one)")


class WorkersConfig(_Section):
    """The consumers: how many, and how they batch."""

    count: int = Field(
        default=2, ge=1, le=64, title="Worker processes' MQTT clients in the shared group"
    )
    telemetry_flush_s: float = Field(
        default=1.0,
        gt=0,
        le=60,
        title="Telemetry last-seen rows are written in batches this often (s)",
    )
    max_payload_bytes: int = Field(
        default=262144, ge=1024, le=16777216, title="Larger inbound messages are rejected unread"
    )


class LedgerConfig(_Section):
    """Money rules the central system enforces."""

    max_payment_cents: int = Field(
        default=5_000_00, ge=1, title="Largest single payment accepted (fen)"
    )
    max_deadline_ahead_s: float = Field(
        default=600.0, gt=0, title="A payment deadline further ahead than this is refused (s)"
    )
    flexible_pension_rate_permille: int = Field(
        default=200,
        ge=1,
        le=1000,
        title="Flexible-employment pension contribution: per mille of the latest base",
    )


class SeedConfig(_Section):
    """The deterministic data set of fictitious insured persons."""

    persons: int = Field(
        default=2000, ge=1, le=1_000_000, title="Generated persons (besides card holders)"
    )
    rng_seed: int = Field(default=20260101, title="Seed of the generator: same seed, same data set")
    months: int = Field(default=36, ge=1, le=600, title="Months of contribution history per person")
    end_period: str = Field(
        default="202610",
        pattern=r"^\d{4}(0[1-9]|1[0-2])$",
        title="Last contribution month (YYYYMM)",
    )
    profiles_glob: str = Field(
        default="drivers/card/emulator/profiles/*.json",
        title="Card emulator profiles (JSON), read as data: their holders become persons",
    )
    fingers_dir: str = Field(
        default="config/demo/fingers", title="Reference templates <finger>.tpl of the demo holders"
    )
    wallet_cents_max: int = Field(
        default=200_000, ge=0, title="Largest generated wallet balance (fen)"
    )
    holder_wallet_cents: int = Field(
        default=1_000_000, ge=0, title="Wallet balance of every emulated card holder (fen)"
    )
    lost_cards: list[str] = Field(
        default_factory=list, title="Card numbers seeded as reported lost (temporary loss)"
    )


class TrustConfig(_Section):
    """The central's trust in a present card (docs/central-trust.md): issuer keys, session
    tokens, the credentials each personal method needs, and the certificate signing key."""

    issuer_keys_file: str = Field(
        default="drivers/card/emulator/profiles/keysets.json",
        title="Issuer master keys (JSON, TEST keys of the emulator); production: the issuer's HSM",
    )
    issuer_key_set: str = Field(default="test", min_length=1, title="Key set in that file")
    token_key_file: str = Field(
        default="",
        title="HMAC key of session tokens (hex, 32+ bytes); empty: a random key per process",
    )
    token_ttl_s: float = Field(default=300.0, ge=5, le=3600, title="Session token lifetime (s)")
    max_session_s: float = Field(
        default=1800.0, ge=30, le=14400, title="Elevation never extends a session past this (s)"
    )
    challenge_ttl_s: float = Field(default=30.0, ge=1, le=600, title="Challenge lifetime (s)")
    requirements: dict[str, list[str] | list[list[str]]] = Field(
        default_factory=dict,
        title="method → credentials (card, pin, face, fingerprint, idcard_face), overriding the"
        " defaults; a list of lists names alternatives (any one of them suffices)",
    )
    idcard_login: bool = Field(
        default=False,
        title="Open records-lookup sessions with the ID card and the central's own face match"
        " (docs/idcard-reader.md); off: session.open_idcard is refused",
    )
    idcard_login_terminals: list[str] = Field(
        default_factory=list,
        title="Terminals allowed the ID card login; empty: every terminal (when idcard_login)",
    )
    idcard_login_attempts: int = Field(
        default=3, ge=1, le=20, title="ID card logins per terminal and per ID number per window"
    )
    idcard_login_window_s: float = Field(
        default=600.0, ge=10, le=86400, title="The ID card login rate window (s)"
    )
    idcard_face_threshold: float = Field(
        default=0.5,
        gt=0,
        lt=1,
        title="dlib distance under which the live face is the reference photo's (the kiosk's"
        " [face] match_threshold)",
    )
    certificate_key_file: str = Field(
        default="",
        title="Ed25519 private key (PEM) of insured certificates; empty: the TEST key",
    )
    essc_key_file: str = Field(
        default="",
        title="Ed25519 private key (PEM) of e-SSC QR codes; empty: the TEST key (central/essc.py)",
    )


class RunConfig(_Section):
    """What `kiosk-central run` starts besides the workers."""

    fleet_monitor: bool = Field(
        default=True, title="Serve the fleet monitor web page ([fleet] section) in the same process"
    )
    seed_if_empty: bool = Field(
        default=True, title="`run` seeds the database first when it holds no person (demo)"
    )


class CentralConfig(_Section):
    """Everything `kiosk-central` is configured with; validated once at start-up."""

    storage: StorageConfig = Field(default_factory=StorageConfig)
    broker: BrokerConfig = Field(default_factory=BrokerConfig)
    workers: WorkersConfig = Field(default_factory=WorkersConfig)
    ledger: LedgerConfig = Field(default_factory=LedgerConfig)
    seed: SeedConfig = Field(default_factory=SeedConfig)
    run: RunConfig = Field(default_factory=RunConfig)
    trust: TrustConfig = Field(default_factory=TrustConfig)
    # The monitor's own section (central/fleet/config.py). Its broker_host/broker_port default
    # to [broker]'s when not set in [fleet] (see `fleet_config()`).
    fleet: FleetConfig = Field(default_factory=FleetConfig)

    def fleet_config(self) -> FleetConfig:
        """[fleet], with the broker of [broker] unless [fleet] names its own."""
        update: dict[str, Any] = {}
        if "broker_host" not in self.fleet.model_fields_set:
            update["broker_host"] = self.broker.host
        if "broker_port" not in self.fleet.model_fields_set:
            update["broker_port"] = self.broker.port
        return self.fleet.model_copy(update=update)


@dataclass(frozen=True, slots=True)
class ConfigIssue:
    """One thing wrong with the config, located as precisely as the layers allow."""

    source: str
    line: int | None
    key: str
    value: str
    reason: str

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        return f"{where}: {self.key} = {self.value}: {self.reason}"


class CentralConfigError(Exception):
    """The config cannot be used; `issues` lists every place that is wrong."""

    code = "config.invalid"  # drivers.vocabulary.ErrorCode.CONFIG_INVALID

    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = issues
        super().__init__("invalid central configuration:\n" + "\n".join(f"  {i}" for i in issues))


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return parse_toml(path.read_bytes())
    except ConfigInputError as p:
        issue = ConfigIssue(str(path), p.line, p.key, p.value, p.reason)
        raise CentralConfigError([issue]) from None
    except tomllib.TOMLDecodeError as e:
        issue = ConfigIssue(
            str(path), getattr(e, "lineno", None), "(file)", "", f"not valid TOML: {e}"
        )
        raise CentralConfigError([issue]) from e
    except OSError as e:
        issue = ConfigIssue(str(path), None, "(file)", "", f"cannot read: {e.strerror}")
        raise CentralConfigError([issue]) from e


def _merge(
    into: dict[str, Any],
    layer: Mapping[str, Any],
    source: str,
    origins: dict[str, str],
    prefix: str = "",
) -> None:
    for key, value in layer.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            node = into.get(key)
            if not isinstance(node, dict):
                node = into[key] = {}
            _merge(node, value, source, origins, dotted + ".")
        else:
            into[key] = value
            origins[dotted] = source


def _env_layer(environ: Mapping[str, str]) -> dict[str, Any]:
    layer, _, problems = env_tree(environ, ENV_PREFIX)
    if problems:
        raise CentralConfigError(
            [
                ConfigIssue(f"environment variable {p.variable}", None, p.key, p.value, p.reason)
                for p in problems
            ]
        )
    return layer


def _find_line(path: str, dotted: str) -> int | None:
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    *sections, key = dotted.split(".")
    want, current = ".".join(sections), ""
    key_re = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for n, line in enumerate(lines, start=1):
        header = re.match(r"^\s*\[([^\]]+)\]", line)
        if header:
            current = header.group(1).strip()
            if not sections and current == key:
                return n
        elif current == want and key_re.match(line):
            return n
    return None


def _value_at(data: Mapping[str, Any], loc: tuple[Any, ...]) -> str:
    node: Any = data
    for part in loc:
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        else:
            return "(missing)"
    text = repr(node)
    return text if len(text) <= 80 else text[:77] + "..."


def _locate(dotted: str, origins: Mapping[str, str]) -> tuple[str, int | None]:
    """The layer that set this key (or its nearest parent's keys) and the line in it."""
    source = origins.get(dotted)
    probe = dotted
    while source is None and "." in probe:
        probe = probe.rsplit(".", 1)[0]
        source = next((s for k, s in origins.items() if k.startswith(probe + ".")), None)
    source = source or "(defaults)"
    line = _find_line(source, dotted) if source not in ("environment", "(defaults)") else None
    if source == "environment":
        source = f"environment variable {ENV_PREFIX}{dotted.upper().replace('.', '__')}"
    return source, line


def load_central_config(
    path: Path | str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    defaults: Path = DEFAULTS_FILE,
) -> CentralConfig:
    """Load and validate; raises `CentralConfigError` naming file, line, key, value and reason."""
    env = os.environ if environ is None else environ
    data: dict[str, Any] = {}
    origins: dict[str, str] = {}
    layers = [defaults]
    chosen = path or env.get("CENTRAL_CONFIG")
    if chosen:
        layers.append(Path(chosen))
    for layer in layers:
        _merge(data, _read_toml(layer), str(layer), origins)
    _merge(data, _env_layer(env), "environment", origins)
    bad = [
        ConfigIssue(*_locate(p.key, origins), p.key, p.value, p.reason)
        for p in value_problems(data)
    ]
    if bad:  # what no setting takes (huge integers, NaN, undecodable text), before pydantic
        raise CentralConfigError(bad)
    try:
        return CentralConfig.model_validate(data)
    except ValidationError as e:
        issues = []
        for err in e.errors():
            loc = tuple(err["loc"])
            dotted = ".".join(str(p) for p in loc)
            source, line = _locate(dotted, origins)
            reason = err["msg"]
            if err["type"] == "extra_forbidden":
                reason = "unknown key (check the spelling)"
            issues.append(ConfigIssue(source, line, dotted, _value_at(data, loc), reason))
        raise CentralConfigError(issues) from None
