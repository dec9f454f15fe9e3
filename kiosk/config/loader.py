"""Loading the config in explicit steps: find the files, merge the layers, validate.

Layers, later wins: packaged defaults (`config/kiosk.toml`), a profile (`config/profiles/NAME.toml`,
e.g. `test` with short timeouts, `demo`), the terminal's file (`/etc/kiosk/kiosk.toml`, or
`--config` / `$KIOSK_CONFIG`), then environment overrides `KIOSK__SECTION__KEY=value` (the value
is read as a TOML value where it parses, else as a string). Every error names the file, the line
where it can be told, the key, the value and what was expected.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from kiosk.config.bounds import ConfigInputError, env_tree, parse_toml, value_problems
from kiosk.config.model import KioskConfig

__all__ = [
    "PROJECT_DIR",
    "ConfigError",
    "ConfigIssue",
    "LoadedConfig",
    "load_config",
]

PROJECT_DIR = Path(__file__).resolve().parents[2]
DEFAULTS_FILE = PROJECT_DIR / "config" / "kiosk.toml"
PROFILES_DIR = PROJECT_DIR / "config" / "profiles"
TERMINAL_FILE = Path("/etc/kiosk/kiosk.toml")
ENV_PREFIX = "KIOSK__"


@dataclass(frozen=True, slots=True)
class ConfigIssue:
    """One thing wrong with the config, located as precisely as the layers allow."""

    source: str  # file path, or "environment"
    line: int | None
    key: str  # dotted, e.g. "mqtt.port"
    value: str
    reason: str

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        return f"{where}: {self.key} = {self.value}: {self.reason}"


class ConfigError(Exception):
    """The config cannot be used; `issues` says every place that is wrong."""

    code = "config.invalid"

    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = issues
        super().__init__("invalid configuration:\n" + "\n".join(f"  {i}" for i in issues))


@dataclass(frozen=True, slots=True)
class LoadedConfig:
    """The validated config and where each value came from."""

    config: KioskConfig
    files: tuple[Path, ...]
    origins: Mapping[str, str] = field(default_factory=dict)  # dotted key -> source


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return parse_toml(path.read_bytes())
    except ConfigInputError as p:
        raise ConfigError([ConfigIssue(str(path), p.line, p.key, p.value, p.reason)]) from None
    except tomllib.TOMLDecodeError as e:
        # Python 3.11's TOMLDecodeError has no `lineno` yet (3.14); its message says "at line N".
        line = getattr(e, "lineno", None)
        if line is None:
            found = re.search(r"at line (\d+)", str(e))
            line = int(found.group(1)) if found else None
        raise ConfigError(
            [ConfigIssue(str(path), line, "(file)", "", f"not valid TOML: {e}")]
        ) from e
    except OSError as e:
        raise ConfigError(
            [ConfigIssue(str(path), None, "(file)", "", f"cannot read: {e.strerror}")]
        ) from e


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
            # A table is attributed to the last layer that names it, so that an unknown or
            # misspelt section (even an empty one) is reported in the file that holds it.
            origins[dotted] = source
            if not isinstance(into.get(key), dict):
                into[key] = {}
            _merge(into[key], value, source, origins, dotted + ".")
        else:
            into[key] = value
            origins[dotted] = source


def _env_layer(environ: Mapping[str, str]) -> dict[str, Any]:
    layer, _, problems = env_tree(environ, ENV_PREFIX)
    if problems:
        raise ConfigError(
            [
                ConfigIssue(f"environment variable {p.variable}", None, p.key, p.value, p.reason)
                for p in problems
            ]
        )
    return layer


def _check_values(data: Mapping[str, Any], origins: Mapping[str, str]) -> None:
    """Refuse what no setting takes (huge integers, NaN, undecodable text) before pydantic,
    naming each key where it was set."""
    issues = []
    for p in value_problems(data):
        source, line = _locate(p.key, origins)
        issues.append(ConfigIssue(source, line, p.key, p.value, p.reason))
    if issues:
        raise ConfigError(issues)


def _find_line(path: str, dotted: str) -> int | None:
    """The line of `dotted` in a TOML file: `[section]` then `key =` (good enough for our files)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    parts = dotted.split(".")
    current: list[str] = []
    for n, line in enumerate(lines, start=1):
        header = re.match(r"^\s*\[+([^\]]+)\]", line)
        if header:
            current = [p.strip().strip('"') for p in header.group(1).split(".")]
            if current == parts:
                return n  # the key is a table: its header
            continue
        assign = re.match(r"^\s*([A-Za-z0-9_.\"' -]+?)\s*=", line)
        if assign:
            # `key = …` under `[section]`, or a dotted key (`card.reader = …`) at any level.
            key_path = current + [p.strip().strip("\"'") for p in assign.group(1).split(".")]
            if key_path == parts or (
                len(key_path) < len(parts) and parts[: len(key_path)] == key_path
            ):
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
    """The layer that set this key, or the one that set its nearest parent, and the line."""
    source = origins.get(dotted)
    probe = dotted
    while source is None and "." in probe:
        probe = probe.rsplit(".", 1)[0]
        source = origins.get(probe) or next(
            (s for k, s in origins.items() if k.startswith(probe + ".")), None
        )
    source = source or "(defaults)"
    line = _find_line(source, dotted) if source not in ("environment", "(defaults)") else None
    if source == "environment":
        source = f"environment variable {ENV_PREFIX}{dotted.upper().replace('.', '__')}"
    return source, line


def _issues_from(
    error: ValidationError, data: Mapping[str, Any], origins: Mapping[str, str]
) -> list[ConfigIssue]:
    issues = []
    for err in error.errors():
        loc = tuple(err["loc"])
        dotted = ".".join(str(p) for p in loc)
        source, line = _locate(dotted, origins)
        reason = err["msg"]
        if err["type"] == "extra_forbidden":
            reason = "unknown key (check the spelling; see `kiosk config schema`)"
        issues.append(ConfigIssue(source, line, dotted, _value_at(data, loc), reason))
    return issues


def load_config(
    path: Path | str | None = None,
    *,
    profile: str | None = None,
    environ: Mapping[str, str] | None = None,
    defaults: Path = DEFAULTS_FILE,
) -> LoadedConfig:
    """Load and validate the config. Raises `ConfigError` naming file, line, key and reason.

    `path`: the terminal's file; default `$KIOSK_CONFIG`, else `/etc/kiosk/kiosk.toml` if it
    exists. `profile`: default `$KIOSK_PROFILE`. `environ`: default `os.environ`.
    """
    env = os.environ if environ is None else environ
    data: dict[str, Any] = {}
    origins: dict[str, str] = {}
    files: list[Path] = []

    layers: list[Path] = [defaults]
    profile = profile or env.get("KIOSK_PROFILE") or None
    if profile:
        prof = PROFILES_DIR / f"{profile}.toml"
        if not prof.is_file():
            known = ", ".join(sorted(p.stem for p in PROFILES_DIR.glob("*.toml")))
            raise ConfigError(
                [
                    ConfigIssue(
                        str(prof), None, "(profile)", profile, f"no such profile; known: {known}"
                    )
                ]
            )
        layers.append(prof)
    terminal = (
        Path(path) if path else (Path(env["KIOSK_CONFIG"]) if env.get("KIOSK_CONFIG") else None)
    )
    if terminal is None and TERMINAL_FILE.is_file():
        terminal = TERMINAL_FILE
    if terminal is not None:
        layers.append(terminal)

    for layer_path in layers:
        _merge(data, _read_toml(layer_path), str(layer_path), origins)
        files.append(layer_path)
    _merge(data, _env_layer(env), "environment", origins)
    _check_values(data, origins)

    try:
        config = KioskConfig.model_validate(data)
    except ValidationError as e:
        if not _env_strings(e, data, env, origins):
            raise ConfigError(_issues_from(e, data, origins)) from None
        try:
            config = KioskConfig.model_validate(data)
        except ValidationError as again:
            raise ConfigError(_issues_from(again, data, origins)) from None
    return LoadedConfig(config=config, files=tuple(files), origins=origins)


def _env_strings(
    error: ValidationError,
    data: dict[str, Any],
    environ: Mapping[str, str],
    origins: Mapping[str, str],
) -> bool:
    """Where a string key got a TOML-looking environment value (`KIOSK__TERMINAL__ID=1234`,
    `...=true`), put the variable's raw text back; True when something was put back."""
    changed = False
    for err in error.errors():
        loc = tuple(str(p) for p in err["loc"])
        dotted = ".".join(loc)
        if err["type"] != "string_type" or origins.get(dotted) != "environment":
            continue
        name = ENV_PREFIX + "__".join(p.upper() for p in loc)
        raw = next((v for k, v in environ.items() if k.upper() == name), None)
        node: Any = data
        for part in loc[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if raw is not None and isinstance(node, dict):
            node[loc[-1]] = raw
            changed = True
    return changed
