"""Test-wide fixtures. Device and service fixtures live in tests/fixtures/ and are plugins here."""

pytest_plugins = ["tests.fixtures.broker", "tests.fixtures.fingerprint"]
