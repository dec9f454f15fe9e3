"""Walk an object graph (gc referents) looking for personal values left behind."""

from __future__ import annotations

import gc
import types
from collections.abc import Iterable, Iterator

_OPAQUE = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.CodeType,
           types.FrameType, types.MethodDescriptorType, types.WrapperDescriptorType)


def reachable(roots: Iterable[object], skip: Iterable[object] = ()) -> Iterator[object]:
    """Every object reachable from `roots`, not entering modules, classes or code (which hold
    the test's own constants) nor the objects in `skip` (ports owned by another layer)."""
    skipped = {id(o) for o in skip}
    seen: set[int] = set()
    stack = list(roots)
    while stack:
        obj = stack.pop()
        if id(obj) in seen or id(obj) in skipped:
            continue
        seen.add(id(obj))
        if isinstance(obj, _OPAQUE):
            continue
        yield obj
        stack.extend(gc.get_referents(obj))


def personal_left(roots: Iterable[object], values: Iterable[str],
                  skip: Iterable[object] = ()) -> list[str]:
    """The personal `values` found in any str/bytes reachable from `roots`."""
    wanted = [v for v in values if v]
    found: set[str] = set()
    for obj in reachable(roots, skip):
        if isinstance(obj, str):
            hay = obj
        elif isinstance(obj, bytes | bytearray):
            hay = bytes(obj).decode("utf-8", "ignore")
        else:
            continue
        found |= {v for v in wanted if v in hay}
    return sorted(found)
