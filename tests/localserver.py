"""An aiohttp app on 127.0.0.1, for the fake services tests talk to (Bot Connector, Graph)."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestServer


class LocalServer:
    server: TestServer | None = None

    async def serve(self, app: web.Application) -> None:
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    @property
    def url(self) -> str:
        """The server's origin, without a trailing slash."""
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/")
