"""What one fuzz target is: an entry point, its documented errors, seeds and hostile tokens."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["EscapeError", "Target"]


class EscapeError(AssertionError):
    """An outcome an entry point does not document (raised by a target's own checks, e.g. a
    guard verdict that says `internal`, or more card commands than the bound)."""


@dataclass(frozen=True)
class Target:
    """`run(data)` feeds `data` to the entry point; it returns on success and raises one of
    `documented` for input it refuses. Anything else, or `EscapeError`, is a finding."""

    name: str
    run: Callable[[bytes], None]
    documented: tuple[type[BaseException], ...]
    seeds: Sequence[bytes]
    tokens: Sequence[bytes]
