"""Test-wide fixtures. Device and service fixtures live in tests/fixtures/ and are plugins here."""

import pytest

pytest_plugins = [
    "tests.fixtures.broker",
    "tests.fixtures.sync_central",
    "tests.fixtures.postgres",
    "tests.fixtures.central",
    "tests.fixtures.fleet",
    "tests.fixtures.browser",
    "tests.fixtures.fingerprint",
    "tests.fixtures.faces",
    "tests.fixtures.pcscd",
    "tests.fixtures.journeys",
    "tests.fixtures.no_skip",
    "tests.fixtures.hardware",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """End-to-end tests run first, whatever order the paths were given in: the demo needs the
    machine's one pcscd, which the session-wide card fixture holds from its first use on."""
    items.sort(key=lambda item: 0 if "/tests/e2e/" in str(item.path) else 1)
