"""Config input within bounds (pure): TOML bytes and environment overrides in, values or precise
problems out, never another exception (not UTF-8, nesting, integers past 64 bits, a scalar and
a table under it). The loader turns each `ConfigInputError` into its config error.

A copy of `kiosk/config/bounds.py`: the central imports nothing of `kiosk`
but the contract (tests/unit/test_layering.py). Keep the two identical below the docstring.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["MAX_DEPTH", "ConfigInputError", "env_tree", "parse_toml", "value_problems"]

MAX_DEPTH = 16  # tables and arrays: our files nest 3 deep
INT64 = range(-(2**63), 2**63)
_ASSIGN = re.compile(r"^\s*([A-Za-z0-9_.\"' -]+?)\s*=")
_HEADER = re.compile(r"^\s*\[+([^\]]+)\]")
_LONG_NUMBER = re.compile(r"[0-9_]{64,}")
_DEEP = re.compile(r"[\[{](?:\s*[\[{]|\s*\w+\s*=\s*\{){" + str(MAX_DEPTH) + ",}")


class ConfigInputError(Exception):
    """What is wrong, where: `key` dotted ("(file)" when no key can be told), the `line` of the
    file if known, the environment `variable` if one set it."""

    def __init__(
        self,
        key: str,
        reason: str,
        line: int | None = None,
        *,
        value: str = "",
        variable: str | None = None,
    ) -> None:
        super().__init__(f"{key}: {reason}")
        self.key = key
        self.reason = reason
        self.line = line
        self.value = value
        self.variable = variable


def _key_at_line(text: str, line: int) -> str:
    """The dotted key assigned on `line` (1-based), under the table header above it."""
    section: list[str] = []
    lines = text.splitlines()
    for current in lines[: line - 1]:
        header = _HEADER.match(current)
        if header:
            section = [p.strip().strip("\"'") for p in header.group(1).split(".")]
    assign = _ASSIGN.match(lines[line - 1]) if 0 < line <= len(lines) else None
    if assign is None:
        return "(file)"
    return ".".join(section + [p.strip().strip("\"'") for p in assign.group(1).split(".")])


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def parse_toml(raw: bytes) -> dict[str, Any]:
    """Parse a TOML file's bytes. Raises `ConfigInputError` (and `tomllib.TOMLDecodeError` for a
    syntax error, which the loader reports with its own line)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise ConfigInputError(
            "(file)", f"not UTF-8 (byte {raw[e.start]:#04x} at offset {e.start})", line
        ) from None
    try:
        return tomllib.loads(text)
    except RecursionError:
        # tomllib is recursive: find the line where the nesting starts.
        deep = _DEEP.search(text)
        where = _line_of(text, deep.start()) if deep else None
        key = _key_at_line(text, where) if where else "(file)"
        raise ConfigInputError(key, f"nested deeper than {MAX_DEPTH} levels", where) from None
    except ValueError as e:
        if isinstance(e, tomllib.TOMLDecodeError):
            raise
        # int() of more digits than Python converts (4300): a number no setting takes.
        long = _LONG_NUMBER.search(text)
        where = _line_of(text, long.start()) if long else None
        key = _key_at_line(text, where) if where else "(file)"
        raise ConfigInputError(key, f"number too long: {e}", where) from None


def env_tree(
    environ: Mapping[str, str], prefix: str
) -> tuple[dict[str, Any], dict[str, str], list[ConfigInputError]]:
    """The overrides `PREFIX__SECTION__KEY=value` as a tree (values read as TOML where they
    parse, else kept as text), the variable behind each dotted key, and the problems: a value
    nested or numbered past the bounds, a variable that sets a scalar where another one needs a
    table under it (`KIOSK__FACE=` with `KIOSK__FACE__0=`)."""
    layer: dict[str, Any] = {}
    names: dict[str, str] = {}
    problems: list[ConfigInputError] = []
    for name, raw in sorted(environ.items()):
        if not name.startswith(prefix):
            continue
        parts = [p.lower() for p in name[len(prefix) :].split("__") if p]
        if not parts:
            continue
        dotted = ".".join(parts)
        try:
            value: Any = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw
        except RecursionError:
            reason = f"nested deeper than {MAX_DEPTH} levels"
            problems.append(ConfigInputError(dotted, reason, variable=name))
            continue
        except ValueError as e:
            problems.append(ConfigInputError(dotted, f"number too long: {e}", variable=name))
            continue
        node = layer
        for depth, part in enumerate(parts[:-1]):
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                above = ".".join(parts[: depth + 1])
                problems.append(_conflict(above, names.get(above, "?"), name))
                break
            node = child
        else:
            if isinstance(node.get(parts[-1]), dict):
                inner = next(n for k, n in names.items() if k.startswith(dotted + "."))
                problems.append(_conflict(dotted, name, inner))
                continue
            node[parts[-1]] = value
            names[dotted] = name
    return layer, names, problems


def _conflict(dotted: str, scalar_var: str, table_var: str) -> ConfigInputError:
    return ConfigInputError(
        dotted,
        f"{scalar_var} sets a value where {table_var} needs a table under it",
        variable=scalar_var,
    )


def _shown(value: Any) -> str:
    if isinstance(value, int) and value not in INT64:
        return f"<integer of {len(str(abs(value)))} digits>"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def value_problems(data: Mapping[str, Any], prefix: str = "") -> Iterator[ConfigInputError]:
    """Values no setting can take, whatever its type: integers past 64 bits, NaN/inf, text
    that is not Unicode (an undecodable environment value arrives as lone surrogates), depth."""
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        yield from _check(dotted, value, dotted.count(".") + 1)


def _check(dotted: str, value: Any, depth: int) -> Iterator[ConfigInputError]:
    if depth > MAX_DEPTH:
        yield ConfigInputError(dotted, f"nested deeper than {MAX_DEPTH} levels")
    elif isinstance(value, bool):
        return
    elif isinstance(value, int) and value not in INT64:
        yield ConfigInputError(dotted, "integer outside the 64-bit range", value=_shown(value))
    elif isinstance(value, float) and not math.isfinite(value):
        yield ConfigInputError(dotted, "not a finite number", value=_shown(value))
    elif isinstance(value, str) and not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            yield ConfigInputError(dotted, "text that is not valid UTF-8", value=_shown(value))
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _check(f"{dotted}.{key}", item, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _check(f"{dotted}.{index}", item, depth + 1)
