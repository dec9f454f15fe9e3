"""Config loading: layers, and errors that name file, line, key, value and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.config import ConfigError, load_config
from kiosk.config.terminal import Mode


def test_defaults_load_and_validate() -> None:
    loaded = load_config(environ={})
    assert loaded.config.terminal.mode is Mode.DEMO
    assert loaded.files[0].name == "kiosk.toml"


def test_profile_then_file_then_environment(tmp_path: Path) -> None:
    f = tmp_path / "kiosk.toml"
    f.write_text('[terminal]\nid = "SSK-FILE-0001"\n[mqtt]\nport = 1884\n')
    loaded = load_config(f, profile="test", environ={"KIOSK__MQTT__PORT": "1999"})
    assert loaded.config.terminal.id == "SSK-FILE-0001"
    assert loaded.config.mqtt.port == 1999
    assert loaded.config.logging.level == "DEBUG"  # from the test profile
    assert loaded.origins["mqtt.port"] == "environment"


def test_wrong_key_names_file_line_and_key(tmp_path: Path) -> None:
    f = tmp_path / "kiosk.toml"
    f.write_text("[card]\n\nreadr = 'ACS'\n")
    with pytest.raises(ConfigError) as e:
        load_config(f, environ={})
    (issue,) = e.value.issues
    assert (issue.source, issue.line, issue.key) == (str(f), 3, "card.readr")
    assert "unknown key" in issue.reason
    assert f"{f}:3: card.readr = 'ACS'" in str(e.value)


def test_wrong_value_says_what_was_expected(tmp_path: Path) -> None:
    f = tmp_path / "kiosk.toml"
    f.write_text("[mqtt]\nport = 70000\n")
    with pytest.raises(ConfigError) as e:
        load_config(f, environ={})
    assert "mqtt.port = 70000" in str(e.value)
    assert "less than or equal to 65535" in str(e.value)


def test_environment_error_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="KIOSK__MQTT__PORT"):
        load_config(environ={"KIOSK__MQTT__PORT": "not-a-port"})


def test_unknown_section_names_its_file_and_line(tmp_path: Path) -> None:
    f = tmp_path / "kiosk.toml"
    f.write_text("[card]\nreader = 'ACS'\n\n[cardd]\nreader = 'ACS'\n\n[empty]\n")
    with pytest.raises(ConfigError) as e:
        load_config(f, environ={})
    located = {(i.source, i.line, i.key) for i in e.value.issues}
    assert located == {(str(f), 4, "cardd"), (str(f), 7, "empty")}
    with pytest.raises(ConfigError, match="KIOSK__CARDX"):
        load_config(environ={"KIOSK__CARDX__A": "1"})


def test_dotted_and_inline_keys_are_located(tmp_path: Path) -> None:
    f = tmp_path / "kiosk.toml"
    f.write_text("card.insert_timeout_s = -1\nmqtt = { port = 70000 }\n")
    with pytest.raises(ConfigError) as e:
        load_config(f, environ={})
    assert {(i.key, i.line) for i in e.value.issues} == {
        ("card.insert_timeout_s", 1),
        ("mqtt.port", 2),
    }


def test_broken_toml_names_the_line(tmp_path: Path) -> None:
    f = tmp_path / "kiosk.toml"
    f.write_text("[card]\nreader = 'ACS'\ninsert_timeout_s = \n")
    with pytest.raises(ConfigError) as e:
        load_config(f, environ={})
    (issue,) = e.value.issues
    assert (issue.source, issue.line) == (str(f), 3)


def test_environment_string_keys_keep_their_text() -> None:
    loaded = load_config(environ={"KIOSK__TERMINAL__ID": "1234", "KIOSK__CARD__READER": "true"})
    assert loaded.config.terminal.id == "1234"
    assert loaded.config.card.reader == "true"
    with pytest.raises(ConfigError, match="KIOSK__TERMINAL__ID"):
        load_config(environ={"KIOSK__TERMINAL__ID": "12"})


def test_broken_toml_and_unknown_profile(tmp_path: Path) -> None:
    f = tmp_path / "kiosk.toml"
    f.write_text("[mqtt\nport = 1\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(f, environ={})
    with pytest.raises(ConfigError, match="no such profile"):
        load_config(profile="nope", environ={})


def test_cli_validate_exit_codes(tmp_path: Path) -> None:
    import subprocess
    import sys

    good = subprocess.run(
        [sys.executable, "-m", "kiosk.cli.main", "config", "validate"],
        capture_output=True,
        text=True,
    )
    bad_file = tmp_path / "bad.toml"
    bad_file.write_text("[terminal]\nmode = 'party'\n")
    bad = subprocess.run(
        [sys.executable, "-m", "kiosk.cli.main", "--config", str(bad_file), "config", "validate"],
        capture_output=True,
        text=True,
    )
    assert good.returncode == 0, good.stderr
    assert bad.returncode == 1
    assert f"{bad_file}:2: terminal.mode = 'party'" in bad.stderr


@pytest.mark.parametrize("count", [1, 2])
def test_fewer_than_three_face_challenges_are_refused(tmp_path: Path, count: int) -> None:
    f = tmp_path / "kiosk.toml"
    f.write_text(f"[policy]\nface_challenges = {count}\n")
    with pytest.raises(ConfigError) as e:
        load_config(f, environ={})
    assert f"policy.face_challenges = {count}" in str(e.value)
    assert f"at least 3 liveness challenges, not {count}" in str(e.value)


def test_shipped_config_asks_three_face_challenges() -> None:
    assert load_config(environ={}).config.policy.face_challenges == 3
