"""The session-wide guard that keeps tests on this machine."""

from __future__ import annotations

import asyncio
import socket

import pytest

from tests.network_guard import NetworkAccessRefused, is_loopback


@pytest.mark.parametrize("host", ["127.0.0.1", "127.5.6.7", "::1", "localhost", b"127.0.0.1"])
def test_loopback_is_allowed(host: str | bytes) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["192.0.2.1", "10.0.0.1", "8.8.8.8", "2001:db8::1", "login.microsoftonline.com", ""])
def test_anything_else_is_not(host: str) -> None:
    assert not is_loopback(host)


def test_a_connect_elsewhere_fails_before_anything_is_sent() -> None:
    # 192.0.2.1 is TEST-NET-1, never routed; the guard refuses before the system call in any case.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock, pytest.raises(NetworkAccessRefused):
        sock.connect(("192.0.2.1", 9))
    with pytest.raises(NetworkAccessRefused):
        socket.getaddrinfo("login.microsoftonline.com", 443)


async def test_asyncio_connections_elsewhere_fail_too() -> None:
    with pytest.raises(NetworkAccessRefused):
        await asyncio.open_connection("192.0.2.1", 9)


async def test_loopback_connections_go_through() -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.close()
        await writer.wait_closed()
