"""Hostile config files and environment overrides, kiosk and central loaders: only the config
error leaves, naming the key (and file and line where there is one)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from central.config import CentralConfigError, load_central_config
from kiosk.config import ConfigError, load_config

Loader = Callable[[Path | None, dict[str, str]], Any]


def _kiosk(path: Path | None, environ: dict[str, str]) -> Any:
    return load_config(path, environ=environ)


def _central(path: Path | None, environ: dict[str, str]) -> Any:
    return load_central_config(path, environ=environ)


LOADERS = [
    pytest.param(_kiosk, ConfigError, "KIOSK__", ("mqtt", "port"), id="kiosk"),
    pytest.param(_central, CentralConfigError, "CENTRAL__", ("broker", "port"), id="central"),
]
ERRORS = (ConfigError, CentralConfigError)


def _issues(load: Loader, path: Path | None, environ: dict[str, str]) -> list[Any]:
    with pytest.raises(ERRORS) as e:
        load(path, environ)
    assert isinstance(e.value, ERRORS)
    return list(e.value.issues)


@pytest.mark.parametrize(("load", "error", "prefix", "key"), LOADERS)
def test_a_file_that_is_not_utf8_names_file_and_line(
    load: Loader, error: type, prefix: str, key: tuple[str, str], tmp_path: Path
) -> None:
    f = tmp_path / "c.toml"
    f.write_bytes(b"[" + key[0].encode() + b"]\n# caf\xe9\n")
    (issue,) = _issues(load, f, {})
    assert (issue.source, issue.line) == (str(f), 2)
    assert "UTF-8" in issue.reason


@pytest.mark.parametrize(("load", "error", "prefix", "key"), LOADERS)
@pytest.mark.parametrize("value", ["[" * 3000 + "]" * 3000, "{a = " * 3000 + "1" + "}" * 3000])
def test_deep_nesting_in_a_file_is_a_config_error(
    load: Loader, error: type, prefix: str, key: tuple[str, str], value: str, tmp_path: Path
) -> None:
    f = tmp_path / "c.toml"
    f.write_text(f"[{key[0]}]\n\n{key[1]} = {value}\n")
    (issue,) = _issues(load, f, {})
    assert issue.source == str(f) and issue.line == 3 and issue.key == ".".join(key)


@pytest.mark.parametrize(("load", "error", "prefix", "key"), LOADERS)
@pytest.mark.parametrize("digits", [30, 5000])
def test_huge_integers_in_a_file_name_the_key(
    load: Loader, error: type, prefix: str, key: tuple[str, str], digits: int, tmp_path: Path
) -> None:
    f = tmp_path / "c.toml"
    f.write_text(f"[{key[0]}]\n{key[1]} = {'9' * digits}\n")
    (issue,) = _issues(load, f, {})
    assert (issue.source, issue.line, issue.key) == (str(f), 2, ".".join(key))


@pytest.mark.parametrize(("load", "error", "prefix", "key"), LOADERS)
def test_non_finite_numbers_are_refused(
    load: Loader, error: type, prefix: str, key: tuple[str, str], tmp_path: Path
) -> None:
    f = tmp_path / "c.toml"
    f.write_text(f"[{key[0]}]\n{key[1]} = inf\n")
    issues = _issues(load, f, {})
    assert [i.key for i in issues] == [".".join(key)]


@pytest.mark.parametrize(("load", "error", "prefix", "key"), LOADERS)
@pytest.mark.parametrize("reverse", [False, True])
def test_a_scalar_and_a_table_under_it_from_the_environment(
    load: Loader, error: type, prefix: str, key: tuple[str, str], reverse: bool
) -> None:
    """`KIOSK__FACE=` with `KIOSK__FACE__0=` raised TypeError (or AttributeError)."""
    names = [f"{prefix}{key[0].upper()}", f"{prefix}{key[0].upper()}__0"]
    environ = {n: "" for n in (reversed(names) if reverse else names)}
    issues = _issues(load, None, environ)
    assert any(i.key == key[0] and names[0] in i.source for i in issues), issues


@pytest.mark.parametrize(("load", "error", "prefix", "key"), LOADERS)
@pytest.mark.parametrize("value", ["9" * 5000, "[" * 3000 + "]" * 3000, "\udcff"])
def test_hostile_environment_values_name_the_variable(
    load: Loader, error: type, prefix: str, key: tuple[str, str], value: str
) -> None:
    name = f"{prefix}{key[0].upper()}__{key[1].upper()}"
    issues = _issues(load, None, {name: value})
    assert [i.key for i in issues] == [".".join(key)]
    assert name in issues[0].source


_toml_bits = st.sampled_from(
    [
        "[mqtt]\n",
        "[broker]\n",
        "[face]\n",
        "port = ",
        "x = ",
        "1",
        "9" * 40,
        "inf",
        "nan",
        "[",
        "]",
        "{",
        "}",
        "a = ",
        ",",
        '"',
        "'",
        "\n",
        "\\u",
        "1979-05-27",
        "[[q]]\n",
        "0x",
        "true",
        "=",
        ".",
        "\udcff",
        "é",
        "\x00",
    ]
)
_text = st.lists(st.one_of(_toml_bits, st.text(max_size=5)), max_size=40).map("".join)


@given(text=_text, raw=st.binary(max_size=40), use_raw=st.booleans())
@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_file_ends_in_a_config_error_or_a_config(
    tmp_path: Path, text: str, raw: bytes, use_raw: bool
) -> None:
    f = tmp_path / "fuzz.toml"
    f.write_bytes(raw if use_raw else text.encode("utf-8", "surrogateescape"))
    for load in (_kiosk, _central):
        with contextlib.suppress(*ERRORS):
            load(f, {})


_names = st.lists(
    st.sampled_from(["MQTT", "PORT", "FACE", "0", "BROKER", "CARD", "READER", "X", "", "A_B"]),
    min_size=1,
    max_size=4,
).map("__".join)


@given(env=st.dictionaries(_names, _text, max_size=5))
@settings(max_examples=150)
def test_any_environment_ends_in_a_config_error_or_a_config(env: dict[str, str]) -> None:
    for prefix, load in (("KIOSK__", _kiosk), ("CENTRAL__", _central)):
        with contextlib.suppress(*ERRORS):
            load(None, {prefix + k: v for k, v in env.items()})


@pytest.mark.parametrize(
    ("load", "name", "key"),
    [
        (_kiosk, "KIOSK__TERMINAL__ID", "terminal.id"),
        (_central, "CENTRAL__BROKER__HOST", "broker.host"),
    ],
)
def test_undecodable_environment_text_is_refused_for_a_text_key(
    load: Loader, name: str, key: str
) -> None:
    """os.environ hands undecodable bytes over as lone surrogates; a text key took them."""
    (issue,) = _issues(load, None, {name: "SSK-\udcff-0001"})
    assert issue.key == key and name in issue.source


def test_the_central_copy_of_the_bounds_is_the_same_code() -> None:
    root = Path(__file__).resolve().parents[3]
    kiosk, central = (
        (root / p).read_text().split('"""', 2)[2]
        for p in ("kiosk/config/bounds.py", "central/config_bounds.py")
    )
    assert kiosk == central
