"""Config entry points: the kiosk's and the central's files and environment overrides."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from central.config import CentralConfigError, load_central_config
from kiosk.config import ConfigError, load_config
from kiosk.config.loader import DEFAULTS_FILE
from tests.fuzz.target import Target

__all__ = ["config_targets"]

ROOT = Path(__file__).resolve().parents[2]
TOKENS = [
    b"[",
    b"]",
    b"{",
    b"}",
    b"[[",
    b"a = ",
    b" = ",
    b"=",
    b"\n",
    b'"',
    b"'",
    b"'''",
    b",",
    b"9" * 30,
    b"9" * 5000,
    b"inf",
    b"nan",
    b"-",
    b"0x",
    b"1979-05-27T07:32:00Z",
    b"true",
    b"\xff",
    b"\xc3",
    b"\\u",
    b"\\ud800",
    b"[mqtt]\n",
    b"[face]\n",
    b"[broker]\n",
    b"__",
    b"0",
]
_dir = Path(tempfile.mkdtemp(prefix="ssk-fuzz-config-"))


def _file_runner(load: Callable[[Path], Any]) -> Callable[[bytes], None]:
    path = _dir / f"{id(load)}.toml"

    def run(data: bytes) -> None:
        path.write_bytes(data)
        load(path)

    return run


def _env_runner(prefix: str, load: Callable[[dict[str, str]], Any]) -> Callable[[bytes], None]:
    def run(data: bytes) -> None:
        environ = {}
        for line in data.decode("utf-8", "surrogateescape").splitlines():
            name, _, value = line.partition("=")
            environ[prefix + name.upper()] = value  # os.environ gives surrogates for bad bytes
        load(environ)

    return run


def config_targets() -> list[Target]:
    kiosk_files = [DEFAULTS_FILE.read_bytes()] + [
        p.read_bytes() for p in sorted((ROOT / "config" / "profiles").glob("*.toml"))
    ]
    central_files = [(ROOT / "config" / "central.toml").read_bytes()]
    kiosk_env = [
        b"MQTT__PORT=1884\nTERMINAL__ID=SSK-ENV-0001\nCARD__READER=ACS",
        b"FACE=\nFACE__0=x\nLOGGING__LEVEL=DEBUG",
    ]
    central_env = [b"BROKER__PORT=1884\nWORKERS__COUNT=2\nSTORAGE__URL=sqlite:///x.db"]
    return [
        Target(
            "config.kiosk_file",
            _file_runner(lambda p: load_config(p, environ={})),
            (ConfigError,),
            kiosk_files,
            TOKENS,
        ),
        Target(
            "config.central_file",
            _file_runner(lambda p: load_central_config(p, environ={})),
            (CentralConfigError,),
            central_files,
            TOKENS,
        ),
        Target(
            "config.kiosk_env",
            _env_runner("KIOSK__", lambda env: load_config(environ=env)),
            (ConfigError,),
            kiosk_env,
            TOKENS,
        ),
        Target(
            "config.central_env",
            _env_runner("CENTRAL__", lambda env: load_central_config(environ=env)),
            (CentralConfigError,),
            central_env,
            TOKENS,
        ),
    ]
