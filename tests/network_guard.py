"""Tests talk to this machine only: every socket connect and name look-up in the test process is checked,
and anything but a loopback address or a Unix socket fails at once, before a packet leaves.

Child processes (the Agents Playground, Chromium) are not covered; they are started with loopback-only
settings (tests/e2e).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from typing import Any

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


class NetworkAccessRefused(OSError):
    """A test tried to reach another machine."""


def is_loopback(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if not isinstance(host, str):
        return False
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _allowed(family: int, address: Any) -> bool:
    if family == getattr(socket, "AF_UNIX", object()):
        return True
    return isinstance(address, tuple) and is_loopback(address[0])


def install() -> Callable[[], None]:
    """Guards this process's sockets; returns what undoes it."""
    connect, connect_ex, getaddrinfo = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo

    def guarded_connect(self: Any, address: Any) -> None:
        if not _allowed(self.family, address):
            raise NetworkAccessRefused(f"tests may only connect to loopback, not {address!r}")
        connect(self, address)

    def guarded_connect_ex(self: Any, address: Any) -> int:
        if not _allowed(self.family, address):
            raise NetworkAccessRefused(f"tests may only connect to loopback, not {address!r}")
        return connect_ex(self, address)

    def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and not is_loopback(host):
            raise NetworkAccessRefused(f"tests may only look up loopback names, not {host!r}")
        return getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = guarded_connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = guarded_getaddrinfo

    def undo() -> None:
        socket.socket.connect = connect  # type: ignore[method-assign]
        socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
        socket.getaddrinfo = getaddrinfo

    return undo
