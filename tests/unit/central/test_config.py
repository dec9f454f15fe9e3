"""The central config: packaged defaults valid, layered overrides, errors naming file/line/key."""

from __future__ import annotations

from pathlib import Path

import pytest

from central.config import CentralConfigError, load_central_config


def test_packaged_defaults_are_valid() -> None:
    cfg = load_central_config(environ={})
    assert cfg.storage.url.startswith("sqlite://")
    assert cfg.fleet_config().broker_port == cfg.broker.port


def test_file_and_environment_layers(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text("[broker]\nport = 2883\n[fleet]\nbroker_port = 2999\n")
    cfg = load_central_config(f, environ={"CENTRAL__WORKERS__COUNT": "5"})
    assert cfg.broker.port == 2883 and cfg.workers.count == 5
    assert cfg.fleet_config().broker_port == 2999  # [fleet] names its own broker


def test_unknown_key_is_named_with_file_and_line(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text("[broker]\nhost = 'x'\nprot = 1883\n")
    with pytest.raises(CentralConfigError) as e:
        load_central_config(f, environ={})
    (issue,) = e.value.issues
    assert (issue.source, issue.line, issue.key) == (str(f), 3, "broker.prot")
    assert "unknown key" in issue.reason


def test_bad_values(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text("[storage]\nurl = 'mysql://x'\n[workers]\ncount = 0\n")
    with pytest.raises(CentralConfigError) as e:
        load_central_config(f, environ={"CENTRAL__BROKER__PORT": "70000"})
    where = {i.key: (i.source, i.line) for i in e.value.issues}
    assert where == {
        "storage.url": (str(f), 2),
        "workers.count": (str(f), 4),
        "broker.port": ("environment variable CENTRAL__BROKER__PORT", None),
    }
    text = str(e.value)
    assert "CENTRAL__BROKER__PORT" in text and "sqlite:// or postgresql://" in text


def test_broken_toml(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text("[broker\n")
    with pytest.raises(CentralConfigError, match="not valid TOML"):
        load_central_config(f, environ={})
