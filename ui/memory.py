"""The process's memory around screen switches: the C heap handed back after a dropped
screen, and Python's full collections kept out of the switches' frames (ui/app.py calls both)."""

from __future__ import annotations

import ctypes
import gc

__all__ = ["release_freed_memory", "take_collector_off_the_frames"]


def release_freed_memory() -> None:
    """Hand the heap's free pages back to the system. The software GL allocates its buffers
    on the C heap, and glibc keeps what a dropped screen freed unless asked (malloc_trim):
    without it the resident size only grows as screens are built and dropped."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (musl has no malloc_trim): nothing to hand back this way
        return
    libc.malloc_trim(0)


def take_collector_off_the_frames() -> None:
    """Python's full (generation 2) collections came in the middle of screen switches: each
    scanned the whole heap of a Kivy app, 170-270 ms, about one every other switch. The objects
    alive at start-up (modules, kv rules, catalogs) are frozen out of the scans, and the full
    collection is run when a screen has been released (ui/screen_set.py), while the citizen
    reads the new screen; the automatic one stays as a backstop, ten times rarer."""
    gc.collect()
    gc.freeze()
    young, middle, _old = gc.get_threshold()
    gc.set_threshold(young, middle, 100)
