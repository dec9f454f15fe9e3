"""A small structure-aware mutator: byte edits, hostile tokens spliced in, runs repeated (the
shapes that found the escapes: deep nesting, long digit runs, big lengths, lone surrogates)."""

from __future__ import annotations

import random
from collections.abc import Sequence

__all__ = ["MAX_INPUT", "mutate"]

MAX_INPUT = 300 * 1024  # past MAX_PAYLOAD_BYTES, so the size bounds are exercised too
_EDGE_BYTES = (0x00, 0x01, 0x7F, 0x80, 0x81, 0x82, 0x83, 0xFE, 0xFF)
_REPEATS = (2, 8, 40, 300, 3000, 20000)


def _span(rng: random.Random, data: bytearray) -> tuple[int, int]:
    start = rng.randrange(len(data) + 1)
    return start, min(len(data), start + rng.randint(0, 16))


def mutate(
    rng: random.Random, seeds: Sequence[bytes], tokens: Sequence[bytes], rounds: int = 0
) -> bytes:
    """One hostile input from the seeds: 1-6 random edits of a random seed."""
    data = bytearray(rng.choice(seeds))
    for _ in range(rounds or rng.randint(1, 6)):
        op = rng.randrange(9)
        if op == 0 and data:
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
        elif op == 1 and data:
            data[rng.randrange(len(data))] = rng.choice(_EDGE_BYTES)
        elif op == 2:
            i = rng.randrange(len(data) + 1)
            data[i:i] = rng.randbytes(rng.randint(1, 8))
        elif op == 3 and data:
            start, end = _span(rng, data)
            del data[start:end]
        elif op in (4, 5) and tokens:
            i = rng.randrange(len(data) + 1)
            data[i:i] = rng.choice(tokens)
        elif op == 6 and tokens:
            i = rng.randrange(len(data) + 1)
            data[i:i] = rng.choice(tokens) * rng.choice(_REPEATS)
        elif op == 7 and data:
            start, end = _span(rng, data)
            data[start:end] = data[start:end] * rng.choice(_REPEATS[:4])
        elif op == 8:
            other = rng.choice(seeds)
            start = rng.randrange(len(other) + 1)
            i = rng.randrange(len(data) + 1)
            data[i:] = other[start:]
    return bytes(data[:MAX_INPUT])
