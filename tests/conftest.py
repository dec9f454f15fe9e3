"""Test-wide fixtures. Device and service fixtures live in tests/fixtures/ and are plugins here."""

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
    "tests.fixtures.no_skip",
]
