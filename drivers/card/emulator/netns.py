"""Entering a network namespace from one thread (Linux setns), so a socket lives in it.

pcscd (with vpcd listening inside) runs in its own network namespace in tests and demo: only
loopback exists there, so vpcd's port is unreachable from any network. The emulator's connection
thread joins that namespace before connecting.
"""

from __future__ import annotations

import ctypes
import os

__all__ = ["NetnsError", "enter_netns"]

_CLONE_NEWNET = 0x40000000


class NetnsError(OSError):
    """The namespace could not be joined (not root, or the path is not a network namespace)."""


def enter_netns(path: str) -> None:
    """Move the calling thread (only it) into the network namespace at `path`.

    Raises NetnsError with the errno and path; needs CAP_SYS_ADMIN.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        if libc.setns(fd, _CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise NetnsError(err, f"setns({path}): {os.strerror(err)}")
    finally:
        os.close(fd)
