"""Fuzz harness over every entry point that takes outside bytes (issue 8, "Hostile input").

`targets.TARGETS` names each entry point, the exceptions it documents, and valid seed inputs;
`mutate` turns seeds into hostile inputs. Two tiers use them: the property tests of
tests/unit/hostile/test_fuzz_targets.py (a few seconds per entry point, in CI) and the long run
`python -m tests.fuzz --minutes N` (outside CI; `bench/fuzz.py` is its one-minute form).
"""
